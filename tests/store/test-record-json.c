/* test-record-json.c: the record's JSON form, both ways, and what the
 * parser refuses. */
#include <string.h>

#include <json-glib/json-glib.h>

#include <openssl/x509.h>

#include "settle-cert-shape.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-record-json.h"
#include "settle-record.h"
#include "store-test-records.h"

static void
assert_bytes_equal (GBytes *a, GBytes *b)
{
  g_assert_true ((a == NULL) == (b == NULL));
  if (a != NULL)
    g_assert_true (g_bytes_equal (a, b));
}

static void
assert_records_equal (const SettleRecord *a, const SettleRecord *b)
{
  g_assert_cmpstr (a->fingerprint, ==, b->fingerprint);
  g_assert_cmpint (a->kind, ==, b->kind);
  g_assert_cmpstr (a->label, ==, b->label);
  g_assert_true (g_strv_equal ((const char *const *) a->names, (const char *const *) b->names));
  g_assert_true (g_strv_equal ((const char *const *) a->scope, (const char *const *) b->scope));
  assert_bytes_equal (a->anchor_der, b->anchor_der);
  assert_bytes_equal (a->wrapper_root_der, b->wrapper_root_der);
  assert_bytes_equal (a->cross_der, b->cross_der);
  assert_bytes_equal (a->client_cert_der, b->client_cert_der);
  g_assert_cmpint (a->created, ==, b->created);
  g_assert_cmpint (a->expires, ==, b->expires);
  g_assert_cmpint (a->consent, ==, b->consent);
  g_assert_cmpstr (a->role, ==, b->role);
  g_assert_cmpstr (a->address, ==, b->address);
}

static SettleRecord *
full_record (void)
{
  SettleRecord *record = store_test_record_new ("Living room printer", "printer.local");
  g_strfreev (record->names);
  record->names = g_strsplit ("printer.local *.printer.home.arpa", " ", -1);
  record->role = g_strdup ("print-admin");
  record->address = g_strdup ("[fd00::20]:8443");
  record->client_cert_der = store_test_cert_der ("client");
  record->consent = SETTLE_CONSENT_FLAG;
  record->created = 1700000000;
  record->expires = 1731536000;
  return record;
}

static void
test_round_trip (void)
{
  g_autoptr (SettleRecord) record = full_record ();
  for (int pretty = 0; pretty <= 1; pretty++)
    {
      g_autofree char *json = settle_record_to_json (record, pretty);
      g_assert_nonnull (strstr (json, "\"created\""));
      g_assert_nonnull (strstr (json, "2023-11-14T22:13:20Z"));
      GError *error = NULL;
      g_autoptr (SettleRecord) back = settle_record_from_json (json, strlen (json), &error);
      g_assert_no_error (error);
      assert_records_equal (record, back);
      g_autofree char *again = settle_record_to_json (back, pretty);
      g_assert_cmpstr (json, ==, again);
    }
}

static void
test_round_trip_pinned_peer (void)
{
  g_autoptr (SettleRecord) record = settle_record_new ();
  record->kind = SETTLE_KIND_PINNED_PEER;
  g_free (record->label);
  record->label = g_strdup ("NAS");
  record->anchor_der = store_test_cert_der ("nas.local");
  record->created = 0;
  record->expires = 253402300799;  /* 9999-12-31T23:59:59Z */
  record->consent = SETTLE_CONSENT_PROMPT;

  /* No fingerprint set: the writer computes it from the anchor. */
  g_autofree char *json = settle_record_to_json (record, FALSE);
  GError *error = NULL;
  g_autoptr (SettleRecord) back = settle_record_from_json (json, strlen (json), &error);
  g_assert_no_error (error);
  gsize len = 0;
  const guint8 *der = g_bytes_get_data (record->anchor_der, &len);
  g_autofree char *fingerprint = settle_fingerprint_of_der (der, len);
  g_assert_cmpstr (back->fingerprint, ==, fingerprint);
  g_assert_null (back->wrapper_root_der);
  g_assert_null (back->role);
  g_assert_cmpint (back->expires, ==, 253402300799);
  g_assert_nonnull (strstr (json, "\"1970-01-01T00:00:00Z\""));
}

