/* snapshot-test-certs.c: see snapshot-test-certs.h. */
#include "snapshot-test-certs.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

EVP_PKEY *
stc_key_new (void)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  g_assert_nonnull (key);
  return key;
}

static void
add_ext (X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid (NULL, ctx, nid, value);
  g_assert_nonnull (ext);
  g_assert_cmpint (X509_add_ext (cert, ext, -1), ==, 1);
  X509_EXTENSION_free (ext);
}

X509 *
stc_cert_new (const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
              long serial, gboolean ca, const char *dns_name, gint64 not_after)
{
  X509 *cert = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  g_assert_cmpint (X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                                               (const unsigned char *) cn, -1, -1, 0), ==, 1);
  g_assert_cmpint (X509_set_version (cert, X509_VERSION_3), ==, 1);
  g_assert_cmpint (ASN1_INTEGER_set (X509_get_serialNumber (cert), serial), ==, 1);
  g_assert_nonnull (X509_gmtime_adj (X509_getm_notBefore (cert), -3600));
  g_assert_nonnull (ASN1_TIME_set (X509_getm_notAfter (cert), (time_t) not_after));
  g_assert_cmpint (X509_set_subject_name (cert, name), ==, 1);
  g_assert_cmpint (X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : name), ==, 1);
  g_assert_cmpint (X509_set_pubkey (cert, key), ==, 1);
  X509_NAME_free (name);

  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
  add_ext (cert, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_ext (cert, &ctx, NID_key_usage,
           ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_ext (cert, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != NULL)
    add_ext (cert, &ctx, NID_authority_key_identifier, "keyid:always");
  if (dns_name != NULL)
    {
      g_autofree char *san = g_strconcat ("DNS:", dns_name, NULL);
      add_ext (cert, &ctx, NID_subject_alt_name, san);
      add_ext (cert, &ctx, NID_ext_key_usage, "serverAuth");
    }
  g_assert_cmpint (X509_sign (cert, issuer_key ? issuer_key : key, EVP_sha256 ()), >, 0);
  return cert;
}

X509 *
stc_wrapper_new (const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
                 const char *subtree, gint64 not_after)
{
  X509 *cert = stc_cert_new (cn, key, issuer, issuer_key, serial, TRUE, NULL, not_after);
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
  g_autofree char *nc = g_strdup_printf ("critical,permitted;DNS:%s,permitted;email:.invalid,"
                                         "excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::", subtree);
  add_ext (cert, &ctx, NID_name_constraints, nc);
  add_ext (cert, &ctx, NID_ext_key_usage, "serverAuth");
  g_assert_cmpint (X509_sign (cert, issuer_key ? issuer_key : key, EVP_sha256 ()), >, 0);
  return cert;
}

GBytes *
stc_der (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  g_assert_cmpint (len, >, 0);
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

char *
stc_fingerprint (X509 *cert)
{
  g_autoptr (GBytes) der = stc_der (cert);
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, der);
}

void
stc_write_pem (X509 *cert, const char *path)
{
  BIO *bio = BIO_new_file (path, "w");
  g_assert_nonnull (bio);
  g_assert_cmpint (PEM_write_bio_X509 (bio, cert), ==, 1);
  BIO_free (bio);
}
