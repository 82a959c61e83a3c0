/* settle-anchor-rule.h: what a certificate that settle publishes may vouch
 * for, decided in exactly one place for every consumer.
 *
 * The rule (docs/security.md, "The scope rule"):
 *
 *   names     a wrapper root R or cross certificate C vouches only for the
 *             dNSName subtrees of its scope, all inside `local`,
 *             `home.arpa` and `alt`; its critical nameConstraints exclude
 *             every IPv4 and IPv6 address.  A pinned peer vouches only for
 *             itself, under the DNS names it carries: each a valid name
 *             strictly below a namespace (never `local` or `*.local`
 *             itself), and no IP address or name of another form.
 *   issuing   a pinned peer can never act as an issuer in any verifier:
 *             X.509 v3, basicConstraints present with CA:FALSE, no
 *             keyCertSign or cRLSign, no nameConstraints, no Netscape CA
 *             type, DNS names only (Wave 2 measurements: a v3 certificate
 *             *without* basicConstraints issues in Chromium, NSS classic,
 *             libpkix and GnuTLS; with CA:FALSE present no verifier let it).
 *   purposes  TLS server authentication only (a pinned peer's own
 *             certificate must say so: extendedKeyUsage serverAuth alone).  Wrappers carry
 *             extendedKeyUsage serverAuth; everything served to OpenSSL
 *             (hash directory, bundle.pem, the provider's store) carries
 *             OpenSSL trust settings for serverAuth alone, which OpenSSL
 *             turns into a rejection for every other purpose (S/MIME,
 *             client authentication, code signing, time stamping).
 *             Client identities in the snapshot are trusted for nothing.
 *
 * Plain C and libcrypto, no GLib: the OpenSSL provider links it too.  The
 * snapshot writer applies settle_anchor_rule_check() to every certificate
 * before it publishes, and the provider again before it serves one, so a
 * snapshot that a writer refused can never be produced by settle and one
 * planted by someone else is refused by the provider. */
#pragma once

#include <stddef.h>

#include <openssl/x509.h>

#include "settle-snapshot-reader.h"

/* 1 when `cert` (borrowed) may be published in `role`; 0 with a sentence
 * fragment saying why not in `why` ("is a CA certificate"). */
int settle_anchor_rule_check (settle_snap_role role, X509 *cert, char *why, size_t whylen);

/* The same for one snapshot entry's DER (borrowed): refuses an oversized
 * or malformed certificate too. */
int settle_anchor_rule_check_entry (const settle_snap_entry *entry, char *why, size_t whylen);

/* 1 when every entry of `snap` passes; 0 with "entry N ("label") why" for
 * the first that does not.  The PKCS#11 module runs it on every snapshot it
 * loads: one refused certificate means the snapshot was altered outside
 * settle, and none of it is served. */
int settle_anchor_rule_check_snapshot (const settle_snapshot *snap, char *why, size_t whylen);

/* 1 when a pinned peer candidate cannot act as an issuer in any verifier
 * (the "issuing" part of the rule); 0 with a fragment in `why`. */
int settle_anchor_rule_peer_cannot_issue (X509 *cert, char *why, size_t whylen);

/* 1 when a pinned peer candidate is for TLS servers only: an
 * extendedKeyUsage with serverAuth and no other purpose (NSS trusts a peer
 * for both directions of SSL unless its own certificate says otherwise). */
int settle_anchor_rule_peer_purposes (X509 *cert, char *why, size_t whylen);

/* Which part of the names rule a pinned peer's subjectAltNames broke
 * (settle_anchor_rule_peer_names).  The first offending name decides, in
 * the certificate's order. */
typedef enum {
  SETTLE_PEER_NAMES_OK = 0,
  SETTLE_PEER_NAMES_IP_ADDRESS, /* an iPAddress: a peer vouches for DNS names only */
  SETTLE_PEER_NAMES_NOT_DNS,    /* a mailbox, URI or other form of name */
  SETTLE_PEER_NAMES_MALFORMED,  /* a dNSName that is empty, longer than 253 or holds a NUL */
  SETTLE_PEER_NAMES_SYNTAX,     /* a dNSName the local-name rule refuses (settle-name-rule.h) */
  SETTLE_PEER_NAMES_OUTSIDE,    /* a dNSName outside local, home.arpa and alt */
  SETTLE_PEER_NAMES_NAMESPACE,  /* a namespace itself, or a wildcard for one (`*.local`) */
  SETTLE_PEER_NAMES_JUDGE,      /* the caller's own judge refused a dNSName */
  SETTLE_PEER_NAMES_NONE,       /* no dNSName at all */
} settle_peer_names_verdict;

/* A caller's further test of each dNSName that passed the rule (the
 * helper adds the IDNA round trip, which needs GLib): 1 accepts, 0
 * refuses.  `name` is NUL-terminated and borrowed for the call. */
typedef int (*settle_peer_name_judge) (const char *name, void *data);

/* The names part of the rule for a pinned peer, the one walk over its
 * subjectAltNames: at least one dNSName, each a syntactically valid name
 * (a leading `*.` allowed) strictly below `local`, `home.arpa` or `alt`,
 * and no name of any other form.  `judge` (may be NULL) sees each dNSName
 * that passed.  Returns the verdict; for the dNSName verdicts the
 * offending name is copied into `name` (NUL-terminated, truncated to
 * namelen; empty for the others).  `name` may be NULL when namelen is 0. */
settle_peer_names_verdict settle_anchor_rule_peer_names (X509 *cert, settle_peer_name_judge judge,
                                                         void *judge_data, char *name,
                                                         size_t namelen);

/* The verdict as a sentence fragment for `why` ("carries an IP
 * address"); static. */
const char *settle_anchor_rule_peer_names_explain (settle_peer_names_verdict verdict);

/* The DER of OpenSSL's auxiliary trust block (X509_CERT_AUX) that marks a
 * certificate trusted for TLS server authentication and nothing else.
 * Appended to a certificate's DER, it makes the body of a PEM `TRUSTED
 * CERTIFICATE` block, and what d2i_X509_AUX() reads.  Static storage. */
const unsigned char *settle_anchor_rule_openssl_trust (size_t *len);

/* The extended key usage every wrapper carries (NID_server_auth). */
int settle_anchor_rule_purpose_nid (void);
