/* settle-audit.h: what `settle audit` reports (REQ-ARCH-04b): every binding, every
 * place the module is installed, every kept export, and everything that
 * disagrees: a snapshot entry without a record (or the reverse), an
 * expired anchor, a registration remembered in a database that no longer
 * exists, a kept export that is missing.  Collecting changes nothing.
 *
 * Ownership: a SettleAuditReport owns everything in it; the `place`,
 * `found_by` and problem `kind` strings are static. */
#pragma once

#include <glib.h>

#include "settle-manager.h"
#include "settle-store.h"

typedef struct {
  const char *place;      /* "nssdb", "p11-kit", "firefox-policy" */
  const char *found_by;   /* "settle install", "chromium", "firefox profile", "config file" */
  char *path;
  gboolean exists;
  gboolean registered;    /* the module is registered there */
  char *error;            /* why registration could not be read, or NULL */
} SettleAuditInstall;

typedef struct {
  const char *kind;       /* "dir" or "pem" */
  char *path;
  gboolean present;
} SettleAuditExport;

typedef struct {
  const char *kind;       /* "snapshot-entry-without-record", "record-without-snapshot-entry",
                             "expired-anchor", "registration-in-missing-database",
                             "kept-export-missing", "snapshot-unreadable", "unreadable-record" */
  char *subject;          /* a fingerprint or a path */
  char *message;          /* one sentence for people */
} SettleAuditProblem;

/* A list of SettleAuditProblem (owned, each freed with the list): the
 * report's problems and a device audit's flags. */
GPtrArray *settle_audit_problems_new (void);
/* Appends one: `kind` static, `subject` copied, `message` taken. */
void settle_audit_problems_add (GPtrArray *problems, const char *kind, const char *subject, char *message);

typedef struct {
  char *store;            /* settle_store_describe() */
  char *trust_dir;
  gint64 snapshot_generation; /* 0: no snapshot */
  GPtrArray *records;     /* SettleRecord* */
  GPtrArray *installs;    /* SettleAuditInstall* */
  GPtrArray *exports;     /* SettleAuditExport* */
  GPtrArray *problems;    /* SettleAuditProblem* */
} SettleAuditReport;

/* Owned report, or NULL with `error` when the store cannot be read. */
SettleAuditReport *settle_audit_collect (SettleStore *store, GError **error);
/* The same for the manager's store (settle_manager_store()). */
SettleAuditReport *settle_manager_audit (SettleManager *manager, GError **error);
void settle_audit_report_free (SettleAuditReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleAuditReport, settle_audit_report_free)
