/* settle-renewal.h: renewing this computer's client certificate for a paired
 * device over mutual TLS (POST /.well-known/settle/renew on the device,
 * docs/lifecycle.md).
 *
 * One TLS 1.3 connection with ALPN http/1.1, authenticated with the
 * current client certificate and key; the device must prove its first
 * name with a chain to the record's anchor.  The request carries a CSR
 * for a fresh P-256 key (the device refuses the current one); the answer
 * must be issued by the anchor CA, for the new key, with the same role.
 * Nothing is stored here: the caller commits the result.
 *
 * Ownership: a SettleRenewal owns its fields until
 * settle_renewal_clear(), which wipes the key. */
#pragma once

#include <glib.h>

#include "settle-record.h"

typedef struct {
  GBytes *client_cert_der;  /* owned: the new client certificate */
  GBytes *client_key_pem;   /* owned secret: its key, PKCS#8 PEM */
} SettleRenewal;

/* Where and how long: the device at host:port, each network step
 * bounded by timeout_ms. */
typedef struct {
  const char *host;
  guint16 port;
  guint timeout_ms;
} SettleRenewalTarget;

/* `record` (borrowed) must hold a client certificate; `current_key_pem`
 * (borrowed) is its key.  SETTLE_ERROR_NETWORK when the device cannot be
 * reached or does not prove itself, SETTLE_ERROR_REFUSED when it refuses,
 * SETTLE_ERROR_CERT when its answer is not what was asked for. */
gboolean settle_renewal_run (const SettleRecord *record, GBytes *current_key_pem,
                             const SettleRenewalTarget *target, SettleRenewal *out, GError **error);
void settle_renewal_clear (SettleRenewal *renewal);

/* notAfter of a DER certificate as unix seconds, or 0 when unreadable. */
gint64 settle_renewal_cert_expiry (GBytes *cert_der);
/* The role a client certificate carries (its OU, owned), or NULL. */
char *settle_renewal_cert_role (GBytes *cert_der);
