/* cmd-renew.c: `settle renew [NAME] [--address HOST:PORT] | --all`:
 * a new client certificate, for a fresh key, from each paired device
 * whose current one expires within SETTLE_RENEW_BEFORE_DAYS (or at once
 * with --force), over mutual TLS with the current one; no prompt, since
 * nothing about trust changes (the manager does it:
 * lib/manage/per-device.c). */
#include <stdio.h>

#include "commands.h"
#include "settle-per-device.h"
#include "ui.h"

#define CMD "renew"

static void
say_done (const SettleDeviceResult *result, gpointer user_data)
{
  g_autofree char *until = settle_ui_format_time (result->valid_until);

  (void) user_data;
  if (result->outcome == SETTLE_DEVICE_NOT_DUE)
    printf ("\"%s\": the client certificate is valid until %s; it is renewed in its last %d days "
            "(--force renews now).\n", result->record->label, until, result->renew_before_days);
  else if (result->outcome == SETTLE_DEVICE_RENEWED)
    printf ("\"%s\": renewed the client certificate for a fresh key (role %s, valid until %s); the device "
            "no longer accepts the old one.\n", result->record->label, result->role != NULL ? result->role : "-",
            until);
}

int
settle_cmd_renew (int argc, char **argv)
{
  SettleDeviceTarget options = { .timeout_s = 10 };
  char *address = NULL;
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Where the device listens (default: where it was paired, else its name on port 443)", "HOST:PORT" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &options.all, "Every paired device with a client certificate (for the daily timer)", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &options.force, "Renew now, not only in the certificate's last 30 days", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &options.timeout_s, "Seconds to wait for each network step (default 10)", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[NAME|FINGERPRINT] - renew this computer's client certificate");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Connects to the device with the current client certificate (mutual TLS),\n"
    "checks the device against the CA you trust, and asks for a certificate for\n"
    "a fresh key with the same role. The new certificate and key replace the old\n"
    "ones without a prompt; the device stops accepting the old certificate.\n"
    "Certificates are renewed in their last 30 days unless --force is given.\n"
    "See docs/lifecycle.md.\n"
    "Exit status: 0 renewed or not yet due, 1 refused or failed, 2 usage error.");
  return settle_ui_per_device_command (CMD, context, argc, argv, &options, &address, settle_manager_renew, say_done);
}
