/* name-rule.c: the one local-name rule (settle-name-rule.h). */
#include "settle-name-rule.h"

#include <string.h>

static const char *const namespaces[] = { "local", "home.arpa", "alt" };

static char
ascii_lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool
equal_nocase (const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (ascii_lower (a[i]) != ascii_lower (b[i]))
      return false;
  return true;
}

static bool
is_ldh (char c)
{
  c = ascii_lower (c);
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static settle_name_verdict
check_label (const char *label, size_t len, bool *xn_label)
{
  if (len == 0)
    return SETTLE_NAME_EMPTY_LABEL;
  if (len > SETTLE_NAME_RULE_LABEL_MAX)
    return SETTLE_NAME_LABEL_TOO_LONG;
  for (size_t i = 0; i < len; i++)
    {
      if (label[i] == '*')
        return SETTLE_NAME_MISPLACED_STAR;
      if (label[i] == '_')
        return SETTLE_NAME_UNDERSCORE;
      if (!is_ldh (label[i]))
        return SETTLE_NAME_BAD_CHARACTER;
    }
  /* RFC 5891 4.2.3.1: "??--" labels are reserved for IDNA; only xn-- is defined. */
  if (len >= 4 && label[2] == '-' && label[3] == '-')
    {
      if (!equal_nocase (label, "xn--", 4))
        return SETTLE_NAME_RESERVED_HYPHENS;
      /* Punycode never ends in a hyphen: "xn--" alone or "xn--abc-"
       * cannot decode to a name with a non-ASCII character. */
      if (label[len - 1] == '-')
        return SETTLE_NAME_BAD_A_LABEL;
      *xn_label = true;
    }
  if (label[0] == '-' || label[len - 1] == '-')
    return SETTLE_NAME_EDGE_HYPHEN;
  return SETTLE_NAME_OK;
}

settle_name_verdict
settle_name_rule_syntax (const char *name, size_t len, bool allow_wildcard, bool *xn_label)
{
  bool xn = false;
  if (xn_label != NULL)
    *xn_label = false;
  if (name == NULL || len == 0)
    return SETTLE_NAME_EMPTY;
  if (len > SETTLE_NAME_RULE_MAX)
    return SETTLE_NAME_TOO_LONG;
  for (size_t i = 0; i < len; i++)
    {
      if (name[i] == '\0')
        return SETTLE_NAME_NUL;
      if ((unsigned char) name[i] >= 0x80)
        return SETTLE_NAME_NON_ASCII;
    }
  if (name[len - 1] == '.')
    return SETTLE_NAME_TRAILING_DOT;
  size_t at = 0;
  if (len >= 2 && name[0] == '*' && name[1] == '.')
    {
      if (!allow_wildcard)
        return SETTLE_NAME_WILDCARD;
      at = 2;
    }
  for (;;)
    {
      const char *dot = memchr (name + at, '.', len - at);
      size_t label_len = dot != NULL ? (size_t) (dot - (name + at)) : len - at;
      settle_name_verdict verdict = check_label (name + at, label_len, &xn);
      if (verdict != SETTLE_NAME_OK)
        return verdict;
      if (dot == NULL)
        break;
      at += label_len + 1;
    }
  if (xn_label != NULL)
    *xn_label = xn;
  return SETTLE_NAME_OK;
}

const char *
settle_name_rule_explain (settle_name_verdict verdict)
{
  switch (verdict)
    {
    case SETTLE_NAME_OK: return "is a valid name";
    case SETTLE_NAME_EMPTY: return "is empty";
    case SETTLE_NAME_TOO_LONG: return "is longer than 253 characters";
    case SETTLE_NAME_NUL: return "contains a NUL character";
    case SETTLE_NAME_NON_ASCII:
      return "contains non-ASCII characters; write it in its IDNA A-label form (xn--...)";
    case SETTLE_NAME_TRAILING_DOT:
      return "ends with a dot; write it without the trailing dot (certificates never carry one)";
    case SETTLE_NAME_WILDCARD: return "is a wildcard, which a scope or device name may not be";
    case SETTLE_NAME_MISPLACED_STAR: return "has a '*' that is not a single leading wildcard label";
    case SETTLE_NAME_EMPTY_LABEL: return "has an empty label (two dots in a row or a leading dot)";
    case SETTLE_NAME_LABEL_TOO_LONG: return "has a label longer than 63 characters";
    case SETTLE_NAME_UNDERSCORE: return "contains an underscore, which host names may not have";
    case SETTLE_NAME_BAD_CHARACTER:
      return "contains a character other than letters, digits, hyphens and dots";
    case SETTLE_NAME_EDGE_HYPHEN: return "has a label that starts or ends with a hyphen";
    case SETTLE_NAME_BAD_A_LABEL: return "has an 'xn--' label that is not a valid IDNA A-label";
    case SETTLE_NAME_RESERVED_HYPHENS:
      return "has hyphens in the third and fourth places of a label, which only IDNA 'xn--' labels may have";
    }
  return "is not a valid name";
}

bool
settle_name_rule_lies_in (const char *name, size_t len, const char *subtree)
{
  size_t slen = strlen (subtree);
  if (slen == 0 || len < slen || !equal_nocase (name + len - slen, subtree, slen))
    return false;
  return len == slen || name[len - slen - 1] == '.';
}

bool
settle_name_rule_in_namespaces (const char *name, size_t len)
{
  if (name == NULL || len == 0 || memchr (name, '\0', len) != NULL)
    return false;
  for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
    if (settle_name_rule_lies_in (name, len, namespaces[i]))
      return true;
  return false;
}

bool
settle_name_rule_is_namespace (const char *name, size_t len)
{
  for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
    if (len == strlen (namespaces[i]) && equal_nocase (name, namespaces[i], len))
      return true;
  return false;
}
