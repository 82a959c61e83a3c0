/* scope.c: the local namespaces and the DNS names allowed in them.
 *
 * Every name that the store will ever vouch for passes through here, so the
 * checks are strict and refuse rather than repair: only uppercase ASCII is
 * folded, everything else that is not canonical is an error with a sentence
 * that says what to write instead (REQ-NAME-02). */
#include <string.h>

#include "settle-error.h"
#include "settle-name-rule.h"
#include "settle-scope.h"

/* How much of a refused input is quoted back: enough to recognise it,
 * bounded so that a hostile name cannot flood a terminal or a log. */
#define QUOTE_MAX 80


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

/* Every `xn--` label must be a real A-label (GLib can decode IDNA; the
 * plain-C name rule only checks its shape). */
static gboolean
check_a_labels (const char *lower, const char *input, GError **error)
{
  g_auto (GStrv) labels = g_strsplit (lower, ".", -1);
  for (char **label = labels; *label != NULL; label++)
    if (g_str_has_prefix (*label, "xn--") && !a_label_is_valid (*label))
      return refuse (error, input, "has an 'xn--' label that is not a valid IDNA A-label");
  return TRUE;
}

static gboolean
in_namespaces (const char *name)
{
  return settle_name_rule_in_namespaces (name, strlen (name));
}

static gboolean
is_namespace (const char *name)
{
  return settle_name_rule_is_namespace (name, strlen (name));
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

/* Syntax shared by scopes and names (the plain-C name rule, plus the IDNA
 * check GLib can make); returns the lowercase form (owned).  `wildcard`
 * reports whether a leading `*.` was found and accepted. */
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
  bool xn_label = false;
  settle_name_verdict verdict = settle_name_rule_syntax (input, len, allow_wildcard, &xn_label);
  if (verdict == SETTLE_NAME_NON_ASCII)
    {
      refuse_non_ascii (input, error);
      return NULL;
    }
  if (verdict != SETTLE_NAME_OK)
    {
      refuse (error, input, settle_name_rule_explain (verdict));
      return NULL;
    }
  g_autofree char *lower = g_ascii_strdown (input, len);
  if (xn_label && !check_a_labels (lower, input, error))
    return NULL;
  *wildcard = lower[0] == '*';
  return g_steal_pointer (&lower);
}

char *
settle_scope_normalize (const char *input, GError **error)
{
  gboolean wildcard;
  g_autofree char *name = normalize_syntax (input, FALSE, &wildcard, error);
  if (name == NULL)
    return NULL;
  if (!in_namespaces (name))
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
  if (!in_namespaces (base))
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

char *
settle_name_normalize_in (const char *input, const char *context, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *name = settle_name_normalize (input, FALSE, &local);
  if (name != NULL)
    return name;
  g_autofree char *reason = g_strdup (local->message);
  gsize n = strlen (reason);
  if (n > 0 && reason[n - 1] == '.')
    reason[n - 1] = '\0';
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "%s (%s).", reason, context);
  return NULL;
}

gboolean
settle_scope_permits (const char *const *scope, const char *name)
{
  if (scope == NULL || name == NULL)
    return FALSE;
  for (gsize i = 0; scope[i] != NULL; i++)
    if (settle_name_rule_lies_in (name, strlen (name), scope[i]))
      return TRUE;
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

char **
settle_scope_approve_referee (const char *const *declared, const char *const *typed, GError **error)
{
  if (declared == NULL || declared[0] == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE, "The referee declares no subtree.");
      return NULL;
    }
  if (typed == NULL || typed[0] == NULL)
    {
      for (gsize i = 0; declared[i] != NULL; i++)
        if (is_namespace (declared[i]))
          {
            g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                         "The referee asks to vouch for the whole namespace '%s', every name in it. "
                         "Nothing was trusted; if you really mean that, say so with --scope %s.",
                         declared[i], declared[i]);
            return NULL;
          }
      return g_strdupv ((char **) declared);
    }
  for (gsize i = 0; typed[i] != NULL; i++)
    if (!settle_scope_permits (declared, typed[i]))
      {
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                     "The scope '%s' is not inside what the referee declares, so nothing was trusted: "
                     "a referee can be trusted for less than it asks, never for more.", typed[i]);
        return NULL;
      }
  return g_strdupv ((char **) typed);
}

gboolean
settle_name_in_namespaces (const char *name)
{
  return name != NULL && in_namespaces (name);
}
