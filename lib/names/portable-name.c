/* portable-name.c: the rotating labels of portable mode
 * (settle-portable-name.h, schema/portable-names.md). */
#include "settle-portable-name.h"
#include "settle-base32-digits.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define HOST_CONTEXT "settle portable v1 host"
#define PAIRING_CONTEXT "settle portable v1 pairing"
#define LABEL_BYTES 10
#define TAG_BYTES (LABEL_BYTES - SETTLE_PORTABLE_NONCE_BYTES)
/* The longest HMAC input: a context, its 0x00, 8 bytes of period. */
#define MESSAGE_MAX 64

/* 10 bytes are exactly 16 base32 digits (80 bits, no padding). */
static void
encode_label (const uint8_t in[LABEL_BYTES], char out[SETTLE_PORTABLE_LABEL_CHARS + 1])
{
  settle_base32_encode_lower (in, LABEL_BYTES, out);
}

static bool
hmac_sha256 (const uint8_t *key, size_t key_len, const char *context, const uint8_t *tail, size_t tail_len,
             uint8_t mac[32])
{
  uint8_t message[MESSAGE_MAX];
  size_t context_len = strlen (context);
  unsigned int mac_len = 0;

  if (context_len + 1 + tail_len > sizeof message)
    return false;
  memcpy (message, context, context_len);
  message[context_len] = 0;
  memcpy (message + context_len + 1, tail, tail_len);
  return HMAC (EVP_sha256 (), key, (int) key_len, message, context_len + 1 + tail_len, mac, &mac_len) != NULL
         && mac_len == 32;
}

bool
settle_portable_period_ok (int64_t period_s)
{
  return period_s >= SETTLE_PORTABLE_PERIOD_MIN_S && period_s <= SETTLE_PORTABLE_PERIOD_MAX_S;
}

uint64_t
settle_portable_period_number (int64_t unix_time, uint32_t period_s)
{
  if (unix_time <= 0 || period_s == 0)
    return 0;
  return (uint64_t) unix_time / period_s;
}

bool
settle_portable_host_label (const uint8_t key[SETTLE_PORTABLE_KEY_BYTES], uint64_t number,
                            char out[SETTLE_PORTABLE_LABEL_CHARS + 1])
{
  uint8_t be[8], mac[32];
  for (int i = 0; i < 8; i++)
    be[i] = (uint8_t) (number >> (56 - 8 * i));
  if (!hmac_sha256 (key, SETTLE_PORTABLE_KEY_BYTES, HOST_CONTEXT, be, sizeof be, mac))
    return false;
  encode_label (mac, out);
  OPENSSL_cleanse (mac, sizeof mac);
  return true;
}

/* label[0..len) in lowercase into out, when it is 16 base32 characters. */
static bool
lower_label (const char *label, size_t len, char out[SETTLE_PORTABLE_LABEL_CHARS + 1])
{
  if (label == NULL || len != SETTLE_PORTABLE_LABEL_CHARS)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      char c = label[i];
      if (c >= 'A' && c <= 'Z')
        c = (char) (c - 'A' + 'a');
      if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
        return false;
      out[i] = c;
    }
  out[len] = '\0';
  return true;
}

bool
settle_portable_host_label_matches (const uint8_t key[SETTLE_PORTABLE_KEY_BYTES], uint32_t period_s,
                                    int64_t unix_time, const char *label, size_t len)
{
  char seen[SETTLE_PORTABLE_LABEL_CHARS + 1], expected[SETTLE_PORTABLE_LABEL_CHARS + 1];
  bool found = false;

  if (!settle_portable_period_ok (period_s) || !lower_label (label, len, seen))
    return false;
  uint64_t now = settle_portable_period_number (unix_time, period_s);
  for (int delta = -1; delta <= 1; delta++)
    {
      if (delta < 0 && now == 0)
        continue;
      if (settle_portable_host_label (key, now + (uint64_t) (int64_t) delta, expected)
          && CRYPTO_memcmp (expected, seen, SETTLE_PORTABLE_LABEL_CHARS) == 0)
        found = true;
    }
  return found;
}

bool
settle_portable_pairing_label (const uint8_t pin[SETTLE_PORTABLE_PIN_BYTES],
                               const uint8_t nonce[SETTLE_PORTABLE_NONCE_BYTES],
                               char out[SETTLE_PORTABLE_LABEL_CHARS + 1])
{
  uint8_t raw[LABEL_BYTES], mac[32];
  if (!hmac_sha256 (pin, SETTLE_PORTABLE_PIN_BYTES, PAIRING_CONTEXT, nonce, SETTLE_PORTABLE_NONCE_BYTES, mac))
    return false;
  memcpy (raw, nonce, SETTLE_PORTABLE_NONCE_BYTES);
  memcpy (raw + SETTLE_PORTABLE_NONCE_BYTES, mac, TAG_BYTES);
  encode_label (raw, out);
  return true;
}

/* The 10 bytes of a lowercase label (16 digits fill them exactly). */
static bool
decode_label (const char label[SETTLE_PORTABLE_LABEL_CHARS], uint8_t out[LABEL_BYTES])
{
  uint8_t digits[SETTLE_PORTABLE_LABEL_CHARS];
  for (int i = 0; i < SETTLE_PORTABLE_LABEL_CHARS; i++)
    {
      int digit = settle_base32_digit_of (label[i]);
      if (digit < 0)
        return false;
      digits[i] = (uint8_t) digit;
    }
  return settle_base32_from_digits (digits, SETTLE_PORTABLE_LABEL_CHARS, out, LABEL_BYTES);
}

bool
settle_portable_pairing_label_matches (const uint8_t pin[SETTLE_PORTABLE_PIN_BYTES], const char *label,
                                       size_t len)
{
  char seen[SETTLE_PORTABLE_LABEL_CHARS + 1], expected[SETTLE_PORTABLE_LABEL_CHARS + 1];
  uint8_t raw[LABEL_BYTES];

  if (!lower_label (label, len, seen) || !decode_label (seen, raw))
    return false;
  return settle_portable_pairing_label (pin, raw, expected)
         && CRYPTO_memcmp (expected, seen, SETTLE_PORTABLE_LABEL_CHARS) == 0;
}

bool
settle_portable_label_of_host (const char *host, const char **label, size_t *len)
{
  char scratch[SETTLE_PORTABLE_LABEL_CHARS + 1];
  const char *dot = host != NULL ? strchr (host, '.') : NULL;

  if (dot == NULL || (strcasecmp (dot, ".local") != 0 && strcasecmp (dot, ".local.") != 0)
      || !lower_label (host, (size_t) (dot - host), scratch))
    return false;
  *label = host;
  *len = (size_t) (dot - host);
  return true;
}
