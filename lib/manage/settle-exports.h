/* settle-exports.h: copies of the trust snapshot for programs that load neither
 * the PKCS#11 module nor the provider (curl --capath / --cacert), and the
 * list of copies to keep in step ($XDG_CONFIG_HOME/settle/settle.conf). */
#pragma once

#include <glib.h>

typedef enum {
  SETTLE_EXPORT_DIR,  /* an OpenSSL hash directory */
  SETTLE_EXPORT_PEM,  /* one PEM bundle */
} SettleExportKind;

/* Writes the current snapshot (read from `trust_dir`) to `path`. */
gboolean settle_export_write (SettleExportKind kind, const char *trust_dir, const char *path,
                              GError **error);

/* Remembers `path` so every change refreshes it, or forgets it. */
gboolean settle_export_remember (SettleExportKind kind, const char *path, GError **error);
gboolean settle_export_forget (const char *path, gboolean *was_kept, GError **error);

/* Rewrites every remembered copy; stops at the first failure. */
gboolean settle_export_refresh_all (const char *trust_dir, GError **error);

/* The remembered copies of one kind (owned, NULL-terminated, maybe empty). */
char **settle_export_list_kept (SettleExportKind kind);

/* Deletes every remembered copy (for a directory: the files settle wrote
 * and the directory when that leaves it empty) and forgets them all.
 * Continues past a failure and reports the first one. */
gboolean settle_export_delete_all_kept (GError **error);

/* TRUE when the copy exists (a directory must carry settle's marker). */
gboolean settle_export_is_present (SettleExportKind kind, const char *path);
