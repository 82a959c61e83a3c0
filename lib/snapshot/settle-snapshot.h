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

G_END_DECLS
