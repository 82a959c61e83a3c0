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

/* Where else the device of `record` may answer when `tried` (borrowed)
 * did not: the endpoints DNS-SD finds for its first name (the SRV port on
 * the addresses avahi resolved, SETTLE_ENDPOINT_DISCOVERED), then the
 * name on the HTTPS port, leaving out `tried`.  Owned array, possibly
 * empty (a typed --address is never second-guessed: then empty).  *note
 * (owned, may be NULL) says why DNS-SD could not be asked.  Discovery
 * only says where to knock: the caller still checks what answers against
 * the record (rotation.h, renewal.h). */
GPtrArray *settle_device_other_endpoints (const SettleRecord *record, const char *typed,
                                          const SettleEndpoint *tried, guint timeout_ms, char **note);
/* How an endpoint is remembered: a discovered one by the device's name
 * and its port, others as they are (owned "host:port"). */
char *settle_device_endpoint_where (const SettleRecord *record, const SettleEndpoint *endpoint);
