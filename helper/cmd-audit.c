/* cmd-audit.c: `settle audit [--json]`: every binding, where the module is
 * installed, kept exports, and anything inconsistent (audit.c collects;
 * this file only prints).  JSON: schema/audit.schema.json. */
#include <stdio.h>

#include <json-glib/json-glib.h>

#include "json-out.h"
#include "settle-audit.h"
#include "commands.h"
#include "settle-fingerprint.h"
#include "ui.h"

#define AUDIT_JSON_VERSION 1

static void
add_binding (JsonBuilder *builder, const SettleRecord *record, gint64 now)
{
  json_builder_begin_object (builder);
  settle_json_member_string_or_null (builder, "label", record->label);
  settle_json_member_string_or_null (builder, "fingerprint", record->fingerprint);
  settle_json_member_string_or_null (builder, "kind", settle_kind_to_string (record->kind));
  settle_json_member_strv (builder, "names", record->names);
  settle_json_member_strv (builder, "scope", record->scope);
  settle_json_member_string_or_null (builder, "role", record->role);
  settle_json_member_time (builder, "created", record->created);
  settle_json_member_time (builder, "expires", record->expires);
  settle_json_member_bool (builder, "expired", record->expires < now);
  settle_json_member_string_or_null (builder, "consent", settle_consent_to_string (record->consent));
  settle_json_member_bool (builder, "client_certificate", record->client_cert_der != NULL);
  json_builder_end_object (builder);
}

static void
add_install (JsonBuilder *builder, gconstpointer data)
{
  const SettleAuditInstall *install = data;

  json_builder_begin_object (builder);
  settle_json_member_string_or_null (builder, "place", install->place);
  settle_json_member_string_or_null (builder, "path", install->path);
  settle_json_member_string_or_null (builder, "found_by", install->found_by);
  settle_json_member_bool (builder, "exists", install->exists);
  settle_json_member_bool (builder, "registered", install->registered);
  settle_json_member_string_or_null (builder, "error", install->error);
  json_builder_end_object (builder);
}

static void
add_export (JsonBuilder *builder, gconstpointer data)
{
  const SettleAuditExport *export = data;

  json_builder_begin_object (builder);
  settle_json_member_string_or_null (builder, "kind", export->kind);
  settle_json_member_string_or_null (builder, "path", export->path);
  settle_json_member_bool (builder, "present", export->present);
  json_builder_end_object (builder);
}

/* Each array member of the report, through one of the add_* above. */
static void
add_array_member (JsonBuilder *builder, const char *name, GPtrArray *items,
                  void (*add) (JsonBuilder *, gconstpointer))
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < items->len; i++)
    add (builder, items->pdata[i]);
  json_builder_end_array (builder);
}

static void
print_json (const SettleAuditReport *report)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, AUDIT_JSON_VERSION);
  settle_json_member_time (builder, "generated", now);
  settle_json_member_string_or_null (builder, "store", report->store);
  json_builder_set_member_name (builder, "snapshot");
  json_builder_begin_object (builder);
  settle_json_member_string_or_null (builder, "path", report->trust_dir);
  json_builder_set_member_name (builder, "generation");
  json_builder_add_int_value (builder, report->snapshot_generation);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "bindings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->records->len; i++)
    add_binding (builder, report->records->pdata[i], now);
  json_builder_end_array (builder);
  add_array_member (builder, "installations", report->installs, add_install);
  add_array_member (builder, "exports", report->exports, add_export);
  settle_json_member_problems (builder, "inconsistencies", report->problems);
  json_builder_end_object (builder);
  settle_json_print (builder);
}

