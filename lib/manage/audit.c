/* audit.c: the consistency checks behind `settle audit` (audit.h). */
#include <string.h>

#include <json-glib/json-glib.h>

#include "settle-audit.h"
#include "settle-exports.h"
#include "settle-installs.h"
#include "settle-nssdb.h"
#include "settle-profiles.h"
#include "settle-paths.h"
#include "settle-snapshot-reader.h"

/* Where a p11-kit module file for settle may live (packaging/p11-kit). */
static const char *const P11KIT_SYSTEM_FILES[] = {
  "/etc/pkcs11/modules/settle.module",
  "/usr/share/p11-kit/modules/settle.module",
};
/* Where Firefox reads an enterprise policy on Debian (packaging/firefox). */
static const char *const FIREFOX_POLICY_FILES[] = {
  "/etc/firefox/policies/policies.json",
  "/usr/lib/firefox-esr/distribution/policies.json",
  "/usr/lib/firefox/distribution/policies.json",
};

static void
install_free (gpointer data)
{
  SettleAuditInstall *install = data;
  g_free (install->path);
  g_free (install->error);
  g_free (install);
}

static void
export_free (gpointer data)
{
  SettleAuditExport *export = data;
  g_free (export->path);
  g_free (export);
}

static void
problem_free (gpointer data)
{
  SettleAuditProblem *problem = data;
  g_free (problem->subject);
  g_free (problem->message);
  g_free (problem);
}

GPtrArray *
settle_audit_problems_new (void)
{
  return g_ptr_array_new_with_free_func (problem_free);
}

void
settle_audit_problems_add (GPtrArray *problems, const char *kind, const char *subject, char *message)
{
  SettleAuditProblem *problem = g_new0 (SettleAuditProblem, 1);
  problem->kind = kind;
  problem->subject = g_strdup (subject);
  problem->message = message;
  g_ptr_array_add (problems, problem);
}

void
settle_audit_report_free (SettleAuditReport *report)
{
  if (report == NULL)
    return;
  g_free (report->store);
  g_free (report->trust_dir);
  g_clear_pointer (&report->records, g_ptr_array_unref);
  g_ptr_array_unref (report->installs);
  g_ptr_array_unref (report->exports);
  g_ptr_array_unref (report->problems);
  g_free (report);
}

static void add_problem (SettleAuditReport *report, const char *kind, const char *subject,
                         const char *format, ...) G_GNUC_PRINTF (4, 5);

static void
add_problem (SettleAuditReport *report, const char *kind, const char *subject, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  settle_audit_problems_add (report->problems, kind, subject, g_strdup_vprintf (format, args));
  va_end (args);
}

/* Records the store keeps but cannot read are set aside, not lost: the
 * user must hear of them and be able to delete them. */
static void
report_unreadable (SettleAuditReport *report, GPtrArray *unreadable)
{
  for (guint i = 0; i < unreadable->len; i++)
    {
      const SettleUnreadableRecord *entry = unreadable->pdata[i];
      const char *fingerprint = entry->fingerprint != NULL ? entry->fingerprint : "(no fingerprint)";
      add_problem (report, "unreadable-record", fingerprint,
                   "A stored record cannot be read and is set aside (%s); nothing trusts it. "
                   "Upgrade settle if a newer one wrote it, or delete it with "
                   "'settle remove --fingerprint %s'.", entry->reason, fingerprint);
    }
}

/* ---- bindings against the snapshot ---- */

static void
check_expiry (SettleAuditReport *report)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; i < report->records->len; i++)
    {
      const SettleRecord *record = report->records->pdata[i];
      if (record->expires < now)
        add_problem (report, "expired-anchor", record->fingerprint,
                     "\"%s\" expired; browsers no longer accept it: remove it or pair with the device again.",
                     record->label);
    }
}

static GHashTable *
fingerprints_of_records (GPtrArray *records)
{
  GHashTable *set = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < records->len; i++)
    g_hash_table_add (set, ((SettleRecord *) records->pdata[i])->fingerprint);
  return set;
}

