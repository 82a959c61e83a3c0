/* device-http.c: the device's own small HTTPS site on the ceremony port
 * (connections that did not ask for ALPN settle/1).
 *
 *   GET /                              a page naming the device
 *   GET /.well-known/settle/whoami     200 {"role": ..} for a client
 *                                      certificate the device issued and
 *                                      still has on record; 401 without a
 *                                      certificate, 403 for any other
 *   POST /.well-known/settle/renew     body: a PKCS#10 request (PEM or
 *                                      DER) for a fresh key, from a client
 *                                      whose certificate whoami accepts;
 *                                      200 with the new certificate (DER,
 *                                      same role), which replaces the old
 *                                      one in the enrolments.  401 without
 *                                      a certificate, 403 for any other,
 *                                      400 for a refused request.
 *
 * Every other path is 404, another method 405 (HEAD goes with GET), a
 * request body over CSR_MAX 413 (checked against Content-Length before
 * the body is read, and chunk by chunk for a chunked body), a request
 * target over URL_MAX 414, a request that does not parse 400.  Several
 * requests may share one connection (keep-alive); HTTP/1.0 works.
 *
 * HTTP is libsoup3's SoupServer: maintained (GNOME), HTTP/1.1 with
 * keep-alive, chunked bodies and 100-continue, and it serves any
 * GIOStream, so the TLS stays OpenSSL's (device-serve.c), which the
 * ceremony needs on the same port: ALPN decides between the two after one
 * handshake, and SPAKE2 is bound to the TLS exporter.  (libmicrohttpd
 * would own the TLS itself, with GnuTLS; libhttp-parser, used before, is
 * archived upstream.)  libsoup before 3.5.2 (Debian 12 has 3.2.3) leaks
 * on a Transfer-Encoding or Content-Length it does not recognise; the
 * pump keeps such requests from it (HeadGuard below).
 *
 * One connection: after the handshake a pump copies bytes between the
 * SSL and one end of a socketpair (bounded buffers, an idle timeout and a
 * lifetime); the other end is handed to a SoupServer of this connection
 * alone, whose handlers find the client certificate in the connection's
 * HttpConn.  The connection thread runs the connection's own main
 * context until the pump ends: the client closed, the server closed
 * (after HTTP/1.0, Connection: close, a refusal), a timeout, or the
 * device stopping (device-serve.c shuts the socket down). */
#include "device.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "settle-cert.h"
#include "settle-error.h"

/* A P-256 request is about 400 bytes; RSA-4096 in PEM stays under 2 KiB. */
#define CSR_MAX (16 * 1024)
#define URL_MAX 2048
/* Bytes the pump holds each way; a full buffer stops reading that side. */
#define PUMP_BUF (16 * 1024)
/* A connection with no byte moving for this long is closed, and any
 * connection after its lifetime, so that a trickling client cannot keep a
 * slot of device-limits.c for ever. */
#define HTTP_IDLE_MS 10000
#define HTTP_LIFETIME_MS 60000
/* After the last response, what the client still sends is read (and
 * dropped) this long, so that the kernel does not answer unread bytes with
 * a reset that can destroy the response before the client read it. */
#define HTTP_LINGER_MS 2000
#define WHOAMI_PATH "/.well-known/settle/whoami"
#define RENEW_PATH "/.well-known/settle/renew"
#define SETTLE_PREFIX "/.well-known/settle/"
#define BINDINGS_PATH "/.well-known/settle/bindings"
#define CLIENTS_PREFIX "/.well-known/settle/clients/"
#define ORIGINS_PATH "/.well-known/settle/origins"
#define PEM_MARKER "-----BEGIN"

/* One renewal at a time: from the enrolment check until the new
 * certificate went out (or did not) and the old one was retired, a
 * second renewal with the same certificate must wait, so that one
 * certificate is renewed into exactly one.  Taken in the handler and
 * released when the response was written (Renewal below), in the same
 * thread. */
static GMutex renew_lock;

typedef struct {
  const SettleDeviceHttpContext *ctx;
  X509 *peer;                  /* borrowed from the TLS connection, or NULL */
  const char *peer_address;    /* borrowed */
  GSocketConnection *stream;   /* owned: soup's end of the socketpair */
  guint busy;                  /* requests begun and not yet over */
  gboolean done;               /* the pump has ended */
} HttpConn;

/* ---- libsoup < 3.5.2: framing headers it would leak on ---- */

/* libsoup before 3.5.2 leaks the request target of a request whose
 * Transfer-Encoding or Content-Length it does not recognise
 * (parse_headers() in soup-server-message-io-http1.c returns 501 or 400
 * without freeing it; fixed by upstream commit 450d43c4): up to its 64 KiB
 * header limit for every such request, as many as clients care to send.
 * The pump refuses such header lines before they reach the server, by
 * libsoup's own rules (soup-headers.c, soup-message-headers.c): '\n' ends
 * a line, NUL bytes are dropped, the name runs to ':' without blanks, case
 * does not matter, a line starting with a blank continues the previous
 * one; Transfer-Encoding must be chunked or identity, Content-Length
 * digits.  The pump sees bytes, not where requests begin, so it looks at
 * every line and counts framing headers since the last empty line: a body
 * line that looks like a bad framing header costs its connection, which
 * no PKCS#10 request (base64 or DER) does in practice. */
#define SOUP_LEAKS_ON_BAD_FRAMING (!SOUP_CHECK_VERSION (3, 5, 2))
#define GUARD_LINE 48

