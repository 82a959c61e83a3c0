/* snapshot-remap.c: the attacker who rewrites index.snap too (tests/snapshot
 * mapped-tamper.sh).
 *
 *   snapshot-remap DIR         re-encodes DIR/index.snap from DIR/index.cbor,
 *                              bound to index.cbor as it is now (size, mtime)
 *   snapshot-remap --kind DIR  prints "mapped" or "cbor": what a reader uses
 *   snapshot-remap --kinds DIR prints each entry's record kind ("-" when it
 *                              has none, "refused" when refused) as a reader
 *                              opens DIR; --cbor-kinds the same from index.cbor
 *   snapshot-remap --plant-kind I KIND DIR
 *                              re-encodes DIR/index.snap (as above) with entry
 *                              I's record kind replaced by KIND
 *   snapshot-remap --set-version V DIR
 *                              writes format version V into DIR/index.snap's
 *                              header, its checksum made good again
 *
 * After sprov-tamper has swapped a certificate in index.cbor, this makes a
 * self-consistent index.snap of the result (checksums and all), so that
 * readers take the mapped path: only the scope rule the module and the
 * provider apply to each entry they serve can then refuse it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "settle-snapshot-reader.h"

static unsigned char *
read_all (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  unsigned char *buf = malloc (SETTLE_SNAPSHOT_MAX_BYTES);
  *len = buf != NULL ? fread (buf, 1, SETTLE_SNAPSHOT_MAX_BYTES, f) : 0;
  fclose (f);
  return buf;
}

static int
write_all (const char *path, const void *data, size_t len)
{
  FILE *out = fopen (path, "wb");
  int ok = out != NULL && fwrite (data, 1, len, out) == len;
  if (out != NULL)
    ok = fclose (out) == 0 && ok;
  if (!ok)
    fprintf (stderr, "snapshot-remap: cannot write %s\n", path);
  return ok ? 0 : 1;
}

static int
print_kinds (const char *dir, int from_cbor)
{
  char err[256] = "";
  settle_snapshot *snap = NULL;
  int rc = from_cbor ? settle_snapshot_load (dir, &snap, err, sizeof err)
                     : settle_snapshot_open (dir, &snap, err, sizeof err);
  if (rc != 0)
    {
      fprintf (stderr, "snapshot-remap: %s\n", err);
      return 1;
    }
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      puts (e == NULL ? "refused" : e->kind != NULL ? e->kind : "-");
    }
  settle_snapshot_free (snap);
  return 0;
}

/* The header checksum as docs/snapshot.md gives it: XXH3-64, seed 0, of
 * bytes 0..120 (from xxHash itself, not from settle's code). */
static uint64_t
header_checksum (const uint8_t *data, size_t len)
{
  return XXH3_64bits_withSeed (data, len, 0);
}

static int
set_version (const char *dir, uint32_t version)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, SETTLE_SNAPSHOT_MAPPED);
  size_t len = 0;
  uint8_t *image = read_all (path, &len);
  if (image == NULL || len < 128)
    {
      fprintf (stderr, "snapshot-remap: cannot read %s\n", path);
      free (image);
      return 1;
    }
  for (int i = 0; i < 4; i++)
    image[8 + i] = (uint8_t) (version >> (8 * i));
  uint64_t h = header_checksum (image, 120);
  for (int i = 0; i < 8; i++)
    image[120 + i] = (uint8_t) (h >> (8 * i));
  int rc = write_all (path, image, len);
  free (image);
  return rc;
}

/* DIR/index.snap re-encoded from DIR/index.cbor; entry `plant` (unless
 * SIZE_MAX) with its kind replaced by `kind`. */
static int
remap (const char *dir, size_t plant, const char *kind)
{
  char err[256] = "";
  char cbor_path[4096], snap_path[4096];
  snprintf (cbor_path, sizeof cbor_path, "%s/%s", dir, SETTLE_SNAPSHOT_INDEX);
  snprintf (snap_path, sizeof snap_path, "%s/%s", dir, SETTLE_SNAPSHOT_MAPPED);
  size_t len = 0;
  unsigned char *bytes = read_all (cbor_path, &len);
  struct stat st;
  settle_snapshot *snap = NULL;
  uint8_t *image = NULL;
  size_t image_len = 0;
  const settle_snap_entry **entries = NULL;
  settle_snap_entry planted;
  int rc = 1;
  if (bytes == NULL || stat (cbor_path, &st) != 0
      || settle_snapshot_parse (bytes, len, &snap, err, sizeof err) != 0)
    goto out;
  size_t count = settle_snapshot_count (snap);
  if (plant != SIZE_MAX && plant >= count)
    {
      snprintf (err, sizeof err, "there is no entry %zu", plant);
      goto out;
    }
  entries = calloc (count + 1, sizeof *entries);
  if (entries == NULL)
    goto out;
  for (size_t i = 0; i < count; i++)
    entries[i] = settle_snapshot_entry (snap, i);
  if (plant != SIZE_MAX)
    {
      planted = *entries[plant];
      planted.kind = kind;
      entries[plant] = &planted;
    }
  if (settle_snapshot_encode_mapped_entries (entries, count, settle_snapshot_generation (snap), 0,
                                             (uint64_t) st.st_size, st.st_mtim, &image, &image_len,
                                             err, sizeof err) != 0)
    goto out;
  rc = write_all (snap_path, image, image_len);
out:
  if (rc != 0 && err[0] != '\0')
    fprintf (stderr, "snapshot-remap: %s: %s\n", cbor_path, err);
  free (entries);
  settle_snapshot_free (snap);
  free (image);
  free (bytes);
  return rc;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--kind") == 0)
    {
      char err[256] = "";
      settle_snapshot *snap = NULL;
      if (settle_snapshot_open (argv[2], &snap, err, sizeof err) != 0)
        {
          fprintf (stderr, "snapshot-remap: %s\n", err);
          return 1;
        }
      puts (settle_snapshot_is_mapped (snap) ? "mapped" : "cbor");
      settle_snapshot_free (snap);
      return 0;
    }
  if (argc == 3 && (strcmp (argv[1], "--kinds") == 0 || strcmp (argv[1], "--cbor-kinds") == 0))
    return print_kinds (argv[2], strcmp (argv[1], "--cbor-kinds") == 0);
  if (argc == 5 && strcmp (argv[1], "--plant-kind") == 0)
    return remap (argv[4], (size_t) strtoul (argv[2], NULL, 10), argv[3]);
  if (argc == 4 && strcmp (argv[1], "--set-version") == 0)
    return set_version (argv[3], (uint32_t) strtoul (argv[2], NULL, 10));
  if (argc != 2)
    {
      fprintf (stderr, "usage: snapshot-remap [--kind | --kinds | --cbor-kinds] DIR\n"
                       "       snapshot-remap --plant-kind I KIND DIR | --set-version V DIR\n");
      return 2;
    }
  return remap (argv[1], SIZE_MAX, NULL);
}
