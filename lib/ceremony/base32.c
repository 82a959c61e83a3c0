/* base32.c: RFC 4648 base32 for the QR secret and the typing code. */
#include "settle-base32.h"

#include <string.h>

#include <openssl/crypto.h>

#include "settle-base32-digits.h"
#include "settle-error.h"

static const char rfc4648_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/* Crockford's alphabet: no I, L, O, U, so nothing looks like 1, 0 or V. */
static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define CODE_GROUP 4

gboolean
settle_base32_secret_length_ok (gsize len)
{
  return len == 16 || len == 20 || len == 32;
}

void
settle_base32_wipe_free (char *text)
{
  if (text == NULL)
    return;
  OPENSSL_cleanse (text, strlen (text));
  g_free (text);
}

char *
settle_base32_encode (const guint8 *data, gsize len)
{
  gsize n = settle_base32_digits_for (len);
  guint8 *digits = g_malloc0 (n + 1);
  char *text = g_malloc (n + 1);

  settle_base32_to_digits (data, len, digits);
  for (gsize i = 0; i < n; i++)
    text[i] = rfc4648_alphabet[digits[i]];
  text[n] = '\0';
  OPENSSL_cleanse (digits, n + 1);
  g_free (digits);
  return text;
}

static int
rfc4648_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

/* Lengths mod 8 of 1, 3 and 6 characters leave bits no byte count fills. */
static gboolean
is_possible_base32_length (gsize n)
{
  gsize r = n % 8;
  return r != 1 && r != 3 && r != 6;
}

static gboolean
check_base32_characters (const char *text, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    {
      char c = text[i];
      if (rfc4648_value (c) >= 0)
        continue;
      if (g_ascii_islower (c))
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                             "The secret contains lowercase letters; base32 secrets are uppercase.");
      else if (c == '=')
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                             "The secret contains '=' padding, which settle secrets never carry.");
      else
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                             "The secret contains a character outside the base32 alphabet A-Z, 2-7.");
      return FALSE;
    }
  return TRUE;
}

gboolean
settle_base32_decode (const char *text, guint8 *out, gsize out_size,
                      gsize *out_len, GError **error)
{
  gsize n = strnlen (text, SETTLE_BASE32_SECRET_MAX_CHARS + 1);

  if (n > SETTLE_BASE32_SECRET_MAX_CHARS)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The secret is longer than %d bits.", SETTLE_SECRET_MAX_BYTES * 8);
      return FALSE;
    }
  if (!check_base32_characters (text, n, error))
    return FALSE;
  if (!is_possible_base32_length (n))
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The secret has a length that no base32 text can have.");
      return FALSE;
    }
  gsize n_bytes = n * 5 / 8;
  if (n_bytes > out_size)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The secret is longer than %" G_GSIZE_FORMAT " bytes.", out_size);
      return FALSE;
    }

  guint8 digits[SETTLE_BASE32_SECRET_MAX_CHARS];
  for (gsize i = 0; i < n; i++)
    digits[i] = (guint8) rfc4648_value (text[i]);
  gboolean canonical = settle_base32_from_digits (digits, n, out, n_bytes);
  OPENSSL_cleanse (digits, sizeof digits);
  if (!canonical)
    {
      OPENSSL_cleanse (out, n_bytes);
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The secret's last character has unused bits set, so it is not canonical base32.");
      return FALSE;
    }
  *out_len = n_bytes;
  return TRUE;
}

/* Multiplication by x in GF(2^5) modulo x^5 + x^2 + 1. */
static guint8
gf32_times_x (guint8 v)
{
  v <<= 1;
  if (v & 0x20)
    v ^= 0x25;
  return v & 0x1f;
}

/* Damm-style check over the quasigroup a*x + y in GF(32) with a = x: every
 * step is a bijection of the running value (a single wrong character
 * always changes the result) and a*d1 + d2 == a*d2 + d1 only for d1 == d2
 * (a swap of neighbours always changes it).  A valid code folds to 0. */
