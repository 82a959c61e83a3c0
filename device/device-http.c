/* device-http.c: the device's own small HTTPS site on the ceremony port
 * (connections that did not ask for ALPN settle/1).  Requests are parsed
 * by libhttp-parser; one request per connection.
 *
 *   GET /                              a page naming the device
 *   GET /.well-known/settle/whoami     200 {"role": ..} for a client
 *                                      certificate the device issued and
 *                                      still has on record; 401 without a
 *                                      certificate, 403 for any other */
#include "device.h"

#include <string.h>

#include <http_parser.h>
#include <json-glib/json-glib.h>

#include "settle-error.h"

#define REQUEST_MAX (16 * 1024)
#define URL_MAX 2048
#define WHOAMI_PATH "/.well-known/settle/whoami"

typedef struct {
  GString *url;
  gboolean url_too_long;
  gboolean complete;
} Request;

static int
on_url (http_parser *p, const char *at, size_t len)
{
  Request *r = p->data;
  if (r->url->len + len > URL_MAX)
    {
      r->url_too_long = TRUE;
      return 1;
    }
  g_string_append_len (r->url, at, (gssize) len);
  return 0;
}

static int
on_message_complete (http_parser *p)
{
  ((Request *) p->data)->complete = TRUE;
  return 0;
}

/* ---- responses ---- */

static gboolean
respond (SettleTlsConn *conn, int status, const char *reason, const char *type, const char *body,
         gboolean head_only, GError **error)
{
  gsize body_len = strlen (body);
  g_autofree char *response = g_strdup_printf (
    "HTTP/1.1 %d %s\r\n"
    "Content-Type: %s\r\n"
    "Content-Length: %" G_GSIZE_FORMAT "\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Connection: close\r\n"
    "\r\n%s",
    status, reason, type, body_len, head_only ? "" : body);
  return settle_tls_write_all (conn, (const guint8 *) response, strlen (response), error);
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

static gboolean
respond_json (SettleTlsConn *conn, int status, const char *reason, const char *const *pairs,
              gboolean head_only, GError **error)
{
  g_autofree char *body = json_body (pairs);
  return respond (conn, status, reason, "application/json", body, head_only, error);
}

static gboolean
serve_page (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, gboolean head_only, GError **error)
{
  g_autofree char *name = g_markup_escape_text (ctx->name, -1);
  g_autofree char *body = g_strdup_printf (
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
    "<body><h1>%s</h1>\n<p>This is the settle reference device <strong>%s</strong>.</p>\n"
    "<p>Pair with it by scanning its QR code: <code>settle pair --qr FILE</code>.</p>\n"
    "<p>Paired clients can ask <a href=\"" WHOAMI_PATH "\">" WHOAMI_PATH "</a> for their role.</p>\n"
    "</body></html>\n",
    name, name, name);
  return respond (conn, 200, "OK", "text/html; charset=utf-8", body, head_only, error);
}

static gboolean
serve_whoami (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, gboolean head_only, GError **error)
{
  X509 *peer = settle_tls_peer_leaf_peek (conn);
  if (peer == NULL)
    {
      const char *pairs[] = { "error", "Present the client certificate this device issued when you paired.", NULL };
      return respond_json (conn, 401, "Unauthorized", pairs, head_only, error);
    }
  g_autofree char *role = settle_device_identity_issued (ctx->identity, peer)
                            ? settle_device_enrolments_role_of (ctx->enrolments, peer) : NULL;
  if (role == NULL)
    {
      const char *pairs[] = { "error", "This certificate was not issued to a client paired with this device.", NULL };
      return respond_json (conn, 403, "Forbidden", pairs, head_only, error);
    }
  g_autofree char *serial = settle_device_serial_hex (peer);
  const char *pairs[] = { "device", ctx->name, "role", role, "serial", serial, NULL };
  return respond_json (conn, 200, "OK", pairs, head_only, error);
}

static gboolean
route (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, http_parser *parser, const Request *r,
       GError **error)
{
  gboolean head_only = parser->method == HTTP_HEAD;
  if (parser->method != HTTP_GET && !head_only)
    return respond (conn, 405, "Method Not Allowed", "text/plain; charset=utf-8",
                    "Only GET and HEAD are served here.\n", FALSE, error);
  struct http_parser_url url;
  http_parser_url_init (&url);
  if (http_parser_parse_url (r->url->str, r->url->len, 0, &url) != 0 || !(url.field_set & (1 << UF_PATH)))
    return respond (conn, 400, "Bad Request", "text/plain; charset=utf-8", "Malformed request target.\n",
                    FALSE, error);
  g_autofree char *path = g_strndup (r->url->str + url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
  if (strcmp (path, "/") == 0)
    return serve_page (conn, ctx, head_only, error);
  if (strcmp (path, WHOAMI_PATH) == 0)
    return serve_whoami (conn, ctx, head_only, error);
  return respond (conn, 404, "Not Found", "text/plain; charset=utf-8", "Not found.\n", head_only, error);
}

/* Feeds what the client sends to the parser until one request is
 * complete; FALSE with a specific error otherwise. */
static gboolean
read_request (SettleTlsConn *conn, http_parser *parser, const http_parser_settings *settings,
              Request *r, GError **error)
{
  guint8 buf[4096];
  gsize total = 0;
  while (!r->complete)
    {
      gssize n = settle_tls_read (conn, buf, sizeof buf, error);
      if (n < 0)
        return FALSE;
      total += (gsize) n;
      if (total > REQUEST_MAX)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL, "The HTTP request is larger than %d bytes.",
                       REQUEST_MAX);
          return FALSE;
        }
      /* n == 0 tells the parser that the stream ended. */
      gsize parsed = http_parser_execute (parser, settings, (const char *) buf, (gsize) n);
      if (HTTP_PARSER_ERRNO (parser) != HPE_OK || (n > 0 && parsed != (gsize) n))
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL, "Malformed HTTP request: %s.",
                       r->url_too_long ? "the URL is too long"
                                       : http_errno_description (HTTP_PARSER_ERRNO (parser)));
          return FALSE;
        }
      if (n == 0 && !r->complete)
        {
          g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL,
                               "The client closed the connection before its HTTP request was complete.");
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
settle_device_http_serve (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, GError **error)
{
  Request r = { .url = g_string_new (NULL) };
  http_parser parser;
  http_parser_init (&parser, HTTP_REQUEST);
  parser.data = &r;
  http_parser_settings settings;
  http_parser_settings_init (&settings);
  settings.on_url = on_url;
  settings.on_message_complete = on_message_complete;
  GError *local = NULL;
  gboolean ok = read_request (conn, &parser, &settings, &r, &local)
                && route (conn, ctx, &parser, &r, &local);
  if (!ok && g_error_matches (local, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL))
    respond (conn, 400, "Bad Request", "text/plain; charset=utf-8", "Malformed HTTP request.\n", FALSE, NULL);
  if (local != NULL)
    g_propagate_error (error, local);
  g_string_free (r.url, TRUE);
  return ok;
}
