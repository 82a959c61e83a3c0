/* cmd-pair.c: `settle pair`: read a device's QR code (or its typed code)
 * and pair with it through the manager (lib/manage/pairing.c: the
 * ceremony, consent, the scoped anchor and the new client key stored),
 * showing each step.  Nothing is stored unless every step succeeded and
 * the user said yes. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "settle-harden.h"
#include "settle-base32.h"
#include "settle-ceremony-client.h"
#include "settle-ceremony-tls.h"
#include "settle-endpoint.h"
#include "settle-error.h"
#include "settle-pairing.h"
#include "settle-qr-decode.h"
#include "settle-qr-payload.h"
#include "settle-scope.h"
#include "ui.h"

#define CMD "pair"
#define TIMEOUT_MAX_S 600
#define CAMERA_WAIT_MS (60 * 1000)
#define STDIN_TEXT_MAX (SETTLE_QR_PAYLOAD_MAX + 2)

typedef struct {
  char *qr_file;
  char *payload;            /* holds the secret: wiped */
  char *code;               /* holds the secret: wiped */
  char *address;
  char *name;
  gboolean camera;
  char *camera_device;
  char *role;
  char *label;
  gboolean yes;
  gboolean referee;
  char **scopes;
  int timeout_s;
} PairOptions;

static void
pair_options_clear (PairOptions *options)
{
  g_free (options->qr_file);
  settle_base32_wipe_free (options->payload);
  settle_base32_wipe_free (options->code);
  g_free (options->address);
  g_strfreev (options->scopes);
  g_free (options->name);
  g_free (options->camera_device);
  g_free (options->role);
  g_free (options->label);
}

/* ---- usage ---- */

static guint
count_sources (const PairOptions *options)
{
  return (options->qr_file != NULL) + (options->payload != NULL) + (options->code != NULL)
         + (options->camera != FALSE);
}

static gboolean
role_is_known (const char *role)
{
  return g_strcmp0 (role, "admin") == 0 || g_strcmp0 (role, "user") == 0
         || g_strcmp0 (role, "guest") == 0;
}

static gboolean
check_usage (const PairOptions *options, GError **error)
{
  const char *message = NULL;

  if (count_sources (options) != 1)
    message = "give exactly one of --qr FILE, --payload TEXT, --code CODE or --camera";
  else if (options->code != NULL && options->address == NULL)
    message = "--code needs --address HOST:PORT (the address the device shows beside the code)";
  else if (options->code == NULL && (options->address != NULL || options->name != NULL))
    message = "--address and --name go with --code only (a QR code carries both)";
  else if (options->role != NULL && !role_is_known (options->role))
    message = "--role takes admin, user or guest";
  else if (options->timeout_s < 1 || options->timeout_s > TIMEOUT_MAX_S)
    message = "--timeout takes 1 to 600 seconds";
  if (message == NULL)
    return TRUE;
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, message);
  return FALSE;
}

static gboolean
on_camera_option (const char *option_name, const char *value, gpointer data, GError **error)
{
  PairOptions *options = data;

  (void) option_name;
  (void) error;
  options->camera = TRUE;
  g_free (options->camera_device);
  options->camera_device = g_strdup (value);
  return TRUE;
}

/* GOption takes an optional value only as --camera=DEV; `--camera DEV`
 * leaves DEV behind as an argument, which is taken here. */
static gboolean
take_camera_device (PairOptions *options, int *argc, char **argv)
{
  if (*argc == 2 && options->camera && options->camera_device == NULL)
    {
      options->camera_device = g_strdup (argv[1]);
      *argc = 1;
    }
  return *argc <= 1;
}

/* ---- where the payload comes from ---- */

/* One line from standard input, bounded; for `--payload -`, which keeps
 * the secret out of the process list. */
