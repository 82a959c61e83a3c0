/* self-cert.c: self-certifying device names (settle-self-cert.h). */
#include "settle-self-cert.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "settle-base32-digits.h"
#include "settle-name-rule.h"

settle_self_cert_verdict
settle_self_cert_parse (const char *name, size_t len, uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES])
{
  if (settle_name_rule_syntax (name, len, false, NULL) != SETTLE_NAME_OK)
    return SETTLE_SELF_CERT_BAD_NAME;
  const char *dot = memchr (name, '.', len);
  size_t label_len = dot != NULL ? (size_t) (dot - name) : len;
  if (label_len < SETTLE_SELF_CERT_HASH_CHARS)
    return SETTLE_SELF_CERT_NONE;
  const char *tail = name + label_len - SETTLE_SELF_CERT_HASH_CHARS;
  /* The tail is the whole label or follows a hyphen: "-<h>" at its end. */
  if (tail != name && tail[-1] != '-')
    return SETTLE_SELF_CERT_NONE;
  bool upper = false;
  for (size_t i = 0; i < SETTLE_SELF_CERT_HASH_CHARS; i++)
    {
      if (settle_base32_digit_of (tail[i]) < 0)
        return SETTLE_SELF_CERT_NONE;
      upper |= tail[i] >= 'A' && tail[i] <= 'Z';
    }
  /* 26 x 5 = 130 bits: the last two are padding and must be zero. */
  if (upper || (settle_base32_digit_of (tail[SETTLE_SELF_CERT_HASH_CHARS - 1]) & 0x3) != 0)
    return SETTLE_SELF_CERT_NOT_CANONICAL;
  if (hash != NULL)
    {
      uint8_t digits[SETTLE_SELF_CERT_HASH_CHARS];
      for (size_t i = 0; i < SETTLE_SELF_CERT_HASH_CHARS; i++)
        digits[i] = (uint8_t) settle_base32_digit_of (tail[i]);
      if (!settle_base32_from_digits (digits, sizeof digits, hash, SETTLE_SELF_CERT_HASH_BYTES))
        return SETTLE_SELF_CERT_NOT_CANONICAL;  /* (the padding was checked above) */
    }
  return SETTLE_SELF_CERT_OK;
}

bool
settle_self_cert_hash_spki (const uint8_t *spki_der, size_t len, uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES])
{
  uint8_t full[EVP_MAX_MD_SIZE];
  unsigned int full_len = 0;
  if (spki_der == NULL || len == 0
      || EVP_Digest (spki_der, len, full, &full_len, EVP_sha256 (), NULL) != 1 || full_len < 32)
    return false;
  memcpy (hash, full, SETTLE_SELF_CERT_HASH_BYTES);
  return true;
}

bool
settle_self_cert_hash_cert (X509 *cert, uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES])
{
  unsigned char *der = NULL;
  int len = cert != NULL ? i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), &der) : -1;
  bool ok = len > 0 && settle_self_cert_hash_spki (der, (size_t) len, hash);
  OPENSSL_free (der);
  return ok;
}

void
settle_self_cert_encode (const uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES], char out[SETTLE_SELF_CERT_HASH_CHARS + 1])
{
  settle_base32_encode_lower (hash, SETTLE_SELF_CERT_HASH_BYTES, out);
}

bool
settle_self_cert_matches (const char *name, X509 *cert)
{
  uint8_t named[SETTLE_SELF_CERT_HASH_BYTES], actual[SETTLE_SELF_CERT_HASH_BYTES];
  if (name == NULL || settle_self_cert_parse (name, strlen (name), named) != SETTLE_SELF_CERT_OK
      || !settle_self_cert_hash_cert (cert, actual))
    return false;
  return CRYPTO_memcmp (named, actual, sizeof named) == 0;
}

bool
settle_self_cert_make_name (const char *prefix, const char *domain, X509 *cert, char *out, size_t size)
{
  uint8_t hash[SETTLE_SELF_CERT_HASH_BYTES];
  char text[SETTLE_SELF_CERT_HASH_CHARS + 1];
  if (domain == NULL || !settle_self_cert_hash_cert (cert, hash))
    return false;
  settle_self_cert_encode (hash, text);
  bool has_prefix = prefix != NULL && prefix[0] != '\0';
  int n = snprintf (out, size, "%s%s%s.%s", has_prefix ? prefix : "", has_prefix ? "-" : "", text, domain);
  return n > 0 && (size_t) n < size && settle_self_cert_parse (out, (size_t) n, NULL) == SETTLE_SELF_CERT_OK;
}

const char *
settle_self_cert_explain (settle_self_cert_verdict verdict)
{
  switch (verdict)
    {
    case SETTLE_SELF_CERT_NONE: return "is an ordinary name (it carries no key hash)";
    case SETTLE_SELF_CERT_OK: return "is a self-certifying name";
    case SETTLE_SELF_CERT_NOT_CANONICAL:
      return "ends its first label in what looks like a key hash, but not in canonical lowercase base32 "
             "(26 characters of a-z and 2-7, the last one of a, e, i, m, q, u, y or 4)";
    case SETTLE_SELF_CERT_BAD_NAME: return "is not a valid name";
    }
  return "is not a valid name";
}
