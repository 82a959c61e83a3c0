/* fingerprint.c: SHA-256 fingerprints of anchors, as users type them and
 * as settle stores them (64 lowercase hex digits). */
#include <string.h>

#include <openssl/evp.h>

#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-record.h"

/* Generous enough for "AB:CD:..." with spaces around every colon, small
 * enough that nobody can make us walk megabytes of pasted text. */
#define FINGERPRINT_INPUT_MAX 256

static gboolean
is_fingerprint_separator (char c)
{
  return c == ':' || c == ' ';
}

gboolean
settle_fingerprint_is_canonical (const char *text)
{
  if (text == NULL || strnlen (text, SETTLE_FINGERPRINT_HEX_LEN + 1) != SETTLE_FINGERPRINT_HEX_LEN)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

char *
settle_fingerprint_parse (const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);

  if (strnlen (text, FINGERPRINT_INPUT_MAX + 1) > FINGERPRINT_INPUT_MAX)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                   "The fingerprint is longer than %d characters; a SHA-256 fingerprint "
                   "has 64 hex digits.", FINGERPRINT_INPUT_MAX);
      return NULL;
    }

  GString *hex = g_string_sized_new (SETTLE_FINGERPRINT_HEX_LEN);
  for (const char *p = text; *p != '\0'; p++)
    {
      if (is_fingerprint_separator (*p))
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          if (g_ascii_isprint (*p))
            g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                         "The fingerprint contains '%c', which is not a hex digit.", *p);
          else
            g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                         "The fingerprint contains a character that is not a hex digit "
                         "(byte 0x%02x).", (guint) (guchar) *p);
          g_string_free (hex, TRUE);
          return NULL;
        }
      g_string_append_c (hex, g_ascii_tolower (*p));
    }

  if (hex->len != SETTLE_FINGERPRINT_HEX_LEN)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                   "The fingerprint has %zu hex digits; a SHA-256 fingerprint has exactly 64.",
                   hex->len);
      g_string_free (hex, TRUE);
      return NULL;
    }
  return g_string_free (hex, FALSE);
}

char *
settle_fingerprint_of_der (const guint8 *der, gsize len)
{
  guint8 digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;

  g_return_val_if_fail (der != NULL || len == 0, NULL);
  if (EVP_Digest (der, len, digest, &digest_len, EVP_sha256 (), NULL) != 1 || digest_len != 32)
    return NULL;

  GString *hex = g_string_sized_new (SETTLE_FINGERPRINT_HEX_LEN);
  for (unsigned int i = 0; i < digest_len; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

char *
settle_fingerprint_pretty (const char *hex)
{
  g_return_val_if_fail (hex != NULL, NULL);

  gsize len = strlen (hex);
  GString *pretty = g_string_sized_new (len + len / 2);
  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (pretty, ':');
      g_string_append_c (pretty, g_ascii_toupper (hex[i]));
    }
  return g_string_free (pretty, FALSE);
}