static char *
read_stdin_line (GError **error)
{
  char *line = g_malloc0 (STDIN_TEXT_MAX + 2);

  if (fgets (line, STDIN_TEXT_MAX + 2, stdin) == NULL || strlen (line) > STDIN_TEXT_MAX)
    {
      settle_base32_wipe_free (line);
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "Standard input did not hold one line of at most 1024 characters.");
      return NULL;
    }
  return line;
}

static char *
payload_text (const PairOptions *options, GError **error)
{
  if (options->qr_file != NULL)
    return settle_qr_decode_file (options->qr_file, error);
  if (options->camera)
    {
      fprintf (stderr, "Hold the device's QR code in front of the camera...\n");
      return settle_qr_decode_camera (options->camera_device, CAMERA_WAIT_MS, error);
    }
  if (g_strcmp0 (options->payload, "-") == 0)
    return read_stdin_line (error);
  return g_strdup (options->payload);
}

static SettleQrPayload *
payload_from_picture_or_text (const PairOptions *options, GError **error)
{
  char *text = payload_text (options, error);
  SettleQrPayload *payload;

  if (text == NULL)
    return NULL;
  payload = settle_qr_payload_parse (text, strlen (text), error);
  settle_base32_wipe_free (text);
  if (payload == NULL)
    g_prefix_error (error, "This is not a valid settle pairing code: ");
  return payload;
}

/* --address as typed: settle-endpoint.h's one HOST:PORT rule. */
static gboolean
parse_address (const char *text, SettleQrPayload *payload, GError **error)
{
  g_autoptr (SettleEndpoint) typed = settle_endpoint_parse (text, SETTLE_ENDPOINT_TYPED, "--address HOST:PORT",
                                                            error);
  if (typed == NULL)
    return FALSE;
  payload->host = g_steal_pointer (&typed->host);
  payload->port = typed->port;
  return TRUE;
}

/* The code typed at the terminal without echo (`--code -` on a terminal),
 * so that it never shows on the screen or in argv. */
static char *
read_code_from_terminal (GError **error)
{
  int tty = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct termios saved, quiet;
  char *line = g_malloc0 (STDIN_TEXT_MAX + 2);
  gsize used = 0;
  gboolean ok = tty >= 0 && tcgetattr (tty, &saved) == 0;

  if (ok)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      quiet.c_lflag |= ECHONL;
      /* Echo off before the prompt appears, and nothing typed ahead is
       * flushed: whoever answers the prompt at once is not echoed either. */
      ok = tcsetattr (tty, TCSANOW, &quiet) == 0;
      if (ok)
        (void) !write (tty, "Pairing code (not shown): ", 26);
      char c;
      while (ok && read (tty, &c, 1) == 1 && c != '\n' && c != '\r')
        if (used < STDIN_TEXT_MAX)
          line[used++] = c;
      tcsetattr (tty, TCSANOW, &saved);
    }
  if (tty >= 0)
    close (tty);
  if (!ok || used == 0)
    {
      settle_base32_wipe_free (line);
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "No pairing code was typed at the terminal.");
      return NULL;
    }
  return line;
}

/* `--code -`: one line of standard input, or a prompt without echo when
 * standard input is a terminal.  Owned, wiped by the caller. */
static char *
code_text (const PairOptions *options, GError **error)
{
  if (g_strcmp0 (options->code, "-") != 0)
    return g_strdup (options->code);
  if (isatty (STDIN_FILENO))
    return read_code_from_terminal (error);
  char *line = read_stdin_line (error);
  if (line != NULL)
    g_strchomp (line);
  return line;
}

/* A typed code has no key hash: the name is the user's --name, else a
 * host name in --address, else (NULL) the one the device's certificate
 * shows, which the consent prompt asks the user to compare. */
