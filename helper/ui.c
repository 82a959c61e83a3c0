/* ui.c: terminal conventions shared by the subcommands. */
#include <stdarg.h>
#include <unistd.h>

#include "commands.h"
#include "consent.h"
#include "settle-audit.h"
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

/* One command runs per process: its name and its own callbacks. */
static struct {
  const char *cmd;
  SettleManagerEvents extra;
  gpointer extra_data;
} ui_command;

static void
on_note (SettleNote kind, const char *text, gpointer user_data)
{
  (void) user_data;
  switch (kind)
    {
    case SETTLE_NOTE_STORE:
      /* Said only when asked: scripts reading --json or a table on stdout
       * and people reading stderr need no notice on every command. */
      if (settle_ui_verbose)
        fprintf (stderr, "settle: using the %s\n", text);
      break;
    case SETTLE_NOTE_RESULT:
      printf ("%s\n", text);
      break;
    case SETTLE_NOTE_NOTICE:
      fprintf (stderr, "settle %s: %s\n", ui_command.cmd, text);
      break;
    case SETTLE_NOTE_WARNING:
      fprintf (stderr, "settle: warning: %s\n", text);
      break;
    case SETTLE_NOTE_PROGRESS:
      fprintf (stderr, "%s\n", text);
      break;
    }
}

static void
on_pair_step (int step, gboolean finished, const char *detail, gpointer user_data)
{
  (void) user_data;
  if (ui_command.extra.pair_step != NULL)
    ui_command.extra.pair_step (step, finished, detail, ui_command.extra_data);
}

static void
on_device_done (const SettleDeviceResult *result, gpointer user_data)
{
  (void) user_data;
  if (ui_command.extra.device_done != NULL)
    ui_command.extra.device_done (result, ui_command.extra_data);
}

static gboolean
on_question (const SettleQuestion *question, gboolean *yes, SettleConsent *how, gpointer user_data,
             GError **error)
{
  (void) user_data;
  return settle_consent_answer (question, yes, how, error);
}

SettleManager *
settle_ui_manager (const char *cmd, const SettleManagerEvents *extra, gpointer extra_data)
{
  static const SettleManagerEvents events = {
    .note = on_note,
    .pair_step = on_pair_step,
    .consent = on_question,
    .device_done = on_device_done,
  };

  ui_command.cmd = cmd;
  if (extra != NULL)
    ui_command.extra = *extra;
  ui_command.extra_data = extra_data;
  return settle_manager_new (&events, NULL);
}

/* A usage error in NAME / --all / --address / --timeout (static string),
 * or NULL. */
static const char *
device_target_problem (int argc, const SettleDeviceTarget *target)
{
  if (target->all && (argc > 1 || target->address != NULL))
    return "--all goes without NAME and --address";
  if (!target->all && argc != 2)
    return "give one NAME (or FINGERPRINT), or --all";
  if (target->timeout_s < 1 || target->timeout_s > SETTLE_DEVICE_TIMEOUT_MAX_S)
    return "--timeout takes 1 to 600 seconds";
  return NULL;
}

static void (*device_done_for_ui) (const SettleDeviceResult *result, gpointer user_data);

static void
say_device_done (const SettleDeviceResult *result, gpointer user_data)
{
  if (result->outcome == SETTLE_DEVICE_FAILED)
    settle_ui_failf (ui_command.cmd, "%s: %s", result->record->label, result->error->message);
  else
    device_done_for_ui (result, user_data);
}

static int
run_per_device (const char *cmd, SettleUiDeviceOperation operation, const SettleDeviceTarget *target,
                void (*done) (const SettleDeviceResult *result, gpointer user_data))
{
  const SettleManagerEvents events = { .device_done = say_device_done };
  g_autoptr (SettleManager) manager = NULL;
  g_autoptr (GError) error = NULL;
  guint failures = 0;

  device_done_for_ui = done;
  manager = settle_ui_manager (cmd, &events, NULL);
  /* With --all, a store that cannot be read is said alone; one device's
   * failure, or a store that cannot be opened, adds "nothing was changed". */
  if (target->all && settle_manager_store (manager, &error) != NULL)
    {
      if (!operation (manager, target, &failures, &error))
        {
          settle_ui_fail (cmd, error);
          return SETTLE_EXIT_FAILED;
        }
      return failures > 0 ? SETTLE_EXIT_FAILED : SETTLE_EXIT_OK;
    }
  if (error == NULL && operation (manager, target, &failures, &error))
    return SETTLE_EXIT_OK;
  settle_ui_fail (cmd, error);
  fprintf (stderr, "settle %s: nothing was changed.\n", cmd);
  return SETTLE_EXIT_FAILED;
}

int
settle_ui_per_device_command (const char *cmd, GOptionContext *context, int argc, char **argv,
                              SettleDeviceTarget *target, char **address, SettleUiDeviceOperation operation,
                              void (*done) (const SettleDeviceResult *result, gpointer user_data))
{
  const char *problem;
  int status;

  if (!settle_ui_parse (context, cmd, &argc, &argv))
    status = SETTLE_EXIT_USAGE;
  else if ((target->address = *address, problem = device_target_problem (argc, target)) != NULL)
    {
      settle_ui_failf (cmd, "%s; run 'settle %s --help'", problem, cmd);
      status = SETTLE_EXIT_USAGE;
    }
  else
    {
      target->query = target->all ? NULL : argv[1];
      status = run_per_device (cmd, operation, target, done);
    }
  target->address = NULL;
  g_clear_pointer (address, g_free);
  return status;
}

void
settle_ui_print_problems (const GPtrArray *problems, const char *none, const char *heading)
{
  if (problems->len == 0)
    {
      printf ("\n%s\n", none);
      return;
    }
  printf ("\n%s (%u):\n", heading, problems->len);
  for (guint i = 0; i < problems->len; i++)
    {
      const SettleAuditProblem *problem = problems->pdata[i];
      printf ("  %s: %s\n", problem->kind, problem->message);
    }
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
