/* test-spake2.c: SPAKE2 against RFC 9382 and between two live parties. */
#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/rand.h>

#include "settle-base32.h"
#include "settle-error.h"
#include "settle-spake2.h"

typedef struct {
  JsonParser *parser; /* owned */
  JsonArray *vectors; /* borrowed from parser */
} Vectors;

static GBytes *
hex_bytes (const char *hex)
{
  gsize n = strlen (hex);
  g_assert_true (n % 2 == 0);
  guint8 *buf = g_malloc (n / 2 + 1);
  for (gsize i = 0; i < n / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      g_assert_true (hi >= 0 && lo >= 0);
      buf[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (buf, n / 2);
}

static GBytes *
vector_bytes (JsonObject *v, const char *member)
{
  return hex_bytes (json_object_get_string_member (v, member));
}

static void
assert_bytes_equal (GBytes *got, JsonObject *v, const char *member)
{
  g_autoptr (GBytes) want = vector_bytes (v, member);
  if (!g_bytes_equal (got, want))
    g_error ("%s: %s differs from RFC 9382", json_object_get_string_member (v, "name"), member);
}

static void
vectors_load (Vectors *vs)
{
  g_autoptr (GError) error = NULL;
  vs->parser = json_parser_new ();
  json_parser_load_from_file (vs->parser,
                              VECTORS_DIR "/rfc9382-p256-sha256-hkdf-hmac-vectors.json", &error);
  g_assert_no_error (error);
  JsonObject *root = json_node_get_object (json_parser_get_root (vs->parser));
  vs->vectors = json_object_get_array_member (root, "vectors");
  g_assert_cmpuint (json_array_get_length (vs->vectors), ==, 3);
}

static SettleSpake2 *
vector_party (JsonObject *v, SettleSpake2Role role)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) w = vector_bytes (v, "w");
  g_autoptr (GBytes) scalar = vector_bytes (v, role == SETTLE_SPAKE2_ROLE_A ? "x" : "y");
  g_assert_cmpuint (g_bytes_get_size (w), ==, SETTLE_SPAKE2_SCALAR_LEN);
  g_assert_cmpuint (g_bytes_get_size (scalar), ==, SETTLE_SPAKE2_SCALAR_LEN);
  SettleSpake2 *ctx = settle_spake2_new_with_scalar_for_testing (
    role, json_object_get_string_member (v, "idA"), json_object_get_string_member (v, "idB"),
    g_bytes_get_data (w, NULL), g_bytes_get_data (scalar, NULL), NULL, 0, &error);
  g_assert_no_error (error);
  return ctx;
}

static void
assert_party_matches_vector (SettleSpake2 *ctx, JsonObject *v)
{
  g_autoptr (GError) error = NULL;
  SettleSpake2TestValues got = { 0 };
  g_assert_true (settle_spake2_export_values_for_testing (ctx, &got, &error));
  g_assert_no_error (error);
  assert_bytes_equal (got.pA, v, "pA");
  assert_bytes_equal (got.pB, v, "pB");
  assert_bytes_equal (got.K, v, "K");
  assert_bytes_equal (got.TT, v, "TT");
  assert_bytes_equal (got.hash_tt, v, "HashTT");
  assert_bytes_equal (got.Ke, v, "Ke");
  assert_bytes_equal (got.Ka, v, "Ka");
  assert_bytes_equal (got.KcA, v, "KcA");
  assert_bytes_equal (got.KcB, v, "KcB");
  assert_bytes_equal (got.A_conf, v, "A_conf");
  assert_bytes_equal (got.B_conf, v, "B_conf");
  settle_spake2_test_values_clear (&got);
  g_assert_null (got.TT);
}

static void
assert_share_is (SettleSpake2 *ctx, JsonObject *v, const char *member)
{
  guint8 share[SETTLE_SPAKE2_SHARE_LEN];
  settle_spake2_get_share (ctx, share);
  g_autoptr (GBytes) got = g_bytes_new (share, sizeof share);
  assert_bytes_equal (got, v, member);
}