/* A manufacturer CA: scoped, unwrapped, no client certificate. */
static void
test_round_trip_manufacturer (void)
{
  g_autoptr (SettleRecord) record = settle_record_new ();
  record->kind = SETTLE_KIND_MANUFACTURER_CA;
  g_free (record->label);
  record->label = g_strdup ("Test Maker");
  g_strfreev (record->scope);
  record->scope = g_strsplit ("printer.local", ",", -1);
  record->anchor_der = store_test_cert_der ("maker.local");
  record->expires = 253402300799;
  record->consent = SETTLE_CONSENT_FLAG;
  g_autofree char *json = settle_record_to_json (record, FALSE);
  g_assert_nonnull (strstr (json, "\"kind\":\"manufacturer-ca\""));
  GError *error = NULL;
  g_autoptr (SettleRecord) back = settle_record_from_json (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->kind, ==, SETTLE_KIND_MANUFACTURER_CA);
  g_assert_false (settle_kind_is_tls_anchor (back->kind));
  g_assert_true (settle_kind_is_tls_anchor (SETTLE_KIND_DEVICE_CA));
  g_assert_null (back->wrapper_root_der);
  g_assert_cmpstr (back->scope[0], ==, "printer.local");
}

/* A valid document with member `member` replaced by `value_json`
 * (removed when NULL). */
static char *
mutated_document (const char *member, const char *value_json)
{
  g_autoptr (SettleRecord) record = full_record ();
  g_autofree char *json = settle_record_to_json (record, FALSE);
  JsonNode *root = json_from_string (json, NULL);
  g_assert_nonnull (root);
  JsonObject *object = json_node_get_object (root);
  if (value_json == NULL)
    json_object_remove_member (object, member);
  else
    {
      GError *error = NULL;
      JsonNode *value = json_from_string (value_json, &error);
      g_assert_no_error (error);
      json_object_set_member (object, member, value);
    }
  char *text = json_to_string (root, FALSE);
  json_node_unref (root);
  return text;
}

static void
expect_refusal_of (const char *document, gsize length, const char *message_part)
{
  GError *error = NULL;
  SettleRecord *record = settle_record_from_json (document, length, &error);
  g_assert_null (record);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_test_message ("refused: %s", error->message);
  if (strstr (error->message, message_part) == NULL)
    g_error ("expected \"%s\" in \"%s\"", message_part, error->message);
  g_error_free (error);
}

typedef struct {
  const char *member;
  const char *value_json;   /* NULL: remove the member */
  const char *message_part;
} Mutation;

static const Mutation mutations[] = {
  { "format", "2", "format 2" },
  { "format", "\"1\"", "\"format\" must be an integer" },
  { "format", "1.0", "\"format\" must be an integer" },
  { "format", NULL, "no \"format\"" },
  { "label", NULL, "no \"label\"" },
  { "label", "42", "\"label\" must be a string" },
  { "label", "\"\"", "\"label\" must have 1 to" },
  { "label", "\"printer\\u001b[31m\"", "control character" },
  { "kind", "\"root-ca\"", "expected device-ca" },
  { "consent", "\"maybe\"", "expected prompt or flag" },
  { "names", "\"printer.local\"", "\"names\" must be an array" },
  { "names", "[1]", "\"names\" must be an array" },
  { "names", "[\"Printer.LOCAL\"]", "entry 1 is not a lowercase DNS name" },
  { "scope", "[]", "at least one \"scope\"" },
  { "scope", "[\"*.home.arpa\"]", "\"scope\" entry 1" },
  { "created", "1700000000", "\"created\" must be a string" },
  { "created", "\"2023-11-14 22:13:20\"", "UTC time" },
  { "expires", "\"2023-02-30T00:00:00Z\"", "UTC time" },
  { "expires", "\"2023-11-14T22:13:20+01:00\"", "UTC time" },
  { "role", "\"print admin\"", "\"role\" must be" },
  { "fingerprint", "\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"",
    "64 lowercase hex" },
  { "fingerprint", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"",
    "not the SHA-256 of its anchor" },
  { "anchor_der", "\"!!!!\"", "not valid base64" },
  { "anchor_der", "\"MIIB IAo=\"", "must be base64" },
  { "anchor_der", "\"AAAA\"", "not a DER X.509 certificate" },
  { "cross_der", "\"AAE=\"", "not a DER X.509 certificate" },
  { "wrapper_root_der", NULL, "needs \"wrapper_root_der\"" },
  { "kind", "\"pinned-peer\"", "cannot have \"wrapper_root_der\"" },
  /* A manufacturer CA is never wrapped: a record that says so is not one. */
  { "kind", "\"manufacturer-ca\"", "A manufacturer-ca record cannot have \"wrapper_root_der\"" },
  { "format_minor", "-1", "\"format_minor\" must be an integer" },
  { "format_minor", "\"2\"", "\"format_minor\" must be an integer" },
  { "discovery", "\"AAAA\"", "\"discovery\" must be" },
  { "discovery", "{\"key\": \"AAAA\", \"period\": 900}", "\"discovery\" must be" },
  { "discovery", "{\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\", \"period\": 1}", "\"discovery\" must be" },
  { "discovery", "{\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\", \"period\": \"900\"}",
    "\"discovery\" must be" },
  { "discovery", "{\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}", "\"discovery\" must be" },
  { "discovery", "{\"key\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\", \"period\": 900, \"x\": 1}",
    "\"discovery\" must be" },
  { "address", "8443", "\"address\" must be a string" },
  { "address", "\"printer.local\"", "\"address\" must be HOST:PORT" },
  { "address", "\"printer.local:0\"", "\"address\" must be HOST:PORT" },
  { "address", "\"a b.local:443\"", "\"address\" must be HOST:PORT" },
};

