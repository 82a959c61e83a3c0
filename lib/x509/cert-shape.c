/* cert-shape.c: settle_der_is_one_certificate (settle-cert-shape.h). */
#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include "settle-cert-shape.h"

typedef struct {
  X509_ALGOR *algorithm;
  ASN1_BIT_STRING *key;
} SHAPE_SPKI;

typedef struct {
  ASN1_INTEGER *version;
  ASN1_INTEGER *serial;
  X509_ALGOR *signature;
  X509_NAME *issuer;
  X509_VAL *validity;
  X509_NAME *subject;
  SHAPE_SPKI *spki;
  ASN1_BIT_STRING *issuer_uid;
  ASN1_BIT_STRING *subject_uid;
  STACK_OF (X509_EXTENSION) *extensions;
} SHAPE_TBS;

typedef struct {
  SHAPE_TBS *tbs;
  X509_ALGOR *algorithm;
  ASN1_BIT_STRING *signature;
} SHAPE_CERT;

ASN1_SEQUENCE (SHAPE_SPKI) = {
  ASN1_SIMPLE (SHAPE_SPKI, algorithm, X509_ALGOR),
  ASN1_SIMPLE (SHAPE_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END (SHAPE_SPKI)

ASN1_SEQUENCE (SHAPE_TBS) = {
  ASN1_EXP_OPT (SHAPE_TBS, version, ASN1_INTEGER, 0),
  ASN1_SIMPLE (SHAPE_TBS, serial, ASN1_INTEGER),
  ASN1_SIMPLE (SHAPE_TBS, signature, X509_ALGOR),
  ASN1_SIMPLE (SHAPE_TBS, issuer, X509_NAME),
  ASN1_SIMPLE (SHAPE_TBS, validity, X509_VAL),
  ASN1_SIMPLE (SHAPE_TBS, subject, X509_NAME),
  ASN1_SIMPLE (SHAPE_TBS, spki, SHAPE_SPKI),
  ASN1_IMP_OPT (SHAPE_TBS, issuer_uid, ASN1_BIT_STRING, 1),
  ASN1_IMP_OPT (SHAPE_TBS, subject_uid, ASN1_BIT_STRING, 2),
  ASN1_EXP_SEQUENCE_OF_OPT (SHAPE_TBS, extensions, X509_EXTENSION, 3),
} static_ASN1_SEQUENCE_END (SHAPE_TBS)

ASN1_SEQUENCE (SHAPE_CERT) = {
  ASN1_SIMPLE (SHAPE_CERT, tbs, SHAPE_TBS),
  ASN1_SIMPLE (SHAPE_CERT, algorithm, X509_ALGOR),
  ASN1_SIMPLE (SHAPE_CERT, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END (SHAPE_CERT)

gboolean
settle_der_is_one_certificate (const guint8 *der, gsize len)
{
  const unsigned char *cursor = der;
  ASN1_VALUE *cert;
  gboolean ok;

  if (der == NULL || len == 0 || len > G_MAXLONG)
    return FALSE;
  cert = ASN1_item_d2i (NULL, &cursor, (long) len, ASN1_ITEM_rptr (SHAPE_CERT));
  ok = cert != NULL && cursor == der + len;
  ASN1_item_free (cert, ASN1_ITEM_rptr (SHAPE_CERT));
  return ok;
}
