/* spake2.c: SPAKE2-P256-SHA256-HKDF-HMAC exactly as RFC 9382 specifies it,
 * on OpenSSL 3 (EC_POINT / BIGNUM arithmetic, EVP_KDF HKDF, EVP_MAC HMAC). */
#include "settle-spake2.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include "settle-base32.h"
#include "settle-error.h"

/* RFC 9382 section 6, P-256: compressed SEC1 encodings of M and N. */
static const char spake2_m_hex[] =
  "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
static const char spake2_n_hex[] =
  "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";

/* Domain separation for w: the suite name keeps a future suite from ever
 * sharing w with this one for the same secret. */
static const char w_info[] = "settle/1 SPAKE2-P256-SHA256-HKDF-HMAC w";
#define W_HKDF_LEN 48 /* 128 bits beyond the 256-bit order: reduction bias <= 2^-128 */

static const char confirm_info[] = "ConfirmationKeys";
static const char sas_info[] = "settle SAS";

/* len(A) A len(B) B len(pA) pA len(pB) pB len(K) K len(w) w, 8-byte lengths. */
#define TT_MAX (6 * 8 + 2 * SETTLE_SPAKE2_ID_MAX + 3 * SETTLE_SPAKE2_SHARE_LEN \
                + SETTLE_SPAKE2_SCALAR_LEN)

typedef enum {
  STATE_SHARE_READY = 1,  /* own share computed, waiting for the peer's */
  STATE_KEYS_DERIVED,     /* K and the key schedule are there */
  STATE_CONFIRMED,        /* the peer proved it derived the same keys */
} SpakeState;

struct SettleSpake2 {
  SettleSpake2Role role;
  SpakeState state;
  char id_a[SETTLE_SPAKE2_ID_MAX + 1];
  char id_b[SETTLE_SPAKE2_ID_MAX + 1];
  guint8 aad[SETTLE_SPAKE2_AAD_MAX];
  gsize aad_len;

  EC_GROUP *group;          /* owned */
  BIGNUM *w;                /* owned, secret */
  BIGNUM *scalar;           /* owned, secret: x for A, y for B */
  guint8 own_share[SETTLE_SPAKE2_SHARE_LEN];
  guint8 peer_share[SETTLE_SPAKE2_SHARE_LEN];

  /* Key schedule (secret), valid from STATE_KEYS_DERIVED. */
  guint8 k[SETTLE_SPAKE2_SHARE_LEN];
  guint8 tt[TT_MAX];
  gsize tt_len;
  guint8 hash_tt[32];       /* Ke || Ka */
  guint8 kc[32];            /* KcA || KcB */
  guint8 conf_a[SETTLE_SPAKE2_CONFIRM_LEN];
  guint8 conf_b[SETTLE_SPAKE2_CONFIRM_LEN];
};

#define KE(ctx) ((ctx)->hash_tt)
#define KA(ctx) ((ctx)->hash_tt + SETTLE_SPAKE2_KEY_LEN)
#define KCA(ctx) ((ctx)->kc)
#define KCB(ctx) ((ctx)->kc + SETTLE_SPAKE2_KEY_LEN)

static gboolean
fail (GError **error, SettleErrorCode code, const char *message)
{
  g_set_error_literal (error, SETTLE_ERROR, code, message);
  return FALSE;
}

/* ---- suites ---- */

static const struct {
  SettleSpake2Suite suite;
  const char *name;
  const char *qr_id;
} suites[] = {
  { SETTLE_SPAKE2_SUITE_P256_SHA256, "SPAKE2-P256-SHA256-HKDF-HMAC", "p256" },
};

const char *
settle_spake2_suite_name (SettleSpake2Suite suite)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    if (suites[i].suite == suite)
      return suites[i].name;
  return NULL;
}

const char *
settle_spake2_suite_qr_id (SettleSpake2Suite suite)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    if (suites[i].suite == suite)
      return suites[i].qr_id;
  return NULL;
}

gboolean
settle_spake2_suite_from_name (const char *name, SettleSpake2Suite *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    if (g_strcmp0 (name, suites[i].name) == 0)
      {
        *out = suites[i].suite;
        return TRUE;
      }
  return FALSE;
}

