/* sprov-scope.c: see sprov-scope.h. */
#include "sprov-scope.h"

#include <string.h>
#include <strings.h>

static const char *const namespaces[] = { "local", "home.arpa", "alt" };

/* 1 when name[0..len) equals `subtree` or ends with "." + subtree. */
static int
lies_in (const char *name, size_t len, const char *subtree)
{
  size_t slen = strlen (subtree);
  if (slen == 0 || len < slen)
    return 0;
  if (strncasecmp (name + len - slen, subtree, slen) != 0)
    return 0;
  return len == slen || name[len - slen - 1] == '.';
}

int
sprov_name_in_namespaces (const char *name, size_t len)
{
  if (len == 0 || memchr (name, '\0', len) != NULL)
    return 0;
  for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
    if (lies_in (name, len, namespaces[i]))
      return 1;
  return 0;
}

int
sprov_scope_permits (const char *const *scope, const char *host)
{
  size_t len = strlen (host);
  for (; scope != NULL && *scope != NULL; scope++)
    if (lies_in (host, len, *scope))
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
