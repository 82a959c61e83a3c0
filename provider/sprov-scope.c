/* sprov-scope.c: see sprov-scope.h. */
#include "sprov-scope.h"

#include <string.h>
#include <strings.h>

#include "settle-name-rule.h"

int
sprov_scope_permits (const char *const *scope, const char *host)
{
  size_t len = strlen (host);
  for (; scope != NULL && *scope != NULL; scope++)
    if (settle_name_rule_lies_in (host, len, *scope))
      return 1;
  return 0;
}

static int
wildcard_matches (const char *pattern, const char *host)
{
  const char *host_rest = strchr (host, '.');
  /* The wildcard covers one whole, non-empty label. */
  return host_rest != NULL && host_rest != host && strcasecmp (pattern + 1, host_rest) == 0;
}

int
sprov_names_match (const char *const *names, const char *host)
{
  for (; names != NULL && *names != NULL; names++) {
    const char *name = *names;
    if (strncmp (name, "*.", 2) == 0 ? wildcard_matches (name, host) : strcasecmp (name, host) == 0)
      return 1;
  }
  return 0;
}
