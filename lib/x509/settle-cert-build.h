/* settle-cert-build.h: the steps every certificate settle issues shares
 * (wrapper roots and crosses, device CAs and leaves, client certificates).
 * All take a borrowed X509 being built and return FALSE when OpenSSL
 * failed; none signs. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* How far notBefore is set back, for clock skew between peers. */
#define SETTLE_CERT_BACKDATE_SECONDS 3600

/* A random positive serial of exactly 128 bits (RFC 5280 allows up to
 * 20 octets; unpredictable serials defeat chosen-prefix attacks). */
gboolean settle_cert_set_random_serial (X509 *cert);

/* notBefore an hour back, notAfter `days` ahead, but never past the
 * notAfter of `limit` (the issuer; NULL for none). */
gboolean settle_cert_set_validity_days (X509 *cert, long days, const X509 *limit);

/* Adds extension `nid` written in openssl's config syntax (for example
 * "critical,CA:TRUE"), computed against `issuer` (`cert` itself when
 * self-signed). */
gboolean settle_cert_add_ext (X509 *cert, X509 *issuer, int nid, const char *value);

/* The subject of every client certificate request settle makes, pairing
 * and renewal alike: a per-computer name would be a static identifier the
 * devices could share (REQ-NAME-05, docs/design.md). */
#define SETTLE_CLIENT_CSR_SUBJECT "settle client"

/* A fresh P-256 key for one device's client identity (owned). */
EVP_PKEY *settle_client_key_new (GError **error);

/* The certificate request for `key` (borrowed), DER (owned): CN
 * SETTLE_CLIENT_CSR_SUBJECT, signed with the key (SHA-256). */
GBytes *settle_client_csr_der (EVP_PKEY *key, GError **error);

/* A private key as PKCS#8 PEM in secret bytes that wipe themselves
 * (settle-store.h), owned. */
GBytes *settle_private_key_pem (EVP_PKEY *key, GError **error);

G_END_DECLS
