/* settle-pairing.h: settle_manager_pair, the pairing ceremony with a
 * device (settle-ceremony-client.h) done end to end: the checks, the
 * user's consent between them and COMMIT (so that a "no" leaves nothing
 * on the device either), the scoped anchor and the new client key stored
 * with the trust snapshot and kept exports in step (settle-commit.h).
 *
 * Questions, through the manager's consent callback: one
 * SETTLE_QUESTION_EXTRA_NAME for each name the device claims that
 * nothing vouched for (never asked with `yes`: such names are then
 * refused, with a SETTLE_NOTE_NOTICE), then SETTLE_QUESTION_TRUST with
 * `pairing` set (skipped with `yes`, recorded as SETTLE_CONSENT_FLAG).
 * A referee's pairing front (Track B) yields a SETTLE_KIND_REFEREE_CA
 * record for the CA it declared, wrapped for the approved subtree; the
 * TRUST question then carries the referee warning (the record's kind).
 *
 * Progress: the manager's pair_step callback.
 *
 * Ownership: the request and the payload are borrowed; *paired is owned. */
#pragma once

#include "settle-manager.h"
#include "settle-qr-payload.h"

G_BEGIN_DECLS

typedef struct {
  const SettleQrPayload *payload;  /* where, the secret, and (from a QR code) the key hash */
  gboolean typed_code;             /* the payload came from a typed code: no key hash to pin */
  const char *role;                /* "admin", "user", "guest"; NULL: admin */
  const char *label;               /* what to call the device; NULL: its name */
  guint timeout_ms;                /* per network step */
  gboolean yes;                    /* consent without asking (scripts; recorded as such) */
  /* A referee's front (Track B): the scopes the user typed (NULL: the
   * subtrees it declares, never a whole namespace; settle-scope.h,
   * settle_scope_approve_referee), and whether the user expects a referee
   * (`yes` alone never trusts one). */
  char **referee_scope;
  gboolean expect_referee;
} SettlePairing;

/* TRUE with *paired (what is now trusted).  FALSE with `error`: nothing
 * was stored here; *enrolled_on_device (may be NULL) is TRUE only when
 * the device committed the enrolment and this computer then failed to
 * store it (the user should remove that enrolment on the device). */
gboolean settle_manager_pair (SettleManager *manager, const SettlePairing *pairing, SettleRecord **paired,
                              gboolean *enrolled_on_device, GError **error);

G_END_DECLS
