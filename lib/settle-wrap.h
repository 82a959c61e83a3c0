/* settle-wrap.h: certificate checks and the name-constraint wrapping.
 *
 * A device or referee CA is never trusted as it is.  It is wrapped
 * (docs/design.md, "Scoping"): a fresh, throwaway wrapper
 * root R signs a cross certificate C with the CA's subject and public key;
 * both carry nameConstraints permitting only the scope's dNSName subtrees
 * and excluding every IPv4 and IPv6 address.  R's private key exists only
 * inside settle_wrap_ca() and is freed there.
 *
 * Ownership: X509 pointers passed in are borrowed; a SettleWrapped owns
 * its two certificates until settle_wrapped_clear(). */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef struct {
  X509 *root;   /* owned: self-signed wrapper root R, the trust anchor */
  X509 *cross;  /* owned: cross certificate C, subject+SPKI of the CA, issuer R */
} SettleWrapped;

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
 * or CA:TRUE, keyCertSign, nameConstraints, a Netscape CA type, an
 * extendedKeyUsage without serverAuth), any name outside the namespaces,
 * any IP address or other non-DNS SAN, no DNS SAN, expired, weak key. */
gboolean settle_peer_check (X509 *leaf, GError **error);

/* Wraps `ca` for the canonical subtrees in `scope` (NULL-terminated,
 * non-empty).  `label` goes into the wrapper root's subject. */
gboolean settle_wrap_ca (X509 *ca, const char *const *scope, const char *label,
                         SettleWrapped *out, GError **error);
void settle_wrapped_clear (SettleWrapped *wrapped);

/* DER of a certificate, owned. */
GBytes *settle_cert_to_der (X509 *cert);
/* notAfter as unix seconds. */
gint64 settle_cert_not_after (X509 *cert);
/* The subject as one line ("/O=.../CN=..."), owned (g_free). */
char *settle_cert_subject_text (X509 *cert);
/* The DNS SANs of a certificate (owned NULL-terminated vector). */
char **settle_cert_dns_names (X509 *cert);

G_END_DECLS
