/* main.c: `settle` entry point: picks the subcommand and hands over. */
#include <curl/curl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "commands.h"
#include "settle-config.h"

typedef struct {
  const char *name;
  SettleCommandFn run;
  const char *summary;
} SettleCommand;

static const SettleCommand commands[] = {
  { "pair", settle_cmd_pair, "pair with a device: scan its QR code, prove the code, consent" },
  { "trust", settle_cmd_trust, "trust a device or referee CA whose fingerprint you got out of band" },
  { "list", settle_cmd_list, "list everything this store trusts" },
  { "show", settle_cmd_show, "show one trusted binding in full" },
  { "remove", settle_cmd_remove, "stop trusting a binding and delete its keys" },
  { "export", settle_cmd_export, "write the wrapped anchors as a PEM bundle or an OpenSSL hash directory" },
  { "install", settle_cmd_install, "register the PKCS#11 module with NSS databases and browsers" },
  { "uninstall", settle_cmd_uninstall, "undo `settle install`" },
  { "audit", settle_cmd_audit, "list every binding and where it is installed" },
  { "reset", settle_cmd_reset, "remove every record, key, snapshot and registration" },
  { "refresh", settle_cmd_refresh, "follow a device's CA rotation; refuse a factory-reset device" },
  { "renew", settle_cmd_renew, "renew this computer's client certificate for a device" },
  { "discover", settle_cmd_discover, "list the settle devices on the local network (DNS-SD)" },
  { "device", settle_cmd_device, "revoke a client of a paired device, change its role or its allowed web origins (admins)" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: settle COMMAND [OPTION...]\n\n"
                "Trust devices on the local network (.local, home.arpa, .alt) the right way.\n\n"
                "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n`settle COMMAND --help` describes each command.\n"
                "Exit status: 0 done, 1 refused or failed, 2 usage error.\n");
}

static const SettleCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (name, commands[i].name) == 0)
      return &commands[i];
  return NULL;
}

/* Runs one command; its --help then says "Usage: settle CMD [OPTION...]". */
static int
run_command (const SettleCommand *command, int argc, char **argv)
{
  g_autofree char *prgname = g_strconcat ("settle ", command->name, NULL);
  g_set_prgname (prgname);
  return command->run (argc, argv);
}

/* `settle help CMD` is `settle CMD --help`. */
static int
run_help (int argc, char **argv)
{
  if (argc < 3)
    {
      print_usage (stdout);
      return SETTLE_EXIT_OK;
    }
  const SettleCommand *command = find_command (argv[2]);
  if (command == NULL || argc > 3)
    {
      fprintf (stderr, "settle help: unknown command '%s'. Run 'settle --help' for the list.\n", argv[2]);
      return SETTLE_EXIT_USAGE;
    }
  char *help_argv[] = { argv[2], (char *) "--help", NULL };
  return run_command (command, 2, help_argv);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_set_prgname ("settle");
  /* Before any thread exists, as libcurl asks (renewal.c). */
  curl_global_init (CURL_GLOBAL_DEFAULT);

  if (argc < 2)
    {
      print_usage (stderr);
      return SETTLE_EXIT_USAGE;
    }
  if (strcmp (argv[1], "help") == 0)
    return run_help (argc, argv);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (stdout);
      return SETTLE_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("settle %s\n", SETTLE_VERSION);
      return SETTLE_EXIT_OK;
    }
  const SettleCommand *command = find_command (argv[1]);
  if (command != NULL)
    return run_command (command, argc - 1, argv + 1);

  fprintf (stderr, "settle: unknown command '%s'. Run 'settle --help' for the list.\n", argv[1]);
  return SETTLE_EXIT_USAGE;
}
