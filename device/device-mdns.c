/* device-mdns.c: the device announces itself on the local network through
 * the system's avahi-daemon (libavahi-client over the system bus, driven
 * by an AvahiThreadedPoll; no mDNS stack of our own), docs/device.md,
 * "On the local network":
 *
 *   NAME        A/AAAA: the addresses it listens on (every interface's for
 *               0.0.0.0 / ::), without reverse (PTR) records, as
 *               `avahi-publish -a -R` does
 *   _settle._tcp  on the ceremony port, target host NAME,
 *               TXT v=1 g=p256 pair=1|0 and nothing else
 *   _https._tcp   the web page on the same port, TXT path=/
 *
 * Nothing in it names the device beyond NAME, which it answers to anyway:
 * the instance name is NAME's first label, the TXT holds no serial, key
 * hash or MAC address.
 *
 * The address records go first, in a group of their own; the services
 * follow only once the name is ours (ESTABLISHED), so that they never
 * point at a name another host answers to.  A collision on the name is
 * final: the device says which name and keeps serving without the
 * advertisement (the name is what the user pairs with, so it is never
 * renamed); a collision on a service instance name renames the instance.
 * When avahi-daemon goes away the client waits for it (NO_FAIL) and
 * publishes again when it is back.
 *
 * Threads: every avahi callback runs in the poll thread with the poll's
 * lock held; the other threads take that lock (avahi_threaded_poll_lock)
 * before they touch anything here. */
#include "device.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "settle-portable-name.h"
#include "settle-spake2.h"

#define SETTLE_SERVICE_TYPE "_settle._tcp"
#define HTTPS_SERVICE_TYPE "_https._tcp"
/* How long serve waits, at most, to learn whether the name is its own
 * before it shows the first QR code (probing takes about a second). */
#define START_WAIT_MS 5000

typedef enum {
  MDNS_WAITING,       /* no daemon yet: the client waits for one */
  MDNS_REGISTERING,   /* the address records are being probed */
  MDNS_ADVERTISING,   /* the name is ours; the services follow */
  MDNS_COLLISION,     /* another host answers to the name: given up */
  MDNS_FAILED,        /* the daemon refused: given up */
} MdnsState;

typedef struct {
  AvahiIfIndex interface;
  AvahiAddress address;
  char text[AVAHI_ADDRESS_STR_MAX];
} MdnsAddress;

struct _SettleDeviceMdns {
  char *name;                  /* the device name, canonical */
  guint16 port;
  GArray *addresses;           /* of MdnsAddress */
  char *instance;              /* avahi_malloc'd: the service instance name */
  AvahiThreadedPoll *poll;
  AvahiClient *client;
  AvahiEntryGroup *hosts;      /* the address records */
  AvahiEntryGroup *services;   /* _settle._tcp and _https._tcp */
  MdnsState state;
  gboolean pairing;            /* pair=1 in the TXT */
  gboolean said_waiting;       /* "no avahi-daemon" is said once */
  /* Portable mode (docs/portable.md): `name` and `instance` are the
   * period's rotating label, changed by `rotation` at each boundary. */
  gboolean portable;
  guint8 discovery_key[SETTLE_PORTABLE_KEY_BYTES];
  guint8 pin[SETTLE_PORTABLE_PIN_BYTES];
  guint period_s;
  AvahiTimeout *rotation;
};

/* ---- the addresses to publish ---- */

static gboolean
is_wildcard (const char *host)
{
  return strcmp (host, "0.0.0.0") == 0 || strcmp (host, "::") == 0;
}

static void
add_address (GArray *out, const struct sockaddr *sa, const char *ifname)
{
  MdnsAddress a = { .interface = AVAHI_IF_UNSPEC };
  const void *raw = NULL;

  if (sa->sa_family == AF_INET)
    {
      a.address.proto = AVAHI_PROTO_INET;
      raw = &((const struct sockaddr_in *) sa)->sin_addr;
      memcpy (&a.address.data.ipv4, raw, sizeof a.address.data.ipv4);
    }
  else if (sa->sa_family == AF_INET6)
    {
      a.address.proto = AVAHI_PROTO_INET6;
      raw = &((const struct sockaddr_in6 *) sa)->sin6_addr;
      memcpy (&a.address.data.ipv6, raw, sizeof a.address.data.ipv6);
    }
  else
    return;
  if (ifname != NULL)
    {
      unsigned index = if_nametoindex (ifname);
      if (index != 0)
        a.interface = (AvahiIfIndex) index;
    }
  avahi_address_snprint (a.text, sizeof a.text, &a.address);
  g_array_append_val (out, a);
}

