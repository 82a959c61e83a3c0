/* settle-tls-probe.h: reaching a device's HTTPS port, and what it presents there: one TLS 1.3
 * handshake with ALPN http/1.1 (so the device serves its web side, never
 * the pairing ceremony), no request sent.  Nothing is verified here: the
 * caller judges the certificates (rotation.h).
 *
 * Ownership: a SettlePresented owns its certificates until
 * settle_presented_clear(). */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

#include "settle-endpoint.h"
#include "settle-record.h"

typedef struct {
  X509 *leaf;               /* owned: the server's certificate */
  STACK_OF (X509) *chain;   /* owned: what the server sent after the leaf */
} SettlePresented;

/* Connects to host:port (a name or a numeric address) within
 * `timeout_ms` per step, with SNI `server_name`.  SETTLE_ERROR_NETWORK
 * with one sentence saying which step failed. */
gboolean settle_tls_probe (const char *host, guint16 port, const char *server_name, guint timeout_ms,
                           SettlePresented *out, GError **error);
void settle_presented_clear (SettlePresented *presented);

/* Where to reach the device of `record` (owned): `typed` (--address
 * HOST:PORT, may be NULL), else where it was paired, else its first name
 * on the HTTPS port (settle-endpoint.h). */
SettleEndpoint *settle_device_endpoint (const SettleRecord *record, const char *typed, GError **error);
