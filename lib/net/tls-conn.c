/* tls-conn.c: settle's one TLS 1.3 connection, client and server.
 *
 * Sockets are non-blocking and every OpenSSL call that would block is
 * retried after poll() until an absolute deadline: a peer that stops
 * answering (or trickles one byte at a time) costs at most one timeout
 * per operation, never a hung program.  Every OpenSSL call runs with
 * SIGPIPE blocked, so a peer that hangs up cannot kill us. */
#include "settle-tls-conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "settle-error.h"

/* The longest ALPN protocol name is 255 octets (RFC 7301). */
#define ALPN_NAME_MAX 255

struct _SettleTlsConn {
  int fd;                 /* owned */
  SSL *ssl;               /* owned */
  guint timeout_ms;
  gboolean timed_out;     /* the last failure was a deadline */
  char peer_address[INET6_ADDRSTRLEN];
  char alpn[ALPN_NAME_MAX + 1];  /* what the handshake selected, "" for none */
};

/* ---- deadlines ---- */

static gint64
deadline_after (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

gint64
settle_tls_deadline (SettleTlsConn *conn)
{
  return deadline_after (conn->timeout_ms);
}

/* Milliseconds left until `deadline`, 0 when it has passed. */
static int
ms_left (gint64 deadline)
{
  gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
  if (left <= 0)
    return 0;
  return left > G_MAXINT ? G_MAXINT : (int) left;
}

/* Waits until `fd` is ready for `events` or the deadline passes.
 * FALSE on timeout (errno ETIMEDOUT) or poll failure. */
static gboolean
wait_fd (int fd, short events, gint64 deadline)
{
  for (;;)
    {
      int left = ms_left (deadline);
      if (left == 0)
        {
          errno = ETIMEDOUT;
          return FALSE;
        }
      struct pollfd p = { .fd = fd, .events = events };
      int n = poll (&p, 1, left);
      if (n > 0)
        return TRUE;
      if (n == 0)
        {
          errno = ETIMEDOUT;
          return FALSE;
        }
      if (errno != EINTR)
        return FALSE;
    }
}

static gboolean
set_nonblocking (int fd)
{
  int flags = fcntl (fd, F_GETFL);
  return flags >= 0 && fcntl (fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* ---- SIGPIPE ---- */

/* A peer that closed its end turns our next write into SIGPIPE, which
 * would kill a device or helper that never asked for signals.  OpenSSL
 * writes with write(2), so the signal is blocked around each call and a
 * SIGPIPE raised meanwhile is consumed before unblocking. */
typedef struct {
  sigset_t old_mask;
  gboolean was_pending;
} SigpipeGuard;

static void
sigpipe_block (SigpipeGuard *guard)
{
  sigset_t pipe_set, pending;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigpending (&pending);
  guard->was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &guard->old_mask);
}

static void
sigpipe_restore (SigpipeGuard *guard)
{
  if (!guard->was_pending)
    {
      sigset_t pipe_set, pending;
      sigemptyset (&pipe_set);
      sigaddset (&pipe_set, SIGPIPE);
      sigpending (&pending);
      if (sigismember (&pending, SIGPIPE))
        {
          struct timespec zero = { 0, 0 };
          while (sigtimedwait (&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
        }
    }
  pthread_sigmask (SIG_SETMASK, &guard->old_mask, NULL);
}

/* ---- errors ---- */

static gboolean
net_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
net_error (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  ERR_clear_error ();
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, message);
  return FALSE;
}

/* The first OpenSSL reason in the error queue as text (static, never
 * NULL), for messages that say why TLS failed. */
static const char *
openssl_reason (void)
{
  unsigned long e = ERR_peek_last_error ();
  const char *reason = e != 0 ? ERR_reason_error_string (e) : NULL;
  return reason != NULL ? reason : "no details";
}

static gboolean
is_version_failure (void)
{
  unsigned long e = ERR_peek_last_error ();
  int reason = ERR_GET_REASON (e);
  return ERR_GET_LIB (e) == ERR_LIB_SSL
         && (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION
             || reason == SSL_R_WRONG_SSL_VERSION || reason == SSL_R_NO_PROTOCOLS_AVAILABLE
             || reason == SSL_R_WRONG_VERSION_NUMBER);
}

/* ---- one OpenSSL call under a deadline ---- */

typedef int (*SslOp) (SSL *ssl, void *buf, size_t len, size_t *done);

static int
op_handshake (SSL *ssl, void *buf, size_t len, size_t *done)
{
  (void) buf, (void) len, (void) done;
  return SSL_do_handshake (ssl);
}

static int
op_read (SSL *ssl, void *buf, size_t len, size_t *done)
{
  return SSL_read_ex (ssl, buf, len, done);
}

static int
op_write (SSL *ssl, void *buf, size_t len, size_t *done)
{
  return SSL_write_ex (ssl, buf, len, done);
}

typedef enum {
  STEP_OK,
  STEP_CLOSED,    /* the peer closed the connection */
  STEP_TIMEOUT,
  STEP_FAILED,    /* TLS or socket failure; OpenSSL's queue says why */
} StepResult;

/* Runs `op` until it completes, retrying after poll() while OpenSSL
 * wants to read or write, until `deadline`. */
static StepResult
run_until (SettleTlsConn *conn, SslOp op, void *buf, size_t len, size_t *done, gint64 deadline)
{
  for (;;)
    {
      SigpipeGuard guard;
      ERR_clear_error ();
      sigpipe_block (&guard);
      int rc = op (conn->ssl, buf, len, done);
      int err = SSL_get_error (conn->ssl, rc);
      int saved_errno = errno;
      sigpipe_restore (&guard);
      if (rc == 1)
        return STEP_OK;
      short events;
      switch (err)
        {
        case SSL_ERROR_WANT_READ: events = POLLIN; break;
        case SSL_ERROR_WANT_WRITE: events = POLLOUT; break;
        case SSL_ERROR_ZERO_RETURN: return STEP_CLOSED;
        case SSL_ERROR_SYSCALL:
          return saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE
                   ? STEP_CLOSED : STEP_FAILED;
        case SSL_ERROR_SSL:
          if (ERR_GET_REASON (ERR_peek_last_error ()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return STEP_CLOSED;
          return STEP_FAILED;
        default: return STEP_FAILED;
        }
      if (!wait_fd (conn->fd, events, deadline))
        return errno == ETIMEDOUT ? STEP_TIMEOUT : STEP_FAILED;
    }
}

/* ---- connection object ---- */

/* The ceremony is a ping-pong of small messages, some written back to
 * back (CLIENT_CONFIRM, ENROL_REQUEST): with Nagle's algorithm the second
 * waits for the peer's delayed ACK, some 40 ms each time, on both sides. */
static void
disable_nagle (int fd)
{
  int on = 1;
  (void) setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static SettleTlsConn *
conn_new (int fd, guint timeout_ms)
{
  SettleTlsConn *conn = g_new0 (SettleTlsConn, 1);
  conn->fd = fd;
  disable_nagle (fd);
  conn->timeout_ms = timeout_ms > 0 ? timeout_ms : SETTLE_TLS_DEFAULT_TIMEOUT_MS;
  struct sockaddr_storage ss;
  socklen_t ss_len = sizeof ss;
  if (getpeername (fd, (struct sockaddr *) &ss, &ss_len) == 0)
    {
      if (ss.ss_family == AF_INET)
        inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, conn->peer_address,
                   sizeof conn->peer_address);
      else if (ss.ss_family == AF_INET6)
        inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, conn->peer_address,
                   sizeof conn->peer_address);
    }
  if (conn->peer_address[0] == '\0')
    g_strlcpy (conn->peer_address, "local", sizeof conn->peer_address);
  return conn;
}

void
settle_tls_close (SettleTlsConn *conn)
{
  if (conn == NULL)
    return;
  if (conn->ssl != NULL)
    {
      /* One attempt at close_notify, without waiting: the peer learns that
       * the end is deliberate, and a dead peer cannot stall us. */
      if (SSL_is_init_finished (conn->ssl))
        {
          SigpipeGuard guard;
          sigpipe_block (&guard);
          SSL_shutdown (conn->ssl);
          sigpipe_restore (&guard);
        }
      SSL_free (conn->ssl);
    }
  if (conn->fd >= 0)
    close (conn->fd);
  ERR_clear_error ();
  g_free (conn);
}

/* ---- server ---- */

/* `arg` is the server's preference list in wire form (a static string
 * of the caller, see settle_tls_server_ctx_new_for). */
static int
select_alpn (SSL *ssl, const unsigned char **out, unsigned char *outlen,
             const unsigned char *in, unsigned int inlen, void *arg)
{
  (void) ssl;
  const unsigned char *preferred = arg;
  unsigned char *selected = NULL;
  if (SSL_select_next_proto (&selected, outlen, preferred, (unsigned) strlen ((const char *) preferred),
                             in, inlen)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  /* plain HTTPS without ALPN, as old clients do */
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

/* Client certificates are optional and judged by the application (the
 * device's whoami looks at the verify result and its enrolments): a
 * stranger's certificate must get a clear HTTP 403, not a broken
 * handshake.  OpenSSL still checks CertificateVerify, i.e. that the
 * client holds the certificate's key. */
static int
accept_any_client_cert (int preverify_ok, X509_STORE_CTX *ctx)
{
  (void) preverify_ok, (void) ctx;
  return 1;
}

static gboolean
server_ctx_set_identity (SSL_CTX *ctx, EVP_PKEY *key, X509 *leaf, STACK_OF (X509) *chain,
                         GError **error)
{
  if (SSL_CTX_use_certificate (ctx, leaf) != 1 || SSL_CTX_use_PrivateKey (ctx, key) != 1)
    return net_error (error, "The TLS server could not load its certificate or key (%s).",
                      openssl_reason ());
  for (int i = 0; chain != NULL && i < sk_X509_num (chain); i++)
    if (SSL_CTX_add1_chain_cert (ctx, sk_X509_value (chain, i)) != 1)
      return net_error (error, "The TLS server could not load its certificate chain (%s).",
                        openssl_reason ());
  if (SSL_CTX_check_private_key (ctx) != 1)
    return net_error (error, "The TLS server key does not belong to its certificate.");
  return TRUE;
}

static gboolean
server_ctx_request_client_certs (SSL_CTX *ctx, X509 *client_ca, GError **error)
{
  X509_STORE *store = SSL_CTX_get_cert_store (ctx);
  if (X509_STORE_add_cert (store, client_ca) != 1 || SSL_CTX_add_client_CA (ctx, client_ca) != 1)
    return net_error (error, "The TLS server could not load the client CA (%s).", openssl_reason ());
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, accept_any_client_cert);
  return TRUE;
}

SSL_CTX *
settle_tls_server_ctx_new_for (EVP_PKEY *key, X509 *leaf, STACK_OF (X509) *chain, X509 *client_ca,
                               const char *alpn_wire, GError **error)
{
  g_return_val_if_fail (key != NULL && leaf != NULL, NULL);
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());
  if (ctx == NULL)
    {
      net_error (error, "OpenSSL could not create a TLS server context (%s).", openssl_reason ());
      return NULL;
    }
  /* No tickets: the ceremony never resumes, and the device page is small. */
  gboolean ok = SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION) == 1
                && SSL_CTX_set_max_proto_version (ctx, TLS1_3_VERSION) == 1
                && SSL_CTX_set_num_tickets (ctx, 0) == 1;
  if (!ok)
    net_error (error, "OpenSSL refused to limit the TLS server to TLS 1.3.");
  ok = ok && server_ctx_set_identity (ctx, key, leaf, chain, error);
  ok = ok && (client_ca == NULL || server_ctx_request_client_certs (ctx, client_ca, error));
  if (!ok)
    {
      SSL_CTX_free (ctx);
      return NULL;
    }
  if (alpn_wire != NULL)
    SSL_CTX_set_alpn_select_cb (ctx, select_alpn, (void *) alpn_wire);
  return ctx;
}

/* Copies the selected protocol: OpenSSL's pointer is not NUL-terminated. */
static void
remember_alpn (SettleTlsConn *conn)
{
  const unsigned char *proto = NULL;
  unsigned int len = 0;
  SSL_get0_alpn_selected (conn->ssl, &proto, &len);
  if (proto != NULL && len <= ALPN_NAME_MAX)
    {
      memcpy (conn->alpn, proto, len);
      conn->alpn[len] = '\0';
    }
}

static gboolean
handshake (SettleTlsConn *conn, const char *who, GError **error)
{
  StepResult r = run_until (conn, op_handshake, NULL, 0, NULL, deadline_after (conn->timeout_ms));
  switch (r)
    {
    case STEP_OK:
      remember_alpn (conn);
      return TRUE;
    case STEP_TIMEOUT:
      conn->timed_out = TRUE;
      return net_error (error, "The TLS handshake with %s timed out after %u ms.", who,
                        conn->timeout_ms);
    case STEP_CLOSED:
      return net_error (error, "%s closed the connection during the TLS handshake.", who);
    case STEP_FAILED:
    default:
      if (is_version_failure ())
        return net_error (error, "The TLS handshake with %s failed: it does not speak TLS 1.3.", who);
      return net_error (error, "The TLS handshake with %s failed (%s).", who, openssl_reason ());
    }
}

SettleTlsConn *
settle_tls_accept (SSL_CTX *ctx, int fd, guint timeout_ms, GError **error)
{
  g_autoptr (SettleTlsConn) conn = conn_new (fd, timeout_ms);
  if (!set_nonblocking (fd))
    {
      net_error (error, "Could not make the accepted socket non-blocking: %s.", g_strerror (errno));
      return NULL;
    }
  conn->ssl = SSL_new (ctx);
  if (conn->ssl == NULL || SSL_set_fd (conn->ssl, fd) != 1)
    {
      net_error (error, "OpenSSL could not set up the TLS connection (%s).", openssl_reason ());
      return NULL;
    }
  SSL_set_accept_state (conn->ssl);
  g_autofree char *who = g_strdup_printf ("the client at %s", conn->peer_address);
  if (!handshake (conn, who, error))
    return NULL;
  return g_steal_pointer (&conn);
}

/* ---- client ---- */

/* Resolution through getaddrinfo_a, so that a resolver that never answers
 * (mDNS for a device that is off) is bounded like every other step. */
static struct addrinfo *
resolve (const char *host, guint16 port, gint64 deadline, GError **error)
{
  char service[8];
  g_snprintf (service, sizeof service, "%u", (unsigned) port);
  /* Leaked on purpose when a timed-out lookup cannot be cancelled: the
   * resolver thread still writes into it. */
  struct gaicb *req = g_new0 (struct gaicb, 1);
  struct addrinfo *hints = g_new0 (struct addrinfo, 1);
  hints->ai_family = AF_UNSPEC;
  hints->ai_socktype = SOCK_STREAM;
  hints->ai_flags = AI_ADDRCONFIG;
  req->ar_name = g_strdup (host);
  req->ar_service = g_strdup (service);
  req->ar_request = hints;
  struct gaicb *list[1] = { req };
  int rc = getaddrinfo_a (GAI_NOWAIT, list, 1, NULL);
  while (rc == 0 && gai_error (req) == EAI_INPROGRESS)
    {
      int left = ms_left (deadline);
      if (left == 0)
        break;
      struct timespec ts = { left / 1000, (long) (left % 1000) * 1000000 };
      int s = gai_suspend ((const struct gaicb *const *) list, 1, &ts);
      if (s != 0 && s != EAI_AGAIN && s != EAI_INTR && s != EAI_ALLDONE)
        break;
    }
  int status = rc != 0 ? rc : gai_error (req);
  if (status == EAI_INPROGRESS && gai_cancel (req) != EAI_CANCELED)
    {
      net_error (error, "Looking up '%s' timed out.", host);
      return NULL;  /* req stays allocated: see above */
    }
  struct addrinfo *result = status == 0 ? req->ar_result : NULL;
  if (status != 0)
    {
      if (status == EAI_INPROGRESS || status == EAI_CANCELED)
        net_error (error, "Looking up '%s' timed out.", host);
      else
        net_error (error, "Could not find the address of '%s': %s.", host, gai_strerror (status));
    }
  g_free ((char *) req->ar_name);
  g_free ((char *) req->ar_service);
  g_free (hints);
  g_free (req);
  return result;
}

/* One TCP connection attempt; -1 with errno (ETIMEDOUT on the deadline). */
static int
connect_one (const struct addrinfo *ai, gint64 deadline)
{
  int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0)
    return -1;
  if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
    return fd;
  if (errno == EINPROGRESS && wait_fd (fd, POLLOUT, deadline))
    {
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0)
        return fd;
      errno = so_error != 0 ? so_error : errno;
    }
  int saved = errno;
  close (fd);
  errno = saved;
  return -1;
}

static int
connect_any (const char *host, guint16 port, gint64 deadline, GError **error)
{
  struct addrinfo *list = resolve (host, port, deadline, error);
  if (list == NULL)
    return -1;
  int fd = -1, last_errno = 0;
  for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
    {
      fd = connect_one (ai, deadline);
      if (fd < 0)
        last_errno = errno;
      if (last_errno == ETIMEDOUT)
        break;
    }
  freeaddrinfo (list);
  if (fd >= 0)
    return fd;
  if (last_errno == ETIMEDOUT)
    net_error (error, "No answer from %s port %u: the connection timed out.", host, (unsigned) port);
  else if (last_errno == ECONNREFUSED)
    net_error (error, "%s refused the connection on port %u: nothing listens there.", host,
               (unsigned) port);
  else
    net_error (error, "Could not connect to %s port %u: %s.", host, (unsigned) port,
               g_strerror (last_errno));
  return -1;
}

/* `alpn` (may be NULL) is offered as the only protocol. */
static SSL_CTX *
client_ctx_new (const char *alpn, GError **error)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  guint8 wire[ALPN_NAME_MAX + 1];
  gsize alpn_len = alpn != NULL ? strlen (alpn) : 0;
  if (alpn_len > ALPN_NAME_MAX)
    alpn_len = 0;
  wire[0] = (guint8) alpn_len;
  memcpy (wire + 1, alpn != NULL ? alpn : "", alpn_len);
  /* No path validation here: every caller judges the server's
   * certificates itself (the ceremony pins the SPKI from the QR code
   * before anything is sent, which is stronger than any CA). */
  if (ctx == NULL || SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION) != 1
      || SSL_CTX_set_max_proto_version (ctx, TLS1_3_VERSION) != 1
      || (alpn_len > 0 && SSL_CTX_set_alpn_protos (ctx, wire, (unsigned) alpn_len + 1) != 0))
    {
      SSL_CTX_free (ctx);
      net_error (error, "OpenSSL could not create a TLS 1.3 client context (%s).", openssl_reason ());
      return NULL;
    }
  SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
  return ctx;
}