static void
exchange_confirmations (SettleSpake2 *a, SettleSpake2 *b, GError **error_at_a,
                        GError **error_at_b)
{
  guint8 ca[SETTLE_SPAKE2_CONFIRM_LEN], cb[SETTLE_SPAKE2_CONFIRM_LEN];
  g_assert_true (settle_spake2_get_confirmation (a, ca, NULL));
  g_assert_true (settle_spake2_get_confirmation (b, cb, NULL));
  settle_spake2_verify_peer_confirmation (b, ca, sizeof ca, error_at_b);
  settle_spake2_verify_peer_confirmation (a, cb, sizeof cb, error_at_a);
}

static void
exchange_shares (SettleSpake2 *a, SettleSpake2 *b)
{
  g_autoptr (GError) error = NULL;
  guint8 pa[SETTLE_SPAKE2_SHARE_LEN], pb[SETTLE_SPAKE2_SHARE_LEN];
  settle_spake2_get_share (a, pa);
  settle_spake2_get_share (b, pb);
  g_assert_true (settle_spake2_process_peer_share (b, pa, sizeof pa, &error));
  g_assert_no_error (error);
  g_assert_true (settle_spake2_process_peer_share (a, pb, sizeof pb, &error));
  g_assert_no_error (error);
}

static void
test_rfc_vector (gconstpointer data)
{
  guint index = GPOINTER_TO_UINT (data);
  Vectors vs;
  vectors_load (&vs);
  JsonObject *v = json_array_get_object_element (vs.vectors, index);

  g_autoptr (SettleSpake2) a = vector_party (v, SETTLE_SPAKE2_ROLE_A);
  g_autoptr (SettleSpake2) b = vector_party (v, SETTLE_SPAKE2_ROLE_B);
  assert_share_is (a, v, "pA");
  assert_share_is (b, v, "pB");
  exchange_shares (a, b);
  assert_party_matches_vector (a, v);
  assert_party_matches_vector (b, v);

  g_autoptr (GError) error_a = NULL;
  g_autoptr (GError) error_b = NULL;
  exchange_confirmations (a, b, &error_a, &error_b);
  g_assert_no_error (error_a);
  g_assert_no_error (error_b);
  g_object_unref (vs.parser);
}

static void
random_secret (guint8 *out, gsize len)
{
  g_assert_cmpint (RAND_bytes (out, (int) len), ==, 1);
}

static const guint8 exporter_one[SETTLE_SPAKE2_EXPORTER_LEN] = { 1, 2, 3, 4, 5 };
static const guint8 exporter_two[SETTLE_SPAKE2_EXPORTER_LEN] = { 1, 2, 3, 4, 6 };

static SettleSpake2 *
live_party (SettleSpake2Role role, const char *device, const guint8 *secret,
            const guint8 *aad)
{
  g_autoptr (GError) error = NULL;
  SettleSpake2 *ctx = settle_spake2_new (role, SETTLE_SPAKE2_ID_CLIENT, device, secret,
                                         SETTLE_SECRET_RECOMMENDED_BYTES, aad,
                                         SETTLE_SPAKE2_EXPORTER_LEN, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ctx);
  return ctx;
}

