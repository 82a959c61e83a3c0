/* snapshot-read.c: loading the trust snapshot and the public API over a
 * loaded one (settle-snapshot-reader.h).
 *
 * Linked into browser processes and OpenSSL programs, hence plain C11 and
 * libcbor only.  Loading is: bounded read of the file (here), bounded
 * CBOR decoding (snapshot-cbor.c), validation of every field
 * (snapshot-validate.c, docs/snapshot.md), one copy into a single owned
 * arena (snapshot-arena.c) with its subject index (snapshot-index.c), and
 * the CBOR tree freed, so a loaded snapshot holds each byte once.
 *
 * Threads: a loaded snapshot is never modified, and lookups keep their
 * state in the caller's cursor, so any number of threads may read one
 * snapshot at once; only settle_snapshot_free must wait for all of them. */
#include <cbor.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settle-snapshot-reader.h"
#include "snapshot-arena.h"
#include "snapshot-cbor.h"
#include "snapshot-hash.h"
#include "snapshot-dir.h"
#include "snapshot-error.h"
#include "snapshot-index.h"
#include "snapshot-mapped.h"
#include "snapshot-validate.h"
#include <sys/mman.h>

/* The snapshot a validated tree describes (owned by the caller), or NULL
 * with a sentence in `err`.  The tree stays the caller's. */
static settle_snapshot *
snapshot_new_from_tree (const cbor_item_t *root, snapshot_error *err)
{
  uint64_t generation;
  const cbor_item_t *entries;
  if (snapshot_validate_top (root, &generation, &entries, err) < 0)
    return NULL;

  size_t count = cbor_array_size (entries);
  snapshot_entry_view *views = calloc (count ? count : 1, sizeof *views);  /* owned, freed below */
  if (views == NULL)
    {
      snapshot_fail (err, "out of memory while loading the snapshot.");
      return NULL;
    }
  snapshot_arena_need need = { 0, 0 };
  for (size_t i = 0; i < count; i++)
    {
      if (snapshot_validate_entry (cbor_array_handle (entries)[i], i, &views[i], err) < 0)
        {
          free (views);
          return NULL;
        }
      snapshot_arena_measure (&views[i], &need);
    }

  snapshot_arena_cursor cursor;
  settle_snapshot *snap = snapshot_arena_new (count, &need, &cursor);
  if (snap == NULL)
    {
      free (views);
      snapshot_fail (err, "out of memory while loading the snapshot.");
      return NULL;
    }
  snap->generation = generation;
  for (size_t i = 0; i < count; i++)
    snapshot_arena_copy_entry (&views[i], &cursor, &snap->entries[i]);
  free (views);
  snapshot_subject_index_build (&snap->by_subject, snap->entries, snap->count);
  return snap;
}

/* No index file: an empty trust store, not an error (owned). */
static settle_snapshot *
snapshot_new_empty (void)
{
  snapshot_arena_need none = { 0, 0 };
  snapshot_arena_cursor unused;
  return snapshot_arena_new (0, &none, &unused);
}

/* ---- public API --------------------------------------------------------- */

int
settle_snapshot_parse (const uint8_t *data, size_t len, settle_snapshot **out,
                       char *errbuf, size_t errlen)
{
  snapshot_error err = { errbuf, errlen };
  if (out == NULL)
    return -1;
  *out = NULL;
  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  if (data == NULL && len > 0)
    {
      snapshot_fail (&err, "no snapshot bytes were given.");
      return -1;
    }
  if (len > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      snapshot_fail (&err, "the index is %zu bytes, more than the limit of %u.", len,
                              SETTLE_SNAPSHOT_MAX_BYTES);
      return -1;
    }
  cbor_item_t *root = snapshot_cbor_decode_new (data, len, SNAPSHOT_MAX_ITEMS, &err);  /* owned */
  if (root == NULL)
    return -1;
  settle_snapshot *snap = snapshot_new_from_tree (root, &err);
  cbor_decref (&root);
  if (snap == NULL)
    return -1;
  *out = snap;
  return 0;
}

