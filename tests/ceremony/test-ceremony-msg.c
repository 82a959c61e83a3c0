/* test-ceremony-msg.c: ceremony messages and frames, round trips and
 * refusals.  Malformed maps are built with libcbor; malformed encodings
 * that libcbor would never produce are written out as bytes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "settle-ceremony-msg.h"
#include "settle-error.h"

static GBytes *
filled (gsize len, guint8 byte)
{
  guint8 *buf = g_malloc (len);
  memset (buf, byte, len);
  return g_bytes_new_take (buf, len);
}

static SettleCeremonyMsg *
round_trip (const SettleCeremonyMsg *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) frame = settle_ceremony_frame_encode (msg, &error);
  g_assert_no_error (error);
  gsize len = 0, consumed = 0;
  const guint8 *data = g_bytes_get_data (frame, &len);

  gsize body_len = 0;
  g_assert_true (settle_ceremony_frame_parse_header (data, &body_len, &error));
  g_assert_cmpuint (body_len + SETTLE_CEREMONY_FRAME_HEADER_LEN, ==, len);

  SettleCeremonyMsg *back = settle_ceremony_frame_decode (data, len, &consumed, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, len);
  g_assert_cmpint (back->type, ==, msg->type);
  return back;
}

static void
test_round_trip_pake_messages (void)
{
  g_autoptr (SettleCeremonyMsg) hello = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_HELLO);
  hello->client_hello.version = SETTLE_CEREMONY_VERSION;
  hello->client_hello.suite = SETTLE_SPAKE2_SUITE_P256_SHA256;
  memset (hello->client_hello.share, 0x04, sizeof hello->client_hello.share);
  g_autoptr (SettleCeremonyMsg) hello_back = round_trip (hello);
  g_assert_cmpuint (hello_back->client_hello.version, ==, 1);
  g_assert_cmpint (hello_back->client_hello.suite, ==, SETTLE_SPAKE2_SUITE_P256_SHA256);
  g_assert_cmpmem (hello_back->client_hello.share, 65, hello->client_hello.share, 65);

  g_autoptr (SettleCeremonyMsg) share = settle_ceremony_msg_new (SETTLE_MSG_SERVER_SHARE);
  memset (share->server_share.share, 0x11, sizeof share->server_share.share);
  memset (share->server_share.confirm, 0x22, sizeof share->server_share.confirm);
  g_autoptr (SettleCeremonyMsg) share_back = round_trip (share);
  g_assert_cmpmem (share_back->server_share.share, 65, share->server_share.share, 65);
  g_assert_cmpmem (share_back->server_share.confirm, 32, share->server_share.confirm, 32);

  g_autoptr (SettleCeremonyMsg) confirm = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_CONFIRM);
  memset (confirm->client_confirm.confirm, 0x33, sizeof confirm->client_confirm.confirm);
  g_autoptr (SettleCeremonyMsg) confirm_back = round_trip (confirm);
  g_assert_cmpmem (confirm_back->client_confirm.confirm, 32, confirm->client_confirm.confirm, 32);
}

static void
test_round_trip_enrolment (void)
{
  g_autoptr (SettleCeremonyMsg) req = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);
  req->enrol_request.csr_der = filled (700, 0x30);
  req->enrol_request.role = g_strdup ("admin");
  g_autoptr (SettleCeremonyMsg) req_back = round_trip (req);
  g_assert_true (g_bytes_equal (req_back->enrol_request.csr_der, req->enrol_request.csr_der));
  g_assert_cmpstr (req_back->enrol_request.role, ==, "admin");

  g_autoptr (SettleCeremonyMsg) resp = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  resp->enrol_response.cert_der = filled (900, 0x30);
  g_ptr_array_add (resp->enrol_response.chain, filled (800, 0x31));
  g_ptr_array_add (resp->enrol_response.chain, filled (SETTLE_CEREMONY_CERT_MAX, 0x32));
  const char *names[] = { "printer-3fa9.local", "printer.home.arpa", NULL };
  resp->enrol_response.names = g_strdupv ((char **) names);
  resp->enrol_response.role = g_strdup ("guest");
  g_autoptr (SettleCeremonyMsg) resp_back = round_trip (resp);
  g_assert_true (g_bytes_equal (resp_back->enrol_response.cert_der, resp->enrol_response.cert_der));
  g_assert_cmpuint (resp_back->enrol_response.chain->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (resp_back->enrol_response.chain, i),
                                  g_ptr_array_index (resp->enrol_response.chain, i)));
  g_assert_true (g_strv_equal ((const char *const *) resp_back->enrol_response.names, names));
  g_assert_cmpstr (resp_back->enrol_response.role, ==, "guest");
  g_assert_false (resp_back->enrol_response.has_discovery);

  /* portable mode: the optional discovery key and period travel intact */
  resp->enrol_response.has_discovery = TRUE;
  memset (resp->enrol_response.discovery_key, 0x5a, SETTLE_CEREMONY_DISCOVERY_KEY_LEN);
  resp->enrol_response.discovery_period = 900;
  g_autoptr (SettleCeremonyMsg) portable_back = round_trip (resp);
  g_assert_true (portable_back->enrol_response.has_discovery);
  g_assert_cmpmem (portable_back->enrol_response.discovery_key, SETTLE_CEREMONY_DISCOVERY_KEY_LEN,
                   resp->enrol_response.discovery_key, SETTLE_CEREMONY_DISCOVERY_KEY_LEN);
  g_assert_cmpuint (portable_back->enrol_response.discovery_period, ==, 900);

  g_assert_null (req_back->enrol_request.nonce);
  g_assert_null (resp_back->enrol_response.idevid);
  g_assert_null (resp_back->enrol_response.voucher);

  /* The optional manufacturer identity (schema/voucher.md). */
  req->enrol_request.nonce = filled (32, 0x6e);
  g_autoptr (SettleCeremonyMsg) req_nonce = round_trip (req);
  g_assert_true (g_bytes_equal (req_nonce->enrol_request.nonce, req->enrol_request.nonce));
  resp->enrol_response.idevid = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (resp->enrol_response.idevid, filled (600, 0x41));
  g_ptr_array_add (resp->enrol_response.idevid, filled (500, 0x42));
  resp->enrol_response.voucher = filled (1200, 0x43);
  g_autoptr (SettleCeremonyMsg) resp_voucher = round_trip (resp);
  g_assert_cmpuint (resp_voucher->enrol_response.idevid->len, ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (resp_voucher->enrol_response.idevid, i),
                                  g_ptr_array_index (resp->enrol_response.idevid, i)));
  g_assert_true (g_bytes_equal (resp_voucher->enrol_response.voucher, resp->enrol_response.voucher));

  g_autoptr (SettleCeremonyMsg) err = settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_ROLE_REFUSED,
                                                                      "Only guests may pair here — ask the owner.");
  g_autoptr (SettleCeremonyMsg) err_back = round_trip (err);
  g_assert_cmpuint (err_back->error.code, ==, SETTLE_CEREMONY_ERR_ROLE_REFUSED);
  g_assert_cmpstr (err_back->error.text, ==, err->error.text);
}

