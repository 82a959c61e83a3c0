/* settle-wrap.h: the name-constraint wrapping (wrap.c).
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

/* Wraps `ca` for the canonical subtrees in `scope` (NULL-terminated,
 * non-empty).  `label` goes into the wrapper root's subject. */
gboolean settle_wrap_ca (X509 *ca, const char *const *scope, const char *label,
                         SettleWrapped *out, GError **error);
void settle_wrapped_clear (SettleWrapped *wrapped);

G_END_DECLS
