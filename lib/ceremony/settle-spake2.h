/* settle-spake2.h: SPAKE2 (RFC 9382) for the pairing ceremony.
 *
 * One suite today, SPAKE2-P256-SHA256-HKDF-HMAC, named in the QR payload
 * and in the first ceremony message so that later suites can be added
 * (REQ-TRANS-05).  Role A is the helper (client), role B the device.
 *
 * Use (both roles):
 *   ctx = settle_spake2_new (role, id_a, id_b, secret, len, aad, aad_len, &err);
 *   settle_spake2_get_share (ctx, my_share);          send it
 *   settle_spake2_process_peer_share (ctx, peer, n);  after receiving the peer's
 *   settle_spake2_get_confirmation (ctx, my_conf);    send it
 *   settle_spake2_verify_peer_confirmation (ctx, c, n, &err);
 *   settle_spake2_get_session_key / settle_spake2_short_auth_string
 *   settle_spake2_free (ctx);                         wipes every secret
 *
 * The password is the pairing secret's raw bytes; w is derived from it as
 * schema/qr-payload.md "Deriving w" says.  The identities are A = "settle
 * client" (SETTLE_SPAKE2_ID_CLIENT) and B = the device's canonical name;
 * the additional data is the TLS exporter value (SETTLE_SPAKE2_EXPORTER_*),
 * which ties the exchange to one TLS connection.
 *
 * Errors: SETTLE_ERROR_PROTOCOL for a malformed or invalid peer share,
 * SETTLE_ERROR_AUTH for a confirmation that does not match (wrong secret,
 * wrong name, relayed connection), SETTLE_ERROR_FAILED for calls out of
 * order or an OpenSSL failure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SETTLE_SPAKE2_SUITE_P256_SHA256 = 1, /* SPAKE2-P256-SHA256-HKDF-HMAC */
} SettleSpake2Suite;

typedef enum {
  SETTLE_SPAKE2_ROLE_A = 1, /* initiator: the helper */
  SETTLE_SPAKE2_ROLE_B = 2, /* responder: the device */
} SettleSpake2Role;

#define SETTLE_SPAKE2_SHARE_LEN 65    /* pA, pB: uncompressed SEC1 P-256 point */
#define SETTLE_SPAKE2_CONFIRM_LEN 32  /* HMAC-SHA256 */
#define SETTLE_SPAKE2_KEY_LEN 16      /* Ke, Ka */
#define SETTLE_SPAKE2_SCALAR_LEN 32   /* w, x, y: big-endian */
#define SETTLE_SPAKE2_ID_MAX 253      /* a DNS name at most */
#define SETTLE_SPAKE2_AAD_MAX 64

#define SETTLE_SPAKE2_ID_CLIENT "settle client"
/* RFC 8446 section 7.5 exporter, empty context, 32 bytes. */
#define SETTLE_SPAKE2_EXPORTER_LABEL "EXPERIMENTAL-settle-spake2"
#define SETTLE_SPAKE2_EXPORTER_LEN 32

typedef struct SettleSpake2 SettleSpake2; /* opaque; owns every secret */

/* "SPAKE2-P256-SHA256-HKDF-HMAC" (ceremony messages) and "p256" (QR `G:`).
 * Static strings; NULL for an unknown suite. */
const char *settle_spake2_suite_name (SettleSpake2Suite suite);
const char *settle_spake2_suite_qr_id (SettleSpake2Suite suite);
/* FALSE for names this program does not implement. */
gboolean settle_spake2_suite_from_name (const char *name, SettleSpake2Suite *out);
gboolean settle_spake2_suite_from_qr_id (const char *qr_id, SettleSpake2Suite *out);

/* w from the raw secret (schema/qr-payload.md): HKDF-SHA256, 48 bytes,
 * reduced mod the P-256 order, written big-endian into w_out. */
gboolean settle_spake2_derive_w (const guint8 *secret, gsize secret_len,
                                 guint8 w_out[SETTLE_SPAKE2_SCALAR_LEN], GError **error);

/* A context with a fresh random scalar.  Everything passed in is borrowed
 * and copied; id_a/id_b may be "" (never NULL) and are at most
 * SETTLE_SPAKE2_ID_MAX bytes; aad may be NULL when aad_len is 0.  The
 * secret must be 16, 20 or 32 bytes (settle_base32_secret_length_ok). */
SettleSpake2 *settle_spake2_new (SettleSpake2Role role, const char *id_a, const char *id_b,
                                 const guint8 *secret, gsize secret_len,
                                 const guint8 *aad, gsize aad_len, GError **error);

/* For the RFC 9382 test vectors only: w and the own scalar (x for A, y for
 * B) given directly.  Never call this from product code: a fixed scalar
 * gives the password away to anyone who saw one exchange. */
SettleSpake2 *settle_spake2_new_with_scalar_for_testing (SettleSpake2Role role,
                                                         const char *id_a, const char *id_b,
                                                         const guint8 w[SETTLE_SPAKE2_SCALAR_LEN],
                                                         const guint8 scalar[SETTLE_SPAKE2_SCALAR_LEN],
                                                         const guint8 *aad, gsize aad_len,
                                                         GError **error);

/* Own share (pA for A, pB for B), copied into caller-owned `out`. */
void settle_spake2_get_share (const SettleSpake2 *ctx, guint8 out[SETTLE_SPAKE2_SHARE_LEN]);

/* Takes the peer's share (borrowed), refuses anything but an uncompressed
 * point on P-256 that is not the identity, and derives K, TT, Ke, Ka, KcA,
 * KcB.  Callable once. */
gboolean settle_spake2_process_peer_share (SettleSpake2 *ctx, const guint8 *share, gsize len,
                                           GError **error);

/* Own confirmation (A: HMAC(KcA, TT), B: HMAC(KcB, TT)) into `out`;
 * FALSE before the peer's share was processed. */
gboolean settle_spake2_get_confirmation (const SettleSpake2 *ctx,
                                         guint8 out[SETTLE_SPAKE2_CONFIRM_LEN], GError **error);

/* Checks the peer's confirmation in constant time.  Until it succeeds the
 * session key and the short authentication string are refused. */
gboolean settle_spake2_verify_peer_confirmation (SettleSpake2 *ctx, const guint8 *confirm,
                                                 gsize len, GError **error);

/* Ke, copied into caller-owned `out` (the caller wipes it). */
gboolean settle_spake2_get_session_key (const SettleSpake2 *ctx,
                                        guint8 out[SETTLE_SPAKE2_KEY_LEN], GError **error);

/* Six digits "123 456" from HKDF(Ke, info "settle SAS"), for both screens.
 * Owned; NULL (with error) before confirmation. */
char *settle_spake2_short_auth_string (const SettleSpake2 *ctx, GError **error);

/* Wipes w, the scalar, K, TT, Ke, Ka, KcA, KcB, then frees.  NULL is fine. */
void settle_spake2_free (SettleSpake2 *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleSpake2, settle_spake2_free)

/* Intermediate values for the RFC 9382 vector tests: every field is owned
 * by the struct; free with settle_spake2_test_values_clear(). */
typedef struct {
  GBytes *pA, *pB, *K, *TT, *hash_tt, *Ke, *Ka, *KcA, *KcB, *A_conf, *B_conf;
} SettleSpake2TestValues;

gboolean settle_spake2_export_values_for_testing (const SettleSpake2 *ctx,
                                                  SettleSpake2TestValues *out, GError **error);
void settle_spake2_test_values_clear (SettleSpake2TestValues *values);

G_END_DECLS