gboolean
settle_spake2_suite_from_qr_id (const char *qr_id, SettleSpake2Suite *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (suites); i++)
    if (g_strcmp0 (qr_id, suites[i].qr_id) == 0)
      {
        *out = suites[i].suite;
        return TRUE;
      }
  return FALSE;
}

/* ---- primitives ---- */

static gboolean
hkdf_sha256 (const guint8 *ikm, gsize ikm_len, const guint8 *info, gsize info_len,
             guint8 *out, gsize out_len)
{
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
  EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new (kdf) : NULL;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0),
    OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, (void *) ikm, ikm_len),
    OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, (void *) info, info_len),
    OSSL_PARAM_construct_end (),
  };
  gboolean ok = kctx != NULL && EVP_KDF_derive (kctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free (kctx);
  EVP_KDF_free (kdf);
  return ok;
}

static gboolean
hmac_sha256 (const guint8 *key, gsize key_len, const guint8 *data, gsize data_len,
             guint8 out[32])
{
  size_t out_len = 0;
  return EVP_Q_mac (NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, data_len,
                    out, 32, &out_len) != NULL && out_len == 32;
}

static BIGNUM *
secret_bn_new (void)
{
  BIGNUM *bn = BN_secure_new ();
  if (bn != NULL)
    BN_set_flags (bn, BN_FLG_CONSTTIME);
  return bn;
}

static EC_POINT *
point_from_hex (const EC_GROUP *group, const char *hex)
{
  guint8 buf[SETTLE_SPAKE2_SHARE_LEN];
  long len = 0;
  unsigned char *raw = OPENSSL_hexstr2buf (hex, &len);
  EC_POINT *p = EC_POINT_new (group);

  if (raw == NULL || p == NULL || len <= 0 || (gsize) len > sizeof buf
      || EC_POINT_oct2point (group, p, raw, (size_t) len, NULL) != 1)
    {
      EC_POINT_free (p);
      p = NULL;
    }
  OPENSSL_free (raw);
  return p;
}

static gboolean
point_encode (const EC_GROUP *group, const EC_POINT *p, guint8 out[SETTLE_SPAKE2_SHARE_LEN],
              BN_CTX *bn_ctx)
{
  return EC_POINT_point2oct (group, p, POINT_CONVERSION_UNCOMPRESSED, out,
                             SETTLE_SPAKE2_SHARE_LEN, bn_ctx) == SETTLE_SPAKE2_SHARE_LEN;
}

/* ---- w ---- */

static gboolean
reduce_to_w (const guint8 *wide, gsize wide_len, BIGNUM *w, const EC_GROUP *group,
             BN_CTX *bn_ctx)
{
  BIGNUM *tmp = secret_bn_new ();
  gboolean ok = tmp != NULL && BN_bin2bn (wide, (int) wide_len, tmp) != NULL
                && BN_nnmod (w, tmp, EC_GROUP_get0_order (group), bn_ctx) == 1
                && !BN_is_zero (w);
  BN_clear_free (tmp);
  return ok;
}

gboolean
settle_spake2_derive_w (const guint8 *secret, gsize secret_len,
                        guint8 w_out[SETTLE_SPAKE2_SCALAR_LEN], GError **error)
{
  if (!settle_base32_secret_length_ok (secret_len))
    return fail (error, SETTLE_ERROR_FAILED, "The pairing secret is not 128, 160 or 256 bits long.");

  guint8 wide[W_HKDF_LEN];
  EC_GROUP *group = EC_GROUP_new_by_curve_name_ex (NULL, NULL, NID_X9_62_prime256v1);
  BN_CTX *bn_ctx = BN_CTX_secure_new ();
  BIGNUM *w = secret_bn_new ();
  gboolean ok = group != NULL && bn_ctx != NULL && w != NULL
                && hkdf_sha256 (secret, secret_len, (const guint8 *) w_info, strlen (w_info),
                                wide, sizeof wide)
                && reduce_to_w (wide, sizeof wide, w, group, bn_ctx)
                && BN_bn2binpad (w, w_out, SETTLE_SPAKE2_SCALAR_LEN) == SETTLE_SPAKE2_SCALAR_LEN;

  OPENSSL_cleanse (wide, sizeof wide);
  BN_clear_free (w);
  BN_CTX_free (bn_ctx);
  EC_GROUP_free (group);
  if (!ok)
    return fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not derive the SPAKE2 password scalar.");
  return TRUE;
}

