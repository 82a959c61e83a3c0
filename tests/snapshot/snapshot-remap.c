/* snapshot-remap.c: the attacker who rewrites index.snap too (tests/snapshot
 * mapped-tamper.sh).
 *
 *   snapshot-remap DIR         re-encodes DIR/index.snap from DIR/index.cbor,
 *                              bound to index.cbor as it is now (size, mtime)
 *   snapshot-remap --kind DIR  prints "mapped" or "cbor": what a reader uses
 *
 * After sprov-tamper has swapped a certificate in index.cbor, this makes a
 * self-consistent index.snap of the result (checksums and all), so that
 * readers take the mapped path: only the scope rule the module and the
 * provider apply to each entry they serve can then refuse it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int
main (int argc, char **argv)
{
  char err[256] = "";
  if (argc == 3 && strcmp (argv[1], "--kind") == 0)
    {
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
  if (argc != 2)
    {
      fprintf (stderr, "usage: snapshot-remap [--kind] DIR\n");
      return 2;
    }
  char cbor_path[4096], snap_path[4096];
  snprintf (cbor_path, sizeof cbor_path, "%s/%s", argv[1], SETTLE_SNAPSHOT_INDEX);
  snprintf (snap_path, sizeof snap_path, "%s/%s", argv[1], SETTLE_SNAPSHOT_MAPPED);
  size_t len = 0;
  unsigned char *bytes = read_all (cbor_path, &len);
  struct stat st;
  settle_snapshot *snap = NULL;
  uint8_t *image = NULL;
  size_t image_len = 0;
  if (bytes == NULL || stat (cbor_path, &st) != 0
      || settle_snapshot_parse (bytes, len, &snap, err, sizeof err) != 0
      || settle_snapshot_encode_mapped (snap, 0, (uint64_t) st.st_size, st.st_mtim, &image, &image_len,
                                        err, sizeof err) != 0)
    {
      fprintf (stderr, "snapshot-remap: %s: %s\n", cbor_path, err);
      return 1;
    }
  FILE *out = fopen (snap_path, "wb");
  int ok = out != NULL && fwrite (image, 1, image_len, out) == image_len;
  if (out != NULL)
    ok = fclose (out) == 0 && ok;
  settle_snapshot_free (snap);
  free (image);
  free (bytes);
  if (!ok)
    {
      fprintf (stderr, "snapshot-remap: cannot write %s\n", snap_path);
      return 1;
    }
  return 0;
}
