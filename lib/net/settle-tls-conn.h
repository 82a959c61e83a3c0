/* settle-tls-conn.h: settle's one TLS connection, for every client and
 * server in the tree (the pairing ceremony, the device's web side, the
 * helper's look at what a device presents): TLS 1.3 only, non-blocking
 * sockets with a deadline on every operation, SIGPIPE blocked around
 * every OpenSSL call, and no path validation (every caller judges the
 * peer's certificates itself: a pinned key, a recorded anchor).
 *
 * Ownership: a SettleTlsConn owns its socket and SSL; settle_tls_close()
 * releases both.  Accessors named *_peek return borrowed pointers that
 * live as long as the connection; others return owned values. */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>

G_BEGIN_DECLS

#define SETTLE_TLS_DEFAULT_TIMEOUT_MS 10000

typedef struct _SettleTlsConn SettleTlsConn;

/* ---- client ---- */

/* Resolves `host` (system resolver, so mDNS through nss-mdns; the lookup
 * itself is bounded) and connects a TCP socket to `port` within
 * `timeout_ms` (0: the default).  Returns the owned, non-blocking socket,
 * or -1 with SETTLE_ERROR_NETWORK saying which step failed (no address,
 * no answer, refused). */
int settle_tls_connect_tcp (const char *host, guint16 port, guint timeout_ms, GError **error);

/* Handshakes TLS 1.3 on `fd` (ownership passes to the connection, also
 * on failure), with SNI `server_name` (left out when it is an address)
 * and `alpn` (may be NULL) as the one protocol offered; `host` names the
 * peer in errors.  The handshake is bounded by `timeout_ms`, which stays
 * the connection's timeout per operation. */
SettleTlsConn *settle_tls_client_handshake (int fd, const char *host, const char *server_name,
                                            const char *alpn, guint timeout_ms, GError **error);

/* Both steps above. */
SettleTlsConn *settle_tls_connect_offering (const char *host, guint16 port, const char *server_name,
                                            const char *alpn, guint timeout_ms, GError **error);

/* ---- server ---- */

/* Handshakes on an accepted socket `fd` (ownership passes to the
 * connection, also on failure) with `ctx` (borrowed). */
SettleTlsConn *settle_tls_accept (SSL_CTX *ctx, int fd, guint timeout_ms, GError **error);

/* A server context: TLS 1.3 only, no session tickets, the given key and
 * certificate chain (borrowed; up-referenced).  `alpn_wire` (a static
 * string in ALPN wire form, server preference first; NULL for no ALPN)
 * selects among what a client offers; a client that offers none of them
 * gets no ALPN.  When `client_ca` is given, client certificates are
 * requested (not required) and the application judges them.  Owned. */
SSL_CTX *settle_tls_server_ctx_new_for (EVP_PKEY *key, X509 *leaf, STACK_OF (X509) *chain,
                                        X509 *client_ca, const char *alpn_wire, GError **error);

/* ---- the connection ---- */

/* The negotiated ALPN protocol, or NULL (borrowed). */
const char *settle_tls_alpn_peek (SettleTlsConn *conn);
/* The peer's leaf certificate and the chain it sent (borrowed). */
X509 *settle_tls_peer_leaf_peek (SettleTlsConn *conn);
STACK_OF (X509) *settle_tls_peer_chain_peek (SettleTlsConn *conn);
/* DER SubjectPublicKeyInfo of the peer's leaf (owned). */
GBytes *settle_tls_peer_spki (SettleTlsConn *conn);
/* The SSL object, for servers that do more than settle's own I/O. */
SSL *settle_tls_ssl_peek (SettleTlsConn *conn);
/* Peer address as text ("127.0.0.1"), borrowed. */
const char *settle_tls_peer_address_peek (SettleTlsConn *conn);

/* RFC 8446 section 7.5 exporter with `label` and an empty context. */
gboolean settle_tls_export (SettleTlsConn *conn, const char *label, guint8 *out, gsize out_len,
                            GError **error);

/* The absolute deadline of an operation that starts now: now plus the
 * connection's timeout.  A caller that reads one message in several
 * pieces passes the same deadline to each. */
gint64 settle_tls_deadline (SettleTlsConn *conn);
/* Reads exactly `len` bytes before `deadline`.  A close before the first
 * byte with `at_message_start` is SETTLE_ERROR_NETWORK ("closed before
 * its next message"); any other close is SETTLE_ERROR_FORMAT (a
 * truncated message). */
gboolean settle_tls_read_exact (SettleTlsConn *conn, guint8 *buf, gsize len, gint64 deadline,
                                gboolean at_message_start, GError **error);
gboolean settle_tls_write_until (SettleTlsConn *conn, const guint8 *buf, gsize len, gint64 deadline,
                                 GError **error);
/* One read or one whole write, each bounded by the connection's timeout.
 * settle_tls_read returns the byte count, 0 at a clean close, -1 on error. */
gssize settle_tls_read (SettleTlsConn *conn, guint8 *buf, gsize len, GError **error);
gboolean settle_tls_write_all (SettleTlsConn *conn, const guint8 *buf, gsize len, GError **error);

/* TRUE when the last failure on `conn` was a deadline passing. */
gboolean settle_tls_timed_out (SettleTlsConn *conn);
/* Changes the per-operation timeout (0 = SETTLE_TLS_DEFAULT_TIMEOUT_MS). */
void settle_tls_set_timeout (SettleTlsConn *conn, guint timeout_ms);

void settle_tls_close (SettleTlsConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleTlsConn, settle_tls_close)

G_END_DECLS
