/* sprov-snapcache.h: one loaded trust snapshot per provider, reused by stamp.
 *
 * X509_LOOKUP_store opens the `settle:` store once per issuer lookup, so
 * an open must be cheap: it reads the snapshot's stamp (one stat through
 * the `trust` symlink) and reuses the loaded snapshot while the stamp is
 * unchanged.  A changed snapshot is opened by the next open (mapped in place
 * when index.snap belongs to it: settle_snapshot_open); loaders that are
 * still walking the old one keep it alive through their reference.
 *
 * Each certificate is checked against the scope rule
 * (lib/x509/settle-anchor-rule.h) the first time it would be served, and the
 * verdict is remembered for the life of that load.  One
 * refused certificate condemns the whole snapshot (it was altered outside
 * settle), as the snapshot reader does for bad scopes. */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"

typedef struct sprov_ctx sprov_ctx;
typedef struct sprov_snap sprov_snap;

typedef struct {
  pthread_mutex_t lock;
  sprov_snap *current;   /* owned reference, or NULL before the first open */
} sprov_snapcache;

void sprov_snapcache_init (sprov_snapcache *cache);
void sprov_snapcache_clear (sprov_snapcache *cache);

/* Returns a new reference (owned by the caller, give it back with
 * sprov_snap_release) to the snapshot in `dir`, loading it when the
 * stamp changed; NULL with an error raised when it cannot be read or was
 * already found tampered with. */
sprov_snap *sprov_snapcache_acquire (sprov_ctx *ctx, const char *dir);
void sprov_snap_release (sprov_snap *snap);

/* The loaded snapshot (borrowed, lives as long as `snap`). */
const settle_snapshot *sprov_snap_get (const sprov_snap *snap);

/* Position of an entry returned by the reader's index lookups. */
size_t sprov_snap_index_of (const sprov_snap *snap, const settle_snap_entry *entry);

/* 1 when entry `index` passed the scope rule (memoised); 0 with an
 * error raised when it, or an earlier entry, was refused. */
int sprov_snap_servable (sprov_ctx *ctx, sprov_snap *snap, size_t index);

/* The indices of the entries whose subject equals `subject_der` (DER
 * Name), in *out (owned by the caller, OPENSSL_free) and *count.  Exact
 * bytes go through the reader's O(1) index; when that finds nothing the
 * Name is compared in OpenSSL's canonical form (case and string types
 * folded, as a hash directory would), through an index built on the first
 * such miss.  Returns 1, or 0 when out of memory. */
int sprov_snap_match_subject (sprov_snap *snap, const uint8_t *subject_der, size_t len,
                              size_t **out, size_t *count);
