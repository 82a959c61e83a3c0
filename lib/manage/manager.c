/* manager.c: the manager (settle-manager.h): its events, the store opened
 * once with the recovery of an interrupted change, and the operations
 * small enough to need no file of their own: remove, list, export. */
#include <stdarg.h>

#include "settle-commit.h"
#include "settle-error.h"
#include "settle-exports.h"
#include "settle-fingerprint.h"
#include "settle-manager.h"
#include "settle-paths.h"

struct _SettleManager {
  SettleManagerEvents events;
  gpointer user_data;
  SettleStore *store;   /* owned, NULL until an operation needs it */
};

SettleManager *
settle_manager_new (const SettleManagerEvents *events, gpointer user_data)
{
  SettleManager *manager = g_new0 (SettleManager, 1);

  if (events != NULL)
    manager->events = *events;
  manager->user_data = user_data;
  return manager;
}

void
settle_manager_free (SettleManager *manager)
{
  if (manager == NULL)
    return;
  g_clear_pointer (&manager->store, settle_store_free);
  g_free (manager);
}

const SettleManagerEvents *
settle_manager_events (SettleManager *manager, gpointer *user_data)
{
  if (user_data != NULL)
    *user_data = manager->user_data;
  return &manager->events;
}

void
settle_manager_note (SettleManager *manager, SettleNote kind, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  if (manager->events.note == NULL)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  manager->events.note (kind, text, manager->user_data);
}

gboolean
settle_manager_ask (SettleManager *manager, const SettleQuestion *question, SettleConsent *how,
                    GError **error)
{
  gboolean yes = FALSE;
  SettleConsent answered = SETTLE_CONSENT_PROMPT;

  if (manager->events.consent != NULL
      && !manager->events.consent (question, &yes, &answered, manager->user_data, error))
    return FALSE;
  if (!yes)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                           "you did not answer yes, so nothing was changed");
      return FALSE;
    }
  if (how != NULL)
    *how = answered;
  return TRUE;
}

SettleStore *
settle_manager_store (SettleManager *manager, GError **error)
{
  g_autoptr (GError) recover_error = NULL;

  if (manager->store != NULL)
    return manager->store;
  manager->store = settle_store_open_default (error);
  if (manager->store == NULL)
    return NULL;
  settle_manager_note (manager, SETTLE_NOTE_STORE, "%s", settle_store_describe (manager->store));
  /* A failure here is not this operation's: it is said, and the
   * operation goes on with the store, which is right even when the
   * snapshot lags. */
  if (!settle_commit_recover (manager, &recover_error))
    settle_manager_note (manager, SETTLE_NOTE_WARNING, "an interrupted change could not be finished: %s",
                         recover_error->message);
  return manager->store;
}

GPtrArray *
settle_manager_list (SettleManager *manager, GPtrArray **unreadable, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);

  if (store == NULL)
    return NULL;
  return unreadable != NULL ? settle_store_list_all (store, unreadable, error) : settle_store_list (store, error);
}

GPtrArray *
settle_manager_list_summaries (SettleManager *manager, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);

  return store != NULL ? settle_store_list_summaries (store, error) : NULL;
}

SettleRecord *
settle_manager_lookup (SettleManager *manager, const char *query, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);

  return store != NULL ? settle_store_lookup (store, query, error) : NULL;
}

/* ---- remove ---- */

/* The set-aside record with exactly this fingerprint (borrowed from
 * `unreadable`), or NULL. */
static const SettleUnreadableRecord *
find_unreadable (GPtrArray *unreadable, const char *fingerprint)
{
  for (guint i = 0; unreadable != NULL && i < unreadable->len; i++)
    {
      const SettleUnreadableRecord *entry = unreadable->pdata[i];
      if (g_strcmp0 (entry->fingerprint, fingerprint) == 0)
        return entry;
    }
  return NULL;
}

/* A record this settle cannot read is not in the snapshot, so deleting it
 * changes nothing that is trusted; the exact fingerprint is required. */
