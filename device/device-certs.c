/* device-certs.c: the device's keys and certificates (OpenSSL). */
#include "device.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "settle-cert-build.h"
#include "settle-error.h"

static void *
cert_failure (GError **error, const char *message)
{
  ERR_clear_error ();
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT, message);
  return NULL;
}

EVP_PKEY *
settle_device_key_new (GError **error)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  if (key == NULL)
    return cert_failure (error, "OpenSSL could not generate a P-256 key.");
  return key;
}

static X509_NAME *
name_new (const char *cn)
{
  X509_NAME *name = X509_NAME_new ();
  if (name == NULL
      || !X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const unsigned char *) "settle-device", -1, -1, 0)
      || !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0))
    {
      X509_NAME_free (name);
      return NULL;
    }
  return name;
}

/* A v3 certificate with serial, names, key and validity; extensions and
 * signature follow (owned). */
static X509 *
cert_skeleton (X509_NAME *subject, const X509_NAME *issuer, EVP_PKEY *key, long days, X509 *limit)
{
  X509 *cert = X509_new ();
  if (cert == NULL || subject == NULL || !X509_set_version (cert, X509_VERSION_3)
      || !settle_cert_set_random_serial (cert) || !X509_set_subject_name (cert, subject)
      || !X509_set_issuer_name (cert, issuer != NULL ? issuer : subject)
      || !X509_set_pubkey (cert, key) || !settle_cert_set_validity_days (cert, days, limit))
    {
      X509_free (cert);
      return NULL;
    }
  return cert;
}

static gboolean
add_ca_extensions (X509 *cert, X509 *issuer)
{
  return settle_cert_add_ext (cert, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
         && settle_cert_add_ext (cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign")
         && settle_cert_add_ext (cert, issuer, NID_subject_key_identifier, "hash")
         && settle_cert_add_ext (cert, issuer, NID_authority_key_identifier, "keyid:always");
}

X509 *
settle_device_ca_new (const char *name, guint generation, EVP_PKEY *key, GError **error)
{
  /* The generation keeps subjects apart across rotations, so that path
   * building never confuses the old CA with the new one. */
  g_autofree char *cn = g_strdup_printf ("%.40s device CA %u", name, generation);
  X509_NAME *subject = name_new (cn);
  X509 *ca = cert_skeleton (subject, NULL, key, SETTLE_DEVICE_CA_DAYS, NULL);
  X509_NAME_free (subject);
  /* pathlen 1: after a rotation this CA signs the cross certificate of
   * its successor, which then issues the leaves. */
  if (ca == NULL || !settle_cert_add_ext (ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:1")
      || !settle_cert_add_ext (ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign")
      || !settle_cert_add_ext (ca, ca, NID_subject_key_identifier, "hash")
      || X509_sign (ca, key, EVP_sha256 ()) <= 0)
    {
      X509_free (ca);
      return cert_failure (error, "Could not create the device CA certificate.");
    }
  return ca;
}

X509 *
settle_device_cross_new (X509 *subject_ca, X509 *issuer, EVP_PKEY *issuer_key, GError **error)
{
  X509 *cross = cert_skeleton (X509_get_subject_name (subject_ca), X509_get_subject_name (issuer),
                               X509_get0_pubkey (subject_ca), SETTLE_DEVICE_CA_DAYS, issuer);
  if (cross == NULL || !add_ca_extensions (cross, issuer) || X509_sign (cross, issuer_key, EVP_sha256 ()) <= 0)
    {
      X509_free (cross);
      return cert_failure (error, "Could not cross-sign the new device CA with the old one.");
    }
  return cross;
}

X509 *
settle_device_leaf_new (const char *name, EVP_PKEY *leaf_key, X509 *ca, EVP_PKEY *ca_key, GError **error)
{
  X509_NAME *subject = name_new (name);
  X509 *leaf = cert_skeleton (subject, X509_get_subject_name (ca), leaf_key, SETTLE_DEVICE_LEAF_DAYS, ca);
  X509_NAME_free (subject);
  g_autofree char *san = g_strdup_printf ("DNS:%s", name);
  if (leaf == NULL || !settle_cert_add_ext (leaf, ca, NID_basic_constraints, "critical,CA:FALSE")
      || !settle_cert_add_ext (leaf, ca, NID_key_usage, "critical,digitalSignature")
      || !settle_cert_add_ext (leaf, ca, NID_ext_key_usage, "serverAuth")
      || !settle_cert_add_ext (leaf, ca, NID_subject_alt_name, san)
      || !settle_cert_add_ext (leaf, ca, NID_subject_key_identifier, "hash")
      || !settle_cert_add_ext (leaf, ca, NID_authority_key_identifier, "keyid:always")
      || X509_sign (leaf, ca_key, EVP_sha256 ()) <= 0)
    {
      X509_free (leaf);
      return cert_failure (error, "Could not create the device's TLS certificate.");
    }
  return leaf;
}

gboolean
settle_device_cert_issued_by (X509 *cert, X509 *ca)
{
  gboolean ok = X509_check_issued (ca, cert) == X509_V_OK
                && X509_verify (cert, X509_get0_pubkey (ca)) == 1
                && X509_cmp_current_time (X509_get0_notBefore (cert)) < 0
                && X509_cmp_current_time (X509_get0_notAfter (cert)) > 0;
  ERR_clear_error ();
  return ok;
}

char *
settle_device_serial_hex (X509 *cert)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cert), NULL);
  char *hex = bn != NULL ? BN_bn2hex (bn) : NULL;
  char *result = g_ascii_strdown (hex != NULL ? hex : "", -1);
  OPENSSL_free (hex);
  BN_free (bn);
  return result;
}

char *
settle_device_spki_sha256_hex (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), &der);
  if (len <= 0)
    return g_strdup ("");
  g_autofree char *hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, (gsize) len);
  OPENSSL_free (der);
  return g_steal_pointer (&hex);
}
