/* commit.c: store change + snapshot regeneration, under the state lock.
 *
 * The store change and the new snapshot are two steps, so a command
 * killed between them (SIGKILL, power loss) leaves the store and the
 * snapshot disagreeing: a removed record still trusted, an added one not
 * yet.  A mark in the data directory, set before the store changes and
 * cleared once the snapshot shows the change, tells the next command to
 * finish the job (settle_commit_recover): the snapshot is rebuilt from
 * the store, which is always the truth.  A change that completes writes
 * the next generation from the current one (write_snapshot_change). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "settle-commit.h"
#include "settle-exports.h"
#include "settle-error.h"
#include "settle-paths.h"
#include "settle-snapshot.h"

#define LOCK_TIMEOUT_MS 15000
#define PENDING_MARK_NAME "commit-pending"

typedef enum { CHANGE_NONE, CHANGE_ADD, CHANGE_REMOVE, CHANGE_REPLACE } ChangeKind;

/* ---- the mark of an unfinished change ---- */

static char *
pending_mark_path (void)
{
  g_autofree char *data_dir = settle_data_dir ();

  return g_build_filename (data_dir, PENDING_MARK_NAME, NULL);
}

/* Synced, so that the mark is on disk before the store changes. */
static gboolean
set_pending_mark (GError **error)
{
  g_autofree char *path = pending_mark_path ();
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  gboolean ok = fd >= 0 && fsync (fd) == 0;
  int saved = errno;

  if (fd >= 0)
    close (fd);
  if (!ok)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                 "nothing was changed, because %s could not be written: %s", path, g_strerror (saved));
  return ok;
}

static void
clear_pending_mark (SettleManager *manager)
{
  g_autofree char *path = pending_mark_path ();

  if (unlink (path) != 0 && errno != ENOENT)
    settle_manager_note (manager, SETTLE_NOTE_WARNING, "cannot remove %s: %s", path, g_strerror (errno));
}

static gboolean
pending_mark_exists (void)
{
  g_autofree char *path = pending_mark_path ();

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* ---- the steps ---- */

/* The name map of portable devices for libnss_settle (docs/portable.md),
 * from `records` (the whole store; NULL: listed here).  The map only says
 * where a name answers, never whether to trust it: a map that could not
 * be written is a warning, not a reason to undo the change. */
static void
write_portable_map (SettleManager *manager, SettleStore *store, GPtrArray *records)
{
  g_autoptr (GPtrArray) listed = NULL;
  g_autofree char *map_path = settle_portable_map_path ();
  g_autoptr (GError) error = NULL;

  if (records == NULL)
    records = listed = settle_store_list (store, &error);
  if (records == NULL || !settle_portable_map_write (map_path, records, &error))
    settle_manager_note (manager, SETTLE_NOTE_WARNING, "%s", error->message);
}

/* The snapshot from the whole store, then from the same records the name
 * map. */
static gboolean
write_snapshot (SettleManager *manager, SettleStore *store, GError **error)
{
  g_autoptr (GPtrArray) records = settle_store_list (store, error);
  g_autofree char *trust_dir = settle_trust_dir ();

  if (records == NULL || !settle_snapshot_write (trust_dir, records, error))
    return FALSE;
  write_portable_map (manager, store, records);
  return TRUE;
}

/* Only a record with a discovery key is in the name map: a change that
 * adds, replaces or removes one rewrites it (from the store, which is
 * small next to the snapshot's work); any other change leaves it. */
static gboolean
changes_portable_map (const SettleRecord *record, const SettleRecord *old_record)
{
  return (record != NULL && record->discovery_key != NULL)
         || (old_record != NULL && old_record->discovery_key != NULL);
}

/* The snapshot after one change to the store: a generation made from the
 * current one and the records changed (settle_snapshot_write_change), so
 * a change costs about the same at any number of records; from the whole
 * store when the current generation does not lend itself.  `old_record`
 * is the replaced record of CHANGE_REPLACE. */
static gboolean
write_snapshot_change (SettleManager *manager, SettleStore *store, ChangeKind kind, const SettleRecord *record,
                       const SettleRecord *old_record, GError **error)
{
  g_autofree char *trust_dir = settle_trust_dir ();
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  const char *removed[3] = { NULL, NULL, NULL };
  gboolean needs_full = FALSE;

  if (kind == CHANGE_ADD || kind == CHANGE_REPLACE)
    g_ptr_array_add (added, (gpointer) record);
  if (kind == CHANGE_REMOVE)
    removed[0] = record->fingerprint;
  if (kind == CHANGE_REPLACE)
    removed[0] = old_record->fingerprint;
  if (settle_snapshot_write_change (trust_dir, removed, added, &needs_full, error))
    {
      if (changes_portable_map (record, old_record))
        write_portable_map (manager, store, NULL);
      return TRUE;
    }
  return needs_full && write_snapshot (manager, store, error);
}

/* Exports are conveniences derived from the snapshot: a failure to refresh
 * one is reported but does not undo the change the user asked for. */
static void
refresh_exports (SettleManager *manager)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *trust_dir = settle_trust_dir ();

  if (!settle_export_refresh_all (trust_dir, &error))
    settle_manager_note (manager, SETTLE_NOTE_WARNING, "%s", error->message);
}