typedef struct {
  char line[GUARD_LINE];       /* the start of the current line, lowercased */
  gsize len;                   /* its length so far (may exceed what is kept) */
  guint framing_lines;         /* Transfer-Encoding and Content-Length since the last empty line */
  gboolean after_framing;      /* the previous line was one of them */
} HeadGuard;

/* `line` is NAME ':' (libsoup: no blanks in a name); *value the rest
 * without leading blanks. */
static gboolean
header_named (const char *line, const char *name, const char **value)
{
  gsize n = strlen (name);
  if (strncmp (line, name, n) != 0 || line[n] != ':')
    return FALSE;
  const char *v = line + n + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  *value = v;
  return TRUE;
}

/* `value` is `word` (or, for word NULL, digits only), trailing blanks aside. */
static gboolean
value_is (const char *value, const char *word)
{
  const char *rest = value;
  if (word == NULL)
    while (g_ascii_isdigit (*rest))
      rest++;
  else if (strncmp (value, word, strlen (word)) == 0)
    rest = value + strlen (word);
  else
    return FALSE;
  while (*rest == ' ' || *rest == '\t' || *rest == '\r')
    rest++;
  return *rest == '\0';
}

/* One whole line; FALSE for framing that libsoup would not recognise. */
static gboolean
guard_line (HeadGuard *g)
{
  gboolean whole = g->len < GUARD_LINE;
  g->line[MIN (g->len, GUARD_LINE - 1)] = '\0';
  if (g->len == 0 || (g->len == 1 && g->line[0] == '\r'))
    {
      g->framing_lines = 0;
      g->after_framing = FALSE;
      return TRUE;
    }
  if (g->line[0] == ' ' || g->line[0] == '\t')
    return !g->after_framing;
  const char *value = NULL;
  gboolean te = header_named (g->line, "transfer-encoding", &value);
  gboolean cl = !te && header_named (g->line, "content-length", &value);
  g->after_framing = te || cl;
  if (!g->after_framing)
    return TRUE;
  /* libsoup joins repeated headers ("chunked, chunked"). */
  if (++g->framing_lines > 1 || !whole)
    return FALSE;
  return te ? value_is (value, "chunked") || value_is (value, "identity") : value_is (value, NULL);
}

/* The client's next bytes: how many of them may go to the server, all
 * of them or those before the '\n' that ends a refused line (without it,
 * that line never completes a header block that libsoup would parse). */
static gsize
guard_feed (HeadGuard *g, const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];
      if (c == '\0')
        continue;
      if (c == '\n')
        {
          if (!guard_line (g))
            return i;
          g->len = 0;
          continue;
        }
      if (g->len < GUARD_LINE - 1)
        g->line[g->len] = g_ascii_tolower ((char) c);
      g->len++;
    }
  return len;
}

/* ---- the pump: SSL <-> socketpair ---- */

typedef struct {
  GSource source;
  SSL *ssl;                    /* borrowed */
  int net_fd;                  /* borrowed: the TCP socket under ssl */
  int app_fd;                  /* owned: the pump's end of the socketpair */
  const guint *app_busy;       /* borrowed: requests the server is working on */
  const char *peer_address;    /* borrowed */
  gpointer net_tag, app_tag;
  guint8 to_app[PUMP_BUF];
  gsize to_app_off, to_app_len;
  guint8 to_net[PUMP_BUF];
  gsize to_net_off, to_net_len;
  gboolean net_eof;            /* the client sends no more (close_notify) */
  gboolean net_broken;         /* the connection failed or was reset: the end */
  gboolean app_eof;            /* the server closed its end */
  gboolean app_gone;           /* the server reads no more: drop the client's bytes */
  gboolean app_shut;           /* the server was told that the client is done */
  gboolean closing;            /* close_notify sent, lingering */
  gboolean refused;            /* the client sent framing libsoup would leak on (logged once) */
  HeadGuard guard;
  gint64 idle_deadline, end_deadline, linger_deadline;
} Pump;

/* Polls `fd` for `want` only; an fd that is not polled at all cannot
 * wake the pump with a hang-up it has no use for yet (the socketpair end
 * while the pump's buffer for it is full).  The network side is always
 * watched for a hang-up. */
static void
pump_watch (Pump *p, int fd, gpointer *tag, GIOCondition want)
{
  if (want == 0)
    {
      if (*tag != NULL)
        g_source_remove_unix_fd (&p->source, *tag);
      *tag = NULL;
    }
  else if (*tag == NULL)
    *tag = g_source_add_unix_fd (&p->source, fd, want);
  else
    g_source_modify_unix_fd (&p->source, *tag, want);
}

/* What a failed SSL_read or SSL_write waits for; 0 when it failed for
 * good (*error says how). */
static GIOCondition
ssl_wants (SSL *ssl, int rc, int *error)
{
  *error = SSL_get_error (ssl, rc);
  ERR_clear_error ();
  if (*error == SSL_ERROR_WANT_READ)
    return G_IO_IN;
  if (*error == SSL_ERROR_WANT_WRITE)
    return G_IO_OUT;
  return 0;
}



