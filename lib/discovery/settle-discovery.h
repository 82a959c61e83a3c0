/* settle-discovery.h: what settle devices announce on the local network,
 * found through the system's avahi-daemon (libavahi-client over the system
 * bus; settle has no mDNS stack of its own).  docs/discovery.md.
 *
 * One call browses DNS-SD `_settle._tcp` in the default domain, resolves
 * every instance (SRV target host and port, its addresses, TXT) and
 * returns when avahi has said "all for now" and every resolution is done,
 * or when the timeout passes, whichever comes first.  Bounded: at most
 * SETTLE_DISCOVERY_MAX_SERVICES instances, at most
 * SETTLE_DISCOVERY_MAX_ADDRESSES addresses each; a TXT record that is
 * malformed or oversized (settle_discovery_check_txt) removes that one
 * instance from the result with a note, the others are still listed.
 *
 * Discovery never decides trust: what it finds is only where to knock.
 * Anyone on the link may advertise any instance naming any host (the
 * README of tests/homenet); the caller's pin check (the QR code's key
 * hash, the record's anchor) decides whether what answers there is the
 * device.
 *
 * Ownership: a SettleDiscovery owns its services and notes;
 * settle_discovery_free().  Nothing here prints. */
#pragma once

#include <glib.h>

#include "settle-endpoint.h"

G_BEGIN_DECLS

#define SETTLE_DISCOVERY_SERVICE_TYPE "_settle._tcp"
/* Bounds on what one browse keeps (the rest is dropped with a note). */
#define SETTLE_DISCOVERY_MAX_SERVICES 256
#define SETTLE_DISCOVERY_MAX_ADDRESSES 8
/* A TXT record of more than this many bytes, or strings, is refused. */
#define SETTLE_DISCOVERY_MAX_TXT_BYTES 400
#define SETTLE_DISCOVERY_MAX_TXT_STRINGS 16
#define SETTLE_DISCOVERY_DEFAULT_TIMEOUT_MS 3000

typedef struct {
  char *instance;      /* owned: the DNS-SD instance name ("printer") */
  char *host;          /* owned: the SRV target, lower case, no trailing dot ("printer.local") */
  guint16 port;        /* the SRV port */
  char **addresses;    /* owned, NULL-terminated: IPv4 first, then IPv6 (link-local with %IFNAME) */
  char *version;       /* owned: TXT v ("1") */
  char *suites;        /* owned: TXT g ("p256"), or NULL */
  gboolean offers_pairing;  /* TXT pair=1 */
} SettleDiscovered;

typedef struct {
  GPtrArray *services;   /* of SettleDiscovered, sorted by host then instance */
  GPtrArray *notes;      /* of char *: one sentence per instance left out */
  gboolean complete;     /* avahi said "all for now" and every resolution ended in time */
  gint64 first_answer_us;  /* monotonic time of the first resolved instance, 0 if none */
} SettleDiscovery;

/* Browses and resolves within `timeout_ms` (0: the default).  With
 * `only_host` (a canonical name), only instances whose SRV target is that
 * host are resolved into the result.  NULL with SETTLE_ERROR_NETWORK when
 * no avahi-daemon can be reached (the sentence says why: no daemon, no
 * system bus) or the browse fails. */
SettleDiscovery *settle_discovery_browse (guint timeout_ms, const char *only_host, GError **error);
void settle_discovery_free (SettleDiscovery *discovery);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDiscovery, settle_discovery_free)

/* Where `host` answers according to `discovery` (owned array of
 * SettleEndpoint, SETTLE_ENDPOINT_DISCOVERED, host = an address, port =
 * the SRV port), in the order to try: per instance, IPv4 addresses first.
 * Never empty endpoints twice; may be empty. */
GPtrArray *settle_discovery_endpoints (const SettleDiscovery *discovery, const char *host);

/* Checks one TXT record, given as its strings (`n` of them, each `lens[i]`
 * bytes, not NUL-terminated).  TRUE and the values (owned, may be NULL)
 * when it is well formed: at most SETTLE_DISCOVERY_MAX_TXT_STRINGS strings
 * and SETTLE_DISCOVERY_MAX_TXT_BYTES bytes, each "key=value" with a key of
 * 1..9 printable ASCII characters (no '='), a printable ASCII value, no
 * key twice; `v` present and "1", `pair` (when present) "0" or "1".
 * FALSE with `reason` (owned sentence fragment) otherwise. */
gboolean settle_discovery_check_txt (const guint8 *const *strings, const gsize *lens, gsize n,
                                     char **version, char **suites, gboolean *offers_pairing, char **reason);

G_END_DECLS
