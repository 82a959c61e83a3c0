/* commit.c: store change + snapshot regeneration, under the state lock. */
#include <stdio.h>

#include "commit.h"
#include "exports.h"
#include "settle-error.h"
#include "settle-paths.h"
#include "settle-snapshot.h"

#define LOCK_TIMEOUT_MS 15000

typedef enum { CHANGE_NONE, CHANGE_ADD, CHANGE_REMOVE, CHANGE_REPLACE } ChangeKind;

static gboolean
write_snapshot (SettleStore *store, GError **error)
{
  g_autoptr (GPtrArray) records = settle_store_list (store, error);
  g_autofree char *trust_dir = settle_trust_dir ();

  if (records == NULL)
    return FALSE;
  return settle_snapshot_write (trust_dir, records, error);
}

/* Exports are conveniences derived from the snapshot: a failure to refresh
 * one is reported but does not undo the change the user asked for. */
static void
refresh_exports (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *trust_dir = settle_trust_dir ();

  if (!settle_export_refresh_all (trust_dir, &error))
    fprintf (stderr, "settle: warning: %s\n", error->message);
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
commit (SettleStore *store, ChangeKind kind, const SettleRecord *record, GBytes *client_key_pem,
        const SettleRecord *old_record, GError **error)
{
  g_autoptr (GError) snapshot_error = NULL;
  int lock = settle_state_lock (LOCK_TIMEOUT_MS, error);

  if (lock < 0)
    return FALSE;
  if (!apply_change (store, kind, record, client_key_pem, error)
      || (kind == CHANGE_REPLACE && !retire_replaced (store, old_record, record, error)))
    {
      settle_state_unlock (lock);
      return FALSE;
    }
  if (!write_snapshot (store, &snapshot_error))
    {
      undo_change (store, kind, record);
      if (kind == CHANGE_REPLACE)
        restore_replaced (store, old_record, client_key_pem);
      settle_state_unlock (lock);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "nothing was changed, because the trust snapshot could not be written: %s",
                   snapshot_error->message);
      return FALSE;
    }
  refresh_exports ();
  settle_state_unlock (lock);
  return TRUE;
}

gboolean
settle_commit_add (SettleStore *store, const SettleRecord *record, GError **error)
{
  return commit (store, CHANGE_ADD, record, NULL, NULL, error);
}

gboolean
settle_commit_add_with_key (SettleStore *store, const SettleRecord *record, GBytes *client_key_pem,
                            GError **error)
{
  return commit (store, CHANGE_ADD, record, client_key_pem, NULL, error);
}

gboolean
settle_commit_remove (SettleStore *store, const SettleRecord *record, GError **error)
{
  return commit (store, CHANGE_REMOVE, record, NULL, NULL, error);
}

gboolean
settle_commit_refresh (SettleStore *store, GError **error)
{
  return commit (store, CHANGE_NONE, NULL, NULL, NULL, error);
}

gboolean
settle_commit_replace (SettleStore *store, const SettleRecord *old_record, const SettleRecord *record,
                       GBytes *client_key_pem, GError **error)
{
  return commit (store, CHANGE_REPLACE, record, client_key_pem, old_record, error);
}

gboolean
settle_commit_client_renewal (SettleStore *store, const SettleRecord *record, GBytes *old_key_pem,
                              GBytes *new_key_pem, GError **error)
{
  int lock = settle_state_lock (LOCK_TIMEOUT_MS, error);
  gboolean ok;

  if (lock < 0)
    return FALSE;
  ok = settle_store_put_client_key (store, record->fingerprint, new_key_pem, error);
  if (ok && !settle_store_replace (store, record, error))
    {
      settle_store_put_client_key (store, record->fingerprint, old_key_pem, NULL);
      ok = FALSE;
    }
  settle_state_unlock (lock);
  return ok;
}
