/* sprov-guard.c: see sprov-guard.h. */
#include "sprov-guard.h"

#include <stdio.h>

#include <openssl/x509.h>

#include "settle-anchor-rule.h"

int
sprov_guard_check (const settle_snap_entry *entry, char *why, size_t whylen)
{
  if (entry->der.len > SETTLE_SNAPSHOT_MAX_CERT) {
    snprintf (why, whylen, "is larger than a certificate may be");
    return 0;
  }
  const unsigned char *p = entry->der.data;
  X509 *cert = d2i_X509 (NULL, &p, (long) entry->der.len);
  if (cert == NULL || p != entry->der.data + entry->der.len) {
    X509_free (cert);
    snprintf (why, whylen, "is not one DER certificate");
    return 0;
  }
  int ok = settle_anchor_rule_check (entry->role, cert, why, whylen);
  X509_free (cert);
  return ok;
}
