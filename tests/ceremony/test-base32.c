/* test-base32.c: the QR secret's base32 and the typing code. */
#include <string.h>

#include <openssl/rand.h>

#include "settle-base32.h"
#include "settle-error.h"

/* RFC 4648 section 10 test vectors, without padding. */
static void
test_rfc4648_vectors (void)
{
  static const struct { const char *in, *out; } cases[] = {
    { "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
    { "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize n = strlen (cases[i].in);
      g_autofree char *enc = settle_base32_encode ((const guint8 *) cases[i].in, n);
      g_assert_cmpstr (enc, ==, cases[i].out);

      guint8 buf[16];
      gsize len = 0;
      g_autoptr (GError) error = NULL;
      g_assert_true (settle_base32_decode (cases[i].out, buf, sizeof buf, &len, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (buf, len, cases[i].in, n);
    }
}

static void
test_base32_round_trip_random (void)
{
  for (gsize len = 1; len <= SETTLE_SECRET_MAX_BYTES; len++)
    {
      guint8 secret[SETTLE_SECRET_MAX_BYTES], back[SETTLE_SECRET_MAX_BYTES];
      g_assert_cmpint (RAND_bytes (secret, (int) len), ==, 1);
      char *text = settle_base32_encode (secret, len);
      gsize back_len = 0;
      g_assert_true (settle_base32_decode (text, back, sizeof back, &back_len, NULL));
      g_assert_cmpmem (back, back_len, secret, len);
      settle_base32_wipe_free (text);
    }
}

static void
assert_base32_refused (const char *text, gsize out_size, const char *fragment)
{
  guint8 buf[SETTLE_SECRET_MAX_BYTES];
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_base32_decode (text, buf, MIN (out_size, sizeof buf), &len, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s' refused with '%s', expected '%s'", text, error->message, fragment);
}

static void
test_base32_refusals (void)
{
  assert_base32_refused ("mzxw6", 16, "lowercase");
  assert_base32_refused ("MZXW6===", 16, "padding");
  assert_base32_refused ("MZXW1", 16, "outside the base32 alphabet");
  assert_base32_refused ("MZX", 16, "no base32 text can have");
  assert_base32_refused ("MZ", 16, "not canonical");     /* 'Z' leaves 2 unused bits set */
  assert_base32_refused ("MZXW6YTBOI", 4, "longer than 4 bytes");
  assert_base32_refused ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32, "longer than 256 bits");
}

static void
test_code_shape (void)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES];
  memset (secret, 0, sizeof secret);
  char *code = settle_base32_code_format (secret, sizeof secret);
  /* 32 data characters + 1 check, grouped by 4. */
  g_assert_cmpstr (code, ==, "0000-0000-0000-0000-0000-0000-0000-0000-0");
  settle_base32_wipe_free (code);

  g_assert_null (settle_base32_code_format (secret, SETTLE_SECRET_MIN_BYTES - 1));
  g_assert_null (settle_base32_code_format (secret, 19));
  g_assert_true (settle_base32_secret_length_ok (16));
  g_assert_false (settle_base32_secret_length_ok (24));

  for (gsize i = 0; i < sizeof secret; i++)
    secret[i] = (guint8) (0x11 * i);
  code = settle_base32_code_format (secret, sizeof secret);
  for (const char *p = code; *p; p++)
    g_assert_null (strchr ("ILOU", *p));
  g_assert_cmpuint (strlen (code), ==, 33 + 8);
  settle_base32_wipe_free (code);
}

/* Codes of the bytes 00 01 02 ... computed by an independent Python
 * implementation of schema/qr-payload.md "Typing code". */
static void
test_code_vectors (void)
{
  static const struct { gsize len; const char *code; } vectors[] = {
    { 16, "000G-40R4-0M30-E209-185G-R38E-1W8" },
    { 20, "000G-40R4-0M30-E209-185G-R38E-1W81-24GK-C" },
    { 32, "000G-40R4-0M30-E209-185G-R38E-1W81-24GK-2GAH-C5RR-34D1-P70X-3RFG-9" },
  };
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  for (guint i = 0; i < sizeof secret; i++)
    secret[i] = (guint8) i;
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      char *code = settle_base32_code_format (secret, vectors[i].len);
      g_assert_cmpstr (code, ==, vectors[i].code);
      settle_base32_wipe_free (code);
    }
}

static void
test_code_round_trip (void)
{
  static const gsize lengths[] = { 16, 20, 32 };
  for (gsize l = 0; l < G_N_ELEMENTS (lengths); l++)
    for (int round = 0; round < 20; round++)
      {
        gsize len = lengths[l];
        guint8 secret[SETTLE_SECRET_MAX_BYTES], back[SETTLE_SECRET_MAX_BYTES];
        g_assert_cmpint (RAND_bytes (secret, (int) len), ==, 1);
        char *code = settle_base32_code_format (secret, len);
        gsize back_len = 0;
        g_autoptr (GError) error = NULL;
        g_assert_true (settle_base32_code_parse (code, back, sizeof back, &back_len, &error));
        g_assert_no_error (error);
        g_assert_cmpmem (back, back_len, secret, len);

        /* People type lowercase, leave out dashes, add spaces. */
        char *typed = g_ascii_strdown (code, -1);
        if (round % 2)
          g_strdelimit (typed, "-", ' ');
        else
          {
            char *out = typed;
            for (const char *p = typed; *p; p++)
              if (*p != '-')
                *out++ = *p;
            *out = '\0';
          }
        g_assert_true (settle_base32_code_parse (typed, back, sizeof back, &back_len, &error));
        g_assert_cmpmem (back, back_len, secret, len);
        settle_base32_wipe_free (typed);
        settle_base32_wipe_free (code);
      }
}

static void
test_code_confusables_read (void)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES], back[SETTLE_SECRET_MAX_BYTES];
  memset (secret, 0, sizeof secret);
  secret[0] = 0x08; /* first digit 1 */
  char *code = settle_base32_code_format (secret, sizeof secret);
  g_assert_true (code[0] == '1' && code[1] == '0');
  char *typed = g_strdup (code);
  typed[0] = 'l';
  typed[1] = 'O';
  gsize len = 0;
  g_assert_true (settle_base32_code_parse (typed, back, sizeof back, &len, NULL));
  g_assert_cmpmem (back, len, secret, sizeof secret);
  typed[0] = 'I';
  g_assert_true (settle_base32_code_parse (typed, back, sizeof back, &len, NULL));
  settle_base32_wipe_free (typed);
  settle_base32_wipe_free (code);
}

