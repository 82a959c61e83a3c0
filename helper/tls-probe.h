/* tls-probe.h: what a device presents on its HTTPS port: one TLS 1.3
 * handshake with ALPN http/1.1 (so the device serves its web side, never
 * the pairing ceremony), no request sent.  Nothing is verified here: the
 * caller judges the certificates (rotation.h).
 *
 * Ownership: a SettlePresented owns its certificates until
 * settle_presented_clear(). */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

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
