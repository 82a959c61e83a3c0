/* snapshot-arena.h: a loaded snapshot as one allocation (private to
 * lib/snapshot/).
 *
 * Layout: [settle_snapshot][entries][subject index slots][pointer arrays]
 * [bytes].  Loading measures every validated entry first, allocates once,
 * then copies: a loaded snapshot holds each byte once (subject, issuer
 * and serial point into the copy of the certificate when they occur in
 * it), never points into the CBOR tree, and is released with one free().
 * Sizes are bounded by the 256 MiB input, so the sums cannot overflow. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"
#include "snapshot-index.h"
#include "snapshot-validate.h"

/* The head of the arena; everything it points to lies in the same block.
 * Never modified after loading. */
struct settle_snapshot {
  uint64_t generation;
  size_t count;
  settle_snap_entry *entries;     /* decoded from index.cbor; NULL when mapped */
  snapshot_subject_index by_subject;
  struct snapshot_mapped *mapped; /* owned (snapshot-mapped.h): index.snap, or NULL */
};

typedef struct {
  size_t pointers;  /* scope and names arrays, NULL terminators included */
  size_t bytes;     /* certificate bytes and strings */
} snapshot_arena_need;

/* Where the next copy goes; both point into the arena being filled. */
typedef struct {
  const char **next_ptr;
  uint8_t *next_byte;
} snapshot_arena_cursor;

/* Adds what `view` will take to *need, and decides (into the view's *_at
 * fields) which of subject, issuer and serial can share the certificate's
 * bytes. */
void snapshot_arena_measure (snapshot_entry_view *view, snapshot_arena_need *need);

/* The zeroed arena for `count` entries and `need` (owned by the caller:
 * settle_snapshot_free), its subject index slots in place and *cursor at
 * the start of the copy area; NULL when out of memory. */
settle_snapshot *snapshot_arena_new (size_t count, const snapshot_arena_need *need,
                                     snapshot_arena_cursor *cursor);

/* Copies a measured view into *entry and the arena behind *cursor. */
void snapshot_arena_copy_entry (const snapshot_entry_view *view, snapshot_arena_cursor *cursor,
                                settle_snap_entry *entry);
