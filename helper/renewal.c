/* renewal.c: a new client certificate from the device, over mutual TLS
 * with the current one (renewal.h). */
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "renewal.h"
#include "settle-error.h"
#include "settle-store.h"
#include "settle-wrap.h"
#include "tls-probe.h"

#define RENEW_PATH "/.well-known/settle/renew"
#define RESPONSE_MAX (64 * 1024)
/* The subject every pairing uses too: a per-computer name would be a
 * static identifier the device could share (REQ-NAME-05). */
#define CSR_SUBJECT "settle client"

static const unsigned char ALPN_HTTP11[] = "\x08http/1.1";

/* One renewal in progress; every pointer is owned. */
typedef struct {
  char *where;         /* "host:port" for messages */
  const char *name;    /* borrowed: the device name it must prove */
  X509 *anchor;        /* the CA the record trusts */
  X509 *cert;          /* the current client certificate */
  EVP_PKEY *key;       /* and its key */
  char *role;          /* the role it carries, which the new one must keep */
  EVP_PKEY *new_key;   /* the fresh key the new certificate is for */
} Renewal;

static void
renewal_state_clear (Renewal *r)
{
  g_free (r->where);
  X509_free (r->anchor);
  X509_free (r->cert);
  EVP_PKEY_free (r->key);
  g_free (r->role);
  EVP_PKEY_free (r->new_key);
}

void
settle_renewal_clear (SettleRenewal *renewal)
{
  g_clear_pointer (&renewal->client_cert_der, g_bytes_unref);
  g_clear_pointer (&renewal->client_key_pem, settle_secure_bytes_free);
}

/* ---- certificates and keys ---- */

/* Exactly one DER certificate (owned), else NULL. */
static X509 *
cert_from_der (GBytes *der)
{
  gsize len = 0;
  const unsigned char *start = g_bytes_get_data (der, &len);
  const unsigned char *p = start;
  X509 *cert = d2i_X509 (NULL, &p, (long) len);
  if (cert != NULL && (gsize) (p - start) != len)
    g_clear_pointer (&cert, X509_free);
  ERR_clear_error ();
  return cert;
}

/* The device puts the role it granted in the OU (ceremony-server.c). */
static char *
cert_role (X509 *cert)
{
  X509_NAME *subject = X509_get_subject_name (cert);
  int idx = X509_NAME_get_index_by_NID (subject, NID_organizationalUnitName, -1);
  unsigned char *utf8 = NULL;
  int len = idx >= 0 ? ASN1_STRING_to_UTF8 (&utf8, X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, idx)))
                     : -1;
  char *role = len > 0 ? g_strndup ((const char *) utf8, (gsize) len) : NULL;
  OPENSSL_free (utf8);
  return role;
}

gint64
settle_renewal_cert_expiry (GBytes *cert_der)
{
  X509 *cert = cert_from_der (cert_der);
  gint64 expiry = cert != NULL ? settle_cert_not_after (cert) : 0;
  X509_free (cert);
  return expiry;
}

char *
settle_renewal_cert_role (GBytes *cert_der)
{
  X509 *cert = cert_from_der (cert_der);
  char *role = cert != NULL ? cert_role (cert) : NULL;
  X509_free (cert);
  return role;
}

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

/* Secure-heap BIO: the PEM text is wiped when the BIO is freed. */
static GBytes *
key_to_pem (EVP_PKEY *key)
{
  BIO *bio = BIO_new (BIO_s_secmem ());
  char *data = NULL;
  long len;
  GBytes *pem = NULL;

  if (bio != NULL && PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) == 1
      && (len = BIO_get_mem_data (bio, &data)) > 0)
    pem = g_bytes_new (data, (gsize) len);
  BIO_free (bio);
  return pem;
}

