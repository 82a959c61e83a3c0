/* device-http.c: the device's own small HTTPS site on the ceremony port
 * (connections that did not ask for ALPN settle/1).  Requests are parsed
 * by libhttp-parser; one request per connection.
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
 *                                      400 for a refused request. */
#include "device.h"

#include <string.h>

#include <http_parser.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "settle-cert.h"
#include "settle-error.h"

/* A P-256 request is about 400 bytes; RSA-4096 in PEM stays under 2 KiB. */
#define CSR_MAX (16 * 1024)
#define REQUEST_MAX (CSR_MAX + 8 * 1024)
#define URL_MAX 2048
#define WHOAMI_PATH "/.well-known/settle/whoami"
#define RENEW_PATH "/.well-known/settle/renew"
#define PEM_MARKER "-----BEGIN"

typedef struct {
  GString *url;
  gboolean url_too_long;
  GByteArray *body;
  gboolean body_too_large;
  gboolean complete;
} Request;

/* One renewal at a time: between the enrolment check and retiring the
 * old certificate, a second renewal with the same certificate must wait,
 * so that one certificate is renewed into exactly one. */
static GMutex renew_lock;

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
on_body (http_parser *p, const char *at, size_t len)
{
  Request *r = p->data;
  if (r->body->len + len > CSR_MAX)
    {
      r->body_too_large = TRUE;
      return 1;
    }
  g_byte_array_append (r->body, (const guint8 *) at, (guint) len);
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
respond_bytes (SettleTlsConn *conn, int status, const char *reason, const char *type, const guint8 *body,
               gsize body_len, gboolean head_only, GError **error)
{
  g_autofree char *head = g_strdup_printf (
    "HTTP/1.1 %d %s\r\n"
    "Content-Type: %s\r\n"
    "Content-Length: %" G_GSIZE_FORMAT "\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Connection: close\r\n"
    "\r\n",
    status, reason, type, body_len);
  if (!settle_tls_write_all (conn, (const guint8 *) head, strlen (head), error))
    return FALSE;
  return head_only || body_len == 0 || settle_tls_write_all (conn, body, body_len, error);
}

static gboolean
respond (SettleTlsConn *conn, int status, const char *reason, const char *type, const char *body,
         gboolean head_only, GError **error)
{
  return respond_bytes (conn, status, reason, type, (const guint8 *) body, strlen (body), head_only, error);
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
respond_error (SettleTlsConn *conn, int status, const char *reason, const char *message, gboolean head_only,
               GError **error)
{
  const char *pairs[] = { "error", message, NULL };
  return respond_json (conn, status, reason, pairs, head_only, error);
}

static gboolean
respond_no_certificate (SettleTlsConn *conn, gboolean head_only, GError **error)
{
  return respond_error (conn, 401, "Unauthorized",
                        "Present the client certificate this device issued when you paired.", head_only, error);
}

static gboolean
respond_not_enrolled (SettleTlsConn *conn, gboolean head_only, GError **error)
{
  return respond_error (conn, 403, "Forbidden",
                        "This certificate was not issued to a client paired with this device.", head_only, error);
}

/* The role of a client certificate that one of the device's CAs (current
 * or retired) issued and that is still enrolled (owned), else NULL. */
static char *
enrolled_role (const SettleDeviceHttpContext *ctx, X509 *peer)
{
  if (!settle_device_identity_issued (ctx->identity, peer))
    return NULL;
  return settle_device_enrolments_role_of (ctx->enrolments, peer);
}

static gboolean
serve_whoami (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, gboolean head_only, GError **error)
{
  X509 *peer = settle_tls_peer_leaf_peek (conn);
  if (peer == NULL)
    return respond_no_certificate (conn, head_only, error);
  g_autofree char *role = enrolled_role (ctx, peer);
  if (role == NULL)
    return respond_not_enrolled (conn, head_only, error);
  g_autofree char *serial = settle_device_serial_hex (peer);
  const char *pairs[] = { "device", ctx->name, "role", role, "serial", serial, NULL };
  return respond_json (conn, 200, "OK", pairs, head_only, error);
}

/* ---- renewal ---- */

/* The request body as a PKCS#10 request (owned): PEM when it starts like
 * PEM, else exactly one DER structure. */
static X509_REQ *
csr_from_body (const GByteArray *body)
{
  gsize pem_marker_len = strlen (PEM_MARKER);
  if (body->len >= pem_marker_len && memcmp (body->data, PEM_MARKER, pem_marker_len) == 0)
    {
      BIO *bio = BIO_new_mem_buf (body->data, (int) body->len);
      X509_REQ *req = bio != NULL ? PEM_read_bio_X509_REQ (bio, NULL, NULL, NULL) : NULL;
      BIO_free (bio);
      ERR_clear_error ();
      return req;
    }
  const unsigned char *p = body->data;
  X509_REQ *req = d2i_X509_REQ (NULL, &p, (long) body->len);
  if (req != NULL && p != body->data + body->len)
    g_clear_pointer (&req, X509_REQ_free);
  ERR_clear_error ();
  return req;
}

/* Sends the new certificate; only once it went out does the old one
 * stop counting, and when it did not, the new one never counts. */
static gboolean
hand_over (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, X509 *old_cert, X509 *new_cert,
           GError **error)
{
  g_autoptr (GBytes) der = settle_cert_to_der (new_cert);
  gsize der_len = 0;
  const guint8 *der_data = g_bytes_get_data (der, &der_len);
  if (!respond_bytes (conn, 200, "OK", "application/pkix-cert", der_data, der_len, FALSE, error))
    {
      settle_device_enrolments_remove (ctx->enrolments, new_cert);
      return FALSE;
    }
  settle_device_enrolments_remove (ctx->enrolments, old_cert);
  g_autofree char *old_serial = settle_device_serial_hex (old_cert);
  g_autofree char *new_serial = settle_device_serial_hex (new_cert);
  g_printerr ("settle-device: renewed the client certificate %s as %s for %s\n", old_serial, new_serial,
              settle_tls_peer_address_peek (conn));
  return TRUE;
}

/* Under renew_lock: the enrolment check, issuing, recording, handing over. */
static gboolean
renew_locked (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, X509 *peer, const Request *r,
              GError **error)
{
  g_autofree char *role = enrolled_role (ctx, peer);
  if (role == NULL)
    return respond_not_enrolled (conn, FALSE, error);
  X509_REQ *req = csr_from_body (r->body);
  if (req == NULL)
    return respond_error (conn, 400, "Bad Request",
                          "The body is not a PEM or DER PKCS#10 certificate request.", FALSE, error);
  g_autoptr (GError) refused = NULL;
  X509 *cert = settle_ceremony_server_issue_client_cert (ctx->ceremony, req, role, &refused);
  X509_REQ_free (req);
  if (cert == NULL)
    return respond_error (conn, 400, "Bad Request", refused->message, FALSE, error);
  g_autoptr (GError) unrecorded = NULL;
  gboolean ok;
  if (!settle_device_enrolments_add (ctx->enrolments, cert, role, settle_tls_peer_address_peek (conn),
                                     &unrecorded))
    {
      g_printerr ("settle-device: %s\n", unrecorded->message);
      ok = respond_error (conn, 500, "Internal Server Error", "The device could not record the renewed certificate.",
                          FALSE, error);
    }
  else
    ok = hand_over (conn, ctx, peer, cert, error);
  X509_free (cert);
  return ok;
}

static gboolean
serve_renew (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, const Request *r, GError **error)
{
  X509 *peer = settle_tls_peer_leaf_peek (conn);
  if (peer == NULL)
    return respond_no_certificate (conn, FALSE, error);
  g_mutex_lock (&renew_lock);
  gboolean ok = renew_locked (conn, ctx, peer, r, error);
  g_mutex_unlock (&renew_lock);
  return ok;
}

/* ---- routing ---- */

static gboolean
method_not_allowed (SettleTlsConn *conn, const char *message, GError **error)
{
  return respond (conn, 405, "Method Not Allowed", "text/plain; charset=utf-8", message, FALSE, error);
}

static gboolean
route (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx, http_parser *parser, const Request *r,
       GError **error)
{
  gboolean head_only = parser->method == HTTP_HEAD;
  struct http_parser_url url;
  http_parser_url_init (&url);
  if (http_parser_parse_url (r->url->str, r->url->len, 0, &url) != 0 || !(url.field_set & (1 << UF_PATH)))
    return respond (conn, 400, "Bad Request", "text/plain; charset=utf-8", "Malformed request target.\n",
                    FALSE, error);
  g_autofree char *path = g_strndup (r->url->str + url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
  if (strcmp (path, RENEW_PATH) == 0)
    return parser->method == HTTP_POST ? serve_renew (conn, ctx, r, error)
                                       : method_not_allowed (conn, "Only POST is served here.\n", error);
  if (parser->method != HTTP_GET && !head_only)
    return method_not_allowed (conn, "Only GET and HEAD are served here.\n", error);
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
                       r->url_too_long     ? "the URL is too long"
                       : r->body_too_large ? "the body is larger than 16 KiB"
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
  Request r = { .url = g_string_new (NULL), .body = g_byte_array_new () };
  http_parser parser;
  http_parser_init (&parser, HTTP_REQUEST);
  parser.data = &r;
  http_parser_settings settings;
  http_parser_settings_init (&settings);
  settings.on_url = on_url;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
  GError *local = NULL;
  gboolean ok = read_request (conn, &parser, &settings, &r, &local)
                && route (conn, ctx, &parser, &r, &local);
  if (!ok && g_error_matches (local, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL))
    respond (conn, 400, "Bad Request", "text/plain; charset=utf-8", "Malformed HTTP request.\n", FALSE, NULL);
  if (local != NULL)
    g_propagate_error (error, local);
  g_string_free (r.url, TRUE);
  g_byte_array_unref (r.body);
  return ok;
}
