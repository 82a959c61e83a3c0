/* test-qr-payload.c: the SETTLE: payload, round trips and refusals. */
#include <string.h>

#include <openssl/evp.h>

#include "settle-error.h"
#include "settle-qr-payload.h"

/* H of the 32 bytes 00..1f and S of the 20 bytes 00..13, computed with
 * Python's base64 module: the canonical spellings. */
#define GOOD_H "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define GOOD_S "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT"
#define GOOD "SETTLE:V:1;G:p256;N:printer-3fa9.local;A:192.168.1.20:8443;H:" GOOD_H ";S:" GOOD_S ";;"

static SettleQrPayload *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  SettleQrPayload *p = settle_qr_payload_parse (text, strlen (text), &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

static void
test_parse_good (void)
{
  g_autoptr (SettleQrPayload) p = parse_ok (GOOD);
  g_assert_cmpuint (p->version, ==, 1);
  g_assert_cmpint (p->suite, ==, SETTLE_SPAKE2_SUITE_P256_SHA256);
  g_assert_cmpstr (p->name, ==, "printer-3fa9.local");
  g_assert_cmpstr (p->host, ==, "192.168.1.20");
  g_assert_cmpuint (p->port, ==, 8443);
  for (guint i = 0; i < SETTLE_QR_SPKI_HASH_LEN; i++)
    g_assert_cmpuint (p->spki_sha256[i], ==, i);
  g_assert_cmpuint (p->secret_len, ==, 20);
}

static void
test_round_trip (void)
{
  g_autoptr (SettleQrPayload) p = parse_ok (GOOD);
  g_autoptr (GError) error = NULL;
  char *text = settle_qr_payload_format (p, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, GOOD);
  settle_base32_wipe_free (text);
}

static void
test_round_trip_generated (void)
{
  const char *hosts[] = { "10.0.0.7", "fe80::1", "nas.home.arpa" };
  for (gsize i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autoptr (SettleQrPayload) p = settle_qr_payload_new ();
      g_autoptr (GError) error = NULL;
      p->name = g_strdup ("hub.alt");
      p->host = g_strdup (hosts[i]);
      p->port = 443;
      memset (p->spki_sha256, 0xa5, sizeof p->spki_sha256);
      g_assert_true (settle_qr_payload_generate_secret (p, SETTLE_SECRET_RECOMMENDED_BYTES, &error));

      char *text = settle_qr_payload_format (p, &error);
      g_assert_no_error (error);
      g_autoptr (SettleQrPayload) back = settle_qr_payload_parse (text, strlen (text), &error);
      g_assert_no_error (error);
      g_assert_cmpstr (back->name, ==, p->name);
      g_assert_cmpstr (back->host, ==, p->host);
      g_assert_cmpuint (back->port, ==, p->port);
      g_assert_cmpmem (back->spki_sha256, 32, p->spki_sha256, 32);
      g_assert_cmpmem (back->secret, back->secret_len, p->secret, p->secret_len);
      g_test_message ("%" G_GSIZE_FORMAT " characters for host %s", strlen (text), hosts[i]);
      g_assert_cmpuint (strlen (text), <=, 152); /* QR version 8 at level M, byte mode */
      settle_base32_wipe_free (text);
    }
}

static void
test_tolerated_variants (void)
{
  /* Unknown fields, another field order, lowercase prefix, uppercase name,
   * zbarimg's trailing newline, bracketed IPv6: all read. */
  g_autoptr (SettleQrPayload) p = parse_ok (
    "settle:S:" GOOD_S ";X9:future;H:" GOOD_H ";A:[2001:DB8::1]:443;N:Printer.LOCAL;G:p256;V:1;;\n");
  g_assert_cmpstr (p->name, ==, "printer.local");
  g_assert_cmpstr (p->host, ==, "2001:db8::1");
  g_autoptr (SettleQrPayload) q = parse_ok (
    "SETTLE:V:1;G:p256;N:nas.home.arpa;A:nas.home.arpa:4433;H:" GOOD_H ";S:" GOOD_S ";;");
  g_assert_cmpstr (q->host, ==, "nas.home.arpa");
}

/* Without A the device is found by its name (schema/qr-payload.md):
 * host NULL, port 0, and the canonical text has no A field. */
#define NO_A "SETTLE:V:1;G:p256;N:printer.local;H:" GOOD_H ";S:" GOOD_S ";;"

static void
test_without_address (void)
{
  g_autoptr (SettleQrPayload) p = parse_ok (NO_A);
  g_assert_cmpstr (p->name, ==, "printer.local");
  g_assert_null (p->host);
  g_assert_cmpuint (p->port, ==, 0);
  g_assert_cmpuint (p->secret_len, ==, 20);
  for (guint i = 0; i < SETTLE_QR_SPKI_HASH_LEN; i++)
    g_assert_cmpuint (p->spki_sha256[i], ==, i);

  g_autoptr (GError) error = NULL;
  char *text = settle_qr_payload_format (p, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, NO_A);
  g_assert_null (strstr (text, "A:"));
  settle_base32_wipe_free (text);

  /* Any order, unknown fields and trailing white space, as with A. */
  g_autoptr (SettleQrPayload) q = parse_ok ("settle:S:" GOOD_S ";H:" GOOD_H ";X:1;N:Printer.Local;G:p256;V:1;;\r\n");
  g_assert_cmpstr (q->name, ==, "printer.local");
  g_assert_null (q->host);

  /* A payload made without an address formats without A; dropping the
   * host of one that had an address (and its port) gives the same text. */
  g_autoptr (SettleQrPayload) r = parse_ok (GOOD);
  g_clear_pointer (&r->host, g_free);
  r->port = 0;
  g_free (r->name);
  r->name = g_strdup ("printer.local");
  text = settle_qr_payload_format (r, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, NO_A);
  settle_base32_wipe_free (text);

  /* A port without a host cannot be written. */
  r->port = 8443;
  g_assert_null (settle_qr_payload_format (r, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_cmpstr (error->message, ==, "The pairing code cannot be written: it has a port but no address.");
}

static void
test_format_refusals (void)
{
  g_autoptr (SettleQrPayload) p = parse_ok (GOOD);
  g_autoptr (GError) error = NULL;
  g_free (p->name);
  p->name = g_strdup ("bank.example");
  g_assert_null (settle_qr_payload_format (p, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_clear_error (&error);

  g_free (p->name);
  p->name = g_strdup ("Printer.local");
  g_assert_null (settle_qr_payload_format (p, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_clear_error (&error);

  g_free (p->name);
  p->name = g_strdup ("printer.local");
  p->secret_len = 8;
  g_assert_null (settle_qr_payload_format (p, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
}

static void
test_spki_match (void)
{
  static const guint8 spki[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
  g_autoptr (SettleQrPayload) p = parse_ok (GOOD);
  g_assert_false (settle_qr_payload_spki_matches (p, spki, sizeof spki));
  unsigned int n = 0;
  g_assert_cmpint (EVP_Digest (spki, sizeof spki, p->spki_sha256, &n, EVP_sha256 (), NULL), ==, 1);
  g_assert_true (settle_qr_payload_spki_matches (p, spki, sizeof spki));
  g_assert_false (settle_qr_payload_spki_matches (p, spki, sizeof spki - 1));
}

typedef struct {
  const char *payload;
  const char *message; /* the exact sentence */
} Malformed;

#define F(rest) "SETTLE:" rest
#define REST_FROM_G "G:p256;N:printer.local;A:10.0.0.2:443;H:" GOOD_H ";S:" GOOD_S ";;"
#define WITH_A(a) F ("V:1;G:p256;N:printer.local;A:" a ";H:" GOOD_H ";S:" GOOD_S ";;")
#define WITH_H(h) F ("V:1;G:p256;N:printer.local;A:10.0.0.2:443;H:" h ";S:" GOOD_S ";;")
#define WITH_S(s) F ("V:1;G:p256;N:printer.local;A:10.0.0.2:443;H:" GOOD_H ";S:" s ";;")
#define WITH_N(n) F ("V:1;G:p256;N:" n ";A:10.0.0.2:443;H:" GOOD_H ";S:" GOOD_S ";;")

static const Malformed malformed[] = {
  { "", "The QR code is empty." },
  { "WIFI:S:home;T:WPA;P:secret;;",
    "This QR code is not a settle pairing code: it does not start with 'SETTLE:'." },
  { "SETTLE:V:1;G:p256", "The pairing code is cut off: it does not end with ';;'." },
  { "SETTLE:V:1;", "The pairing code is cut off: it does not end with ';;'." },
  { F ("V:1;" REST_FROM_G "junk"), "The pairing code has text after its end marker ';;'." },
  { F ("V:1; " REST_FROM_G),
    "The pairing code contains a space, a control character or a non-ASCII byte." },
  { F ("V:1;\xc3\xa9:x;" REST_FROM_G),
    "The pairing code contains a space, a control character or a non-ASCII byte." },
  { F ("V1;" REST_FROM_G), "The pairing code has a field without a ':' between name and value." },
  { F ("v:1;" REST_FROM_G),
    "The pairing code has a field name that is not 1 to 8 uppercase letters or digits." },
  { F ("ABCDEFGHI:1;V:1;" REST_FROM_G),
    "The pairing code has a field name that is not 1 to 8 uppercase letters or digits." },
  { F ("V:1;V:1;" REST_FROM_G), "The pairing code has the version field V twice." },
  { F (REST_FROM_G), "The pairing code has no version field V." },
  { F ("V:;" REST_FROM_G), "The pairing code's version field V is empty." },
  { F ("V:one;" REST_FROM_G), "The pairing code's version (V) is not a number from 1 to 999." },
  { F ("V:2;" REST_FROM_G), "The pairing code has version 2; this program understands version 1 only." },
  { F ("V:1;N:printer.local;A:10.0.0.2:443;H:" GOOD_H ";S:" GOOD_S ";;"),
    "The pairing code has no algorithm suite field G." },
  { F ("V:1;G:p384;N:printer.local;A:10.0.0.2:443;H:" GOOD_H ";S:" GOOD_S ";;"),
    "The pairing code asks for algorithm suite 'p384', which this program does not support." },
  { F ("V:1;G:p256;A:10.0.0.2:443;H:" GOOD_H ";S:" GOOD_S ";;"),
    "The pairing code has no device name field N." },
  { WITH_N ("bank.example"),
    "The name 'bank.example' is outside the local namespaces .local, home.arpa and .alt "
    "(device name N of the pairing code)." },
  { WITH_N ("local"),
    NULL /* settle_name_normalize's own sentence, with the field named */ },
  { F ("V:1;G:p256;N:printer.local;A:;H:" GOOD_H ";S:" GOOD_S ";;"),
    "The pairing code's address field A is empty." },
  { F ("V:1;G:p256;N:printer.local;A:10.0.0.2:443;A:10.0.0.2:443;H:" GOOD_H ";S:" GOOD_S ";;"),
    "The pairing code has the address field A twice." },
  { WITH_A ("10.0.0.2"), "The pairing code's address (A) has no ':port'." },
  { WITH_A ("10.0.0.2:0"), "The pairing code's address (A) has a port that is not a number from 1 to 65535." },
  { WITH_A ("10.0.0.2:65536"), "The pairing code's address (A) has a port that is not a number from 1 to 65535." },
  { WITH_A ("10.0.0.256:443"), "The pairing code's address (A) is not a valid IPv4 address." },
  { WITH_A ("fe80::1:443"), "The pairing code's address (A) has an IPv6 address without [brackets]." },
  { WITH_A ("[fe80::1:443"), "The pairing code's address (A) has a '[' without its ']'." },
  { WITH_A ("[fe80::1%eth0]:443"),
    "The pairing code's address (A) has an IPv6 zone, which means nothing to another machine." },
  { WITH_A ("[10.0.0.2]:443"),
    "The pairing code's address (A) has brackets around something that is not an IPv6 address." },
  { WITH_A ("[fe80::1]"), "The pairing code's address (A) has no ':port' after the IPv6 address." },
  { WITH_A (":443"), "The pairing code's address (A) has no host before the port." },
  { WITH_A ("evil.example:443"),
    "The name 'evil.example' is outside the local namespaces .local, home.arpa and .alt "
    "(the pairing code's address (A))." },
  { F ("V:1;G:p256;N:printer.local;A:10.0.0.2:443;S:" GOOD_S ";;"),
    "The pairing code has no key hash field H." },
  { WITH_H ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh"),
    "The pairing code's key hash (H) is not 43 base64url characters (a SHA-256)." },
  { WITH_H ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
    "The pairing code's key hash (H) is not 43 base64url characters (a SHA-256)." },
  { WITH_H ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8"),
    "The pairing code's key hash (H) has a character outside base64url (A-Z a-z 0-9 - _)." },
  { WITH_H ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"),
    "The pairing code's key hash (H) is not canonical base64url." },
  { F ("V:1;G:p256;N:printer.local;A:10.0.0.2:443;H:" GOOD_H ";;"),
    "The pairing code has no secret field S." },
  { WITH_S ("AAAQEAYEAUDAOCAJBIFQYDIOB"), "The pairing code's secret (S) is shorter than 128 bits." },
  { WITH_S ("AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYAAAQEAYEAUDAOCAJ"),
    "The pairing code's secret (S) is longer than 256 bits." },
  { WITH_S ("AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYY"),
    "The pairing code's secret (S) is not 128, 160 or 256 bits long." },
  { WITH_S ("aaaqeayeaudaocajbifqydiob4ibceqt"),
    "The secret contains lowercase letters; base32 secrets are uppercase." },
  { WITH_S ("AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQ1"),
    "The secret contains a character outside the base32 alphabet A-Z, 2-7." },
  { WITH_S ("AAAAAAAAAAAAAAAAAAAAAAAAAB"),
    "The secret's last character has unused bits set, so it is not canonical base32." },
  { WITH_S ("AAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    "The secret has a length that no base32 text can have." },
};

static void
test_malformed_table (void)
{
  g_assert_cmpuint (G_N_ELEMENTS (malformed), >=, 20);
  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_autoptr (GError) error = NULL;
      const char *text = malformed[i].payload;
      SettleQrPayload *p = settle_qr_payload_parse (text, strlen (text), &error);
      if (p != NULL)
        g_error ("malformed payload %" G_GSIZE_FORMAT " was accepted: %s", i, text);
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
      if (malformed[i].message != NULL && strcmp (error->message, malformed[i].message) != 0)
        g_error ("payload %" G_GSIZE_FORMAT ": got '%s', expected '%s'", i, error->message,
                 malformed[i].message);
      if (malformed[i].message == NULL)
        g_assert_true (g_str_has_suffix (error->message, "(device name N of the pairing code)."));
      g_assert_null (strstr (error->message, GOOD_S));
    }
}

static void
test_length_cap (void)
{
  g_autoptr (GString) s = g_string_new ("SETTLE:V:1;");
  while (s->len <= SETTLE_QR_PAYLOAD_MAX)
    g_string_append (s, "X:filler;");
  g_string_append (s, REST_FROM_G);
  g_autoptr (GError) error = NULL;
  g_assert_null (settle_qr_payload_parse (s->str, s->len, &error));
  g_assert_cmpstr (error->message, ==,
                   "The QR code is longer than 1024 characters, so it is not a settle pairing code.");

  /* Embedded NUL inside the given length is refused, not truncated. */
  static const char with_nul[] = "SETTLE:V:1;\0" REST_FROM_G;
  g_clear_error (&error);
  g_assert_null (settle_qr_payload_parse (with_nul, sizeof with_nul - 1, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
}

static void
test_field_count_cap (void)
{
  g_autoptr (GString) s = g_string_new ("SETTLE:V:1;");
  for (int i = 0; i < 40; i++)
    g_string_append (s, "X:1;");
  g_string_append (s, REST_FROM_G);
  g_autoptr (GError) error = NULL;
  g_assert_null (settle_qr_payload_parse (s->str, s->len, &error));
  g_assert_cmpstr (error->message, ==, "The pairing code has more than 32 fields.");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qr-payload/parse", test_parse_good);
  g_test_add_func ("/qr-payload/round-trip", test_round_trip);
  g_test_add_func ("/qr-payload/round-trip-generated", test_round_trip_generated);
  g_test_add_func ("/qr-payload/tolerated-variants", test_tolerated_variants);
  g_test_add_func ("/qr-payload/without-address", test_without_address);
  g_test_add_func ("/qr-payload/format-refusals", test_format_refusals);
  g_test_add_func ("/qr-payload/spki-match", test_spki_match);
  g_test_add_func ("/qr-payload/malformed", test_malformed_table);
  g_test_add_func ("/qr-payload/length-cap", test_length_cap);
  g_test_add_func ("/qr-payload/field-count-cap", test_field_count_cap);
  return g_test_run ();
}
