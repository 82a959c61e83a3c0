/* base32-digits.c: base32 bit packing (settle-base32-digits.h). */
#include "settle-base32-digits.h"

size_t
settle_base32_digits_for (size_t n_bytes)
{
  return (n_bytes * 8 + 4) / 5;
}

void
settle_base32_to_digits (const uint8_t *data, size_t len, uint8_t *digits)
{
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t d = 0;

  for (size_t i = 0; i < len; i++)
    {
      acc = (acc << 8) | data[i];
      bits += 8;
      while (bits >= 5)
        {
          bits -= 5;
          digits[d++] = (uint8_t) ((acc >> bits) & 0x1f);
        }
    }
  if (bits > 0)
    digits[d] = (uint8_t) ((acc << (5 - bits)) & 0x1f);
}

void
settle_base32_encode_lower (const uint8_t *data, size_t len, char *out)
{
  static const char lower_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  size_t n = settle_base32_digits_for (len);

  /* The digits go into `out` first and are mapped in place. */
  settle_base32_to_digits (data, len, (uint8_t *) out);
  for (size_t i = 0; i < n; i++)
    out[i] = lower_alphabet[(uint8_t) out[i]];
  out[n] = '\0';
}

int
settle_base32_digit_of (char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

bool
settle_base32_from_digits (const uint8_t *digits, size_t n_digits, uint8_t *out, size_t n_bytes)
{
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t o = 0;

  for (size_t i = 0; i < n_digits; i++)
    {
      acc = (acc << 5) | (digits[i] & 0x1f);
      bits += 5;
      if (bits >= 8)
        {
          bits -= 8;
          if (o < n_bytes)
            out[o++] = (uint8_t) ((acc >> bits) & 0xff);
        }
    }
  bool canonical = bits < 5 && (acc & ((1u << bits) - 1)) == 0;
  return o == n_bytes && canonical;
}
