/* paths.c: settle's state directories and the state lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "settle-config.h"
#include "settle-error.h"
#include "settle-paths.h"
#include "settle-snapshot-reader.h"

/* How long to sleep between two attempts at the lock: short, so that a
 * waiting command proceeds soon after the holder finishes. */
#define LOCK_POLL_INTERVAL_US (20 * 1000)

/* The one rule for where state lives is the snapshot reader's (plain C,
 * so that the module and the provider inside browsers and OpenSSL
 * programs find the very same directory).  GLib only fills in the home
 * directory from the password database when HOME is unset. */
char *
settle_data_dir (void)
{
  char buf[PATH_MAX];
  if (settle_data_dir_resolve (buf, sizeof buf) == 0)
    return g_strdup (buf);
  return g_build_filename (g_get_home_dir (), ".local", "share", "settle", NULL);
}

char *
settle_trust_dir (void)
{
  char buf[PATH_MAX];
  if (settle_snapshot_default_dir (buf, sizeof buf) == 0)
    return g_strdup (buf);
  char *data = settle_data_dir ();
  char *trust = g_build_filename (data, "trust", NULL);
  g_free (data);
  return trust;
}

char *
settle_build_tree_file (const char *relative)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *root_slash = g_strconcat (SETTLE_BUILD_ROOT, "/", NULL);
  if (self == NULL || !g_str_has_prefix (self, root_slash))
    return NULL;
  return g_build_filename (SETTLE_BUILD_ROOT, relative, NULL);
}

char *
settle_file_store_dir (void)
{
  char *data = settle_data_dir ();
  char *store = g_build_filename (data, "store", NULL);
  g_free (data);
  return store;
}

static int
open_lock_file (const char *data_dir, const char *lock_path, GError **error)
{
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "Cannot create the settle data directory %s: %s.", data_dir,
                   g_strerror (saved));
      return -1;
    }
  int fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "Cannot open the settle lock file %s: %s.", lock_path, g_strerror (saved));
    }
  return fd;
}

/* Polls rather than blocking in flock() so that the wait has a bound
 * without signals or threads. */
static gboolean
wait_for_flock (int fd, guint timeout_ms, const char *lock_path, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  for (;;)
    {
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        return TRUE;
      int saved = errno;
      if (saved == EINTR)
        continue;
      if (saved != EWOULDBLOCK)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                       "Cannot lock %s: %s.", lock_path, g_strerror (saved));
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                       "another settle command is changing the store (waited %u ms for %s); "
                       "try again when it has finished.", timeout_ms, lock_path);
          return FALSE;
        }
      g_usleep (LOCK_POLL_INTERVAL_US);
    }
}

int
settle_state_lock (guint timeout_ms, GError **error)
{
  char *data_dir = settle_data_dir ();
  char *lock_path = g_build_filename (data_dir, "lock", NULL);

  int fd = open_lock_file (data_dir, lock_path, error);
  if (fd >= 0 && !wait_for_flock (fd, timeout_ms, lock_path, error))
    {
      close (fd);
      fd = -1;
    }

  g_free (lock_path);
  g_free (data_dir);
  return fd;
}

void
settle_state_unlock (int fd)
{
  if (fd < 0)
    return;
  /* Closing releases the flock; the explicit unlock makes the release
   * independent of descriptors a child may have inherited. */
  flock (fd, LOCK_UN);
  close (fd);
}