/* Reads the whole regular file behind fd, refusing it beyond the limit
 * before allocating anything.  Returns the owned bytes or NULL. */
static uint8_t *
read_bounded_new (int fd, size_t *len_out, snapshot_error *err)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      snapshot_fail (err, "cannot stat the index: %s.", strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      snapshot_fail (err, "the index is not a regular file.");
      return NULL;
    }
  if (st.st_size < 0 || (uint64_t) st.st_size > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      snapshot_fail (err, "the index is %lld bytes, more than the limit of %u.",
                     (long long) st.st_size, SETTLE_SNAPSHOT_MAX_BYTES);
      return NULL;
    }
  size_t len = (size_t) st.st_size;
  uint8_t *data = malloc (len ? len : 1);
  if (data == NULL)
    {
      snapshot_fail (err, "out of memory while reading the index.");
      return NULL;
    }
  size_t done = 0;
  while (done < len)
    {
      ssize_t r = read (fd, data + done, len - done);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          if (r == 0)
            snapshot_fail (err, "the index shrank while it was read.");
          else
            snapshot_fail (err, "cannot read the index: %s.", strerror (errno));
          free (data);
          return NULL;
        }
      done += (size_t) r;
    }
  *len_out = len;
  return data;
}

/* Loads `dir`/index.cbor (settle_snapshot_load before index.snap). */
static int
load_cbor (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen)
{
  snapshot_error err = { errbuf, errlen };
  if (out == NULL)
    return -1;
  *out = NULL;
  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  if (dir == NULL)
    {
      snapshot_fail (&err, "no snapshot directory was given.");
      return -1;
    }
  char *path = snapshot_dir_index_path_new (dir);   /* owned */
  if (path == NULL)
    {
      snapshot_fail (&err, "out of memory while loading the snapshot.");
      return -1;
    }

  /* O_NONBLOCK: a FIFO planted as index.cbor must not hang the browser;
   * read_bounded_new refuses anything but a regular file anyway. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    {
      free (path);
      *out = snapshot_new_empty ();
      if (*out == NULL)
        {
          snapshot_fail (&err, "out of memory while loading the snapshot.");
          return -1;
        }
      return 0;
    }
  char why[256] = "";
  snapshot_error inner = { why, sizeof why };
  int rc = -1;
  if (fd < 0)
    snapshot_fail (&inner, "cannot open it: %s.", strerror (errno));
  else
    {
      size_t len = 0;
      uint8_t *data = read_bounded_new (fd, &len, &inner);  /* owned */
      close (fd);
      if (data != NULL)
        {
          rc = settle_snapshot_parse (data, len, out, why, sizeof why);
          free (data);
        }
    }
  if (rc < 0)
    snapshot_fail (&err, "trust snapshot %s: %s", path, why);
  free (path);
  return rc;
}

/* `dir`/index.snap mapped and opened, when it is there, sound, and made
 * for the index.cbor of `cbor` (size and mtime); NULL otherwise, and the
 * caller reads index.cbor.  Costs an open, an fstat, an mmap and the
 * header's checks, whatever the number of entries. */
static settle_snapshot *
open_mapped (const char *dir, const struct stat *cbor)
{
  size_t n = strlen (dir) + 1 + sizeof SETTLE_SNAPSHOT_MAPPED;
  char *path = malloc (n);   /* owned */
  if (path == NULL)
    return NULL;
  snprintf (path, n, "%s/%s", dir, SETTLE_SNAPSHOT_MAPPED);
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  free (path);
  if (fd < 0)
    return NULL;
  struct stat st;
  void *map = MAP_FAILED;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && st.st_size >= (off_t) SNAPSHOT_MAPPED_HEADER
      && (uint64_t) st.st_size <= SETTLE_SNAPSHOT_MAX_BYTES)
    map = mmap (NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    return NULL;
  char why[160];
  snapshot_error err = { why, sizeof why };
  settle_snapshot *snap = snapshot_mapped_new (map, (size_t) st.st_size, map, &err);
  if (snap == NULL)
    {
      munmap (map, (size_t) st.st_size);
      return NULL;
    }
  uint64_t size;
  int64_t sec, nsec;
  snapshot_mapped_source (snap->mapped, &size, &sec, &nsec);
  /* index.cbor is the authority: an index.snap not made for it (a copy
   * that lost the mtimes, an index.cbor edited by hand) is not used. */
  if (size != (uint64_t) cbor->st_size || sec != (int64_t) cbor->st_mtim.tv_sec
      || nsec != (int64_t) cbor->st_mtim.tv_nsec)
    {
      settle_snapshot_free (snap);
      return NULL;
    }
  return snap;
}

