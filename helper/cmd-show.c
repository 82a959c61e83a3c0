/* cmd-show.c: `settle show NAME|FINGERPRINT`: one binding in full. */
#include <stdio.h>

#include "commands.h"
#include "settle-cert.h"
#include "settle-fingerprint.h"
#include "settle-record-json.h"
#include "ui.h"

static char *
subject_of (GBytes *der)
{
  g_autoptr (GError) error = NULL;
  X509 *cert;
  char *subject;

  if (der == NULL)
    return g_strdup ("-");
  cert = settle_cert_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  if (cert == NULL)
    return g_strdup_printf ("(unreadable: %s)", error->message);
  subject = settle_cert_subject_text (cert);
  X509_free (cert);
  return subject;
}

static void
print_record (const SettleRecord *record)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *fingerprint = settle_fingerprint_pretty (record->fingerprint);
  g_autofree char *names = settle_ui_join (record->names);
  g_autofree char *scope = settle_ui_join (record->scope);
  g_autofree char *created = settle_ui_format_time (record->created);
  g_autofree char *expires = settle_ui_format_time (record->expires);
  g_autofree char *relative = settle_ui_relative_time (record->expires, now);
  g_autofree char *anchor = subject_of (record->anchor_der);
  g_autofree char *root = subject_of (record->wrapper_root_der);

  printf ("Name:         %s\n", record->label);
  printf ("Kind:         %s\n", settle_kind_to_string (record->kind));
  printf ("Fingerprint:  %s\n", fingerprint);
  printf ("Certificate:  %s\n", anchor);
  printf ("Names:        %s\n", names);
  if (record->kind == SETTLE_KIND_MANUFACTURER_CA)
    printf ("Trusted for:  vouchers of devices named in %s only; never for TLS\n", scope);
  else
    printf ("Trusted for:  %s\n", scope);
  if (record->wrapper_root_der != NULL)
    printf ("Wrapped by:   %s\n", root);
  printf ("Created:      %s\n", created);
  printf ("Expires:      %s (%s)\n", expires, relative);
  printf ("Consent:      %s\n", record->consent == SETTLE_CONSENT_FLAG
                                    ? "given with --yes (scripted)" : "given at the prompt");
  if (record->role != NULL)
    printf ("Role:         %s\n", record->role);
  printf ("Client key:   %s\n", record->client_cert_der ? "yes (per-device identity)" : "none");
}

int
settle_cmd_show (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "The record as JSON (schema/record.schema.json)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("NAME|FINGERPRINT - show one trusted binding");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager ("show", NULL, NULL);
  g_autoptr (SettleRecord) record = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "NAME is a label or a name the device serves; FINGERPRINT may be a unique\n"
    "prefix of at least 8 hex digits.\n"
    "Exit status: 0 shown, 1 not found or unreadable, 2 usage error.");
  if (!settle_ui_parse (context, "show", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  if (argc != 2)
    {
      settle_ui_failf ("show", "give exactly one NAME or FINGERPRINT; run 'settle show --help'");
      return SETTLE_EXIT_USAGE;
    }
  record = settle_manager_lookup (manager, argv[1], &error);
  if (record == NULL)
    {
      settle_ui_fail ("show", error);
      return SETTLE_EXIT_FAILED;
    }
  if (json)
    {
      g_autofree char *text = settle_record_to_output_json (record, TRUE);
      printf ("%s\n", text);
    }
  else
    print_record (record);
  return SETTLE_EXIT_OK;
}
