/* test-fingerprint.c: parsing, computing and showing fingerprints. */
#include <string.h>

#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-record.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void
expect_parse (const char *input)
{
  GError *error = NULL;
  char *parsed = settle_fingerprint_parse (input, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (parsed, ==, ABC_SHA256);
  g_free (parsed);
}

static void
expect_refusal (const char *input, const char *message_part)
{
  GError *error = NULL;
  char *parsed = settle_fingerprint_parse (input, &error);
  g_assert_null (parsed);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, message_part));
  g_error_free (error);
}

static void
test_parse_spellings (void)
{
  expect_parse (ABC_SHA256);
  expect_parse ("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  expect_parse ("BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:"
                "B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD");
  expect_parse ("ba78 16bf 8f01 cfea 4141 40de 5dae 2223 b003 61a3 9617 7a9c b410 ff61 f200 15ad");
  expect_parse ("Ba:78 16:bF" "8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_parse_refusals (void)
{
  expect_refusal (ABC_SHA256 "0", "65 hex digits");
  expect_refusal ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", "63 hex digits");
  expect_refusal ("", "0 hex digits");
  expect_refusal ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag", "'g'");
  expect_refusal ("ba78-16bf", "'-'");
  expect_refusal ("ba78\t16bf", "byte 0x09");

  char *long_input = g_strnfill (300, 'a');
  expect_refusal (long_input, "longer than");
  g_free (long_input);
}

static void
test_of_der (void)
{
  char *hex = settle_fingerprint_of_der ((const guint8 *) "abc", 3);
  g_assert_cmpstr (hex, ==, ABC_SHA256);
  g_free (hex);
}

static void
test_pretty (void)
{
  char *pretty = settle_fingerprint_pretty (ABC_SHA256);
  g_assert_cmpstr (pretty, ==, "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:"
                               "B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD");
  /* What we show must read back as the same fingerprint. */
  GError *error = NULL;
  char *again = settle_fingerprint_parse (pretty, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, ABC_SHA256);
  g_free (again);
  g_free (pretty);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fingerprint/parse-spellings", test_parse_spellings);
  g_test_add_func ("/fingerprint/parse-refusals", test_parse_refusals);
  g_test_add_func ("/fingerprint/of-der", test_of_der);
  g_test_add_func ("/fingerprint/pretty", test_pretty);
  return g_test_run ();
}
