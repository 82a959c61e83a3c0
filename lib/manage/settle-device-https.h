/* settle-device-https.h: one HTTPS request to a paired device over mutual
 * TLS (libcurl), as renewal (settle-renewal.h) and the device's admin
 * endpoints (settle-device-admin.h) make it.  The record's anchor is the
 * only trust, the device must prove its first name, TLS 1.3, and this
 * computer's client certificate and key are handed over in memory, never
 * as files.  The answer is bounded (SETTLE_DEVICE_HTTPS_MAX).
 *
 * Ownership: everything in SettleDeviceHttps is borrowed. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "settle-record.h"

G_BEGIN_DECLS

/* This computer's side of a paired record: the anchor it trusts for the
 * device, its client certificate and the key (all owned). */
typedef struct {
  X509 *anchor;
  X509 *cert;
  EVP_PKEY *key;
} SettleClientIdentity;

/* Loads `record`'s anchor and client certificate and `key_pem`
 * (borrowed: its client key, PEM); SETTLE_ERROR_FORMAT when one cannot be
 * read or the key does not belong to the certificate.  Clear `id` with
 * settle_client_identity_clear() either way. */
gboolean settle_client_identity_load (SettleClientIdentity *id, const SettleRecord *record, GBytes *key_pem,
                                      GError **error);
void settle_client_identity_clear (SettleClientIdentity *id);
/* Exactly one DER certificate (owned), else NULL. */
X509 *settle_cert_from_der_exact (GBytes *der);

#define SETTLE_DEVICE_HTTPS_MAX (8 * 1024 * 1024)

typedef struct {
  const char *name;     /* the device name it must prove */
  const char *host;     /* where it is */
  guint16 port;
  guint timeout_ms;     /* for the whole exchange */
  X509 *anchor;         /* the CA the record trusts */
  X509 *cert;           /* this computer's client certificate */
  EVP_PKEY *key;        /* and its key */
} SettleDeviceHttps;

/* `method` `path` with `body` (NULL: none) of `content_type`; the
 * answer's body (owned) and *status, or NULL with SETTLE_ERROR_AUTH (the
 * device did not prove itself), SETTLE_ERROR_NETWORK or
 * SETTLE_ERROR_PROTOCOL (too long an answer). */
GBytes *settle_device_https_request (const SettleDeviceHttps *device, const char *method, const char *path,
                                     const char *content_type, GBytes *body, long *status, GError **error);

/* The "error" sentence of a device's JSON refusal, or "no reason given."
 * (owned). */
char *settle_device_https_refusal_text (GBytes *body);

G_END_DECLS