/* Moves what can move without waiting; TRUE when something moved. */
static gboolean
pump_move (Pump *p, GIOCondition *net_want, GIOCondition *app_want)
{
  gboolean progress = FALSE;
  *net_want = 0;
  *app_want = 0;
  /* client -> server */
  if (!p->net_eof && p->to_app_len == 0)
    {
      int n = SSL_read (p->ssl, p->to_app, sizeof p->to_app);
      if (n > 0)
        {
          progress = TRUE;
          gsize pass = (gsize) n;
          if (SOUP_LEAKS_ON_BAD_FRAMING && !p->app_gone)
            pass = guard_feed (&p->guard, p->to_app, (gsize) n);
          if (!p->app_gone)
            {
              p->to_app_off = 0;
              p->to_app_len = pass;
            }
          if (pass < (gsize) n)
            {
              /* The server gets what came before and then the end of
               * its input: it answers what it can, the unfinished
               * request with 400, and closes. */
              p->refused = TRUE;
              p->app_gone = TRUE;
              g_printerr ("settle-device: HTTPS request from %s: a Transfer-Encoding or Content-Length that "
                          "libsoup %u.%u.%u would not recognise (400)\n",
                          p->peer_address, soup_get_major_version (), soup_get_minor_version (),
                          soup_get_micro_version ());
            }
        }
      else
        {
          int error = 0;
          GIOCondition want = ssl_wants (p->ssl, n, &error);
          *net_want |= want;
          /* close_notify: the client may still read the answer to what
           * it sent.  A FIN without it, a reset or a TLS failure (also
           * device-serve.c shutting the socket down) ends everything. */
          if (want == 0)
            {
              p->net_eof = TRUE;
              p->net_broken = p->net_broken || error != SSL_ERROR_ZERO_RETURN;
              progress = TRUE;
            }
        }
    }
  if (p->to_app_len > 0)
    {
      ssize_t n = send (p->app_fd, p->to_app + p->to_app_off, p->to_app_len - p->to_app_off,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        {
          progress = TRUE;
          p->to_app_off += (gsize) n;
          if (p->to_app_off == p->to_app_len)
            p->to_app_off = p->to_app_len = 0;
        }
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        *app_want |= G_IO_OUT;
      else
        {
          p->app_gone = TRUE;
          p->to_app_off = p->to_app_len = 0;
          progress = TRUE;
        }
    }
  if ((p->net_eof || p->refused) && p->to_app_len == 0 && !p->app_shut)
    {
      shutdown (p->app_fd, SHUT_WR);
      p->app_shut = TRUE;
      progress = TRUE;
    }
  /* server -> client */
  if (!p->app_eof && p->to_net_len == 0)
    {
      ssize_t n = recv (p->app_fd, p->to_net, sizeof p->to_net, MSG_DONTWAIT);
      if (n > 0)
        {
          p->to_net_off = 0;
          p->to_net_len = (gsize) n;
          progress = TRUE;
        }
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        *app_want |= G_IO_IN;
      else
        {
          p->app_eof = TRUE;
          progress = TRUE;
        }
    }
  if (p->to_net_len > 0 && p->net_broken)
    {
      p->to_net_off = p->to_net_len = 0;
      progress = TRUE;
    }
  else if (p->to_net_len > 0)
    {
      /* After WANT_*, the same arguments again, as OpenSSL requires. */
      int n = SSL_write (p->ssl, p->to_net + p->to_net_off, (int) (p->to_net_len - p->to_net_off));
      if (n > 0)
        {
          progress = TRUE;
          p->to_net_off += (gsize) n;
          if (p->to_net_off == p->to_net_len)
            p->to_net_off = p->to_net_len = 0;
        }
      else
        {
          int error = 0;
          GIOCondition want = ssl_wants (p->ssl, n, &error);
          *net_want |= want;
          if (want == 0)
            {
              p->net_broken = TRUE;
              progress = TRUE;
            }
        }
    }
  /* The server is done and everything it said is out: close_notify and
   * FIN, then linger. */
  if (p->app_eof && p->to_net_len == 0 && !p->closing)
    {
      p->closing = TRUE;
      p->app_gone = TRUE;
      p->to_app_off = p->to_app_len = 0;
      if (!p->net_broken)
        {
          SSL_shutdown (p->ssl);
          ERR_clear_error ();
        }
      shutdown (p->net_fd, SHUT_WR);
      p->linger_deadline = g_get_monotonic_time () + (gint64) HTTP_LINGER_MS * 1000;
      progress = TRUE;
    }
  return progress;
}

static gboolean
pump_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  Pump *p = (Pump *) source;
  GIOCondition net_want = 0, app_want = 0;
  gboolean moved = FALSE;
  /* A reset, or both directions shut (device-serve.c stopping, or the
   * client's FIN after ours): nothing more reaches the client. */
  if (p->net_tag != NULL && (g_source_query_unix_fd (source, p->net_tag) & (G_IO_HUP | G_IO_ERR)) != 0)
    p->net_broken = TRUE;
  while (pump_move (p, &net_want, &app_want))
    moved = TRUE;
  gint64 now = g_get_monotonic_time ();
  if (moved)
    p->idle_deadline = now + (gint64) HTTP_IDLE_MS * 1000;
  /* After the client's close_notify, the server has the last word on a
   * request it began; with none begun, there is nothing left to say. */
  gboolean finished = p->net_broken || (p->closing && p->net_eof)
                      || (p->net_eof && p->to_app_len == 0 && *p->app_busy == 0) || now >= p->end_deadline
                      || now >= p->idle_deadline || (p->closing && now >= p->linger_deadline);
  if (finished)
    {
      if (callback != NULL)
        callback (user_data);
      return G_SOURCE_REMOVE;
    }
  pump_watch (p, p->net_fd, &p->net_tag, net_want | G_IO_HUP | G_IO_ERR);
  pump_watch (p, p->app_fd, &p->app_tag, app_want);
  gint64 wake = MIN (p->idle_deadline, p->end_deadline);
  if (p->closing)
    wake = MIN (wake, p->linger_deadline);
  g_source_set_ready_time (source, wake);
  return G_SOURCE_CONTINUE;
}