/* What `listen_host` reaches from the network: for a wildcard, every
 * non-loopback address of the family (both for ::, which also takes
 * IPv4 on Linux), each on its own interface; else the address itself, on
 * the interface that has it. */
static GArray *
addresses_for (const char *listen_host)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (MdnsAddress));
  gboolean any4 = strcmp (listen_host, "0.0.0.0") == 0 || strcmp (listen_host, "::") == 0;
  gboolean any6 = strcmp (listen_host, "::") == 0;
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) != 0)
    list = NULL;
  if (is_wildcard (listen_host))
    {
      for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next)
        if (i->ifa_addr != NULL && (i->ifa_flags & IFF_LOOPBACK) == 0 && (i->ifa_flags & IFF_UP) != 0
            && ((any4 && i->ifa_addr->sa_family == AF_INET) || (any6 && i->ifa_addr->sa_family == AF_INET6)))
          add_address (out, i->ifa_addr, i->ifa_name);
    }
  else
    {
      struct sockaddr_storage ss = { 0 };
      const char *ifname = NULL;
      gboolean v6 = strchr (listen_host, ':') != NULL;
      if (v6)
        {
          ss.ss_family = AF_INET6;
          inet_pton (AF_INET6, listen_host, &((struct sockaddr_in6 *) &ss)->sin6_addr);
        }
      else
        {
          ss.ss_family = AF_INET;
          inet_pton (AF_INET, listen_host, &((struct sockaddr_in *) &ss)->sin_addr);
        }
      for (struct ifaddrs *i = list; i != NULL && ifname == NULL; i = i->ifa_next)
        if (i->ifa_addr != NULL && i->ifa_addr->sa_family == ss.ss_family
            && (v6 ? memcmp (&((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr,
                             &((struct sockaddr_in6 *) &ss)->sin6_addr, sizeof (struct in6_addr)) == 0
                   : memcmp (&((struct sockaddr_in *) i->ifa_addr)->sin_addr,
                             &((struct sockaddr_in *) &ss)->sin_addr, sizeof (struct in_addr)) == 0))
          ifname = i->ifa_name;
      add_address (out, (struct sockaddr *) &ss, ifname);
    }
  if (list != NULL)
    freeifaddrs (list);
  return out;
}

gboolean
settle_device_mdns_is_loopback (const char *listen_host)
{
  struct in_addr v4;
  struct in6_addr v6;

  if (inet_pton (AF_INET, listen_host, &v4) == 1)
    return (ntohl (v4.s_addr) >> 24) == 127;
  return inet_pton (AF_INET6, listen_host, &v6) == 1 && IN6_IS_ADDR_LOOPBACK (&v6);
}

/* ---- the records ---- */

/* Exactly these keys (docs/device.md): the format version, the suites
 * the ceremony speaks, whether the device offers pairing now. */
static AvahiStringList *
settle_txt (const SettleDeviceMdns *m)
{
  /* Portable: only the format version; pair=1|0 and the suites would be
   * the same for every portable device anyway, but nothing is the rule. */
  if (m->portable)
    return avahi_string_list_new ("v=1", NULL);
  g_autofree char *suites = g_strdup_printf ("g=%s", settle_spake2_suite_qr_id (SETTLE_SPAKE2_SUITE_P256_SHA256));
  return avahi_string_list_new ("v=1", suites, m->pairing ? "pair=1" : "pair=0", NULL);
}

static void register_hosts (SettleDeviceMdns *m);

/* Withdraws everything (the groups stay, empty, until the client goes). */
static void
give_up (SettleDeviceMdns *m, MdnsState state)
{
  if (m->services != NULL)
    avahi_entry_group_reset (m->services);
  if (m->hosts != NULL)
    avahi_entry_group_reset (m->hosts);
  m->state = state;
}

static void
name_collision (SettleDeviceMdns *m)
{
  if (m->portable)
    {
      /* A rotating label is random to everyone else: try again with the
       * next period's (or a fresh pairing label) rather than give up. */
      g_printerr ("settle-device: another host answers to this period's name %s; not advertising until "
                  "the next rotation\n", m->name);
      give_up (m, MDNS_WAITING);
      return;
    }
  g_printerr ("settle-device: another host on the network already answers to %s; not advertising it "
              "(this device keeps serving and keeps its name, which is what its owner pairs with: "
              "find out which host claims %s, or give this device another --name)\n",
              m->name, m->name);
  give_up (m, MDNS_COLLISION);
}

static void services_changed (AvahiEntryGroup *g, AvahiEntryGroupState state, void *data);

/* A local collision (another client of this daemon has the instance
 * name) is answered at once, like one on the network: a new name. */
static void
rename_instance (SettleDeviceMdns *m)
{
  char *next = avahi_alternative_service_name (m->instance);
  g_printerr ("settle-device: the service name '%s' is taken on the network; advertising as '%s'\n",
              m->instance, next);
  avahi_free (m->instance);
  m->instance = next;
}

static void
register_services (SettleDeviceMdns *m)
{
  for (int attempt = 0; attempt < 16; attempt++)
    {
      if (m->services == NULL)
        m->services = avahi_entry_group_new (m->client, services_changed, m);
      if (m->services == NULL)
        break;
      if (!avahi_entry_group_is_empty (m->services))
        return;
      AvahiStringList *txt = settle_txt (m);
      int r = avahi_entry_group_add_service_strlst (m->services, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                                    m->instance, SETTLE_SERVICE_TYPE, NULL, m->name,
                                                    m->port, txt);
      avahi_string_list_free (txt);
      if (r == AVAHI_OK)
        r = avahi_entry_group_add_service (m->services, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0, m->instance,
                                           HTTPS_SERVICE_TYPE, NULL, m->name, m->port, "path=/", NULL);
      if (r == AVAHI_OK)
        r = avahi_entry_group_commit (m->services);
      if (r == AVAHI_OK)
        return;
      avahi_entry_group_reset (m->services);
      if (r != AVAHI_ERR_COLLISION)
        {
          g_printerr ("settle-device: avahi-daemon refused the services of %s: %s\n", m->name,
                      avahi_strerror (r));
          return;
        }
      rename_instance (m);
    }
  g_printerr ("settle-device: could not advertise the services of %s: %s\n", m->name,
              avahi_strerror (avahi_client_errno (m->client)));
}

static void
services_changed (AvahiEntryGroup *g, AvahiEntryGroupState state, void *data)
{
  SettleDeviceMdns *m = data;

  m->services = g;
  if (state == AVAHI_ENTRY_GROUP_COLLISION)
    {
      rename_instance (m);
      avahi_entry_group_reset (g);
      register_services (m);
    }
  else if (state == AVAHI_ENTRY_GROUP_FAILURE)
    {
      g_printerr ("settle-device: avahi-daemon dropped the services of %s: %s\n", m->name,
                  avahi_strerror (avahi_client_errno (m->client)));
      avahi_entry_group_reset (g);
    }
}

static void
hosts_changed (AvahiEntryGroup *g, AvahiEntryGroupState state, void *data)
{
  SettleDeviceMdns *m = data;

  m->hosts = g;
  switch (state)
    {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      {
        g_autoptr (GString) list = g_string_new (NULL);
        for (guint i = 0; i < m->addresses->len; i++)
          g_string_append_printf (list, "%s%s", i > 0 ? ", " : "",
                                  g_array_index (m->addresses, MdnsAddress, i).text);
        g_printerr ("settle-device: advertising %s on the local network (mDNS/DNS-SD: %s; "
                    SETTLE_SERVICE_TYPE " and " HTTPS_SERVICE_TYPE " on port %u)\n",
                    m->name, list->str, (unsigned) m->port);
        m->state = MDNS_ADVERTISING;
        register_services (m);
        break;
      }
    case AVAHI_ENTRY_GROUP_COLLISION:
      name_collision (m);
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      g_printerr ("settle-device: avahi-daemon could not publish %s: %s; not advertising it\n", m->name,
                  avahi_strerror (avahi_client_errno (m->client)));
      give_up (m, MDNS_FAILED);
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
    }
}

static void
register_hosts (SettleDeviceMdns *m)
{
  if (m->state == MDNS_COLLISION || m->state == MDNS_FAILED)
    return;
  if (m->hosts == NULL)
    m->hosts = avahi_entry_group_new (m->client, hosts_changed, m);
  if (m->hosts == NULL)
    {
      g_printerr ("settle-device: avahi-daemon refused a new entry group: %s; not advertising %s\n",
                  avahi_strerror (avahi_client_errno (m->client)), m->name);
      m->state = MDNS_FAILED;
      return;
    }
  if (!avahi_entry_group_is_empty (m->hosts))
    return;
  int r = AVAHI_OK;
  for (guint i = 0; i < m->addresses->len && r == AVAHI_OK; i++)
    {
      MdnsAddress *a = &g_array_index (m->addresses, MdnsAddress, i);
      r = avahi_entry_group_add_address (m->hosts, a->interface, AVAHI_PROTO_UNSPEC,
                                         AVAHI_PUBLISH_NO_REVERSE, m->name, &a->address);
    }
  if (r == AVAHI_OK)
    r = avahi_entry_group_commit (m->hosts);
  if (r == AVAHI_ERR_COLLISION)
    name_collision (m);   /* this very daemon already has the name */
  else if (r != AVAHI_OK)
    {
      g_printerr ("settle-device: avahi-daemon refused the address records of %s: %s; not advertising it\n",
                  m->name, avahi_strerror (r));
      give_up (m, MDNS_FAILED);
    }
  else
    m->state = MDNS_REGISTERING;
}

/* ---- the client ---- */

static void client_changed (AvahiClient *c, AvahiClientState state, void *data);

static AvahiClient *
client_new (SettleDeviceMdns *m, int *error)
{
  return avahi_client_new (avahi_threaded_poll_get (m->poll), AVAHI_CLIENT_NO_FAIL, client_changed, m, error);
}

static void
client_changed (AvahiClient *c, AvahiClientState state, void *data)
{
  SettleDeviceMdns *m = data;

  m->client = c;  /* also during avahi_client_new, before it returns */
  switch (state)
    {
    case AVAHI_CLIENT_S_RUNNING:
      m->said_waiting = FALSE;
      register_hosts (m);
      break;
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
      /* The daemon (re)registers its own host name: ours go again after. */
      if (m->hosts != NULL)
        avahi_entry_group_reset (m->hosts);
      if (m->services != NULL)
        avahi_entry_group_reset (m->services);
      break;
    case AVAHI_CLIENT_CONNECTING:
      if (m->state != MDNS_COLLISION && m->state != MDNS_FAILED)
        m->state = MDNS_WAITING;
      if (!m->said_waiting)
        g_printerr ("settle-device: no avahi-daemon on the system bus: not advertising %s on the "
                    "local network until one starts\n", m->name);
      m->said_waiting = TRUE;
      break;
    case AVAHI_CLIENT_FAILURE:
      if (avahi_client_errno (c) == AVAHI_ERR_DISCONNECTED)
        {
          /* avahi-daemon stopped or restarted: a new client waits for it,
           * and everything is published again (a name lost to a
           * collision is tried again too: the network may have changed). */
          int error = 0;
          g_printerr ("settle-device: avahi-daemon went away; %s is advertised again when it is back\n",
                      m->name);
          m->hosts = m->services = NULL;   /* freed with the client */
          m->state = MDNS_WAITING;
          m->said_waiting = TRUE;
          avahi_client_free (c);
          m->client = client_new (m, &error);
          if (m->client == NULL)
            {
              g_printerr ("settle-device: cannot wait for avahi-daemon: %s; not advertising %s\n",
                          avahi_strerror (error), m->name);
              m->state = MDNS_FAILED;
            }
        }
      else
        {
          g_printerr ("settle-device: avahi-daemon failed: %s; not advertising %s\n",
                      avahi_strerror (avahi_client_errno (c)), m->name);
          give_up (m, MDNS_FAILED);
        }
      break;
    }
}

/* ---- the API (device.h) ---- */

static char *
instance_name_for (const char *name)
{
  const char *dot = strchr (name, '.');
  g_autofree char *label = dot != NULL ? g_strndup (name, (gsize) (dot - name)) : g_strdup (name);
  return avahi_strdup (label);
}

/* ---- portable mode: the period's names ---- */

/* This period's label: the pairing label (fresh nonce) while the device
 * waits for its first pairing, else the host label of the period. */
static void
choose_portable_names (SettleDeviceMdns *m)
{
  char label[SETTLE_PORTABLE_LABEL_CHARS + 1];
  gboolean ok;
  if (m->pairing)
    {
      guint8 nonce[SETTLE_PORTABLE_NONCE_BYTES];
      ok = RAND_bytes (nonce, sizeof nonce) == 1 && settle_portable_pairing_label (m->pin, nonce, label);
    }
  else
    ok = settle_portable_host_label (m->discovery_key,
                                     settle_portable_period_number (g_get_real_time () / G_USEC_PER_SEC,
                                                                    m->period_s),
                                     label);
  if (!ok)
    {
      /* never fall back to the stable name */
      g_printerr ("settle-device: cannot derive this period's name; not advertising\n");
      give_up (m, MDNS_FAILED);
      return;
    }
  g_free (m->name);
  m->name = g_strdup_printf ("%s.local", label);
  avahi_free (m->instance);
  m->instance = avahi_strdup (label);
}

/* Withdraws the old names (avahi sends goodbyes) and publishes the new. */
static void
rename_portable (SettleDeviceMdns *m)
{
  if (m->services != NULL)
    avahi_entry_group_reset (m->services);
  if (m->hosts != NULL)
    avahi_entry_group_reset (m->hosts);
  if (m->state == MDNS_FAILED)
    return;
  choose_portable_names (m);
  if (m->state == MDNS_FAILED)
    return;
  m->state = MDNS_WAITING;
  if (m->client != NULL && avahi_client_get_state (m->client) == AVAHI_CLIENT_S_RUNNING)
    register_hosts (m);
}

static void schedule_rotation (SettleDeviceMdns *m);

static void
rotation_due (AvahiTimeout *t, void *data)
{
  SettleDeviceMdns *m = data;
  (void) t;
  rename_portable (m);
  schedule_rotation (m);
}

/* At the next period boundary (plus a little, so that the clock has
 * passed it when the name is chosen). */
static void
schedule_rotation (SettleDeviceMdns *m)
{
  const AvahiPoll *api = avahi_threaded_poll_get (m->poll);
  gint64 now_ms = g_get_real_time () / 1000;
  gint64 period_ms = (gint64) m->period_s * 1000;
  gint64 wait_ms = period_ms - now_ms % period_ms + 20;
  struct timeval tv;
  avahi_elapse_time (&tv, (unsigned) wait_ms, 0);
  if (m->rotation == NULL)
    m->rotation = api->timeout_new (api, &tv, rotation_due, m);
  else
    api->timeout_update (m->rotation, &tv);
}

SettleDeviceMdns *
settle_device_mdns_start (const char *name, const char *listen_host, guint16 port, gboolean pairing,
                          const SettleDeviceMdnsPortable *portable)
{
  SettleDeviceMdns *m = g_new0 (SettleDeviceMdns, 1);
  int error = 0;

  m->name = g_strdup (name);
  m->port = port;
  m->pairing = pairing;
  m->instance = instance_name_for (name);
  if (portable != NULL)
    {
      m->portable = TRUE;
      memcpy (m->discovery_key, portable->discovery_key, sizeof m->discovery_key);
      memcpy (m->pin, portable->pin, sizeof m->pin);
      m->period_s = portable->period_s;
      choose_portable_names (m);
    }
  m->addresses = addresses_for (listen_host);
  m->state = MDNS_WAITING;
  if (m->addresses->len == 0)
    {
      g_printerr ("settle-device: no network interface has an address for %s: not advertising %s\n",
                  listen_host, name);
      m->state = MDNS_FAILED;
      return m;
    }
  m->poll = avahi_threaded_poll_new ();
  m->client = m->poll != NULL ? client_new (m, &error) : NULL;
  if (m->client == NULL)
    {
      g_printerr ("settle-device: no avahi-daemon is reachable (%s): not advertising %s on the local "
                  "network\n", avahi_strerror (m->poll == NULL ? AVAHI_ERR_NO_MEMORY : error), name);
      m->state = MDNS_FAILED;
      return m;
    }
  if (m->portable)
    schedule_rotation (m);   /* before the thread runs: nothing else touches it yet */
  if (avahi_threaded_poll_start (m->poll) < 0)
    {
      g_printerr ("settle-device: cannot start the mDNS thread: not advertising %s\n", name);
      avahi_client_free (m->client);
      m->client = NULL;
      m->state = MDNS_FAILED;
      return m;
    }
  /* The first QR code depends on whether the name turns out to be ours. */
  for (int waited = 0; waited < START_WAIT_MS; waited += 20)
    {
      avahi_threaded_poll_lock (m->poll);
      MdnsState state = m->state;
      gboolean decided = state == MDNS_ADVERTISING || state == MDNS_COLLISION || state == MDNS_FAILED
                         || (state == MDNS_WAITING && m->said_waiting);
      avahi_threaded_poll_unlock (m->poll);
      if (decided)
        break;
      g_usleep (20 * 1000);
    }
  return m;
}

gboolean
settle_device_mdns_advertising (SettleDeviceMdns *m)
{
  gboolean yes;

  if (m == NULL || m->poll == NULL)
    return FALSE;
  avahi_threaded_poll_lock (m->poll);
  yes = m->state == MDNS_ADVERTISING || m->state == MDNS_REGISTERING;
  avahi_threaded_poll_unlock (m->poll);
  return yes;
}

void
settle_device_mdns_set_pairing (SettleDeviceMdns *m, gboolean pairing)
{
  if (m == NULL || m->poll == NULL)
    return;
  avahi_threaded_poll_lock (m->poll);
  if (m->pairing != pairing && m->portable)
    {
      /* Out of (or back into) the pairing window: the other kind of name. */
      m->pairing = pairing;
      rename_portable (m);
    }
  else if (m->pairing != pairing)
    {
      m->pairing = pairing;
      if (m->services != NULL && !avahi_entry_group_is_empty (m->services))
        {
          AvahiStringList *txt = settle_txt (m);
          int r = avahi_entry_group_update_service_txt_strlst (m->services, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                               0, m->instance, SETTLE_SERVICE_TYPE, NULL, txt);
          avahi_string_list_free (txt);
          if (r != AVAHI_OK)
            g_printerr ("settle-device: could not update the " SETTLE_SERVICE_TYPE " TXT record of %s: %s\n",
                        m->name, avahi_strerror (r));
        }
    }
  avahi_threaded_poll_unlock (m->poll);
}

void
settle_device_mdns_stop (SettleDeviceMdns *m)
{
  if (m == NULL)
    return;
  if (m->poll != NULL)
    avahi_threaded_poll_stop (m->poll);
  gboolean had = m->client != NULL && (m->state == MDNS_ADVERTISING || m->state == MDNS_REGISTERING);
  /* Freeing the client frees its groups: avahi-daemon withdraws the
   * records and sends goodbyes (TTL 0), so browsers forget at once. */
  if (m->client != NULL)
    avahi_client_free (m->client);
  if (had)
    g_printerr ("settle-device: withdrew the advertisement of %s\n", m->name);
  if (m->poll != NULL)
    avahi_threaded_poll_free (m->poll);
  OPENSSL_cleanse (m->discovery_key, sizeof m->discovery_key);
  avahi_free (m->instance);
  g_array_unref (m->addresses);
  g_free (m->name);
  g_free (m);
}