/* ---- context ---- */

void
settle_spake2_free (SettleSpake2 *ctx)
{
  if (ctx == NULL)
    return;
  BN_clear_free (ctx->w);
  BN_clear_free (ctx->scalar);
  EC_GROUP_free (ctx->group);
  OPENSSL_cleanse (ctx, sizeof *ctx);
  g_free (ctx);
}

static gboolean
copy_identity (char *dest, const char *id, GError **error)
{
  if (id == NULL || strnlen (id, SETTLE_SPAKE2_ID_MAX + 1) > SETTLE_SPAKE2_ID_MAX)
    return fail (error, SETTLE_ERROR_FAILED, "A SPAKE2 identity is missing or longer than 253 bytes.");
  g_strlcpy (dest, id, SETTLE_SPAKE2_ID_MAX + 1);
  return TRUE;
}

/* Allocates the context and checks everything that does not need the
 * scalars; w and the scalar are filled in by the callers. */
static SettleSpake2 *
context_new (SettleSpake2Role role, const char *id_a, const char *id_b,
             const guint8 *aad, gsize aad_len, GError **error)
{
  if (role != SETTLE_SPAKE2_ROLE_A && role != SETTLE_SPAKE2_ROLE_B)
    {
      fail (error, SETTLE_ERROR_FAILED, "The SPAKE2 role must be A or B.");
      return NULL;
    }
  if (aad_len > SETTLE_SPAKE2_AAD_MAX || (aad == NULL && aad_len > 0))
    {
      fail (error, SETTLE_ERROR_FAILED, "The SPAKE2 additional data is missing or longer than 64 bytes.");
      return NULL;
    }

  g_autoptr (SettleSpake2) ctx = g_new0 (SettleSpake2, 1);
  ctx->role = role;
  if (!copy_identity (ctx->id_a, id_a, error) || !copy_identity (ctx->id_b, id_b, error))
    return NULL;
  if (aad_len > 0)
    memcpy (ctx->aad, aad, aad_len);
  ctx->aad_len = aad_len;

  ctx->group = EC_GROUP_new_by_curve_name_ex (NULL, NULL, NID_X9_62_prime256v1);
  ctx->w = secret_bn_new ();
  ctx->scalar = secret_bn_new ();
  if (ctx->group == NULL || ctx->w == NULL || ctx->scalar == NULL)
    {
      fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not set up the P-256 group.");
      return NULL;
    }
  return g_steal_pointer (&ctx);
}

/* pA = x*P + w*M (role A), pB = y*P + w*N (role B). */
/* x*G + w*M (or N) as two single-scalar products, each on OpenSSL's
 * constant-time ladder, then added.  One EC_POINT_mul with both scalars
 * would, on an OpenSSL without the constant-time P-256 code, fall back to
 * variable-time wNAF on the secret w. */
static gboolean
mul_secret_point (const EC_GROUP *group, EC_POINT *out, const EC_POINT *point, const BIGNUM *scalar,
                  BN_CTX *bn_ctx)
{
  BIGNUM *k = BN_dup (scalar);
  gboolean ok = k != NULL;
  if (ok)
    {
      BN_set_flags (k, BN_FLG_CONSTTIME);
      ok = point == NULL ? EC_POINT_mul (group, out, k, NULL, NULL, bn_ctx) == 1
                         : EC_POINT_mul (group, out, NULL, point, k, bn_ctx) == 1;
    }
  BN_clear_free (k);
  return ok;
}