static void
pump_finalize (GSource *source)
{
  Pump *p = (Pump *) source;
  if (p->app_fd >= 0)
    close (p->app_fd);
}

static GSourceFuncs pump_funcs = {
  .dispatch = pump_dispatch,
  .finalize = pump_finalize,
};

/* Owns `app_fd`.  The first dispatch comes at once: the handshake may
 * have left request bytes inside the SSL, where no poll sees them. */
static GSource *
pump_new (SSL *ssl, int net_fd, int app_fd, const guint *app_busy, const char *peer_address)
{
  GSource *source = g_source_new (&pump_funcs, sizeof (Pump));
  Pump *p = (Pump *) source;
  p->ssl = ssl;
  p->net_fd = net_fd;
  p->app_fd = app_fd;
  p->app_busy = app_busy;
  p->peer_address = peer_address;
  gint64 now = g_get_monotonic_time ();
  p->idle_deadline = now + (gint64) HTTP_IDLE_MS * 1000;
  p->end_deadline = now + (gint64) HTTP_LIFETIME_MS * 1000;
  g_source_set_name (source, "settle-device HTTP pump");
  g_source_set_ready_time (source, 0);
  return source;
}

static gboolean
pump_ended (gpointer user_data)
{
  ((HttpConn *) user_data)->done = TRUE;
  return G_SOURCE_REMOVE;
}

/* ---- responses ---- */

static void
respond_bytes (SoupServerMessage *msg, guint status, const char *type, const guint8 *body, gsize body_len)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY, (const char *) body, body_len);
  soup_server_message_set_status (msg, status, NULL);
}

static void
respond (SoupServerMessage *msg, guint status, const char *type, const char *body)
{
  respond_bytes (msg, status, type, (const guint8 *) body, strlen (body));
}

static char *
json_body (const char *const *pairs)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  for (gsize i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2)
    {
      json_builder_set_member_name (b, pairs[i]);
      json_builder_add_string_value (b, pairs[i + 1]);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  char *text = json_to_string (root, FALSE);
  char *line = g_strconcat (text, "\n", NULL);
  g_free (text);
  return line;
}

static void
respond_json (SoupServerMessage *msg, guint status, const char *const *pairs)
{
  g_autofree char *body = json_body (pairs);
  respond (msg, status, "application/json", body);
}

static void
respond_error (SoupServerMessage *msg, guint status, const char *message)
{
  const char *pairs[] = { "error", message, NULL };
  respond_json (msg, status, pairs);
}

static void
method_not_allowed (SoupServerMessage *msg, const char *allow, const char *message)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  respond (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", message);
}

static void
serve_page (SoupServerMessage *msg, const SettleDeviceHttpContext *ctx)
{
  g_autofree char *name = g_markup_escape_text (ctx->name, -1);
  g_autofree char *body = g_strdup_printf (
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
    "<body><h1>%s</h1>\n<p>This is the settle reference device <strong>%s</strong>.</p>\n"
    "<p>Pair with it by scanning its QR code: <code>settle pair --qr FILE</code>.</p>\n"
    "<p>Paired clients can ask <a href=\"" WHOAMI_PATH "\">" WHOAMI_PATH "</a> for their role.</p>\n"
    "</body></html>\n",
    name, name, name);
  respond (msg, SOUP_STATUS_OK, "text/html; charset=utf-8", body);
}

/* The one rule (device-access.c) for this request; on a refusal the
 * answer is written and FALSE returned.  Clear `access` either way. */
static gboolean
allowed (SoupServerMessage *msg, const HttpConn *hc, SettleDeviceAction action, SettleDeviceAccess *access)
{
  const char *origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
  if (settle_device_access_decide (hc->ctx, hc->peer, origin, action, access))
    return TRUE;
  g_printerr ("settle-device: refused %s %s from %s%s%s: %u %s\n", soup_server_message_get_method (msg),
              g_uri_get_path (soup_server_message_get_uri (msg)), hc->peer_address, origin != NULL ? " for the origin " : "",
              origin != NULL ? origin : "", access->status, access->reason);
  respond_error (msg, access->status, access->reason);
  return FALSE;
}

static void
serve_whoami (SoupServerMessage *msg, const HttpConn *hc)
{
  g_auto (SettleDeviceAccess) access = { 0 };
  if (!allowed (msg, hc, SETTLE_DEVICE_ACT_WHOAMI, &access))
    return;
  g_autofree char *serial = settle_device_serial_hex (hc->peer);
  const char *pairs[] = { "device", hc->ctx->name, "role", access.role, "serial", serial,
                          "fingerprint", access.fingerprint, NULL };
  respond_json (msg, SOUP_STATUS_OK, pairs);
}

/* ---- the binding audit and admin changes ---- */

static void
serve_bindings (SoupServerMessage *msg, const HttpConn *hc)
{
  g_auto (SettleDeviceAccess) access = { 0 };
  if (!allowed (msg, hc, SETTLE_DEVICE_ACT_AUDIT, &access))
    return;
  g_autofree char *body = settle_device_bindings_json (hc->ctx, access.fingerprint);
  respond (msg, SOUP_STATUS_OK, "application/json", body);
}

/* The request body as JSON (owned root), or NULL with the answer
 * written: 415 for another Content-Type, 400 for what does not parse.
 * An empty body is NULL and fine when `empty_ok`; *empty says so. */
