/* fuzz-scope.c: the name and scope parser (settle-scope.h, scope.c), fed
 * with what devices claim and users type.
 *
 * Input: the first byte picks nothing but flags (bit 0: allow a wildcard
 * in names); the rest, up to a NUL byte, is the text, given to
 * settle_name_normalize() and settle_scope_normalize().
 *
 * Invariants asserted:
 *  - a refusal returns NULL with a SETTLE_ERROR_SCOPE error;
 *  - an accepted name or scope is at most 253 octets of lowercase LDH
 *    labels (1..63 octets, no empty label, no trailing dot), a name has at
 *    most one leading `*.` label and only when wildcards were allowed, and
 *    a scope none;
 *  - canonical forms are fixed points (normalizing them again returns the
 *    same text) and lie in the local namespaces; a name lies strictly below
 *    one (it is never a namespace itself);
 *  - a scope permits itself and its own canonical children, and a name
 *    that is accepted as a scope too is permitted by that scope. */
#include <stdint.h>
#include <string.h>

#include "fuzz-assert.h"
#include "settle-error.h"
#include "settle-scope.h"

static void
check_syntax (const char *s, gboolean wildcard_ok)
{
  size_t len = strlen (s);
  FUZZ_ASSERT (len >= 1 && len <= SETTLE_NAME_MAX);
  if (s[0] == '*')
    {
      FUZZ_ASSERT (wildcard_ok && s[1] == '.');
      s += 2;
    }
  size_t label = 0;
  for (const char *p = s;; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          FUZZ_ASSERT (label >= 1 && label <= 63);
          FUZZ_ASSERT (p[-1] != '-');
          if (*p == '\0')
            break;
          label = 0;
          continue;
        }
      FUZZ_ASSERT ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
      FUZZ_ASSERT (label > 0 || *p != '-');
      label++;
    }
}

static void
check_refusal (GError *error)
{
  FUZZ_ASSERT (error != NULL && error->domain == SETTLE_ERROR && error->code == SETTLE_ERROR_SCOPE);
  g_error_free (error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  gboolean wildcard = data[0] & 1;
  char *text = g_strndup ((const char *) data + 1, size - 1);
  GError *error = NULL;

  char *name = settle_name_normalize (text, wildcard, &error);
  if (name == NULL)
    check_refusal (error);
  else
    {
      check_syntax (name, wildcard);
      char *again = settle_name_normalize (name, wildcard, NULL);
      FUZZ_ASSERT (again != NULL && strcmp (again, name) == 0);
      g_free (again);
      FUZZ_ASSERT (settle_name_in_namespaces (name));
      FUZZ_ASSERT (strcmp (name, "local") != 0 && strcmp (name, "home.arpa") != 0
                   && strcmp (name, "alt") != 0);
    }
  error = NULL;

  char *scope = settle_scope_normalize (text, &error);
  if (scope == NULL)
    check_refusal (error);
  else
    {
      check_syntax (scope, FALSE);
      char *again = settle_scope_normalize (scope, NULL);
      FUZZ_ASSERT (again != NULL && strcmp (again, scope) == 0);
      g_free (again);
      FUZZ_ASSERT (settle_name_in_namespaces (scope));
      const char *const scopes[] = { scope, NULL };
      FUZZ_ASSERT (settle_scope_permits (scopes, scope));
      if (strlen (scope) + 3 <= SETTLE_NAME_MAX)
        {
          char *child = g_strconcat ("x.", scope, NULL);
          FUZZ_ASSERT (settle_scope_permits (scopes, child));
          g_free (child);
        }
      if (name != NULL && name[0] != '*')
        FUZZ_ASSERT (settle_scope_permits (scopes, name));
    }

  g_free (scope);
  g_free (name);
  g_free (text);
  return 0;
}
