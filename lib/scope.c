/* scope.c: the local namespaces and the DNS names allowed in them.
 *
 * Every name that the store will ever vouch for passes through here, so the
 * checks are strict and refuse rather than repair: only uppercase ASCII is
 * folded, everything else that is not canonical is an error with a sentence
 * that says what to write instead (REQ-NAME-02). */
#include <string.h>

#include "settle-error.h"
#include "settle-scope.h"

#define LABEL_MAX 63
/* How much of a refused input is quoted back: enough to recognise it,
 * bounded so that a hostile name cannot flood a terminal or a log. */
#define QUOTE_MAX 80

static const char *const namespaces[] = { "local", "home.arpa", "alt" };

/* A printable, bounded rendering of untrusted input for error messages
 * (owned). */
static char *
quote_input (const char *input)
{
  gsize len = strnlen (input, QUOTE_MAX + 1);
  g_autofree char *head = g_strndup (input, MIN (len, QUOTE_MAX));
  g_autofree char *escaped = g_strescape (head, NULL);
  return g_strdup_printf ("'%s%s'", escaped, len > QUOTE_MAX ? "..." : "");
}

static gboolean
refuse (GError **error, const char *input, const char *why)
{
  g_autofree char *quoted = quote_input (input);
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE, "The name %s %s.", quoted, why);
  return FALSE;
}

static gboolean
is_ldh (char c)
{
  return g_ascii_isalnum (c) || c == '-';
}

/* An A-label must decode to a real U-label and encode back to itself;
 * this rejects `xn--` alone, undecodable punycode, and encodings that
 * decode to plain ASCII or to something IDNA would spell differently.
 * GLib implements IDNA 2003, so a few IDNA 2008-only labels (those with
 * ß or final sigma) are refused too: the safe side. */
static gboolean
a_label_is_valid (const char *label)
{
  g_autofree char *unicode = g_hostname_to_unicode (label);
  if (unicode == NULL || *unicode == '\0' || !g_hostname_is_non_ascii (unicode))
    return FALSE;
  g_autofree char *back = g_hostname_to_ascii (unicode);
  return back != NULL && g_ascii_strcasecmp (back, label) == 0;
}

/* Checks one lowercase label other than a wildcard. */
static gboolean
check_label (const char *label, gsize len, const char *input, GError **error)
{
  if (len == 0)
    return refuse (error, input, "has an empty label (two dots in a row or a leading dot)");
  if (len > LABEL_MAX)
    return refuse (error, input, "has a label longer than 63 characters");
  for (gsize i = 0; i < len; i++)
    {
      if (label[i] == '*')
        return refuse (error, input, "has a '*' that is not a single leading wildcard label");
      if (label[i] == '_')
        return refuse (error, input, "contains an underscore, which host names may not have");
      if (!is_ldh (label[i]))
        return refuse (error, input,
                       "contains a character other than letters, digits, hyphens and dots");
    }
  /* RFC 5891 4.2.3.1: "??--" labels are reserved for IDNA; only xn-- is defined. */
  if (len >= 4 && label[2] == '-' && label[3] == '-')
    {
      g_autofree char *copy = g_strndup (label, len);
      if (!g_str_has_prefix (copy, "xn--"))
        return refuse (error, input,
                       "has hyphens in the third and fourth places of a label, which only IDNA 'xn--' labels may have");
      if (!a_label_is_valid (copy))
        return refuse (error, input, "has an 'xn--' label that is not a valid IDNA A-label");
    }
  if (label[0] == '-' || label[len - 1] == '-')
    return refuse (error, input, "has a label that starts or ends with a hyphen");
  return TRUE;
}

/* The namespace `name` lies in or equals, or NULL. */
static const char *
namespace_of (const char *name)
{
  gsize len = strlen (name);
  for (gsize i = 0; i < G_N_ELEMENTS (namespaces); i++)
    {
      gsize ns_len = strlen (namespaces[i]);
      if (len == ns_len && strcmp (name, namespaces[i]) == 0)
        return namespaces[i];
      if (len > ns_len && name[len - ns_len - 1] == '.'
          && strcmp (name + len - ns_len, namespaces[i]) == 0)
        return namespaces[i];
    }
  return NULL;
}

