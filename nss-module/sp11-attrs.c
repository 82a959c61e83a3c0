/* sp11-attrs.c: attribute values of certificates, trust objects, trust
 * assertions and identity keys, derived from snapshot entries.  Why each value is what it is:
 * docs/nss-module.md, "Objects". */
#include "sp11-attrs.h"

#include <string.h>

#include "sp11-role.h"

static const CK_BBOOL sp11_true = CK_TRUE;
static const CK_BBOOL sp11_false = CK_FALSE;

static const CK_OBJECT_CLASS sp11_class_certificate = CKO_CERTIFICATE;
static const CK_OBJECT_CLASS sp11_class_nss_trust = CKO_NSS_TRUST;
static const CK_OBJECT_CLASS sp11_class_pkcs_trust = SP11_CKO_TRUST;
static const CK_OBJECT_CLASS sp11_class_assertion = SP11_CKO_X_TRUST_ASSERTION;
static const CK_OBJECT_CLASS sp11_class_private_key = CKO_PRIVATE_KEY;
static const CK_KEY_TYPE sp11_key_type_ec = CKK_EC;
static const CK_MECHANISM_TYPE sp11_ecdsa_only[] = { CKM_ECDSA };

static const CK_CERTIFICATE_TYPE sp11_cert_type_x509 = CKC_X_509;
static const CK_ULONG sp11_category_token_user = 1;   /* PKCS#11: ours, with its key */
static const CK_ULONG sp11_category_authority = 2;    /* PKCS#11: CA certificate */
static const CK_ULONG sp11_category_other_entity = 3; /* an end entity whose key we do not hold */
static const CK_ULONG sp11_midp_domain_unspecified = 0;
static const CK_MECHANISM_TYPE sp11_hash_sha256 = CKM_SHA256;

static const CK_ULONG sp11_nss_trusted_delegator = CKT_NSS_TRUSTED_DELEGATOR;
static const CK_ULONG sp11_nss_trusted = CKT_NSS_TRUSTED;
static const CK_ULONG sp11_nss_must_verify = CKT_NSS_MUST_VERIFY_TRUST;
static const CK_ULONG sp11_pkcs_trust_anchor = SP11_CKT_TRUST_ANCHOR;
static const CK_ULONG sp11_pkcs_must_verify = SP11_CKT_TRUST_MUST_VERIFY_TRUST;

static const CK_ULONG sp11_assertion_anchored = SP11_CKT_X_ANCHORED_CERTIFICATE;
static const CK_ULONG sp11_assertion_pinned = SP11_CKT_X_PINNED_CERTIFICATE;

static int
sp11_set (sp11_value *out, const void *data, CK_ULONG len)
{
  out->data = data;
  out->len = len;
  return 1;
}

static int
sp11_set_bytes (sp11_value *out, settle_bytes bytes)
{
  return sp11_set (out, bytes.data, (CK_ULONG) bytes.len);
}

static int
sp11_set_ulong (sp11_value *out, const CK_ULONG *value)
{
  return sp11_set (out, value, sizeof *value);
}

static int
sp11_set_bool (sp11_value *out, int value)
{
  return sp11_set (out, value ? &sp11_true : &sp11_false, sizeof (CK_BBOOL));
}

static int
sp11_set_text (sp11_value *out, const char *text)
{
  return sp11_set (out, text, (CK_ULONG) strlen (text));
}

/* Attributes every object of this read-only token shares. */
static int
sp11_storage_attr (const sp11_object *obj, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  switch (type)
    {
    case CKA_TOKEN:
      return sp11_set_bool (out, 1);
    case CKA_PRIVATE:
    case CKA_MODIFIABLE:
    case CKA_COPYABLE:
    case CKA_DESTROYABLE:
      return sp11_set_bool (out, 0);
    case CKA_LABEL:
      return sp11_set_text (out, obj->entry->label);
    default:
      return 0;
    }
}