int
settle_snapshot_open (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen)
{
  if (out == NULL)
    return -1;
  *out = NULL;
  if (dir != NULL)
    {
      char *path = snapshot_dir_index_path_new (dir);   /* owned */
      struct stat st;
      int present = path != NULL && stat (path, &st) == 0 && S_ISREG (st.st_mode);
      free (path);
      if (present && (*out = open_mapped (dir, &st)) != NULL)
        {
          if (errbuf != NULL && errlen > 0)
            errbuf[0] = '\0';
          return 0;
        }
    }
  return load_cbor (dir, out, errbuf, errlen);
}

int
settle_snapshot_load (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen)
{
  if (settle_snapshot_open (dir, out, errbuf, errlen) != 0)
    return -1;
  if ((*out)->mapped == NULL)
    return 0;
  /* The whole snapshot or nothing, as for index.cbor. */
  for (size_t i = 0; i < (*out)->count; i++)
    if (snapshot_mapped_entry (*out, i) == NULL)
      {
        snapshot_error err = { errbuf, errlen };
        snapshot_fail (&err, "trust snapshot %s: %s", dir, snapshot_mapped_refusal (*out));
        settle_snapshot_free (*out);
        *out = NULL;
        return -1;
      }
  return 0;
}

int
settle_snapshot_parse_mapped (const uint8_t *data, size_t len, settle_snapshot **out,
                              char *errbuf, size_t errlen)
{
  snapshot_error err = { errbuf, errlen };
  if (out == NULL)
    return -1;
  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  *out = snapshot_mapped_new (data, len, NULL, &err);
  return *out != NULL ? 0 : -1;
}

int
settle_snapshot_is_mapped (const settle_snapshot *snap)
{
  return snap != NULL && snap->mapped != NULL;
}

const char *
settle_snapshot_refusal (const settle_snapshot *snap)
{
  return snap != NULL && snap->mapped != NULL ? snapshot_mapped_refusal (snap) : NULL;
}

size_t
settle_snapshot_index_of (const settle_snapshot *snap, const settle_snap_entry *entry)
{
  if (snap == NULL || entry == NULL)
    return SIZE_MAX;
  /* Both forms keep their entries in one array: the mapped one fills its
   * array as entries are first used. */
  const settle_snap_entry *base = snap->mapped != NULL ? snapshot_mapped_entries (snap) : snap->entries;
  uintptr_t at = (uintptr_t) entry, lo = (uintptr_t) base;
  if (base == NULL || snap->count == 0 || at < lo || (at - lo) % sizeof *entry != 0
      || (at - lo) / sizeof *entry >= snap->count)
    return SIZE_MAX;
  return (at - lo) / sizeof *entry;
}

void
settle_snapshot_free (settle_snapshot *snap)
{
  if (snap != NULL && snap->mapped != NULL)
    snapshot_mapped_free (snap->mapped);
  free (snap);   /* the head of its arena, or of a mapped snapshot */
}

uint64_t
settle_snapshot_generation (const settle_snapshot *snap)
{
  return snap ? snap->generation : 0;
}

size_t
settle_snapshot_count (const settle_snapshot *snap)
{
  return snap ? snap->count : 0;
}

const settle_snap_entry *
settle_snapshot_entry (const settle_snapshot *snap, size_t index)
{
  if (snap == NULL || index >= snap->count)
    return NULL;
  if (snap->mapped != NULL)
    return snapshot_mapped_entry (snap, index);
  return &snap->entries[index];
}

