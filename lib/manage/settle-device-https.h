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

G_BEGIN_DECLS

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
