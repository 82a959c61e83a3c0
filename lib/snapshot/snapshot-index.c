/* snapshot-index.c: the lookup by subject (snapshot-index.h).
 *
 * Open addressing with linear probing; FNV-1a, folded to 32 bits and kept
 * in the slot so most probes skip the byte comparison.  Every entry is
 * inserted, duplicates included (two cross certificates share their
 * device CA's subject), so all entries with one subject lie on one probe
 * run before the first empty slot. */
#include <stdbool.h>
#include <string.h>

#include "snapshot-index.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t
fnv1a (uint64_t h, const uint8_t *data, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      h ^= data[i];
      h *= FNV_PRIME;
    }
  return h;
}

static uint32_t
fold (uint64_t h)
{
  return (uint32_t) (h ^ (h >> 32));
}

static uint32_t
hash_subject (const uint8_t *subject, size_t len)
{
  return fold (fnv1a (FNV_OFFSET, subject, len));
}

static bool
bytes_equal (settle_bytes b, const uint8_t *data, size_t len)
{
  return b.len == len && memcmp (b.data, data, len) == 0;
}

size_t
snapshot_index_slots_for (size_t count)
{
  if (count == 0)
    return 0;
  size_t size = 4;
  while (size < 2 * count)
    size *= 2;
  return size;
}

static void
index_insert (snapshot_subject_index *index, uint32_t hash, size_t entry)
{
  size_t i = hash & index->mask;
  while (index->slots[i].entry != 0)
    i = (i + 1) & index->mask;
  index->slots[i].hash = hash;
  index->slots[i].entry = (uint32_t) (entry + 1);
}

void
snapshot_subject_index_build (snapshot_subject_index *index, const settle_snap_entry *entries,
                              size_t count)
{
  if (index->slots == NULL)
    return;
  for (size_t i = 0; i < count; i++)
    {
      const settle_snap_entry *e = &entries[i];
      /* The lookups are trust lookups: a client identity is never an
       * anchor, an issuer or a pinned peer, so it is not indexed. */
      if (e->role == SETTLE_SNAP_CLIENT)
        continue;
      index_insert (index, hash_subject (e->subject.data, e->subject.len), i);
    }
}

const settle_snap_entry *
snapshot_subject_index_find (const snapshot_subject_index *index, const settle_snap_entry *entries,
                             const uint8_t *subject, size_t len, size_t *cursor)
{
  if (index->slots == NULL)
    return NULL;
  uint32_t h = hash_subject (subject, len);
  /* *cursor counts probe steps from the home slot already looked at. */
  for (size_t step = *cursor; step <= index->mask; step++)
    {
      const snapshot_index_slot *slot = &index->slots[(h + step) & index->mask];
      if (slot->entry == 0)
        break;
      const settle_snap_entry *e = &entries[slot->entry - 1];
      if (slot->hash == h && bytes_equal (e->subject, subject, len))
        {
          *cursor = step + 1;
          return e;
        }
    }
  *cursor = index->mask + 1;
  return NULL;
}
