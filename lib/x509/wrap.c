/* wrap.c: scoping a device or referee CA by name constraints.
 *
 * Browsers and OpenSSL cannot be told "trust this root only for .local",
 * but they all enforce nameConstraints in CA certificates.  So the CA is
 * never trusted as it is (docs/design.md, "Scoping"):
 *
 *   wrapper root R   self-signed, nameConstraints = scope, the trust anchor
 *   cross cert C     subject + SPKI + SKID of the CA, issuer R, same
 *                    nameConstraints; leaves issued by the CA chain to it
 *
 * R's key is a fresh P-256 key that lives only inside settle_wrap_ca():
 * once C is signed nobody can issue under R again, so R can never vouch for
 * anything but this one CA. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "settle-anchor-rule.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-scope.h"
#include "settle-wrap.h"
#include "settle-cert-build.h"

/* Bounds the size of the certificates we build; real scopes hold a few
 * names. */
#define WRAP_SCOPE_MAX 64
/* Keeps CN within the 64 characters of X.520 ub-common-name. */
#define LABEL_CHARS_MAX 24
/* An hour of back-dating absorbs clock corrections (NTP stepping the
 * clock back after boot, a verifier on a slightly slow clock) that would
 * otherwise make a fresh wrapper "not yet valid". */
#define KEY_ID_MAX EVP_MAX_MD_SIZE

static gboolean
wrap_error (GError **error, const char *message)
{
  ERR_clear_error ();
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT, message);
  return FALSE;
}

static gboolean
check_scope (const char *const *scope, GError **error)
{
  if (scope == NULL || scope[0] == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                           "The scope is empty; a CA must be limited to at least one local subtree.");
      return FALSE;
    }
  for (gsize i = 0; scope[i] != NULL; i++)
    {
      if (i >= WRAP_SCOPE_MAX)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                       "The scope has more than %d subtrees.", WRAP_SCOPE_MAX);
          return FALSE;
        }
      g_autofree char *canonical = settle_scope_normalize (scope[i], error);
      if (canonical == NULL)
        return FALSE;
      /* Callers store the scope as given: it must already be what the
       * constraints will say, so that the record never disagrees with C. */
      if (strcmp (canonical, scope[i]) != 0)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                       "The scope entry '%s' is not in canonical form (write '%s').",
                       scope[i], canonical);
          return FALSE;
        }
    }
  return TRUE;
}

/* First 16 hex digits of the CA's SHA-256 fingerprint (owned). */
static char *
fingerprint_prefix (X509 *ca)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest (ca, EVP_sha256 (), md, &len) || len < 8)
    return NULL;
  GString *hex = g_string_new (NULL);
  for (unsigned int i = 0; i < 8; i++)
    g_string_append_printf (hex, "%02x", md[i]);
  return g_string_free (hex, FALSE);
}

/* The user's label made safe for a certificate subject: valid UTF-8, no
 * control characters, bounded (owned). */
static char *
subject_label (const char *label)
{
  g_autofree char *valid = g_utf8_make_valid (label ? label : "", -1);
  GString *out = g_string_new (NULL);
  glong chars = 0;
  for (const char *p = valid; *p != '\0' && chars < LABEL_CHARS_MAX; p = g_utf8_next_char (p), chars++)
    {
      gunichar c = g_utf8_get_char (p);
      g_string_append_unichar (out, g_unichar_iscntrl (c) ? ' ' : c);
    }
  char *result = g_strstrip (g_string_free (out, FALSE));
  if (*result == '\0')
    {
      g_free (result);
      result = g_strdup ("device");
    }
  return result;
}

/* "SETTLE scoped root <fp16> (<label>)", O=SETTLE local trust: unique per
 * anchor and plainly not a public root (owned). */
static X509_NAME *
wrapper_subject (X509 *ca, const char *label)
{
  g_autofree char *fp = fingerprint_prefix (ca);
  if (fp == NULL)
    return NULL;
  g_autofree char *safe_label = subject_label (label);
  g_autofree char *cn = g_strdup_printf ("SETTLE scoped root %s (%s)", fp, safe_label);
  X509_NAME *name = X509_NAME_new ();
  if (name == NULL
      || !X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8,
                                      (const unsigned char *) "SETTLE local trust", -1, -1, 0)
      || !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0))
    {
      X509_NAME_free (name);
      return NULL;
    }
  return name;
}

/* From an hour ago, but never before the CA's own notBefore: the wrapper
 * must not vouch for the CA's key at a time the CA itself did not claim;
 * until the CA's notAfter, because past it the CA is dead anyway. */
