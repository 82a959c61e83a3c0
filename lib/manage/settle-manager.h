/* settle-manager.h: the manager API, what a front-end (the `settle`
 * command in helper/, tests/manage/scripted-frontend.c) links to change
 * what this computer trusts.
 *
 * A SettleManager does every change end to end: the record and its client
 * key in the store, the trust snapshot, kept exports, module
 * registrations (settle-commit.h keeps them in step).  It never prints:
 * progress, notices and results go to the front-end's SettleManagerEvents,
 * and every question (consent to trust, an extra name, a removal, a reset)
 * is asked through its `consent` callback.  The operations live in one
 * file each, with a header each:
 *
 *   settle-manager.h    the manager, its events; remove, list, audit, export
 *   settle-pairing.h    settle_manager_pair (the ceremony with a device)
 *   settle-trusting.h   settle_manager_trust (a CA or peer checked out of band)
 *   settle-per-device.h settle_manager_refresh, settle_manager_renew (NAME | --all)
 *   settle-reset.h      settle_manager_reset
 *   settle-install.h    settle_manager_install, settle_manager_uninstall
 *   settle-device-admin.h settle_manager_audit_device, settle_manager_device_revoke_client,
 *                       settle_manager_device_set_role (a device's own bindings)
 *
 * The store is opened when an operation first needs it, and a change that
 * a killed command left half done (the `commit-pending` mark,
 * settle-commit.h) is finished then, before anything else.
 *
 * Ownership: the events table is copied, `user_data` is borrowed for the
 * manager's life; records and strings passed to callbacks are borrowed
 * for the call. */
#pragma once

#include <glib.h>

#include "settle-record.h"
#include "settle-store.h"

G_BEGIN_DECLS

typedef struct _SettleManager SettleManager;

/* What a line the manager reports is. */
typedef enum {
  SETTLE_NOTE_STORE = 1,  /* which store is used (settle_store_describe()); once, when it is opened */
  SETTLE_NOTE_RESULT,     /* one line of an operation's outcome ("Registered in sql:DIR") */
  SETTLE_NOTE_NOTICE,     /* a failure or caution that does not end the operation (one sentence) */
  SETTLE_NOTE_WARNING,    /* something around a change went wrong; the change itself stands */
  SETTLE_NOTE_PROGRESS,   /* what the manager waits for now ("Hold the QR code ...") */
} SettleNote;

/* The questions the manager asks. */
typedef enum {
  SETTLE_QUESTION_TRUST = 1,         /* trust `record` (settle trust; settle pair when `pairing`) */
  SETTLE_QUESTION_EXTRA_NAME,        /* pairing: also trust the device for `name`, which nothing vouched for */
  SETTLE_QUESTION_REMOVE,            /* stop trusting `record` and delete its keys */
  SETTLE_QUESTION_REMOVE_UNREADABLE, /* delete the unreadable record `fingerprint` (`reason`) */
  SETTLE_QUESTION_RESET,             /* remove everything: `records`, `exports`, `registrations` */
  SETTLE_QUESTION_DEVICE_CHANGE,     /* on the device `device_name`: revoke the client `fingerprint`
                                        (`role` NULL) or give it `role` (settle-device-admin.h) */
  SETTLE_QUESTION_DEVICE_ORIGINS,    /* on the device `device_name`: allow the web origins `allow`
                                        and stop allowing `disallow` (settle-device-admin.h) */
} SettleQuestionKind;

typedef struct {
  SettleQuestionKind kind;
  const SettleRecord *record;     /* TRUST, REMOVE */
  /* TRUST during a pairing */
  gboolean pairing;
  const char *sas;                /* the check code the device shows too */
  const char *role;               /* the role the device granted this computer */
  const char *device_name;        /* the name the ceremony authenticated */
  gboolean typed_code;            /* no QR code vouched for the key or the name */
  const char *const *refused;     /* names the device claims that are not trusted (may be empty) */
  const char *manufacturer;       /* the device's voucher verified against this manufacturer
                                   * anchor (its label), or NULL (settle-manufacturer.h) */
  /* EXTRA_NAME */
  const char *name;
  gboolean first;                 /* the first such question of this pairing */
  /* REMOVE_UNREADABLE */
  const char *fingerprint;
  const char *reason;
  /* RESET */
  guint records, exports, registrations;
  /* DEVICE_CHANGE: device_name, fingerprint, role above; `self` when the
   * client is this computer */
  gboolean self;
  /* DEVICE_ORIGINS: device_name above; the origins to add and to remove
   * (NULL-terminated, either may be empty, never both) */
  const char *const *allow;
  const char *const *disallow;
} SettleQuestion;