int
settle_tls_connect_tcp (const char *host, guint16 port, guint timeout_ms, GError **error)
{
  g_return_val_if_fail (host != NULL, -1);
  guint timeout = timeout_ms > 0 ? timeout_ms : SETTLE_TLS_DEFAULT_TIMEOUT_MS;
  return connect_any (host, port, deadline_after (timeout), error);
}

SettleTlsConn *
settle_tls_client_handshake (int fd, const char *host, const char *server_name, const char *alpn,
                             guint timeout_ms, GError **error)
{
  g_return_val_if_fail (fd >= 0 && host != NULL, NULL);
  g_autoptr (SettleTlsConn) conn = conn_new (fd, timeout_ms);
  SSL_CTX *ctx = client_ctx_new (alpn, error);
  if (ctx == NULL)
    return NULL;
  conn->ssl = SSL_new (ctx);
  SSL_CTX_free (ctx);  /* the SSL holds its own reference */
  if (conn->ssl == NULL || SSL_set_fd (conn->ssl, fd) != 1)
    {
      net_error (error, "OpenSSL could not set up the TLS connection (%s).", openssl_reason ());
      return NULL;
    }
  /* SNI carries host names only (RFC 6066 section 3). */
  if (server_name != NULL && *server_name != '\0' && !g_hostname_is_ip_address (server_name)
      && SSL_set_tlsext_host_name (conn->ssl, server_name) != 1)
    {
      net_error (error, "OpenSSL refused the server name '%s' for SNI.", server_name);
      return NULL;
    }
  SSL_set_connect_state (conn->ssl);
  if (!handshake (conn, host, error))
    return NULL;
  return g_steal_pointer (&conn);
}

