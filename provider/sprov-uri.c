/* sprov-uri.c: see sprov-uri.h. */
#include "sprov-uri.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "settle-name-rule.h"
#include "sprov-scope.h"

#define SCHEME "settle:"
#define AUTHORITY "//"

void
sprov_uri_clear (sprov_uri *uri)
{
  OPENSSL_free (uri->host);
  OPENSSL_free (uri->dir);
  uri->host = NULL;
  uri->dir = NULL;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char) tolower ((unsigned char) c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes value[0..len) into an owned string; NULL with an error raised on
 * a bad or NUL escape (or no memory). */
static char *
percent_decode (const sprov_ctx *ctx, const char *value, size_t len)
{
  char *out = OPENSSL_malloc (len + 1);
  if (out == NULL) {
    sprov_raise (ctx, SPROV_R_OUT_OF_MEMORY, "parsing a settle: URI");
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (value[i] != '%') {
      out[n++] = value[i];
      continue;
    }
    int hi = i + 2 < len ? hex_value (value[i + 1]) : -1;
    int lo = hi >= 0 ? hex_value (value[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      sprov_raise (ctx, SPROV_R_URI_BAD_PERCENT_ENCODING,
                   "\"%.3s\" is not a percent-encoded octet (%% must be followed by two hex "
                   "digits, and %%00 is never allowed)", value + i);
      OPENSSL_free (out);
      return NULL;
    }
    out[n++] = (char) (hi << 4 | lo);
    i += 2;
  }
  out[n] = '\0';
  return out;
}

static char *
parse_host (const sprov_ctx *ctx, const char *value, size_t len)
{
  if (len == 0) {
    sprov_raise (ctx, SPROV_R_NAME_EMPTY,
                 "name= needs a host name, as in settle://?name=printer.local");
    return NULL;
  }
  char *host = percent_decode (ctx, value, len);
  if (host == NULL)
    return NULL;
  for (char *p = host; *p != '\0'; p++)
    *p = (char) tolower ((unsigned char) *p);

  size_t hlen = strlen (host);
  settle_name_verdict verdict;
  if (hlen > SPROV_HOST_MAX)
    sprov_raise (ctx, SPROV_R_NAME_TOO_LONG, "the host name has %zu octets; a DNS name has at most %d",
                 hlen, SPROV_HOST_MAX);
  else if ((verdict = settle_name_rule_syntax (host, hlen, false, NULL)) != SETTLE_NAME_OK)
    sprov_raise (ctx, SPROV_R_NAME_INVALID, "host name \"%s\" %s", host,
                 settle_name_rule_explain (verdict));
  else if (settle_name_rule_is_namespace (host, hlen))
    sprov_raise (ctx, SPROV_R_NAME_INVALID,
                 "\"%s\" is a namespace, not a host name; name a device below it", host);
  else if (!settle_name_rule_in_namespaces (host, hlen))
    sprov_raise (ctx, SPROV_R_NAME_NOT_LOCAL,
                 "\"%s\" is outside local, home.arpa and alt; settle vouches for no other name",
                 host);
  else
    return host;
  OPENSSL_free (host);
  return NULL;
}

static char *
parse_dir (const sprov_ctx *ctx, const char *value, size_t len)
{
  char *dir = len > 0 ? percent_decode (ctx, value, len) : NULL;
  if (len > 0 && dir == NULL)
    return NULL;
  if (dir == NULL || dir[0] != '/')
    sprov_raise (ctx, SPROV_R_DIR_INVALID,
                 "dir= needs an absolute path (a relative one would depend on the "
                 "working directory)");
  else if (strlen (dir) >= PATH_MAX)
    sprov_raise (ctx, SPROV_R_DIR_INVALID, "dir= is longer than %d octets", PATH_MAX - 1);
  else
    return dir;
  OPENSSL_free (dir);
  return NULL;
}

/* Parses one key=value pair at param[0..len) into `out`. */
static int
parse_param (const sprov_ctx *ctx, const char *param, size_t len, sprov_uri *out)
{
  const char *eq = memchr (param, '=', len);
  if (eq == NULL) {
    sprov_raise (ctx, SPROV_R_URI_MALFORMED, "parameter \"%.*s\" has no '=' and value",
                 (int) len, param);
    return 0;
  }
  size_t klen = (size_t) (eq - param);
  const char *value = eq + 1;
  size_t vlen = len - klen - 1;
  char **slot;
  if (klen == 4 && memcmp (param, "name", 4) == 0)
    slot = &out->host;
  else if (klen == 3 && memcmp (param, "dir", 3) == 0)
    slot = &out->dir;
  else {
    sprov_raise (ctx, SPROV_R_URI_UNKNOWN_PARAMETER,
                 "\"%.*s\" is not a settle: URI parameter (known: name, dir)", (int) klen, param);
    return 0;
  }
  if (*slot != NULL) {
    sprov_raise (ctx, SPROV_R_URI_DUPLICATE_PARAMETER, "\"%.*s\" is given more than once",
                 (int) klen, param);
    return 0;
  }
  *slot = slot == &out->host ? parse_host (ctx, value, vlen) : parse_dir (ctx, value, vlen);
  return *slot != NULL;
}

/* Refuses spaces, controls and non-ASCII up front, so that every error
 * below can quote the URI safely. */
static int
check_characters (const sprov_ctx *ctx, const char *uri)
{
  size_t len = strnlen (uri, SPROV_URI_MAX + 1);
  if (len > SPROV_URI_MAX) {
    sprov_raise (ctx, SPROV_R_URI_MALFORMED, "the URI is longer than %d characters", SPROV_URI_MAX);
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char) uri[i];
    if (c <= 0x20 || c >= 0x7f) {
      sprov_raise (ctx, SPROV_R_URI_MALFORMED,
                   "character %zu is a space, a control or not ASCII; percent-encode it", i + 1);
      return 0;
    }
  }
  return 1;
}

int
sprov_uri_parse (const sprov_ctx *ctx, const char *uri, sprov_uri *out)
{
  out->host = NULL;
  out->dir = NULL;
  if (uri == NULL || !check_characters (ctx, uri))
    return 0;
  if (strncasecmp (uri, SCHEME, strlen (SCHEME)) != 0) {
    sprov_raise (ctx, SPROV_R_URI_MALFORMED, "\"%.64s\" does not start with settle:", uri);
    return 0;
  }
  const char *rest = uri + strlen (SCHEME);
  /* An empty authority is allowed, and recommended: OpenSSL tries the
   * file: loader on a URI before its scheme's loader unless it has one. */
  if (strncmp (rest, AUTHORITY, strlen (AUTHORITY)) == 0)
    rest += strlen (AUTHORITY);
  if (*rest == '\0')
    return 1;
  if (*rest != '?' || rest[1] == '\0') {
    sprov_raise (ctx, SPROV_R_URI_MALFORMED,
                 "\"%.64s\": a settle: URI has no host and no path, only an optional query, "
                 "as in settle:// or settle://?name=printer.local", uri);
    return 0;
  }
  for (const char *param = rest + 1;;) {
    const char *end = strchr (param, '&');
    size_t len = end != NULL ? (size_t) (end - param) : strlen (param);
    if (len == 0) {
      sprov_raise (ctx, SPROV_R_URI_MALFORMED, "\"%.64s\" has an empty parameter", uri);
      sprov_uri_clear (out);
      return 0;
    }
    if (!parse_param (ctx, param, len, out)) {
      sprov_uri_clear (out);
      return 0;
    }
    if (end == NULL)
      return 1;
    param = end + 1;
  }
}
