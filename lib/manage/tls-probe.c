/* tls-probe.c: one TLS handshake to see a device's certificates. */
#include <string.h>

#include <gio/gio.h>

#include "settle-discover.h"
#include "settle-error.h"
#include "settle-tls-conn.h"
#include "settle-tls-probe.h"

void
settle_presented_clear (SettlePresented *presented)
{
  X509_free (presented->leaf);
  sk_X509_pop_free (presented->chain, X509_free);
  presented->leaf = NULL;
  presented->chain = NULL;
}

/* Copies the certificates out of the handshake: the client side's peer
 * chain starts with the leaf, which is left out of `chain`. */
static void
take_certificates (SettleTlsConn *conn, SettlePresented *out)
{
  STACK_OF (X509) *sent = settle_tls_peer_chain_peek (conn);

  out->leaf = settle_tls_peer_leaf_peek (conn);
  if (out->leaf != NULL)
    X509_up_ref (out->leaf);
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

gboolean
settle_tls_probe (const char *host, guint16 port, const char *server_name, guint timeout_ms,
                  SettlePresented *out, GError **error)
{
  g_autofree char *where = settle_endpoint_format (host, port);
  g_autoptr (GError) local_error = NULL;
  int fd = settle_tls_connect_tcp (host, port, timeout_ms, &local_error);
  if (fd < 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "No device answered at %s: %s", where,
                   local_error->message);
      return FALSE;
    }
  /* ALPN http/1.1, so that the device serves its web side and never the
   * pairing ceremony. */
  g_autoptr (SettleTlsConn) conn = settle_tls_client_handshake (fd, where, server_name, "http/1.1",
                                                                timeout_ms, &local_error);
  if (conn != NULL)
    take_certificates (conn, out);
  if (conn == NULL || out->leaf == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                   "The device at %s did not complete a TLS 1.3 handshake: %s", where,
                   local_error != NULL ? local_error->message : "it sent no certificate.");
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
settle_device_other_endpoints (const SettleRecord *record, const char *typed, const SettleEndpoint *tried,
                               guint timeout_ms, char **note)
{
  GPtrArray *endpoints = NULL;
  g_autofree char *tried_text = tried != NULL ? settle_endpoint_to_string (tried) : NULL;

  *note = NULL;
  if (typed != NULL || record->names == NULL || record->names[0] == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) settle_endpoint_free);
  SettleDiscoverAlso also = { .discovery_key = record->discovery_key,
                             .discovery_period = record->discovery_period };
  endpoints = settle_discover_endpoints_for (record->names[0], &also,
                                             MIN (timeout_ms, SETTLE_DISCOVERY_DEFAULT_TIMEOUT_MS), note);
  g_ptr_array_add (endpoints, settle_endpoint_new (record->names[0], SETTLE_ENDPOINT_DEFAULT_PORT,
                                                   SETTLE_ENDPOINT_NAME));
  for (guint i = endpoints->len; i > 0; i--)
    {
      g_autofree char *text = settle_endpoint_to_string (endpoints->pdata[i - 1]);
      if (tried_text != NULL && strcmp (text, tried_text) == 0)
        g_ptr_array_remove_index (endpoints, i - 1);
    }
  return endpoints;
}

char *
settle_device_endpoint_where (const SettleRecord *record, const SettleEndpoint *endpoint)
{
  if (endpoint->source == SETTLE_ENDPOINT_DISCOVERED && record->names != NULL && record->names[0] != NULL)
    return settle_endpoint_format (record->names[0], endpoint->port);
  return settle_endpoint_to_string (endpoint);
}
