/* cmd-install.c: `settle install` and `settle uninstall`: register the
 * PKCS#11 module with NSS databases (an explicit one, Chromium's, every
 * Firefox profile), or remove the registration again, through the
 * manager (lib/manage/install.c).  Both are idempotent: running them
 * twice changes nothing the second time. */

#include "commands.h"
#include "settle-config.h"
#include "settle-install.h"
#include "settle-nssdb.h"
#include "ui.h"

typedef struct {
  char **nssdbs;      /* --nssdb, owned */
  gboolean chromium;
  gboolean firefox;
  gboolean openssl;   /* --openssl: environment.d for OpenSSL default paths */
  char *module;       /* --module, owned */
} SettleInstallOptions;

static void
settle_install_options_clear (SettleInstallOptions *o)
{
  g_strfreev (o->nssdbs);
  g_free (o->module);
}

static gboolean
settle_install_parse (const char *cmd, gboolean installing, int *argc, char ***argv, SettleInstallOptions *o)
{
  GOptionEntry entries[] = {
    { "nssdb", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->nssdbs,
      "An NSS database directory (DIR or sql:DIR; repeatable)", "DIR" },
    { "chromium", 0, 0, G_OPTION_ARG_NONE, &o->chromium,
      "Chromium's and Chrome's databases ($XDG_DATA_HOME/pki/nssdb, ~/.pki/nssdb, snap, flatpak)", NULL },
    { "firefox", 0, 0, G_OPTION_ARG_NONE, &o->firefox,
      "Every Firefox profile listed in profiles.ini", NULL },
    { "openssl", 0, 0, G_OPTION_ARG_NONE, &o->openssl,
      "OpenSSL's default paths in this user's systemd sessions (~/.config/environment.d/60-settle.conf)", NULL },
    { "module", 0, 0, G_OPTION_ARG_FILENAME, &o->module,
      "The module to register (default: $SETTLE_PKCS11_MODULE, else " SETTLE_PKCS11_MODULE_PATH ")", "PATH" },
    { NULL },
  };
  if (!installing)
    entries[4].long_name = NULL; /* uninstall removes by name, whatever the path */
  g_autoptr (GOptionContext) context = g_option_context_new (
    installing ? "- register the SETTLE trust module with NSS databases"
               : "- remove the SETTLE trust module from NSS databases");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, installing
    ? "Registers the module \"" SETTLE_NSS_MODULE_NAME "\" with modutil. Browsers load it at their\n"
      "next start; from then on, anchors added or removed with settle take effect\n"
      "in the running browser. Firefox must be closed (its profile is locked while\n"
      "it runs). Running it again changes nothing.\n"
      "Exit status: 0 done, 1 a database could not be changed, 2 usage error."
    : "Removes the module registration; databases without it are left as they are.\n"
      "Exit status: 0 done, 1 a database could not be changed, 2 usage error.");
  if (!settle_ui_parse (context, cmd, argc, argv))
    return FALSE;
  if (*argc != 1)
    {
      settle_ui_failf (cmd, "unexpected argument '%s'; run 'settle %s --help'", (*argv)[1], cmd);
      return FALSE;
    }
  if (o->nssdbs == NULL && !o->chromium && !o->firefox && !o->openssl)
    {
      settle_ui_failf (cmd, "say where: --nssdb DIR, --chromium, --firefox or --openssl; run 'settle %s --help'", cmd);
      return FALSE;
    }
  return TRUE;
}

static int
settle_install_run (const char *cmd, gboolean installing, int argc, char **argv)
{
  SettleInstallOptions o = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager (cmd, NULL, NULL);
  guint failures = 0;
  int status;

  if (!settle_install_parse (cmd, installing, &argc, &argv, &o))
    status = SETTLE_EXIT_USAGE;
  else
    {
      SettleInstallPlaces places = {
        .nssdbs = o.nssdbs,
        .chromium = o.chromium,
        .firefox = o.firefox,
        .openssl = o.openssl,
        .module = o.module,
      };
      if (!(installing ? settle_manager_install (manager, &places, &failures, &error)
                       : settle_manager_uninstall (manager, &places, &failures, &error)))
        {
          settle_ui_fail (cmd, error);
          status = SETTLE_EXIT_FAILED;
        }
      else
        status = failures ? SETTLE_EXIT_FAILED : SETTLE_EXIT_OK;
    }
  settle_install_options_clear (&o);
  return status;
}

int
settle_cmd_install (int argc, char **argv)
{
  return settle_install_run ("install", TRUE, argc, argv);
}

int
settle_cmd_uninstall (int argc, char **argv)
{
  return settle_install_run ("uninstall", FALSE, argc, argv);
}
