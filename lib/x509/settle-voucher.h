/* settle-voucher.h: the manufacturer voucher of schema/voucher.md, an
 * RFC 8366 ietf-voucher JSON object profiled for settle, in a CMS
 * SignedData (OpenSSL's CMS API; eContentType id-ct-animaJSONVoucher)
 * signed with the device's IDevID key at pairing time.
 *
 * What signs what: the manufacturer's IDevID certificate binds the
 * device's serial number to its IDevID key; the voucher, signed with that
 * key, binds the same serial number to the local name being paired, the
 * SHA-256 of the key being trusted (device CA, or the pinned leaf) and the
 * nonce the user agent sent in this ceremony.  Checking the voucher here
 * is only the signature and the format; what it must match is checked by
 * the caller (settle-manufacturer.h), which knows the ceremony.
 *
 * Ownership: X509 and EVP_PKEY arguments are borrowed; returned GBytes,
 * strings and SettleVoucher are owned. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define SETTLE_VOUCHER_CMS_MAX 16384        /* bytes of DER, the whole SignedData */
#define SETTLE_VOUCHER_JSON_MAX 4096        /* bytes of the signed JSON */
#define SETTLE_VOUCHER_NONCE_LEN 32         /* what settle sends */
#define SETTLE_VOUCHER_NONCE_MIN 16         /* what a voucher may carry */
#define SETTLE_VOUCHER_NONCE_MAX 64
#define SETTLE_VOUCHER_SERIAL_MAX 64        /* printable ASCII, as in the IDevID subject */
#define SETTLE_VOUCHER_MAX_LIFETIME_S 3600  /* expires-on - created-on, at most */
#define SETTLE_VOUCHER_CLOCK_SKEW_S 300     /* created-on may lie this far in the future */
#define SETTLE_IDEVID_CHAIN_MAX 4           /* IDevID and its issuing CAs, root excluded */

/* The members of a voucher, as signed or as read. */
typedef struct {
  char *assertion;                 /* "proximity" (schema/voucher.md) */
  char *serial_number;             /* the IDevID subject's serialNumber */
  char *local_name;                /* "settle-voucher:local-name": the canonical name paired */
  guint8 pubk_sha256[32];          /* "pinned-domain-pubk-sha256": SHA-256 of the SPKI DER
                                    * of the key the user agent will trust */
  GBytes *nonce;                   /* the user agent's nonce of this ceremony */
  gint64 created_on, expires_on;   /* unix seconds */
} SettleVoucher;

void settle_voucher_free (SettleVoucher *voucher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleVoucher, settle_voucher_free)

/* SHA-256 of the DER SubjectPublicKeyInfo of `cert`. */
gboolean settle_voucher_spki_sha256 (X509 *cert, guint8 out[32]);

/* The serialNumber attribute of the subject of an IDevID (802.1AR), owned;
 * NULL (SETTLE_ERROR_VOUCHER) when there is none, or it is not 1 to
 * SETTLE_VOUCHER_SERIAL_MAX printable ASCII characters. */
char *settle_idevid_serial_number (X509 *idevid, GError **error);

/* The voucher's JSON text (owned), exactly as it would be signed. */
char *settle_voucher_to_json (const SettleVoucher *voucher);

/* Signs `voucher` with `key` (the IDevID key; `signer` its certificate,
 * `extra` (may be NULL) further certificates to carry) into CMS
 * SignedData DER (owned). */
GBytes *settle_voucher_sign (const SettleVoucher *voucher, X509 *signer, EVP_PKEY *key,
                             STACK_OF (X509) *extra, GError **error);

/* Checks that `cms_der` is a SignedData of a JSON voucher with exactly one
 * signer, whose signature verifies with the key of `idevid` (the leaf the
 * device presented; certificates inside the CMS are ignored), and parses
 * the JSON (json-glib) within the bounds above.  SETTLE_ERROR_VOUCHER
 * with one sentence otherwise.  Validity, nonce, name and key are the
 * caller's to compare. */
SettleVoucher *settle_voucher_open (GBytes *cms_der, X509 *idevid, GError **error);

G_END_DECLS
