/* anchor-rule.c: the scope rule for every certificate settle publishes
 * (settle-anchor-rule.h).  Plain C over libcrypto; no allocation survives
 * a call. */
#include "settle-anchor-rule.h"
#include "settle-name-rule.h"

#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

/* The permitted subtree that wrappers give every name form other than
 * dNSName: RFC 6761 reserves `.invalid`, so no real mailbox or URI host
 * lies below it, and a constraint on a form admits none of that form. */
static const char nowhere[] = ".invalid";

/* X509_CERT_AUX ::= SEQUENCE { trust SEQUENCE OF OBJECT IDENTIFIER }
 * holding id-kp-serverAuth (1.3.6.1.5.5.7.3.1) alone.  tests/unit/test-wrap
 * checks that OpenSSL encodes X509_add1_trust_object(NID_server_auth) to
 * exactly these bytes. */
static const unsigned char server_auth_trust[] = {
  0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
};

static int
refuse (char *why, size_t whylen, const char *reason)
{
  snprintf (why, whylen, "%s", reason);
  return 0;
}

const unsigned char *
settle_anchor_rule_openssl_trust (size_t *len)
{
  *len = sizeof server_auth_trust;
  return server_auth_trust;
}

int
settle_anchor_rule_purpose_nid (void)
{
  return NID_server_auth;
}

static int
dns_name_is_local (const ASN1_IA5STRING *dns)
{
  const char *name = (const char *) ASN1_STRING_get0_data (dns);
  size_t len = (size_t) ASN1_STRING_length (dns);
  /* A constraint may be written ".local"; the subtree is the same. */
  if (len > 0 && name[0] == '.') {
    name++;
    len--;
  }
  return settle_name_rule_in_namespaces (name, len);
}

static int
is_nowhere (const ASN1_IA5STRING *text)
{
  return (size_t) ASN1_STRING_length (text) == strlen (nowhere)
         && memcmp (ASN1_STRING_get0_data (text), nowhere, strlen (nowhere)) == 0;
}

static int
is_any_address (const GENERAL_NAME *gn, int octets)
{
  if (gn->type != GEN_IPADD || ASN1_STRING_length (gn->d.iPAddress) != 2 * octets)
    return 0;
  const unsigned char *bytes = ASN1_STRING_get0_data (gn->d.iPAddress);
  for (int i = 0; i < 2 * octets; i++)  /* address and mask, both zero */
    if (bytes[i] != 0)
      return 0;
  return 1;
}

/* Every permitted dNSName lies in the namespaces (at least one), and a
 * permitted subtree of another form can only be the empty `.invalid`: a
 * constraint on mailboxes or URIs never widens what a wrapper vouches for. */
static int
permitted_subtrees_are_local (const STACK_OF (GENERAL_SUBTREE) *permitted)
{
  int dns = 0;
  for (int i = 0; i < sk_GENERAL_SUBTREE_num (permitted); i++) {
    const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value (permitted, i)->base;
    if (base->type == GEN_DNS && dns_name_is_local (base->d.dNSName))
      dns++;
    else if (!((base->type == GEN_EMAIL && is_nowhere (base->d.rfc822Name))
               || (base->type == GEN_URI && is_nowhere (base->d.uniformResourceIdentifier))))
      return 0;
  }
  return dns > 0;
}

static int
excludes_every_address (const STACK_OF (GENERAL_SUBTREE) *excluded)
{
  int v4 = 0, v6 = 0;
  for (int i = 0; i < sk_GENERAL_SUBTREE_num (excluded); i++) {
    const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value (excluded, i)->base;
    v4 |= is_any_address (base, 4);
    v6 |= is_any_address (base, 16);
  }
  return v4 && v6;
}

static int
check_constrained_ca (X509 *cert, char *why, size_t whylen)
{
  int critical = -1;
  NAME_CONSTRAINTS *nc = X509_get_ext_d2i (cert, NID_name_constraints, &critical, NULL);
  int ok = 0;
  if (nc == NULL)
    refuse (why, whylen, "has no (or more than one) nameConstraints extension");
  else if (critical != 1)
    refuse (why, whylen, "has a nameConstraints extension that is not critical");
  else if (!permitted_subtrees_are_local (nc->permittedSubtrees))
    refuse (why, whylen, "permits names outside local, home.arpa and alt");
  else if (!excludes_every_address (nc->excludedSubtrees))
    refuse (why, whylen, "does not exclude every IPv4 and IPv6 address");
  else
    ok = 1;
  NAME_CONSTRAINTS_free (nc);
  return ok;
}

/* The Netscape certificate type bits that make a CA (sslCA, emailCA,
 * objCA: the low three bits of the first octet). */
static int
has_netscape_ca_type (X509 *cert)
{
  ASN1_BIT_STRING *type = X509_get_ext_d2i (cert, NID_netscape_cert_type, NULL, NULL);
  int ca = type != NULL && ASN1_STRING_length (type) > 0 && (ASN1_STRING_get0_data (type)[0] & 0x07) != 0;
  ASN1_BIT_STRING_free (type);
  return ca;
}