static JsonNode *
json_request (SoupServerMessage *msg, gboolean empty_ok, gboolean *empty)
{
  g_autoptr (GBytes) flat = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  gsize len = g_bytes_get_size (flat);
  *empty = len == 0;
  if (*empty)
    {
      if (!empty_ok)
        respond_error (msg, SOUP_STATUS_BAD_REQUEST, "The body must be a JSON object.");
      return NULL;
    }
  const char *type = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL);
  if (g_strcmp0 (type, "application/json") != 0)
    {
      respond_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "The body must be sent as application/json.");
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (memchr (g_bytes_get_data (flat, NULL), '\0', len) != NULL
      || !g_utf8_validate (g_bytes_get_data (flat, NULL), (gssize) len, NULL)
      || !json_parser_load_from_data (parser, g_bytes_get_data (flat, NULL), (gssize) len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "The body is not a JSON object.");
      return NULL;
    }
  return json_parser_steal_root (parser);
}

/* A client key fingerprint in a path: 64 hex digits (owned, lowercase). */
static char *
fingerprint_from_path (const char *text, gsize len)
{
  if (len != 64)
    return NULL;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (text[i]))
      return NULL;
  return g_ascii_strdown (text, (gssize) len);
}

static void
respond_change (SoupServerMessage *msg, SettleDeviceChange change, const GError *failure,
                const char *fingerprint, const char *role)
{
  switch (change)
    {
    case SETTLE_DEVICE_CHANGE_DONE:
      {
        const char *pairs[] = { "fingerprint", fingerprint, role != NULL ? "role" : "revoked",
                                role != NULL ? role : "true", NULL };
        respond_json (msg, SOUP_STATUS_OK, pairs);
        break;
      }
    case SETTLE_DEVICE_CHANGE_UNKNOWN:
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "No client with this key fingerprint is enrolled.");
      break;
    case SETTLE_DEVICE_CHANGE_LAST_ADMIN:
      respond_error (msg, SOUP_STATUS_CONFLICT,
                     "This is the device's last admin: make another client admin first, or the device "
                     "could only be administered again after a factory reset.");
      break;
    case SETTLE_DEVICE_CHANGE_FAILED:
    default:
      g_printerr ("settle-device: %s\n", failure != NULL ? failure->message : "cannot save the enrolments");
      respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "The device could not save the change; nothing changed.");
      break;
    }
}

/* POST /.well-known/settle/clients/<fingerprint>/(revoke|role) */
static void
serve_client_change (SoupServerMessage *msg, const HttpConn *hc, const char *rest)
{
  g_auto (SettleDeviceAccess) access = { 0 };
  if (!allowed (msg, hc, SETTLE_DEVICE_ACT_ADMINISTER, &access))
    return;
  const char *slash = strchr (rest, '/');
  g_autofree char *fingerprint = slash != NULL ? fingerprint_from_path (rest, (gsize) (slash - rest)) : NULL;
  gboolean revoke = slash != NULL && strcmp (slash, "/revoke") == 0;
  gboolean role = slash != NULL && strcmp (slash, "/role") == 0;
  if (!revoke && !role)
    {
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "Expected clients/<fingerprint>/revoke or clients/<fingerprint>/role.");
      return;
    }
  if (fingerprint == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST,
                     "A client is named by the SHA-256 of its key (SubjectPublicKeyInfo): 64 hex digits.");
      return;
    }
  gboolean empty = FALSE;
  g_autoptr (JsonNode) body = json_request (msg, revoke, &empty);
  if (body == NULL && !(revoke && empty))
    return;
  JsonObject *obj = body != NULL ? json_node_get_object (body) : NULL;
  const char *new_role = NULL;
  if (revoke && obj != NULL && json_object_get_size (obj) != 0)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "A revocation takes no body, or {}.");
      return;
    }
  if (role)
    {
      JsonNode *member = json_object_get_member (obj, "role");
      new_role = member != NULL && JSON_NODE_HOLDS_VALUE (member) && json_node_get_value_type (member) == G_TYPE_STRING
                   ? json_node_get_string (member)
                   : NULL;
      if (json_object_get_size (obj) != 1 || settle_device_role_rank (new_role) < 0)
        {
          respond_error (msg, SOUP_STATUS_BAD_REQUEST, "Expected {\"role\": \"admin\" | \"user\" | \"guest\"}.");
          return;
        }
    }
  g_autoptr (GError) failure = NULL;
  SettleDeviceChange change = settle_device_enrolments_change (hc->ctx->enrolments, fingerprint, new_role,
                                                               access.fingerprint, &failure);
  if (change == SETTLE_DEVICE_CHANGE_DONE)
    g_printerr ("settle-device: the admin %.16s… %s the client %.16s…%s%s\n", access.fingerprint,
                revoke ? "revoked" : "set the role of", fingerprint, revoke ? "" : " to ", revoke ? "" : new_role);
  respond_change (msg, change, failure, fingerprint, new_role);
}

/* PUT /.well-known/settle/origins {"origins": [...]} */
static void
serve_origins (SoupServerMessage *msg, const HttpConn *hc)
{
  g_auto (SettleDeviceAccess) access = { 0 };
  if (!allowed (msg, hc, SETTLE_DEVICE_ACT_ADMINISTER, &access))
    return;
  gboolean empty = FALSE;
  g_autoptr (JsonNode) body = json_request (msg, FALSE, &empty);
  if (body == NULL)
    return;
  g_auto (GStrv) origins = NULL;
  g_autoptr (GError) bad = NULL;
  if (!settle_device_origins_parse (body, &origins, &bad))
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, bad->message);
      return;
    }
  g_autoptr (GError) failure = NULL;
  if (!settle_device_origins_replace (hc->ctx->origins, (const char *const *) origins, &failure))
    {
      respond_change (msg, SETTLE_DEVICE_CHANGE_FAILED, failure, NULL, NULL);
      return;
    }
  g_printerr ("settle-device: the admin %.16s… allowed %u web origin(s)\n", access.fingerprint,
              g_strv_length (origins));
  g_autofree char *text = settle_device_bindings_json (hc->ctx, access.fingerprint);
  respond (msg, SOUP_STATUS_OK, "application/json", text);
}