static gboolean
apply_change (SettleStore *store, ChangeKind kind, const SettleRecord *record,
              GBytes *client_key_pem, GError **error)
{
  switch (kind)
    {
    case CHANGE_REPLACE:
    case CHANGE_ADD:
      if (!settle_store_add (store, record, error))
        return FALSE;
      if (client_key_pem != NULL
          && !settle_store_put_client_key (store, record->fingerprint, client_key_pem, error))
        {
          settle_store_remove (store, record->fingerprint, NULL);
          return FALSE;
        }
      return TRUE;
    case CHANGE_REMOVE:
      return settle_store_remove (store, record->fingerprint, error);
    case CHANGE_NONE:
      return TRUE;
    }
  return FALSE;
}

/* Best effort: the undo of a removal cannot restore a client key that was
 * deleted with the record, which is why removal is the last step. */
static void
undo_change (SettleStore *store, ChangeKind kind, const SettleRecord *record)
{
  if (kind == CHANGE_ADD || kind == CHANGE_REPLACE)
    settle_store_remove (store, record->fingerprint, NULL);
  else if (kind == CHANGE_REMOVE)
    settle_store_add (store, record, NULL);
}

/* A replacement has a new fingerprint (a rotated CA is a new anchor): the
 * new record and the key go in first, the old record goes last, and if
 * that fails the new one is taken out again.  `old_record` is borrowed. */
static gboolean
retire_replaced (SettleStore *store, const SettleRecord *old_record, const SettleRecord *record,
                 GError **error)
{
  if (settle_store_remove (store, old_record->fingerprint, error))
    return TRUE;
  settle_store_remove (store, record->fingerprint, NULL);
  return FALSE;
}

/* Undoes retire_replaced after a failed snapshot: the old record and, as
 * the caller still holds it, its client key come back. */
static void
restore_replaced (SettleStore *store, const SettleRecord *old_record, GBytes *client_key_pem)
{
  settle_store_add (store, old_record, NULL);
  if (client_key_pem != NULL)
    settle_store_put_client_key (store, old_record->fingerprint, client_key_pem, NULL);
}

static gboolean
commit (SettleManager *manager, ChangeKind kind, const SettleRecord *record, GBytes *client_key_pem,
        const SettleRecord *old_record, GError **error)
{
  g_autoptr (GError) snapshot_error = NULL;
  SettleStore *store = settle_manager_store (manager, error);
  int lock;

  if (store == NULL)
    return FALSE;
  lock = settle_state_lock (LOCK_TIMEOUT_MS, error);
  if (lock < 0)
    return FALSE;
  if (!set_pending_mark (error))
    {
      settle_state_unlock (lock);
      return FALSE;
    }
  if (!apply_change (store, kind, record, client_key_pem, error)
      || (kind == CHANGE_REPLACE && !retire_replaced (store, old_record, record, error)))
    {
      /* The failed step undid itself: the snapshot still matches. */
      clear_pending_mark (manager);
      settle_state_unlock (lock);
      return FALSE;
    }
  if (!write_snapshot_change (manager, store, kind, record, old_record, &snapshot_error))
    {
      /* The mark stays: the undo is best effort, and if it fell short
       * the next command rebuilds the snapshot from the store. */
      undo_change (store, kind, record);
      if (kind == CHANGE_REPLACE)
        restore_replaced (store, old_record, client_key_pem);
      settle_state_unlock (lock);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "nothing was changed, because the trust snapshot could not be written: %s",
                   snapshot_error->message);
      return FALSE;
    }
  clear_pending_mark (manager);
  refresh_exports (manager);
  settle_state_unlock (lock);
  return TRUE;
}

