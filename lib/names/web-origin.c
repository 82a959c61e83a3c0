/* web-origin.c: the web-origin rule (settle-web-origin.h).  One parser
 * says what is wrong with a text; the device's test and the helper's
 * canonical form are both made from it. */
#include <string.h>

#include "settle-error.h"
#include "settle-web-origin.h"

static gboolean
origin_error (GError **error, const char *typed, const char *problem)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
               "\"%s\" is not a web origin: %s (an origin is http(s)://host[:port], e.g. https://app.example).",
               typed, problem);
  return FALSE;
}

/* The host part at `c` (stops at ':' or the end): written lowercase to
 * `out`; *end after it. */
static gboolean
parse_host (const char *typed, const char *c, const char **end, GString *out, GError **error)
{
  if (*c == '[')
    {
      const char *start = c++;
      while (g_ascii_isxdigit (*c) || *c == ':' || *c == '.')
        c++;
      if (*c != ']' || c - start < 3)
        return origin_error (error, typed, "an IPv6 address goes in brackets, e.g. http://[fd00::1]:8080");
      c++;
      for (const char *h = start; h < c; h++)
        g_string_append_c (out, g_ascii_tolower (*h));
      *end = c;
      return TRUE;
    }
  const char *start = c, *label = c;
  for (; *c != '\0' && *c != ':' && *c != '/' && *c != '?' && *c != '#'; c++)
    {
      if (*c == '.')
        {
          if (c == label)
            return origin_error (error, typed, "the host has an empty label");
          label = c + 1;
        }
      else if (!g_ascii_isalnum (*c) && *c != '-')
        return origin_error (error, typed,
                             *c == '@' ? "no user name or password belongs in an origin"
                                       : "the host may hold only letters, digits, '-' and '.' "
                                         "(write an international name in its xn-- form)");
      g_string_append_c (out, g_ascii_tolower (*c));
    }
  if (c == start)
    return origin_error (error, typed, "there is no host");
  if (c == label)
    return origin_error (error, typed, "the host ends with '.'");
  *end = c;
  return TRUE;
}

/* ":port" at `c` (or nothing): *port 0 when absent. */
static gboolean
parse_port (const char *typed, const char *c, const char **end, guint *port, GError **error)
{
  *port = 0;
  *end = c;
  if (*c != ':')
    return TRUE;
  const char *digits = ++c;
  guint value = 0;
  while (g_ascii_isdigit (*c) && c - digits < 6)
    value = value * 10 + (guint) (*c++ - '0');
  if (c == digits || g_ascii_isdigit (*c) || value < 1 || value > 65535)
    return origin_error (error, typed, "the port must be a number from 1 to 65535");
  *port = value;
  *end = c;
  return TRUE;
}

/* The canonical form of `typed` (owned), or NULL with why not; *exact
 * says whether `typed` was already canonical. */
static char *
origin_parse (const char *typed, gboolean *exact, GError **error)
{
  if (typed == NULL || strlen (typed) > SETTLE_WEB_ORIGIN_MAX)
    {
      origin_error (error, typed != NULL ? "(too long)" : "(none)", "it is longer than 255 bytes or missing");
      return NULL;
    }
  gsize scheme_len = g_ascii_strncasecmp (typed, "https://", 8) == 0  ? 8
                     : g_ascii_strncasecmp (typed, "http://", 7) == 0 ? 7
                                                                      : 0;
  if (scheme_len == 0)
    {
      origin_error (error, typed, strcmp (typed, "null") == 0 ? "\"null\" (an opaque origin) can never be allowed"
                                  : strstr (typed, "://") != NULL ? "the scheme must be https or http"
                                                                  : "it must begin with https:// or http://");
      return NULL;
    }
  gboolean https = scheme_len == 8;
  g_autoptr (GString) out = g_string_new (https ? "https://" : "http://");
  const char *c = typed + scheme_len;
  guint port = 0;
  if (!parse_host (typed, c, &c, out, error) || !parse_port (typed, c, &c, &port, error))
    return NULL;
  if (*c != '\0')
    {
      origin_error (error, typed, *c == '/' ? "an origin has no path, not even \"/\"" : "an origin has no query or fragment");
      return NULL;
    }
  if (port != 0 && port != (https ? 443u : 80u))
    g_string_append_printf (out, ":%u", port);
  *exact = strcmp (out->str, typed) == 0;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
settle_web_origin_valid (const char *origin)
{
  gboolean exact = FALSE;
  g_autofree char *canonical = origin_parse (origin, &exact, NULL);
  return canonical != NULL && exact;
}

char *
settle_web_origin_canonical (const char *typed, GError **error)
{
  gboolean exact = FALSE;
  return origin_parse (typed, &exact, error);
}
