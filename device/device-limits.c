/* device-limits.c: per-source connection counts and pairing backoff
 * (device-limits.h).  The table is a fixed array scanned linearly under
 * one mutex: 1024 entries of 48 bytes are a few microseconds per accepted
 * connection, cheaper than the TLS handshake that follows, and a fixed
 * array cannot be grown by an attacker with many addresses. */
#include "device-limits.h"

#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

typedef struct {
  gboolean in_use;
  guint8 bytes[16];
  guint active;            /* connections being served */
  guint failures;          /* failed pairing attempts in the current window */
  gint64 window_start_s;
  gint64 blocked_until_s;
  gint64 last_seen_s;
} SourceEntry;

struct _SettleDeviceLimits {
  GMutex lock;
  guint total_active;
  guint total_failures;     /* from every source, in the current window */
  gint64 total_window_start_s;
  gint64 all_blocked_until_s;
  SourceEntry entries[SETTLE_DEVICE_LIMIT_SOURCES];
};

static gint64
now_s (void)
{
  return g_get_monotonic_time () / G_USEC_PER_SEC;
}

SettleDeviceLimits *
settle_device_limits_new (void)
{
  SettleDeviceLimits *limits = g_new0 (SettleDeviceLimits, 1);
  g_mutex_init (&limits->lock);
  return limits;
}

void
settle_device_limits_free (SettleDeviceLimits *limits)
{
  if (limits == NULL)
    return;
  g_mutex_clear (&limits->lock);
  g_free (limits);
}

/* ---- sources ---- */

static void
source_from_ipv4 (const struct in_addr *a, SettleDeviceSource *source)
{
  memset (source->bytes, 0, sizeof source->bytes);
  source->bytes[10] = 0xff;
  source->bytes[11] = 0xff;
  memcpy (source->bytes + 12, a, 4);
  inet_ntop (AF_INET, a, source->text, sizeof source->text);
}

/* IPv6 sources are /64 networks; a v4-mapped address counts as IPv4, so
 * that a dual-stack listener sees one source per IPv4 host. */
static void
source_from_ipv6 (const struct in6_addr *a, SettleDeviceSource *source)
{
  if (IN6_IS_ADDR_V4MAPPED (a))
    {
      source_from_ipv4 ((const struct in_addr *) (a->s6_addr + 12), source);
      return;
    }
  struct in6_addr network = *a;
  memset (network.s6_addr + 8, 0, 8);
  memcpy (source->bytes, network.s6_addr, 16);
  char text[INET6_ADDRSTRLEN];
  inet_ntop (AF_INET6, &network, text, sizeof text);
  g_snprintf (source->text, sizeof source->text, "%s/64", text);
}

gboolean
settle_device_source_of (const struct sockaddr *addr, socklen_t len, SettleDeviceSource *source)
{
  if (addr->sa_family == AF_INET && len >= (socklen_t) sizeof (struct sockaddr_in))
    source_from_ipv4 (&((const struct sockaddr_in *) addr)->sin_addr, source);
  else if (addr->sa_family == AF_INET6 && len >= (socklen_t) sizeof (struct sockaddr_in6))
    source_from_ipv6 (&((const struct sockaddr_in6 *) addr)->sin6_addr, source);
  else
    return FALSE;
  return TRUE;
}

/* ---- the table (lock held) ---- */

static SourceEntry *
entry_find (SettleDeviceLimits *limits, const SettleDeviceSource *source)
{
  for (guint i = 0; i < SETTLE_DEVICE_LIMIT_SOURCES; i++)
    if (limits->entries[i].in_use && memcmp (limits->entries[i].bytes, source->bytes, 16) == 0)
      return &limits->entries[i];
  return NULL;
}

/* Which entry to give up for a new source: never one with connections
 * (their release must find it); a free or idle unblocked entry seen
 * longest ago first, so that forgetting costs nothing; a blocked one
 * only when every idle entry is blocked, the one whose block ends first. */
static gboolean
entry_evicts_before (const SourceEntry *candidate, const SourceEntry *best, gint64 now)
{
  if (best == NULL)
    return TRUE;
  gboolean candidate_blocked = candidate->blocked_until_s > now;
  gboolean best_blocked = best->blocked_until_s > now;
  if (candidate_blocked != best_blocked)
    return !candidate_blocked;
  if (candidate_blocked)
    return candidate->blocked_until_s < best->blocked_until_s;
  return candidate->last_seen_s < best->last_seen_s;
}

static SourceEntry *
entry_to_reuse (SettleDeviceLimits *limits, gint64 now)
{
  SourceEntry *best = NULL;
  for (guint i = 0; i < SETTLE_DEVICE_LIMIT_SOURCES; i++)
    {
      SourceEntry *e = &limits->entries[i];
      if (!e->in_use)
        return e;
      if (e->active == 0 && entry_evicts_before (e, best, now))
        best = e;
    }
  return best;
}

