/* tls-probe.c: one TLS handshake to see a device's certificates. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "settle-error.h"
#include "settle-tls-probe.h"

static const unsigned char ALPN_HTTP11[] = "\x08http/1.1";

void
settle_presented_clear (SettlePresented *presented)
{
  X509_free (presented->leaf);
  sk_X509_pop_free (presented->chain, X509_free);
  presented->leaf = NULL;
  presented->chain = NULL;
}

/* OpenSSL wants a blocking descriptor; GIO hands out non-blocking ones.
 * The deadline then comes from the socket's own send and receive
 * timeouts. */
static void
make_blocking_with_deadline (int fd, guint timeout_ms)
{
  struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static SSL_CTX *
probe_ctx_new (void)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());

  if (ctx == NULL)
    return NULL;
  /* The devices speak TLS 1.3 only (docs/design.md, REQ-TRANS-01).  No path
   * validation here: the old anchor is judged by the caller. */
  SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_alpn_protos (ctx, ALPN_HTTP11, sizeof ALPN_HTTP11 - 1);
  return ctx;
}

/* Copies the certificates out of the handshake: the client side's peer
 * chain starts with the leaf, which is left out of `chain`. */
static void
take_certificates (SSL *ssl, SettlePresented *out)
{
  STACK_OF (X509) *sent = SSL_get_peer_cert_chain (ssl);

  out->leaf = SSL_get1_peer_certificate (ssl);
  out->chain = sk_X509_new_null ();
  for (int i = 0; sent != NULL && i < sk_X509_num (sent); i++)
    {
      X509 *cert = sk_X509_value (sent, i);
      if (out->leaf != NULL && X509_cmp (cert, out->leaf) == 0)
        continue;
      X509_up_ref (cert);
      sk_X509_push (out->chain, cert);
    }
}

static gboolean
handshake (int fd, const char *where, const char *server_name, SettlePresented *out, GError **error)
{
  SSL_CTX *ctx = probe_ctx_new ();
  SSL *ssl = ctx != NULL ? SSL_new (ctx) : NULL;
  gboolean ok = FALSE;

  if (ssl != NULL && SSL_set_fd (ssl, fd) == 1 && SSL_set_tlsext_host_name (ssl, server_name) == 1
      && SSL_connect (ssl) == 1)
    {
      take_certificates (ssl, out);
      ok = out->leaf != NULL;
      SSL_shutdown (ssl);
    }
  if (!ok)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                 "The device at %s did not complete a TLS 1.3 handshake.", where);
  ERR_clear_error ();
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  return ok;
}

SettleEndpoint *
settle_device_endpoint (const SettleRecord *record, const char *typed, GError **error)
{
  if (typed != NULL)
    return settle_endpoint_parse (typed, SETTLE_ENDPOINT_TYPED, "--address HOST:PORT", error);
  if (record->address != NULL)
    return settle_endpoint_parse (record->address, SETTLE_ENDPOINT_RECORDED, "The recorded address", error);
  if (record->names == NULL || record->names[0] == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "this binding has no device name to connect to; give --address HOST:PORT");
      return NULL;
    }
  return settle_endpoint_new (record->names[0], SETTLE_ENDPOINT_DEFAULT_PORT, SETTLE_ENDPOINT_NAME);
}

/* A TCP connection (owned) whose descriptor is blocking, with send and
 * receive timeouts of `timeout_ms`, ready for OpenSSL. */
static GSocketConnection *
device_connect (const char *host, guint16 port, guint timeout_ms, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnectable) address = g_network_address_new (host, port);
  g_autoptr (GError) connect_error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_timeout (client, (timeout_ms + 999) / 1000);
  connection = g_socket_client_connect (client, address, NULL, &connect_error);
  if (connection == NULL)
    {
      g_autofree char *where = settle_endpoint_format (host, port);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "No device answered at %s: %s.", where,
                   connect_error->message);
      return NULL;
    }
  make_blocking_with_deadline (g_socket_get_fd (g_socket_connection_get_socket (connection)), timeout_ms);
  return connection;
}

gboolean
settle_tls_probe (const char *host, guint16 port, const char *server_name, guint timeout_ms,
                  SettlePresented *out, GError **error)
{
  g_autoptr (GSocketConnection) connection = device_connect (host, port, timeout_ms, error);
  g_autofree char *where = settle_endpoint_format (host, port);

  if (connection == NULL)
    return FALSE;
  return handshake (g_socket_get_fd (g_socket_connection_get_socket (connection)), where, server_name, out,
                    error);
}
