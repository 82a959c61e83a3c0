/* settle-scope.h: the local namespaces and the names allowed in them.
 *
 * Only `local`, `home.arpa` and `alt` and names below them may ever be
 * vouched for (REQ-NAME-02).  Names are ASCII (IDNA A-labels, `xn--`),
 * LDH labels of 1..63 octets, at most 253 octets in all, no trailing dot,
 * no empty label.  A scope is a subtree: it never holds a wildcard label.
 * A device name may not be a namespace itself (`local` alone). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SETTLE_NAME_MAX 253

/* Checks a scope subtree given by a user or a device and returns its
 * canonical form (owned, ASCII-lowercased).  Refuses with
 * SETTLE_ERROR_SCOPE and a sentence saying what is wrong. */
char *settle_scope_normalize (const char *input, GError **error);

/* Checks a DNS name that a device claims (a SAN dNSName): like a scope,
 * but it must lie strictly below a namespace; a leading `*.` label is
 * allowed when allow_wildcard is set (certificate SANs). */
char *settle_name_normalize (const char *input, gboolean allow_wildcard, GError **error);

/* settle_name_normalize (no wildcard) for a name read from somewhere:
 * its refusal keeps its own sentence and says where the name came from,
 * "... (device name N of the pairing code)."; SETTLE_ERROR_FORMAT. */
char *settle_name_normalize_in (const char *input, const char *context, GError **error);

/* TRUE when `name` (canonical) equals or lies below one of the canonical
 * subtrees in `scope` (NULL-terminated). */
gboolean settle_scope_permits (const char *const *scope, const char *name);

/* Refuses (SETTLE_ERROR_SCOPE) a scope for one device's CA that holds a
 * whole namespace (`local`, `home.arpa`, `alt`): only a referee, trusted
 * with its warning, may vouch for a namespace. */
gboolean settle_scope_check_single_device (const char *const *scope, GError **error);

/* The scope a referee met in a pairing is trusted for (owned, canonical),
 * from the subtrees it `declared` and the ones the user `typed` (both
 * canonical, NULL-terminated; typed may be NULL or empty).  Nothing
 * typed: the declared subtrees, but never a whole namespace (a referee
 * cannot ask for `local`; the user must type it).  Typed: each must lie
 * inside a declared subtree (the user may narrow, never widen), and a
 * namespace typed on purpose is accepted.  SETTLE_ERROR_SCOPE else. */
char **settle_scope_approve_referee (const char *const *declared, const char *const *typed, GError **error);

/* TRUE when the canonical name lies in (or is) one of the namespaces. */
gboolean settle_name_in_namespaces (const char *name);

G_END_DECLS