static gboolean
compute_own_share (SettleSpake2 *ctx, GError **error)
{
  const char *blind_hex = ctx->role == SETTLE_SPAKE2_ROLE_A ? spake2_m_hex : spake2_n_hex;
  EC_POINT *blind = point_from_hex (ctx->group, blind_hex);
  EC_POINT *x_g = EC_POINT_new (ctx->group);
  EC_POINT *w_blind = EC_POINT_new (ctx->group);
  EC_POINT *share = EC_POINT_new (ctx->group);
  BN_CTX *bn_ctx = BN_CTX_secure_new ();
  gboolean ok = blind != NULL && x_g != NULL && w_blind != NULL && share != NULL && bn_ctx != NULL
                && mul_secret_point (ctx->group, x_g, NULL, ctx->scalar, bn_ctx)
                && mul_secret_point (ctx->group, w_blind, blind, ctx->w, bn_ctx)
                && EC_POINT_add (ctx->group, share, x_g, w_blind, bn_ctx) == 1
                && point_encode (ctx->group, share, ctx->own_share, bn_ctx);

  EC_POINT_clear_free (share);
  EC_POINT_clear_free (w_blind);
  EC_POINT_clear_free (x_g);
  EC_POINT_free (blind);
  BN_CTX_free (bn_ctx);
  if (!ok)
    return fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not compute the SPAKE2 share.");
  ctx->state = STATE_SHARE_READY;
  return TRUE;
}

static gboolean
random_scalar (BIGNUM *out, const EC_GROUP *group)
{
  /* Uniform in [1, p-1]: a zero scalar would make the share w*M alone. */
  BIGNUM *range = BN_dup (EC_GROUP_get0_order (group));
  gboolean ok = range != NULL && BN_sub_word (range, 1) == 1
                && BN_priv_rand_range_ex (out, range, 0, NULL) == 1
                && BN_add_word (out, 1) == 1;
  BN_free (range);
  return ok;
}

SettleSpake2 *
settle_spake2_new (SettleSpake2Role role, const char *id_a, const char *id_b,
                   const guint8 *secret, gsize secret_len,
                   const guint8 *aad, gsize aad_len, GError **error)
{
  g_autoptr (SettleSpake2) ctx = context_new (role, id_a, id_b, aad, aad_len, error);
  if (ctx == NULL)
    return NULL;

  guint8 w[SETTLE_SPAKE2_SCALAR_LEN];
  gboolean have_w = settle_spake2_derive_w (secret, secret_len, w, error);
  gboolean ok = have_w && BN_bin2bn (w, sizeof w, ctx->w) != NULL;
  OPENSSL_cleanse (w, sizeof w);
  if (!have_w)
    return NULL;
  if (!ok || !random_scalar (ctx->scalar, ctx->group))
    {
      fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not pick a random SPAKE2 scalar.");
      return NULL;
    }
  if (!compute_own_share (ctx, error))
    return NULL;
  return g_steal_pointer (&ctx);
}

/* A scalar given from outside must be a canonical non-zero residue. */
static gboolean
load_scalar (BIGNUM *out, const guint8 bytes[SETTLE_SPAKE2_SCALAR_LEN], const EC_GROUP *group)
{
  return BN_bin2bn (bytes, SETTLE_SPAKE2_SCALAR_LEN, out) != NULL && !BN_is_zero (out)
         && BN_cmp (out, EC_GROUP_get0_order (group)) < 0;
}

SettleSpake2 *
settle_spake2_new_with_scalar_for_testing (SettleSpake2Role role,
                                           const char *id_a, const char *id_b,
                                           const guint8 w[SETTLE_SPAKE2_SCALAR_LEN],
                                           const guint8 scalar[SETTLE_SPAKE2_SCALAR_LEN],
                                           const guint8 *aad, gsize aad_len,
                                           GError **error)
{
  g_autoptr (SettleSpake2) ctx = context_new (role, id_a, id_b, aad, aad_len, error);
  if (ctx == NULL)
    return NULL;
  if (!load_scalar (ctx->w, w, ctx->group) || !load_scalar (ctx->scalar, scalar, ctx->group))
    {
      fail (error, SETTLE_ERROR_FAILED, "A SPAKE2 test scalar is zero or not below the group order.");
      return NULL;
    }
  if (!compute_own_share (ctx, error))
    return NULL;
  return g_steal_pointer (&ctx);
}