/* COMMIT and COMMITTED carry nothing but their type; a type after them is
 * unknown; ERROR declined maps to a refusal. */
static void
test_commit_messages (void)
{
  static const guint8 commit_body[] = { 0xa1, 0x64, 't', 'y', 'p', 'e', 0x07 };
  static const guint8 type_9_body[] = { 0xa1, 0x64, 't', 'y', 'p', 'e', 0x09 };
  const SettleMsgType types[] = { SETTLE_MSG_COMMIT, SETTLE_MSG_COMMITTED };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (SettleCeremonyMsg) msg = settle_ceremony_msg_new (types[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) body = settle_ceremony_msg_encode (msg, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (body), ==, sizeof commit_body);
      g_autoptr (SettleCeremonyMsg) back = settle_ceremony_msg_decode (g_bytes_get_data (body, NULL),
                                                                       g_bytes_get_size (body), &error);
      g_assert_no_error (error);
      g_assert_cmpint (back->type, ==, types[i]);
    }
  g_autoptr (SettleCeremonyMsg) commit = settle_ceremony_msg_decode (commit_body, sizeof commit_body, NULL);
  g_assert_nonnull (commit);
  g_assert_cmpint (commit->type, ==, SETTLE_MSG_COMMIT);
  g_assert_cmpstr (settle_ceremony_msg_type_name (SETTLE_MSG_COMMITTED), ==, "COMMITTED");
  g_autoptr (GError) error = NULL;
  g_assert_null (settle_ceremony_msg_decode (type_9_body, sizeof type_9_body, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_clear_error (&error);
  g_autoptr (SettleCeremonyMsg) declined = settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_DECLINED, "no");
  g_assert_false (settle_ceremony_msg_expect (declined, SETTLE_MSG_COMMIT, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED);
}

static void
test_two_frames_in_one_buffer (void)
{
  g_autoptr (SettleCeremonyMsg) a = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_CONFIRM);
  g_autoptr (SettleCeremonyMsg) b = settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_TIMEOUT, "");
  g_autoptr (GBytes) fa = settle_ceremony_frame_encode (a, NULL);
  g_autoptr (GBytes) fb = settle_ceremony_frame_encode (b, NULL);
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_byte_array_append (buf, g_bytes_get_data (fa, NULL), (guint) g_bytes_get_size (fa));
  g_byte_array_append (buf, g_bytes_get_data (fb, NULL), (guint) g_bytes_get_size (fb));

  gsize used = 0;
  g_autoptr (SettleCeremonyMsg) first = settle_ceremony_frame_decode (buf->data, buf->len, &used, NULL);
  g_assert_cmpint (first->type, ==, SETTLE_MSG_CLIENT_CONFIRM);
  g_autoptr (SettleCeremonyMsg) second =
    settle_ceremony_frame_decode (buf->data + used, buf->len - used, &used, NULL);
  g_assert_cmpint (second->type, ==, SETTLE_MSG_ERROR);
}

