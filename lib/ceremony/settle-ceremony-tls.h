/* settle-ceremony-tls.h: the ceremony's transport over settle's TLS
 * connection (settle-tls-conn.h), shared by the helper (client) and the
 * device (server): ALPN "settle/1" on the device's one port, frames of
 * settle-ceremony-msg.h with one deadline per message, and the exporter
 * value that binds SPAKE2 to this one connection (schema/ceremony.md,
 * "Transport").
 *
 * Ownership: as in settle-tls-conn.h. */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>

#include "settle-ceremony-msg.h"
#include "settle-tls-conn.h"

G_BEGIN_DECLS

#define SETTLE_TLS_EXPORTER_LABEL "EXPERIMENTAL-settle-spake2"
#define SETTLE_TLS_EXPORTER_LEN 32

/* Client: connects to `host`:`port` (settle_tls_connect_offering) offering
 * only settle/1, and refuses a server that did not select it.  No path
 * validation: the caller pins the server key
 * (settle_qr_payload_spki_matches) before sending anything.  Errors:
 * SETTLE_ERROR_NETWORK with a sentence saying which step failed (no
 * answer, refused, TLS failure, no TLS 1.3, device did not speak
 * settle/1). */
SettleTlsConn *settle_tls_connect (const char *host, guint16 port, const char *server_name,
                                   guint timeout_ms, GError **error);

/* The device's server context (settle_tls_server_ctx_new_for): a client
 * that offers settle/1 came for the ceremony, one that offers http/1.1
 * (or nothing) for the web side. */
SSL_CTX *settle_tls_server_ctx_new (EVP_PKEY *key, X509 *leaf, STACK_OF (X509) *chain,
                                    X509 *client_ca, GError **error);

/* SETTLE_TLS_EXPORTER_LABEL, empty context, SETTLE_TLS_EXPORTER_LEN octets. */
gboolean settle_tls_exporter (SettleTlsConn *conn, guint8 out[SETTLE_TLS_EXPORTER_LEN],
                              GError **error);

/* One framed message each way, each bounded by one deadline of the
 * connection's timeout: a peer trickling bytes gains nothing. */
gboolean settle_tls_send (SettleTlsConn *conn, const SettleCeremonyMsg *msg, GError **error);
SettleCeremonyMsg *settle_tls_receive (SettleTlsConn *conn, GError **error);

G_END_DECLS
