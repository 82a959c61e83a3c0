/* cmd-reset.c: `settle reset [--yes]`: after one confirmation, removes
 * every record and client key, the trust snapshot, every kept export and
 * every module registration; afterwards nothing of ours trusts anything
 * (REQ-ARCH-03).  Each step runs even when an earlier one failed, so that
 * as much as possible is gone, and the exit status says whether all was. */
#include <errno.h>
#include <stdio.h>

#include <glib/gstdio.h>

#include "commands.h"
#include "consent.h"
#include "settle-exports.h"
#include "install.h"
#include "settle-installs.h"
#include "settle-error.h"
#include "settle-paths.h"
#include "ui.h"

#define CMD "reset"
#define LOCK_TIMEOUT_MS 15000

static char *
reset_prompt (guint records, guint exports, guint registrations)
{
  return g_strdup_printf (
    "\n  This removes everything settle trusts on this computer:\n"
    "    %u trusted device(s) and referee(s) with their client keys,\n"
    "    the trust snapshot that browsers and OpenSSL programs read,\n"
    "    %u kept export(s), and the module from %u remembered NSS database(s)\n"
    "    and from Chromium's and every Firefox profile's.\n"
    "  Afterwards no local device is trusted until you pair with it again.\n\n",
    records, exports, registrations);
}

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

static gboolean
run_reset (gboolean yes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = settle_ui_open_store (&error);
  g_autoptr (GPtrArray) records = NULL;
  g_auto (GStrv) registrations = settle_installs_list ();
  g_autofree char *prompt = NULL;
  SettleConsent how;
  gboolean ok = TRUE;

  if (store == NULL || (records = settle_store_list (store, &error)) == NULL)
    goto failed;
  prompt = reset_prompt (records->len, count_kept_exports (), g_strv_length (registrations));
  if (!settle_consent_obtain (prompt, "Remove everything settle trusts? Type yes to confirm:", yes, &how, &error))
    goto failed;
  if (!remove_trust (store, records, &error))
    {
      settle_ui_fail (CMD, error);
      g_clear_error (&error);
      ok = FALSE;
    }
  if (!settle_export_delete_all_kept (&error))
    {
      settle_ui_fail (CMD, error);
      g_clear_error (&error);
      ok = FALSE;
    }
  if (settle_uninstall_everywhere (CMD) > 0)
    ok = FALSE;
  if (ok)
    printf ("Reset: removed %u binding(s), the trust snapshot, kept exports and module registrations.\n",
            records->len);
  else
    fprintf (stderr, "settle %s: some things could not be removed (see above); fix them and run reset again.\n",
             CMD);
  return ok;

failed:
  settle_ui_fail (CMD, error);
  return FALSE;
}

int
settle_cmd_reset (int argc, char **argv)
{
  gboolean yes = FALSE;
  GOptionEntry entries[] = {
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, "Do not ask for confirmation (for scripts)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- remove every record, key, snapshot and registration");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Removes every trusted binding and client key from the store, the trust\n"
    "snapshot, every export kept with `settle export --keep`, and the module\n"
    "registration from every NSS database `settle install` used, Chromium's\n"
    "and every Firefox profile's (close Firefox first). Asks once on the\n"
    "terminal; only a typed yes counts.\n"
    "Exit status: 0 everything removed, 1 refused or something remained, 2 usage error.");
  if (!settle_ui_parse_options_only (context, CMD, &argc, &argv))
    return SETTLE_EXIT_USAGE;
  return run_reset (yes) ? SETTLE_EXIT_OK : SETTLE_EXIT_FAILED;
}
