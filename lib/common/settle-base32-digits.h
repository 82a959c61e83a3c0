/* settle-base32-digits.h: the bit packing behind every base32 text settle
 * reads or writes: the QR secret and the typing code (lib/ceremony/
 * base32.c), self-certifying names (lib/names/self-cert.c).  Each of them
 * maps 5-bit digits to its own alphabet; the packing, big-endian bit order
 * with zero fill at the end, is here once, so that all of them denote the
 * same bits.
 *
 * Plain C, no allocation: callers own every buffer (and wipe it when it
 * held a secret). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many 5-bit digits `n_bytes` bytes take: ceil(8 n / 5). */
size_t settle_base32_digits_for (size_t n_bytes);

/* Spreads `len` bytes of `data` into settle_base32_digits_for(len) digits
 * (values 0 to 31) in `digits`, the unused low bits of the last one zero. */
void settle_base32_to_digits (const uint8_t *data, size_t len, uint8_t *digits);

/* `len` bytes as lowercase RFC 4648 base32 text (a-z, 2-7; no padding),
 * the form DNS labels take (self-certifying names, portable labels):
 * settle_base32_digits_for(len) characters and a NUL into `out`. */
void settle_base32_encode_lower (const uint8_t *data, size_t len, char *out);

/* The value of an RFC 4648 base32 character in either case (a-z and A-Z
 * 0 to 25, 2-7 26 to 31), or -1. */
int settle_base32_digit_of (char c);

/* The inverse: `n_digits` digits into exactly `n_bytes` bytes of `out`.
 * false when they do not fill exactly n_bytes bytes, or when the unused
 * low bits of the last digit are not zero (two texts for the same bytes
 * would defeat comparisons); `out` may then hold part of the bytes. */
bool settle_base32_from_digits (const uint8_t *digits, size_t n_digits, uint8_t *out, size_t n_bytes);
