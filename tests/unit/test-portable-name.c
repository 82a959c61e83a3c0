/* test-portable-name.c: the rotating labels of portable mode
 * (lib/names/portable-name.c), against the vectors of
 * schema/portable-names.md (computed there with Python's hmac/base64). */
#include <string.h>

#include <glib.h>

#include "settle-portable-name.h"

static const uint8_t key_0_to_31[32] = {
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

/* SHA-256("abc") */
static const uint8_t pin_abc[32] = {
  0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
  0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};

static void
test_host_vectors (void)
{
  static const struct { uint64_t n; const char *label; } vectors[] = {
    { 0, "4bjwgjgp6ay2uxt5" },
    { 1, "trrxzt6uj46uhcjb" },
    { 1966080, "wzmrnrx2ccybrja4" },
    { UINT64_MAX, "4if4s37ogaz3osxo" },
  };
  char out[SETTLE_PORTABLE_LABEL_CHARS + 1];
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_assert_true (settle_portable_host_label (key_0_to_31, vectors[i].n, out));
      g_assert_cmpstr (out, ==, vectors[i].label);
    }
}

static void
test_pairing_vectors (void)
{
  static const uint8_t zero[5] = { 0 }, count[5] = { 1, 2, 3, 4, 5 };
  char out[SETTLE_PORTABLE_LABEL_CHARS + 1];
  g_assert_true (settle_portable_pairing_label (pin_abc, zero, out));
  g_assert_cmpstr (out, ==, "aaaaaaaammvs25sh");
  g_assert_true (settle_portable_pairing_label (pin_abc, count, out));
  g_assert_cmpstr (out, ==, "aebagbaf6pzpv2du");
  g_assert_true (settle_portable_pairing_label_matches (pin_abc, "AEBAGBAF6PZPV2DU", 16));
  g_assert_true (settle_portable_pairing_label_matches (pin_abc, out, 16));
  /* one bit of the tag, one of the nonce, another pin, a short label */
  g_assert_false (settle_portable_pairing_label_matches (pin_abc, "aebagbaf6pzpv2dv", 16));
  g_assert_false (settle_portable_pairing_label_matches (pin_abc, "bebagbaf6pzpv2du", 16));
  g_assert_false (settle_portable_pairing_label_matches (key_0_to_31, out, 16));
  g_assert_false (settle_portable_pairing_label_matches (pin_abc, out, 15));
  g_assert_false (settle_portable_pairing_label_matches (pin_abc, "aebagbaf6pzpv2d1", 16));
}

/* n-1, n and n+1 are accepted (clock skew), n-2 and n+2 are not. */
static void
test_skew (void)
{
  const uint32_t period = 10;
  const int64_t now = 19660805;   /* period 1966080 */
  char label[SETTLE_PORTABLE_LABEL_CHARS + 1];
  g_assert_cmpuint (settle_portable_period_number (now, period), ==, 1966080);
  for (int delta = -3; delta <= 3; delta++)
    {
      g_assert_true (settle_portable_host_label (key_0_to_31, (uint64_t) (1966080 + delta), label));
      gboolean expected = delta >= -1 && delta <= 1;
      g_assert_cmpint (settle_portable_host_label_matches (key_0_to_31, period, now, label, 16), ==, expected);
    }
  g_assert_true (settle_portable_host_label_matches (key_0_to_31, period, now, "WZMRNRX2CCYBRJA4", 16));
  /* a period outside the bounds is never matched */
  g_assert_false (settle_portable_host_label_matches (key_0_to_31, 1, now, "wzmrnrx2ccybrja4", 16));
  g_assert_false (settle_portable_period_ok (1));
  g_assert_true (settle_portable_period_ok (2));
  g_assert_true (settle_portable_period_ok (86400));
  g_assert_false (settle_portable_period_ok (86401));
  g_assert_cmpuint (settle_portable_period_number (-5, 10), ==, 0);
}

static void
test_label_of_host (void)
{
  const char *label = NULL;
  size_t len = 0;
  g_assert_true (settle_portable_label_of_host ("wzmrnrx2ccybrja4.local", &label, &len));
  g_assert_cmpuint (len, ==, 16);
  g_assert_true (settle_portable_label_of_host ("WZMRNRX2CCYBRJA4.LOCAL.", &label, &len));
  g_assert_false (settle_portable_label_of_host ("printer.local", &label, &len));
  g_assert_false (settle_portable_label_of_host ("wzmrnrx2ccybrja4.home.arpa", &label, &len));
  g_assert_false (settle_portable_label_of_host ("wzmrnrx2ccybrja4", &label, &len));
  g_assert_false (settle_portable_label_of_host ("wzmrnrx2ccybrja1.local", &label, &len));
  g_assert_false (settle_portable_label_of_host (NULL, &label, &len));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/portable-name/host-vectors", test_host_vectors);
  g_test_add_func ("/portable-name/pairing-vectors", test_pairing_vectors);
  g_test_add_func ("/portable-name/skew", test_skew);
  g_test_add_func ("/portable-name/label-of-host", test_label_of_host);
  return g_test_run ();
}
