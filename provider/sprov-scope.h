/* sprov-scope.h: matching host names against the local namespaces and
 * against a snapshot entry's scope.
 *
 * The provider links neither GLib nor lib/scope.c, so these few rules are
 * restated here in plain C over canonical (lowercase) names: `local`,
 * `home.arpa` and `alt` are the only namespaces (REQ-NAME-02); a subtree
 * permits itself and every name below it. */
#pragma once

#include <stddef.h>

/* 1 when `host` equals or lies below one of the subtrees in `scope`
 * (NULL-terminated, borrowed). */
int sprov_scope_permits (const char *const *scope, const char *host);

/* 1 when `host` is one of a pinned peer's `names` (NULL-terminated); a
 * leading `*.` label stands for exactly one label, as in RFC 6125. */
int sprov_names_match (const char *const *names, const char *host);
