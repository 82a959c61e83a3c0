/* per-device.c: the NAME | --all driver of `settle refresh` and
 * `settle renew` (per-device.h). */
#include "per-device.h"

#include <stdio.h>

#include "commands.h"
#include "ui.h"

const char *
settle_device_target_problem (int argc, const SettleDeviceTarget *target)
{
  if (target->all && (argc > 1 || target->address != NULL))
    return "--all goes without NAME and --address";
  if (!target->all && argc != 2)
    return "give one NAME (or FINGERPRINT), or --all";
  if (target->timeout_s < 1 || target->timeout_s > SETTLE_DEVICE_TIMEOUT_MAX_S)
    return "--timeout takes 1 to 600 seconds";
  return NULL;
}

static int
run_all (const char *cmd, SettleStore *store, SettleDeviceWanted wanted, SettleDeviceStep step,
         gconstpointer options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = settle_store_list (store, &error);
  int failures = 0;

  if (records == NULL)
    {
      settle_ui_fail (cmd, error);
      return SETTLE_EXIT_FAILED;
    }
  for (guint i = 0; i < records->len; i++)
    {
      SettleRecord *record = records->pdata[i];
      g_autoptr (GError) one_error = NULL;
      if (!wanted (record))
        continue;
      if (!step (store, record, options, &one_error))
        {
          settle_ui_failf (cmd, "%s: %s", record->label, one_error->message);
          failures++;
        }
    }
  return failures > 0 ? SETTLE_EXIT_FAILED : SETTLE_EXIT_OK;
}

int
settle_device_run (const char *cmd, const char *query, const SettleDeviceTarget *target,
                   SettleDeviceWanted wanted, SettleDeviceStep step, gconstpointer options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = settle_ui_open_store (&error);
  g_autoptr (SettleRecord) record = NULL;

  if (store == NULL)
    goto failed;
  if (target->all)
    return run_all (cmd, store, wanted, step, options);
  record = settle_store_lookup (store, query, &error);
  if (record == NULL || !step (store, record, options, &error))
    goto failed;
  return SETTLE_EXIT_OK;

failed:
  settle_ui_fail (cmd, error);
  fprintf (stderr, "settle %s: nothing was changed.\n", cmd);
  return SETTLE_EXIT_FAILED;
}
