/* store-make.c: a file store of N trusted device CAs for the store benchmark.
 *
 * Usage: store-make N STORE_DIR TRUST_DIR CERT_DIR   (STORE_DIR "keyring": the keyring)
 * Makes N P-256 device CAs (dI.local), wraps each as `settle trust` does,
 * adds the records to the file store STORE_DIR and writes the snapshot
 * once to TRUST_DIR: the store `settle trust` would have built one by one,
 * in a fraction of the time.  Also writes three more device CAs, not
 * trusted, as CERT_DIR/extraK.pem with their SHA-256 fingerprints in
 * CERT_DIR/extraK.fp, for the timed `settle trust` runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "settle-cert.h"
#include "settle-fingerprint.h"
#include "settle-record.h"
#include "settle-snapshot.h"
#include "settle-store.h"
#include "settle-wrap.h"

#define EXTRA_CAS 3

static void
add_ext (X509 *cert, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
}

static X509 *
make_ca (const char *cn, EVP_PKEY *key, long serial)
{
  X509 *cert = X509_new ();
  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), serial);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 30L * 24 * 3600);
  X509_NAME *name = X509_NAME_new ();
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0);
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, name);
  X509_NAME_free (name);
  X509_set_pubkey (cert, key);
  add_ext (cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext (cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext (cert, NID_subject_key_identifier, "hash");
  X509_sign (cert, key, EVP_sha256 ());
  return cert;
}

static SettleRecord *
trusted_record (X509 *ca, const char *scope_name)
{
  const char *scope[] = { scope_name, NULL };
  SettleWrapped wrapped = { 0 };
  g_autoptr (GError) error = NULL;
  if (!settle_wrap_ca (ca, scope, scope_name, &wrapped, &error))
    g_error ("wrap %s: %s", scope_name, error->message);
  SettleRecord *r = settle_record_new ();
  r->anchor_der = settle_cert_to_der (ca);
  r->fingerprint = settle_fingerprint_of_der (g_bytes_get_data (r->anchor_der, NULL),
                                              g_bytes_get_size (r->anchor_der));
  r->kind = SETTLE_KIND_DEVICE_CA;
  g_free (r->label);
  r->label = g_strdup (scope_name);
  g_strfreev (r->names);
  r->names = g_strdupv ((char **) scope);
  g_strfreev (r->scope);
  r->scope = g_strdupv ((char **) scope);
  r->wrapper_root_der = settle_cert_to_der (wrapped.root);
  r->cross_der = settle_cert_to_der (wrapped.cross);
  r->created = g_get_real_time () / G_USEC_PER_SEC;
  r->expires = settle_cert_not_after (ca);
  r->consent = SETTLE_CONSENT_FLAG;
  settle_wrapped_clear (&wrapped);
  return r;
}

static void
write_extra (const char *cert_dir, int k, X509 *ca)
{
  g_autofree char *pem_path = g_strdup_printf ("%s/extra%d.pem", cert_dir, k);
  g_autofree char *fp_path = g_strdup_printf ("%s/extra%d.fp", cert_dir, k);
  FILE *f = fopen (pem_path, "w");
  if (f == NULL || PEM_write_X509 (f, ca) != 1 || fclose (f) != 0)
    g_error ("cannot write %s", pem_path);
  g_autoptr (GBytes) der = settle_cert_to_der (ca);
  g_autofree char *fp = settle_fingerprint_of_der (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  if (!g_file_set_contents (fp_path, fp, -1, NULL))
    g_error ("cannot write %s", fp_path);
}

int
main (int argc, char **argv)
{
  if (argc != 5)
    {
      fprintf (stderr, "usage: store-make N STORE_DIR TRUST_DIR CERT_DIR\n");
      return 2;
    }
  int n = atoi (argv[1]);
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = strcmp (argv[2], "keyring") == 0 ? settle_store_open_keyring (&error)
                                                                     : settle_store_open_file (argv[2], &error);
  if (store == NULL)
    g_error ("store: %s", error->message);
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_record_free);

  for (int i = 0; i < n + EXTRA_CAS; i++)
    {
      char cn[64], scope_name[64];
      g_snprintf (cn, sizeof cn, "d%d device CA", i);
      g_snprintf (scope_name, sizeof scope_name, "d%d.local", i);
      EVP_PKEY *key = EVP_EC_gen ("P-256");
      X509 *ca = make_ca (cn, key, i + 1);
      if (i >= n)
        write_extra (argv[4], i - n, ca);
      else
        {
          SettleRecord *r = trusted_record (ca, scope_name);
          if (!settle_store_add (store, r, &error))
            g_error ("store %d: %s", i, error->message);
          g_ptr_array_add (records, r);
        }
      X509_free (ca);
      EVP_PKEY_free (key);
    }
  if (!settle_snapshot_write (argv[3], records, &error))
    g_error ("snapshot: %s", error->message);
  g_ptr_array_unref (records);
  return 0;
}
