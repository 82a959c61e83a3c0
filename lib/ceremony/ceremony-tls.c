/* ceremony-tls.c: the ceremony over settle's TLS connection
 * (schema/ceremony.md, "Transport"). */
#include "settle-ceremony-tls.h"

#include <string.h>

#include <openssl/err.h>

#include "settle-error.h"
#include "settle-spake2.h"

/* ALPN wire form, in the device's preference order: a client that offers
 * settle/1 came for the ceremony. */
static const char ceremony_port_alpn[] = "\x08" SETTLE_CEREMONY_ALPN "\x08http/1.1";

G_STATIC_ASSERT (sizeof SETTLE_CEREMONY_ALPN - 1 == 8);

SettleTlsConn *
settle_tls_connect (const char *host, guint16 port, const char *server_name,
                    guint timeout_ms, GError **error)
{
  g_autoptr (SettleTlsConn) conn = settle_tls_connect_offering (host, port, server_name,
                                                                SETTLE_CEREMONY_ALPN, timeout_ms, error);
  if (conn == NULL)
    return NULL;
  const char *alpn = settle_tls_alpn_peek (conn);
  if (alpn == NULL || strcmp (alpn, SETTLE_CEREMONY_ALPN) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                   "%s does not speak the pairing protocol (no ALPN %s in its answer).", host,
                   SETTLE_CEREMONY_ALPN);
      return NULL;
    }
  return g_steal_pointer (&conn);
}

SSL_CTX *
settle_tls_server_ctx_new (EVP_PKEY *key, X509 *leaf, STACK_OF (X509) *chain,
                           X509 *client_ca, GError **error)
{
  return settle_tls_server_ctx_new_for (key, leaf, chain, client_ca, ceremony_port_alpn, error);
}

gboolean
settle_tls_exporter (SettleTlsConn *conn, guint8 out[SETTLE_TLS_EXPORTER_LEN], GError **error)
{
  G_STATIC_ASSERT (SETTLE_TLS_EXPORTER_LEN == SETTLE_SPAKE2_EXPORTER_LEN);
  return settle_tls_export (conn, SETTLE_TLS_EXPORTER_LABEL, out, SETTLE_TLS_EXPORTER_LEN, error);
}

gboolean
settle_tls_send (SettleTlsConn *conn, const SettleCeremonyMsg *msg, GError **error)
{
  g_autoptr (GBytes) frame = settle_ceremony_frame_encode (msg, error);
  if (frame == NULL)
    return FALSE;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (frame, &len);
  return settle_tls_write_all (conn, data, len, error);
}

SettleCeremonyMsg *
settle_tls_receive (SettleTlsConn *conn, GError **error)
{
  gint64 deadline = settle_tls_deadline (conn);
  guint8 header[SETTLE_CEREMONY_FRAME_HEADER_LEN];
  gsize body_len = 0;
  if (!settle_tls_read_exact (conn, header, sizeof header, deadline, TRUE, error)
      || !settle_ceremony_frame_parse_header (header, &body_len, error))
    return NULL;
  gsize frame_len = sizeof header + body_len;
  g_autofree guint8 *frame = g_malloc (frame_len);
  memcpy (frame, header, sizeof header);
  if (!settle_tls_read_exact (conn, frame + sizeof header, body_len, deadline, FALSE, error))
    return NULL;
  gsize consumed = 0;
  return settle_ceremony_frame_decode (frame, frame_len, &consumed, error);
}
