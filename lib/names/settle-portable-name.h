/* settle-portable-name.h: the rotating names of a device in portable mode
 * (REQ-NAME-05), defined here and in schema/portable-names.md (with test
 * vectors), docs/portable.md (the design).
 *
 * Two kinds of label, each 16 characters of lowercase RFC 4648 base32
 * ([a-z2-7]) of 10 bytes, used as the device's mDNS host label (LABEL.local)
 * and as its DNS-SD instance name:
 *
 *   host label     for the agents that paired with the device: the first
 *                  10 bytes of HMAC-SHA256(K, "settle portable v1 host" ||
 *                  0x00 || uint64be(n)), K = the device's 32-byte discovery
 *                  key, n = floor(unix time / R), R the rotation period in
 *                  seconds (both told to the agent inside the ceremony).
 *                  An agent accepts n-1, n and n+1 (clock skew).
 *   pairing label  while the device waits for its first pairing, for the
 *                  holder of its QR code: r || the first 5 bytes of
 *                  HMAC-SHA256(H, "settle portable v1 pairing" || 0x00 || r),
 *                  H = the QR code's pin (SHA-256 of the TLS key's SPKI),
 *                  r = 5 fresh random bytes each period.  Recognised without
 *                  a clock: the label carries its own r.
 *
 * Plain C and libcrypto, no allocation: linked into settle, settle-device
 * and libnss_settle (which loads into every process that resolves names). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SETTLE_PORTABLE_KEY_BYTES 32
#define SETTLE_PORTABLE_PIN_BYTES 32
#define SETTLE_PORTABLE_NONCE_BYTES 5
#define SETTLE_PORTABLE_LABEL_CHARS 16
/* The rotation period: 15 minutes unless the device is told otherwise;
 * tests use a few seconds. */
#define SETTLE_PORTABLE_PERIOD_DEFAULT_S 900
#define SETTLE_PORTABLE_PERIOD_MIN_S 2
#define SETTLE_PORTABLE_PERIOD_MAX_S 86400

/* true for SETTLE_PORTABLE_PERIOD_MIN_S..MAX_S. */
bool settle_portable_period_ok (int64_t period_s);

/* floor(unix_time / period_s); 0 before the epoch. */
uint64_t settle_portable_period_number (int64_t unix_time, uint32_t period_s);

/* The host label of period `number`: 16 characters and a NUL. */
bool settle_portable_host_label (const uint8_t key[SETTLE_PORTABLE_KEY_BYTES], uint64_t number,
                                 char out[SETTLE_PORTABLE_LABEL_CHARS + 1]);

/* true when label[0..len) is the host label of period n-1, n or n+1 at
 * `unix_time` (case-insensitive; a trailing ".local" or "." is not part
 * of the label: callers pass the first label only). */
bool settle_portable_host_label_matches (const uint8_t key[SETTLE_PORTABLE_KEY_BYTES], uint32_t period_s,
                                         int64_t unix_time, const char *label, size_t len);

/* The pairing label for `pin` and `nonce`: 16 characters and a NUL. */
bool settle_portable_pairing_label (const uint8_t pin[SETTLE_PORTABLE_PIN_BYTES],
                                    const uint8_t nonce[SETTLE_PORTABLE_NONCE_BYTES],
                                    char out[SETTLE_PORTABLE_LABEL_CHARS + 1]);

/* true when label[0..len) is a pairing label for `pin` (any nonce). */
bool settle_portable_pairing_label_matches (const uint8_t pin[SETTLE_PORTABLE_PIN_BYTES], const char *label,
                                            size_t len);

/* The first label of `host` ("abc.local" -> "abc", 3) when it has the
 * shape of a portable label (16 base32 characters, either case) and the
 * rest is ".local"; else false. */
bool settle_portable_label_of_host (const char *host, const char **label, size_t *len);

#ifdef __cplusplus
}
#endif
