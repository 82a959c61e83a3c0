/* snapshot-index.h: the lookup by subject (private to lib/snapshot/).
 *
 * The one index a loaded snapshot carries, because the one lookup its
 * consumers make is "which anchors have this subject" (the provider's
 * store by name, the provider's chain to a cross certificate's root).
 * The module lists every object itself, so it needs none.
 *
 * Ownership: the slots live in the snapshot's arena (snapshot-arena.h),
 * which sizes them with snapshot_index_slots_for; the index borrows them
 * and is never modified after it is built, so any number of threads may
 * look up at once. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"

typedef struct {
  uint32_t hash;
  uint32_t entry;   /* entry index + 1; 0 marks an empty slot */
} snapshot_index_slot;

typedef struct {
  snapshot_index_slot *slots;   /* borrowed from the arena; mask + 1 of them, or NULL */
  size_t mask;
} snapshot_subject_index;

/* Slots for an index over `count` entries: a power of two at least twice
 * count, so probe runs stay short; 0 for no entries. */
size_t snapshot_index_slots_for (size_t count);

/* Inserts every trust entry of entries[0..count) (client identities are
 * never returned by a trust lookup, so they are left out); the slots must
 * be zeroed. */
void snapshot_subject_index_build (snapshot_subject_index *index, const settle_snap_entry *entries,
                                   size_t count);

/* The next entry whose subject equals subject[0..len), or NULL; *cursor
 * (0 at first) keeps the caller's place (settle_snapshot_find_subject). */
const settle_snap_entry *snapshot_subject_index_find (const snapshot_subject_index *index,
                                                      const settle_snap_entry *entries,
                                                      const uint8_t *subject, size_t len,
                                                      size_t *cursor);
