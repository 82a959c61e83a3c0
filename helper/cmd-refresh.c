/* cmd-refresh.c: `settle refresh [NAME] [--address HOST:PORT] | --all`:
 * look at what each paired device presents now and follow a CA rotation
 * that the trusted CA cross-signed, without a prompt; refuse a device with
 * new keys (rotation.c judges, tls-probe.c fetches, commit.c stores). */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "commands.h"
#include "settle-commit.h"
#include "per-device.h"
#include "settle-rotation.h"
#include "settle-error.h"
#include "settle-tls-probe.h"
#include "ui.h"

#define CMD "refresh"

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
refresh_one (SettleStore *store, const SettleRecord *record, const SettleDeviceTarget *options, GError **error)
{
  g_autofree char *where = NULL;
  g_autoptr (SettleRecord) rotated = NULL;
  SettlePresented presented = { 0 };
  SettleRotation outcome;

  if (record->kind != SETTLE_KIND_DEVICE_CA)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "\"%s\" is a %s; only paired device CAs can be refreshed", record->label,
                   settle_kind_to_string (record->kind));
      return FALSE;
    }
  g_autoptr (SettleEndpoint) device = settle_device_endpoint (record, options->address, error);
  if (device == NULL)
    return FALSE;
  where = settle_endpoint_to_string (device);
  if (!settle_tls_probe (device->host, device->port, record->names[0], (guint) options->timeout_s * 1000u, &presented, error))
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

static gboolean
is_device_ca (const SettleRecord *record)
{
  return record->kind == SETTLE_KIND_DEVICE_CA;
}

static gboolean
refresh_step (SettleStore *store, SettleRecord *record, gconstpointer options, GError **error)
{
  return refresh_one (store, record, options, error);
}

int
settle_cmd_refresh (int argc, char **argv)
{
  SettleDeviceTarget options = { .timeout_s = 10 };
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
  else if ((problem = settle_device_target_problem (argc, &options)) != NULL)
    {
      settle_ui_failf (CMD, "%s; run 'settle refresh --help'", problem);
      status = SETTLE_EXIT_USAGE;
    }
  else
    status = settle_device_run (CMD, options.all ? NULL : argv[1], &options, is_device_ca,
                                refresh_step, &options);
  g_free (options.address);
  return status;
}