/* ---- building malformed bodies with libcbor ---- */

/* A map of (const char *key, cbor_item_t *owned value) pairs ending in
 * NULL, serialised. */
static GBytes *
map_body (const char *first_key, ...)
{
  va_list ap;
  gsize n = 0;
  va_start (ap, first_key);
  for (const char *k = first_key; k != NULL; k = va_arg (ap, const char *))
    {
      (void) va_arg (ap, cbor_item_t *);
      n++;
    }
  va_end (ap);

  cbor_item_t *map = cbor_new_definite_map (n);
  va_start (ap, first_key);
  for (const char *k = first_key; k != NULL; k = va_arg (ap, const char *))
    {
      cbor_item_t *key = cbor_build_string (k);
      cbor_item_t *value = va_arg (ap, cbor_item_t *);
      g_assert_true (cbor_map_add (map, (struct cbor_pair) { .key = key, .value = value }));
      cbor_decref (&key);
      cbor_decref (&value);
    }
  va_end (ap);

  unsigned char *buf = NULL;
  size_t allocated = 0;
  size_t len = cbor_serialize_alloc (map, &buf, &allocated);
  g_assert_cmpuint (len, >, 0);
  GBytes *bytes = g_bytes_new (buf, len);
  free (buf);
  cbor_decref (&map);
  return bytes;
}

static cbor_item_t *
u (guint v)
{
  return cbor_build_uint32 (v);
}

static cbor_item_t *
b (gsize len)
{
  g_autofree guint8 *buf = g_malloc0 (len + 1);
  return cbor_build_bytestring (buf, len);
}

static cbor_item_t *
t (const char *s)
{
  return cbor_build_string (s);
}

static cbor_item_t *
bytes_array (gsize count)
{
  cbor_item_t *array = cbor_new_definite_array (count);
  for (gsize i = 0; i < count; i++)
    {
      cbor_item_t *item = b (10);
      g_assert_true (cbor_array_push (array, item));
      cbor_decref (&item);
    }
  return array;
}

static cbor_item_t *
text_array (const char *s)
{
  cbor_item_t *array = cbor_new_definite_array (1);
  cbor_item_t *item = t (s);
  g_assert_true (cbor_array_push (array, item));
  cbor_decref (&item);
  return array;
}

static void
assert_refused (GBytes *body, SettleErrorCode code, const char *message)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);
  SettleCeremonyMsg *msg = settle_ceremony_msg_decode (data, len, &error);
  if (msg != NULL)
    g_error ("accepted a malformed message; expected '%s'", message);
  g_assert_error (error, SETTLE_ERROR, (gint) code);
  if (strcmp (error->message, message) != 0)
    g_error ("got '%s', expected '%s'", error->message, message);
  g_bytes_unref (body);
}

