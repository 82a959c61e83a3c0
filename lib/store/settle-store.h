/* settle-store.h: where records and client keys live.
 *
 * Two backends behind one interface: the desktop keyring through
 * libsecret (schemas org.settle.Anchor and org.settle.ClientKey) and a
 * file store (a 0700 directory, one record per file, atomic writes).
 *
 * Selection (settle_store_open_default): SETTLE_STORE=keyring or
 * SETTLE_STORE=file:/absolute/path; otherwise the keyring when the
 * session bus has a Secret Service, else $XDG_DATA_HOME/settle/store.
 *
 * Writers serialise through settle_state_lock() (settle-paths.h), so the
 * backends themselves need not guard against each other.
 *
 * Ownership: a SettleStore is owned by its opener and freed with
 * settle_store_free(); records returned are owned by the caller. */
#pragma once

#include <glib.h>
#include "settle-record.h"
#include "settle-record-summary.h"

G_BEGIN_DECLS

typedef struct _SettleStore SettleStore;

SettleStore *settle_store_open_default (GError **error);
SettleStore *settle_store_open_file (const char *dir, GError **error);
SettleStore *settle_store_open_keyring (GError **error);
void settle_store_free (SettleStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleStore, settle_store_free)

/* One line for the notice the helper prints: "keyring (Secret Service)"
 * or "file store /path". Borrowed. */
const char *settle_store_describe (SettleStore *store);

/* Adds a record; SETTLE_ERROR_EXISTS when its fingerprint is present. */
gboolean settle_store_add (SettleStore *store, const SettleRecord *record, GError **error);
/* Replaces the record with the same fingerprint (renewal, rotation). */
gboolean settle_store_replace (SettleStore *store, const SettleRecord *record, GError **error);
/* A record the store holds but this settle cannot read: a newer major
 * format, a corrupt file or keyring item.  It is set aside, never dropped:
 * every other record stays usable, `settle audit` reports it, and
 * settle_store_remove() by its fingerprint deletes it. */
typedef struct {
  char *fingerprint;  /* owned: the key the store keeps it under (file name, keyring attribute) */
  char *reason;       /* owned: one sentence, where and why */
} SettleUnreadableRecord;

void settle_unreadable_record_free (SettleUnreadableRecord *unreadable);

/* All readable records, sorted by label then fingerprint; owned array of
 * owned records.  Records that cannot be read are left out. */
GPtrArray *settle_store_list (SettleStore *store, GError **error);
/* The same, and through *unreadable (owned array of owned
 * SettleUnreadableRecord, sorted by fingerprint) those set aside. */
GPtrArray *settle_store_list_all (SettleStore *store, GPtrArray **unreadable, GError **error);
/* What `settle list` shows of every readable record, sorted as
 * settle_store_list sorts: owned array of owned SettleRecordSummary*.  The
 * file store reads its catalogue instead of every record
 * (store-catalogue.h). */
GPtrArray *settle_store_list_summaries (SettleStore *store, GError **error);
/* By full fingerprint (any accepted spelling), unique fingerprint prefix
 * (>= 8 hex digits), label, or a name the record serves.  NOT_FOUND or
 * AMBIGUOUS otherwise. */
SettleRecord *settle_store_lookup (SettleStore *store, const char *query, GError **error);
/* Removes the record and its client key; NOT_FOUND when absent. */
gboolean settle_store_remove (SettleStore *store, const char *fingerprint, GError **error);

/* Per-device client private keys (PKCS#8 PEM), keyed by record fingerprint.
 * The returned bytes are owned and must be wiped by the caller
 * (settle_secure_bytes_free). */
gboolean settle_store_put_client_key (SettleStore *store, const char *fingerprint,
                                      GBytes *pkcs8_pem, GError **error);
GBytes *settle_store_get_client_key (SettleStore *store, const char *fingerprint, GError **error);

/* Bytes that hold a secret (a private key's PEM): their buffer is wiped
 * and freed when the last reference goes, whoever drops it.  _take owns
 * `data` (g_malloc'd); _new copies. */
GBytes *settle_secret_bytes_take (guint8 *data, gsize len);
GBytes *settle_secret_bytes_new (const void *data, gsize len);
/* Drops a reference to secret bytes (NULL is fine). */
void settle_secure_bytes_free (GBytes *bytes);

G_END_DECLS