/* The snapshot is derived from the store after every change, so any
 * difference means a change was interrupted or someone edited a file. */
static void
check_snapshot (SettleAuditReport *report)
{
  g_autoptr (GHashTable) in_store = fingerprints_of_records (report->records);
  g_autoptr (GHashTable) in_snapshot = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  settle_snapshot *snap = NULL;
  char errbuf[256] = "";

  if (settle_snapshot_load (report->trust_dir, &snap, errbuf, sizeof errbuf) != 0)
    {
      add_problem (report, "snapshot-unreadable", report->trust_dir,
                   "The trust snapshot cannot be read (%s); run a change such as `settle reset` or re-pair.",
                   errbuf);
      return;
    }
  report->snapshot_generation = (gint64) settle_snapshot_generation (snap);
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    {
      const char *fingerprint = settle_snapshot_entry (snap, i)->record;
      if (g_hash_table_contains (in_snapshot, fingerprint))
        continue;
      g_hash_table_add (in_snapshot, g_strdup (fingerprint));
      if (!g_hash_table_contains (in_store, fingerprint))
        add_problem (report, "snapshot-entry-without-record", fingerprint,
                     "The trust snapshot still trusts %.16s..., which has no record in the store.", fingerprint);
    }
  for (guint i = 0; i < report->records->len; i++)
    {
      const SettleRecord *record = report->records->pdata[i];
      /* A manufacturer anchor is never in the snapshot, by design. */
      if (!settle_kind_is_tls_anchor (record->kind))
        continue;
      if (!g_hash_table_contains (in_snapshot, record->fingerprint))
        add_problem (report, "record-without-snapshot-entry", record->fingerprint,
                     "\"%s\" is in the store but not in the trust snapshot, so nothing trusts it yet.",
                     record->label);
    }
  settle_snapshot_free (snap);
}

/* ---- where the module is installed ---- */

static SettleAuditInstall *
find_install (SettleAuditReport *report, const char *path)
{
  for (guint i = 0; i < report->installs->len; i++)
    {
      SettleAuditInstall *install = report->installs->pdata[i];
      if (strcmp (install->path, path) == 0)
        return install;
    }
  return NULL;
}

static void
add_nssdb (SettleAuditReport *report, const char *dir, const char *found_by)
{
  SettleAuditInstall *install;
  g_autoptr (GError) error = NULL;

  if (find_install (report, dir) != NULL)
    return;
  install = g_new0 (SettleAuditInstall, 1);
  install->place = "nssdb";
  install->found_by = found_by;
  install->path = g_strdup (dir);
  install->exists = settle_nssdb_exists (dir);
  if (install->exists && !settle_nssdb_has_module (dir, &install->registered, &error))
    install->error = g_strdup (error->message);
  g_ptr_array_add (report->installs, install);
  if (!install->exists && strcmp (found_by, "settle install") == 0)
    add_problem (report, "registration-in-missing-database", dir,
                 "settle install registered the module in %s, which no longer exists.", dir);
}

static void
collect_nssdbs (SettleAuditReport *report)
{
  g_auto (GStrv) remembered = settle_installs_list ();
  gboolean chromium_absent = FALSE;
  g_auto (GStrv) chromium = settle_chromium_nssdbs (&chromium_absent);
  g_autoptr (GPtrArray) profiles = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; remembered[i] != NULL; i++)
    add_nssdb (report, remembered[i], "settle install");
  for (gsize i = 0; !chromium_absent && chromium[i] != NULL; i++)
    add_nssdb (report, chromium[i], "chromium");
  /* An unreadable profiles.ini only hides profiles; it is not our state. */
  settle_firefox_profiles (profiles, NULL);
  for (guint i = 0; i < profiles->len; i++)
    add_nssdb (report, profiles->pdata[i], "firefox profile");
}