SettleTlsConn *
settle_tls_connect_offering (const char *host, guint16 port, const char *server_name, const char *alpn,
                             guint timeout_ms, GError **error)
{
  int fd = settle_tls_connect_tcp (host, port, timeout_ms, error);
  if (fd < 0)
    return NULL;
  return settle_tls_client_handshake (fd, host, server_name, alpn, timeout_ms, error);
}

/* ---- accessors ---- */

const char *
settle_tls_alpn_peek (SettleTlsConn *conn)
{
  return conn->alpn[0] != '\0' ? conn->alpn : NULL;
}

X509 *
settle_tls_peer_leaf_peek (SettleTlsConn *conn)
{
  return SSL_get0_peer_certificate (conn->ssl);
}

STACK_OF (X509) *
settle_tls_peer_chain_peek (SettleTlsConn *conn)
{
  return SSL_get_peer_cert_chain (conn->ssl);
}

GBytes *
settle_tls_peer_spki (SettleTlsConn *conn)
{
  X509 *leaf = settle_tls_peer_leaf_peek (conn);
  if (leaf == NULL)
    return NULL;
  unsigned char *der = NULL;
  int len = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (leaf), &der);
  if (len <= 0)
    return NULL;
  GBytes *spki = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return spki;
}

SSL *
settle_tls_ssl_peek (SettleTlsConn *conn)
{
  return conn->ssl;
}

