/* discovery.c: DNS-SD browsing and resolution of _settle._tcp through
 * avahi-daemon (settle-discovery.h). */
#include "settle-discovery.h"

#include <net/if.h>
#include <string.h>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>

#include "settle-error.h"

typedef struct {
  SettleDiscovered *service;  /* owned until moved to the result; NULL once refused */
  gboolean refused;
} Instance;

typedef struct {
  AvahiSimplePoll *poll;          /* owned */
  AvahiClient *client;            /* owned */
  const char *only_host;          /* borrowed */
  GHashTable *instances;          /* "name\037domain" -> Instance* (owned both) */
  GPtrArray *notes;               /* owned */
  guint pending;                  /* resolvers running */
  guint resolvers;                /* resolvers started in all */
  gboolean all_for_now;
  gboolean too_many_noted;
  char *failure;                  /* owned: why the browse ended early */
  gint64 first_answer_us;
} Browse;

static void
discovered_free (SettleDiscovered *service)
{
  if (service == NULL)
    return;
  g_free (service->instance);
  g_free (service->host);
  g_strfreev (service->addresses);
  g_free (service->version);
  g_free (service->suites);
  g_free (service);
}

static void
instance_free (Instance *instance)
{
  discovered_free (instance->service);
  g_free (instance);
}

void
settle_discovery_free (SettleDiscovery *discovery)
{
  if (discovery == NULL)
    return;
  g_ptr_array_unref (discovery->services);
  g_ptr_array_unref (discovery->notes);
  g_free (discovery);
}

/* ---- TXT ---- */

static gboolean
printable (const guint8 *bytes, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (bytes[i] < 0x20 || bytes[i] > 0x7e)
      return FALSE;
  return TRUE;
}