/* ---- CORS and local-network preflights ---- */

/* OPTIONS with an allowed Origin: what a browser asks before a
 * cross-origin request with credentials, and (Private Network Access, and
 * Local Network Access in its preflight form) before a public page
 * reaches a device on the local network.  Any other origin gets no
 * permission at all: a 403 without Access-Control-* headers. */
static void
serve_preflight (SoupServerMessage *msg, const HttpConn *hc)
{
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  const char *origin = soup_message_headers_get_one (in, "Origin");
  const char *pna = soup_message_headers_get_one (in, "Access-Control-Request-Private-Network");
  const char *lna = soup_message_headers_get_one (in, "Access-Control-Request-Local-Network");
  soup_message_headers_replace (out, "Vary", "Origin");
  g_printerr ("settle-device: preflight from %s for origin %s%s%s\n", hc->peer_address, origin != NULL ? origin : "(none)",
              pna != NULL ? " (private network)" : "", lna != NULL ? " (local network)" : "");
  if (origin == NULL || !settle_device_origins_allowed (hc->ctx->origins, origin))
    {
      respond_error (msg, SOUP_STATUS_FORBIDDEN,
                     "This web origin is not allowed to reach the device; an admin of the device can allow it.");
      return;
    }
  soup_message_headers_replace (out, "Access-Control-Allow-Origin", origin);
  soup_message_headers_replace (out, "Access-Control-Allow-Credentials", "true");
  soup_message_headers_replace (out, "Access-Control-Allow-Methods", "GET, POST, PUT");
  soup_message_headers_replace (out, "Access-Control-Allow-Headers", "Content-Type");
  soup_message_headers_replace (out, "Access-Control-Max-Age", "600");
  if (g_strcmp0 (pna, "true") == 0)
    soup_message_headers_replace (out, "Access-Control-Allow-Private-Network", "true");
  if (g_strcmp0 (lna, "true") == 0)
    soup_message_headers_replace (out, "Access-Control-Allow-Local-Network", "true");
  respond (msg, SOUP_STATUS_NO_CONTENT, "text/plain; charset=utf-8", "");
}

/* A response to an allowed origin may be read by its page. */
static void
add_cors_headers (SoupServerMessage *msg, const HttpConn *hc)
{
  const char *origin = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Origin");
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (out, "Vary", "Origin");
  if (origin != NULL && settle_device_origins_allowed (hc->ctx->origins, origin)
      && soup_message_headers_get_one (out, "Access-Control-Allow-Origin") == NULL)
    {
      soup_message_headers_replace (out, "Access-Control-Allow-Origin", origin);
      soup_message_headers_replace (out, "Access-Control-Allow-Credentials", "true");
    }
}

/* ---- renewal ---- */

/* The request body as a PKCS#10 request (owned): PEM when it starts like
 * PEM, else exactly one DER structure. */
static X509_REQ *
csr_from_body (const guint8 *data, gsize len)
{
  gsize pem_marker_len = strlen (PEM_MARKER);
  if (len >= pem_marker_len && memcmp (data, PEM_MARKER, pem_marker_len) == 0)
    {
      BIO *bio = BIO_new_mem_buf (data, (int) len);
      X509_REQ *req = bio != NULL ? PEM_read_bio_X509_REQ (bio, NULL, NULL, NULL) : NULL;
      BIO_free (bio);
      ERR_clear_error ();
      return req;
    }
  const unsigned char *p = data;
  X509_REQ *req = d2i_X509_REQ (NULL, &p, (long) len);
  if (req != NULL && p != data + len)
    g_clear_pointer (&req, X509_REQ_free);
  ERR_clear_error ();
  return req;
}

/* A renewal whose response is on its way; it holds renew_lock. */
typedef struct {
  const SettleDeviceHttpContext *ctx;
  X509 *old_cert;              /* owned reference */
  X509 *new_cert;              /* owned reference */
  char *peer_address;          /* owned */
  gboolean resolved;
} Renewal;

/* Only once the new certificate went out does the old one stop counting;
 * when it did not, the new one never counts.  Releases renew_lock. */
static void
renewal_resolve (Renewal *r, gboolean delivered)
{
  if (r->resolved)
    return;
  r->resolved = TRUE;
  g_autofree char *old_serial = settle_device_serial_hex (r->old_cert);
  g_autofree char *new_serial = settle_device_serial_hex (r->new_cert);
  if (delivered)
    {
      settle_device_enrolments_remove (r->ctx->enrolments, r->old_cert);
      g_printerr ("settle-device: renewed the client certificate %s as %s for %s\n", old_serial, new_serial,
                  r->peer_address);
    }
  else
    {
      settle_device_enrolments_remove (r->ctx->enrolments, r->new_cert);
      g_printerr ("settle-device: the renewal of %s for %s did not reach the client; %s stays, %s is void\n",
                  old_serial, r->peer_address, old_serial, new_serial);
    }
  g_mutex_unlock (&renew_lock);
}

static void
renewal_wrote_body (SoupServerMessage *msg, gpointer user_data)
{
  (void) msg;
  renewal_resolve (user_data, TRUE);
}

static void
renewal_finished (SoupServerMessage *msg, gpointer user_data)
{
  (void) msg;
  renewal_resolve (user_data, FALSE);
}