static void
print_bindings (const SettleAuditReport *report)
{
  printf ("Bindings (%u), store: %s\n", report->records->len, report->store);
  for (guint i = 0; i < report->records->len; i++)
    {
      const SettleRecord *record = report->records->pdata[i];
      g_autofree char *names = settle_ui_join (record->names);
      g_autofree char *scope = settle_ui_join (record->scope);
      g_autofree char *fingerprint = settle_fingerprint_pretty (record->fingerprint);
      g_autofree char *created = settle_ui_format_time (record->created);
      g_autofree char *expires = settle_ui_format_time (record->expires);

      printf ("  %s\n", record->label);
      if (record->kind == SETTLE_KIND_MANUFACTURER_CA)
        printf ("    kind %s, vouches that devices in %s are genuine (never a TLS anchor)\n",
                settle_kind_to_string (record->kind), scope);
      else
        printf ("    kind %s, names %s, trusted for %s\n", settle_kind_to_string (record->kind), names, scope);
      printf ("    fingerprint %s\n", fingerprint);
      printf ("    role %s, created %s, expires %s, consent %s\n", record->role ? record->role : "-", created,
              expires, record->consent == SETTLE_CONSENT_FLAG ? "--yes flag" : "typed yes at the prompt");
    }
}

static void
print_installs (const SettleAuditReport *report)
{
  printf ("\nWhere the module is installed:\n");
  if (report->installs->len == 0)
    printf ("  nowhere settle knows of\n");
  for (guint i = 0; i < report->installs->len; i++)
    {
      const SettleAuditInstall *install = report->installs->pdata[i];
      const char *state = !install->exists ? "database missing"
                          : install->error != NULL ? install->error
                          : install->registered ? "registered" : "not registered";
      printf ("  %-14s %-40s %s (%s)\n", install->place, install->path, state, install->found_by);
    }
  if (report->exports->len > 0)
    printf ("\nKept exports:\n");
  for (guint i = 0; i < report->exports->len; i++)
    {
      const SettleAuditExport *export = report->exports->pdata[i];
      printf ("  %-14s %-40s %s\n", export->kind, export->path, export->present ? "present" : "missing");
    }
}


int
settle_cmd_audit (int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *device = NULL;
  g_autofree char *address = NULL;
  g_auto (GStrv) expected = NULL;
  int timeout_s = 10;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output (schema/audit.schema.json; with --device schema/device-audit.schema.json)", NULL },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "Audit what a paired device trusts instead (needs this computer to be its admin)", "NAME" },
    { "expect-admin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &expected, "With --device: a client key fingerprint known to be an admin (repeatable)", "FINGERPRINT" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "With --device: where it listens (default: where it was paired, else its name on port 443)", "HOST:PORT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "With --device: seconds to wait for it (default 10)", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- list every binding and where it is installed");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = NULL;
  g_autoptr (SettleAuditReport) report = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Shows every trusted binding, the NSS databases, p11-kit files and Firefox\n"
    "policies that load the module, the kept exports, and anything that does\n"
    "not agree. Changes nothing.\n"
    "With --device NAME it asks that paired device, over mutual TLS with this\n"
    "computer's client certificate, for every client it lets in, every trust\n"
    "anchor it has and its own CA (docs/device.md), and flags admins that are\n"
    "neither this computer nor named with --expect-admin, clients from before\n"
    "its last factory reset, a CA that is not the one pinned here, and trust\n"
    "anchors of its own.\n"
    "Exit status: 0 audited (inconsistencies are reported, not failures),\n"
    "1 the store could not be read (--device: the device could not be asked\n"
    "or refused), 2 usage error, 4 --device only: something was flagged.");
  if (!settle_ui_parse_options_only (context, "audit", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  if (device != NULL)
    return settle_audit_device (device, address, timeout_s, expected, json);
  if (expected != NULL || address != NULL)
    {
      settle_ui_failf ("audit", "--expect-admin and --address go with --device NAME");
      return SETTLE_EXIT_USAGE;
    }
  manager = settle_ui_manager ("audit", NULL, NULL);
  report = settle_manager_audit (manager, &error);
  if (report == NULL)
    {
      settle_ui_fail ("audit", error);
      return SETTLE_EXIT_FAILED;
    }
  if (json)
    print_json (report);
  else
    {
      print_bindings (report);
      print_installs (report);
      settle_ui_print_problems (report->problems, "No inconsistencies.", "Inconsistencies");
    }
  return SETTLE_EXIT_OK;
}