static gboolean
remove_unreadable (SettleManager *manager, const SettleUnreadableRecord *entry, gboolean yes, GError **error)
{
  SettleQuestion question = {
    .kind = SETTLE_QUESTION_REMOVE_UNREADABLE,
    .fingerprint = entry->fingerprint,
    .reason = entry->reason,
  };

  if (!yes && !settle_manager_ask (manager, &question, NULL, error))
    return FALSE;
  return settle_commit_remove_unreadable (manager, entry->fingerprint, error);
}

/* The record with exactly this fingerprint, read from its own file or
 * item.  Only when that one does not parse are all records listed, to find
 * it among the set-aside ones (*set_aside_out, owned by *unreadable_out):
 * listing all costs O(N) and is needed only for the rare unreadable one. */
static SettleRecord *
lookup_exact (SettleStore *store, const char *fingerprint, GPtrArray **unreadable_out,
              const SettleUnreadableRecord **set_aside_out, GError **error)
{
  g_autoptr (GError) lookup_error = NULL;
  SettleRecord *record = settle_store_lookup (store, fingerprint, &lookup_error);

  if (record != NULL || !g_error_matches (lookup_error, SETTLE_ERROR, SETTLE_ERROR_FORMAT))
    {
      if (record == NULL)
        g_propagate_error (error, g_steal_pointer (&lookup_error));
      return record;
    }
  g_autoptr (GPtrArray) records = settle_store_list_all (store, unreadable_out, error);
  if (records == NULL)
    return NULL;
  if ((*set_aside_out = find_unreadable (*unreadable_out, fingerprint)) == NULL)
    g_propagate_error (error, g_steal_pointer (&lookup_error));
  return NULL;
}

gboolean
settle_manager_remove (SettleManager *manager, const char *query, gboolean exact_fingerprint, gboolean yes,
                       SettleRecord **removed, gboolean *was_unreadable, GError **error)
{
  SettleStore *store = settle_manager_store (manager, error);
  g_autofree char *fingerprint = NULL;
  g_autoptr (GPtrArray) unreadable = NULL;
  g_autoptr (SettleRecord) record = NULL;
  const SettleUnreadableRecord *set_aside = NULL;
  SettleQuestion question = { .kind = SETTLE_QUESTION_REMOVE };

  if (removed != NULL)
    *removed = NULL;
  if (was_unreadable != NULL)
    *was_unreadable = FALSE;
  if (store == NULL)
    return FALSE;
  if (exact_fingerprint)
    {
      if ((fingerprint = settle_fingerprint_parse (query, error)) == NULL)
        return FALSE;
      record = lookup_exact (store, fingerprint, &unreadable, &set_aside, error);
      if (set_aside != NULL)
        {
          if (was_unreadable != NULL)
            *was_unreadable = TRUE;
          return remove_unreadable (manager, set_aside, yes, error);
        }
    }
  else
    record = settle_store_lookup (store, query, error);
  if (record == NULL)
    return FALSE;
  question.record = record;
  if (!yes && !settle_manager_ask (manager, &question, NULL, error))
    return FALSE;
  if (!settle_commit_remove (manager, record, error))
    return FALSE;
  if (removed != NULL)
    *removed = g_steal_pointer (&record);
  return TRUE;
}

/* ---- export ---- */

gboolean
settle_manager_export (SettleManager *manager, gboolean dir, const char *path, gboolean keep, GError **error)
{
  SettleExportKind kind = dir ? SETTLE_EXPORT_DIR : SETTLE_EXPORT_PEM;
  g_autofree char *trust_dir = settle_trust_dir ();

  (void) manager;
  if (!settle_export_write (kind, trust_dir, path, error))
    return FALSE;
  return !keep || settle_export_remember (kind, path, error);
}

gboolean
settle_manager_export_forget (SettleManager *manager, const char *path, gboolean *was_kept, GError **error)
{
  (void) manager;
  return settle_export_forget (path, was_kept, error);
}
