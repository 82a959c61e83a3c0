/* settle-cert.h: certificates as settle reads them (cert.c): parsing, the
 * checks a device or referee CA and a pinned peer must pass before settle
 * stores them, and the accessors the helper prints.
 *
 * Ownership: X509 pointers passed in are borrowed; returned X509, GBytes
 * and strings are owned by the caller. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* Parses one certificate from PEM or DER bytes (owned result). */
X509 *settle_cert_parse (const guint8 *data, gsize len, GError **error);
X509 *settle_cert_load_file (const char *path, GError **error);

/* Refuses (SETTLE_ERROR_CERT) a certificate that is not a CA
 * (basicConstraints CA:TRUE), is expired or not yet valid, or has a weak
 * key (RSA < 2048; EC other than P-256/P-384/P-521; anything else but
 * Ed25519). */
gboolean settle_ca_check (X509 *ca, GError **error);

/* Refuses a leaf that cannot be a pinned peer: one that could act as an
 * issuer in any verifier (settle-anchor-rule.h: not v3, no basicConstraints
 * or CA:TRUE, keyCertSign, nameConstraints, a Netscape CA type), names
 * that break the anchor rule's one walk over the subjectAltNames
 * (settle_anchor_rule_peer_names: an invalid name, one outside the
 * namespaces or a whole namespace, any IP address or other non-DNS SAN,
 * no DNS SAN) or an invalid IDNA A-label, an extendedKeyUsage other than
 * serverAuth alone, expired, weak key. */
gboolean settle_peer_check (X509 *leaf, GError **error);

/* DER of a certificate, owned. */
GBytes *settle_cert_to_der (X509 *cert);
/* notAfter as unix seconds. */
gint64 settle_cert_not_after (X509 *cert);
/* The subject as one line ("/O=.../CN=..."), owned (g_free). */
char *settle_cert_subject_text (X509 *cert);
/* The DNS SANs of a certificate (owned NULL-terminated vector). */
char **settle_cert_dns_names (X509 *cert);

G_END_DECLS