static gboolean
load_identity (Renewal *r, const SettleRecord *record, GBytes *current_key_pem, GError **error)
{
  r->anchor = cert_from_der (record->anchor_der);
  r->cert = cert_from_der (record->client_cert_der);
  r->key = key_from_pem (current_key_pem);
  r->role = r->cert != NULL ? cert_role (r->cert) : NULL;
  if (r->anchor == NULL || r->cert == NULL || r->role == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                 "The stored anchor or client certificate of \"%s\" cannot be read.", record->label);
  else if (r->key == NULL || X509_check_private_key (r->cert, r->key) != 1)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                 "The stored client key of \"%s\" does not belong to its client certificate.", record->label);
  else
    return TRUE;
  ERR_clear_error ();
  return FALSE;
}

/* A CSR (DER, owned) for a fresh P-256 key, which lands in r->new_key. */
static GBytes *
fresh_csr_der (Renewal *r, GError **error)
{
  X509_REQ *req = X509_REQ_new ();
  X509_NAME *subject = X509_NAME_new ();
  unsigned char *der = NULL;
  int len = -1;

  r->new_key = EVP_EC_gen ("P-256");
  if (r->new_key != NULL && req != NULL && subject != NULL
      && X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_ASC, (const unsigned char *) CSR_SUBJECT, -1, -1, 0) == 1
      && X509_REQ_set_version (req, X509_REQ_VERSION_1) == 1 && X509_REQ_set_subject_name (req, subject) == 1
      && X509_REQ_set_pubkey (req, r->new_key) == 1 && X509_REQ_sign (req, r->new_key, EVP_sha256 ()) > 0)
    len = i2d_X509_REQ (req, &der);
  X509_NAME_free (subject);
  X509_REQ_free (req);
  if (len <= 0)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "OpenSSL could not make a fresh key and certificate request.");
      return NULL;
    }
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

/* ---- mutual TLS ---- */

static SSL_CTX *
mutual_tls_ctx_new (const Renewal *r)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  X509_STORE *trusted = ctx != NULL ? SSL_CTX_get_cert_store (ctx) : NULL;

  /* The devices speak TLS 1.3 only; ALPN http/1.1 selects their web side.
   * The store holds the record's anchor and nothing else. */
  if (trusted == NULL || SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION) != 1
      || SSL_CTX_set_alpn_protos (ctx, ALPN_HTTP11, sizeof ALPN_HTTP11 - 1) != 0
      || SSL_CTX_use_certificate (ctx, r->cert) != 1 || SSL_CTX_use_PrivateKey (ctx, r->key) != 1
      || X509_STORE_add_cert (trusted, r->anchor) != 1)
    {
      SSL_CTX_free (ctx);
      return NULL;
    }
  /* After a refresh the anchor is a cross certificate, not self-signed:
   * it is trusted as it stands. */
  X509_STORE_set_flags (trusted, X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  return ctx;
}

/* A verified session with the device (owned), or NULL with a sentence
 * that tells a device that cannot prove itself from one that is gone. */
static SSL *
open_session (const Renewal *r, SSL_CTX *ctx, int fd, GError **error)
{
  SSL *ssl = SSL_new (ctx);
  if (ssl != NULL && SSL_set_fd (ssl, fd) == 1 && SSL_set_tlsext_host_name (ssl, r->name) == 1
      && SSL_set1_host (ssl, r->name) == 1 && SSL_connect (ssl) == 1)
    return ssl;
  long verdict = ssl != NULL ? SSL_get_verify_result (ssl) : X509_V_OK;
  if (verdict != X509_V_OK)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_AUTH,
                 "The device at %s does not prove that it is %s with the CA you trust (%s): if it was factory "
                 "reset, pair with it again; if it rotated its CA, run 'settle refresh' first.",
                 r->where, r->name, X509_verify_cert_error_string (verdict));
  else
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                 "The device at %s did not complete a TLS 1.3 handshake with this computer's client certificate.",
                 r->where);
  ERR_clear_error ();
  SSL_free (ssl);
  return NULL;
}

/* ---- HTTP ---- */

