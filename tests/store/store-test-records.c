/* store-test-records.c: see store-test-records.h. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "settle-fingerprint.h"
#include "store-test-records.h"

/* One key signs every test certificate: the tests need distinct
 * certificates, not distinct keys, and key generation is the slow part. */
static EVP_PKEY *
test_signing_key (void)
{
  static EVP_PKEY *key;
  if (key == NULL)
    key = EVP_EC_gen ("P-256");
  g_assert_nonnull (key);
  return key;
}

static void
set_random_serial (X509 *cert)
{
  guint8 bytes[16];
  g_assert_cmpint (RAND_bytes (bytes, sizeof bytes), ==, 1);
  bytes[0] &= 0x7f;  /* positive INTEGER */
  BIGNUM *bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  g_assert_nonnull (BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)));
  BN_free (bn);
}

GBytes *
store_test_cert_der (const char *common_name)
{
  EVP_PKEY *key = test_signing_key ();
  X509 *cert = X509_new ();
  g_assert_nonnull (cert);
  X509_set_version (cert, 2);
  set_random_serial (cert);
  X509_NAME *name = X509_get_subject_name (cert);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) common_name,
                              -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), 0);
  X509_gmtime_adj (X509_getm_notAfter (cert), 365L * 24 * 3600);
  X509_set_pubkey (cert, key);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);

  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  g_assert_cmpint (len, >, 0);
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  X509_free (cert);
  return bytes;
}

SettleRecord *
store_test_record_new (const char *label, const char *name)
{
  SettleRecord *record = settle_record_new ();
  record->kind = SETTLE_KIND_DEVICE_CA;
  g_free (record->label);
  record->label = g_strdup (label);
  if (name != NULL)
    {
      g_strfreev (record->names);
      record->names = g_new0 (char *, 2);
      record->names[0] = g_strdup (name);
    }
  g_strfreev (record->scope);
  record->scope = g_new0 (char *, 2);
  record->scope[0] = g_strdup ("home.arpa");
  record->anchor_der = store_test_cert_der (label);
  record->wrapper_root_der = store_test_cert_der ("settle wrapper root");
  record->cross_der = store_test_cert_der (label);
  record->created = g_get_real_time () / G_USEC_PER_SEC;
  record->expires = record->created + 365 * 24 * 3600;
  record->consent = SETTLE_CONSENT_PROMPT;

  gsize len = 0;
  const guint8 *der = g_bytes_get_data (record->anchor_der, &len);
  record->fingerprint = settle_fingerprint_of_der (der, len);
  return record;
}

GBytes *
store_test_client_key_pem (void)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  g_assert_nonnull (key);
  BIO *bio = BIO_new (BIO_s_mem ());
  g_assert_cmpint (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL), ==, 1);
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);
  GBytes *pem = g_bytes_new (data, (gsize) len);
  BIO_free (bio);
  EVP_PKEY_free (key);
  return pem;
}

char *
store_test_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("settle-store-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

void
store_test_rmdir (const char *dir)
{
  char *argv[] = { "rm", "-rf", (char *) dir, NULL };
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}
