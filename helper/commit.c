/* commit.c: store change + snapshot regeneration, under the state lock. */
#include <stdio.h>

#include "commit.h"
#include "exports.h"
#include "settle-error.h"
#include "settle-paths.h"
#include "settle-snapshot.h"

#define LOCK_TIMEOUT_MS 15000

typedef enum { CHANGE_NONE, CHANGE_ADD, CHANGE_REMOVE } ChangeKind;

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
  if (kind == CHANGE_ADD)
    settle_store_remove (store, record->fingerprint, NULL);
  else if (kind == CHANGE_REMOVE)
    settle_store_add (store, record, NULL);
}

static gboolean
commit (SettleStore *store, ChangeKind kind, const SettleRecord *record, GBytes *client_key_pem,
        GError **error)
{
  g_autoptr (GError) snapshot_error = NULL;
  int lock = settle_state_lock (LOCK_TIMEOUT_MS, error);

  if (lock < 0)
    return FALSE;
  if (!apply_change (store, kind, record, client_key_pem, error))
    {
      settle_state_unlock (lock);
      return FALSE;
    }
  if (!write_snapshot (store, &snapshot_error))
    {
      undo_change (store, kind, record);
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
  return commit (store, CHANGE_ADD, record, NULL, error);
}

gboolean
settle_commit_add_with_key (SettleStore *store, const SettleRecord *record, GBytes *client_key_pem,
                            GError **error)
{
  return commit (store, CHANGE_ADD, record, client_key_pem, error);
}

gboolean
settle_commit_remove (SettleStore *store, const SettleRecord *record, GError **error)
{
  return commit (store, CHANGE_REMOVE, record, NULL, error);
}

gboolean
settle_commit_refresh (SettleStore *store, GError **error)
{
  return commit (store, CHANGE_NONE, NULL, NULL, error);
}