/* Per-device outcomes of refresh and renew (settle-per-device.h). */
typedef enum {
  SETTLE_DEVICE_UP_TO_DATE = 1,   /* refresh: the device still presents the trusted CA */
  SETTLE_DEVICE_ROTATED,          /* refresh: a cross-signed new CA is trusted now (`new_fingerprint`) */
  SETTLE_DEVICE_RENEWED,          /* renew: a new client certificate (`role`, `valid_until`) */
  SETTLE_DEVICE_NOT_DUE,          /* renew: valid until `valid_until`; renewed in its last `renew_before_days` */
  SETTLE_DEVICE_FAILED,           /* --all only: `error`; the others go on */
} SettleDeviceOutcome;

typedef struct {
  SettleDeviceOutcome outcome;
  const SettleRecord *record;     /* the record as it was */
  const char *new_fingerprint;
  const char *role;
  gint64 valid_until;
  int renew_before_days;
  const GError *error;
} SettleDeviceResult;

typedef struct {
  /* A line for people (NULL: dropped). */
  void (*note) (SettleNote kind, const char *text, gpointer user_data);
  /* Pairing progress, as settle-ceremony-client.h's SettlePairProgressFn;
   * a failing step gets no end call (the operation's error says why). */
  void (*pair_step) (int step, gboolean finished, const char *detail, gpointer user_data);
  /* A question.  TRUE with *yes: answered (yes or no); with yes, *how says
   * how (SETTLE_CONSENT_PROMPT when a person typed yes).  FALSE with
   * `error` (SETTLE_ERROR_REFUSED, one sentence): nobody could be asked or
   * the front-end refuses with its own reason; the operation ends with
   * that error and changes nothing.  NULL: every question is a no. */
  gboolean (*consent) (const SettleQuestion *question, gboolean *yes, SettleConsent *how,
                       gpointer user_data, GError **error);
  /* refresh and renew: one device done (NULL: dropped). */
  void (*device_done) (const SettleDeviceResult *result, gpointer user_data);
} SettleManagerEvents;

/* Owned manager; nothing is opened yet.  `events` may be NULL (silent,
 * every question a no). */
SettleManager *settle_manager_new (const SettleManagerEvents *events, gpointer user_data);
void settle_manager_free (SettleManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleManager, settle_manager_free)

/* The store SETTLE_STORE or the environment selects (borrowed; opened
 * once, with a SETTLE_NOTE_STORE note), after finishing any change a
 * killed command left half done (a failure there is a
 * SETTLE_NOTE_WARNING: the store is still right).  NULL with `error`
 * when it cannot be opened. */
SettleStore *settle_manager_store (SettleManager *manager, GError **error);

/* Every readable record (owned array of owned SettleRecord*) and, when
 * `unreadable` is not NULL, those set aside (settle_store_list_all). */
GPtrArray *settle_manager_list (SettleManager *manager, GPtrArray **unreadable, GError **error);
/* What `settle list` shows of every readable record, without the
 * certificates (owned array of owned SettleRecordSummary*, sorted as
 * settle_manager_list; settle_store_list_summaries): the file store
 * answers it from its catalogue. */
GPtrArray *settle_manager_list_summaries (SettleManager *manager, GError **error);
/* The record NAME or FINGERPRINT names (owned). */
SettleRecord *settle_manager_lookup (SettleManager *manager, const char *query, GError **error);

/* Stops trusting the record `query` names (a name or a fingerprint),
 * after a yes to SETTLE_QUESTION_REMOVE (or at once with `yes`).  With
 * `exact_fingerprint`, `query` is a full fingerprint (any form
 * settle_fingerprint_parse takes) and may name a record the store set
 * aside as unreadable (SETTLE_QUESTION_REMOVE_UNREADABLE).  The removed
 * record is returned in *removed (owned; may be NULL); *was_unreadable
 * says which kind went. */
gboolean settle_manager_remove (SettleManager *manager, const char *query, gboolean exact_fingerprint,
                                gboolean yes, SettleRecord **removed, gboolean *was_unreadable,
                                GError **error);

/* Copies the current snapshot to `path` (absolute) as an OpenSSL hash
 * directory (`dir`) or one PEM bundle, and with `keep` remembers it so
 * every change refreshes it (settle-exports.h). */
gboolean settle_manager_export (SettleManager *manager, gboolean dir, const char *path, gboolean keep,
                                GError **error);
/* Forgets a kept export; *was_kept says whether it was one. */
gboolean settle_manager_export_forget (SettleManager *manager, const char *path, gboolean *was_kept,
                                       GError **error);

/* For the manager's own files: reports a line through the events. */
void settle_manager_note (SettleManager *manager, SettleNote kind, const char *format, ...)
  G_GNUC_PRINTF (3, 4);
/* For the manager's own files: asks `question`.  TRUE only on a yes;
 * a plain no is SETTLE_ERROR_REFUSED, "you did not answer yes, so
 * nothing was changed". */
gboolean settle_manager_ask (SettleManager *manager, const SettleQuestion *question, SettleConsent *how,
                             GError **error);
/* For the manager's own files: the events as given (never NULL). */
const SettleManagerEvents *settle_manager_events (SettleManager *manager, gpointer *user_data);

G_END_DECLS