static const CK_ULONG *
sp11_category (const settle_snap_entry *e)
{
  switch (e->role)
    {
    case SETTLE_SNAP_PEER: return &sp11_category_other_entity;
    case SETTLE_SNAP_CLIENT: return &sp11_category_token_user;
    case SETTLE_SNAP_ROOT:
    case SETTLE_SNAP_CROSS:
    default: return &sp11_category_authority;
    }
}

/* Roots and peers are anchors.  A cross certificate is one only for
 * GnuTLS through p11-kit (sp11-role.h); for everyone else it must chain to
 * its wrapper root.  A client identity is nobody's anchor. */
static int
sp11_is_anchor (const settle_snap_entry *e)
{
  switch (e->role)
    {
    case SETTLE_SNAP_ROOT:
    case SETTLE_SNAP_PEER:
      return 1;
    case SETTLE_SNAP_CROSS:
      return sp11_role_current () == SP11_ROLE_P11_KIT_TRUST_POLICY;
    case SETTLE_SNAP_CLIENT:
    default:
      return 0;
    }
}

static int
sp11_certificate_attr (const settle_snap_entry *e, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  switch (type)
    {
    case CKA_CLASS:
      return sp11_set_ulong (out, &sp11_class_certificate);
    case CKA_CERTIFICATE_TYPE:
      return sp11_set_ulong (out, &sp11_cert_type_x509);
    case CKA_CERTIFICATE_CATEGORY:
      return sp11_set_ulong (out, sp11_category (e));
    case CKA_TRUSTED:
      return sp11_set_bool (out, sp11_is_anchor (e));
    case CKA_X_DISTRUSTED:
      return sp11_set_bool (out, 0);
    case CKA_VALUE:
      return sp11_set_bytes (out, e->der);
    case CKA_SUBJECT:
      return sp11_set_bytes (out, e->subject);
    case CKA_ISSUER:
      return sp11_set_bytes (out, e->issuer);
    case CKA_SERIAL_NUMBER:
      return sp11_set_bytes (out, e->serial);
    case CKA_ID:
      return sp11_set_bytes (out, e->id);
    case CKA_CHECK_VALUE:
      /* PKCS#11: the first three bytes of the SHA-1 of the value. */
      return sp11_set (out, e->sha1, 3);
    case CKA_JAVA_MIDP_SECURITY_DOMAIN:
      return sp11_set_ulong (out, &sp11_midp_domain_unspecified);
    default:
      return 0;
    }
}

/* NSS trust: roots are trusted delegators for TLS servers and nothing else;
 * crosses, and every other purpose, "must verify" (no trust of their own,
 * chain further).  NOT_TRUSTED would be an explicit distrust that also
 * overrides other tokens, which is not what an absent purpose means.
 *
 * Pinned peers are trusted for TLS servers and for nothing else, and never
 * as an issuer (docs/browsers.md, "Pinned peers"): the NSS trust object says
 * "trusted peer" (certutil "P,,"), which makes the leaf a trusted leaf for
 * NSS before 3.113 (Chromium's system NSS, the NSS tools) and never a CA.
 * Firefox reads the PKCS#11 3.2 trust object below first, and
 * mozilla::pkix accepts a leaf only as a trust anchor: there the peer is an
 * anchor, which the scope rule's CA:FALSE keeps from issuing. */
static const CK_ULONG *
sp11_nss_server_trust (const settle_snap_entry *e)
{
  switch (e->role)
    {
    case SETTLE_SNAP_ROOT:
      return &sp11_nss_trusted_delegator;
    case SETTLE_SNAP_PEER:
      return &sp11_nss_trusted;
    case SETTLE_SNAP_CROSS:
    default:
      return &sp11_nss_must_verify;
    }
}