static gboolean
send_request (const Renewal *r, SSL *ssl, GBytes *csr_der, GError **error)
{
  gsize csr_len = 0;
  const void *csr = g_bytes_get_data (csr_der, &csr_len);
  g_autofree char *head = g_strdup_printf ("POST " RENEW_PATH " HTTP/1.1\r\n"
                                           "Host: %s\r\n"
                                           "Content-Type: application/pkcs10\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                           "Connection: close\r\n"
                                           "\r\n",
                                           r->name, csr_len);
  size_t written = 0;
  if (SSL_write_ex (ssl, head, strlen (head), &written) == 1 && SSL_write_ex (ssl, csr, csr_len, &written) == 1)
    return TRUE;
  ERR_clear_error ();
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "The device at %s stopped listening to the request.",
               r->where);
  return FALSE;
}

typedef struct {
  int status;
  gsize body_offset;
  gsize body_len;
} HttpHead;

/* TRUE once `buf` holds a status line, headers with a Content-Length and
 * that many body bytes; *malformed when it never will. */
static gboolean
response_complete (const GByteArray *buf, HttpHead *head, gboolean *malformed)
{
  /* Nothing read yet: a GByteArray may then have no storage at all, and
   * memmem's pointer must not be NULL. */
  if (buf->len == 0)
    return FALSE;
  const guint8 *end = memmem (buf->data, buf->len, "\r\n\r\n", 4);
  if (end == NULL)
    return FALSE;
  g_autofree char *headers = g_ascii_strdown ((const char *) buf->data, end - buf->data);
  const char *length = strstr (headers, "\r\ncontent-length:");
  if (sscanf (headers, "http/1.1 %3d ", &head->status) != 1 || length == NULL)
    {
      *malformed = TRUE;
      return FALSE;
    }
  head->body_offset = (gsize) (end - buf->data) + 4;
  head->body_len = (gsize) g_ascii_strtoull (length + strlen ("\r\ncontent-length:"), NULL, 10);
  *malformed = head->body_len > RESPONSE_MAX;
  return !*malformed && buf->len >= head->body_offset + head->body_len;
}

/* The answer's status and body (owned), read up to RESPONSE_MAX. */
static GBytes *
read_response (const Renewal *r, SSL *ssl, int *status, GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  HttpHead head = { 0 };
  gboolean malformed = FALSE;
  guint8 chunk[4096];
  size_t got = 0;

  while (!response_complete (buf, &head, &malformed) && !malformed)
    {
      if (SSL_read_ex (ssl, chunk, sizeof chunk, &got) != 1)
        {
          ERR_clear_error ();
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                       "The device at %s closed the connection before its answer was complete.", r->where);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) got);
      malformed = buf->len > RESPONSE_MAX;
    }
  if (malformed)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL, "The device at %s did not answer in HTTP/1.1.",
                   r->where);
      return NULL;
    }
  *status = head.status;
  return g_bytes_new (buf->data + head.body_offset, head.body_len);
}

/* The "error" sentence of a JSON refusal, or a neutral one (owned). */
static char *
refusal_text (GBytes *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  JsonNode *root = json_parser_load_from_data (parser, data, (gssize) len, NULL) ? json_parser_get_root (parser) : NULL;
  JsonObject *object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *text = object != NULL ? json_object_get_string_member_with_default (object, "error", NULL) : NULL;
  return g_strdup (text != NULL ? text : "no reason given.");
}

static void
set_refusal (const Renewal *r, int status, GBytes *body, GError **error)
{
  g_autofree char *text = refusal_text (body);
  const char *meaning = status == 401   ? "did not receive this computer's client certificate"
                        : status == 403 ? "no longer knows this computer's client certificate (pair with it again)"
                        : status == 400 ? "refused the certificate request"
                        : status == 404 ? "has no renewal endpoint (it cannot renew client certificates)"
                                        : "refused the renewal";
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED, "The device at %s %s: HTTP %d, %s", r->where, meaning,
               status, text);
}

