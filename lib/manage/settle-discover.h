/* settle-discover.h: settle_manager_discover, what settle devices are on
 * the local network (lib/discovery/, DNS-SD through avahi-daemon), each
 * marked with the stored record whose names include its host (paired) or
 * as offering pairing (TXT pair=1); and the lookups by name that pairing,
 * refresh and renew use to find a device that is not where it was.
 *
 * Being listed says nothing about trust: a service naming a paired
 * device's host may be anybody's; only the pin check (QR key hash, the
 * record's anchor) decides when settle connects.
 *
 * Ownership: a SettleDiscoverResult owns its entries and the discovery
 * they point into; settle_discover_result_free(). */
#pragma once

#include "settle-discovery.h"
#include "settle-manager.h"

G_BEGIN_DECLS

typedef struct {
  const SettleDiscovered *service;  /* borrowed from the result's discovery */
  char *label;                      /* owned: the paired record's label, or NULL */
  char *fingerprint;                /* owned: the paired record's fingerprint, or NULL */
  char *settle_name;                /* owned: a portable device's name (the service's host is
                                     * the period's rotating name), or NULL */
} SettleDiscoverEntry;

typedef struct {
  SettleDiscovery *discovery;       /* owned: services, notes, completeness */
  GPtrArray *entries;               /* of SettleDiscoverEntry, in the discovery's order */
  gint64 started_us;                /* monotonic time the browse started */
} SettleDiscoverResult;

/* Browses within `timeout_ms` (0: SETTLE_DISCOVERY_DEFAULT_TIMEOUT_MS).
 * NULL with SETTLE_ERROR_NETWORK when no avahi-daemon can be reached
 * (the sentence says so), or with the store's error. */
SettleDiscoverResult *settle_manager_discover (SettleManager *manager, guint timeout_ms, GError **error);
void settle_discover_result_free (SettleDiscoverResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDiscoverResult, settle_discover_result_free)

/* The other names a portable device answers to (docs/portable.md): its
 * pairing labels for the QR code's `pin` (a first pairing), or its host
 * labels for a stored discovery key (refresh, renew).  All borrowed. */
typedef struct {
  const guint8 *pin;            /* SHA-256 of the TLS SPKI (32 bytes), or NULL */
  const guint8 *discovery_key;  /* SETTLE_RECORD_DISCOVERY_KEY_LEN bytes, or NULL */
  guint discovery_period;
} SettleDiscoverAlso;

/* Where `name` (and the names `also` recognises, may be NULL) answers
 * according to DNS-SD (owned array of SettleEndpoint,
 * SETTLE_ENDPOINT_DISCOVERED, possibly empty; `name`'s first), browsing
 * at most `timeout_ms`.  *note (owned, may be NULL): why nothing could be
 * looked up (no avahi-daemon), or what was left out.  Never NULL. */
GPtrArray *settle_discover_endpoints_for (const char *name, const SettleDiscoverAlso *also, guint timeout_ms,
                                          char **note);

G_END_DECLS
