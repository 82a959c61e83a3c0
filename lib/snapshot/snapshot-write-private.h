/* snapshot-write-private.h: what the two writers of the trust snapshot
 * share (private to lib/snapshot/): snapshot-write.c writes a generation
 * from the whole store, snapshot-change.c one from the current generation
 * and a change.  Both publish through the same steps (a complete
 * generation directory, synced, renamed, then the `trust` link swapped)
 * and check what they write with the very readers that will read it. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "settle-record.h"
#include "settle-snapshot-reader.h"

/* One certificate of the snapshot, before encoding. */
typedef struct {
  settle_snap_role role;
  const SettleRecord *record; /* borrowed from the caller's array */
  X509 *cert;                 /* owned */
  char *pem;                  /* owned: TRUSTED CERTIFICATE (server auth only) */
} SnapItem;

void snapshot_item_free (SnapItem *item);
const char *snapshot_role_name (settle_snap_role role);
/* `cert` as PEM TRUSTED CERTIFICATE for server authentication (owned), or NULL. */
char *snapshot_trusted_pem (X509 *cert);
/* The items of `records` (borrowed), every check of the writer applied
 * (canonical fingerprint, single DER certificate, the scope rule); owned
 * array of owned SnapItem*, or NULL with `error` set. */
GPtrArray *snapshot_collect_items (GPtrArray *records, GError **error);
/* index.cbor of `items` (owned), or NULL with `error` set. */
GByteArray *snapshot_encode_index (GPtrArray *items, guint64 generation, GError **error);
/* `index` decoded by its reader (owned), or NULL with `error` set: the
 * writer never publishes what the readers would refuse. */
settle_snapshot *snapshot_check_readers_accept (const GByteArray *index, GError **error);

/* CBOR items appended to `out` (libcbor's encoder). */
void snapshot_put_head (GByteArray *out, size_t (*encode) (size_t, unsigned char *, size_t), size_t value);
/* index.cbor's map up to its entries: version, generation, the time now,
 * and the head of an array of `n_entries` (the entries follow). */
void snapshot_put_index_head (GByteArray *out, guint64 generation, size_t n_entries);
void snapshot_put_uint (GByteArray *out, guint64 value);
void snapshot_put_int (GByteArray *out, gint64 value);
void snapshot_put_bytes (GByteArray *out, const void *data, gsize len);
void snapshot_put_text (GByteArray *out, const char *text);
void snapshot_put_text_list (GByteArray *out, char *const *list);

gboolean snapshot_set_errno_error (GError **error, int err, const char *what, const char *path);
/* A new public (0644) file `name` in `dir_fd`, written and synced. */
gboolean snapshot_write_file_synced (int dir_fd, const char *dir, const char *name, const void *data, gsize len,
                                     GError **error);
gboolean snapshot_sync_dir (const char *dir, GError **error);
/* The OpenSSL subject hash of `item`'s certificate (`openssl rehash`), or
 * FALSE with `error` naming the item. */
gboolean snapshot_item_subject_hash (const SnapItem *item, unsigned long *hash, GError **error);
/* The next free OpenSSL hash-directory name for `item`'s subject, counted
 * in `used` (subject hash -> names given); owned, or NULL with `error`. */
char *snapshot_item_hash_file_name (const SnapItem *item, GHashTable *used, GError **error);
/* index.snap for `count` accepted entries (borrowed), bound to the
 * index.cbor already written in `dir_fd`, checked by the mapped reader
 * and written synced. */
gboolean snapshot_write_mapped_index (int dir_fd, const char *dir, const settle_snap_entry *const *entries,
                                      size_t count, guint64 generation, GError **error);
void snapshot_remove_generation_dir (const char *path);

/* Writes every file of a generation into `dir` (open as `dir_fd`),
 * syncing each; the directory itself is synced by the caller. */
typedef gboolean (*SnapshotFilesWriter) (const char *dir, int dir_fd, guint64 generation, gpointer data,
                                         GError **error);
/* Checks `trust_dir` (a symlink settle manages, or absent) and makes the
 * data and snapshots directories; *snapshots_dir_out is owned. */
gboolean snapshot_prepare_dirs (const char *trust_dir, char **snapshots_dir_out, GError **error);
/* One more than `current`'s generation (NULL: the one `trust_dir` holds)
 * and than any generation directory left in `snapshots_dir`. */
guint64 snapshot_next_generation (const char *trust_dir, const char *snapshots_dir,
                                  const settle_snapshot *current);
/* Writes generation `generation` through `write_files`, renames it into
 * place, swaps the `trust` link and prunes all generations but the new
 * one and the previous one.  With `recycle`, `write_files` may be handed
 * the directory of the generation the prune would delete, renamed to the
 * temporary name, old files and all (when there is none, an empty one):
 * it must leave exactly the new generation there (snapshot-change.c). */
gboolean snapshot_publish (const char *trust_dir, const char *snapshots_dir, guint64 generation, gboolean recycle,
                           SnapshotFilesWriter write_files, gpointer data, GError **error);
