/* device-https.c: one HTTPS request to a paired device over mutual TLS
 * (settle-device-https.h).  libcurl speaks the HTTP (chunked answers,
 * HTTP/1.0, keep-alive) and keeps one deadline for the whole exchange and
 * SIGPIPE away; settle decides the TLS. */
#include <string.h>

#include <curl/curl.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "settle-device-https.h"
#include "settle-endpoint.h"
#include "settle-error.h"

/* ---- this computer's identity for a device ---- */

X509 *
settle_cert_from_der_exact (GBytes *der)
{
  gsize len = 0;
  const unsigned char *start = der != NULL ? g_bytes_get_data (der, &len) : NULL;
  const unsigned char *p = start;
  X509 *cert = start != NULL ? d2i_X509 (NULL, &p, (long) len) : NULL;
  if (cert != NULL && (gsize) (p - start) != len)
    g_clear_pointer (&cert, X509_free);
  ERR_clear_error ();
  return cert;
}

/* The PEM text goes through a read-only memory BIO over the caller's
 * (secure) bytes; nothing is copied. */
static EVP_PKEY *
key_from_pem (GBytes *pem)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (pem, &len);
  BIO *bio = BIO_new_mem_buf (data, (int) len);
  EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;
  BIO_free (bio);
  ERR_clear_error ();
  return key;
}

gboolean
settle_client_identity_load (SettleClientIdentity *id, const SettleRecord *record, GBytes *key_pem, GError **error)
{
  id->anchor = settle_cert_from_der_exact (record->anchor_der);
  id->cert = settle_cert_from_der_exact (record->client_cert_der);
  id->key = key_pem != NULL ? key_from_pem (key_pem) : NULL;
  if (id->anchor == NULL || id->cert == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                 "The stored anchor or client certificate of \"%s\" cannot be read.", record->label);
  else if (id->key == NULL || X509_check_private_key (id->cert, id->key) != 1)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                 "The stored client key of \"%s\" does not belong to its client certificate.", record->label);
  else
    return TRUE;
  ERR_clear_error ();
  return FALSE;
}

void
settle_client_identity_clear (SettleClientIdentity *id)
{
  g_clear_pointer (&id->anchor, X509_free);
  g_clear_pointer (&id->cert, X509_free);
  g_clear_pointer (&id->key, EVP_PKEY_free);
}

/* ---- the request ---- */

/* CURLOPT_SSL_CTX_FUNCTION: called on libcurl's SSL_CTX before the
 * handshake, after libcurl loaded its own verify locations, which the
 * fresh store below replaces. */
static CURLcode
configure_tls (CURL *curl, void *ssl_ctx, void *data)
{
  (void) curl;
  const SettleDeviceHttps *d = data;
  SSL_CTX *ctx = ssl_ctx;
  X509_STORE *trusted = X509_STORE_new ();

  if (trusted == NULL || X509_STORE_add_cert (trusted, d->anchor) != 1)
    {
      X509_STORE_free (trusted);
      return CURLE_SSL_CERTPROBLEM;
    }
  /* After a refresh the anchor is a cross certificate, not self-signed:
   * it is trusted as it stands. */
  X509_STORE_set_flags (trusted, X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_cert_store (ctx, trusted);
  if (SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION) != 1 || SSL_CTX_use_certificate (ctx, d->cert) != 1
      || SSL_CTX_use_PrivateKey (ctx, d->key) != 1)
    return CURLE_SSL_CERTPROBLEM;
  return CURLE_OK;
}

/* CURLOPT_WRITEFUNCTION: the answer, bounded (returning less than given
 * makes libcurl stop with CURLE_WRITE_ERROR). */
static size_t
collect_body (char *data, size_t size, size_t count, void *user)
{
  GByteArray *body = user;
  size_t len = size * count;
  if (body->len + len > SETTLE_DEVICE_HTTPS_MAX)
    return 0;
  g_byte_array_append (body, (const guint8 *) data, (guint) len);
  return len;
}

