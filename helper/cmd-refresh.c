/* cmd-refresh.c: `settle refresh [NAME] [--address HOST:PORT] | --all`:
 * look at what each paired device presents now and follow a CA rotation
 * that the trusted CA cross-signed, without a prompt; refuse a device with
 * new keys (the manager does it: lib/manage/per-device.c). */
#include <stdio.h>

#include "commands.h"
#include "settle-per-device.h"
#include "ui.h"

#define CMD "refresh"

static void
say_done (const SettleDeviceResult *result, gpointer user_data)
{
  (void) user_data;
  switch (result->outcome)
    {
    case SETTLE_DEVICE_UP_TO_DATE:
      printf ("\"%s\" is up to date.\n", result->record->label);
      break;
    case SETTLE_DEVICE_ROTATED:
      printf ("\"%s\" rotated its CA; the old CA cross-signed the new one, which is now trusted for the same names "
              "(fingerprint %.16s...).\n", result->record->label, result->new_fingerprint);
      break;
    default:
      break;
    }
}

int
settle_cmd_refresh (int argc, char **argv)
{
  SettleDeviceTarget options = { .timeout_s = 10 };
  char *address = NULL;
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Where the device listens (default: where it was paired, else its name on port 443)", "HOST:PORT" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &options.all, "Every paired device (for the daily timer)", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &options.timeout_s, "Seconds to wait for each network step (default 10)", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[NAME|FINGERPRINT] - follow a device's CA rotation");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Connects to the device, and when it presents a new CA cross-signed by the\n"
    "one you trust (settle-device rotate), trusts the new CA for the same names\n"
    "without asking. A device with new keys that the old CA did not sign (a\n"
    "factory reset) is refused: pair with it again. See docs/lifecycle.md.\n"
    "Exit status: 0 up to date or followed, 1 refused or failed, 2 usage error.");
  return settle_ui_per_device_command (CMD, context, argc, argv, &options, &address, settle_manager_refresh, say_done);
}