static gboolean
set_validity (X509 *cert, X509 *ca)
{
  ASN1_TIME *not_before = X509_time_adj_ex (NULL, 0, -SETTLE_CERT_BACKDATE_SECONDS, NULL);
  if (not_before == NULL)
    return FALSE;
  const ASN1_TIME *ca_not_before = X509_get0_notBefore (ca);
  int cmp = ASN1_TIME_compare (not_before, ca_not_before);
  gboolean ok = cmp != -2
                && X509_set1_notBefore (cert, cmp < 0 ? ca_not_before : not_before)
                && X509_set1_notAfter (cert, X509_get0_notAfter (ca));
  ASN1_TIME_free (not_before);
  return ok;
}

static GENERAL_SUBTREE *
subtree_for_dns (const char *name)
{
  GENERAL_SUBTREE *subtree = GENERAL_SUBTREE_new ();
  ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();
  if (subtree == NULL || dns == NULL || !ASN1_STRING_set (dns, name, (int) strlen (name)))
    {
      GENERAL_SUBTREE_free (subtree);
      ASN1_IA5STRING_free (dns);
      return NULL;
    }
  GENERAL_NAME_set0_value (subtree->base, GEN_DNS, dns);
  return subtree;
}

/* An all-zero address and mask: every address of that family. */
static GENERAL_SUBTREE *
subtree_for_all_ip (int address_len)
{
  unsigned char zeros[32] = { 0 };
  GENERAL_SUBTREE *subtree = GENERAL_SUBTREE_new ();
  ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new ();
  if (subtree == NULL || ip == NULL || !ASN1_OCTET_STRING_set (ip, zeros, 2 * address_len))
    {
      GENERAL_SUBTREE_free (subtree);
      ASN1_OCTET_STRING_free (ip);
      return NULL;
    }
  GENERAL_NAME_set0_value (subtree->base, GEN_IPADD, ip);
  return subtree;
}

static gboolean
push_subtree (STACK_OF (GENERAL_SUBTREE) **stack, GENERAL_SUBTREE *subtree)
{
  if (subtree == NULL)
    return FALSE;
  if (*stack == NULL)
    *stack = sk_GENERAL_SUBTREE_new_null ();
  if (*stack == NULL || !sk_GENERAL_SUBTREE_push (*stack, subtree))
    {
      GENERAL_SUBTREE_free (subtree);
      return FALSE;
    }
  return TRUE;
}

/* A subtree of an IA5String form (rfc822Name, URI) that admits nothing
 * real: RFC 6761 reserves `.invalid` (owned). */
static GENERAL_SUBTREE *
subtree_for_nowhere (int type)
{
  static const char nowhere[] = ".invalid";
  GENERAL_SUBTREE *subtree = GENERAL_SUBTREE_new ();
  ASN1_IA5STRING *text = ASN1_IA5STRING_new ();
  if (subtree == NULL || text == NULL || !ASN1_STRING_set (text, nowhere, (int) strlen (nowhere)))
    {
      GENERAL_SUBTREE_free (subtree);
      ASN1_IA5STRING_free (text);
      return NULL;
    }
  GENERAL_NAME_set0_value (subtree->base, type, text);
  return subtree;
}

/* Permitted dNSName per scope subtree, and every IPv4 and IPv6 address
 * excluded: RFC 5280 constraints on dNSName leave iPAddress SANs
 * unconstrained, so without the exclusion a rogue CA could issue for
 * IP:8.8.8.8.  For the same reason mailboxes and URIs are confined to
 * `.invalid`: a device has no business certifying `ceo@bank.example`
 * (settle-anchor-rule.h; the purpose is limited by extendedKeyUsage too).
 * Owned. */
static NAME_CONSTRAINTS *
scope_constraints (const char *const *scope)
{
  NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new ();
  gboolean ok = nc != NULL;
  for (gsize i = 0; ok && scope[i] != NULL; i++)
    ok = push_subtree (&nc->permittedSubtrees, subtree_for_dns (scope[i]));
  ok = ok && push_subtree (&nc->permittedSubtrees, subtree_for_nowhere (GEN_EMAIL));
  ok = ok && push_subtree (&nc->permittedSubtrees, subtree_for_nowhere (GEN_URI));
  ok = ok && push_subtree (&nc->excludedSubtrees, subtree_for_all_ip (4));
  ok = ok && push_subtree (&nc->excludedSubtrees, subtree_for_all_ip (16));
  if (!ok)
    {
      NAME_CONSTRAINTS_free (nc);
      return NULL;
    }
  return nc;
}

/* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (owned). */
static ASN1_OCTET_STRING *
computed_key_id (X509 *cert)
{
  unsigned char md[KEY_ID_MAX];
  unsigned int len = 0;
  ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new ();
  if (id == NULL || !X509_pubkey_digest (cert, EVP_sha1 (), md, &len)
      || !ASN1_OCTET_STRING_set (id, md, (int) len))
    {
      ASN1_OCTET_STRING_free (id);
      return NULL;
    }
  return id;
}

/* The CA's own SKID when it has one, so that the AKIDs in the leaves it
 * already issued still point at C (owned). */
static ASN1_OCTET_STRING *
ca_key_id (X509 *ca)
{
  const ASN1_OCTET_STRING *existing = X509_get0_subject_key_id (ca);
  if (existing != NULL)
    return ASN1_OCTET_STRING_dup (existing);
  return computed_key_id (ca);
}

/* CA:TRUE (critical) with the CA's path length, if any, so that wrapping
 * never loosens a limit the CA set for itself. */
static gboolean
add_basic_constraints (X509 *cert, X509 *pathlen_source)
{
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new ();
  if (bc == NULL)
    return FALSE;
  bc->ca = 0xff;
  gboolean ok = TRUE;
  if (pathlen_source != NULL)
    {
      BASIC_CONSTRAINTS *src = X509_get_ext_d2i (pathlen_source, NID_basic_constraints, NULL, NULL);
      if (src != NULL && src->pathlen != NULL)
        ok = (bc->pathlen = ASN1_INTEGER_dup (src->pathlen)) != NULL;
      BASIC_CONSTRAINTS_free (src);
    }
  ok = ok && X509_add1_ext_i2d (cert, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
  BASIC_CONSTRAINTS_free (bc);
  return ok;
}

static gboolean
add_ca_key_usage (X509 *cert)
{
  ASN1_BIT_STRING *usage = ASN1_BIT_STRING_new ();
  gboolean ok = usage != NULL
                && ASN1_BIT_STRING_set_bit (usage, 5, 1)  /* keyCertSign */
                && ASN1_BIT_STRING_set_bit (usage, 6, 1)  /* cRLSign */
                && X509_add1_ext_i2d (cert, NID_key_usage, usage, 1, X509V3_ADD_DEFAULT) == 1;
  ASN1_BIT_STRING_free (usage);
  return ok;
}

/* TLS server authentication only (settle-anchor-rule.h): OpenSSL, NSS,
 * Chromium, Firefox and GnuTLS all refuse a chain through a CA whose
 * extendedKeyUsage lacks the purpose being verified. */
static gboolean
add_purpose (X509 *cert)
{
  EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null ();
  ASN1_OBJECT *purpose = OBJ_nid2obj (settle_anchor_rule_purpose_nid ());
  gboolean ok = eku != NULL && purpose != NULL && sk_ASN1_OBJECT_push (eku, purpose) > 0
                && X509_add1_ext_i2d (cert, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) == 1;
  sk_ASN1_OBJECT_free (eku);  /* OBJ_nid2obj objects are static */
  return ok;
}

static gboolean
add_subject_key_id (X509 *cert, ASN1_OCTET_STRING *key_id /* borrowed */)
{
  return X509_add1_ext_i2d (cert, NID_subject_key_identifier, key_id, 0, X509V3_ADD_DEFAULT) == 1;
}

static gboolean
add_authority_key_id (X509 *cert, const ASN1_OCTET_STRING *issuer_key_id /* borrowed */)
{
  AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new ();
  gboolean ok = akid != NULL
                && (akid->keyid = ASN1_OCTET_STRING_dup (issuer_key_id)) != NULL
                && X509_add1_ext_i2d (cert, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) == 1;
  AUTHORITY_KEYID_free (akid);
  return ok;
}

static gboolean
add_name_constraints (X509 *cert, NAME_CONSTRAINTS *nc /* borrowed */)
{
  return X509_add1_ext_i2d (cert, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT) == 1;
}

/* The fields every wrapping certificate shares. */
static X509 *
new_v3_cert (X509 *ca, const X509_NAME *issuer, const X509_NAME *subject)
{
  X509 *cert = X509_new ();
  if (cert == NULL || !X509_set_version (cert, X509_VERSION_3) || !settle_cert_set_random_serial (cert)
      || !X509_set_issuer_name (cert, issuer) || !X509_set_subject_name (cert, subject)
      || !set_validity (cert, ca))
    {
      X509_free (cert);
      return NULL;
    }
  return cert;
}

/* Self-signed wrapper root R (owned).  Its SKID is returned through
 * *key_id (owned) for C's AKID. */
static X509 *
build_root (X509 *ca, const X509_NAME *subject, EVP_PKEY *wrapper_key,
            NAME_CONSTRAINTS *nc, ASN1_OCTET_STRING **key_id)
{
  X509 *root = new_v3_cert (ca, subject, subject);
  *key_id = NULL;
  if (root == NULL || !X509_set_pubkey (root, wrapper_key)
      || (*key_id = computed_key_id (root)) == NULL
      || !add_basic_constraints (root, NULL) || !add_ca_key_usage (root) || !add_purpose (root)
      || !add_subject_key_id (root, *key_id) || !add_name_constraints (root, nc)
      || X509_sign (root, wrapper_key, EVP_sha256 ()) <= 0)
    {
      X509_free (root);
      g_clear_pointer (key_id, ASN1_OCTET_STRING_free);
      return NULL;
    }
  return root;
}

/* Cross certificate C (owned): the CA's name, key and SKID under R. */
static X509 *
build_cross (X509 *ca, X509 *root, const ASN1_OCTET_STRING *root_key_id,
             EVP_PKEY *wrapper_key, NAME_CONSTRAINTS *nc)
{
  ASN1_OCTET_STRING *key_id = ca_key_id (ca);
  X509 *cross = new_v3_cert (ca, X509_get_subject_name (root), X509_get_subject_name (ca));
  gboolean ok = key_id != NULL && cross != NULL
                && X509_set_pubkey (cross, X509_get0_pubkey (ca))
                && add_basic_constraints (cross, ca) && add_ca_key_usage (cross) && add_purpose (cross)
                && add_subject_key_id (cross, key_id) && add_authority_key_id (cross, root_key_id)
                && add_name_constraints (cross, nc)
                && X509_sign (cross, wrapper_key, EVP_sha256 ()) > 0;
  ASN1_OCTET_STRING_free (key_id);
  if (!ok)
    {
      X509_free (cross);
      return NULL;
    }
  return cross;
}

/* Leaves are verified with the CA's key as written in C, so C must carry
 * exactly the CA's SubjectPublicKeyInfo, byte for byte. */
static gboolean
same_public_key (X509 *a, X509 *b)
{
  unsigned char *der_a = NULL, *der_b = NULL;
  int len_a = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (a), &der_a);
  int len_b = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (b), &der_b);
  gboolean same = len_a > 0 && len_a == len_b && memcmp (der_a, der_b, (size_t) len_a) == 0;
  OPENSSL_free (der_a);
  OPENSSL_free (der_b);
  return same;
}

