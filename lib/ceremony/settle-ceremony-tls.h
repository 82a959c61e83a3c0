/* settle-ceremony-tls.h: the ceremony's transport, shared by the helper
 * (client) and the device (server): TLS 1.3 only, implicit TLS, ALPN
 * "settle/1", frames of settle-ceremony-msg.h with a deadline on every
 * read and write, and the exporter value that binds SPAKE2 to this one
 * connection (schema/ceremony.md, "Transport").
 *
 * Ownership: a SettleTlsConn owns its socket and SSL; settle_tls_close()
 * releases both.  Accessors named *_peek return borrowed pointers that
 * live as long as the connection; others return owned values. */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>

#include "settle-ceremony-msg.h"

G_BEGIN_DECLS

#define SETTLE_TLS_EXPORTER_LABEL "EXPERIMENTAL-settle-spake2"
#define SETTLE_TLS_EXPORTER_LEN 32
#define SETTLE_TLS_DEFAULT_TIMEOUT_MS 10000

typedef struct _SettleTlsConn SettleTlsConn;

/* Client: resolves `host` (system resolver: covers mDNS through nss-mdns),
 * connects to `port`, handshakes TLS 1.3 with ALPN settle/1 and SNI
 * `server_name`.  No path validation: the caller pins the server key
 * (settle_qr_payload_spki_matches) before sending anything.  Every step
 * is bounded by `timeout_ms`.  Errors: SETTLE_ERROR_NETWORK with a
 * sentence saying which step failed (no answer, refused, TLS failure, no
 * TLS 1.3, device did not speak settle/1). */
SettleTlsConn *settle_tls_connect (const char *host, guint16 port, const char *server_name,
                                   guint timeout_ms, GError **error);

/* Server: handshakes on an accepted socket `fd` (ownership passes to the
 * connection, also on failure) with `ctx` (borrowed; see
 * settle_tls_server_ctx_new). */
SettleTlsConn *settle_tls_accept (SSL_CTX *ctx, int fd, guint timeout_ms, GError **error);

/* A server context: TLS 1.3 only, the given key and certificate chain
 * (borrowed; up-referenced), ALPN selecting settle/1 or http/1.1.  When
 * `client_ca` is given, client certificates issued by it are requested
 * (not required) and verified.  Owned result. */
SSL_CTX *settle_tls_server_ctx_new (EVP_PKEY *key, X509 *leaf, STACK_OF (X509) *chain,
                                    X509 *client_ca, GError **error);

/* The negotiated ALPN protocol ("settle/1", "http/1.1"), or NULL. */
const char *settle_tls_alpn_peek (SettleTlsConn *conn);
/* The peer's leaf certificate and the chain it sent (borrowed). */
X509 *settle_tls_peer_leaf_peek (SettleTlsConn *conn);
STACK_OF (X509) *settle_tls_peer_chain_peek (SettleTlsConn *conn);
/* DER SubjectPublicKeyInfo of the peer's leaf (owned). */
GBytes *settle_tls_peer_spki (SettleTlsConn *conn);
/* The SSL object, for servers that do more than the ceremony (HTTP). */
SSL *settle_tls_ssl_peek (SettleTlsConn *conn);
/* Peer address as text ("127.0.0.1"), borrowed. */
const char *settle_tls_peer_address_peek (SettleTlsConn *conn);

/* RFC 8446 section 7.5 exporter, SETTLE_TLS_EXPORTER_LABEL, empty context. */
gboolean settle_tls_exporter (SettleTlsConn *conn, guint8 out[SETTLE_TLS_EXPORTER_LEN],
                              GError **error);

/* One framed message each way, bounded by the connection's timeout. */
gboolean settle_tls_send (SettleTlsConn *conn, const SettleCeremonyMsg *msg, GError **error);
SettleCeremonyMsg *settle_tls_receive (SettleTlsConn *conn, GError **error);
/* Raw I/O for the HTTP side of the device (bounded like the above).
 * settle_tls_read returns the byte count, 0 at a clean close, -1 on error. */
gssize settle_tls_read (SettleTlsConn *conn, guint8 *buf, gsize len, GError **error);
gboolean settle_tls_write_all (SettleTlsConn *conn, const guint8 *buf, gsize len, GError **error);

/* TRUE when the last failure on `conn` was a deadline passing (the
 * device then answers with SETTLE_CEREMONY_ERR_TIMEOUT). */
gboolean settle_tls_timed_out (SettleTlsConn *conn);
/* Changes the per-step timeout for the following reads and writes
 * (0 = SETTLE_TLS_DEFAULT_TIMEOUT_MS). */
void settle_tls_set_timeout (SettleTlsConn *conn, guint timeout_ms);

void settle_tls_close (SettleTlsConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleTlsConn, settle_tls_close)

G_END_DECLS