static void
renewal_free (gpointer data)
{
  Renewal *r = data;
  renewal_resolve (r, FALSE);
  X509_free (r->old_cert);
  X509_free (r->new_cert);
  g_free (r->peer_address);
  g_free (r);
}

/* Under renew_lock: the enrolment check, issuing, recording, and the
 * response.  TRUE when a Renewal now holds the lock. */
static gboolean
renew_locked (SoupServerMessage *msg, const HttpConn *hc)
{
  const SettleDeviceHttpContext *ctx = hc->ctx;
  g_auto (SettleDeviceAccess) access = { 0 };
  if (!allowed (msg, hc, SETTLE_DEVICE_ACT_RENEW, &access))
    return FALSE;
  const char *role = access.role;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) flat = soup_message_body_flatten (body);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (flat, &len);
  X509_REQ *req = csr_from_body (data != NULL ? data : (const guint8 *) "", len);
  if (req == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "The body is not a PEM or DER PKCS#10 certificate request.");
      return FALSE;
    }
  g_autoptr (GError) refused = NULL;
  X509 *cert = settle_ceremony_server_issue_client_cert (ctx->ceremony, req, role, &refused);
  X509_REQ_free (req);
  if (cert == NULL)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, refused->message);
      return FALSE;
    }
  g_autoptr (GError) unrecorded = NULL;
  if (!settle_device_enrolments_add (ctx->enrolments, cert, role, hc->peer_address, hc->peer, &unrecorded))
    {
      g_printerr ("settle-device: %s\n", unrecorded->message);
      if (g_error_matches (unrecorded, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND))
        respond_error (msg, SOUP_STATUS_FORBIDDEN, "This certificate was revoked while it was being renewed.");
      else
        respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "The device could not record the renewed certificate.");
      X509_free (cert);
      return FALSE;
    }
  g_autoptr (GBytes) der = settle_cert_to_der (cert);
  gsize der_len = 0;
  const guint8 *der_data = g_bytes_get_data (der, &der_len);
  respond_bytes (msg, SOUP_STATUS_OK, "application/pkix-cert", der_data, der_len);
  Renewal *r = g_new0 (Renewal, 1);
  r->ctx = ctx;
  X509_up_ref (hc->peer);
  r->old_cert = hc->peer;
  r->new_cert = cert;
  r->peer_address = g_strdup (hc->peer_address);
  g_signal_connect (msg, "wrote-body", G_CALLBACK (renewal_wrote_body), r);
  g_signal_connect (msg, "finished", G_CALLBACK (renewal_finished), r);
  g_object_set_data_full (G_OBJECT (msg), "settle-renewal", r, renewal_free);
  return TRUE;
}

static void
serve_renew (SoupServerMessage *msg, const HttpConn *hc)
{
  g_mutex_lock (&renew_lock);
  if (!renew_locked (msg, hc))
    g_mutex_unlock (&renew_lock);
}

/* ---- routing ---- */

static void route_request (SoupServerMessage *msg, const char *path, const HttpConn *hc);

static void
route (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  (void) server;
  (void) query;
  const HttpConn *hc = user_data;
  route_request (msg, path, hc);
  if (g_str_has_prefix (path, SETTLE_PREFIX))
    add_cors_headers (msg, hc);
}

static void
route_request (SoupServerMessage *msg, const char *path, const HttpConn *hc)
{
  const char *method = soup_server_message_get_method (msg);
  if (method == SOUP_METHOD_OPTIONS && g_str_has_prefix (path, SETTLE_PREFIX))
    serve_preflight (msg, hc);
  else if (strcmp (path, RENEW_PATH) == 0)
    {
      if (method == SOUP_METHOD_POST)
        serve_renew (msg, hc);
      else
        method_not_allowed (msg, "POST", "Only POST is served here.\n");
    }
  else if (g_str_has_prefix (path, CLIENTS_PREFIX))
    {
      if (method == SOUP_METHOD_POST)
        serve_client_change (msg, hc, path + strlen (CLIENTS_PREFIX));
      else
        method_not_allowed (msg, "POST", "Only POST is served here.\n");
    }
  else if (strcmp (path, ORIGINS_PATH) == 0)
    {
      if (method == SOUP_METHOD_PUT)
        serve_origins (msg, hc);
      else
        method_not_allowed (msg, "PUT", "Only PUT is served here.\n");
    }
  else if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    method_not_allowed (msg, "GET, HEAD", "Only GET and HEAD are served here.\n");
  else if (strcmp (path, "/") == 0)
    serve_page (msg, hc->ctx);
  else if (strcmp (path, WHOAMI_PATH) == 0)
    serve_whoami (msg, hc);
  else if (strcmp (path, BINDINGS_PATH) == 0)
    serve_bindings (msg, hc);
  else
    respond (msg, SOUP_STATUS_NOT_FOUND, "text/plain; charset=utf-8", "Not found.\n");
}

/* ---- bounds, before the body is read ---- */

/* A body over CSR_MAX is answered at once, without reading the rest of
 * it: the connection leaves the SoupServer, gets a 413 written directly,
 * and closes (the pump lingers so that the client still reads it). */
