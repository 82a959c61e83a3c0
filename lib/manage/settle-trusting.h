/* settle-trusting.h: settle_manager_trust, a CA (or a device's own
 * certificate, pinned) whose SHA-256 fingerprint the user obtained out
 * of band.  A fingerprint that does not match is refused: there is no
 * trust on first use.  A CA is wrapped (settle-wrap.h) so that it is
 * trusted only for the given scope; a pinned peer is trusted for its own
 * names.  A manufacturer CA (with ca_file) is kept unwrapped and is never
 * a TLS anchor.  The question: SETTLE_QUESTION_TRUST (skipped with `yes`,
 * recorded as SETTLE_CONSENT_FLAG).
 *
 * Ownership: the request is borrowed; *trusted is owned. */
#pragma once

#include "settle-manager.h"

G_BEGIN_DECLS

typedef struct {
  const char *ca_file;        /* a device or referee CA (PEM or DER), or NULL */
  const char *peer_file;      /* or a device's self-signed certificate */
  const char *fingerprint;    /* as given (hex, colons optional) */
  char **scopes;              /* with ca_file: the names or subtrees it may vouch for */
  gboolean referee;           /* the CA vouches for many devices in its scope */
  gboolean manufacturer;      /* the CA issues IDevIDs: it only vouches that a device in its
                               * scope is genuine, never as a TLS anchor (schema/voucher.md) */
  const char *label;          /* NULL: the first name, else the subject */
  gboolean yes;
} SettleTrusting;

gboolean settle_manager_trust (SettleManager *manager, const SettleTrusting *trusting, SettleRecord **trusted,
                               GError **error);

G_END_DECLS
