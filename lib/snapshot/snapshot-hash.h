/* snapshot-hash.h: the two hashes of index.snap (private to lib/snapshot/;
 * docs/snapshot.md, "index.snap"), shared by its writer and its reader.
 *
 * Both are XXH3-64 (xxHash 0.8, seed as given), used from libxxhash's
 * header (inlined: nothing more for the module and the provider to load).
 * Neither is a defence against an attacker, who can recompute them: the
 * checksums catch damage, and a hash table slot is only a hint that the
 * reader confirms on the entry's own bytes.  Format version 3 replaced
 * FNV-1a 64, which hashed one byte at a time and took about a third of a
 * change's CPU time at N = 10,000 (docs/performance.md). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"

/* The checksum of the header (bytes 0..120) and of each record (all its
 * bytes but the last 8): XXH3-64 with seed 0. */
uint64_t snapshot_checksum (const uint8_t *data, size_t len);

/* The hash stored in table `key`'s slots: h = XXH3-64 of the key's bytes
 * `a` with the table number as seed; for issuer+serial (`a` the issuer,
 * `b` the serial) h = XXH3-64 of `b` with h as seed; folded to 32 bits as
 * (h ^ h >> 32).  `b` is ignored for every other table. */
uint32_t snapshot_key_hash (settle_snap_key key, const uint8_t *a, size_t alen, const uint8_t *b,
                            size_t blen);
