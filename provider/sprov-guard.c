/* sprov-guard.c: see sprov-guard.h. */
#include "sprov-guard.h"

#include <stdio.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sprov-scope.h"

static int
refuse (char *why, size_t whylen, const char *reason)
{
  snprintf (why, whylen, "%s", reason);
  return 0;
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
  return sprov_name_in_namespaces (name, len);
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

static int
permitted_subtrees_are_local (const STACK_OF (GENERAL_SUBTREE) *permitted)
{
  if (sk_GENERAL_SUBTREE_num (permitted) <= 0)
    return 0;
  for (int i = 0; i < sk_GENERAL_SUBTREE_num (permitted); i++) {
    const GENERAL_NAME *base = sk_GENERAL_SUBTREE_value (permitted, i)->base;
    if (base->type != GEN_DNS || !dns_name_is_local (base->d.dNSName))
      return 0;
  }
  return 1;
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

static int
check_peer_names (X509 *cert, char *why, size_t whylen)
{
  int critical = -1;
  GENERAL_NAMES *sans = X509_get_ext_d2i (cert, NID_subject_alt_name, &critical, NULL);
  int dns_count = 0, ok = 1;
  for (int i = 0; ok && i < sk_GENERAL_NAME_num (sans); i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value (sans, i);
    if (gn->type == GEN_IPADD)
      ok = refuse (why, whylen, "carries an IP address");
    else if (gn->type == GEN_DNS && !dns_name_is_local (gn->d.dNSName))
      ok = refuse (why, whylen, "names a host outside local, home.arpa and alt");
    else if (gn->type == GEN_DNS)
      dns_count++;
  }
  GENERAL_NAMES_free (sans);
  if (ok && dns_count == 0)
    ok = refuse (why, whylen, "has no DNS subjectAltName");
  return ok;
}

int
sprov_guard_check (const settle_snap_entry *entry, char *why, size_t whylen)
{
  if (entry->der.len > SETTLE_SNAPSHOT_MAX_CERT)
    return refuse (why, whylen, "is larger than a certificate may be");
  const unsigned char *p = entry->der.data;
  X509 *cert = d2i_X509 (NULL, &p, (long) entry->der.len);
  if (cert == NULL || p != entry->der.data + entry->der.len) {
    X509_free (cert);
    return refuse (why, whylen, "is not one DER certificate");
  }

  int ok;
  switch (entry->role) {
  case SETTLE_SNAP_ROOT:
  case SETTLE_SNAP_CROSS:
    ok = check_constrained_ca (cert, why, whylen);
    break;
  case SETTLE_SNAP_PEER:
    /* OpenSSL would accept a CA in a trust store as an anchor for anything
     * it signs: a pinned peer must not be able to sign at all. */
    ok = X509_check_ca (cert) == 0 ? check_peer_names (cert, why, whylen)
                                   : refuse (why, whylen, "is a CA certificate");
    break;
  default:
    ok = refuse (why, whylen, "has an unknown role");
    break;
  }
  X509_free (cert);
  return ok;
}
