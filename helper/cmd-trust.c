/* cmd-trust.c: `settle trust`: a CA (or pinned leaf) whose SHA-256
 * fingerprint the user obtained out of band.  A fingerprint that does not
 * match is refused: there is no trust on first use. */
#include <stdio.h>

#include "commands.h"
#include "settle-commit.h"
#include "consent.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-scope.h"
#include "settle-wrap.h"
#include "ui.h"

typedef struct {
  char *ca_file;
  char *peer_file;
  char *fingerprint;
  char **scopes;
  char *label;
  gboolean referee;
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
  else if (options->peer_file != NULL && (options->scopes != NULL || options->referee))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                 "--peer takes its scope from the certificate's own names; drop --scope and --referee");
  else
    return TRUE;
  return FALSE;
}

static gboolean
check_fingerprint (X509 *cert, const char *given, char **fingerprint_out, GError **error)
{
  g_autoptr (GBytes) der = settle_cert_to_der (cert);
  g_autofree char *expected = settle_fingerprint_parse (given, error);
  g_autofree char *actual = NULL;

  if (expected == NULL)
    return FALSE;
  actual = settle_fingerprint_of_der (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  if (g_strcmp0 (expected, actual) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                   "the certificate does not have the fingerprint you were given, so nothing was trusted "
                   "(check that the file and the fingerprint come from the same device)");
      return FALSE;
    }
  *fingerprint_out = g_steal_pointer (&actual);
  return TRUE;
}

static char **
normalize_scopes (char **scopes, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (char **s = scopes; *s != NULL; s++)
    {
      g_autofree char *canonical = settle_scope_normalize (*s, error);
      if (canonical == NULL)
        return NULL;
      g_strv_builder_add (builder, canonical);
    }
  return g_strv_builder_end (builder);
}

static char *
default_label (X509 *cert, char **names)
{
  if (names != NULL && names[0] != NULL)
    return g_strdup (names[0]);
  return settle_cert_subject_text (cert);
}

static SettleRecord *
record_for_ca (X509 *ca, const TrustOptions *options, char *fingerprint, GError **error)
{
  g_autoptr (SettleRecord) record = settle_record_new ();
  SettleWrapped wrapped = { 0 };
  g_auto (GStrv) scope = NULL;

  if (!settle_ca_check (ca, error) || (scope = normalize_scopes (options->scopes, error)) == NULL)
    return NULL;
  if (!options->referee && !settle_scope_check_single_device ((const char *const *) scope, error))
    return NULL;
  g_free (record->label);
  record->label = options->label ? g_strdup (options->label) : default_label (ca, scope);
  if (!settle_wrap_ca (ca, (const char *const *) scope, record->label, &wrapped, error))
    return NULL;
  record->kind = options->referee ? SETTLE_KIND_REFEREE_CA : SETTLE_KIND_DEVICE_CA;
  record->fingerprint = fingerprint;
  record->wrapper_root_der = settle_cert_to_der (wrapped.root);
  record->cross_der = settle_cert_to_der (wrapped.cross);
  settle_wrapped_clear (&wrapped);
  g_strfreev (record->names);
  record->names = g_strdupv (scope);
  g_strfreev (record->scope);
  record->scope = g_steal_pointer (&scope);
  return g_steal_pointer (&record);
}

static SettleRecord *
record_for_peer (X509 *leaf, const TrustOptions *options, char *fingerprint, GError **error)
{
  g_autoptr (SettleRecord) record = settle_record_new ();

  if (!settle_peer_check (leaf, error))
    return NULL;
  record->kind = SETTLE_KIND_PINNED_PEER;
  record->fingerprint = fingerprint;
  g_strfreev (record->names);
  record->names = settle_cert_dns_names (leaf);
  g_strfreev (record->scope);
  record->scope = g_strdupv (record->names);
  g_free (record->label);
  record->label = options->label ? g_strdup (options->label) : default_label (leaf, record->names);
  return g_steal_pointer (&record);
}

static SettleRecord *
build_record (const TrustOptions *options, GError **error)
{
  const char *path = options->ca_file ? options->ca_file : options->peer_file;
  X509 *cert = settle_cert_load_file (path, error);
  char *fingerprint = NULL;
  SettleRecord *record = NULL;

  if (cert == NULL)
    return NULL;
  if (check_fingerprint (cert, options->fingerprint, &fingerprint, error))
    {
      record = options->ca_file ? record_for_ca (cert, options, fingerprint, error)
                                : record_for_peer (cert, options, fingerprint, error);
      if (record == NULL)
        g_free (fingerprint);
      else
        {
          record->anchor_der = settle_cert_to_der (cert);
          record->created = g_get_real_time () / G_USEC_PER_SEC;
          record->expires = settle_cert_not_after (cert);
        }
    }
  X509_free (cert);
  return record;
}

static int
run_trust (const TrustOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleRecord) record = build_record (options, &error);
  g_autoptr (SettleStore) store = NULL;
  g_autofree char *prompt = NULL;
  g_autofree char *scope = NULL;

  if (record == NULL)
    goto failed;
  store = settle_ui_open_store (&error);
  if (store == NULL)
    goto failed;
  prompt = settle_consent_describe (record, NULL);
  if (!settle_consent_obtain (prompt, "Trust it?", options->yes, &record->consent, &error))
    goto failed;
  if (!settle_commit_add (store, record, &error))
    goto failed;
  scope = settle_ui_join (record->scope);
  printf ("Trusted \"%s\" for %s (%s).\n", record->label, scope, settle_kind_to_string (record->kind));
  return SETTLE_EXIT_OK;

failed:
  settle_ui_fail ("trust", error);
  return SETTLE_EXIT_FAILED;
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
    "fingerprint that does not match is refused. Without --yes the command\n"
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
