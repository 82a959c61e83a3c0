/* settle-installs.h: which NSS databases `settle install` registered the module
 * in, remembered in $XDG_CONFIG_HOME/settle/settle.conf ([install]
 * nssdbs), so that `settle audit` can show them (and notice one that was
 * deleted) and `settle reset` can undo every one of them, including
 * databases named with --nssdb that no search would find again.
 * Directories are absolute, without the "sql:" prefix. */
#pragma once

#include <glib.h>

gboolean settle_installs_remember (const char *nssdb_dir, GError **error);
gboolean settle_installs_forget (const char *nssdb_dir, GError **error);
/* The remembered directories (owned, NULL-terminated, possibly empty). */
char **settle_installs_list (void);
