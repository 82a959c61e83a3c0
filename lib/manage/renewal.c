/* renewal.c: a new client certificate from the device, over mutual TLS
 * with the current one (renewal.h). */
#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "settle-renewal.h"
#include "settle-device-https.h"
#include "settle-cert-build.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-store.h"
#include "settle-endpoint.h"

#define RENEW_PATH "/.well-known/settle/renew"

/* One renewal in progress; every pointer is owned. */
typedef struct {
  char *where;         /* "host:port" for messages */
  const char *name;    /* borrowed: the device name it must prove */
  SettleClientIdentity id;  /* the CA the record trusts, the current client certificate and its key */
  char *role;          /* the role it carries, which the new one must keep */
  EVP_PKEY *new_key;   /* the fresh key the new certificate is for */
} Renewal;

static void
renewal_state_clear (Renewal *r)
{
  g_free (r->where);
  settle_client_identity_clear (&r->id);
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
  X509 *cert = settle_cert_from_der_exact (cert_der);
  gint64 expiry = cert != NULL ? settle_cert_not_after (cert) : 0;
  X509_free (cert);
  return expiry;
}

char *
settle_renewal_cert_role (GBytes *cert_der)
{
  X509 *cert = settle_cert_from_der_exact (cert_der);
  char *role = cert != NULL ? cert_role (cert) : NULL;
  X509_free (cert);
  return role;
}

static gboolean
load_identity (Renewal *r, const SettleRecord *record, GBytes *current_key_pem, GError **error)
{
  if (!settle_client_identity_load (&r->id, record, current_key_pem, error))
    return FALSE;
  r->role = cert_role (r->id.cert);
  if (r->role == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The stored client certificate of \"%s\" carries no role.", record->label);
      return FALSE;
    }
  return TRUE;
}

/* A CSR (DER, owned) for a fresh P-256 key, which lands in r->new_key. */
static GBytes *
fresh_csr_der (Renewal *r, GError **error)
{
  r->new_key = settle_client_key_new (error);
  return r->new_key != NULL ? settle_client_csr_der (r->new_key, error) : NULL;
}

/* ---- mutual TLS and HTTP (settle-device-https.h) ---- */

/* POSTs the request; the answer's status and body (owned), or NULL. */
static GBytes *
post_request (const Renewal *r, GBytes *csr_der, const SettleRenewalTarget *target, long *status,
              GError **error)
{
  SettleDeviceHttps device = {
    .name = r->name, .host = target->host, .port = target->port, .timeout_ms = target->timeout_ms,
    .anchor = r->id.anchor, .cert = r->id.cert, .key = r->id.key,
  };
  return settle_device_https_request (&device, "POST", RENEW_PATH, "application/pkcs10", csr_der, status, error);
}

static void
set_refusal (const Renewal *r, int status, GBytes *body, GError **error)
{
  g_autofree char *text = settle_device_https_refusal_text (body);
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
  else if (X509_check_issued (r->id.anchor, cert) != X509_V_OK || X509_verify (cert, X509_get0_pubkey (r->id.anchor)) != 1)
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
  X509 *cert = settle_cert_from_der_exact (body);
  const char *problem = answer_problem (r, cert);

  X509_free (cert);
  if (problem != NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "The certificate the device at %s sent %s.", r->where,
                   problem);
      return FALSE;
    }
  out->client_key_pem = settle_private_key_pem (r->new_key, error);
  if (out->client_key_pem == NULL)
    return FALSE;
  out->client_cert_der = g_bytes_ref (body);
  return TRUE;
}

/* ---- one renewal ---- */

static gboolean
renew_over_tls (const Renewal *r, GBytes *csr_der, const SettleRenewalTarget *target, SettleRenewal *out,
                GError **error)
{
  long status = 0;
  g_autoptr (GBytes) body = post_request (r, csr_der, target, &status, error);

  if (body == NULL)
    return FALSE;
  if (status != 200)
    {
      set_refusal (r, (int) status, body, error);
      return FALSE;
    }
  return take_answer (r, body, out, error);
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
  r.where = settle_endpoint_format (target->host, target->port);
  r.name = record->names[0];
  if (load_identity (&r, record, current_key_pem, error) && (csr_der = fresh_csr_der (&r, error)) != NULL)
    ok = renew_over_tls (&r, csr_der, target, out, error);
  if (!ok)
    settle_renewal_clear (out);
  renewal_state_clear (&r);
  return ok;
}
