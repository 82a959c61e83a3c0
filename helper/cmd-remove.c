/* cmd-remove.c: `settle remove NAME|FINGERPRINT`: stop trusting a
 * binding.  The snapshot is regenerated at once, so the module and the
 * provider stop trusting it in running processes too. */
#include <stdio.h>

#include "commands.h"
#include "settle-commit.h"
#include "consent.h"
#include "settle-fingerprint.h"
#include "ui.h"

/* A record this settle cannot read is not in the snapshot, so deleting it
 * changes nothing that is trusted; the exact fingerprint is required. */
static int
remove_unreadable (SettleStore *store, const SettleUnreadableRecord *entry, gboolean yes)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *question = g_strdup_printf ("Delete the unreadable record %s (%s) and its keys?",
                                               entry->fingerprint, entry->reason);
  SettleConsent how;

  if (!settle_consent_obtain (NULL, question, yes, &how, &error)
      || !settle_commit_remove_unreadable (store, entry->fingerprint, &error))
    {
      settle_ui_fail ("remove", error);
      return SETTLE_EXIT_FAILED;
    }
  printf ("Removed the unreadable record %s.\n", entry->fingerprint);
  return SETTLE_EXIT_OK;
}

/* The set-aside record with exactly this fingerprint (borrowed from
 * `unreadable`), or NULL. */
static const SettleUnreadableRecord *
find_unreadable (GPtrArray *unreadable, const char *fingerprint)
{
  for (guint i = 0; unreadable != NULL && i < unreadable->len; i++)
    {
      const SettleUnreadableRecord *entry = unreadable->pdata[i];
      if (g_strcmp0 (entry->fingerprint, fingerprint) == 0)
        return entry;
    }
  return NULL;
}

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
  g_autoptr (SettleStore) store = NULL;
  g_autoptr (SettleRecord) record = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) unreadable = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *question = NULL;
  const SettleUnreadableRecord *set_aside;
  SettleConsent how;

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
  store = settle_ui_open_store (&error);
  if (store == NULL)
    goto failed;
  if (by_fingerprint != NULL)
    {
      if ((fingerprint = settle_fingerprint_parse (by_fingerprint, &error)) == NULL
          || (records = settle_store_list_all (store, &unreadable, &error)) == NULL)
        goto failed;
      if ((set_aside = find_unreadable (unreadable, fingerprint)) != NULL)
        return remove_unreadable (store, set_aside, yes);
    }
  if ((record = settle_store_lookup (store, fingerprint != NULL ? fingerprint : argv[1], &error)) == NULL)
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
