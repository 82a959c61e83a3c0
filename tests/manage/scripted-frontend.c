/* scripted-frontend.c: a second front-end of the manager API
 * (lib/manage/settle-manager.h), for tests/manage/manage-frontend.sh.
 * It links lib/ only, never helper/: whatever `settle` does through the
 * manager, this program can do too, with every question answered by its
 * arguments instead of a terminal.
 *
 *   scripted-frontend pair [--trust yes|no] [--extra NAME=yes|no]... [--timeout S]
 *                          (the SETTLE: payload on standard input, never in argv)
 *   scripted-frontend list
 *   scripted-frontend audit
 *   scripted-frontend export-dir DIR
 *   scripted-frontend remove NAME [--answer yes|no]
 *
 * Everything the manager reports is written to standard output, one line
 * each: "note KIND: TEXT", "step N begin|end: DETAIL", "question KIND ...:
 * ANSWER", then the outcome.  A question the arguments did not foresee
 * is answered no and the program exits 3; a failed operation prints
 * "error: MESSAGE" and exits 1. */
#include <stdio.h>
#include <string.h>

#include "settle-audit.h"
#include "settle-error.h"
#include "settle-manager.h"
#include "settle-pairing.h"
#include "settle-qr-payload.h"

typedef struct {
  const char *trust;      /* "yes", "no", or NULL: not expected */
  GPtrArray *extras;      /* "NAME=yes|no" */
  const char *remove;     /* "yes", "no", or NULL */
  gboolean unexpected;    /* a question nobody foresaw was asked */
} Script;

static const char *
note_kind (SettleNote kind)
{
  switch (kind)
    {
    case SETTLE_NOTE_STORE: return "store";
    case SETTLE_NOTE_RESULT: return "result";
    case SETTLE_NOTE_NOTICE: return "notice";
    case SETTLE_NOTE_WARNING: return "warning";
    case SETTLE_NOTE_PROGRESS: return "progress";
    }
  return "?";
}

static void
on_note (SettleNote kind, const char *text, gpointer user_data)
{
  (void) user_data;
  printf ("note %s: %s\n", note_kind (kind), text);
}

static void
on_step (int step, gboolean finished, const char *detail, gpointer user_data)
{
  (void) user_data;
  printf ("step %d %s: %s\n", step, finished ? "end" : "begin", detail != NULL ? detail : "-");
}

static const char *
extra_answer (Script *script, const char *name)
{
  gsize len = strlen (name);

  for (guint i = 0; i < script->extras->len; i++)
    {
      const char *entry = script->extras->pdata[i];
      if (strncmp (entry, name, len) == 0 && entry[len] == '=')
        return entry + len + 1;
    }
  return NULL;
}

static gboolean
on_question (const SettleQuestion *question, gboolean *yes, SettleConsent *how, gpointer user_data,
             GError **error)
{
  Script *script = user_data;
  const char *answer = NULL;
  g_autofree char *refused = NULL;

  (void) error;
  switch (question->kind)
    {
    case SETTLE_QUESTION_TRUST:
      answer = script->trust;
      refused = question->refused != NULL ? g_strjoinv (",", (char **) question->refused) : g_strdup ("");
      printf ("question trust label=%s names=%s pairing=%d check-code=%s role=%s refused=%s: %s\n",
              question->record->label, question->record->names[0], question->pairing,
              question->sas != NULL ? question->sas : "-", question->role != NULL ? question->role : "-",
              refused, answer != NULL ? answer : "(unexpected)");
      break;
    case SETTLE_QUESTION_EXTRA_NAME:
      answer = extra_answer (script, question->name);
      printf ("question extra-name %s: %s\n", question->name, answer != NULL ? answer : "(unexpected)");
      break;
    case SETTLE_QUESTION_REMOVE:
      answer = script->remove;
      printf ("question remove %s: %s\n", question->record->label, answer != NULL ? answer : "(unexpected)");
      break;
    default:
      printf ("question %d: (unexpected)\n", (int) question->kind);
      break;
    }
  if (answer == NULL)
    script->unexpected = TRUE;
  *yes = g_strcmp0 (answer, "yes") == 0;
  *how = SETTLE_CONSENT_PROMPT;
  return TRUE;
}

static void
on_device_done (const SettleDeviceResult *result, gpointer user_data)
{
  (void) user_data;
  printf ("device %s: outcome %d\n", result->record->label, (int) result->outcome);
}

static int
finish (Script *script, gboolean ok, GError *error)
{
  if (!ok)
    printf ("error: %s\n", error->message);
  if (script->unexpected)
    return 3;
  return ok ? 0 : 1;
}

/* One line of standard input, the SETTLE: payload (the secret stays out
 * of the process list). */
static SettleQrPayload *
read_payload (GError **error)
{
  char line[2048];
  SettleQrPayload *payload;

  if (fgets (line, sizeof line, stdin) == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "no payload on standard input");
      return NULL;
    }
  g_strchomp (line);
  payload = settle_qr_payload_parse (line, strlen (line), error);
  memset (line, 0, sizeof line);
  return payload;
}

