/* settle-nssdb.h: registering the PKCS#11 module in NSS databases with modutil.
 *
 * modutil (libnss3-tools) is NSS's own tool for this; using it keeps the
 * helper out of pkcs11.txt's format and NSS's locking.  A database is named
 * by its directory; the "sql:" prefix is accepted and stripped.
 * All returned strings are owned. */
#pragma once

#include <glib.h>

#define SETTLE_NSS_MODULE_NAME "SETTLE Local Trust"

/* "sql:DIR" or "DIR" -> "DIR" (absolute).  NULL with `error` for "dbm:"
 * (the legacy format NSS no longer writes) or an empty name. */
char *settle_nssdb_dir_from_arg (const char *arg, GError **error);

/* TRUE when DIR holds an SQL NSS database (cert9.db and pkcs11.txt). */
gboolean settle_nssdb_exists (const char *dir);

/* Creates an empty SQL database without a password (certutil -N), the way
 * Chromium creates its own when none exists.  Creates DIR (0700) too. */
gboolean settle_nssdb_create (const char *dir, GError **error);

/* Whether the module is registered in DIR under SETTLE_NSS_MODULE_NAME. */
gboolean settle_nssdb_has_module (const char *dir, gboolean *has, GError **error);

/* Registers `module_path` (absolute) in DIR, replacing an earlier
 * registration under the same name so that a changed path takes effect.
 * `*changed` says whether anything was written. */
gboolean settle_nssdb_add_module (const char *dir, const char *module_path, gboolean *changed,
                                  GError **error);

/* Removes the registration; a database without it is left as it is. */
gboolean settle_nssdb_remove_module (const char *dir, gboolean *changed, GError **error);