static SettleQrPayload *
payload_from_code (const PairOptions *options, GError **error)
{
  g_autoptr (SettleQrPayload) payload = settle_qr_payload_new ();
  char *code = code_text (options, error);
  gboolean parsed = code != NULL
                    && settle_base32_code_parse (code, payload->secret, sizeof payload->secret,
                                                 &payload->secret_len, error);

  settle_base32_wipe_free (code);
  if (!parsed || !parse_address (options->address, payload, error))
    return NULL;
  if (options->name != NULL)
    {
      payload->name = settle_name_normalize (options->name, FALSE, error);
      if (payload->name == NULL)
        return NULL;
    }
  else if (!g_hostname_is_ip_address (payload->host))
    payload->name = g_strdup (payload->host);
  return g_steal_pointer (&payload);
}

/* ---- progress on the terminal ---- */

typedef struct {
  gboolean open;   /* a step line is waiting for its result */
} Progress;

static void
show_step (int step, gboolean finished, const char *detail, gpointer user_data)
{
  Progress *progress = user_data;

  if (!finished)
    {
      fprintf (stderr, "  [%d/%d] %s%s%s ... ", step, SETTLE_PAIR_STEP_COUNT,
               settle_pair_step_describe ((SettlePairStep) step), detail != NULL ? ": " : "",
               detail != NULL ? detail : "");
      progress->open = TRUE;
    }
  else
    {
      fprintf (stderr, "%s\n", detail != NULL ? detail : "ok");
      progress->open = FALSE;
    }
  fflush (stderr);
}

static void
close_failed_step (Progress *progress)
{
  if (progress->open)
    fprintf (stderr, "failed\n");
  progress->open = FALSE;
}

/* ---- the command ---- */

static SettleQrPayload *
read_payload (const PairOptions *options, GError **error)
{
  return options->code != NULL ? payload_from_code (options, error)
                               : payload_from_picture_or_text (options, error);
}

static void
announce (const SettleQrPayload *payload, gboolean typed_code)
{
  if (typed_code)
    fprintf (stderr, "Pairing with %s at %s port %u using a typed code (no key in it to compare).\n",
             payload->name != NULL ? payload->name : "the device", payload->host, (unsigned) payload->port);
  else if (payload->host == NULL)
    fprintf (stderr, "Pairing with %s (no address in the code: looking for it by its name).\n", payload->name);
  else
    fprintf (stderr, "Pairing with %s (address hint %s port %u).\n", payload->name, payload->host,
             (unsigned) payload->port);
}

static int
run_pair (const PairOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleQrPayload) payload = NULL;
  g_autoptr (SettleRecord) paired = NULL;
  g_autofree char *scope = NULL;
  Progress progress = { FALSE };
  const SettleManagerEvents steps = { .pair_step = show_step };
  g_autoptr (SettleManager) manager = settle_ui_manager (CMD, &steps, &progress);
  gboolean enrolled = FALSE;
  SettlePairing pairing = {
    .typed_code = options->code != NULL,
    .role = options->role,
    .label = options->label,
    .timeout_ms = (guint) options->timeout_s * 1000u,
    .yes = options->yes,
    .referee_scope = options->scopes,
    .expect_referee = options->referee,
  };

  payload = read_payload (options, &error);
  if (payload == NULL)
    goto failed;
  /* Opened first: a store that cannot be written must not cost the
   * device its single-use secret. */
  if (settle_manager_store (manager, &error) == NULL)
    goto failed;
  pairing.payload = payload;
  announce (payload, pairing.typed_code);
  if (!settle_manager_pair (manager, &pairing, &paired, &enrolled, &error))
    {
      close_failed_step (&progress);
      if (!enrolled)
        goto failed;
      settle_ui_fail (CMD, error);
      fprintf (stderr, "settle %s: nothing was stored here, but the device has enrolled this "
                       "computer's key; remove that enrolment on the device.\n", CMD);
      return SETTLE_EXIT_FAILED;
    }
  scope = settle_ui_join (paired->scope);
  printf ("Paired with \"%s\": trusted for %s (%s), role %s, client key stored.\n", paired->label,
          scope, settle_kind_to_string (paired->kind), paired->role);
  return SETTLE_EXIT_OK;

failed:
  settle_ui_fail (CMD, error);
  fprintf (stderr, "settle %s: nothing was stored.\n", CMD);
  return SETTLE_EXIT_FAILED;
}