const char *
settle_tls_peer_address_peek (SettleTlsConn *conn)
{
  return conn->peer_address;
}

gboolean
settle_tls_timed_out (SettleTlsConn *conn)
{
  return conn->timed_out;
}

void
settle_tls_set_timeout (SettleTlsConn *conn, guint timeout_ms)
{
  conn->timeout_ms = timeout_ms > 0 ? timeout_ms : SETTLE_TLS_DEFAULT_TIMEOUT_MS;
}

gboolean
settle_tls_export (SettleTlsConn *conn, const char *label, guint8 *out, gsize out_len, GError **error)
{
  if (SSL_version (conn->ssl) != TLS1_3_VERSION
      || SSL_export_keying_material (conn->ssl, out, out_len, label, strlen (label), NULL, 0, 1) != 1)
    return net_error (error, "Could not derive the TLS exporter value that binds the pairing to this connection.");
  return TRUE;
}

/* ---- raw I/O ---- */

static gboolean
io_failure (SettleTlsConn *conn, StepResult r, const char *what, GError **error)
{
  switch (r)
    {
    case STEP_TIMEOUT:
      conn->timed_out = TRUE;
      return net_error (error, "The peer at %s did not %s within %u ms.", conn->peer_address, what,
                        conn->timeout_ms);
    case STEP_CLOSED:
      return net_error (error, "The peer at %s closed the connection.", conn->peer_address);
    case STEP_OK:
    case STEP_FAILED:
    default:
      return net_error (error, "The connection to %s failed (%s).", conn->peer_address,
                        openssl_reason ());
    }
}