gboolean
settle_commit_recover (SettleManager *manager, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);
  gboolean ok = TRUE;
  int lock;

  if (store == NULL)
    return FALSE;

  if (!pending_mark_exists ())
    return TRUE;
  lock = settle_state_lock (LOCK_TIMEOUT_MS, error);
  if (lock < 0)
    return FALSE;
  /* Checked again under the lock: a writer may have finished meanwhile. */
  if (pending_mark_exists ())
    {
      ok = write_snapshot (manager, store, error);
      if (ok)
        {
          clear_pending_mark (manager);
          refresh_exports (manager);
        }
    }
  settle_state_unlock (lock);
  return ok;
}

gboolean
settle_commit_add (SettleManager *manager, const SettleRecord *record, GError **error)
{
  return commit (manager, CHANGE_ADD, record, NULL, NULL, error);
}

gboolean
settle_commit_add_with_key (SettleManager *manager, const SettleRecord *record, GBytes *client_key_pem,
                            GError **error)
{
  return commit (manager, CHANGE_ADD, record, client_key_pem, NULL, error);
}

gboolean
settle_commit_remove (SettleManager *manager, const SettleRecord *record, GError **error)
{
  return commit (manager, CHANGE_REMOVE, record, NULL, NULL, error);
}

gboolean
settle_commit_remove_unreadable (SettleManager *manager, const char *fingerprint, GError **error)
{
  /* Never in the snapshot: deleting it changes nothing that is trusted,
   * so there is no snapshot to write and nothing to undo. */
  SettleStore *store = settle_manager_store (manager, error);
  int lock = store != NULL ? settle_state_lock (LOCK_TIMEOUT_MS, error) : -1;
  if (lock < 0)
    return FALSE;
  gboolean ok = settle_store_remove (store, fingerprint, error);
  settle_state_unlock (lock);
  return ok;
}

gboolean
settle_commit_replace (SettleManager *manager, const SettleRecord *old_record, const SettleRecord *record,
                       GBytes *client_key_pem, GError **error)
{
  return commit (manager, CHANGE_REPLACE, record, client_key_pem, old_record, error);
}

/* The identity slot of the module serves the client certificate from the
 * snapshot: the renewed one goes there too (the record's entries
 * replaced), so that it matches the key now in the store.  Trust does not
 * change, so a failure is a warning, and the mark makes the next command
 * rebuild the snapshot from the store. */
static void
publish_client_certificate (SettleManager *manager, SettleStore *store, const SettleRecord *record)
{
  g_autoptr (GError) error = NULL;

  if (!set_pending_mark (&error))
    {
      settle_manager_note (manager, SETTLE_NOTE_WARNING, "%s", error->message);
      return;
    }
  if (!write_snapshot_change (manager, store, CHANGE_REPLACE, record, record, &error))
    {
      settle_manager_note (manager, SETTLE_NOTE_WARNING,
                           "the renewed client certificate is not in the trust snapshot yet (%s); "
                           "the next settle command puts it there", error->message);
      return;
    }
  clear_pending_mark (manager);
}

gboolean
settle_commit_client_renewal (SettleManager *manager, const SettleRecord *record, GBytes *old_key_pem,
                              GBytes *new_key_pem, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);
  int lock = store != NULL ? settle_state_lock (LOCK_TIMEOUT_MS, error) : -1;
  gboolean ok;

  if (lock < 0)
    return FALSE;
  ok = settle_store_put_client_key (store, record->fingerprint, new_key_pem, error);
  if (ok && !settle_store_replace (store, record, error))
    {
      settle_store_put_client_key (store, record->fingerprint, old_key_pem, NULL);
      ok = FALSE;
    }
  if (ok)
    publish_client_certificate (manager, store, record);
  settle_state_unlock (lock);
  return ok;
}
