/* sprov-scope.h: matching a host name against a snapshot entry's scope
 * and a pinned peer's names.
 *
 * The name rule itself (syntax, the namespaces, "lies in a subtree") is
 * lib/names/settle-name-rule.h, the same plain-C code every part of settle
 * uses; this file only applies it to what the provider serves. */
#pragma once

#include <stddef.h>

/* 1 when `host` equals or lies below one of the subtrees in `scope`
 * (NULL-terminated, borrowed). */
int sprov_scope_permits (const char *const *scope, const char *host);

/* 1 when `host` is one of a pinned peer's `names` (NULL-terminated); a
 * leading `*.` label stands for exactly one label, as in RFC 6125. */
int sprov_names_match (const char *const *names, const char *host);