static GBytes *
raw (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *buf = g_malloc (n + 1);
  for (gsize i = 0; i < n; i++)
    buf[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (buf, n);
}

#define FMT SETTLE_ERROR_FORMAT

static void
test_malformed_messages (void)
{
  assert_refused (g_bytes_new_static ("", 0), FMT, "The message is empty.");
  assert_refused (filled (SETTLE_CEREMONY_FRAME_MAX + 1, 0xa1), FMT, "The message is larger than 64 KiB.");
  assert_refused (raw ("8101"), FMT, "The message is not a CBOR map.");
  assert_refused (raw ("a2647479706501"), FMT,
                  "The message is truncated: its CBOR map ends early.");
  assert_refused (raw ("a1647479706558"), FMT,
                  "The message is truncated: its CBOR ends in the middle of an item.");
  assert_refused (raw ("bf647479706501ff"), FMT,
                  "The message uses indefinite-length CBOR, which the ceremony does not allow.");
  assert_refused (raw ("c1a1647479706503"), FMT,
                  "The message uses CBOR tags, which the ceremony does not allow.");
  /* An array announcing 2^32-1 entries: refused before libcbor allocates. */
  assert_refused (raw ("a16474797065" "9affffffff"), FMT,
                  "The message has an array or map with more than 32 entries.");
  assert_refused (raw ("1c"), FMT, "The message is not well-formed CBOR.");
  assert_refused (raw ("a164747970650300"), FMT, "The message has bytes after its CBOR map.");
  assert_refused (raw ("a2647479706503647479706503"), FMT, "The message has the same map key twice.");
  assert_refused (raw ("a26474797065030101"), FMT,
                  "The message has a map key that is not a short text string.");

  assert_refused (map_body ("version", u (1), NULL), FMT, "The ceremony message has no 'type' field.");
  assert_refused (map_body ("type", t ("1"), NULL), FMT,
                  "The ceremony message's 'type' field is not an unsigned integer.");
  assert_refused (map_body ("type", u (99), NULL), FMT,
                  "The message has type 99, which this program does not know.");
  assert_refused (map_body ("type", u (1), "version", u (1), "suite", t ("SPAKE2-P256-SHA256-HKDF-HMAC"), NULL),
                  FMT, "The CLIENT_HELLO message has no 'pA' field.");
  assert_refused (map_body ("type", u (1), "version", u (1), "suite", t ("SPAKE2-P256-SHA256-HKDF-HMAC"),
                            "pA", b (64), NULL),
                  FMT, "The CLIENT_HELLO message's 'pA' field is not 65 bytes long.");
  assert_refused (map_body ("type", u (1), "version", u (1), "suite", t ("SPAKE2-P256-SHA256-HKDF-HMAC"),
                            "pA", t ("04"), NULL),
                  FMT, "The CLIENT_HELLO message's 'pA' field is not a byte string.");
  assert_refused (map_body ("type", u (1), "version", u (70000), "suite", t ("x"), "pA", b (65), NULL),
                  FMT, "The CLIENT_HELLO message's 'version' field is out of range.");
  assert_refused (map_body ("type", u (1), "version", u (2), "suite", t ("SPAKE2-P256-SHA256-HKDF-HMAC"),
                            "pA", b (65), NULL),
                  SETTLE_ERROR_PROTOCOL,
                  "The helper speaks ceremony version 2; this program speaks version 1 only.");
  assert_refused (map_body ("type", u (1), "version", u (1), "suite", t ("SPAKE2-P384-SHA384-HKDF-HMAC"),
                            "pA", b (65), NULL),
                  SETTLE_ERROR_PROTOCOL,
                  "The helper asks for algorithm suite 'SPAKE2-P384-SHA384-HKDF-HMAC', which this program does not support.");
  assert_refused (map_body ("type", u (2), "pB", b (65), NULL), FMT,
                  "The SERVER_SHARE message has no 'cB' field.");
  assert_refused (map_body ("type", u (3), "cA", b (33), NULL), FMT,
                  "The CLIENT_CONFIRM message's 'cA' field is not 32 bytes long.");
  assert_refused (map_body ("type", u (4), "csr", b (0), "role", t ("admin"), NULL), FMT,
                  "The ENROL_REQUEST message's 'csr' field is empty or longer than 16384 bytes.");
  assert_refused (map_body ("type", u (4), "csr", b (SETTLE_CEREMONY_CSR_MAX + 1), "role", t ("admin"), NULL),
                  FMT, "The ENROL_REQUEST message's 'csr' field is empty or longer than 16384 bytes.");
  assert_refused (map_body ("type", u (4), "csr", b (100), "role", t ("Admin"), NULL), FMT,
                  "The ENROL_REQUEST message's 'role' field is not 1 to 32 lowercase letters, digits or hyphens.");
  assert_refused (map_body ("type", u (4), "csr", b (100), "role", cbor_build_stringn ("ad\0min", 6), NULL), FMT,
                  "The ENROL_REQUEST message's 'role' field is not 1 to 32 lowercase letters, digits or hyphens.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "dk", b (32), NULL),
                  FMT, "The ENROL_RESPONSE message has only one of 'dk' and 'dp'.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "dp", u (900), NULL),
                  FMT, "The ENROL_RESPONSE message has only one of 'dk' and 'dp'.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "dk", b (31), "dp", u (900),
                            NULL),
                  FMT, "The ENROL_RESPONSE message's 'dk' field is not 32 bytes long.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "dk", b (32), "dp", u (1),
                            NULL),
                  FMT, "The ENROL_RESPONSE message's 'dp' field is out of range.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "dk", b (32), "dp", u (86401),
                            NULL),
                  FMT, "The ENROL_RESPONSE message's 'dp' field is out of range.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (0),
                            "names", text_array ("a.local"), "role", t ("user"), NULL),
                  FMT, "The ENROL_RESPONSE message's 'chain' field has no entries or more than 8.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (9),
                            "names", text_array ("a.local"), "role", t ("user"), NULL),
                  FMT, "The ENROL_RESPONSE message's 'chain' field has no entries or more than 8.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local\n"), "role", t ("user"), NULL),
                  FMT, "The ENROL_RESPONSE message's 'names' field has an entry that is not 1 to 253 printable ASCII characters.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", t ("a.local"), "role", t ("user"), NULL),
                  FMT, "The ENROL_RESPONSE message's 'names' field is not an array.");
  assert_refused (map_body ("type", u (4), "csr", b (100), "role", t ("admin"), "nonce", b (15), NULL), FMT,
                  "The ENROL_REQUEST message's 'nonce' field is shorter than 16 bytes.");
  assert_refused (map_body ("type", u (4), "csr", b (100), "role", t ("admin"), "nonce", b (65), NULL), FMT,
                  "The ENROL_REQUEST message's 'nonce' field is empty or longer than 64 bytes.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "idevid", bytes_array (1), NULL),
                  FMT, "The ENROL_RESPONSE message has the field 'idevid' without 'voucher'.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "voucher", b (10), NULL),
                  FMT, "The ENROL_RESPONSE message has the field 'voucher' without 'idevid'.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "idevid", bytes_array (5),
                            "voucher", b (10), NULL),
                  FMT, "The ENROL_RESPONSE message's 'idevid' field is not an array of 1 to 4 certificates.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1),
                            "names", text_array ("a.local"), "role", t ("user"), "idevid", bytes_array (1),
                            "voucher", b (SETTLE_CEREMONY_VOUCHER_MAX + 1), NULL),
                  FMT, "The ENROL_RESPONSE message's 'voucher' field is empty or longer than 16384 bytes.");
  assert_refused (map_body ("type", u (6), "code", u (4), "text", t ("bad \x1b[31mred"), NULL), FMT,
                  "The ERROR message's 'text' field is longer than 256 bytes or not printable UTF-8.");
  g_autofree char *long_text = g_strnfill (SETTLE_CEREMONY_TEXT_MAX + 1, 'x');
  assert_refused (map_body ("type", u (6), "code", u (4), "text", t (long_text), NULL), FMT,
                  "The ERROR message's 'text' field is longer than 256 bytes or not printable UTF-8.");
  /* libcbor itself refuses a text string that is not UTF-8. */
  assert_refused (map_body ("type", u (6), "code", u (4), "text", t ("\xff\xfe"), NULL), FMT,
                  "The message is not well-formed CBOR.");
}

