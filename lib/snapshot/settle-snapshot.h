/* settle-snapshot.h: writing the derived, public trust snapshot.
 *
 * The snapshot is what the PKCS#11 module and the OpenSSL provider read;
 * neither ever touches the store.  Layout and format: docs/snapshot.md.
 * A new generation directory is written completely, then the `trust`
 * symlink is swapped with rename(2), so readers see either the old or the
 * new snapshot, never a mixture. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes a new generation from `records` (SettleRecord*, borrowed) and
 * points `trust_dir` (a symlink path) at it.  Keeps the previous
 * generation for readers still walking it and deletes older ones. */
gboolean settle_snapshot_write (const char *trust_dir, GPtrArray *records, GError **error);

/* Writes a new generation from the current one and a change: the entries
 * of the records whose fingerprints are in `removed` (NULL-terminated,
 * may be NULL) go, those of `added` (SettleRecord*, borrowed, may be
 * NULL) come, with every check settle_snapshot_write makes on them; a
 * record in both is replaced.  The entries of every other record are
 * taken over as the current generation's readers accept them, without
 * reading the store.  When the current generation cannot be changed so
 * (written before index.snap existed, an entry its reader refuses, files
 * that do not hold what its index says), returns FALSE with *needs_full
 * set and no error: write the generation from the whole store. */
gboolean settle_snapshot_write_change (const char *trust_dir, const char *const *removed, GPtrArray *added,
                                       gboolean *needs_full, GError **error);

/* Writes the name map libnss_settle reads (lib/names/settle-portable-map.h)
 * as `path` (0600, atomically) from the portable devices among `records`
 * (borrowed): each record's first name with its discovery key and period.
 * Without any, the file is removed, so nothing of a removed device stays. */
gboolean settle_portable_map_write (const char *path, GPtrArray *records, GError **error);
/* Where: settle_data_dir()/portable-hosts (owned). */
char *settle_portable_map_path (void);

G_END_DECLS
