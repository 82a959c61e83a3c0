/* sprov-snapcache.c: see sprov-snapcache.h. */
#include "sprov-snapcache.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "sprov-errors.h"
#include "settle-anchor-rule.h"
#include "sprov-provider.h"

enum { VERDICT_UNCHECKED = 0, VERDICT_SERVABLE, VERDICT_REFUSED };

typedef struct {
  unsigned long hash;  /* X509_NAME_hash_ex of the subject (canonical form) */
  size_t index;
} canon_slot;

struct sprov_snap {
  pthread_mutex_t lock;       /* guards everything below `dir` */
  char *dir;                  /* owned */
  settle_snapshot_stamp stamp;
  settle_snapshot *snapshot;  /* owned: mapped in place when index.snap is there */
  size_t count;
  unsigned refs;
  uint8_t *verdicts;          /* owned, one per entry */
  char *refusal;              /* owned: why the snapshot is condemned, or NULL */
  canon_slot *canon;          /* owned, sorted by hash; built on first need */
  size_t canon_len;
  int canon_built;
};

static int
compare_canon (const void *a, const void *b)
{
  unsigned long x = ((const canon_slot *) a)->hash;
  unsigned long y = ((const canon_slot *) b)->hash;
  return x < y ? -1 : x > y;
}

static void
snap_free (sprov_snap *snap)
{
  if (snap == NULL)
    return;
  settle_snapshot_free (snap->snapshot);
  OPENSSL_free (snap->dir);
  OPENSSL_free (snap->verdicts);
  OPENSSL_free (snap->refusal);
  OPENSSL_free (snap->canon);
  pthread_mutex_destroy (&snap->lock);
  OPENSSL_free (snap);
}

/* One verdict byte per entry, zeroed: 10 KB at N = 10,000, cleared in
 * about a microsecond (the reader's 224-byte entry views are the part
 * that had to stay untouched, lib/snapshot/snapshot-zeroed.h). */
static int
alloc_verdicts (sprov_snap *snap)
{
  if (snap->count == 0)
    return 1;
  snap->verdicts = OPENSSL_zalloc (snap->count);
  return snap->verdicts != NULL;
}

static sprov_snap *
snap_load (sprov_ctx *ctx, const char *dir, const settle_snapshot_stamp *stamp)
{
  sprov_snap *snap = OPENSSL_zalloc (sizeof (*snap));
  if (snap == NULL || (snap->dir = OPENSSL_strdup (dir)) == NULL) {
    OPENSSL_free (snap);
    sprov_raise (ctx, SPROV_R_OUT_OF_MEMORY, "loading the trust snapshot");
    return NULL;
  }
  pthread_mutex_init (&snap->lock, NULL);
  snap->stamp = *stamp;
  snap->refs = 1;

  char why[512] = "";
  /* Opened, not loaded: index.snap is mapped and each entry is checked
   * when it is first served, so a store opens in the same time at any N. */
  if (settle_snapshot_open (dir, &snap->snapshot, why, sizeof why) != 0) {
    sprov_raise (ctx, SPROV_R_SNAPSHOT_UNREADABLE, "%s: %s", dir, why);
    snap_free (snap);
    return NULL;
  }
  snap->count = settle_snapshot_count (snap->snapshot);
  if (!alloc_verdicts (snap)) {
    sprov_raise (ctx, SPROV_R_OUT_OF_MEMORY, "indexing the trust snapshot in %s", dir);
    snap_free (snap);
    return NULL;
  }
  return snap;
}

void
sprov_snapcache_init (sprov_snapcache *cache)
{
  pthread_mutex_init (&cache->lock, NULL);
  cache->current = NULL;
}

void
sprov_snapcache_clear (sprov_snapcache *cache)
{
  sprov_snap_release (cache->current);
  cache->current = NULL;
  pthread_mutex_destroy (&cache->lock);
}

static void
snap_ref (sprov_snap *snap)
{
  pthread_mutex_lock (&snap->lock);
  snap->refs++;
  pthread_mutex_unlock (&snap->lock);
}

void
sprov_snap_release (sprov_snap *snap)
{
  if (snap == NULL)
    return;
  pthread_mutex_lock (&snap->lock);
  unsigned left = --snap->refs;
  pthread_mutex_unlock (&snap->lock);
  if (left == 0)
    snap_free (snap);
}

static int
snap_is (const sprov_snap *snap, const char *dir, const settle_snapshot_stamp *stamp)
{
  return snap != NULL && strcmp (snap->dir, dir) == 0
         && settle_snapshot_stamp_equal (&snap->stamp, stamp);
}

/* Raises the condemnation again for every open of a condemned snapshot,
 * so that no program mistakes it for an empty store. */