static void
test_live_exchange_succeeds (void)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (secret, sizeof secret);
  g_autoptr (SettleSpake2) a = live_party (SETTLE_SPAKE2_ROLE_A, "printer.local", secret, exporter_one);
  g_autoptr (SettleSpake2) b = live_party (SETTLE_SPAKE2_ROLE_B, "printer.local", secret, exporter_one);

  g_autoptr (GError) error = NULL;
  guint8 key[SETTLE_SPAKE2_KEY_LEN];
  g_assert_false (settle_spake2_get_session_key (a, key, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
  g_clear_error (&error);

  exchange_shares (a, b);
  g_assert_null (settle_spake2_short_auth_string (a, &error));
  g_clear_error (&error);

  g_autoptr (GError) error_a = NULL;
  g_autoptr (GError) error_b = NULL;
  exchange_confirmations (a, b, &error_a, &error_b);
  g_assert_no_error (error_a);
  g_assert_no_error (error_b);

  guint8 key_a[SETTLE_SPAKE2_KEY_LEN], key_b[SETTLE_SPAKE2_KEY_LEN];
  g_assert_true (settle_spake2_get_session_key (a, key_a, NULL));
  g_assert_true (settle_spake2_get_session_key (b, key_b, NULL));
  g_assert_cmpmem (key_a, sizeof key_a, key_b, sizeof key_b);

  g_autofree char *sas_a = settle_spake2_short_auth_string (a, NULL);
  g_autofree char *sas_b = settle_spake2_short_auth_string (b, NULL);
  g_assert_cmpstr (sas_a, ==, sas_b);
  g_assert_true (g_regex_match_simple ("^[0-9]{3} [0-9]{3}$", sas_a, 0, 0));
}

static void
assert_exchange_fails (const guint8 *secret_a, const guint8 *secret_b, const char *name_a,
                       const char *name_b, const guint8 *aad_a, const guint8 *aad_b)
{
  g_autoptr (SettleSpake2) a = live_party (SETTLE_SPAKE2_ROLE_A, name_a, secret_a, aad_a);
  g_autoptr (SettleSpake2) b = live_party (SETTLE_SPAKE2_ROLE_B, name_b, secret_b, aad_b);
  exchange_shares (a, b);

  g_autoptr (GError) error_a = NULL;
  g_autoptr (GError) error_b = NULL;
  exchange_confirmations (a, b, &error_a, &error_b);
  g_assert_error (error_a, SETTLE_ERROR, SETTLE_ERROR_AUTH);
  g_assert_error (error_b, SETTLE_ERROR, SETTLE_ERROR_AUTH);

  guint8 key[SETTLE_SPAKE2_KEY_LEN];
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_spake2_get_session_key (a, key, &error));
}

