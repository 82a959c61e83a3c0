/* sp11-watch.c: snapshot change detection and loading. */
#include "sp11-watch.h"

#include "settle-anchor-rule.h"

#include <stdio.h>
#include <string.h>

int
sp11_watch_init (sp11_watch *watch)
{
  memset (watch, 0, sizeof *watch);
  return settle_snapshot_default_dir (watch->dir, sizeof watch->dir);
}

static uint32_t
sp11_next_tag (sp11_watch *watch)
{
  watch->last_tag = watch->last_tag >= SP11_VIEW_TAG_MAX ? 1 : watch->last_tag + 1;
  return watch->last_tag;
}

sp11_view *
sp11_watch_load (sp11_watch *watch)
{
  char err[256] = "";
  settle_snapshot *snap = NULL;

  /* Stamp first: a write landing between the stamp and the load is then
   * seen as a change on the next check rather than missed. */
  memset (&watch->stamp, 0, sizeof watch->stamp);
  clock_gettime (CLOCK_MONOTONIC, &watch->last_check);
  /* No snapshot directory could be named (no HOME, no XDG_DATA_HOME, no
   * SETTLE_TRUST_DIR): an empty token.  An empty path must never reach
   * the reader, which would turn it into "/index.cbor". */
  if (watch->dir[0] == '\0')
    return sp11_view_new (NULL, sp11_next_tag (watch));
  if (settle_snapshot_stamp_read (watch->dir, &watch->stamp) != 0)
    memset (&watch->stamp, 0, sizeof watch->stamp);
  /* Opened, not loaded: a mapped index.snap is checked entry by entry as
   * the view serves it (sp11-view.c), so starting costs the same at any N. */
  if (settle_snapshot_open (watch->dir, &snap, err, sizeof err) != 0)
    {
      /* Inside a browser the only channel is stderr; the stamp stops the
       * message from repeating until the snapshot changes again. */
      fprintf (stderr, "settle-pkcs11: serving no anchors: %s\n", err);
      snap = NULL;
    }
  else if (!settle_snapshot_is_mapped (snap) && !settle_anchor_rule_check_snapshot (snap, err, sizeof err))
    {
      /* The writer never publishes what the scope rule refuses, so the
       * snapshot was altered outside settle: a peer that could issue or an
       * unconstrained root must not reach the browser (settle-anchor-rule.h). */
      fprintf (stderr, "settle-pkcs11: serving no anchors: the trust snapshot was altered outside settle: %s\n",
               err);
      settle_snapshot_free (snap);
      snap = NULL;
    }
  return sp11_view_new (snap, sp11_next_tag (watch));
}

static int64_t
sp11_elapsed_ms (const struct timespec *from, const struct timespec *to)
{
  return (int64_t) (to->tv_sec - from->tv_sec) * 1000 + (to->tv_nsec - from->tv_nsec) / 1000000;
}

int
sp11_watch_changed (sp11_watch *watch, int force)
{
  struct timespec now;
  settle_snapshot_stamp current;

  clock_gettime (CLOCK_MONOTONIC, &now);
  if (!force && sp11_elapsed_ms (&watch->last_check, &now) < SP11_WATCH_INTERVAL_MS)
    return 0;
  watch->last_check = now;
  if (watch->dir[0] == '\0')
    return 0;
  memset (&current, 0, sizeof current);
  if (settle_snapshot_stamp_read (watch->dir, &current) != 0)
    memset (&current, 0, sizeof current);
  return !settle_snapshot_stamp_equal (&current, &watch->stamp);
}
