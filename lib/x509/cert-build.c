/* cert-build.c: see settle-cert-build.h. */
#include "settle-cert-build.h"
#include "settle-error.h"
#include "settle-store.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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

EVP_PKEY *
settle_client_key_new (GError **error)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  if (key == NULL)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "OpenSSL could not make a P-256 client key.");
    }
  return key;
}

GBytes *
settle_client_csr_der (EVP_PKEY *key, GError **error)
{
  X509_REQ *req = X509_REQ_new ();
  X509_NAME *subject = X509_NAME_new ();
  unsigned char *der = NULL;
  int len = -1;

  if (req != NULL && subject != NULL
      && X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_ASC,
                                     (const unsigned char *) SETTLE_CLIENT_CSR_SUBJECT, -1, -1, 0) == 1
      && X509_REQ_set_version (req, X509_REQ_VERSION_1) == 1 && X509_REQ_set_subject_name (req, subject) == 1
      && X509_REQ_set_pubkey (req, key) == 1 && X509_REQ_sign (req, key, EVP_sha256 ()) > 0)
    len = i2d_X509_REQ (req, &der);
  X509_NAME_free (subject);
  X509_REQ_free (req);
  if (len <= 0)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "OpenSSL could not make the certificate request.");
      return NULL;
    }
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

GBytes *
settle_private_key_pem (EVP_PKEY *key, GError **error)
{
  /* Secure-heap BIO: the PEM text is wiped when the BIO is freed; the
   * copy handed out wipes itself too. */
  BIO *bio = BIO_new (BIO_s_secmem ());
  char *data = NULL;
  long len;
  GBytes *pem = NULL;

  if (bio != NULL && PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) == 1
      && (len = BIO_get_mem_data (bio, &data)) > 0)
    pem = settle_secret_bytes_new (data, (gsize) len);
  BIO_free (bio);
  if (pem == NULL)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "OpenSSL could not write the client key.");
    }
  return pem;
}
