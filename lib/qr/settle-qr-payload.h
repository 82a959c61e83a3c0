/* settle-qr-payload.h: the `SETTLE:` text a device shows as a QR code.
 *
 *   SETTLE:V:1;G:p256;N:printer-3fa9.local;A:192.168.1.20:8443;H:<43 base64url>;S:<base32>;;
 *   SETTLE:V:1;G:p256;N:printer-3fa9.local;H:<43 base64url>;S:<base32>;;   (no address)
 *
 * The address hint A is optional: without it the device is found by its
 * name N on the local network (DNS-SD `_settle._tcp` whose target host is
 * N, else N through the system resolver on SETTLE_ENDPOINT_DEFAULT_PORT);
 * `host` is then NULL and `port` 0.  Readers older than this rule refuse
 * such a payload ("no address field A").
 *
 * Grammar, field rules and sizing: schema/qr-payload.md.
 *
 * Ownership: a SettleQrPayload owns `name` and `host`; the secret lives
 * inside the struct so that settle_qr_payload_free() can wipe it.
 * Refusals use SETTLE_ERROR_FORMAT with one sentence per problem; no
 * message ever quotes the secret. */
#pragma once

#include <glib.h>

#include "settle-base32.h"
#include "settle-spake2.h"

G_BEGIN_DECLS

#define SETTLE_QR_PAYLOAD_VERSION 1
#define SETTLE_QR_PAYLOAD_MAX 1024   /* characters, whole payload */
#define SETTLE_QR_SPKI_HASH_LEN 32   /* SHA-256 */

typedef struct {
  guint version;                 /* SETTLE_QR_PAYLOAD_VERSION */
  SettleSpake2Suite suite;       /* from `G:` */
  char *name;                    /* owned: canonical device name (settle_name_normalize) */
  char *host;                    /* owned: address hint host: IPv4, IPv6 without brackets, or a name;
                                    NULL when the payload has no A field (find the device by name) */
  guint16 port;                  /* address hint port, 1..65535; 0 when host is NULL */
  guint8 spki_sha256[SETTLE_QR_SPKI_HASH_LEN]; /* SHA-256 of the TLS SubjectPublicKeyInfo DER */
  guint8 secret[SETTLE_SECRET_MAX_BYTES];      /* the pairing secret (wiped on free) */
  gsize secret_len;              /* 16, 20 or 32 (settle_base32_secret_length_ok) */
} SettleQrPayload;

/* An empty payload: version 1, suite P-256, everything else zero. */
SettleQrPayload *settle_qr_payload_new (void);
/* Wipes the secret and frees everything; NULL is fine. */
void settle_qr_payload_free (SettleQrPayload *payload);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleQrPayload, settle_qr_payload_free)

/* Parses what a QR reader returned (`text`, `len` bytes, need not be
 * NUL-terminated; trailing whitespace such as zbarimg's newline is
 * ignored).  Owned result, or NULL with SETTLE_ERROR_FORMAT. */
SettleQrPayload *settle_qr_payload_parse (const char *text, gsize len, GError **error);

/* The canonical text (fields in the order V G N A H S; no A when `host`
 * is NULL, which needs `port` 0).  Refuses a payload that the parser
 * would refuse.  Owned; it holds the secret, so free it
 * with settle_base32_wipe_free(). */
char *settle_qr_payload_format (const SettleQrPayload *payload, GError **error);

/* Fills `secret` with `len` (16, 20 or 32) fresh bytes from RAND_priv_bytes
 * (devices). */
gboolean settle_qr_payload_generate_secret (SettleQrPayload *payload, gsize len, GError **error);

/* TRUE when SHA-256(spki_der) equals the pinned hash (constant time).
 * `spki_der` is borrowed: the DER SubjectPublicKeyInfo of the TLS leaf. */
gboolean settle_qr_payload_spki_matches (const SettleQrPayload *payload,
                                         const guint8 *spki_der, gsize spki_len);

G_END_DECLS