gboolean
settle_wrap_ca (X509 *ca, const char *const *scope, const char *label,
                SettleWrapped *out, GError **error)
{
  g_return_val_if_fail (out != NULL, FALSE);
  out->root = NULL;
  out->cross = NULL;
  /* The CA check again, although callers make it first: wrapping a weak
   * or dead CA would hand out an anchor that no review ever approved. */
  if (!check_scope (scope, error) || !settle_ca_check (ca, error))
    return FALSE;

  X509_NAME *subject = wrapper_subject (ca, label);
  NAME_CONSTRAINTS *nc = scope_constraints (scope);
  /* The wrapper key: generated here, freed below, never returned or
   * written anywhere (EC key destruction clears the private scalar). */
  EVP_PKEY *wrapper_key = EVP_EC_gen ("P-256");
  ASN1_OCTET_STRING *root_key_id = NULL;
  X509 *root = NULL, *cross = NULL;

  if (subject != NULL && nc != NULL && wrapper_key != NULL)
    root = build_root (ca, subject, wrapper_key, nc, &root_key_id);
  if (root != NULL)
    cross = build_cross (ca, root, root_key_id, wrapper_key, nc);

  EVP_PKEY_free (wrapper_key);
  ASN1_OCTET_STRING_free (root_key_id);
  NAME_CONSTRAINTS_free (nc);
  X509_NAME_free (subject);

  if (cross == NULL || !same_public_key (cross, ca) || X509_check_issued (root, cross) != X509_V_OK)
    {
      X509_free (root);
      X509_free (cross);
      return wrap_error (error, "Could not build the wrapper certificates for this CA.");
    }
  out->root = root;
  out->cross = cross;
  return TRUE;
}

void
settle_wrapped_clear (SettleWrapped *wrapped)
{
  if (wrapped == NULL)
    return;
  g_clear_pointer (&wrapped->root, X509_free);
  g_clear_pointer (&wrapped->cross, X509_free);
}
