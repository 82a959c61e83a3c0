/* snapshot-hash.c: the hashes of index.snap (snapshot-hash.h). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "snapshot-hash.h"

uint64_t
snapshot_checksum (const uint8_t *data, size_t len)
{
  return XXH3_64bits_withSeed (data, len, 0);
}

uint32_t
snapshot_key_hash (settle_snap_key key, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
  uint64_t h = XXH3_64bits_withSeed (a, alen, (uint64_t) key);
  if (key == SETTLE_SNAP_KEY_ISSUER_SERIAL)
    h = XXH3_64bits_withSeed (b, blen, h);
  return (uint32_t) (h ^ (h >> 32));
}
