/* settle-reset.h: settle_manager_reset: after one SETTLE_QUESTION_RESET
 * (skipped with `yes`), removes every record and client key, the trust
 * snapshot, every kept export and every module registration
 * (settle_manager_uninstall_everywhere); afterwards nothing of ours
 * trusts anything (REQ-ARCH-03).  Each step runs even when an earlier one
 * failed, so that as much as possible is gone; each failure is a
 * SETTLE_NOTE_NOTICE.
 *
 * Ownership: only the manager is passed in (borrowed); the results are
 * plain values in the caller's variables. */
#pragma once

#include "settle-manager.h"

G_BEGIN_DECLS

/* FALSE with `error` when nothing was removed (the store could not be
 * read, or the answer was no).  Else TRUE, with *removed the number of
 * bindings removed and *complete whether everything went. */
gboolean settle_manager_reset (SettleManager *manager, gboolean yes, guint *removed, gboolean *complete,
                               GError **error);

G_END_DECLS