void
settle_spake2_get_share (const SettleSpake2 *ctx, guint8 out[SETTLE_SPAKE2_SHARE_LEN])
{
  memcpy (out, ctx->own_share, SETTLE_SPAKE2_SHARE_LEN);
}

/* ---- peer share and key schedule ---- */

static EC_POINT *
decode_peer_point (const SettleSpake2 *ctx, const guint8 *share, gsize len, BN_CTX *bn_ctx,
                   GError **error)
{
  if (len != SETTLE_SPAKE2_SHARE_LEN || share[0] != POINT_CONVERSION_UNCOMPRESSED)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL,
                   "The peer's SPAKE2 share is not a %d-byte uncompressed P-256 point.",
                   SETTLE_SPAKE2_SHARE_LEN);
      return NULL;
    }
  EC_POINT *p = EC_POINT_new (ctx->group);
  if (p == NULL || EC_POINT_oct2point (ctx->group, p, share, len, bn_ctx) != 1
      || EC_POINT_is_on_curve (ctx->group, p, bn_ctx) != 1)
    {
      EC_POINT_free (p);
      fail (error, SETTLE_ERROR_PROTOCOL, "The peer's SPAKE2 share is not a point on P-256.");
      return NULL;
    }
  if (EC_POINT_is_at_infinity (ctx->group, p))
    {
      EC_POINT_free (p);
      fail (error, SETTLE_ERROR_PROTOCOL, "The peer's SPAKE2 share is the identity element.");
      return NULL;
    }
  return p;
}

/* A: K = x * (pB - w*N);  B: K = y * (pA - w*M).  The cofactor of P-256
 * is 1, so RFC 9382's h is left out. */
static gboolean
compute_k (SettleSpake2 *ctx, const EC_POINT *peer, BN_CTX *bn_ctx, GError **error)
{
  const char *peer_blind_hex = ctx->role == SETTLE_SPAKE2_ROLE_A ? spake2_n_hex : spake2_m_hex;
  EC_POINT *blind = point_from_hex (ctx->group, peer_blind_hex);
  EC_POINT *unblinded = EC_POINT_new (ctx->group);
  EC_POINT *k = EC_POINT_new (ctx->group);
  gboolean ok = blind != NULL && unblinded != NULL && k != NULL
                && EC_POINT_mul (ctx->group, unblinded, NULL, blind, ctx->w, bn_ctx) == 1
                && EC_POINT_invert (ctx->group, unblinded, bn_ctx) == 1
                && EC_POINT_add (ctx->group, unblinded, peer, unblinded, bn_ctx) == 1
                && EC_POINT_mul (ctx->group, k, NULL, unblinded, ctx->scalar, bn_ctx) == 1;
  gboolean identity = ok && EC_POINT_is_at_infinity (ctx->group, k);
  if (ok && !identity)
    ok = point_encode (ctx->group, k, ctx->k, bn_ctx);

  EC_POINT_clear_free (k);
  EC_POINT_clear_free (unblinded);
  EC_POINT_free (blind);
  if (identity)
    return fail (error, SETTLE_ERROR_PROTOCOL,
                 "The peer's SPAKE2 share leads to the identity element and is refused.");
  if (!ok)
    return fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not compute the SPAKE2 key.");
  return TRUE;
}

static void
tt_append (SettleSpake2 *ctx, const void *data, gsize len)
{
  guint64 le = GUINT64_TO_LE ((guint64) len);
  g_assert (ctx->tt_len + sizeof le + len <= sizeof ctx->tt);
  memcpy (ctx->tt + ctx->tt_len, &le, sizeof le);
  ctx->tt_len += sizeof le;
  if (len > 0)
    memcpy (ctx->tt + ctx->tt_len, data, len);
  ctx->tt_len += len;
}