static void
add_config_file (SettleAuditReport *report, const char *place, const char *path, gboolean registered)
{
  SettleAuditInstall *install = g_new0 (SettleAuditInstall, 1);

  install->place = place;
  install->found_by = "config file";
  install->path = g_strdup (path);
  install->exists = TRUE;
  install->registered = registered;
  g_ptr_array_add (report->installs, install);
}

static void
collect_p11kit (SettleAuditReport *report)
{
  g_autofree char *user_file = g_build_filename (g_get_user_config_dir (), "pkcs11", "modules",
                                                 "settle.module", NULL);

  if (g_file_test (user_file, G_FILE_TEST_IS_REGULAR))
    add_config_file (report, "p11-kit", user_file, TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (P11KIT_SYSTEM_FILES); i++)
    if (g_file_test (P11KIT_SYSTEM_FILES[i], G_FILE_TEST_IS_REGULAR))
      add_config_file (report, "p11-kit", P11KIT_SYSTEM_FILES[i], TRUE);
}

/* policies.SecurityDevices.Add names our module. */
static gboolean
policy_adds_module (const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;

  if (!json_parser_load_from_file (parser, path, NULL) || (root = json_parser_get_root (parser)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root))
    return FALSE;
  object = json_node_get_object (root);
  const char *const members[] = { "policies", "SecurityDevices", "Add" };
  for (gsize i = 0; i < G_N_ELEMENTS (members); i++)
    {
      JsonNode *member = json_object_get_member (object, members[i]);
      if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member))
        return FALSE;
      object = json_node_get_object (member);
    }
  return json_object_has_member (object, SETTLE_NSS_MODULE_NAME);
}

static void
collect_firefox_policies (SettleAuditReport *report)
{
  for (gsize i = 0; i < G_N_ELEMENTS (FIREFOX_POLICY_FILES); i++)
    if (g_file_test (FIREFOX_POLICY_FILES[i], G_FILE_TEST_IS_REGULAR)
        && policy_adds_module (FIREFOX_POLICY_FILES[i]))
      add_config_file (report, "firefox-policy", FIREFOX_POLICY_FILES[i], TRUE);
}

/* ---- kept exports ---- */

static void
collect_exports (SettleAuditReport *report)
{
  for (SettleExportKind kind = SETTLE_EXPORT_DIR; kind <= SETTLE_EXPORT_PEM; kind++)
    {
      g_auto (GStrv) kept = settle_export_list_kept (kind);
      for (char **path = kept; *path != NULL; path++)
        {
          SettleAuditExport *export = g_new0 (SettleAuditExport, 1);
          export->kind = kind == SETTLE_EXPORT_DIR ? "dir" : "pem";
          export->path = g_strdup (*path);
          export->present = settle_export_is_present (kind, *path);
          g_ptr_array_add (report->exports, export);
          if (!export->present)
            add_problem (report, "kept-export-missing", *path,
                         "The kept export %s is missing; run `settle export` again or `settle export --forget %s`.",
                         *path, *path);
        }
    }
}

SettleAuditReport *
settle_audit_collect (SettleStore *store, GError **error)
{
  g_autoptr (SettleAuditReport) report = g_new0 (SettleAuditReport, 1);

  report->installs = g_ptr_array_new_with_free_func (install_free);
  report->exports = g_ptr_array_new_with_free_func (export_free);
  report->problems = settle_audit_problems_new ();
  report->store = g_strdup (settle_store_describe (store));
  report->trust_dir = settle_trust_dir ();
  g_autoptr (GPtrArray) unreadable = NULL;
  report->records = settle_store_list_all (store, &unreadable, error);
  if (report->records == NULL)
    return NULL;
  report_unreadable (report, unreadable);
  check_expiry (report);
  check_snapshot (report);
  collect_nssdbs (report);
  collect_p11kit (report);
  collect_firefox_policies (report);
  collect_exports (report);
  return g_steal_pointer (&report);
}

SettleAuditReport *
settle_manager_audit (SettleManager *manager, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);

  return store != NULL ? settle_audit_collect (store, error) : NULL;
}
