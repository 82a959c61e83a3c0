/* settle-self-cert.h: self-certifying (public-key-hash) device names,
 * REQ-NAME-01, in the spirit of draft-wing-settle-public-key-hash.
 * The format is defined here and in schema/self-certifying-names.md.
 *
 * A name is self-certifying when its first label is `<h>` or
 * `<prefix>-<h>`, where `<h>` is exactly 26 characters of lowercase
 * RFC 4648 base32 without padding ([a-z2-7]): the first 16 bytes (128
 * bits) of SHA-256 over the DER SubjectPublicKeyInfo of the device's CA.
 * 128 bits take 25.6 characters, so the last character carries 3 bits and
 * two zero bits; a tail whose last character has them set is not a
 * canonical hash and is refused (SETTLE_SELF_CERT_NOT_CANONICAL), as is an
 * uppercase one (callers lowercase names first: DNS ignores case).  The
 * whole name still obeys the name rule (settle-name-rule.h).  Any other
 * name (no hyphen-separated tail of 26 base32 characters) is an ordinary
 * name, and nothing about its key is checked.
 *
 * The key is the device CA's: that is what settle trusts for the name,
 * and it survives the rotation of the TLS leaf.  A CA rotation changes
 * the hash, so the old name no longer certifies the new key and refresh
 * refuses to follow it (lib/manage/rotation.c).
 *
 * Plain C and libcrypto; no allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SETTLE_SELF_CERT_HASH_BYTES 16
#define SETTLE_SELF_CERT_HASH_CHARS 26

typedef enum {
  SETTLE_SELF_CERT_NONE = 0,       /* an ordinary name: nothing to check */
  SETTLE_SELF_CERT_OK,             /* self-certifying; the hash was decoded */
  SETTLE_SELF_CERT_NOT_CANONICAL,  /* a hash-shaped tail in uppercase or with non-zero pad bits */
  SETTLE_SELF_CERT_BAD_NAME,       /* the name breaks the name rule */
} settle_self_cert_verdict;

/* Judges name[0..len); on SETTLE_SELF_CERT_OK fills hash (may be NULL). */
settle_self_cert_verdict settle_self_cert_parse (const char *name, size_t len,
                                                 uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES]);

/* The 16-byte hash of a DER SubjectPublicKeyInfo. */
bool settle_self_cert_hash_spki (const uint8_t *spki_der, size_t len,
                                 uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES]);

/* The 16-byte hash of a certificate's public key. */
bool settle_self_cert_hash_cert (X509 *cert, uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES]);

/* Lowercase base32 of a hash: 26 characters and a NUL. */
void settle_self_cert_encode (const uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES],
                              char out[SETTLE_SELF_CERT_HASH_CHARS + 1]);

/* true when `name` (NUL-terminated, self-certifying) names the key of `cert`;
 * false for a mismatch, an ordinary name or an unreadable key. */
bool settle_self_cert_matches (const char *name, X509 *cert);

/* Writes `<prefix>-<h>.<domain>` (or `<h>.<domain>` for an empty or NULL
 * prefix) for the key of `cert` into out[0..size); false when it does not
 * fit, the key cannot be read or the result breaks the name rule. */
bool settle_self_cert_make_name (const char *prefix, const char *domain, X509 *cert, char *out,
                                 size_t size);

/* Why a verdict is what it is, as the end of a sentence; static. */
const char *settle_self_cert_explain (settle_self_cert_verdict verdict);

#ifdef __cplusplus
}
#endif
