/* test-self-cert.c: self-certifying device names (lib/names/self-cert.c,
 * schema/self-certifying-names.md). */
#include <string.h>

#include <openssl/evp.h>

#include "settle-self-cert.h"
#include "unit-certs.h"

static X509 *
cert_with_fresh_key (void)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  g_assert_nonnull (key);
  X509 *cert = test_cert_body_new ("device CA", key, NULL, 0, DAY);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  EVP_PKEY_free (key);
  return cert;
}

static settle_self_cert_verdict
parse (const char *name)
{
  return settle_self_cert_parse (name, strlen (name), NULL);
}

/* The hash of a known SPKI, computed independently: SHA-256 of the bytes,
 * first 16 bytes, base32. */
static void
test_known_vector (void)
{
  /* SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 ... */
  uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES];
  char text[SETTLE_SELF_CERT_HASH_CHARS + 1];
  g_assert_true (settle_self_cert_hash_spki ((const uint8_t *) "abc", 3, hash));
  settle_self_cert_encode (hash, text);
  /* base32 of ba7816bf8f01cfea414140de5dae2223 (python3 base64.b32encode, lowercased, no '='). */
  g_assert_cmpstr (text, ==, "xj4bnp4pahh6uqkbidpf3lrcem");
  g_assert_cmpuint (strlen (text), ==, 26);
  uint8_t back[SETTLE_SELF_CERT_HASH_BYTES];
  g_assert_cmpint (settle_self_cert_parse ("printer-xj4bnp4pahh6uqkbidpf3lrcem.local", 40, back), ==,
                   SETTLE_SELF_CERT_OK);
  g_assert_cmpmem (back, sizeof back, hash, sizeof hash);
}

static void
test_valid (void)
{
  static const char *const names[] = {
    "printer-xj4bnp4pahh6uqkbidpf3lrcem.local",
    "xj4bnp4pahh6uqkbidpf3lrcem.local",          /* no prefix */
    "my-printer-xj4bnp4pahh6uqkbidpf3lrcem.home.arpa",
    "a-aaaaaaaaaaaaaaaaaaaaaaaaaa.alt",
    "x-77777777777777777777777774.local",         /* last character: 3 bits and two zeros */
    "printer-xj4bnp4pahh6uqkbidpf3lrcem",         /* the format does not judge the namespace */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpint (parse (names[i]), ==, SETTLE_SELF_CERT_OK);
}

static void
test_ordinary (void)
{
  static const char *const names[] = {
    "printer.local",
    "printer-xj4bnp4pahh6uqkbidpf3lrce.local",    /* 25 characters */
    "printer-xj4bnp4pahh6uqkbidpf3lrcema.local",  /* 27 characters */
    "printerxj4bnp4pahh6uqkbidpf3lrcem.local",    /* no hyphen before the hash */
    "printer-xj4bnp4pahh6uqkbidpf3lrce0.local",   /* '0' is not base32 */
    "printer-xj4bnp4pahh6uqkbidpf3lrce1.local",   /* '1' either */
    "printer-xj4bnp4pahh6uqkbidpf3lrc8o.local",   /* '8' either */
    "printer.xj4bnp4pahh6uqkbidpf3lrcem.local",   /* the hash must be in the first label */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpint (parse (names[i]), ==, SETTLE_SELF_CERT_NONE);
}

static void
test_not_canonical (void)
{
  g_assert_cmpint (parse ("printer-XJ4BNP4PAHH6UQKBIDPF3LRCEM.local"), ==, SETTLE_SELF_CERT_NOT_CANONICAL);
  g_assert_cmpint (parse ("printer-xj4bnp4pahh6uqkbidpf3lrceM.local"), ==, SETTLE_SELF_CERT_NOT_CANONICAL);
  /* 'p' = 15: its two low bits are padding and must be zero. */
  g_assert_cmpint (parse ("printer-xj4bnp4pahh6uqkbidpf3lrcep.local"), ==, SETTLE_SELF_CERT_NOT_CANONICAL);
  g_assert_cmpint (parse ("printer-xj4bnp4pahh6uqkbidpf3lrce7.local"), ==, SETTLE_SELF_CERT_NOT_CANONICAL);
}

static void
test_bad_names (void)
{
  char long_label[80];
  memset (long_label, 'a', 37);
  strcpy (long_label + 37, "-xj4bnp4pahh6uqkbidpf3lrcem.local");  /* 64-octet label */
  g_assert_cmpint (parse (long_label), ==, SETTLE_SELF_CERT_BAD_NAME);
  g_assert_cmpint (parse ("-xj4bnp4pahh6uqkbidpf3lrcem.local"), ==, SETTLE_SELF_CERT_BAD_NAME);
  g_assert_cmpint (parse ("printer-xj4bnp4pahh6uqkbidpf3lrcem.local."), ==, SETTLE_SELF_CERT_BAD_NAME);
  g_assert_cmpint (parse ("printer_xj4bnp4pahh6uqkbidpf3lrcem.local"), ==, SETTLE_SELF_CERT_BAD_NAME);
  g_assert_cmpint (parse (""), ==, SETTLE_SELF_CERT_BAD_NAME);
  /* A label of exactly 63 octets still fits. */
  memset (long_label, 'a', 36);
  strcpy (long_label + 36, "-xj4bnp4pahh6uqkbidpf3lrcem.local");
  g_assert_cmpint (parse (long_label), ==, SETTLE_SELF_CERT_OK);
}

static void
test_make_and_match (void)
{
  X509 *ca = cert_with_fresh_key ();
  X509 *other = cert_with_fresh_key ();
  char name[256];

  g_assert_true (settle_self_cert_make_name ("printer", "local", ca, name, sizeof name));
  g_assert_cmpuint (strlen (name), ==, strlen ("printer-") + 26 + strlen (".local"));
  g_assert_true (g_str_has_prefix (name, "printer-"));
  g_assert_cmpint (parse (name), ==, SETTLE_SELF_CERT_OK);
  g_assert_true (settle_self_cert_matches (name, ca));
  g_assert_false (settle_self_cert_matches (name, other));   /* hash mismatch */
  g_assert_false (settle_self_cert_matches ("printer.local", ca));

  /* One flipped character is another key. */
  char *hash_at = name + strlen ("printer-");
  hash_at[0] = hash_at[0] == 'a' ? 'b' : 'a';
  g_assert_false (settle_self_cert_matches (name, ca));

  g_assert_true (settle_self_cert_make_name (NULL, "home.arpa", ca, name, sizeof name));
  g_assert_cmpuint (strlen (name), ==, 26 + strlen (".home.arpa"));
  g_assert_true (settle_self_cert_matches (name, ca));
  /* Too small a buffer, a prefix that makes the label too long, a bad prefix. */
  g_assert_false (settle_self_cert_make_name ("printer", "local", ca, name, 20));
  g_assert_false (settle_self_cert_make_name ("abcdefghijabcdefghijabcdefghijabcdefghij", "local", ca, name,
                                              sizeof name));
  g_assert_false (settle_self_cert_make_name ("-printer", "local", ca, name, sizeof name));
  X509_free (ca);
  X509_free (other);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/self-cert/known-vector", test_known_vector);
  g_test_add_func ("/self-cert/valid", test_valid);
  g_test_add_func ("/self-cert/ordinary", test_ordinary);
  g_test_add_func ("/self-cert/not-canonical", test_not_canonical);
  g_test_add_func ("/self-cert/bad-names", test_bad_names);
  g_test_add_func ("/self-cert/make-and-match", test_make_and_match);
  return g_test_run ();
}