static bool
bytes_are (settle_bytes b, const uint8_t *data, size_t len)
{
  return b.len == len && (len == 0 || memcmp (b.data, data, len) == 0);
}

static bool
entry_has (const settle_snap_entry *e, settle_snap_key key, const uint8_t *a, size_t alen,
           const uint8_t *b, size_t blen)
{
  switch (key)
    {
    case SETTLE_SNAP_KEY_SUBJECT:
      return bytes_are (e->subject, a, alen);
    case SETTLE_SNAP_KEY_ISSUER_SERIAL:
      return bytes_are (e->issuer, a, alen) && bytes_are (e->serial, b, blen);
    case SETTLE_SNAP_KEY_DER:
      return bytes_are (e->der, a, alen);
    case SETTLE_SNAP_KEY_SHA1:
      return alen == sizeof e->sha1 && memcmp (e->sha1, a, alen) == 0;
    case SETTLE_SNAP_KEY_ID:
      return bytes_are (e->id, a, alen);
    case SETTLE_SNAP_KEY_SHA256:
      return alen == sizeof e->sha256 && memcmp (e->sha256, a, alen) == 0;
    case SETTLE_SNAP_KEY_LABEL:
      return strlen (e->label) == alen && (alen == 0 || memcmp (e->label, a, alen) == 0);
    default:
      return false;
    }
}

/* The next entry with the key: the mapped file's table, else a scan (an
 * index.cbor snapshot; *cursor is then the next position). */
static const settle_snap_entry *
find_key (const settle_snapshot *snap, settle_snap_key key, const uint8_t *a, size_t alen,
          const uint8_t *b, size_t blen, size_t *cursor)
{
  if (snap == NULL || cursor == NULL || (a == NULL && alen > 0) || (b == NULL && blen > 0)
      || (unsigned) key >= SETTLE_SNAP_KEY_COUNT)
    return NULL;
  if (snap->mapped != NULL)
    {
      uint32_t h = snapshot_key_hash (key, a, alen, b, blen);
      const settle_snap_entry *e;
      while ((e = snapshot_mapped_probe (snap, key, h, cursor)) != NULL)
        if (entry_has (e, key, a, alen, b, blen))
          return e;
      return NULL;
    }
  for (; *cursor < snap->count; )
    {
      const settle_snap_entry *e = &snap->entries[(*cursor)++];
      if (entry_has (e, key, a, alen, b, blen))
        return e;
    }
  return NULL;
}

const settle_snap_entry *
settle_snapshot_find (const settle_snapshot *snap, settle_snap_key key, const uint8_t *data,
                      size_t len, size_t *cursor)
{
  if (key == SETTLE_SNAP_KEY_ISSUER_SERIAL)
    return NULL;
  return find_key (snap, key, data, len, NULL, 0, cursor);
}

const settle_snap_entry *
settle_snapshot_find_issuer_serial (const settle_snapshot *snap, const uint8_t *issuer,
                                    size_t issuer_len, const uint8_t *serial, size_t serial_len,
                                    size_t *cursor)
{
  if (issuer == NULL || serial == NULL)
    return NULL;
  return find_key (snap, SETTLE_SNAP_KEY_ISSUER_SERIAL, issuer, issuer_len, serial, serial_len, cursor);
}

const settle_snap_entry *
settle_snapshot_find_subject (const settle_snapshot *snap, const uint8_t *subject, size_t len,
                              size_t *cursor)
{
  if (snap == NULL || snap->count == 0 || subject == NULL || cursor == NULL)
    return NULL;
  if (snap->mapped != NULL)
    {
      /* A trust lookup: client identities are skipped. */
      const settle_snap_entry *e;
      while ((e = find_key (snap, SETTLE_SNAP_KEY_SUBJECT, subject, len, NULL, 0, cursor)) != NULL)
        if (e->role != SETTLE_SNAP_CLIENT)
          return e;
      return NULL;
    }
  return snapshot_subject_index_find (&snap->by_subject, snap->entries, subject, len, cursor);
}
