/* cmd-reset.c: `settle reset [--yes]`: after one confirmation, removes
 * every record and client key, the trust snapshot, every kept export and
 * every module registration; afterwards nothing of ours trusts anything
 * (REQ-ARCH-03; the manager does it: lib/manage/reset.c).  The exit
 * status says whether everything went. */
#include <stdio.h>

#include "commands.h"
#include "settle-reset.h"
#include "ui.h"

#define CMD "reset"

static gboolean
run_reset (gboolean yes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager (CMD, NULL, NULL);
  guint removed = 0;
  gboolean complete = FALSE;

  if (!settle_manager_reset (manager, yes, &removed, &complete, &error))
    {
      settle_ui_fail (CMD, error);
      return FALSE;
    }
  if (complete)
    printf ("Reset: removed %u binding(s), the trust snapshot, kept exports and module registrations.\n",
            removed);
  else
    fprintf (stderr, "settle %s: some things could not be removed (see above); fix them and run reset again.\n",
             CMD);
  return complete;
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
