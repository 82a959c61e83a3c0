/* tls-probe.h: reaching a device's HTTPS port, and what it presents there: one TLS 1.3
 * handshake with ALPN http/1.1 (so the device serves its web side, never
 * the pairing ceremony), no request sent.  Nothing is verified here: the
 * caller judges the certificates (rotation.h).
 *
 * Ownership: a SettlePresented owns its certificates until
 * settle_presented_clear(). */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

#include "settle-record.h"

/* Devices without a remembered address are looked up by name on the
 * HTTPS port. */
#define SETTLE_DEVICE_DEFAULT_PORT 443

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

/* Where to reach the device of `record`: `address` (HOST:PORT, from
 * --address, may be NULL), else where it was paired, else its first name
 * on port 443.  *host is owned by the caller. */
gboolean settle_device_address (const SettleRecord *record, const char *address, char **host,
                                guint16 *port, GError **error);
/* "host:port", "[v6]:port" for messages (owned). */
char *settle_device_where (const char *host, guint16 port);
/* A TCP connection (owned) whose descriptor is blocking, with send and
 * receive timeouts of `timeout_ms`, ready for OpenSSL.  The tls-probe
 * handshake and renewal.c share it. */
GSocketConnection *settle_device_connect (const char *host, guint16 port, guint timeout_ms, GError **error);