int
settle_cmd_pair (int argc, char **argv)
{
  PairOptions options = { .timeout_s = SETTLE_TLS_DEFAULT_TIMEOUT_MS / 1000 };
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "qr", 0, 0, G_OPTION_ARG_FILENAME, &options.qr_file, "A photo or screenshot of the device's QR code (PNG or JPEG; - reads standard input)", "FILE" },
    { "payload", 0, 0, G_OPTION_ARG_STRING, &options.payload, "The QR code's text, SETTLE:... (- reads one line from standard input)", "TEXT" },
    { "code", 0, 0, G_OPTION_ARG_STRING, &options.code, "The pairing code the device shows for typing (needs --address); - reads it from standard input, or asks without echo on a terminal. CODE itself is visible to other local users", "CODE" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &options.address, "With --code: where the device listens", "HOST:PORT" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &options.name, "With --code: the device's name as its screen shows it", "NAME" },
    { "camera", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, (gpointer) on_camera_option, "Scan the QR code with a camera (default " SETTLE_QR_CAMERA_DEFAULT ")", "[DEVICE]" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &options.role, "The role to ask for: admin (default), user or guest", "ROLE" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &options.label, "What to call the device in `settle list`", "TEXT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &options.timeout_s, "Seconds to wait for each network step (default 10)", "SECONDS" },
    { "yes", 0, 0, G_OPTION_ARG_NONE, &options.yes, "Consent without asking (for scripts; recorded as such)", NULL },
    { "referee", 0, 0, G_OPTION_ARG_NONE, &options.referee, "You expect a referee (needed with --yes to trust one)", NULL },
    { "scope", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.scopes, "For a referee: trust it only for this subtree (repeatable; inside what it declares; a whole namespace only this way)", "SUBTREE" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- pair with a device through its QR code");
  GOptionGroup *group = g_option_group_new (NULL, NULL, NULL, &options, NULL);
  int status;

  /* Before the options are parsed: --payload and --code copy the pairing
   * secret, and later come the SPAKE2 keys and the new client key. */
  if (!settle_harden_against_dumps (&error))
    {
      settle_ui_fail (CMD, error);
      g_option_group_unref (group);
      return SETTLE_EXIT_FAILED;
    }
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  g_option_context_set_description (context,
    "Examples:\n"
    "  settle pair --qr photo-of-printer.jpg\n"
    "  settle pair --code - --address 192.168.1.20:8443   (asks for the code)\n\n"
    "The device's key must match the QR code, and the device must prove that it\n"
    "knows the code, before anything is stored; then the command asks for consent\n"
    "on the terminal (refusing when there is none, unless --yes). A typed code\n"
    "carries no key: the code's proof is then the only check, and the name the\n"
    "device gives must be compared with its screen. `--code CODE` shows the code\n"
    "to other users of this computer (process list): prefer `--code -`.\n"
    "Names the device claims beyond the one the code vouches for are asked about\n"
    "one by one; --yes refuses them. See docs/pairing.md.\n"
    "A referee (docs/referee.md) is trusted for the subtree it declares, or the\n"
    "narrower --scope you give; a whole namespace only when you type it.\n"
    "Exit status: 0 paired, 1 refused or failed, 2 usage error.");
  if (!settle_ui_parse (context, CMD, &argc, &argv))
    status = SETTLE_EXIT_USAGE;
  else if (!take_camera_device (&options, &argc, argv))
    {
      settle_ui_failf (CMD, "unexpected argument '%s'; run 'settle pair --help'", argv[1]);
      status = SETTLE_EXIT_USAGE;
    }
  else if (!check_usage (&options, &error))
    {
      settle_ui_failf (CMD, "%s; run 'settle pair --help'", error->message);
      status = SETTLE_EXIT_USAGE;
    }
  else
    status = run_pair (&options);
  pair_options_clear (&options);
  return status;
}