static int
do_pair (SettleManager *manager, Script *script, int timeout_s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleQrPayload) payload = read_payload (&error);
  g_autoptr (SettleRecord) paired = NULL;
  gboolean enrolled = FALSE;
  gboolean ok;

  if (payload == NULL)
    return finish (script, FALSE, error);
  SettlePairing pairing = { .payload = payload, .timeout_ms = (guint) timeout_s * 1000u };
  ok = settle_manager_pair (manager, &pairing, &paired, &enrolled, &error);
  if (ok)
    {
      g_autofree char *scope = g_strjoinv (",", paired->scope);
      printf ("paired %s kind=%s scope=%s role=%s consent=%s fingerprint=%s\n", paired->label,
              settle_kind_to_string (paired->kind), scope, paired->role,
              settle_consent_to_string (paired->consent), paired->fingerprint);
    }
  else if (enrolled)
    printf ("enrolled on the device but not stored here\n");
  return finish (script, ok, error);
}

static int
do_list (SettleManager *manager, Script *script)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = settle_manager_list (manager, NULL, &error);

  if (records == NULL)
    return finish (script, FALSE, error);
  printf ("records %u\n", records->len);
  for (guint i = 0; i < records->len; i++)
    {
      const SettleRecord *record = records->pdata[i];
      g_autofree char *scope = g_strjoinv (",", record->scope);
      printf ("record %s kind=%s scope=%s fingerprint=%s\n", record->label, settle_kind_to_string (record->kind),
              scope, record->fingerprint);
    }
  return finish (script, TRUE, NULL);
}

static int
do_audit (SettleManager *manager, Script *script)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleAuditReport) report = settle_manager_audit (manager, &error);

  if (report == NULL)
    return finish (script, FALSE, error);
  printf ("audit records=%u problems=%u generation=%" G_GINT64_FORMAT "\n", report->records->len,
          report->problems->len, report->snapshot_generation);
  for (guint i = 0; i < report->problems->len; i++)
    {
      const SettleAuditProblem *problem = report->problems->pdata[i];
      printf ("problem %s: %s\n", problem->kind, problem->message);
    }
  return finish (script, TRUE, NULL);
}

int
main (int argc, char **argv)
{
  Script script = { .extras = g_ptr_array_new () };
  g_autofree char *trust = NULL;
  g_autofree char *answer = NULL;
  char **extras = NULL;
  int timeout_s = 10;
  GOptionEntry entries[] = {
    { "trust", 0, 0, G_OPTION_ARG_STRING, &trust, "pair: the answer to trusting the device", "yes|no" },
    { "extra", 0, 0, G_OPTION_ARG_STRING_ARRAY, &extras, "pair: the answer for an unverified name", "NAME=yes|no" },
    { "answer", 0, 0, G_OPTION_ARG_STRING, &answer, "remove: the answer", "yes|no" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "pair: seconds per network step", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("pair|list|audit|export-dir DIR|remove NAME");
  g_autoptr (GError) error = NULL;
  const SettleManagerEvents events = {
    .note = on_note,
    .pair_step = on_step,
    .consent = on_question,
    .device_done = on_device_done,
  };
  g_autoptr (SettleManager) manager = NULL;
  int status = 2;

  setvbuf (stdout, NULL, _IOLBF, 0);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2)
    {
      fprintf (stderr, "scripted-frontend: %s\n", error != NULL ? error->message : "which operation?");
      return 2;
    }
  script.trust = trust;
  script.remove = answer;
  for (char **e = extras; e != NULL && *e != NULL; e++)
    g_ptr_array_add (script.extras, *e);
  manager = settle_manager_new (&events, &script);
  if (g_strcmp0 (argv[1], "pair") == 0 && argc == 2)
    status = do_pair (manager, &script, timeout_s);
  else if (g_strcmp0 (argv[1], "list") == 0 && argc == 2)
    status = do_list (manager, &script);
  else if (g_strcmp0 (argv[1], "audit") == 0 && argc == 2)
    status = do_audit (manager, &script);
  else if (g_strcmp0 (argv[1], "export-dir") == 0 && argc == 3)
    {
      gboolean ok = settle_manager_export (manager, TRUE, argv[2], FALSE, &error);
      if (ok)
        printf ("exported %s\n", argv[2]);
      status = finish (&script, ok, error);
    }
  else if (g_strcmp0 (argv[1], "remove") == 0 && argc == 3)
    {
      g_autoptr (SettleRecord) removed = NULL;
      gboolean ok = settle_manager_remove (manager, argv[2], FALSE, FALSE, &removed, NULL, &error);
      if (ok)
        printf ("removed %s\n", removed->label);
      status = finish (&script, ok, error);
    }
  else
    fprintf (stderr, "scripted-frontend: unknown operation or arguments; see the comment on top\n");
  g_clear_pointer (&manager, settle_manager_free);
  g_ptr_array_unref (script.extras);
  g_strfreev (extras);
  return status;
}
