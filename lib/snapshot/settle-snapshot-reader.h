/* settle-snapshot-reader.h: reading the trust snapshot (plain C, libcbor).
 *
 * Used inside browser processes (the PKCS#11 module) and OpenSSL programs
 * (the provider), so it links neither GLib nor OpenSSL: every attribute a
 * consumer needs (subject, issuer, serial, hashes) was computed by the
 * writer and is read here as bytes.  Format: docs/snapshot.md.
 *
 * Ownership: a settle_snapshot owns all of its entries and their bytes;
 * pointers inside entries are borrowed and die with settle_snapshot_free.
 *
 * Implemented by concern in lib/snapshot/: snapshot-read.c (loading and
 * this API), snapshot-dir.c (paths and stamps), and behind the private
 * headers snapshot-cbor.h (bounded CBOR), snapshot-validate.h (the
 * format's checks), snapshot-arena.h (one allocation per snapshot) and
 * snapshot-index.h (the subject lookup). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SETTLE_SNAPSHOT_INDEX "index.cbor"
/* Beside index.cbor in the same generation: the same entries in a
 * fixed-layout, checksummed form with hash tables, which readers map and
 * search in place (docs/snapshot.md, "index.snap").  Derived from
 * index.cbor, which stays the authority: a reader uses index.snap only
 * when it was written for the index.cbor beside it (size and mtime). */
#define SETTLE_SNAPSHOT_MAPPED "index.snap"
/* Version 2 added the record kind to each entry, version 3 made the
 * checksums and key hashes XXH3-64 (FNV-1a 64 before); a file of another
 * version is not used (index.cbor is read instead) and the next change
 * writes the current version. */
#define SETTLE_SNAPSHOT_MAPPED_VERSION 3
/* Beside the index: every trust anchor as PEM `TRUSTED CERTIFICATE` with
 * OpenSSL trust settings for TLS server authentication alone (also the
 * form of the hash links). */
#define SETTLE_SNAPSHOT_BUNDLE "bundle.pem"
#define SETTLE_SNAPSHOT_VERSION 1
/* Hard limits: a snapshot beyond them is refused, not truncated. */
#define SETTLE_SNAPSHOT_MAX_BYTES (256u * 1024u * 1024u)
#define SETTLE_SNAPSHOT_MAX_ENTRIES 100000u
#define SETTLE_SNAPSHOT_MAX_CERT 65536u

typedef enum {
  SETTLE_SNAP_ROOT = 1,  /* wrapper root R: trusted delegator (server auth only) */
  SETTLE_SNAP_CROSS = 2, /* cross certificate C: must verify (an intermediate) */
  SETTLE_SNAP_PEER = 3,  /* pinned peer leaf: trusted peer */
  SETTLE_SNAP_CLIENT = 4, /* per-device client certificate: never trusted, an identity
                           * whose private key stays in the store (never returned by
                           * settle_snapshot_find_subject, a trust lookup) */
} settle_snap_role;

typedef struct {
  const uint8_t *data;
  size_t len;
} settle_bytes;

typedef struct {
  settle_snap_role role;
  settle_bytes der;       /* the certificate */
  settle_bytes subject;   /* DER Name */
  settle_bytes issuer;    /* DER Name */
  settle_bytes serial;    /* DER INTEGER, tag and length included (as CKA_SERIAL_NUMBER) */
  settle_bytes id;        /* CKA_ID: SHA-1 of the subjectPublicKey BIT STRING contents */
  uint8_t sha1[20];       /* of der */
  uint8_t md5[16];        /* of der (CKA_CERT_MD5_HASH) */
  uint8_t sha256[32];     /* of der */
  const char *label;      /* NUL-terminated UTF-8 */
  const char *record;     /* fingerprint (hex) of the record it derives from */
  const char *const *scope; /* NULL-terminated permitted subtrees (empty for peers) */
  const char *const *names; /* NULL-terminated names the record serves */
  int64_t not_after;      /* unix seconds */
  settle_bytes ec_params; /* clients: DER OID of the key's named curve; else empty */
  const char *kind;       /* the record's kind ("device-ca", ...; docs/snapshot.md), or
                           * NULL when the entry does not carry one (older writers) */
} settle_snap_entry;

typedef struct settle_snapshot settle_snapshot;

/* Cheap identity of the snapshot on disk (the index file's device, inode,
 * size, mtime, resolved through the `trust` symlink). */
typedef struct {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  int present;            /* 0: no snapshot at all (an empty trust store) */
} settle_snapshot_stamp;

/* Loads `dir`/index.cbor.  A missing directory or index is an empty
 * snapshot, not an error.  Returns 0, or -1 with a message in errbuf. */
int settle_snapshot_load (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen);
/* Same, from bytes in memory (fuzzing, tests). */
int settle_snapshot_parse (const uint8_t *data, size_t len, settle_snapshot **out,
                           char *errbuf, size_t errlen);
void settle_snapshot_free (settle_snapshot *snap);

uint64_t settle_snapshot_generation (const settle_snapshot *snap);
size_t settle_snapshot_count (const settle_snapshot *snap);
const settle_snap_entry *settle_snapshot_entry (const settle_snapshot *snap, size_t index);