gboolean
settle_discovery_check_txt (const guint8 *const *strings, const gsize *lens, gsize n, char **version,
                            char **suites, gboolean *offers_pairing, char **reason)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gsize total = 0;
  const char *v, *g, *pair;

  *version = *suites = *reason = NULL;
  *offers_pairing = FALSE;
  if (n > SETTLE_DISCOVERY_MAX_TXT_STRINGS)
    {
      *reason = g_strdup_printf ("its TXT record has %" G_GSIZE_FORMAT " strings (at most %d)", n,
                                 SETTLE_DISCOVERY_MAX_TXT_STRINGS);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    total += lens[i] + 1;
  if (total > SETTLE_DISCOVERY_MAX_TXT_BYTES)
    {
      *reason = g_strdup_printf ("its TXT record has %" G_GSIZE_FORMAT " bytes (at most %d)", total,
                                 SETTLE_DISCOVERY_MAX_TXT_BYTES);
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    {
      const guint8 *eq = memchr (strings[i], '=', lens[i]);
      gsize key_len = eq != NULL ? (gsize) (eq - strings[i]) : 0;

      if (eq == NULL || key_len == 0 || key_len > 9 || !printable (strings[i], lens[i]))
        {
          *reason = g_strdup ("its TXT record has a string that is not key=value in printable ASCII");
          return FALSE;
        }
      char *key = g_strndup ((const char *) strings[i], key_len);
      if (g_hash_table_contains (seen, key))
        {
          *reason = g_strdup_printf ("its TXT record has the key '%s' twice", key);
          g_free (key);
          return FALSE;
        }
      g_hash_table_insert (seen, key, g_strndup ((const char *) eq + 1, lens[i] - key_len - 1));
    }
  v = g_hash_table_lookup (seen, "v");
  g = g_hash_table_lookup (seen, "g");
  pair = g_hash_table_lookup (seen, "pair");
  if (v == NULL || strcmp (v, "1") != 0)
    {
      *reason = v == NULL ? g_strdup ("its TXT record has no version v")
                          : g_strdup ("its TXT record has a version other than v=1");
      return FALSE;
    }
  if (pair != NULL && strcmp (pair, "0") != 0 && strcmp (pair, "1") != 0)
    {
      *reason = g_strdup ("its TXT record has a pair value other than 0 or 1");
      return FALSE;
    }
  *version = g_strdup (v);
  *suites = g_strdup (g);
  *offers_pairing = pair != NULL && strcmp (pair, "1") == 0;
  return TRUE;
}

/* ---- avahi callbacks ---- */

static char *
canonical_host (const char *host)
{
  gsize len = strlen (host);

  while (len > 0 && host[len - 1] == '.')
    len--;
  g_autofree char *trimmed = g_strndup (host, len);
  return g_ascii_strdown (trimmed, -1);
}

static char *
address_string (const AvahiAddress *address, AvahiIfIndex interface)
{
  char text[AVAHI_ADDRESS_STR_MAX];
  char ifname[IF_NAMESIZE];

  avahi_address_snprint (text, sizeof text, address);
  if (address->proto == AVAHI_PROTO_INET6 && g_ascii_strncasecmp (text, "fe80:", 5) == 0 && interface > 0
      && if_indextoname ((unsigned) interface, ifname) != NULL)
    return g_strdup_printf ("%s%%%s", text, ifname);
  return g_strdup (text);
}

static void
add_address (SettleDiscovered *service, const char *address)
{
  guint n = service->addresses != NULL ? g_strv_length (service->addresses) : 0;

  for (guint i = 0; i < n; i++)
    if (strcmp (service->addresses[i], address) == 0)
      return;
  if (n >= SETTLE_DISCOVERY_MAX_ADDRESSES)
    return;
  service->addresses = g_renew (char *, service->addresses, n + 2);
  service->addresses[n] = g_strdup (address);
  service->addresses[n + 1] = NULL;
}

static void
stop_poll (Browse *b)
{
  if (b->all_for_now && b->pending == 0)
    avahi_simple_poll_quit (b->poll);
}

static void
on_resolved (AvahiServiceResolver *resolver, AvahiIfIndex interface, AvahiProtocol protocol G_GNUC_UNUSED,
             AvahiResolverEvent event, const char *name, const char *type G_GNUC_UNUSED, const char *domain,
             const char *host_name, const AvahiAddress *address, uint16_t port, AvahiStringList *txt,
             AvahiLookupResultFlags flags G_GNUC_UNUSED, void *user_data)
{
  Browse *b = user_data;

  b->pending--;
  if (event == AVAHI_RESOLVER_FOUND && name != NULL && host_name != NULL && address != NULL)
    {
      g_autofree char *host = canonical_host (host_name);
      g_autofree char *key = g_strdup_printf ("%s\037%s", name, domain != NULL ? domain : "");
      Instance *instance = g_hash_table_lookup (b->instances, key);

      if (b->only_host == NULL || g_ascii_strcasecmp (host, b->only_host) == 0)
        {
          if (b->first_answer_us == 0)
            b->first_answer_us = g_get_monotonic_time ();
          if (instance == NULL)
            {
              gsize n = (gsize) avahi_string_list_length (txt);
              g_autofree const guint8 **strings = g_new0 (const guint8 *, n + 1);
              g_autofree gsize *lens = g_new0 (gsize, n + 1);
              gsize i = 0;
              g_autofree char *reason = NULL;
              SettleDiscovered *service = g_new0 (SettleDiscovered, 1);

              for (AvahiStringList *s = txt; s != NULL && i < n; s = avahi_string_list_get_next (s), i++)
                {
                  strings[i] = avahi_string_list_get_text (s);
                  lens[i] = avahi_string_list_get_size (s);
                }
              instance = g_new0 (Instance, 1);
              g_hash_table_insert (b->instances, g_steal_pointer (&key), instance);
              if (!settle_discovery_check_txt (strings, lens, i, &service->version, &service->suites,
                                               &service->offers_pairing, &reason))
                {
                  g_autofree char *where = settle_endpoint_format (host, port);
                  instance->refused = TRUE;
                  g_ptr_array_add (b->notes, g_strdup_printf ("Left out the service \"%s\" (%s): %s.", name,
                                                              where, reason));
                  discovered_free (service);
                }
              else
                {
                  service->instance = g_strdup (name);
                  service->host = g_steal_pointer (&host);
                  service->port = port;
                  instance->service = service;
                }
            }
          /* Another interface or protocol may resolve the same instance:
           * its addresses are added when host and port agree. */
          if (instance->service != NULL && instance->service->port == port
              && (host == NULL || strcmp (instance->service->host, host) == 0))
            {
              g_autofree char *text = address_string (address, interface);
              add_address (instance->service, text);
            }
        }
    }
  avahi_service_resolver_free (resolver);
  stop_poll (b);
}

static void
on_browsed (AvahiServiceBrowser *browser G_GNUC_UNUSED, AvahiIfIndex interface, AvahiProtocol protocol,
            AvahiBrowserEvent event, const char *name, const char *type, const char *domain,
            AvahiLookupResultFlags flags G_GNUC_UNUSED, void *user_data)
{
  Browse *b = user_data;

  switch (event)
    {
    case AVAHI_BROWSER_NEW:
      if (b->resolvers >= 2 * SETTLE_DISCOVERY_MAX_SERVICES
          || g_hash_table_size (b->instances) >= SETTLE_DISCOVERY_MAX_SERVICES)
        {
          if (!b->too_many_noted)
            g_ptr_array_add (b->notes, g_strdup_printf ("More than %d services on the network: the rest "
                                                        "were left out.", SETTLE_DISCOVERY_MAX_SERVICES));
          b->too_many_noted = TRUE;
          return;
        }
      if (avahi_service_resolver_new (b->client, interface, protocol, name, type, domain, AVAHI_PROTO_UNSPEC,
                                      0, on_resolved, b)
          != NULL)
        {
          b->pending++;
          b->resolvers++;
        }
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
      b->all_for_now = TRUE;
      stop_poll (b);
      break;
    case AVAHI_BROWSER_FAILURE:
      g_free (b->failure);
      b->failure = g_strdup_printf ("browsing failed: %s", avahi_strerror (avahi_client_errno (b->client)));
      avahi_simple_poll_quit (b->poll);
      break;
    case AVAHI_BROWSER_REMOVE:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
      break;
    }
}

static void
on_client (AvahiClient *client G_GNUC_UNUSED, AvahiClientState state, void *user_data)
{
  Browse *b = user_data;

  if (state == AVAHI_CLIENT_FAILURE && b->poll != NULL)
    {
      g_free (b->failure);
      b->failure = g_strdup ("avahi-daemon went away");
      avahi_simple_poll_quit (b->poll);
    }
}

/* ---- the browse ---- */

static gint
compare_services (gconstpointer a, gconstpointer b)
{
  const SettleDiscovered *x = *(SettleDiscovered *const *) a;
  const SettleDiscovered *y = *(SettleDiscovered *const *) b;
  int c = g_strcmp0 (x->host, y->host);

  return c != 0 ? c : g_strcmp0 (x->instance, y->instance);
}

/* IPv4 addresses before IPv6 ones (an IPv6 link-local address needs its
 * interface, and settle's tests find IPv4 first). */
static gint
compare_addresses (gconstpointer a, gconstpointer b)
{
  gboolean x6 = strchr (*(char *const *) a, ':') != NULL;
  gboolean y6 = strchr (*(char *const *) b, ':') != NULL;

  return x6 != y6 ? (x6 ? 1 : -1) : strcmp (*(char *const *) a, *(char *const *) b);
}

static SettleDiscovery *
collect (Browse *b)
{
  SettleDiscovery *discovery = g_new0 (SettleDiscovery, 1);
  GHashTableIter iter;
  Instance *instance;

  discovery->services = g_ptr_array_new_with_free_func ((GDestroyNotify) discovered_free);
  discovery->notes = g_ptr_array_ref (b->notes);
  discovery->complete = b->all_for_now && b->pending == 0 && b->failure == NULL;
  discovery->first_answer_us = b->first_answer_us;
  g_hash_table_iter_init (&iter, b->instances);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &instance))
    if (instance->service != NULL && instance->service->addresses != NULL)
      {
        SettleDiscovered *service = g_steal_pointer (&instance->service);
        qsort (service->addresses, g_strv_length (service->addresses), sizeof (char *),
               (int (*) (const void *, const void *)) compare_addresses);
        g_ptr_array_add (discovery->services, service);
      }
  g_ptr_array_sort (discovery->services, compare_services);
  return discovery;
}