static int
sp11_nss_trust_attr (const settle_snap_entry *e, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  switch (type)
    {
    case CKA_CLASS:
      return sp11_set_ulong (out, &sp11_class_nss_trust);
    case CKA_ISSUER:
      return sp11_set_bytes (out, e->issuer);
    case CKA_SERIAL_NUMBER:
      return sp11_set_bytes (out, e->serial);
    case CKA_CERT_SHA1_HASH:
      return sp11_set (out, e->sha1, sizeof e->sha1);
    case CKA_CERT_MD5_HASH:
      return sp11_set (out, e->md5, sizeof e->md5);
    case CKA_TRUST_SERVER_AUTH:
      return sp11_set_ulong (out, sp11_nss_server_trust (e));
    /* TLS servers only: nothing is trusted for any other purpose. */
    case CKA_TRUST_CLIENT_AUTH:
    case CKA_TRUST_CODE_SIGNING:
    case CKA_TRUST_EMAIL_PROTECTION:
      return sp11_set_ulong (out, &sp11_nss_must_verify);
    case CKA_TRUST_STEP_UP_APPROVED:
      return sp11_set_bool (out, 0);
    default:
      return 0;
    }
}

static const CK_ULONG *
sp11_pkcs_server_trust (const settle_snap_entry *e)
{
  switch (e->role)
    {
    case SETTLE_SNAP_ROOT:
    case SETTLE_SNAP_PEER:
      return &sp11_pkcs_trust_anchor;
    case SETTLE_SNAP_CROSS:
    default:
      return &sp11_pkcs_must_verify;
    }
}

/* PKCS#11 3.2 CKO_TRUST (read first by NSS 3.113 and later, e.g. Firefox
 * ESR 153's): the same decisions as the NSS trust object, except that a
 * pinned peer is a trust anchor here (see above). */
static int
sp11_pkcs_trust_attr (const settle_snap_entry *e, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  switch (type)
    {
    case CKA_CLASS:
      return sp11_set_ulong (out, &sp11_class_pkcs_trust);
    case CKA_ISSUER:
      return sp11_set_bytes (out, e->issuer);
    case CKA_SERIAL_NUMBER:
      return sp11_set_bytes (out, e->serial);
    case SP11_CKA_HASH_OF_CERTIFICATE:
      return sp11_set (out, e->sha256, sizeof e->sha256);
    case CKA_NAME_HASH_ALGORITHM:
      return sp11_set_ulong (out, &sp11_hash_sha256);
    case SP11_CKA_PKCS_TRUST_SERVER_AUTH:
      return sp11_set_ulong (out, sp11_pkcs_server_trust (e));
    case SP11_CKA_PKCS_TRUST_CLIENT_AUTH:
    case SP11_CKA_PKCS_TRUST_CODE_SIGNING:
    case SP11_CKA_PKCS_TRUST_EMAIL_PROTECTION:
    case SP11_CKA_PKCS_TRUST_IPSEC_IKE:
    case SP11_CKA_PKCS_TRUST_TIME_STAMPING:
    case SP11_CKA_PKCS_TRUST_OCSP_SIGNING:
      return sp11_set_ulong (out, &sp11_pkcs_must_verify);
    default:
      return 0;
    }
}

static int
sp11_assertion_attr (const sp11_object *obj, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  switch (type)
    {
    case CKA_CLASS:
      return sp11_set_ulong (out, &sp11_class_assertion);
    case SP11_CKA_X_ASSERTION_TYPE:
      return sp11_set_ulong (out, obj->peer ? &sp11_assertion_pinned : &sp11_assertion_anchored);
    case SP11_CKA_X_PURPOSE:
      return sp11_set_text (out, SP11_OID_SERVER_AUTH);
    case SP11_CKA_X_CERTIFICATE_VALUE:
      return sp11_set_bytes (out, obj->entry->der);
    case SP11_CKA_X_PEER:
      return obj->peer ? sp11_set_text (out, obj->peer) : 0;
    default:
      return 0;
    }
}

/* The private key of a client identity, as NSS looks it up (CKA_ID equal
 * to its certificate's) and sizes its signatures (CKA_EC_PARAMS).  The key
 * itself never enters this process: it is sensitive and not extractable,
 * and C_Sign hands the digest to the signer (sp11-signer.c). */
