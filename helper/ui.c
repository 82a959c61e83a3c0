/* ui.c: terminal conventions shared by the subcommands. */
#include <stdarg.h>
#include <unistd.h>

#include "settle-commit.h"
#include "ui.h"

/* Options every command takes, added and parsed in one place. */
static gboolean settle_ui_verbose;

static const GOptionEntry common_entries[] = {
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &settle_ui_verbose, "Also say which store is used", NULL },
  { NULL },
};

gboolean
settle_ui_parse (GOptionContext *context, const char *cmd, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, common_entries, NULL);
  if (g_option_context_parse (context, argc, argv, &error))
    return TRUE;
  fprintf (stderr, "settle %s: %s\nRun 'settle %s --help' for usage.\n", cmd, error->message, cmd);
  return FALSE;
}

gboolean
settle_ui_parse_options_only (GOptionContext *context, const char *cmd, int *argc, char ***argv)
{
  if (!settle_ui_parse (context, cmd, argc, argv))
    return FALSE;
  if (*argc > 1)
    {
      fprintf (stderr, "settle %s: unexpected argument '%s'; run 'settle %s --help'\n", cmd, (*argv)[1], cmd);
      return FALSE;
    }
  return TRUE;
}

void
settle_ui_fail (const char *cmd, const GError *error)
{
  fprintf (stderr, "settle %s: %s\n", cmd, error->message);
}

void
settle_ui_failf (const char *cmd, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "settle %s: %s\n", cmd, message);
}

SettleStore *
settle_ui_open_store (GError **error)
{
  SettleStore *store = settle_store_open_default (error);
  g_autoptr (GError) recover_error = NULL;

  /* Said only when asked: scripts reading --json or a table on stdout and
   * people reading stderr need no notice on every command. */
  if (store != NULL && settle_ui_verbose)
    fprintf (stderr, "settle: using the %s\n", settle_store_describe (store));
  /* A failure here is not this command's: it is said, and the command
   * goes on with the store, which is right even when the snapshot lags. */
  if (store != NULL && !settle_commit_recover (store, &recover_error))
    fprintf (stderr, "settle: warning: an interrupted change could not be finished: %s\n",
             recover_error->message);
  return store;
}

gboolean
settle_ui_use_colour (FILE *stream)
{
  const char *term = g_getenv ("TERM");

  return isatty (fileno (stream)) && g_getenv ("NO_COLOR") == NULL
         && term != NULL && g_strcmp0 (term, "dumb") != 0;
}

char *
settle_ui_format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (unix_seconds);

  return time ? g_date_time_format (time, "%Y-%m-%d %H:%M UTC") : g_strdup ("?");
}

static char *
describe_span (gint64 seconds)
{
  static const struct {
    gint64 size;
    const char *one, *many;
  } units[] = {
    { 365 * 86400, "year", "years" }, { 30 * 86400, "month", "months" },
    { 86400, "day", "days" },         { 3600, "hour", "hours" },
    { 60, "minute", "minutes" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (seconds >= units[i].size)
      {
        gint64 n = seconds / units[i].size;
        return g_strdup_printf ("%" G_GINT64_FORMAT " %s", n, n == 1 ? units[i].one : units[i].many);
      }
  return g_strdup ("less than a minute");
}

char *
settle_ui_relative_time (gint64 when, gint64 now)
{
  g_autofree char *span = describe_span (when >= now ? when - now : now - when);

  return when >= now ? g_strdup_printf ("in %s", span) : g_strdup_printf ("expired %s ago", span);
}

char *
settle_ui_join (char **items)
{
  if (items == NULL || items[0] == NULL)
    return g_strdup ("-");
  return g_strjoinv (", ", items);
}