/* The trust entries whose subject equals subject[0..len): the lookup the
 * provider makes (its store by name, a cross certificate's root), O(1)
 * expected.  Iterate with *cursor = 0 first; each call returns the next
 * match or NULL.  Client identities are never returned.  Anything else
 * (by DER, by issuer and serial) the module and provider answer from
 * their own objects, so the reader keeps no index for it. */
const settle_snap_entry *settle_snapshot_find_subject (const settle_snapshot *snap,
                                                       const uint8_t *subject, size_t len,
                                                       size_t *cursor);

/* The keys the mapped format keeps a hash table on (settle_snapshot_find). */
typedef enum {
  SETTLE_SNAP_KEY_SUBJECT = 0,   /* DER Name, every role */
  SETTLE_SNAP_KEY_ISSUER_SERIAL, /* settle_snapshot_find_issuer_serial */
  SETTLE_SNAP_KEY_DER,           /* the certificate */
  SETTLE_SNAP_KEY_SHA1,          /* 20 bytes, SHA-1 of der */
  SETTLE_SNAP_KEY_ID,            /* CKA_ID */
  SETTLE_SNAP_KEY_LABEL,         /* the label's bytes, without NUL */
  SETTLE_SNAP_KEY_SHA256,        /* 32 bytes, SHA-256 of der */
  SETTLE_SNAP_KEY_COUNT
} settle_snap_key;

/* Opens the snapshot in `dir` without reading all of it: index.snap is
 * mapped (read-only) when it belongs to the index.cbor beside it, and
 * each entry is validated the first time settle_snapshot_entry or a find
 * returns it; otherwise index.cbor is loaded as by settle_snapshot_load.
 * On a snapshot opened so, settle_snapshot_entry may return NULL for an
 * index below the count: that entry failed validation (the file was
 * altered outside settle; settle_snapshot_refusal says why) and must be
 * treated as refused.  A missing directory or index is an empty snapshot.
 * Returns 0, or -1 with a message in errbuf. */
int settle_snapshot_open (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen);
/* An index.snap image in memory, opened as by settle_snapshot_open: the
 * snapshot borrows `data`, which must outlive it (fuzzing, tests). */
int settle_snapshot_parse_mapped (const uint8_t *data, size_t len, settle_snapshot **out,
                                  char *errbuf, size_t errlen);
/* 1 when `snap` searches a mapped index.snap, 0 when it was decoded from
 * index.cbor. */
int settle_snapshot_is_mapped (const settle_snapshot *snap);
/* Why an entry of a lazily opened snapshot was refused (the first
 * refusal), or NULL while none was. */
const char *settle_snapshot_refusal (const settle_snapshot *snap);
/* The position of an entry this snapshot returned, or SIZE_MAX. */
size_t settle_snapshot_index_of (const settle_snapshot *snap, const settle_snap_entry *entry);

/* Entries whose `key` equals data[0..len), every role included, through
 * the mapped file's hash table (a scan on a snapshot decoded from
 * index.cbor).  Same cursor contract as settle_snapshot_find_subject.
 * SETTLE_SNAP_KEY_ISSUER_SERIAL is not accepted here. */
const settle_snap_entry *settle_snapshot_find (const settle_snapshot *snap, settle_snap_key key,
                                               const uint8_t *data, size_t len, size_t *cursor);
const settle_snap_entry *settle_snapshot_find_issuer_serial (const settle_snapshot *snap,
                                                             const uint8_t *issuer, size_t issuer_len,
                                                             const uint8_t *serial, size_t serial_len,
                                                             size_t *cursor);

/* Encodes a loaded snapshot (every entry valid) as index.snap bytes
 * (owned by the caller, free()), bound to the index.cbor of `cbor_size`
 * bytes modified at `cbor_mtime` that it was loaded from.  Returns 0, or
 * -1 with a message in errbuf. */
int settle_snapshot_encode_mapped (const settle_snapshot *snap, uint64_t written, uint64_t cbor_size,
                                   struct timespec cbor_mtime, uint8_t **out, size_t *out_len,
                                   char *errbuf, size_t errlen);

/* The same from an array of `count` entries (borrowed, each one a reader
 * accepted), as the snapshot of generation `generation`: the incremental
 * writer's form, which has no loaded snapshot of the whole. */
int settle_snapshot_encode_mapped_entries (const settle_snap_entry *const *entries, size_t count,
                                           uint64_t generation, uint64_t written, uint64_t cbor_size,
                                           struct timespec cbor_mtime, uint8_t **out, size_t *out_len,
                                           char *errbuf, size_t errlen);

/* Fills `stamp` for `dir`; returns 0 (absent counts as success). */
int settle_snapshot_stamp_read (const char *dir, settle_snapshot_stamp *stamp);
int settle_snapshot_stamp_equal (const settle_snapshot_stamp *a, const settle_snapshot_stamp *b);

/* Where settle keeps its state, for every reader and writer alike (the
 * one rule; lib/common/paths.c uses it too): SETTLE_DATA_DIR, else
 * $XDG_DATA_HOME/settle (absolute values only), else
 * $HOME/.local/share/settle.  Writes into buf; returns 0, or -1 if it does
 * not fit or nothing names a directory. */
int settle_data_dir_resolve (char *buf, size_t len);

/* The snapshot directory: SETTLE_TRUST_DIR, else the data directory's
 * `trust`.  Same contract. */
int settle_snapshot_default_dir (char *buf, size_t len);

#ifdef __cplusplus
}
#endif