/* A referee's front (Track B): both optional fields round-trip, an
 * ordinary response has neither, and one without the other is refused. */
static void
test_referee_fields (void)
{
  g_autoptr (SettleCeremonyMsg) resp = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  resp->enrol_response.cert_der = filled (900, 0x30);
  g_ptr_array_add (resp->enrol_response.chain, filled (800, 0x31));
  const char *names[] = { "referee.lab.home.arpa", NULL };
  const char *subtree[] = { "lab.home.arpa", "x.local", NULL };
  resp->enrol_response.names = g_strdupv ((char **) names);
  resp->enrol_response.role = g_strdup ("admin");
  g_autoptr (SettleCeremonyMsg) plain_back = round_trip (resp);
  g_assert_null (plain_back->enrol_response.referee_ca_der);
  g_assert_null (plain_back->enrol_response.subtree);

  resp->enrol_response.referee_ca_der = filled (700, 0x32);
  resp->enrol_response.subtree = g_strdupv ((char **) subtree);
  g_autoptr (SettleCeremonyMsg) back = round_trip (resp);
  g_assert_true (g_bytes_equal (back->enrol_response.referee_ca_der, resp->enrol_response.referee_ca_der));
  g_assert_true (g_strv_equal ((const char *const *) back->enrol_response.subtree, subtree));

  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1), "names", text_array ("a.local"),
                            "role", t ("user"), "referee-ca", b (100), NULL),
                  FMT, "The ENROL_RESPONSE message has only one of 'referee-ca' and 'subtree'.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1), "names", text_array ("a.local"),
                            "role", t ("user"), "subtree", text_array ("lab.home.arpa"), NULL),
                  FMT, "The ENROL_RESPONSE message has only one of 'referee-ca' and 'subtree'.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1), "names", text_array ("a.local"),
                            "role", t ("user"), "referee-ca", b (0), "subtree", text_array ("lab.home.arpa"), NULL),
                  FMT, "The ENROL_RESPONSE message's 'referee-ca' field is empty or longer than 16384 bytes.");
  assert_refused (map_body ("type", u (5), "cert", b (100), "chain", bytes_array (1), "names", text_array ("a.local"),
                            "role", t ("user"), "referee-ca", b (100), "subtree", t ("lab.home.arpa"), NULL),
                  FMT, "The ENROL_RESPONSE message's 'subtree' field is not an array.");
}