/* Never NULL: at most SETTLE_DEVICE_LIMIT_CONNECTIONS_TOTAL entries hold
 * connections, far fewer than the table has. */
static SourceEntry *
entry_find_or_add (SettleDeviceLimits *limits, const SettleDeviceSource *source, gint64 now)
{
  G_STATIC_ASSERT (SETTLE_DEVICE_LIMIT_SOURCES > SETTLE_DEVICE_LIMIT_CONNECTIONS_TOTAL);
  SourceEntry *e = entry_find (limits, source);
  if (e == NULL)
    {
      e = entry_to_reuse (limits, now);
      memset (e, 0, sizeof *e);
      e->in_use = TRUE;
      memcpy (e->bytes, source->bytes, 16);
    }
  e->last_seen_s = now;
  return e;
}

/* ---- connections ---- */

SettleDeviceAdmission
settle_device_limits_admit (SettleDeviceLimits *limits, const SettleDeviceSource *source)
{
  SettleDeviceAdmission verdict = SETTLE_DEVICE_ADMIT_OK;
  g_mutex_lock (&limits->lock);
  if (limits->total_active >= SETTLE_DEVICE_LIMIT_CONNECTIONS_TOTAL)
    verdict = SETTLE_DEVICE_ADMIT_TOTAL_FULL;
  else
    {
      SourceEntry *e = entry_find_or_add (limits, source, now_s ());
      if (e->active >= SETTLE_DEVICE_LIMIT_CONNECTIONS_PER_SOURCE)
        verdict = SETTLE_DEVICE_ADMIT_SOURCE_FULL;
      else
        {
          e->active++;
          limits->total_active++;
        }
    }
  g_mutex_unlock (&limits->lock);
  return verdict;
}

void
settle_device_limits_release (SettleDeviceLimits *limits, const SettleDeviceSource *source)
{
  g_mutex_lock (&limits->lock);
  SourceEntry *e = entry_find (limits, source);
  g_assert (e != NULL && e->active > 0 && limits->total_active > 0);
  e->active--;
  limits->total_active--;
  g_mutex_unlock (&limits->lock);
}

/* ---- pairing failures ---- */

/* One more failure in a counting window; TRUE when it reaches `limit`
 * (and the count starts afresh: the next `limit` earn the next block). */
static gboolean
count_in_window (guint *failures, gint64 *window_start_s, guint limit, gint64 now)
{
  if (*failures == 0 || now - *window_start_s >= SETTLE_DEVICE_LIMIT_FAILURE_WINDOW_S)
    {
      *failures = 0;
      *window_start_s = now;
    }
  if (++*failures < limit)
    return FALSE;
  *failures = 0;
  return TRUE;
}

SettleDeviceBlock
settle_device_limits_record_failure (SettleDeviceLimits *limits, const SettleDeviceSource *source)
{
  SettleDeviceBlock blocks = SETTLE_DEVICE_BLOCK_NONE;
  g_mutex_lock (&limits->lock);
  gint64 now = now_s ();
  SourceEntry *e = entry_find_or_add (limits, source, now);
  if (count_in_window (&e->failures, &e->window_start_s, SETTLE_DEVICE_LIMIT_FAILURES, now))
    {
      e->blocked_until_s = now + SETTLE_DEVICE_LIMIT_BLOCK_S;
      blocks |= SETTLE_DEVICE_BLOCK_SOURCE;
    }
  if (count_in_window (&limits->total_failures, &limits->total_window_start_s,
                       SETTLE_DEVICE_LIMIT_FAILURES_TOTAL, now))
    {
      limits->all_blocked_until_s = now + SETTLE_DEVICE_LIMIT_BLOCK_S;
      blocks |= SETTLE_DEVICE_BLOCK_ALL;
    }
  g_mutex_unlock (&limits->lock);
  return blocks;
}

guint
settle_device_limits_blocked_for (SettleDeviceLimits *limits, const SettleDeviceSource *source,
                                  gboolean *everyone)
{
  gint64 until = 0;
  gboolean all = FALSE;
  g_mutex_lock (&limits->lock);
  gint64 now = now_s ();
  SourceEntry *e = entry_find (limits, source);
  if (e != NULL && e->blocked_until_s > now)
    until = e->blocked_until_s;
  if (limits->all_blocked_until_s > now && limits->all_blocked_until_s > until)
    {
      until = limits->all_blocked_until_s;
      all = TRUE;
    }
  g_mutex_unlock (&limits->lock);
  if (everyone != NULL)
    *everyone = all;
  return until > now ? (guint) (until - now) : 0;
}
