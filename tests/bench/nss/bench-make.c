/* bench-make.c: N wrapped device CAs for the module benchmark.
 *
 * Usage: bench-make N OUTDIR
 * Makes N P-256 device CAs (devI.local), wraps each with settle_wrap_ca,
 * writes the snapshot with settle_snapshot_write to OUTDIR/trust, and the
 * very same wrapped certificates for p11-kit-trust: the wrapper roots in
 * OUTDIR/p11kit/anchors/roots.pem (p11-kit makes files under a token's
 * anchors/ trusted), the crosses in OUTDIR/p11kit/crosses.pem (no trust).  Also a leaf for dev0.local
 * (OUTDIR/leaf.der) and the subjects of all crosses (OUTDIR/subjects.bin:
 * 2-byte length + DER, repeated). */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "settle-cert.h"
#include "settle-fingerprint.h"
#include "settle-record.h"
#include "settle-snapshot.h"
#include "settle-wrap.h"

static void
add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
}

static X509 *
make_cert (const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, gboolean ca, long serial)
{
  X509 *cert = X509_new ();
  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), serial);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 30L * 24 * 3600);
  X509_NAME *name = X509_NAME_new ();
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0);
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : name);
  X509_NAME_free (name);
  X509_set_pubkey (cert, key);
  if (ca)
    {
      add_ext (cert, issuer ? issuer : cert, NID_basic_constraints, "critical,CA:TRUE");
      add_ext (cert, issuer ? issuer : cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
  else
    {
      add_ext (cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext (cert, issuer, NID_subject_alt_name, "DNS:dev0.local");
      add_ext (cert, issuer, NID_ext_key_usage, "serverAuth");
    }
  X509_sign (cert, issuer_key ? issuer_key : key, EVP_sha256 ());
  return cert;
}

static void
append_pem (FILE *f, GBytes *der)
{
  gsize len;
  const unsigned char *p = g_bytes_get_data (der, &len);
  X509 *cert = d2i_X509 (NULL, &p, (long) len);
  PEM_write_X509 (f, cert);
  X509_free (cert);
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: bench-make N OUTDIR\n");
      return 2;
    }
  int n = atoi (argv[1]);
  const char *out = argv[2];
  g_autofree char *anchors = g_build_filename (out, "p11kit", "anchors", NULL);
  g_mkdir_with_parents (anchors, 0755);
  g_autofree char *roots_path = g_build_filename (anchors, "roots.pem", NULL);
  g_autofree char *crosses_path = g_build_filename (out, "p11kit", "crosses.pem", NULL);
  g_autofree char *subjects_path = g_build_filename (out, "subjects.bin", NULL);
  FILE *roots = fopen (roots_path, "w"), *crosses = fopen (crosses_path, "w");
  FILE *subjects = fopen (subjects_path, "wb");
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_record_free);

  for (int i = 0; i < n; i++)
    {
      char cn[64], scope_name[64];
      g_snprintf (cn, sizeof cn, "dev%d device CA", i);
      g_snprintf (scope_name, sizeof scope_name, "dev%d.local", i);
      EVP_PKEY *key = EVP_EC_gen ("P-256");
      X509 *ca = make_cert (cn, key, NULL, NULL, TRUE, i + 1);
      const char *scope[] = { scope_name, NULL };
      SettleWrapped wrapped = { 0 };
      g_autoptr (GError) error = NULL;
      if (!settle_wrap_ca (ca, scope, scope_name, &wrapped, &error))
        g_error ("wrap %d: %s", i, error->message);
      SettleRecord *r = settle_record_new ();
      r->anchor_der = settle_cert_to_der (ca);
      r->fingerprint = settle_fingerprint_of_der (g_bytes_get_data (r->anchor_der, NULL),
                                                  g_bytes_get_size (r->anchor_der));
      r->kind = SETTLE_KIND_DEVICE_CA;
      r->label = g_strdup (scope_name);
      r->names = g_new0 (char *, 2);
      r->names[0] = g_strdup (scope_name);
      r->scope = g_strdupv ((char **) scope);
      r->wrapper_root_der = settle_cert_to_der (wrapped.root);
      r->cross_der = settle_cert_to_der (wrapped.cross);
      r->created = g_get_real_time () / G_USEC_PER_SEC;
      r->expires = settle_cert_not_after (ca);
      r->consent = SETTLE_CONSENT_FLAG;
      append_pem (roots, r->wrapper_root_der);
      append_pem (crosses, r->cross_der);
      unsigned char *subj = NULL;
      int slen = i2d_X509_NAME (X509_get_subject_name (wrapped.cross), &subj);
      unsigned char lenbuf[2] = { (unsigned char) (slen >> 8), (unsigned char) slen };
      fwrite (lenbuf, 1, 2, subjects);
      fwrite (subj, 1, (size_t) slen, subjects);
      OPENSSL_free (subj);
      if (i == 0)
        {
          EVP_PKEY *leaf_key = EVP_EC_gen ("P-256");
          X509 *leaf = make_cert ("dev0.local", leaf_key, ca, key, FALSE, 1000);
          g_autofree char *leaf_path = g_build_filename (out, "leaf.der", NULL);
          GBytes *der = settle_cert_to_der (leaf);
          g_file_set_contents (leaf_path, g_bytes_get_data (der, NULL), (gssize) g_bytes_get_size (der), NULL);
          g_bytes_unref (der);
          X509_free (leaf);
          EVP_PKEY_free (leaf_key);
        }
      g_ptr_array_add (records, r);
      settle_wrapped_clear (&wrapped);
      X509_free (ca);
      EVP_PKEY_free (key);
    }
  fclose (roots);
  fclose (crosses);
  fclose (subjects);
  g_autofree char *trust = g_build_filename (out, "trust", NULL);
  g_autoptr (GError) error = NULL;
  if (!settle_snapshot_write (trust, records, &error))
    g_error ("snapshot: %s", error->message);
  g_ptr_array_unref (records);
  return 0;
}