gssize
settle_tls_read (SettleTlsConn *conn, guint8 *buf, gsize len, GError **error)
{
  size_t done = 0;
  StepResult r = run_until (conn, op_read, buf, len, &done, deadline_after (conn->timeout_ms));
  if (r == STEP_OK)
    return (gssize) done;
  if (r == STEP_CLOSED)
    return 0;
  io_failure (conn, r, "send anything", error);
  return -1;
}

gboolean
settle_tls_read_exact (SettleTlsConn *conn, guint8 *buf, gsize len, gint64 deadline,
                       gboolean at_message_start, GError **error)
{
  gsize got = 0;
  while (got < len)
    {
      size_t done = 0;
      StepResult r = run_until (conn, op_read, buf + got, len - got, &done, deadline);
      if (r == STEP_CLOSED)
        {
          gboolean between_messages = got == 0 && at_message_start;
          g_set_error (error, SETTLE_ERROR, between_messages ? SETTLE_ERROR_NETWORK : SETTLE_ERROR_FORMAT,
                       between_messages
                         ? "The peer at %s closed the connection before its next message."
                         : "The message from %s is truncated: the connection closed inside it.",
                       conn->peer_address);
          ERR_clear_error ();
          return FALSE;
        }
      if (r != STEP_OK)
        return io_failure (conn, r, "send its next message", error);
      got += done;
    }
  return TRUE;
}

gboolean
settle_tls_write_until (SettleTlsConn *conn, const guint8 *buf, gsize len, gint64 deadline,
                        GError **error)
{
  gsize sent = 0;
  while (sent < len)
    {
      size_t done = 0;
      StepResult r = run_until (conn, op_write, (void *) (buf + sent), len - sent, &done, deadline);
      if (r != STEP_OK)
        return io_failure (conn, r, "accept our data", error);
      sent += done;
    }
  return TRUE;
}

gboolean
settle_tls_write_all (SettleTlsConn *conn, const guint8 *buf, gsize len, GError **error)
{
  return settle_tls_write_until (conn, buf, len, deadline_after (conn->timeout_ms), error);
}