SettleDiscovery *
settle_discovery_browse (guint timeout_ms, const char *only_host, GError **error)
{
  Browse b = { .only_host = only_host };
  AvahiServiceBrowser *browser = NULL;
  SettleDiscovery *discovery = NULL;
  int avahi_error = 0;
  gint64 deadline;

  timeout_ms = timeout_ms > 0 ? timeout_ms : SETTLE_DISCOVERY_DEFAULT_TIMEOUT_MS;
  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  b.instances = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) instance_free);
  b.notes = g_ptr_array_new_with_free_func (g_free);
  b.poll = avahi_simple_poll_new ();
  if (b.poll == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Could not start DNS-SD discovery.");
      goto out;
    }
  b.client = avahi_client_new (avahi_simple_poll_get (b.poll), 0, on_client, &b, &avahi_error);
  if (b.client == NULL)
    {
      if (avahi_error == AVAHI_ERR_NO_DAEMON)
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                             "No avahi-daemon is running on this computer, so nothing can be discovered "
                             "on the local network (DNS-SD).");
      else
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                     "avahi-daemon cannot be reached, so nothing can be discovered on the local network "
                     "(DNS-SD): %s.", avahi_strerror (avahi_error));
      goto out;
    }
  browser = avahi_service_browser_new (b.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                       SETTLE_DISCOVERY_SERVICE_TYPE, NULL, 0, on_browsed, &b);
  if (browser == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "avahi-daemon refused to browse %s: %s.",
                   SETTLE_DISCOVERY_SERVICE_TYPE, avahi_strerror (avahi_client_errno (b.client)));
      goto out;
    }
  while (b.failure == NULL && !(b.all_for_now && b.pending == 0))
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      if (left_ms <= 0 || avahi_simple_poll_iterate (b.poll, (int) MIN (left_ms, G_MAXINT)) != 0)
        break;
    }
  if (b.failure != NULL && g_hash_table_size (b.instances) == 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "Discovery on the local network failed: %s.",
                   b.failure);
      goto out;
    }
  discovery = collect (&b);

out:
  /* Freeing the client frees its browser and resolvers. */
  if (b.client != NULL)
    avahi_client_free (b.client);
  if (b.poll != NULL)
    avahi_simple_poll_free (b.poll);
  g_hash_table_unref (b.instances);
  g_ptr_array_unref (b.notes);
  g_free (b.failure);
  return discovery;
}

GPtrArray *
settle_discovery_endpoints (const SettleDiscovery *discovery, const char *host)
{
  GPtrArray *endpoints = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_endpoint_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; discovery != NULL && i < discovery->services->len; i++)
    {
      const SettleDiscovered *service = discovery->services->pdata[i];
      if (g_ascii_strcasecmp (service->host, host) != 0)
        continue;
      for (char **a = service->addresses; a != NULL && *a != NULL; a++)
        {
          char *key = settle_endpoint_format (*a, service->port);
          if (!g_hash_table_add (seen, key))
            continue;
          g_ptr_array_add (endpoints, settle_endpoint_new (*a, service->port, SETTLE_ENDPOINT_DISCOVERED));
        }
    }
  return endpoints;
}
