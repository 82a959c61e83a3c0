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
#include "snapshot-dir.h"
#include "snapshot-error.h"
#include "snapshot-index.h"
#include "snapshot-validate.h"

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

int
settle_snapshot_load (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen)
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

void
settle_snapshot_free (settle_snapshot *snap)
{
  free (snap);   /* the snapshot is the head of its arena */
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
  return &snap->entries[index];
}

const settle_snap_entry *
settle_snapshot_find_subject (const settle_snapshot *snap, const uint8_t *subject, size_t len,
                              size_t *cursor)
{
  if (snap == NULL || snap->count == 0 || subject == NULL || cursor == NULL)
    return NULL;
  return snapshot_subject_index_find (&snap->by_subject, snap->entries, subject, len, cursor);
}
