/* snapshot-dir.c: where the snapshot lives and whether it changed
 * (settle-snapshot-reader.h: settle_data_dir_resolve,
 * settle_snapshot_default_dir, settle_snapshot_stamp_*; snapshot-dir.h).
 *
 * Separate from loading: the module and the provider ask "is my snapshot
 * still current?" far more often than they load one, and the answer is a
 * stat through the `trust` symlink, never a read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "settle-snapshot-reader.h"
#include "snapshot-dir.h"

char *
snapshot_dir_index_path_new (const char *dir)
{
  size_t n = strlen (dir) + 1 + sizeof SETTLE_SNAPSHOT_INDEX;
  char *path = malloc (n);
  if (path != NULL)
    snprintf (path, n, "%s/%s", dir, SETTLE_SNAPSHOT_INDEX);
  return path;
}

int
settle_snapshot_stamp_read (const char *dir, settle_snapshot_stamp *stamp)
{
  if (stamp == NULL)
    return -1;
  memset (stamp, 0, sizeof *stamp);
  if (dir == NULL)
    return -1;
  char *path = snapshot_dir_index_path_new (dir);   /* owned */
  if (path == NULL)
    return -1;
  struct stat st;
  int rc = stat (path, &st);   /* stat, not lstat: resolves the `trust` symlink */
  int saved = errno;
  free (path);
  if (rc != 0)
    return (saved == ENOENT || saved == ENOTDIR) ? 0 : -1;
  stamp->dev = st.st_dev;
  stamp->ino = st.st_ino;
  stamp->size = st.st_size;
  stamp->mtime = st.st_mtim;
  stamp->present = 1;
  return 0;
}

int
settle_snapshot_stamp_equal (const settle_snapshot_stamp *a, const settle_snapshot_stamp *b)
{
  if (a->present != b->present)
    return 0;
  if (!a->present)
    return 1;
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size
         && a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* secure_getenv: the provider may be loaded into set-uid programs, which
 * must not be pointed at another trust store by their caller. */
static const char *
env_nonempty (const char *name)
{
  const char *v = secure_getenv (name);
  return (v != NULL && v[0] != '\0') ? v : NULL;
}

static int
fits (char *buf, int written, size_t len)
{
  if (written >= 0 && (size_t) written < len)
    return 0;
  buf[0] = '\0';   /* never hand out a truncated path */
  return -1;
}

int
settle_data_dir_resolve (char *buf, size_t len)
{
  const char *explicit_dir = env_nonempty ("SETTLE_DATA_DIR");
  const char *xdg = env_nonempty ("XDG_DATA_HOME");
  const char *home = env_nonempty ("HOME");

  if (buf == NULL || len == 0)
    return -1;
  buf[0] = '\0';
  if (explicit_dir != NULL)
    return fits (buf, snprintf (buf, len, "%s", explicit_dir), len);
  /* The XDG spec says to ignore relative values. */
  if (xdg != NULL && xdg[0] == '/')
    return fits (buf, snprintf (buf, len, "%s/settle", xdg), len);
  if (home == NULL)
    return -1;
  return fits (buf, snprintf (buf, len, "%s/.local/share/settle", home), len);
}

int
settle_snapshot_default_dir (char *buf, size_t len)
{
  const char *explicit_dir = env_nonempty ("SETTLE_TRUST_DIR");

  if (buf == NULL || len == 0)
    return -1;
  if (explicit_dir != NULL)
    return fits (buf, snprintf (buf, len, "%s", explicit_dir), len);
  if (settle_data_dir_resolve (buf, len) != 0)
    return -1;
  size_t used = strlen (buf);
  return fits (buf, (int) used + snprintf (buf + used, len - used, "/trust"), len);
}
