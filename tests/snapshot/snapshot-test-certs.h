/* snapshot-test-certs.h: throwaway keys and certificates for the snapshot
 * tests, made with OpenSSL in C.  Every function returns owned objects. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* A fresh P-256 key. */
EVP_PKEY *stc_key_new (void);

/* A certificate for `cn` and `key`, issued by `issuer` with `issuer_key`
 * (both NULL: self-signed).  CA certificates get basicConstraints CA:TRUE
 * and keyCertSign; leaves get `dns_name` as their SAN.  Subject and
 * authority key identifiers let OpenSSL tell same-named issuers apart.
 * notAfter is exactly `not_after` (unix seconds). */
X509 *stc_cert_new (const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                    long serial, gboolean ca, const char *dns_name, gint64 not_after);

/* A CA certificate shaped like settle's wrappers (settle-anchor-rule.h):
 * critical nameConstraints permitting `subtree` and no mailbox, excluding
 * every address; extendedKeyUsage serverAuth. */
X509 *stc_wrapper_new (const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
                       const char *subtree, gint64 not_after);

GBytes *stc_der (X509 *cert);
/* Lowercase hex SHA-256 of the DER: a record fingerprint. */
char *stc_fingerprint (X509 *cert);
void stc_write_pem (X509 *cert, const char *path);