/* The sentence for a transfer that did not produce an HTTP answer: a
 * device that cannot prove itself is not the same as one that is gone. */
static void
set_transfer_error (const SettleDeviceHttps *d, const char *where, CURL *curl, CURLcode code, const char *detail,
                    GError **error)
{
  long verdict = X509_V_OK;
  curl_easy_getinfo (curl, CURLINFO_SSL_VERIFYRESULT, &verdict);
  if (code == CURLE_PEER_FAILED_VERIFICATION || verdict != X509_V_OK)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_AUTH,
                 "The device at %s does not prove that it is %s with the CA you trust (%s): if it was factory "
                 "reset, pair with it again; if it rotated its CA, run 'settle refresh' first.",
                 where, d->name, X509_verify_cert_error_string (verdict));
  else if (code == CURLE_WRITE_ERROR)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL, "The device at %s answered with more than %d bytes.",
                 where, SETTLE_DEVICE_HTTPS_MAX);
  else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "No device answered at %s: %s.", where,
                 detail[0] != '\0' ? detail : curl_easy_strerror (code));
  else if (code == CURLE_OPERATION_TIMEDOUT)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "The device at %s did not answer in time.", where);
  else
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                 "The device at %s could not be reached over TLS 1.3 with this computer's client certificate: %s.",
                 where, detail[0] != '\0' ? detail : curl_easy_strerror (code));
  ERR_clear_error ();
}

GBytes *
settle_device_https_request (const SettleDeviceHttps *d, const char *method, const char *path,
                             const char *content_type, GBytes *body, long *status, GError **error)
{
  CURL *curl = curl_easy_init ();
  if (curl == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "libcurl could not start a transfer.");
      return NULL;
    }
  g_autofree char *where = settle_endpoint_format (d->host, d->port);
  gboolean ipv6 = strchr (d->host, ':') != NULL;
  g_autofree char *url = g_strdup_printf ("https://%s:%u%s", d->name, (unsigned) d->port, path);
  /* Connect to where the device is, while TLS checks the name it proves. */
  g_autofree char *connect_to = g_strdup_printf (ipv6 ? "%s:%u:[%s]:%u" : "%s:%u:%s:%u", d->name,
                                                 (unsigned) d->port, d->host, (unsigned) d->port);
  struct curl_slist *route = curl_slist_append (NULL, connect_to);
  g_autofree char *type_header = content_type != NULL ? g_strconcat ("Content-Type: ", content_type, NULL) : NULL;
  struct curl_slist *headers = type_header != NULL ? curl_slist_append (NULL, type_header) : NULL;
  g_autoptr (GByteArray) answer_buf = g_byte_array_new ();
  char detail[CURL_ERROR_SIZE] = "";

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CONNECT_TO, route);
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt (curl, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) d->timeout_ms);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (curl, CURLOPT_SSL_CTX_FUNCTION, configure_tls);
  curl_easy_setopt (curl, CURLOPT_SSL_CTX_DATA, (void *) d);
  if (headers != NULL)
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  if (body != NULL)
    {
      gsize len = 0;
      const void *data = g_bytes_get_data (body, &len);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, data != NULL ? data : "");
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    }
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer_buf);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, detail);

  CURLcode code = curl_easy_perform (curl);
  GBytes *answer = NULL;
  if (code == CURLE_OK)
    {
      curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, status);
      answer = g_byte_array_free_to_bytes (g_steal_pointer (&answer_buf));
    }
  else
    set_transfer_error (d, where, curl, code, detail, error);
  curl_easy_cleanup (curl);
  curl_slist_free_all (headers);
  curl_slist_free_all (route);
  return answer;
}

char *
settle_device_https_refusal_text (GBytes *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  JsonNode *root = json_parser_load_from_data (parser, data, (gssize) len, NULL) ? json_parser_get_root (parser) : NULL;
  JsonObject *object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *text = object != NULL ? json_object_get_string_member_with_default (object, "error", NULL) : NULL;
  return g_strdup (text != NULL ? text : "no reason given.");
}