static gboolean
build_transcript (SettleSpake2 *ctx)
{
  const guint8 *pa = ctx->role == SETTLE_SPAKE2_ROLE_A ? ctx->own_share : ctx->peer_share;
  const guint8 *pb = ctx->role == SETTLE_SPAKE2_ROLE_A ? ctx->peer_share : ctx->own_share;
  guint8 w[SETTLE_SPAKE2_SCALAR_LEN];

  if (BN_bn2binpad (ctx->w, w, sizeof w) != sizeof w)
    return FALSE;
  ctx->tt_len = 0;
  tt_append (ctx, ctx->id_a, strlen (ctx->id_a));
  tt_append (ctx, ctx->id_b, strlen (ctx->id_b));
  tt_append (ctx, pa, SETTLE_SPAKE2_SHARE_LEN);
  tt_append (ctx, pb, SETTLE_SPAKE2_SHARE_LEN);
  tt_append (ctx, ctx->k, SETTLE_SPAKE2_SHARE_LEN);
  tt_append (ctx, w, sizeof w);
  OPENSSL_cleanse (w, sizeof w);
  return TRUE;
}

/* Hash(TT) = Ke || Ka;  KcA || KcB = HKDF(Ka, "ConfirmationKeys" || AAD);
 * confirmations are HMAC(KcA, TT) and HMAC(KcB, TT). */
static gboolean
derive_key_schedule (SettleSpake2 *ctx)
{
  guint8 info[sizeof confirm_info - 1 + SETTLE_SPAKE2_AAD_MAX];
  gsize info_len = sizeof confirm_info - 1;
  memcpy (info, confirm_info, info_len);
  memcpy (info + info_len, ctx->aad, ctx->aad_len);
  info_len += ctx->aad_len;

  unsigned int hash_len = 0;
  return EVP_Digest (ctx->tt, ctx->tt_len, ctx->hash_tt, &hash_len, EVP_sha256 (), NULL) == 1
         && hash_len == sizeof ctx->hash_tt
         && hkdf_sha256 (KA (ctx), SETTLE_SPAKE2_KEY_LEN, info, info_len, ctx->kc, sizeof ctx->kc)
         && hmac_sha256 (KCA (ctx), SETTLE_SPAKE2_KEY_LEN, ctx->tt, ctx->tt_len, ctx->conf_a)
         && hmac_sha256 (KCB (ctx), SETTLE_SPAKE2_KEY_LEN, ctx->tt, ctx->tt_len, ctx->conf_b);
}

gboolean
settle_spake2_process_peer_share (SettleSpake2 *ctx, const guint8 *share, gsize len,
                                  GError **error)
{
  if (ctx->state != STATE_SHARE_READY)
    return fail (error, SETTLE_ERROR_FAILED, "The peer's SPAKE2 share was already processed.");

  BN_CTX *bn_ctx = BN_CTX_secure_new ();
  if (bn_ctx == NULL)
    return fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not allocate a big-number context.");
  EC_POINT *peer = decode_peer_point (ctx, share, len, bn_ctx, error);
  gboolean ok = peer != NULL && compute_k (ctx, peer, bn_ctx, error);
  EC_POINT_free (peer);
  BN_CTX_free (bn_ctx);
  if (!ok)
    return FALSE;

  memcpy (ctx->peer_share, share, SETTLE_SPAKE2_SHARE_LEN);
  if (!build_transcript (ctx) || !derive_key_schedule (ctx))
    return fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not derive the SPAKE2 key schedule.");
  ctx->state = STATE_KEYS_DERIVED;
  return TRUE;
}

/* ---- confirmation and results ---- */

gboolean
settle_spake2_get_confirmation (const SettleSpake2 *ctx,
                                guint8 out[SETTLE_SPAKE2_CONFIRM_LEN], GError **error)
{
  if (ctx->state < STATE_KEYS_DERIVED)
    return fail (error, SETTLE_ERROR_FAILED, "The SPAKE2 confirmation needs the peer's share first.");
  memcpy (out, ctx->role == SETTLE_SPAKE2_ROLE_A ? ctx->conf_a : ctx->conf_b,
          SETTLE_SPAKE2_CONFIRM_LEN);
  return TRUE;
}

