/* endpoint.c: where a device is reached (settle-endpoint.h). */
#include "settle-endpoint.h"

#include <string.h>

#include <gio/gio.h>

#include "settle-error.h"
#include "settle-scope.h"

/* Longer than any host name (253) plus brackets, colon and port. */
#define ENDPOINT_TEXT_MAX 300

static gboolean
refuse (GError **error, const char *what, const char *problem)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "%s %s.", what, problem);
  return FALSE;
}

/* Port digits without sign, space or leading zero, 1..65535. */
static gboolean
parse_port (const char *text, const char *what, guint16 *out, GError **error)
{
  gsize n = strlen (text);
  gboolean digits = n >= 1 && n <= 5 && text[0] != '0';
  for (gsize i = 0; digits && i < n; i++)
    digits = g_ascii_isdigit (text[i]);
  guint64 port = digits ? g_ascii_strtoull (text, NULL, 10) : 0;
  if (!digits || port == 0 || port > 65535)
    return refuse (error, what, "has a port that is not a number from 1 to 65535");
  *out = (guint16) port;
  return TRUE;
}

static char *
parse_ipv6_host (const char *inside, const char *what, GError **error)
{
  if (strchr (inside, '%') != NULL)
    {
      refuse (error, what, "has an IPv6 zone, which means nothing to another machine");
      return NULL;
    }
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (inside);
  if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
    {
      refuse (error, what, "has brackets around something that is not an IPv6 address");
      return NULL;
    }
  return g_inet_address_to_string (addr);
}

static gboolean
looks_like_ipv4 (const char *host)
{
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && *p != '.')
      return FALSE;
  return TRUE;
}

/* `what` starts a sentence elsewhere; after a name's own refusal it
 * follows in parentheses. */
static char *
normalize_local_name (const char *host, const char *what, GError **error)
{
  g_autofree char *context = g_strdup (what);
  context[0] = g_ascii_tolower (context[0]);
  return settle_name_normalize_in (host, context, error);
}

static char *
parse_plain_host (const char *host, const char *what, GError **error)
{
  if (*host == '\0')
    {
      refuse (error, what, "has no host before the port");
      return NULL;
    }
  if (strchr (host, ':') != NULL)
    {
      refuse (error, what, "has an IPv6 address without [brackets]");
      return NULL;
    }
  if (looks_like_ipv4 (host))
    {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
      if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV4)
        {
          refuse (error, what, "is not a valid IPv4 address");
          return NULL;
        }
      return g_inet_address_to_string (addr);
    }
  return normalize_local_name (host, what, error);
}

SettleEndpoint *
settle_endpoint_parse (const char *text, SettleEndpointSource source, const char *what, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text;
  guint16 port = 0;

  if (text == NULL || strnlen (text, ENDPOINT_TEXT_MAX + 1) > ENDPOINT_TEXT_MAX)
    {
      refuse (error, what, text == NULL ? "is missing" : "is too long to be HOST:PORT");
      return NULL;
    }
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');
      if (close == NULL)
        {
          refuse (error, what, "has a '[' without its ']'");
          return NULL;
        }
      if (close[1] != ':')
        {
          refuse (error, what, "has no ':port' after the IPv6 address");
          return NULL;
        }
      g_autofree char *inside = g_strndup (text + 1, (gsize) (close - text) - 1);
      host = parse_ipv6_host (inside, what, error);
      port_text = close + 2;
    }
  else
    {
      const char *colon = strrchr (text, ':');
      if (colon == NULL)
        {
          refuse (error, what, "has no ':port'");
          return NULL;
        }
      g_autofree char *plain = g_strndup (text, (gsize) (colon - text));
      host = parse_plain_host (plain, what, error);
      port_text = colon + 1;
    }
  if (host == NULL || !parse_port (port_text, what, &port, error))
    return NULL;
  return settle_endpoint_new (host, port, source);
}

SettleEndpoint *
settle_endpoint_new (const char *host, guint16 port, SettleEndpointSource source)
{
  SettleEndpoint *endpoint = g_new0 (SettleEndpoint, 1);
  endpoint->host = g_strdup (host);
  endpoint->port = port;
  endpoint->source = source;
  return endpoint;
}

char *
settle_endpoint_format (const char *host, guint16 port)
{
  return g_strdup_printf (strchr (host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, (unsigned) port);
}

char *
settle_endpoint_to_string (const SettleEndpoint *endpoint)
{
  return settle_endpoint_format (endpoint->host, endpoint->port);
}

void
settle_endpoint_free (SettleEndpoint *endpoint)
{
  if (endpoint == NULL)
    return;
  g_free (endpoint->host);
  g_free (endpoint);
}
