/* settle-signer: one ECDSA signature with a per-device client key, for the
 * PKCS#11 module's identity slot (nss-module/sp11-signer.c runs it).
 *
 *   settle-signer --record FP --key-id HEX --digest HEX
 *
 * Reads the client key of record FP from the store the environment selects
 * (keyring or file, as `settle` does), checks that it is the key whose
 * CKA_ID (SHA-1 of the public key) is HEX, signs the digest, and answers on
 * stdout with one line:
 *
 *   ok <r || s in hex>
 *   error <locked|missing|mismatch|input|failed> <message>
 *
 * The message also goes to stderr, which the module leaves shared with the
 * browser.  The key lives in this process for one signature: no core dumps,
 * the PEM wiped, the key freed (OpenSSL clears it) before the answer. */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-harden.h"
#include "settle-record.h"
#include "settle-store.h"

#define KEY_ID_BYTES 20
#define MAX_DIGEST_BYTES 64
#define MAX_ORDER_BYTES 66 /* P-521 */

typedef struct {
  char *record;                    /* owned (GOption) */
  guint8 key_id[KEY_ID_BYTES];
  guint8 digest[MAX_DIGEST_BYTES];
  gsize digest_len;
} SignRequest;

static int
answer_error (const char *kind, const char *message)
{
  printf ("error %s %s\n", kind, message);
  fflush (stdout);
  g_printerr ("settle-signer: %s\n", message);
  return 1;
}

/* Lowercase or uppercase hex of an exact byte length range. */
static gboolean
parse_hex (const char *hex, guint8 *out, gsize min, gsize max, gsize *len)
{
  gsize n = hex ? strlen (hex) : 0;
  if (n % 2 != 0 || n / 2 < min || n / 2 > max)
    return FALSE;
  for (gsize i = 0; i < n / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (guint8) (hi << 4 | lo);
    }
  if (len)
    *len = n / 2;
  return TRUE;
}

static gboolean
parse_request (int argc, char **argv, SignRequest *req, char **why)
{
  g_autofree char *key_id = NULL, *digest = NULL;
  GOptionEntry entries[] = {
    { "record", 0, 0, G_OPTION_ARG_STRING, &req->record, "record fingerprint (64 hex)", "FP" },
    { "key-id", 0, 0, G_OPTION_ARG_STRING, &key_id, "CKA_ID of the key (40 hex)", "HEX" },
    { "digest", 0, 0, G_OPTION_ARG_STRING, &digest, "the digest to sign (hex)", "HEX" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- sign one digest with a client key");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_help_enabled (ctx, FALSE);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    *why = g_strdup (error->message);
  else if (argc != 1)
    *why = g_strdup_printf ("unexpected argument \"%s\"", argv[1]);
  else if (!settle_fingerprint_is_canonical (req->record))
    *why = g_strdup ("--record must be 64 lowercase hex digits");
  else if (!parse_hex (key_id, req->key_id, KEY_ID_BYTES, KEY_ID_BYTES, NULL))
    *why = g_strdup ("--key-id must be 40 hex digits");
  else if (!parse_hex (digest, req->digest, 1, MAX_DIGEST_BYTES, &req->digest_len))
    *why = g_strdup_printf ("--digest must be 1 to %d bytes in hex", MAX_DIGEST_BYTES);
  return *why == NULL;
}

/* The owned key, or NULL with the answer already given. */
static EVP_PKEY *
load_client_key (const char *record, int *status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = settle_store_open_default (&error);
  GBytes *pem = store ? settle_store_get_client_key (store, record, &error) : NULL;
  if (pem == NULL)
    {
      const char *kind = g_error_matches (error, SETTLE_ERROR, SETTLE_ERROR_LOCKED) ? "locked"
                         : g_error_matches (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND) ? "missing"
                                                                                         : "failed";
      g_autofree char *message = g_strdup_printf ("No client certificate can be presented: %s",
                                                  error->message);
      *status = answer_error (kind, message);
      return NULL;
    }
  gsize len = 0;
  const void *data = g_bytes_get_data (pem, &len);
  BIO *bio = BIO_new_mem_buf (data, (int) len);
  EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;
  BIO_free (bio);
  settle_secure_bytes_free (pem);
  if (key == NULL || EVP_PKEY_get_base_id (key) != EVP_PKEY_EC)
    {
      EVP_PKEY_free (key);
      *status = answer_error ("failed", "The stored client key is not an EC private key.");
    }
  return key;
}

/* CKA_ID as the snapshot writer computes it: SHA-1 of the public key's
 * BIT STRING contents (for EC, the encoded point). */
static gboolean
key_has_id (EVP_PKEY *key, const guint8 *want)
{
  unsigned char point[2 * MAX_ORDER_BYTES + 1], id[EVP_MAX_MD_SIZE];
  size_t point_len = 0;
  unsigned int id_len = 0;
  return EVP_PKEY_get_octet_string_param (key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                          sizeof point, &point_len) == 1
         && EVP_Digest (point, point_len, id, &id_len, EVP_sha1 (), NULL) == 1
         && id_len == KEY_ID_BYTES && memcmp (id, want, KEY_ID_BYTES) == 0;
}

/* Raw ECDSA over the digest, returned as PKCS#11 wants it: r || s, each
 * left-padded to the order's length. */
static gboolean
sign_raw (EVP_PKEY *key, const guint8 *digest, gsize digest_len, guint8 *out, gsize *out_len)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, key, NULL);
  unsigned char der[2 * MAX_ORDER_BYTES + 16];
  size_t der_len = sizeof der;
  gboolean ok = ctx != NULL && EVP_PKEY_sign_init (ctx) == 1
                && EVP_PKEY_sign (ctx, der, &der_len, digest, digest_len) == 1;
  EVP_PKEY_CTX_free (ctx);
  if (!ok)
    return FALSE;
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG (NULL, &p, (long) der_len);
  int order_len = (EVP_PKEY_get_bits (key) + 7) / 8;
  ok = sig != NULL && order_len > 0 && order_len <= MAX_ORDER_BYTES
       && BN_bn2binpad (ECDSA_SIG_get0_r (sig), out, order_len) == order_len
       && BN_bn2binpad (ECDSA_SIG_get0_s (sig), out + order_len, order_len) == order_len;
  ECDSA_SIG_free (sig);
  *out_len = (gsize) (2 * order_len);
  return ok;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) harden_error = NULL;
  if (!settle_harden_against_dumps (&harden_error))
    return answer_error ("failed", harden_error->message);

  SignRequest req = { 0 };
  g_autofree char *why = NULL;
  if (!parse_request (argc, argv, &req, &why))
    {
      int status = answer_error ("input", why);
      g_free (req.record);
      return status;
    }
  int status = 0;
  EVP_PKEY *key = load_client_key (req.record, &status);
  g_free (req.record);
  if (key == NULL)
    return status;

  guint8 sig[2 * MAX_ORDER_BYTES];
  gsize sig_len = 0;
  if (!key_has_id (key, req.key_id))
    status = answer_error ("mismatch", "The stored client key is not the one the trust snapshot "
                                       "names; run `settle list` to refresh the snapshot.");
  else if (!sign_raw (key, req.digest, req.digest_len, sig, &sig_len))
    status = answer_error ("failed", "OpenSSL could not sign with the client key.");
  EVP_PKEY_free (key);
  if (status != 0)
    return status;
  g_autofree char *hex = g_malloc (2 * sig_len + 1);
  for (gsize i = 0; i < sig_len; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", sig[i]);
  printf ("ok %s\n", hex);
  return fflush (stdout) == 0 ? 0 : 1;
}