gboolean
settle_spake2_verify_peer_confirmation (SettleSpake2 *ctx, const guint8 *confirm, gsize len,
                                        GError **error)
{
  if (ctx->state < STATE_KEYS_DERIVED)
    return fail (error, SETTLE_ERROR_FAILED, "The SPAKE2 confirmation needs the peer's share first.");
  const guint8 *expected = ctx->role == SETTLE_SPAKE2_ROLE_A ? ctx->conf_b : ctx->conf_a;
  if (len != SETTLE_SPAKE2_CONFIRM_LEN
      || CRYPTO_memcmp (expected, confirm, SETTLE_SPAKE2_CONFIRM_LEN) != 0)
    return fail (error, SETTLE_ERROR_AUTH,
                 "The key confirmation failed: the code does not match this device or the connection was relayed.");
  ctx->state = STATE_CONFIRMED;
  return TRUE;
}

gboolean
settle_spake2_get_session_key (const SettleSpake2 *ctx, guint8 out[SETTLE_SPAKE2_KEY_LEN],
                               GError **error)
{
  if (ctx->state != STATE_CONFIRMED)
    return fail (error, SETTLE_ERROR_FAILED, "The SPAKE2 session key exists only after confirmation.");
  memcpy (out, KE (ctx), SETTLE_SPAKE2_KEY_LEN);
  return TRUE;
}

char *
settle_spake2_short_auth_string (const SettleSpake2 *ctx, GError **error)
{
  if (ctx->state != STATE_CONFIRMED)
    {
      fail (error, SETTLE_ERROR_FAILED, "The short authentication string exists only after confirmation.");
      return NULL;
    }
  guint8 raw[8];
  if (!hkdf_sha256 (KE (ctx), SETTLE_SPAKE2_KEY_LEN, (const guint8 *) sas_info, strlen (sas_info),
                    raw, sizeof raw))
    {
      fail (error, SETTLE_ERROR_FAILED, "OpenSSL could not derive the short authentication string.");
      return NULL;
    }
  guint64 value = 0;
  for (gsize i = 0; i < sizeof raw; i++)
    value = (value << 8) | raw[i];
  /* 64 bits mod 10^6: the bias is below 2^-44. */
  guint digits = (guint) (value % 1000000u);
  OPENSSL_cleanse (raw, sizeof raw);
  value = 0;
  return g_strdup_printf ("%03u %03u", digits / 1000, digits % 1000);
}

/* ---- test support ---- */

void
settle_spake2_test_values_clear (SettleSpake2TestValues *v)
{
  GBytes **all[] = { &v->pA, &v->pB, &v->K, &v->TT, &v->hash_tt, &v->Ke, &v->Ka,
                     &v->KcA, &v->KcB, &v->A_conf, &v->B_conf };
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], g_bytes_unref);
}

gboolean
settle_spake2_export_values_for_testing (const SettleSpake2 *ctx, SettleSpake2TestValues *out,
                                         GError **error)
{
  if (ctx->state < STATE_KEYS_DERIVED)
    return fail (error, SETTLE_ERROR_FAILED, "The SPAKE2 values exist only after the peer's share.");
  gboolean a = ctx->role == SETTLE_SPAKE2_ROLE_A;
  out->pA = g_bytes_new (a ? ctx->own_share : ctx->peer_share, SETTLE_SPAKE2_SHARE_LEN);
  out->pB = g_bytes_new (a ? ctx->peer_share : ctx->own_share, SETTLE_SPAKE2_SHARE_LEN);
  out->K = g_bytes_new (ctx->k, sizeof ctx->k);
  out->TT = g_bytes_new (ctx->tt, ctx->tt_len);
  out->hash_tt = g_bytes_new (ctx->hash_tt, sizeof ctx->hash_tt);
  out->Ke = g_bytes_new (KE (ctx), SETTLE_SPAKE2_KEY_LEN);
  out->Ka = g_bytes_new (KA (ctx), SETTLE_SPAKE2_KEY_LEN);
  out->KcA = g_bytes_new (KCA (ctx), SETTLE_SPAKE2_KEY_LEN);
  out->KcB = g_bytes_new (KCB (ctx), SETTLE_SPAKE2_KEY_LEN);
  out->A_conf = g_bytes_new (ctx->conf_a, sizeof ctx->conf_a);
  out->B_conf = g_bytes_new (ctx->conf_b, sizeof ctx->conf_b);
  return TRUE;
}
