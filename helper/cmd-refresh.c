/* cmd-refresh.c: `settle refresh [NAME] [--address HOST:PORT] | --all`:
 * look at what each paired device presents now and follow a CA rotation
 * that the trusted CA cross-signed, without a prompt; refuse a device with
 * new keys (rotation.c judges, tls-probe.c fetches, commit.c stores). */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "commands.h"
#include "commit.h"
#include "rotation.h"
#include "settle-error.h"
#include "tls-probe.h"
#include "ui.h"

#define CMD "refresh"
#define TIMEOUT_MAX_S 600

typedef struct {
  char *address;   /* HOST:PORT, owned */
  gboolean all;
  int timeout_s;
} RefreshOptions;

/* Follows the rotation in the store: the client key moves with it. */
static gboolean
store_rotation (SettleStore *store, const SettleRecord *record, const SettleRecord *rotated, GError **error)
{
  g_autoptr (GError) key_error = NULL;
  GBytes *client_key = settle_store_get_client_key (store, record->fingerprint, &key_error);
  gboolean ok;

  if (client_key == NULL && !g_error_matches (key_error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&key_error));
      return FALSE;
    }
  ok = settle_commit_replace (store, record, rotated, client_key, error);
  settle_secure_bytes_free (client_key);
  return ok;
}

static gboolean
refresh_one (SettleStore *store, const SettleRecord *record, const RefreshOptions *options, GError **error)
{
  g_autofree char *host = NULL;
  g_autofree char *where = NULL;
  g_autoptr (SettleRecord) rotated = NULL;
  SettlePresented presented = { 0 };
  guint16 port = 0;
  SettleRotation outcome;

  if (record->kind != SETTLE_KIND_DEVICE_CA)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "\"%s\" is a %s; only paired device CAs can be refreshed", record->label,
                   settle_kind_to_string (record->kind));
      return FALSE;
    }
  if (!settle_device_address (record, options->address, &host, &port, error))
    return FALSE;
  where = settle_device_where (host, port);
  if (!settle_tls_probe (host, port, record->names[0], (guint) options->timeout_s * 1000u, &presented, error))
    return FALSE;
  outcome = settle_rotation_judge (record, presented.leaf, presented.chain, where, &rotated, error);
  settle_presented_clear (&presented);
  if (rotated != NULL)
    {
      g_free (rotated->address);
      rotated->address = g_strdup (where); /* the one that answered */
    }
  if (outcome == SETTLE_ROTATION_UNCHANGED)
    printf ("\"%s\" is up to date.\n", record->label);
  else if (outcome == SETTLE_ROTATION_FOLLOWED && store_rotation (store, record, rotated, error))
    printf ("\"%s\" rotated its CA; the old CA cross-signed the new one, which is now trusted for the same names "
            "(fingerprint %.16s...).\n", record->label, rotated->fingerprint);
  else
    return FALSE;
  return TRUE;
}

/* Every device CA; a failure with one does not stop the others. */
static int
refresh_all (SettleStore *store, const RefreshOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = settle_store_list (store, &error);
  int failures = 0;

  if (records == NULL)
    {
      settle_ui_fail (CMD, error);
      return SETTLE_EXIT_FAILED;
    }
  for (guint i = 0; i < records->len; i++)
    {
      const SettleRecord *record = records->pdata[i];
      g_autoptr (GError) one_error = NULL;
      if (record->kind != SETTLE_KIND_DEVICE_CA)
        continue;
      if (!refresh_one (store, record, options, &one_error))
        {
          settle_ui_failf (CMD, "%s: %s", record->label, one_error->message);
          failures++;
        }
    }
  return failures > 0 ? SETTLE_EXIT_FAILED : SETTLE_EXIT_OK;
}

static int
run_refresh (const char *query, const RefreshOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = settle_ui_open_store (&error);
  g_autoptr (SettleRecord) record = NULL;

  if (store == NULL)
    goto failed;
  if (options->all)
    return refresh_all (store, options);
  record = settle_store_lookup (store, query, &error);
  if (record == NULL || !refresh_one (store, record, options, &error))
    goto failed;
  return SETTLE_EXIT_OK;

failed:
  settle_ui_fail (CMD, error);
  fprintf (stderr, "settle %s: nothing was changed.\n", CMD);
  return SETTLE_EXIT_FAILED;
}

static const char *
usage_problem (int argc, const RefreshOptions *options)
{
  if (options->all && (argc > 1 || options->address != NULL))
    return "--all goes without NAME and --address";
  if (!options->all && argc != 2)
    return "give one NAME (or FINGERPRINT), or --all";
  if (options->timeout_s < 1 || options->timeout_s > TIMEOUT_MAX_S)
    return "--timeout takes 1 to 600 seconds";
  return NULL;
}

int
settle_cmd_refresh (int argc, char **argv)
{
  RefreshOptions options = { .timeout_s = 10 };
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &options.address, "Where the device listens (default: where it was paired, else its name on port 443)", "HOST:PORT" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &options.all, "Every paired device (for the daily timer)", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &options.timeout_s, "Seconds to wait for each network step (default 10)", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[NAME|FINGERPRINT] - follow a device's CA rotation");
  const char *problem;
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Connects to the device, and when it presents a new CA cross-signed by the\n"
    "one you trust (settle-device rotate), trusts the new CA for the same names\n"
    "without asking. A device with new keys that the old CA did not sign (a\n"
    "factory reset) is refused: pair with it again. See docs/lifecycle.md.\n"
    "Exit status: 0 up to date or followed, 1 refused or failed, 2 usage error.");
  if (!settle_ui_parse (context, CMD, &argc, &argv))
    status = SETTLE_EXIT_USAGE;
  else if ((problem = usage_problem (argc, &options)) != NULL)
    {
      settle_ui_failf (CMD, "%s; run 'settle refresh --help'", problem);
      status = SETTLE_EXIT_USAGE;
    }
  else
    status = run_refresh (options.all ? NULL : argv[1], &options);
  g_free (options.address);
  return status;
}
