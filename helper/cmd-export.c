/* cmd-export.c: `settle export`: the wrapped anchors for programs that
 * load neither the PKCS#11 module nor the provider (curl, old tools). */
#include <stdio.h>

#include "commands.h"
#include "settle-manager.h"
#include "ui.h"

typedef struct {
  char *pem;
  char *dir;
  char *forget;
  gboolean keep;
} ExportOptions;

static void
export_options_clear (ExportOptions *options)
{
  g_free (options->pem);
  g_free (options->dir);
  g_free (options->forget);
}

static int
forget (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  gboolean was_kept;

  g_autoptr (SettleManager) manager = settle_ui_manager ("export", NULL, NULL);

  if (!settle_manager_export_forget (manager, absolute, &was_kept, &error))
    {
      settle_ui_fail ("export", error);
      return SETTLE_EXIT_FAILED;
    }
  if (!was_kept)
    {
      settle_ui_failf ("export", "%s is not kept in step; nothing to forget", absolute);
      return SETTLE_EXIT_FAILED;
    }
  printf ("%s is no longer kept in step (its files stay as they are).\n", absolute);
  return SETTLE_EXIT_OK;
}

static int
run_export (const ExportOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *absolute = g_canonicalize_filename (options->dir ? options->dir : options->pem, NULL);
  g_autoptr (SettleManager) manager = settle_ui_manager ("export", NULL, NULL);

  if (!settle_manager_export (manager, options->dir != NULL, absolute, options->keep, &error))
    {
      settle_ui_fail ("export", error);
      return SETTLE_EXIT_FAILED;
    }
  printf ("Exported to %s%s.\n", absolute, options->keep ? "; every change will refresh it" : "");
  return SETTLE_EXIT_OK;
}

int
settle_cmd_export (int argc, char **argv)
{
  ExportOptions options = { 0 };
  GOptionEntry entries[] = {
    { "pem", 0, 0, G_OPTION_ARG_FILENAME, &options.pem, "Write every wrapped anchor to one PEM file (curl --cacert)", "FILE" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &options.dir, "Write an OpenSSL hash directory (curl --capath, SSL_CERT_DIR)", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &options.keep, "Keep this copy in step: every later change refreshes it", NULL },
    { "forget", 0, 0, G_OPTION_ARG_FILENAME, &options.forget, "Stop keeping PATH in step", "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- export the wrapped anchors");
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Examples:\n  settle export --dir ~/.local/share/settle/capath --keep\n"
    "  curl --capath ~/.local/share/settle/capath https://printer.local/\n\n"
    "Exit status: 0 exported, 1 failed, 2 usage error.");
  if (!settle_ui_parse_options_only (context, "export", &argc, &argv))
    status = SETTLE_EXIT_USAGE;
  else if (options.forget != NULL && (options.pem || options.dir || options.keep))
    {
      settle_ui_failf ("export", "--forget goes alone; run 'settle export --help'");
      status = SETTLE_EXIT_USAGE;
    }
  else if (options.forget != NULL)
    status = forget (options.forget);
  else if ((options.pem == NULL) == (options.dir == NULL))
    {
      settle_ui_failf ("export", "give exactly one of --pem FILE or --dir DIR; run 'settle export --help'");
      status = SETTLE_EXIT_USAGE;
    }
  else
    status = run_export (&options);
  export_options_clear (&options);
  return status;
}