static gboolean
is_namespace (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (namespaces); i++)
    if (strcmp (name, namespaces[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Names are compared byte for byte in certificates, so a U-label is never
 * converted silently; the refusal offers the A-label to write instead. */
static void
refuse_non_ascii (const char *input, GError **error)
{
  /* g_hostname_to_ascii() requires valid UTF-8: on invalid input (e.g.
   * lead bytes 0xe1 without continuation bytes, from a QR code or a
   * certificate) GLib 2.74 reads past the end of the string, and under
   * the fuzzer the heap was found corrupted (tests/fuzz/fuzz-scope;
   * regression input tests/fuzz/corpus/scope/crash-invalid-utf8-hostname-to-ascii).
   * Invalid UTF-8 gets the generic refusal below. */
  g_autofree char *a_label = g_utf8_validate (input, -1, NULL) ? g_hostname_to_ascii (input) : NULL;
  /* Only a real A-label is offered: IDNA 2003 mapping may turn invisible
   * or look-alike characters into a different plain ASCII name. */
  if (a_label != NULL && strlen (a_label) <= SETTLE_NAME_MAX && strstr (a_label, "xn--") != NULL)
    {
      g_autofree char *why = g_strdup_printf (
        "contains non-ASCII characters; write it in its IDNA A-label form '%s'", a_label);
      refuse (error, input, why);
    }
  else
    refuse (error, input, "contains non-ASCII characters; write it in its IDNA A-label form (xn--...)");
}

/* Syntax shared by scopes and names; returns the lowercase form (owned).
 * `wildcard` reports whether a leading `*.` was found and accepted. */
static char *
normalize_syntax (const char *input, gboolean allow_wildcard, gboolean *wildcard, GError **error)
{
  *wildcard = FALSE;
  if (input == NULL || *input == '\0')
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE, "The name is empty.");
      return NULL;
    }
  gsize len = strnlen (input, SETTLE_NAME_MAX + 1);
  if (len > SETTLE_NAME_MAX)
    {
      refuse (error, input, "is longer than 253 characters");
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    if ((guchar) input[i] >= 0x80)
      {
        refuse_non_ascii (input, error);
        return NULL;
      }
  if (input[len - 1] == '.')
    {
      refuse (error, input,
              "ends with a dot; write it without the trailing dot (certificates never carry one)");
      return NULL;
    }

  g_autofree char *lower = g_ascii_strdown (input, len);
  const char *labels = lower;
  if (lower[0] == '*' && lower[1] == '.')
    {
      if (!allow_wildcard)
        {
          refuse (error, input, "is a wildcard, which a scope or device name may not be");
          return NULL;
        }
      *wildcard = TRUE;
      labels = lower + 2;
    }

  const char *start = labels;
  for (;;)
    {
      const char *dot = strchr (start, '.');
      gsize label_len = dot ? (gsize) (dot - start) : strlen (start);
      if (!check_label (start, label_len, input, error))
        return NULL;
      if (dot == NULL)
        break;
      start = dot + 1;
    }
  return g_steal_pointer (&lower);
}

char *
settle_scope_normalize (const char *input, GError **error)
{
  gboolean wildcard;
  g_autofree char *name = normalize_syntax (input, FALSE, &wildcard, error);
  if (name == NULL)
    return NULL;
  if (namespace_of (name) == NULL)
    {
      refuse (error, input, "is outside the local namespaces .local, home.arpa and .alt");
      return NULL;
    }
  return g_steal_pointer (&name);
}

char *
settle_name_normalize (const char *input, gboolean allow_wildcard, GError **error)
{
  gboolean wildcard;
  g_autofree char *name = normalize_syntax (input, allow_wildcard, &wildcard, error);
  if (name == NULL)
    return NULL;
  /* The part a wildcard stands under must itself be a device subtree,
   * never a whole namespace: `*.local` would claim every local device. */
  const char *base = wildcard ? name + 2 : name;
  if (namespace_of (base) == NULL)
    {
      refuse (error, input, "is outside the local namespaces .local, home.arpa and .alt");
      return NULL;
    }
  if (is_namespace (base))
    {
      refuse (error, input,
              wildcard ? "is a wildcard for a whole namespace, which no device may claim"
                       : "is a namespace itself; a device name must lie below it");
      return NULL;
    }
  return g_steal_pointer (&name);
}

gboolean
settle_scope_permits (const char *const *scope, const char *name)
{
  if (scope == NULL || name == NULL)
    return FALSE;
  gsize name_len = strlen (name);
  for (gsize i = 0; scope[i] != NULL; i++)
    {
      gsize len = strlen (scope[i]);
      if (len == 0)
        continue;
      if (name_len == len && strcmp (name, scope[i]) == 0)
        return TRUE;
      /* Suffix only on a label boundary: `xlocal` is not under `local`. */
      if (name_len > len && name[name_len - len - 1] == '.'
          && strcmp (name + name_len - len, scope[i]) == 0)
        return TRUE;
    }
  return FALSE;
}

gboolean
settle_scope_check_single_device (const char *const *scope, GError **error)
{
  for (gsize i = 0; scope != NULL && scope[i] != NULL; i++)
    if (is_namespace (scope[i]))
      {
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                     "The scope '%s' is a whole namespace: one device's CA would vouch for every name "
                     "in it. A CA that vouches for many devices is a referee; trust it with --referee "
                     "(and read its warning), or give the device's own names.", scope[i]);
        return FALSE;
      }
  return TRUE;
}

gboolean
settle_name_in_namespaces (const char *name)
{
  return name != NULL && namespace_of (name) != NULL;
}
