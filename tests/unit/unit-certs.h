/* unit-certs.h: the pieces every unit test needs to make throwaway
 * certificates with OpenSSL (fresh keys every run, no fixtures on disk).
 * Functions named *_new return owned objects; TestCert owns both fields. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define DAY (24 * 60 * 60L)

typedef struct {
  X509 *cert;     /* owned */
  EVP_PKEY *key;  /* owned */
} TestCert;

void test_cert_clear (TestCert *tc);

/* Adds extension `nid` in openssl config syntax (e.g. "critical,CA:TRUE"),
 * computed against `issuer` (the certificate itself when self-signed). */
void test_cert_add_ext (X509 *cert, X509 *issuer, int nid, const char *value);

/* An unsigned v3 certificate for `cn` and `key` with a random serial,
 * issued by `issuer` (NULL: self-issued), valid from now + not_before to
 * now + not_after seconds. */
X509 *test_cert_body_new (const char *cn, EVP_PKEY *key, const X509 *issuer,
                          long not_before, long not_after);