static void
refuse_too_large (SoupServerMessage *msg, HttpConn *hc)
{
  const char *pairs[] = { "error", "The request body is larger than 16 KiB.", NULL };
  g_autofree char *body = json_body (pairs);
  g_autofree char *text = g_strdup_printf ("HTTP/1.1 413 Payload Too Large\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                           "Cache-Control: no-store\r\n"
                                           "X-Content-Type-Options: nosniff\r\n"
                                           "Connection: close\r\n"
                                           "\r\n%s",
                                           strlen (body), body);
  g_printerr ("settle-device: HTTPS request from %s: the body is larger than %d bytes (413)\n", hc->peer_address,
              CSR_MAX);
  /* msg may be gone after this. */
  GIOStream *stolen = soup_server_message_steal_connection (msg);
  GIOStream *base = G_IO_STREAM (hc->stream);
  g_output_stream_write_all (g_io_stream_get_output_stream (base), text, strlen (text), NULL, NULL, NULL);
  g_io_stream_close (base, NULL, NULL);
  if (stolen != NULL)
    {
      g_io_stream_close (stolen, NULL, NULL);
      g_object_unref (stolen);
    }
}

static void
got_headers (SoupServerMessage *msg, gpointer user_data)
{
  HttpConn *hc = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) > CSR_MAX)
    {
      refuse_too_large (msg, hc);
      return;
    }
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);
  if (soup_server_message_get_status (msg) == 0
      && strlen (g_uri_get_path (uri)) + (query != NULL ? strlen (query) + 1 : 0) > URL_MAX)
    soup_server_message_set_status (msg, SOUP_STATUS_REQUEST_URI_TOO_LONG, NULL);
}

/* A chunked body has no length up front: it is counted as it comes. */
static void
got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  (void) chunk;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  if (body->length > CSR_MAX)
    refuse_too_large (msg, user_data);
}

static void
request_over (gpointer user_data, GObject *msg)
{
  (void) msg;
  ((HttpConn *) user_data)->busy--;
}

/* From the first byte of a request until its message is gone. */
static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  (void) server;
  HttpConn *hc = user_data;
  hc->busy++;
  g_object_weak_ref (G_OBJECT (msg), request_over, hc);
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers), user_data);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk), user_data);
}

/* ---- one connection ---- */

static GSocketAddress *
socket_address (int fd, gboolean peer)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = peer ? getpeername (fd, (struct sockaddr *) &ss, &len) : getsockname (fd, (struct sockaddr *) &ss, &len);
  return rc == 0 ? g_socket_address_new_from_native (&ss, len) : NULL;
}

/* libsoup 3.2 keeps a connection open for the next request only when the
 * server has a listener (soup-server.c, request_finished); this one is a
 * socketpair end that nobody else can reach and nothing is written to. */
static gboolean
add_quiet_listener (SoupServer *server, int *quiet_peer, GError **error)
{
  int quiet[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, quiet) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot create a socket pair: %s.", g_strerror (errno));
      return FALSE;
    }
  g_autoptr (GSocket) listener = g_socket_new_from_fd (quiet[0], error);
  if (listener == NULL)
    {
      close (quiet[0]);
      close (quiet[1]);
      return FALSE;
    }
  if (!soup_server_listen_socket (server, listener, 0, error))
    {
      close (quiet[1]);
      return FALSE;
    }
  *quiet_peer = quiet[1];
  return TRUE;
}

/* Runs the connection's own main context until the pump ends. */
static gboolean
serve_in_context (HttpConn *hc, SSL *ssl, GError **error)
{
  int net_fd = SSL_get_fd (ssl);
  int pair[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot create a socket pair: %s.", g_strerror (errno));
      return FALSE;
    }
  g_autoptr (GSocket) app_socket = g_socket_new_from_fd (pair[1], error);
  if (app_socket == NULL)
    {
      close (pair[0]);
      close (pair[1]);
      return FALSE;
    }
  GSource *pump = pump_new (ssl, net_fd, pair[0], &hc->busy, hc->peer_address);
  hc->stream = g_socket_connection_factory_create_connection (app_socket);
  SoupServer *server = soup_server_new ("server-header", "settle-device", NULL);
  soup_server_add_handler (server, NULL, route, hc, NULL);
  g_signal_connect (server, "request-started", G_CALLBACK (request_started), hc);
  int quiet_peer = -1;
  g_autoptr (GSocketAddress) local = socket_address (net_fd, FALSE);
  g_autoptr (GSocketAddress) remote = socket_address (net_fd, TRUE);
  gboolean ok = add_quiet_listener (server, &quiet_peer, error)
                && soup_server_accept_iostream (server, G_IO_STREAM (hc->stream), local, remote, error);
  if (ok)
    {
      g_source_set_callback (pump, pump_ended, hc, NULL);
      GMainContext *context = g_main_context_get_thread_default ();
      g_source_attach (pump, context);
      while (!hc->done)
        g_main_context_iteration (context, TRUE);
    }
  g_source_destroy (pump);
  g_source_unref (pump);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_io_stream_close (G_IO_STREAM (hc->stream), NULL, NULL);
  g_clear_object (&hc->stream);
  if (quiet_peer >= 0)
    close (quiet_peer);
  return ok;
}

gboolean
settle_device_http_serve (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, GError **error)
{
  HttpConn hc = {
    .ctx = ctx,
    .peer = settle_tls_peer_leaf_peek (conn),
    .peer_address = settle_tls_peer_address_peek (conn),
  };
  /* A client that hangs up turns OpenSSL's next write into SIGPIPE: kept
   * pending in this thread while it serves, and dropped. */
  sigset_t pipe_set, old_set;
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old_set);
  GMainContext *context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  gboolean ok = serve_in_context (&hc, settle_tls_ssl_peek (conn), error);
  /* Whatever the teardown left (closed streams, finished messages). */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  struct timespec zero = { 0, 0 };
  while (sigtimedwait (&pipe_set, NULL, &zero) > 0)
    ;
  pthread_sigmask (SIG_SETMASK, &old_set, NULL);
  return ok;
}
