/* settle-paths.h: where settle keeps its state, and the state lock.
 *
 * Everything derives from $XDG_DATA_HOME/settle (or SETTLE_DATA_DIR when
 * set, for tests and admin-managed system stores):
 *   store/     the file store (when used)
 *   trust      a symlink to the current snapshot generation
 *   snapshots/ the generations themselves
 *   lock       flock(2) target serialising every change
 * All returned strings are owned. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *settle_data_dir (void);
char *settle_trust_dir (void);       /* SETTLE_TRUST_DIR overrides */
char *settle_file_store_dir (void);
/* When this program runs from its build tree (uninstalled), that tree's
 * `relative` file (owned), so that an uninstalled settle uses its own
 * module and signer; NULL for an installed program. */
char *settle_build_tree_file (const char *relative);

/* Takes the exclusive state lock (blocking, with a clear error after
 * `timeout_ms`).  Returns a descriptor to pass to settle_state_unlock, or
 * -1 with `error` set. */
int settle_state_lock (guint timeout_ms, GError **error);
void settle_state_unlock (int fd);

G_END_DECLS
