/* unit-certs.c: see unit-certs.h. */
#include "unit-certs.h"

#include <openssl/x509v3.h>

void
test_cert_clear (TestCert *tc)
{
  X509_free (tc->cert);
  EVP_PKEY_free (tc->key);
}

void
test_cert_add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  g_assert_nonnull (ext);
  g_assert_true (X509_add_ext (cert, ext, -1));
  X509_EXTENSION_free (ext);
}

X509 *
test_cert_body_new (const char *cn, EVP_PKEY *key, const X509 *issuer, long not_before, long not_after)
{
  X509 *cert = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  g_assert_true (X509_set_version (cert, X509_VERSION_3));
  ASN1_INTEGER_set (X509_get_serialNumber (cert), g_random_int_range (1, G_MAXINT32));
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, issuer ? X509_get_subject_name (issuer) : name);
  X509_NAME_free (name);
  X509_gmtime_adj (X509_getm_notBefore (cert), not_before);
  X509_gmtime_adj (X509_getm_notAfter (cert), not_after);
  g_assert_true (X509_set_pubkey (cert, key));
  return cert;
}