static void
test_refusals (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (mutations); i++)
    {
      g_autofree char *document = mutated_document (mutations[i].member, mutations[i].value_json);
      expect_refusal_of (document, strlen (document), mutations[i].message_part);
    }
}

/* A newer minor version's members survive a rewrite by this settle, in
 * the form they were read; its minor number is kept too. */
static void
test_keeps_unknown_members (void)
{
  g_autofree char *document = mutated_document ("voucher", "{\"serial\": \"X1\", \"nonce\": [1, 2]}");
  g_autoptr (JsonNode) root = json_from_string (document, NULL);
  json_object_set_int_member (json_node_get_object (root), "format_minor", 3);
  json_object_set_string_member (json_node_get_object (root), "seen_by", "discovery");
  g_autofree char *minor = json_to_string (root, FALSE);
  GError *error = NULL;
  g_autoptr (SettleRecord) record = settle_record_from_json (minor, strlen (minor), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (record->format_minor, ==, 3);
  g_assert_nonnull (record->extra_json);

  g_autofree char *rewritten = settle_record_to_json (record, FALSE);
  g_autoptr (JsonNode) back = json_from_string (rewritten, NULL);
  JsonObject *object = json_node_get_object (back);
  g_assert_cmpint (json_object_get_int_member (object, "format"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "format_minor"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (object, "seen_by"), ==, "discovery");
  JsonObject *voucher = json_object_get_object_member (object, "voucher");
  g_assert_nonnull (voucher);
  g_assert_cmpstr (json_object_get_string_member (voucher, "serial"), ==, "X1");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (voucher, "nonce")), ==, 2);

  /* And a second round trip changes nothing. */
  g_autoptr (SettleRecord) again = settle_record_from_json (rewritten, strlen (rewritten), &error);
  g_assert_no_error (error);
  g_autofree char *rewritten_again = settle_record_to_json (again, FALSE);
  g_assert_cmpstr (rewritten, ==, rewritten_again);
}

/* A record without unknown members is written as before: no format_minor,
 * so an older settle still reads what this one writes. */
/* A portable device's discovery key and period survive a round trip and
 * make the record minor 1. */
