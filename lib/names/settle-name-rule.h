/* settle-name-rule.h: the one local-name rule, in plain C.
 *
 * Every part of settle that judges a DNS name uses these functions: the
 * helper (lib/names/scope.c, which adds the IDNA round trip GLib can do and
 * canonical lowercase), the record parser, the snapshot reader (inside
 * browsers), the OpenSSL provider and the anchor rule.  No allocation, no
 * dependencies, any case accepted: callers that need the canonical form
 * lowercase first.
 *
 * The rule: ASCII only (IDNA A-labels), LDH labels of 1..63 octets, at
 * most 253 octets in all, no trailing dot, no empty label, no label that
 * starts or ends with a hyphen, hyphens in the third and fourth places only
 * in an `xn--` label, and at most one leading `*.` label where a wildcard
 * is allowed (certificate names, never scopes).  The namespaces are
 * `local`, `home.arpa` and `alt`; a subtree permits itself and every name
 * below it, matched on label boundaries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SETTLE_NAME_RULE_MAX 253
#define SETTLE_NAME_RULE_LABEL_MAX 63

typedef enum {
  SETTLE_NAME_OK = 0,
  SETTLE_NAME_EMPTY,
  SETTLE_NAME_TOO_LONG,
  SETTLE_NAME_NUL,
  SETTLE_NAME_NON_ASCII,
  SETTLE_NAME_TRAILING_DOT,
  SETTLE_NAME_WILDCARD,          /* a leading `*.` where none is allowed */
  SETTLE_NAME_MISPLACED_STAR,
  SETTLE_NAME_EMPTY_LABEL,
  SETTLE_NAME_LABEL_TOO_LONG,
  SETTLE_NAME_UNDERSCORE,
  SETTLE_NAME_BAD_CHARACTER,
  SETTLE_NAME_EDGE_HYPHEN,
  SETTLE_NAME_RESERVED_HYPHENS,  /* "??--" in a label that is not xn-- */
  SETTLE_NAME_BAD_A_LABEL,       /* an xn-- label that cannot be an A-label */
} settle_name_verdict;

/* Judges the syntax of name[0..len).  *xn_label (may be NULL) tells
 * whether some label is an `xn--` A-label, which a caller that can decode
 * IDNA should check further. */
settle_name_verdict settle_name_rule_syntax (const char *name, size_t len, bool allow_wildcard,
                                             bool *xn_label);

/* What is wrong, as the end of a sentence ("has an empty label (two dots in
 * a row or a leading dot)"); static. */
const char *settle_name_rule_explain (settle_name_verdict verdict);

/* true when name[0..len) equals or lies below one of the namespaces. */
bool settle_name_rule_in_namespaces (const char *name, size_t len);

/* true when name[0..len) is a namespace itself (`local`, `home.arpa`, `alt`). */
bool settle_name_rule_is_namespace (const char *name, size_t len);

/* true when name[0..len) equals or lies below the subtree `subtree`
 * (NUL-terminated); ASCII case is ignored. */
bool settle_name_rule_lies_in (const char *name, size_t len, const char *subtree);

#ifdef __cplusplus
}
#endif
