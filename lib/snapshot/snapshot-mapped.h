/* snapshot-mapped.h: index.snap, the snapshot used in place (private to
 * lib/snapshot/; the format is docs/snapshot.md, "index.snap").
 *
 * Little-endian throughout, no alignment assumed (every field is read
 * with memcpy).  The header is fixed and checksummed; entries are
 * validated one at a time, the first time they are returned, so opening
 * costs the same at 10 or 10,000 anchors.  Every offset and length is
 * checked against the file before it is followed.
 *
 *   header (128 bytes)
 *     0  magic "SETLSNAP"          8  u32 version (3)     12 u32 header length (128)
 *    16  u64 file length          24  u64 generation      32 u64 written (unix seconds)
 *    40  u32 entry count          44  u32 slots per table (power of two, 0 when empty)
 *    48  u64 entry table offset   56  u64 hash tables offset
 *    64  u64 index.cbor size      72  i64 index.cbor mtime seconds   80 i64 ... nanoseconds
 *    88  reserved (zero)         120  u64 checksum of bytes 0..120 (snapshot-hash.h)
 *   entry table: count x { u64 record offset, u32 record length, u32 zero }
 *   hash tables: SETTLE_SNAP_KEY_COUNT (7) x slots x { u32 key hash (snapshot-hash.h), u32 entry + 1 (0: empty) }
 *   records (one per entry):
 *     0  u32 role   4 u32 scope count   8 u32 names count   12 u32 zero   16 i64 not_after
 *    24  sha1[20]  44 md5[16]  60 sha256[32]
 *    92  11 x { u32 offset, u32 length } relative to the record: der, subject, issuer,
 *        serial, id, label, record, ec_params, scope, names, kind (length 0: none)
 *   180  data; label, record and kind are followed by a NUL; scope and names are
 *        NUL-terminated names back to back
 *   last 8 bytes: u64 checksum of the record's other bytes (snapshot-hash.h) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"
#include "snapshot-error.h"

#define SNAPSHOT_MAPPED_MAGIC "SETLSNAP"
#define SNAPSHOT_MAPPED_HEADER 128u
#define SNAPSHOT_MAPPED_SLOT 8u
#define SNAPSHOT_MAPPED_ENTRY 16u
#define SNAPSHOT_MAPPED_RECORD_FIXED 180u
#define SNAPSHOT_MAPPED_MAX_RECORD (4u * 1024u * 1024u)

enum {
  SNAPSHOT_M_DER, SNAPSHOT_M_SUBJECT, SNAPSHOT_M_ISSUER, SNAPSHOT_M_SERIAL, SNAPSHOT_M_ID,
  SNAPSHOT_M_LABEL, SNAPSHOT_M_RECORD, SNAPSHOT_M_EC_PARAMS, SNAPSHOT_M_SCOPE, SNAPSHOT_M_NAMES,
  SNAPSHOT_M_KIND, SNAPSHOT_M_COUNT
};

struct snapshot_mapped;

/* Checks the header of data[0..len) and returns the snapshot searching it
 * in place (owned by the caller, settle_snapshot_free).  `unmap`, when
 * not NULL, is the mapping the snapshot then owns (munmap'ed with it);
 * otherwise `data` is borrowed.  NULL with a sentence in `err`. */
settle_snapshot *snapshot_mapped_new (const uint8_t *data, size_t len, void *unmap,
                                      snapshot_error *err);
/* The index.cbor this file was derived from (size, mtime). */
void snapshot_mapped_source (const struct snapshot_mapped *m, uint64_t *size, int64_t *sec,
                             int64_t *nsec);
void snapshot_mapped_free (struct snapshot_mapped *m);

/* Entry `index`, validated on first use; NULL when it is refused. */
const settle_snap_entry *snapshot_mapped_entry (const settle_snapshot *snap, size_t index);
/* The entry array (filled as entries are first used), count of them;
 * settle_snapshot_index_of turns an entry back into its index. */
const settle_snap_entry *snapshot_mapped_entries (const settle_snapshot *snap);
const char *snapshot_mapped_refusal (const settle_snapshot *snap);

/* Probes table `key` for `hash`; returns the next entry (validated) whose
 * slot hash matches, from *cursor on, or NULL.  The caller compares the
 * key's bytes. */
const settle_snap_entry *snapshot_mapped_probe (const settle_snapshot *snap, settle_snap_key key,
                                                uint32_t hash, size_t *cursor);

/* The checksums and key hashes: snapshot-hash.h. */