static int
has_extension (X509 *cert, int nid)
{
  return X509_get_ext_by_NID (cert, nid, -1) >= 0;
}

int
settle_anchor_rule_peer_cannot_issue (X509 *cert, char *why, size_t whylen)
{
  uint32_t flags = X509_get_extension_flags (cert);
  if (flags & EXFLAG_INVALID)
    return refuse (why, whylen, "has malformed extensions");
  /* mozilla::pkix lets a v1 anchor act as a CA. */
  if (X509_get_version (cert) != X509_VERSION_3)
    return refuse (why, whylen, "is not X.509 version 3");
  /* A missing basicConstraints is read as "may issue" by Chromium, NSS,
   * GnuTLS and (with keyCertSign) OpenSSL: it must be present and false. */
  if (!(flags & EXFLAG_BCONS))
    return refuse (why, whylen, "has no basicConstraints extension (it must say CA:FALSE)");
  if (flags & EXFLAG_CA)
    return refuse (why, whylen, "is a CA certificate");
  if ((flags & EXFLAG_KUSAGE) && (X509_get_key_usage (cert) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
    return refuse (why, whylen, "has a keyUsage that allows signing certificates or CRLs");
  if (has_extension (cert, NID_name_constraints))
    return refuse (why, whylen, "carries nameConstraints, which only an issuer has");
  if (has_netscape_ca_type (cert))
    return refuse (why, whylen, "has a Netscape certificate type that makes it a CA");
  return 1;
}

/* What a pinned peer's own certificate may be used for: TLS server
 * authentication and nothing else.  NSS keeps one trust flag for both
 * directions of SSL, so a trusted peer is also a trusted TLS *client*
 * unless its certificate's extendedKeyUsage says otherwise: it must be
 * present and name serverAuth and no other purpose settle knows. */
int
settle_anchor_rule_peer_purposes (X509 *cert, char *why, size_t whylen)
{
  const uint32_t other_purposes = XKU_SSL_CLIENT | XKU_SMIME | XKU_CODE_SIGN | XKU_OCSP_SIGN | XKU_TIMESTAMP
                                  | XKU_DVCS | XKU_ANYEKU;
  if (!(X509_get_extension_flags (cert) & EXFLAG_XKUSAGE))
    return refuse (why, whylen, "has no extendedKeyUsage (it must say serverAuth, and only that)");
  uint32_t xku = X509_get_extended_key_usage (cert);
  if (!(xku & XKU_SSL_SERVER) || (xku & other_purposes))
    return refuse (why, whylen, "has an extendedKeyUsage other than serverAuth alone");
  return 1;
}

/* Copies text[0..len) into the caller's buffer, truncated to fit. */
static void
copy_name (char *name, size_t namelen, const char *text, size_t len)
{
  if (name == NULL || namelen == 0)
    return;
  size_t n = len < namelen - 1 ? len : namelen - 1;
  memcpy (name, text, n);
  name[n] = '\0';
}

/* One dNSName of a pinned peer: the local-name rule with a leading `*.`
 * allowed, then the part under the wildcard must lie strictly below a
 * namespace (`*.local` would claim every local device, `local` is no
 * device).  text[0..len) holds no NUL. */
static settle_peer_names_verdict
judge_dns_name (const char *text, size_t len)
{
  if (settle_name_rule_syntax (text, len, true, NULL) != SETTLE_NAME_OK)
    return SETTLE_PEER_NAMES_SYNTAX;
  size_t skip = text[0] == '*' ? 2 : 0;   /* the syntax allows `*` only as a leading `*.` */
  if (!settle_name_rule_in_namespaces (text + skip, len - skip))
    return SETTLE_PEER_NAMES_OUTSIDE;
  if (settle_name_rule_is_namespace (text + skip, len - skip))
    return SETTLE_PEER_NAMES_NAMESPACE;
  return SETTLE_PEER_NAMES_OK;
}

settle_peer_names_verdict
settle_anchor_rule_peer_names (X509 *cert, settle_peer_name_judge judge, void *judge_data,
                               char *name, size_t namelen)
{
  GENERAL_NAMES *sans = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
  settle_peer_names_verdict verdict = SETTLE_PEER_NAMES_OK;
  int dns_count = 0;
  copy_name (name, namelen, "", 0);
  for (int i = 0; verdict == SETTLE_PEER_NAMES_OK && i < sk_GENERAL_NAME_num (sans); i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value (sans, i);
    if (gn->type == GEN_IPADD) {
      verdict = SETTLE_PEER_NAMES_IP_ADDRESS;
      continue;
    }
    if (gn->type != GEN_DNS) {
      verdict = SETTLE_PEER_NAMES_NOT_DNS;
      continue;
    }
    const char *text = (const char *) ASN1_STRING_get0_data (gn->d.dNSName);
    int len = ASN1_STRING_length (gn->d.dNSName);
    /* A NUL inside would make the name read as a shorter, different one. */
    if (len <= 0 || len > SETTLE_NAME_RULE_MAX || memchr (text, '\0', (size_t) len) != NULL) {
      verdict = SETTLE_PEER_NAMES_MALFORMED;
      continue;
    }
    char copy[SETTLE_NAME_RULE_MAX + 1];
    copy_name (copy, sizeof copy, text, (size_t) len);
    verdict = judge_dns_name (copy, (size_t) len);
    if (verdict == SETTLE_PEER_NAMES_OK && judge != NULL && !judge (copy, judge_data))
      verdict = SETTLE_PEER_NAMES_JUDGE;
    if (verdict != SETTLE_PEER_NAMES_OK)
      copy_name (name, namelen, copy, (size_t) len);
    dns_count++;
  }
  GENERAL_NAMES_free (sans);
  if (verdict == SETTLE_PEER_NAMES_OK && dns_count == 0)
    verdict = SETTLE_PEER_NAMES_NONE;
  return verdict;
}

const char *
settle_anchor_rule_peer_names_explain (settle_peer_names_verdict verdict)
{
  switch (verdict) {
  case SETTLE_PEER_NAMES_OK: return "carries only valid local DNS names";
  case SETTLE_PEER_NAMES_IP_ADDRESS: return "carries an IP address";
  case SETTLE_PEER_NAMES_NOT_DNS: return "carries a subjectAltName that is not a DNS name";
  case SETTLE_PEER_NAMES_MALFORMED: return "has a malformed DNS name (empty, too long or with a NUL)";
  case SETTLE_PEER_NAMES_SYNTAX: return "has a DNS name that is not a valid host name";
  case SETTLE_PEER_NAMES_OUTSIDE: return "names a host outside local, home.arpa and alt";
  case SETTLE_PEER_NAMES_NAMESPACE: return "names a whole namespace (or a wildcard for one)";
  case SETTLE_PEER_NAMES_JUDGE: return "has a DNS name that its checker refused";
  case SETTLE_PEER_NAMES_NONE: return "has no DNS subjectAltName";
  }
  return "has unacceptable names";
}

static int
check_peer_names (X509 *cert, char *why, size_t whylen)
{
  char name[SETTLE_NAME_RULE_MAX + 1];
  settle_peer_names_verdict verdict = settle_anchor_rule_peer_names (cert, NULL, NULL, name, sizeof name);
  const char *what = settle_anchor_rule_peer_names_explain (verdict);
  if (verdict == SETTLE_PEER_NAMES_OK)
    return 1;
  /* These names passed the syntax check (LDH only): safe to print. */
  if (verdict == SETTLE_PEER_NAMES_OUTSIDE || verdict == SETTLE_PEER_NAMES_NAMESPACE)
    snprintf (why, whylen, "%s ('%s')", what, name);
  else
    refuse (why, whylen, what);
  return 0;
}

int
settle_anchor_rule_check (settle_snap_role role, X509 *cert, char *why, size_t whylen)
{
  switch (role) {
  case SETTLE_SNAP_ROOT:
  case SETTLE_SNAP_CROSS:
    if (X509_check_ca (cert) != 1)
      return refuse (why, whylen, "is not a CA with basicConstraints CA:TRUE");
    return check_constrained_ca (cert, why, whylen);
  case SETTLE_SNAP_PEER:
    return settle_anchor_rule_peer_cannot_issue (cert, why, whylen)
           && settle_anchor_rule_peer_purposes (cert, why, whylen) && check_peer_names (cert, why, whylen);
  case SETTLE_SNAP_CLIENT:
    /* Served to no verifier: the module's identity slot and nothing else. */
    return 1;
  }
  return refuse (why, whylen, "has an unknown role");
}

int
settle_anchor_rule_check_entry (const settle_snap_entry *entry, char *why, size_t whylen)
{
  if (entry->der.len > SETTLE_SNAPSHOT_MAX_CERT)
    return refuse (why, whylen, "is larger than a certificate may be");
  const unsigned char *p = entry->der.data;
  X509 *cert = d2i_X509 (NULL, &p, (long) entry->der.len);
  if (cert == NULL || p != entry->der.data + entry->der.len) {
    X509_free (cert);
    return refuse (why, whylen, "is not one DER certificate");
  }
  int ok = settle_anchor_rule_check (entry->role, cert, why, whylen);
  X509_free (cert);
  return ok;
}

int
settle_anchor_rule_check_snapshot (const settle_snapshot *snap, char *why, size_t whylen)
{
  size_t count = snap != NULL ? settle_snapshot_count (snap) : 0;
  for (size_t i = 0; i < count; i++) {
    const settle_snap_entry *entry = settle_snapshot_entry (snap, i);
    char reason[160];
    if (!settle_anchor_rule_check_entry (entry, reason, sizeof reason)) {
      snprintf (why, whylen, "entry %zu (\"%s\") %s", i, entry->label, reason);
      return 0;
    }
  }
  return 1;
}