static int
snap_refused (sprov_ctx *ctx, sprov_snap *snap)
{
  pthread_mutex_lock (&snap->lock);
  int refused = snap->refusal != NULL;
  if (refused)
    sprov_raise (ctx, SPROV_R_SNAPSHOT_TAMPERED, "%s", snap->refusal);
  pthread_mutex_unlock (&snap->lock);
  return refused;
}

sprov_snap *
sprov_snapcache_acquire (sprov_ctx *ctx, const char *dir)
{
  settle_snapshot_stamp stamp;
  memset (&stamp, 0, sizeof stamp);
  settle_snapshot_stamp_read (dir, &stamp);

  pthread_mutex_lock (&ctx->cache.lock);
  sprov_snap *snap = ctx->cache.current;
  if (snap_is (snap, dir, &stamp)) {
    snap_ref (snap);
  } else {
    /* Loading under the cache lock makes concurrent first opens wait for
     * one load instead of each parsing the same snapshot. */
    snap = snap_load (ctx, dir, &stamp);
    if (snap != NULL) {
      sprov_snap_release (ctx->cache.current);
      ctx->cache.current = snap;
      snap_ref (snap);
    }
  }
  pthread_mutex_unlock (&ctx->cache.lock);

  if (snap != NULL && snap_refused (ctx, snap)) {
    sprov_snap_release (snap);
    return NULL;
  }
  return snap;
}

const settle_snapshot *
sprov_snap_get (const sprov_snap *snap)
{
  return snap->snapshot;
}

size_t
sprov_snap_index_of (const sprov_snap *snap, const settle_snap_entry *entry)
{
  return settle_snapshot_index_of (snap->snapshot, entry);
}

static const char *
role_name (settle_snap_role role)
{
  switch (role) {
  case SETTLE_SNAP_ROOT: return "root";
  case SETTLE_SNAP_CROSS: return "cross";
  case SETTLE_SNAP_PEER: return "peer";
  case SETTLE_SNAP_CLIENT: return "client";
  }
  return "unknown role";
}

/* Records why the snapshot is condemned (first refusal wins); called with
 * snap->lock held. */
static void
condemn_locked (sprov_snap *snap, const settle_snap_entry *entry, const char *why)
{
  if (snap->refusal != NULL)
    return;
  if (entry == NULL) {
    /* The reader refused the entry itself (index.snap damaged). */
    const char *fmt = "%s: %s; the snapshot was altered outside settle, "
                      "so none of it is served until settle rewrites it";
    int len = snprintf (NULL, 0, fmt, snap->dir, why);
    if (len >= 0 && (snap->refusal = OPENSSL_malloc ((size_t) len + 1)) != NULL)
      snprintf (snap->refusal, (size_t) len + 1, fmt, snap->dir, why);
    return;
  }
  const char *fmt = "%s: %s certificate \"%s\" %s; the snapshot was altered outside settle, "
                    "so none of it is served until settle rewrites it";
  int len = snprintf (NULL, 0, fmt, snap->dir, role_name (entry->role), entry->label, why);
  if (len < 0 || (snap->refusal = OPENSSL_malloc ((size_t) len + 1)) == NULL)
    return;
  snprintf (snap->refusal, (size_t) len + 1, fmt, snap->dir, role_name (entry->role),
            entry->label, why);
}

int
sprov_snap_servable (sprov_ctx *ctx, sprov_snap *snap, size_t index)
{
  if (index >= snap->count)
    return 0;
  const settle_snap_entry *entry = settle_snapshot_entry (snap->snapshot, index);

  pthread_mutex_lock (&snap->lock);
  uint8_t verdict = snap->verdicts[index];
  pthread_mutex_unlock (&snap->lock);

  if (verdict == VERDICT_UNCHECKED) {
    /* Checked outside the lock: parsing a certificate must not stall other
     * threads' lookups.  Two threads may check the same entry; both reach
     * the same verdict. */
    /* OpenSSL treats every certificate a store returns as an anchor and
     * cannot tell a delegator from a peer: a certificate swapped into the
     * user's snapshot must not reach it (the scope rule, as the writer
     * applied it). */
    char why[256] = "";
    if (entry == NULL) {
      const char *refusal = settle_snapshot_refusal (snap->snapshot);
      snprintf (why, sizeof why, "%s", refusal != NULL ? refusal : "an entry was refused");
      verdict = VERDICT_REFUSED;
    } else {
      verdict = settle_anchor_rule_check_entry (entry, why, sizeof why) ? VERDICT_SERVABLE : VERDICT_REFUSED;
    }
    pthread_mutex_lock (&snap->lock);
    snap->verdicts[index] = verdict;
    if (verdict == VERDICT_REFUSED)
      condemn_locked (snap, entry, why);
    pthread_mutex_unlock (&snap->lock);
  }
  return !snap_refused (ctx, snap) && verdict == VERDICT_SERVABLE;
}