/* ---- the answer ---- */

static const char *
answer_problem (const Renewal *r, X509 *cert)
{
  g_autofree char *role = cert != NULL ? cert_role (cert) : NULL;
  const char *problem = NULL;

  if (cert == NULL)
    problem = "is not one DER certificate";
  else if (X509_check_issued (r->anchor, cert) != X509_V_OK || X509_verify (cert, X509_get0_pubkey (r->anchor)) != 1)
    problem = "is not issued by the device CA this computer trusts";
  else if (EVP_PKEY_eq (X509_get0_pubkey (cert), r->new_key) != 1)
    problem = "is not for the fresh key this computer sent";
  else if (role == NULL || strcmp (role, r->role) != 0)
    problem = "does not carry the same role as the current one";
  else if (X509_cmp_current_time (X509_get0_notBefore (cert)) >= 0
           || X509_cmp_current_time (X509_get0_notAfter (cert)) <= 0)
    problem = "is not valid now";
  ERR_clear_error ();
  return problem;
}

static gboolean
take_answer (const Renewal *r, GBytes *body, SettleRenewal *out, GError **error)
{
  X509 *cert = cert_from_der (body);
  const char *problem = answer_problem (r, cert);

  X509_free (cert);
  if (problem != NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "The certificate the device at %s sent %s.", r->where,
                   problem);
      return FALSE;
    }
  out->client_key_pem = key_to_pem (r->new_key);
  if (out->client_key_pem == NULL)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "OpenSSL could not write the new client key.");
      return FALSE;
    }
  out->client_cert_der = g_bytes_ref (body);
  return TRUE;
}

/* ---- one renewal ---- */

static gboolean
exchange (const Renewal *r, SSL *ssl, GBytes *csr_der, SettleRenewal *out, GError **error)
{
  int status = 0;
  g_autoptr (GBytes) body = NULL;

  if (!send_request (r, ssl, csr_der, error))
    return FALSE;
  body = read_response (r, ssl, &status, error);
  if (body == NULL)
    return FALSE;
  if (status != 200)
    {
      set_refusal (r, status, body, error);
      return FALSE;
    }
  return take_answer (r, body, out, error);
}

static gboolean
renew_over_tls (const Renewal *r, GBytes *csr_der, const SettleRenewalTarget *target, SettleRenewal *out,
                GError **error)
{
  g_autoptr (GSocketConnection) connection = settle_device_connect (target->host, target->port,
                                                                    target->timeout_ms, error);
  SSL_CTX *ctx = NULL;
  SSL *ssl = NULL;
  gboolean ok = FALSE;

  if (connection == NULL)
    return FALSE;
  ctx = mutual_tls_ctx_new (r);
  if (ctx == NULL)
    g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                         "OpenSSL could not load the client certificate and the trusted CA.");
  else
    ssl = open_session (r, ctx, g_socket_get_fd (g_socket_connection_get_socket (connection)), error);
  if (ssl != NULL)
    {
      ok = exchange (r, ssl, csr_der, out, error);
      SSL_shutdown (ssl);
    }
  ERR_clear_error ();
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  return ok;
}

gboolean
settle_renewal_run (const SettleRecord *record, GBytes *current_key_pem, const SettleRenewalTarget *target,
                    SettleRenewal *out, GError **error)
{
  Renewal r = { 0 };
  g_autoptr (GBytes) csr_der = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (record->client_cert_der != NULL && record->names != NULL && record->names[0] != NULL,
                        FALSE);
  r.where = settle_device_where (target->host, target->port);
  r.name = record->names[0];
  if (load_identity (&r, record, current_key_pem, error) && (csr_der = fresh_csr_der (&r, error)) != NULL)
    ok = renew_over_tls (&r, csr_der, target, out, error);
  if (!ok)
    settle_renewal_clear (out);
  renewal_state_clear (&r);
  return ok;
}
