/* cert-build.c: see settle-cert-build.h. */
#include "settle-cert-build.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#define SERIAL_BITS 128

gboolean
settle_cert_set_random_serial (X509 *cert)
{
  BIGNUM *bn = BN_new ();
  gboolean ok = bn != NULL
                && BN_rand (bn, SERIAL_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY)
                && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)) != NULL;
  BN_free (bn);
  return ok;
}

gboolean
settle_cert_set_validity_days (X509 *cert, long days, const X509 *limit)
{
  gboolean ok = X509_gmtime_adj (X509_getm_notBefore (cert), -SETTLE_CERT_BACKDATE_SECONDS) != NULL
                && X509_time_adj_ex (X509_getm_notAfter (cert), (int) days, 0, NULL) != NULL;
  if (ok && limit != NULL
      && ASN1_TIME_compare (X509_get0_notAfter (cert), X509_get0_notAfter (limit)) > 0)
    ok = X509_set1_notAfter (cert, X509_get0_notAfter (limit));
  return ok;
}

gboolean
settle_cert_add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  gboolean ok = ext != NULL && X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}