static void
test_round_trip_discovery (void)
{
  g_autoptr (SettleRecord) record = full_record ();
  record->discovery_key = g_malloc (SETTLE_RECORD_DISCOVERY_KEY_LEN);
  for (int i = 0; i < SETTLE_RECORD_DISCOVERY_KEY_LEN; i++)
    record->discovery_key[i] = (guint8) i;
  record->discovery_period = 900;
  g_autofree char *json = settle_record_to_json (record, FALSE);
  g_assert_nonnull (strstr (json, "\"discovery\":{\"key\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"period\":900}"));
  g_assert_nonnull (strstr (json, "\"format_minor\":1"));
  GError *error = NULL;
  g_autoptr (SettleRecord) back = settle_record_from_json (json, strlen (json), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back->discovery_key, SETTLE_RECORD_DISCOVERY_KEY_LEN, record->discovery_key,
                   SETTLE_RECORD_DISCOVERY_KEY_LEN);
  g_assert_cmpuint (back->discovery_period, ==, 900);
  g_autofree char *again = settle_record_to_json (back, FALSE);
  g_assert_cmpstr (json, ==, again);
  /* what list/show print keeps the period, never the key */
  g_autofree char *printed = settle_record_to_output_json (record, FALSE);
  g_assert_nonnull (strstr (printed, "\"discovery\":{\"period\":900}"));
  g_assert_null (strstr (printed, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
}

static void
test_writes_minor_only_when_needed (void)
{
  g_autoptr (SettleRecord) record = full_record ();
  g_autofree char *json = settle_record_to_json (record, FALSE);
  g_assert_null (strstr (json, "format_minor"));
}

static void
test_refusals_of_shape (void)
{
  expect_refusal_of ("", 0, "empty");
  expect_refusal_of ("{\"format\": 1", 12, "not valid JSON");
  expect_refusal_of ("[]", 2, "must be a JSON object");
  expect_refusal_of ("\"record\"", 8, "must be a JSON object");
}

static void
test_refuses_oversized_input (void)
{
  g_autoptr (SettleRecord) record = full_record ();
  g_autofree char *json = settle_record_to_json (record, FALSE);
  /* Valid JSON padded past the cap with whitespace: refused for size
   * before any parsing. */
  gsize cap = 1024 * 1024;
  GString *big = g_string_new (json);
  while (big->len <= cap)
    g_string_append_c (big, ' ');
  expect_refusal_of (big->str, big->len, "at most 1048576");
  g_string_free (big, TRUE);
}

/* The store's certificate check (its shape, settle-cert-shape.h) against
 * OpenSSL's own d2i_X509 on a real certificate, every prefix of it, and
 * every byte of it changed in two ways: the two agree, except where
 * d2i_X509 decodes the public key and the shape check does not (counted,
 * and only ever in the direction of a key the shape check lets through). */
static gboolean
d2i_accepts (const guint8 *der, gsize len)
{
  const unsigned char *cursor = der;
  X509 *cert = d2i_X509 (NULL, &cursor, (long) len);
  gboolean ok = cert != NULL && cursor == der + len;
  X509_free (cert);
  return ok;
}

static void
test_certificate_shape (void)
{
  g_autoptr (GBytes) cert = store_test_cert_der ("shape.local");
  gsize len = 0;
  const guint8 *der = g_bytes_get_data (cert, &len);
  g_autofree guint8 *copy = g_malloc (len + 1);
  guint disagree = 0;

  g_assert_true (settle_der_is_one_certificate (der, len));
  memcpy (copy, der, len);
  copy[len] = 0;
  g_assert_false (settle_der_is_one_certificate (copy, len + 1));   /* a trailing byte */
  g_assert_false (settle_der_is_one_certificate (der, 0));
  g_assert_false (settle_der_is_one_certificate (NULL, 10));
  for (gsize n = 1; n < len; n++)
    g_assert_false (settle_der_is_one_certificate (der, n));
  for (gsize at = 0; at < len; at++)
    for (int flip = 0; flip < 2; flip++)
      {
        memcpy (copy, der, len);
        copy[at] ^= flip ? 0xff : 0x01;
        gboolean shape = settle_der_is_one_certificate (copy, len);
        if (shape != d2i_accepts (copy, len))
          {
            /* Only where the shape check does not decode: the key. */
            g_assert_true (shape);
            disagree++;
          }
      }
  g_test_message ("%u of %zu changed certificates pass the shape check but not d2i_X509", disagree, 2 * len);
  g_assert_cmpuint (disagree, <, len / 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/record-json/round-trip", test_round_trip);
  g_test_add_func ("/record-json/round-trip-pinned-peer", test_round_trip_pinned_peer);
  g_test_add_func ("/record-json/round-trip-manufacturer", test_round_trip_manufacturer);
  g_test_add_func ("/record-json/refusals", test_refusals);
  g_test_add_func ("/record-json/round-trip-discovery", test_round_trip_discovery);
  g_test_add_func ("/record-json/refusals-of-shape", test_refusals_of_shape);
  g_test_add_func ("/record-json/keeps-unknown-members", test_keeps_unknown_members);
  g_test_add_func ("/record-json/minor-only-when-needed", test_writes_minor_only_when_needed);
  g_test_add_func ("/record-json/oversized", test_refuses_oversized_input);
  g_test_add_func ("/record-json/certificate-shape", test_certificate_shape);
  return g_test_run ();
}