static void
test_different_passwords_fail (void)
{
  guint8 s1[SETTLE_SECRET_RECOMMENDED_BYTES], s2[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (s1, sizeof s1);
  memcpy (s2, s1, sizeof s2);
  s2[sizeof s2 - 1] ^= 0x01;
  assert_exchange_fails (s1, s2, "printer.local", "printer.local", exporter_one, exporter_one);
}

static void
test_different_aad_fails (void)
{
  guint8 s[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (s, sizeof s);
  assert_exchange_fails (s, s, "printer.local", "printer.local", exporter_one, exporter_two);
}

static void
test_different_device_name_fails (void)
{
  guint8 s[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (s, sizeof s);
  assert_exchange_fails (s, s, "printer.local", "printer-2.local", exporter_one, exporter_one);
}

static void
assert_share_refused (const guint8 *share, gsize len, const char *why)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (secret, sizeof secret);
  g_autoptr (SettleSpake2) a = live_party (SETTLE_SPAKE2_ROLE_A, "nas.home.arpa", secret, exporter_one);
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_spake2_process_peer_share (a, share, len, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL);
  g_test_message ("%s: %s", why, error->message);

  guint8 conf[SETTLE_SPAKE2_CONFIRM_LEN];
  g_clear_error (&error);
  g_assert_false (settle_spake2_get_confirmation (a, conf, &error));
}

static void
test_bad_peer_shares_refused (void)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (secret, sizeof secret);
  g_autoptr (SettleSpake2) b = live_party (SETTLE_SPAKE2_ROLE_B, "nas.home.arpa", secret, exporter_one);
  guint8 good[SETTLE_SPAKE2_SHARE_LEN];
  settle_spake2_get_share (b, good);

  guint8 bad[SETTLE_SPAKE2_SHARE_LEN + 1];
  assert_share_refused (good, sizeof good - 1, "truncated");

  memcpy (bad, good, sizeof good);
  bad[sizeof good] = 0;
  assert_share_refused (bad, sizeof good + 1, "one byte too long");

  memcpy (bad, good, sizeof good);
  bad[0] = 0x02;
  assert_share_refused (bad, sizeof good, "compressed prefix");

  memcpy (bad, good, sizeof good);
  bad[sizeof good - 1] ^= 0x01;
  assert_share_refused (bad, sizeof good, "off the curve");

  memset (bad, 0, sizeof bad);
  bad[0] = 0x04;
  assert_share_refused (bad, sizeof good, "all-zero coordinates");
}

static void
test_share_processed_once (void)
{
  guint8 s[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (s, sizeof s);
  g_autoptr (SettleSpake2) a = live_party (SETTLE_SPAKE2_ROLE_A, "nas.home.arpa", s, exporter_one);
  g_autoptr (SettleSpake2) b = live_party (SETTLE_SPAKE2_ROLE_B, "nas.home.arpa", s, exporter_one);
  exchange_shares (a, b);
  guint8 pb[SETTLE_SPAKE2_SHARE_LEN];
  settle_spake2_get_share (b, pb);
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_spake2_process_peer_share (a, pb, sizeof pb, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
}

static void
test_short_confirmation_refused (void)
{
  guint8 s[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (s, sizeof s);
  g_autoptr (SettleSpake2) a = live_party (SETTLE_SPAKE2_ROLE_A, "nas.home.arpa", s, exporter_one);
  g_autoptr (SettleSpake2) b = live_party (SETTLE_SPAKE2_ROLE_B, "nas.home.arpa", s, exporter_one);
  exchange_shares (a, b);
  guint8 cb[SETTLE_SPAKE2_CONFIRM_LEN];
  g_assert_true (settle_spake2_get_confirmation (b, cb, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_spake2_verify_peer_confirmation (a, cb, sizeof cb - 1, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_AUTH);
}

/* Every single byte of a valid confirmation matters, in both roles: a
 * comparison of only a prefix would let an attacker without the code
 * pass about one try in 256 per byte left out.  Each flipped MAC is
 * checked by a fresh party, then the intact one still verifies. */
static void
test_confirmation_byte_flips_refused (gconstpointer data)
{
  SettleSpake2Role verifier_role = (SettleSpake2Role) GPOINTER_TO_UINT (data);
  guint8 s[SETTLE_SECRET_RECOMMENDED_BYTES];
  random_secret (s, sizeof s);
  for (gsize i = 0; i < SETTLE_SPAKE2_CONFIRM_LEN; i++)
    for (guint bit = 0; bit < 8; bit += 7)
      {
        g_autoptr (SettleSpake2) a = live_party (SETTLE_SPAKE2_ROLE_A, "cam.local", s, exporter_one);
        g_autoptr (SettleSpake2) b = live_party (SETTLE_SPAKE2_ROLE_B, "cam.local", s, exporter_one);
        exchange_shares (a, b);
        SettleSpake2 *verifier = verifier_role == SETTLE_SPAKE2_ROLE_A ? a : b;
        SettleSpake2 *sender = verifier_role == SETTLE_SPAKE2_ROLE_A ? b : a;
        guint8 mac[SETTLE_SPAKE2_CONFIRM_LEN];
        g_assert_true (settle_spake2_get_confirmation (sender, mac, NULL));
        mac[i] ^= (guint8) (1u << bit);
        g_autoptr (GError) error = NULL;
        if (settle_spake2_verify_peer_confirmation (verifier, mac, sizeof mac, &error))
          g_error ("role %s accepted a confirmation with byte %zu bit %u flipped",
                   verifier_role == SETTLE_SPAKE2_ROLE_A ? "A" : "B", i, bit);
        g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_AUTH);
        mac[i] ^= (guint8) (1u << bit);
        g_assert_true (settle_spake2_verify_peer_confirmation (verifier, mac, sizeof mac, NULL));
      }
}

/* w for the secret 00 01 .. 13, computed independently (Python hmac/hashlib
 * HKDF, reduced mod the P-256 order) from schema/qr-payload.md. */
static void
test_derive_w_matches_schema (void)
{
  guint8 secret[20];
  for (guint i = 0; i < sizeof secret; i++)
    secret[i] = (guint8) i;
  guint8 w[SETTLE_SPAKE2_SCALAR_LEN];
  g_autoptr (GError) error = NULL;
  g_assert_true (settle_spake2_derive_w (secret, sizeof secret, w, &error));
  g_autoptr (GBytes) got = g_bytes_new (w, sizeof w);
  g_autoptr (GBytes) want =
    hex_bytes ("b5519f76ad2f1bbf6c9396d99720a71f02bde4199facfe43169d371c2ef55777");
  g_assert_true (g_bytes_equal (got, want));

  g_assert_false (settle_spake2_derive_w (secret, SETTLE_SECRET_MIN_BYTES - 1, w, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
}

static void
test_bad_construction_refused (void)
{
  guint8 s[SETTLE_SECRET_RECOMMENDED_BYTES] = { 0 };
  guint8 zero[SETTLE_SPAKE2_SCALAR_LEN] = { 0 };
  guint8 big[SETTLE_SPAKE2_SCALAR_LEN];
  memset (big, 0xff, sizeof big);
  g_autoptr (GError) error = NULL;
  char long_id[SETTLE_SPAKE2_ID_MAX + 2];
  memset (long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';

  g_assert_null (settle_spake2_new (SETTLE_SPAKE2_ROLE_A, long_id, "x.local", s, sizeof s, NULL, 0, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (settle_spake2_new (SETTLE_SPAKE2_ROLE_A, "", "x.local", s, 8, NULL, 0, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_null (settle_spake2_new_with_scalar_for_testing (SETTLE_SPAKE2_ROLE_B, "", "", zero, big,
                                                            NULL, 0, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
}

static void
test_suite_names (void)
{
  SettleSpake2Suite suite = 0;
  g_assert_cmpstr (settle_spake2_suite_name (SETTLE_SPAKE2_SUITE_P256_SHA256), ==,
                   "SPAKE2-P256-SHA256-HKDF-HMAC");
  g_assert_true (settle_spake2_suite_from_qr_id ("p256", &suite));
  g_assert_cmpint (suite, ==, SETTLE_SPAKE2_SUITE_P256_SHA256);
  g_assert_false (settle_spake2_suite_from_qr_id ("P256", &suite));
  g_assert_false (settle_spake2_suite_from_name ("SPAKE2-P384-SHA256-HKDF-HMAC", &suite));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/spake2/rfc9382/vector-1", GUINT_TO_POINTER (0), test_rfc_vector);
  g_test_add_data_func ("/spake2/rfc9382/vector-2", GUINT_TO_POINTER (1), test_rfc_vector);
  g_test_add_data_func ("/spake2/rfc9382/vector-3", GUINT_TO_POINTER (2), test_rfc_vector);
  g_test_add_func ("/spake2/live/succeeds", test_live_exchange_succeeds);
  g_test_add_func ("/spake2/live/different-passwords", test_different_passwords_fail);
  g_test_add_func ("/spake2/live/different-aad", test_different_aad_fails);
  g_test_add_func ("/spake2/live/different-device-name", test_different_device_name_fails);
  g_test_add_func ("/spake2/peer/bad-shares", test_bad_peer_shares_refused);
  g_test_add_func ("/spake2/peer/share-once", test_share_processed_once);
  g_test_add_func ("/spake2/peer/short-confirmation", test_short_confirmation_refused);
  g_test_add_data_func ("/spake2/peer/confirmation-byte-flips/at-A", GUINT_TO_POINTER (SETTLE_SPAKE2_ROLE_A),
                        test_confirmation_byte_flips_refused);
  g_test_add_data_func ("/spake2/peer/confirmation-byte-flips/at-B", GUINT_TO_POINTER (SETTLE_SPAKE2_ROLE_B),
                        test_confirmation_byte_flips_refused);
  g_test_add_func ("/spake2/w/matches-schema", test_derive_w_matches_schema);
  g_test_add_func ("/spake2/construction/refused", test_bad_construction_refused);
  g_test_add_func ("/spake2/suites", test_suite_names);
  return g_test_run ();
}