static int
subject_hash (const uint8_t *der, size_t len, unsigned long *hash)
{
  const unsigned char *p = der;
  X509_NAME *name = d2i_X509_NAME (NULL, &p, (long) len);
  if (name == NULL)
    return 0;
  int ok = 0;
  *hash = X509_NAME_hash_ex (name, NULL, NULL, &ok);
  X509_NAME_free (name);
  return ok;
}

/* Called with snap->lock held. */
static int
build_canonical_index_locked (sprov_snap *snap)
{
  if (snap->canon_built)
    return 1;
  if (snap->count > 0 && (snap->canon = OPENSSL_malloc (snap->count * sizeof (*snap->canon))) == NULL)
    return 0;
  snap->canon_len = 0;
  for (size_t i = 0; i < snap->count; i++) {
    const settle_snap_entry *entry = settle_snapshot_entry (snap->snapshot, i);
    unsigned long hash;
    if (entry == NULL || entry->role == SETTLE_SNAP_CLIENT)
      continue; /* an identity, never an issuer */
    if (subject_hash (entry->subject.data, entry->subject.len, &hash))
      snap->canon[snap->canon_len++] = (canon_slot) { .hash = hash, .index = i };
  }
  /* An empty snapshot has no array at all, and qsort's pointer must not
   * be NULL even for zero elements (C11 7.22.5). */
  if (snap->canon_len > 0)
    qsort (snap->canon, snap->canon_len, sizeof (*snap->canon), compare_canon);
  snap->canon_built = 1;
  return 1;
}

static int
names_equal_canonically (const X509_NAME *query, const settle_bytes *candidate)
{
  const unsigned char *p = candidate->data;
  X509_NAME *name = d2i_X509_NAME (NULL, &p, (long) candidate->len);
  int equal = name != NULL && X509_NAME_cmp (query, name) == 0;
  X509_NAME_free (name);
  return equal;
}

static int
append_index (size_t **out, size_t *count, size_t index)
{
  size_t *grown = OPENSSL_realloc (*out, (*count + 1) * sizeof (**out));
  if (grown == NULL)
    return 0;
  grown[(*count)++] = index;
  *out = grown;
  return 1;
}

static int
match_canonically (sprov_snap *snap, const uint8_t *subject_der, size_t len,
                   size_t **out, size_t *count)
{
  const unsigned char *p = subject_der;
  X509_NAME *query = d2i_X509_NAME (NULL, &p, (long) len);
  if (query == NULL)
    return 1;  /* not a Name: matches nothing */
  int ok = 0;
  unsigned long hash = X509_NAME_hash_ex (query, NULL, NULL, &ok);

  pthread_mutex_lock (&snap->lock);
  int built = ok && build_canonical_index_locked (snap);
  pthread_mutex_unlock (&snap->lock);

  /* Once built the index is never written again: reading without the lock
   * is safe. */
  int result = built || !ok;
  if (built && snap->canon_len > 0) {  /* bsearch, like qsort, wants a real array */
    canon_slot key = { .hash = hash, .index = 0 };
    const canon_slot *hit = bsearch (&key, snap->canon, snap->canon_len, sizeof (*snap->canon),
                                     compare_canon);
    /* bsearch lands anywhere in a run of equal hashes: back up to its start. */
    while (hit != NULL && hit > snap->canon && hit[-1].hash == hash)
      hit--;
    for (; hit != NULL && hit < snap->canon + snap->canon_len && hit->hash == hash; hit++) {
      const settle_snap_entry *entry = settle_snapshot_entry (snap->snapshot, hit->index);
      if (entry != NULL && names_equal_canonically (query, &entry->subject) && !append_index (out, count, hit->index)) {
        result = 0;
        break;
      }
    }
  }
  X509_NAME_free (query);
  return result;
}

int
sprov_snap_match_subject (sprov_snap *snap, const uint8_t *subject_der, size_t len,
                          size_t **out, size_t *count)
{
  *out = NULL;
  *count = 0;
  size_t cursor = 0;
  const settle_snap_entry *entry;
  while ((entry = settle_snapshot_find_subject (snap->snapshot, subject_der, len, &cursor)) != NULL) {
    size_t index = sprov_snap_index_of (snap, entry);
    if (index != SIZE_MAX && !append_index (out, count, index))
      return 0;
  }
  if (*count > 0)
    return 1;
  return match_canonically (snap, subject_der, len, out, count);
}