static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Positions of code characters in the grouped text (dashes skipped). */
static gsize
code_positions (const char *code, gsize *pos)
{
  gsize n = 0;
  for (gsize i = 0; code[i]; i++)
    if (code[i] != '-')
      pos[n++] = i;
  return n;
}

static void
assert_code_refused (const char *code, const char *fragment)
{
  guint8 back[SETTLE_SECRET_MAX_BYTES];
  gsize len = 0;
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_base32_code_parse (code, back, sizeof back, &len, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  if (strstr (error->message, fragment) == NULL)
    g_error ("code refused with '%s', expected '%s'", error->message, fragment);
}

/* Every single substitution and every swap of neighbours is caught. */
static void
test_code_detects_every_typo (void)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES];
  g_assert_cmpint (RAND_bytes (secret, sizeof secret), ==, 1);
  char *code = settle_base32_code_format (secret, sizeof secret);
  gsize pos[64];
  gsize n = code_positions (code, pos);
  guint caught = 0;

  for (gsize i = 0; i < n; i++)
    for (gsize a = 0; a < 32; a++)
      {
        if (code_alphabet[a] == code[pos[i]])
          continue;
        char *typo = g_strdup (code);
        typo[pos[i]] = code_alphabet[a];
        assert_code_refused (typo, "typo");
        settle_base32_wipe_free (typo);
        caught++;
      }
  for (gsize i = 0; i + 1 < n; i++)
    {
      if (code[pos[i]] == code[pos[i + 1]])
        continue;
      char *swap = g_strdup (code);
      swap[pos[i]] = code[pos[i + 1]];
      swap[pos[i + 1]] = code[pos[i]];
      assert_code_refused (swap, "typo");
      settle_base32_wipe_free (swap);
      caught++;
    }
  g_assert_cmpuint (caught, >, 31 * n);
  settle_base32_wipe_free (code);
}

/* A dropped or doubled character always changes the length to one that
 * no secret size has, for every size. */
static void
test_code_detects_dropped_and_doubled (void)
{
  static const gsize lengths[] = { 16, 20, 32 };
  for (gsize l = 0; l < G_N_ELEMENTS (lengths); l++)
    {
      guint8 secret[SETTLE_SECRET_MAX_BYTES];
      g_assert_cmpint (RAND_bytes (secret, (int) lengths[l]), ==, 1);
      char *code = settle_base32_code_format (secret, lengths[l]);
      gsize pos[64];
      gsize n = code_positions (code, pos);
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GString) dropped = g_string_new (code);
          g_string_erase (dropped, (gssize) pos[i], 1);
          assert_code_refused (dropped->str, "one is missing or extra");
          g_autoptr (GString) doubled = g_string_new (code);
          g_string_insert_c (doubled, (gssize) pos[i], code[pos[i]]);
          assert_code_refused (doubled->str, "extra");
        }
      settle_base32_wipe_free (code);
    }
}

static void
test_code_refusals (void)
{
  guint8 secret[SETTLE_SECRET_RECOMMENDED_BYTES] = { 0 };
  char *code = settle_base32_code_format (secret, sizeof secret);

  char *missing = g_strndup (code, strlen (code) - 1);
  assert_code_refused (missing, "one is missing or extra");
  char *extra = g_strconcat (code, "0", NULL);
  assert_code_refused (extra, "one is missing or extra");
  assert_code_refused ("0000-0000-000U-0000", "'U'");
  assert_code_refused ("0000\t0000", "not a letter or a digit");
  assert_code_refused ("", "one is missing or extra");
  g_autofree char *huge = g_strnfill (SETTLE_TYPING_CODE_INPUT_MAX + 1, '-');
  assert_code_refused (huge, "too long");
  g_autofree char *sixty = g_strnfill (60, '0');
  assert_code_refused (sixty, "too long");

  g_free (missing);
  g_free (extra);
  settle_base32_wipe_free (code);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/base32/rfc4648/vectors", test_rfc4648_vectors);
  g_test_add_func ("/base32/rfc4648/round-trip", test_base32_round_trip_random);
  g_test_add_func ("/base32/rfc4648/refusals", test_base32_refusals);
  g_test_add_func ("/base32/code/shape", test_code_shape);
  g_test_add_func ("/base32/code/vectors", test_code_vectors);
  g_test_add_func ("/base32/code/round-trip", test_code_round_trip);
  g_test_add_func ("/base32/code/confusables", test_code_confusables_read);
  g_test_add_func ("/base32/code/every-typo-caught", test_code_detects_every_typo);
  g_test_add_func ("/base32/code/dropped-doubled-caught", test_code_detects_dropped_and_doubled);
  g_test_add_func ("/base32/code/refusals", test_code_refusals);
  return g_test_run ();
}
