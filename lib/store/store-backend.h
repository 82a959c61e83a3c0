/* store-backend.h: the private contract between store.c and its two
 * backends (store-file.c, store-keyring.c).  store.c owns the table of
 * backends and calls them; a backend never calls store.c (only the
 * helpers of store-backend.c), so the files form no cycle.
 *
 * store.c owns everything backends share: argument checks, fingerprint
 * spelling, JSON validation before writing, lookup by prefix, label or
 * name, and sorting.  A backend only keeps JSON text and key bytes under
 * canonical fingerprints (64 lowercase hex digits, already checked). */
#pragma once

#include <glib.h>

#include "settle-store.h"

G_BEGIN_DECLS

/* The same cap as the record parser's: nothing larger can be a record. */
#define SETTLE_STORE_RECORD_MAX (1024 * 1024)
/* A PKCS#8 PEM key of any algorithm settle uses is a few KiB. */
#define SETTLE_STORE_CLIENT_KEY_MAX (64 * 1024)

typedef enum {
  SETTLE_STORE_WRITE_NEW,      /* fail with SETTLE_ERROR_EXISTS when present */
  SETTLE_STORE_WRITE_REPLACE,  /* fail with SETTLE_ERROR_NOT_FOUND when absent */
} SettleStoreWriteMode;

typedef struct {
  /* Opens the backend at `location` (a directory for the file store, NULL
   * for the keyring) and returns its state, owned by the store until
   * close(); *description is the owned one-line text of
   * settle_store_describe(). */
  gpointer (*open) (const char *location, char **description, GError **error);
  /* Writes `json` (the validated form of `record`, borrowed) under
   * record->fingerprint. */
  gboolean (*write_record) (gpointer state, const SettleRecord *record, const char *json,
                            SettleStoreWriteMode mode, GError **error);
  /* Owned record by exact fingerprint; SETTLE_ERROR_NOT_FOUND when absent. */
  SettleRecord *(*read_record) (gpointer state, const char *fingerprint, GError **error);
  /* Owned array of owned records, in no particular order.  A record that
   * does not parse (SETTLE_ERROR_FORMAT) is appended to `unreadable`
   * (SettleUnreadableRecord*) instead of failing the whole list; other
   * errors (I/O, a locked keyring) fail it. */
  GPtrArray *(*read_all) (gpointer state, GPtrArray *unreadable, GError **error);
  /* Optional (NULL: made from read_all): owned array of owned
   * SettleRecordSummary*, one per readable record, in no particular
   * order; `unreadable` and errors as read_all.  Must list exactly the
   * records read_all would, each as settle_record_summary_new makes it. */
  GPtrArray *(*read_summaries) (gpointer state, GPtrArray *unreadable, GError **error);
  /* Deletes the record and its client key; NOT_FOUND when no record. */
  gboolean (*delete_record) (gpointer state, const char *fingerprint, GError **error);
  gboolean (*write_client_key) (gpointer state, const char *fingerprint, GBytes *pkcs8_pem,
                                GError **error);
  /* Owned bytes the caller wipes; NOT_FOUND when absent. */
  GBytes *(*read_client_key) (gpointer state, const char *fingerprint, GError **error);
  void (*close) (gpointer state);
} SettleStoreBackend;

/* For backends (store-backend.c): appends to `unreadable` the record kept under `fingerprint` that failed
 * with `error` (borrowed). */
void settle_store_set_aside (GPtrArray *unreadable, const char *fingerprint, const GError *error);

G_END_DECLS