static void
test_unknown_fields_ignored (void)
{
  g_autoptr (GBytes) body = map_body ("type", u (3), "cA", b (32), "future", t ("ignored"), NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) msg =
    settle_ceremony_msg_decode (g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
  g_assert_no_error (error);
  g_assert_cmpint (msg->type, ==, SETTLE_MSG_CLIENT_CONFIRM);
}

static void
assert_frame_refused (const guint8 *buf, gsize len, const char *message)
{
  g_autoptr (GError) error = NULL;
  gsize consumed = 99;
  g_assert_null (settle_ceremony_frame_decode (buf, len, &consumed, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_cmpuint (consumed, ==, 0);
}

static void
test_malformed_frames (void)
{
  static const guint8 short_header[] = { 0, 0, 1 };
  static const guint8 zero[] = { 0, 0, 0, 0 };
  static const guint8 huge[] = { 0, 1, 0, 1 };
  static const guint8 cut[] = { 0, 0, 0, 9, 0xa1, 0x64 };
  assert_frame_refused (short_header, sizeof short_header,
                        "The frame is truncated: its 4-byte length header is incomplete.");
  assert_frame_refused (zero, sizeof zero, "The frame announces an empty message.");
  assert_frame_refused (huge, sizeof huge, "The frame announces a message larger than 64 KiB.");
  assert_frame_refused (cut, sizeof cut,
                        "The frame is truncated: it holds fewer bytes than its header announces.");

  static const guint8 max_ok[] = { 0, 1, 0, 0 };
  gsize len = 0;
  g_assert_true (settle_ceremony_frame_parse_header (max_ok, &len, NULL));
  g_assert_cmpuint (len, ==, SETTLE_CEREMONY_FRAME_MAX);
}

static void
test_encoder_refuses_invalid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) req = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);
  req->enrol_request.csr_der = filled (10, 0x30);
  req->enrol_request.role = g_strdup ("Root Admin");
  g_assert_null (settle_ceremony_msg_encode (req, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_clear_error (&error);

  g_autoptr (SettleCeremonyMsg) resp = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  resp->enrol_response.cert_der = filled (10, 0x30);
  resp->enrol_response.role = g_strdup ("user");
  g_assert_null (settle_ceremony_msg_encode (resp, &error)); /* no chain, no names */
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_clear_error (&error);

  /* Each certificate within its bound, the whole over the frame limit. */
  g_autoptr (SettleCeremonyMsg) big = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  big->enrol_response.cert_der = filled (SETTLE_CEREMONY_CERT_MAX, 0x30);
  for (int i = 0; i < 4; i++)
    g_ptr_array_add (big->enrol_response.chain, filled (SETTLE_CEREMONY_CERT_MAX, 0x30));
  const char *names[] = { "a.local", NULL };
  big->enrol_response.names = g_strdupv ((char **) names);
  big->enrol_response.role = g_strdup ("user");
  g_assert_null (settle_ceremony_frame_encode (big, &error));
  g_assert_cmpstr (error->message, ==, "The message is larger than 64 KiB.");
  g_clear_error (&error);

  g_autoptr (SettleCeremonyMsg) hello = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_HELLO);
  hello->client_hello.version = 1;
  g_assert_null (settle_ceremony_msg_encode (hello, &error)); /* suite 0 */
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
}

static void
test_expect (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) ok = settle_ceremony_msg_new (SETTLE_MSG_SERVER_SHARE);
  g_assert_true (settle_ceremony_msg_expect (ok, SETTLE_MSG_SERVER_SHARE, &error));
  g_assert_false (settle_ceremony_msg_expect (ok, SETTLE_MSG_ENROL_RESPONSE, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The peer sent SERVER_SHARE where ENROL_RESPONSE was expected.");
  g_clear_error (&error);

  static const struct { guint code; SettleErrorCode local; } map[] = {
    { SETTLE_CEREMONY_ERR_AUTH_FAILED, SETTLE_ERROR_AUTH },
    { SETTLE_CEREMONY_ERR_ROLE_REFUSED, SETTLE_ERROR_REFUSED },
    { SETTLE_CEREMONY_ERR_BUSY, SETTLE_ERROR_REFUSED },
    { SETTLE_CEREMONY_ERR_TIMEOUT, SETTLE_ERROR_NETWORK },
    { SETTLE_CEREMONY_ERR_CSR_REFUSED, SETTLE_ERROR_CERT },
    { SETTLE_CEREMONY_ERR_MALFORMED, SETTLE_ERROR_PROTOCOL },
    { 4242, SETTLE_ERROR_PROTOCOL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    {
      g_autoptr (SettleCeremonyMsg) err = settle_ceremony_msg_new_error (map[i].code, "nope");
      g_assert_false (settle_ceremony_msg_expect (err, SETTLE_MSG_SERVER_SHARE, &error));
      g_assert_error (error, SETTLE_ERROR, (gint) map[i].local);
      g_assert_nonnull (strstr (error->message, "nope"));
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ceremony-msg/round-trip/pake", test_round_trip_pake_messages);
  g_test_add_func ("/ceremony-msg/round-trip/enrolment", test_round_trip_enrolment);
  g_test_add_func ("/ceremony-msg/frames/two-in-a-buffer", test_two_frames_in_one_buffer);
  g_test_add_func ("/ceremony-msg/round-trip/commit", test_commit_messages);
  g_test_add_func ("/ceremony-msg/malformed/messages", test_malformed_messages);
  g_test_add_func ("/ceremony-msg/malformed/frames", test_malformed_frames);
  g_test_add_func ("/ceremony-msg/unknown-fields", test_unknown_fields_ignored);
  g_test_add_func ("/ceremony-msg/referee-fields", test_referee_fields);
  g_test_add_func ("/ceremony-msg/encoder-refuses", test_encoder_refuses_invalid);
  g_test_add_func ("/ceremony-msg/expect", test_expect);
  return g_test_run ();
}