static int
sp11_private_key_attr (const settle_snap_entry *e, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  switch (type)
    {
    case CKA_CLASS:
      return sp11_set_ulong (out, &sp11_class_private_key);
    case CKA_KEY_TYPE:
      return sp11_set_ulong (out, &sp11_key_type_ec);
    case CKA_ID:
      return sp11_set_bytes (out, e->id);
    case CKA_SUBJECT:
      return sp11_set_bytes (out, e->subject);
    case CKA_EC_PARAMS:
      return sp11_set_bytes (out, e->ec_params);
    case CKA_SIGN:
    case CKA_SENSITIVE:
    case CKA_ALWAYS_SENSITIVE:
    case CKA_NEVER_EXTRACTABLE:
      return sp11_set_bool (out, 1);
    case CKA_DECRYPT:
    case CKA_UNWRAP:
    case CKA_SIGN_RECOVER:
    case CKA_DERIVE:
    case CKA_EXTRACTABLE:
    case CKA_LOCAL:
    case CKA_WRAP_WITH_TRUSTED:
    case CKA_ALWAYS_AUTHENTICATE:
      return sp11_set_bool (out, 0);
    case CKA_ALLOWED_MECHANISMS:
      return sp11_set (out, sp11_ecdsa_only, sizeof sp11_ecdsa_only);
    default:
      return 0;
    }
}

int
sp11_attr_get (const sp11_object *obj, CK_ATTRIBUTE_TYPE type, sp11_value *out)
{
  if (sp11_storage_attr (obj, type, out))
    return 1;
  switch (obj->kind)
    {
    case SP11_OBJ_CERTIFICATE:
      return sp11_certificate_attr (obj->entry, type, out);
    case SP11_OBJ_NSS_TRUST:
      return sp11_nss_trust_attr (obj->entry, type, out);
    case SP11_OBJ_PKCS_TRUST:
      return sp11_pkcs_trust_attr (obj->entry, type, out);
    case SP11_OBJ_ASSERTION:
      return sp11_assertion_attr (obj, type, out);
    case SP11_OBJ_PRIVATE_KEY:
      return sp11_private_key_attr (obj->entry, type, out);
    default:
      return 0;
    }
}

int
sp11_attr_match (const sp11_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  for (CK_ULONG i = 0; i < count; i++)
    {
      sp11_value have;
      if (!sp11_attr_get (obj, tmpl[i].type, &have))
        return 0;
      if (have.len != tmpl[i].ulValueLen)
        return 0;
      if (have.len > 0 && (tmpl[i].pValue == NULL || memcmp (have.data, tmpl[i].pValue, have.len) != 0))
        return 0;
    }
  return 1;
}

CK_RV
sp11_attr_fill (const sp11_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  CK_RV rv = CKR_OK;
  for (CK_ULONG i = 0; i < count; i++)
    {
      sp11_value have;
      if (!sp11_attr_get (obj, tmpl[i].type, &have))
        {
          tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          rv = CKR_ATTRIBUTE_TYPE_INVALID;
        }
      else if (tmpl[i].pValue == NULL)
        tmpl[i].ulValueLen = have.len;
      else if (tmpl[i].ulValueLen >= have.len)
        {
          if (have.len > 0)
            memcpy (tmpl[i].pValue, have.data, have.len);
          tmpl[i].ulValueLen = have.len;
        }
      else
        {
          tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          rv = CKR_BUFFER_TOO_SMALL;
        }
    }
  return rv;
}

CK_ULONG
sp11_attr_object_size (const sp11_object *obj)
{
  /* A key's size would describe memory this module does not hold. */
  if (obj->kind == SP11_OBJ_PRIVATE_KEY)
    return CK_UNAVAILABLE_INFORMATION;
  return (CK_ULONG) obj->entry->der.len;
}
