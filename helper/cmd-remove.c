/* cmd-remove.c: `settle remove NAME|FINGERPRINT`: stop trusting a
 * binding.  The snapshot is regenerated at once, so the module and the
 * provider stop trusting it in running processes too. */
#include <stdio.h>

#include "commands.h"
#include "settle-fingerprint.h"
#include "ui.h"

int
settle_cmd_remove (int argc, char **argv)
{
  gboolean yes = FALSE;
  g_autofree char *by_fingerprint = NULL;
  GOptionEntry entries[] = {
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &by_fingerprint,
      "Remove the record with exactly this SHA-256 fingerprint, also one that cannot be read", "SHA256" },
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, "Do not ask for confirmation", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("NAME|FINGERPRINT - stop trusting a binding");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager ("remove", NULL, NULL);
  g_autoptr (SettleRecord) record = NULL;
  gboolean was_unreadable = FALSE;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Removes the record, its client key and its place in the trust snapshot.\n"
    "A record settle cannot read (settle audit reports it) is removed with\n"
    "--fingerprint and its full fingerprint.\n"
    "Exit status: 0 removed, 1 not found, refused or failed, 2 usage error.");
  if (!settle_ui_parse (context, "remove", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  if ((by_fingerprint == NULL) != (argc == 2) || argc > 2)
    {
      settle_ui_failf ("remove", "give exactly one NAME or FINGERPRINT, or --fingerprint SHA256; "
                                 "run 'settle remove --help'");
      return SETTLE_EXIT_USAGE;
    }
  if (!settle_manager_remove (manager, by_fingerprint != NULL ? by_fingerprint : argv[1], by_fingerprint != NULL,
                              yes, &record, &was_unreadable, &error))
    goto failed;
  if (was_unreadable)
    {
      /* Said by the exact fingerprint the user gave, in settle's form. */
      g_autofree char *fingerprint = settle_fingerprint_parse (by_fingerprint, NULL);
      printf ("Removed the unreadable record %s.\n", fingerprint);
    }
  else
    printf ("Removed \"%s\".\n", record->label);
  return SETTLE_EXIT_OK;

failed:
  settle_ui_fail ("remove", error);
  return SETTLE_EXIT_FAILED;
}
