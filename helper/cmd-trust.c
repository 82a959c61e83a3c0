/* cmd-trust.c: `settle trust`: a CA (or pinned leaf) whose SHA-256
 * fingerprint the user obtained out of band, trusted through the manager
 * (lib/manage/trusting.c).  A fingerprint that does not match is refused:
 * there is no trust on first use. */
#include <stdio.h>

#include "commands.h"
#include "settle-trusting.h"
#include "ui.h"

typedef struct {
  char *ca_file;
  char *peer_file;
  char *fingerprint;
  char **scopes;
  char *label;
  gboolean referee;
  gboolean manufacturer;
  gboolean yes;
} TrustOptions;

static void
trust_options_clear (TrustOptions *options)
{
  g_free (options->ca_file);
  g_free (options->peer_file);
  g_free (options->fingerprint);
  g_strfreev (options->scopes);
  g_free (options->label);
}

static gboolean
check_usage (const TrustOptions *options, GError **error)
{
  if ((options->ca_file == NULL) == (options->peer_file == NULL))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "give exactly one of --ca FILE or --peer FILE");
  else if (options->fingerprint == NULL)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "--fingerprint is required: trust needs the SHA-256 fingerprint you obtained out of band");
  else if (options->ca_file != NULL && options->scopes == NULL)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "--scope is required with --ca (for example --scope printer.local)");
  else if (options->manufacturer && (options->ca_file == NULL || options->referee))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "--manufacturer takes the manufacturer's root with --ca, and not --referee");
  else if (options->peer_file != NULL && (options->scopes != NULL || options->referee))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "--peer takes its scope from the certificate's own names; drop --scope and --referee");
  else
    return TRUE;
  return FALSE;
}

static int
run_trust (const TrustOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager ("trust", NULL, NULL);
  g_autoptr (SettleRecord) record = NULL;
  g_autofree char *scope = NULL;
  SettleTrusting trusting = {
    .ca_file = options->ca_file,
    .peer_file = options->peer_file,
    .fingerprint = options->fingerprint,
    .scopes = options->scopes,
    .referee = options->referee,
    .manufacturer = options->manufacturer,
    .label = options->label,
    .yes = options->yes,
  };

  if (!settle_manager_trust (manager, &trusting, &record, &error))
    {
      settle_ui_fail ("trust", error);
      return SETTLE_EXIT_FAILED;
    }
  scope = settle_ui_join (record->scope);
  printf ("Trusted \"%s\" for %s (%s).\n", record->label, scope, settle_kind_to_string (record->kind));
  return SETTLE_EXIT_OK;
}

int
settle_cmd_trust (int argc, char **argv)
{
  TrustOptions options = { 0 };
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &options.ca_file, "Device or referee CA certificate (PEM or DER)", "FILE" },
    { "peer", 0, 0, G_OPTION_ARG_FILENAME, &options.peer_file, "A device's self-signed certificate, pinned as it is", "FILE" },
    { "fingerprint", 0, 0, G_OPTION_ARG_STRING, &options.fingerprint, "Its SHA-256 fingerprint, obtained out of band (hex, colons optional)", "SHA256" },
    { "scope", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.scopes, "A name or subtree it may vouch for, under .local, home.arpa or .alt (repeatable)", "NAME" },
    { "referee", 0, 0, G_OPTION_ARG_NONE, &options.referee, "The CA is a referee vouching for many devices in its scope", NULL },
    { "manufacturer", 0, 0, G_OPTION_ARG_NONE, &options.manufacturer, "The CA is a manufacturer's IDevID root: it only vouches that devices in its scope are genuine, never for TLS", NULL },
    { "label", 0, 0, G_OPTION_ARG_STRING, &options.label, "What to call it in `settle list`", "TEXT" },
    { "yes", 0, 0, G_OPTION_ARG_NONE, &options.yes, "Consent without asking (for scripts; recorded as such)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- trust a CA or device certificate checked out of band");
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Example:\n  settle trust --ca printer-ca.pem --fingerprint 3F:A9:... --scope printer.local\n\n"
    "The CA is wrapped so that it is trusted only for the given scope; a\n"
    "fingerprint that does not match is refused. With --manufacturer the CA\n"
    "is kept only to check the vouchers of devices in its scope at pairing\n"
    "(docs/manufacturer.md); it is never trusted for TLS. Without --yes the command\n"
    "asks for consent on the terminal, and refuses when there is none.\n"
    "Exit status: 0 trusted, 1 refused or failed, 2 usage error.");
  if (!settle_ui_parse_options_only (context, "trust", &argc, &argv))
    status = SETTLE_EXIT_USAGE;
  else if (!check_usage (&options, &error))
    {
      settle_ui_failf ("trust", "%s; run 'settle trust --help'", error->message);
      status = SETTLE_EXIT_USAGE;
    }
  else
    status = run_trust (&options);
  trust_options_clear (&options);
  return status;
}