static guint8
code_fold (const guint8 *digits, gsize n)
{
  guint8 interim = 0;
  for (gsize i = 0; i < n; i++)
    interim = gf32_times_x (interim) ^ digits[i];
  return interim;
}

char *
settle_base32_code_format (const guint8 *secret, gsize len)
{
  if (!settle_base32_secret_length_ok (len))
    return NULL;

  gsize n = settle_base32_digits_for (len);
  guint8 digits[SETTLE_BASE32_SECRET_MAX_CHARS + 1];
  settle_base32_to_digits (secret, len, digits);
  digits[n] = gf32_times_x (code_fold (digits, n));

  gsize total = n + 1;
  char *text = g_malloc (total + total / CODE_GROUP + 1);
  gsize t = 0;
  for (gsize i = 0; i < total; i++)
    {
      if (i > 0 && i % CODE_GROUP == 0)
        text[t++] = '-';
      text[t++] = code_alphabet[digits[i]];
    }
  text[t] = '\0';
  OPENSSL_cleanse (digits, sizeof digits);
  return text;
}

/* Value of a typed character; -1 for separators, -2 for anything else. */
static int
code_value (char c)
{
  c = g_ascii_toupper (c);
  if (c == '-' || c == ' ')
    return -1;
  if (c == 'I' || c == 'L')
    c = '1';
  else if (c == 'O')
    c = '0';
  const char *p = c != '\0' ? strchr (code_alphabet, c) : NULL;
  return p != NULL ? (int) (p - code_alphabet) : -2;
}

static gboolean
collect_code_digits (const char *code, guint8 *digits, gsize max_digits,
                     gsize *n_digits, GError **error)
{
  gsize n = 0;
  for (const char *p = code; *p != '\0'; p++)
    {
      int v = code_value (*p);
      if (v == -1)
        continue;
      if (v == -2)
        {
          if (g_ascii_isgraph (*p))
            g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                         "The code contains '%c', which is not a code character.", *p);
          else
            g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                                 "The code contains a character that is not a letter or a digit.");
          return FALSE;
        }
      if (n == max_digits)
        {
          g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                               "The code is too long: a character is extra or it is not a settle code.");
          return FALSE;
        }
      digits[n++] = (guint8) v;
    }
  *n_digits = n;
  return TRUE;
}

gboolean
settle_base32_code_parse (const char *code, guint8 *out, gsize out_size,
                          gsize *out_len, GError **error)
{
  if (strnlen (code, SETTLE_TYPING_CODE_INPUT_MAX + 1) > SETTLE_TYPING_CODE_INPUT_MAX)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The code is too long to be a settle code.");
      return FALSE;
    }

  guint8 digits[SETTLE_BASE32_SECRET_MAX_CHARS + 1];
  gsize n = 0;
  gboolean ok = FALSE;
  if (!collect_code_digits (code, digits, sizeof digits, &n, error))
    goto out;

  gsize n_data = n > 0 ? n - 1 : 0;
  gsize n_bytes = n_data * 5 / 8;
  if (!settle_base32_secret_length_ok (n_bytes) || settle_base32_digits_for (n_bytes) != n_data)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The code has %" G_GSIZE_FORMAT " characters, a length no settle code has: "
                   "one is missing or extra.", n);
      goto out;
    }
  if (n_bytes > out_size)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The code holds a longer secret than this program accepts.");
      goto out;
    }
  if (code_fold (digits, n) != 0)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The code has a typo: its check character does not match.");
      goto out;
    }
  if (!settle_base32_from_digits (digits, n_data, out, n_bytes))
    {
      OPENSSL_cleanse (out, n_bytes);
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The code has a typo: its last character before the check is impossible.");
      goto out;
    }
  *out_len = n_bytes;
  ok = TRUE;

out:
  OPENSSL_cleanse (digits, sizeof digits);
  return ok;
}
