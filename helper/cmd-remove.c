/* cmd-remove.c: `settle remove NAME|FINGERPRINT`: stop trusting a
 * binding.  The snapshot is regenerated at once, so the module and the
 * provider stop trusting it in running processes too. */
#include <stdio.h>

#include "commands.h"
#include "commit.h"
#include "consent.h"
#include "ui.h"

int
settle_cmd_remove (int argc, char **argv)
{
  gboolean yes = FALSE;
  GOptionEntry entries[] = {
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, "Do not ask for confirmation", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("NAME|FINGERPRINT - stop trusting a binding");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = NULL;
  g_autoptr (SettleRecord) record = NULL;
  g_autofree char *question = NULL;
  SettleConsent how;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Removes the record, its client key and its place in the trust snapshot.\n"
    "Exit status: 0 removed, 1 not found, refused or failed, 2 usage error.");
  if (!settle_ui_parse (context, "remove", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  if (argc != 2)
    {
      settle_ui_failf ("remove", "give exactly one NAME or FINGERPRINT; run 'settle remove --help'");
      return SETTLE_EXIT_USAGE;
    }
  store = settle_ui_open_store (&error);
  if (store == NULL || (record = settle_store_lookup (store, argv[1], &error)) == NULL)
    goto failed;
  question = g_strdup_printf ("Stop trusting \"%s\" (%.16s...) and delete its keys?", record->label,
                              record->fingerprint);
  if (!settle_consent_obtain (NULL, question, yes, &how, &error))
    goto failed;
  if (!settle_commit_remove (store, record, &error))
    goto failed;
  printf ("Removed \"%s\".\n", record->label);
  return SETTLE_EXIT_OK;

failed:
  settle_ui_fail ("remove", error);
  return SETTLE_EXIT_FAILED;
}
