/* reset.c: settle_manager_reset (settle-reset.h). */
#include <errno.h>

#include <glib/gstdio.h>

#include "settle-error.h"
#include "settle-exports.h"
#include "settle-install.h"
#include "settle-installs.h"
#include "settle-paths.h"
#include "settle-reset.h"

#define LOCK_TIMEOUT_MS 15000

static guint
count_kept_exports (void)
{
  g_auto (GStrv) dirs = settle_export_list_kept (SETTLE_EXPORT_DIR);
  g_auto (GStrv) pems = settle_export_list_kept (SETTLE_EXPORT_PEM);

  return g_strv_length (dirs) + g_strv_length (pems);
}

static gboolean
remove_records (SettleStore *store, GPtrArray *records, GError **error)
{
  for (guint i = 0; i < records->len; i++)
    {
      const SettleRecord *record = records->pdata[i];
      if (!settle_store_remove (store, record->fingerprint, error))
        return FALSE;
    }
  return TRUE;
}

/* A generation directory holds plain files only (docs/snapshot.md). */
static void
remove_flat_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      g_unlink (file);
    }
  g_rmdir (path);
}

/* The `trust` link first, so readers see an empty store at once, then the
 * generations it pointed at (snapshots/ beside the link). */
static gboolean
remove_snapshot (GError **error)
{
  g_autofree char *trust_dir = settle_trust_dir ();
  g_autofree char *data_dir = g_path_get_dirname (trust_dir);
  g_autofree char *snapshots = g_build_filename (data_dir, "snapshots", NULL);
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (g_unlink (trust_dir) != 0 && errno != ENOENT)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot remove %s: %s", trust_dir, g_strerror (errno));
      return FALSE;
    }
  dir = g_dir_open (snapshots, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "gen-") || g_str_has_prefix (name, ".gen-"))
      {
        g_autofree char *generation = g_build_filename (snapshots, name, NULL);
        remove_flat_dir (generation);
      }
  g_rmdir (snapshots);
  if (g_file_test (snapshots, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "%s could not be emptied", snapshots);
      return FALSE;
    }
  return TRUE;
}

/* Records and snapshot go together under the state lock, so that no
 * other settle command writes a snapshot from a half-emptied store. */
static gboolean
remove_trust (SettleStore *store, GPtrArray *records, GError **error)
{
  int lock = settle_state_lock (LOCK_TIMEOUT_MS, error);
  gboolean ok;

  if (lock < 0)
    return FALSE;
  ok = remove_records (store, records, error) && remove_snapshot (error);
  settle_state_unlock (lock);
  return ok;
}

gboolean
settle_manager_reset (SettleManager *manager, gboolean yes, guint *removed, gboolean *complete, GError **error)
{
  g_autoptr (GError) step_error = NULL;
  g_autoptr (GPtrArray) records = settle_manager_list (manager, NULL, error);
  g_auto (GStrv) registrations = settle_installs_list ();
  SettleQuestion question = { .kind = SETTLE_QUESTION_RESET };
  gboolean ok = TRUE;

  *removed = 0;
  *complete = FALSE;
  if (records == NULL)
    return FALSE;
  question.records = records->len;
  question.exports = count_kept_exports ();
  question.registrations = g_strv_length (registrations);
  if (!yes && !settle_manager_ask (manager, &question, NULL, error))
    return FALSE;
  if (!remove_trust (settle_manager_store (manager, NULL), records, &step_error))
    {
      settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s", step_error->message);
      g_clear_error (&step_error);
      ok = FALSE;
    }
  if (!settle_export_delete_all_kept (&step_error))
    {
      settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s", step_error->message);
      g_clear_error (&step_error);
      ok = FALSE;
    }
  if (settle_manager_uninstall_everywhere (manager) > 0)
    ok = FALSE;
  *removed = records->len;
  *complete = ok;
  return TRUE;
}
