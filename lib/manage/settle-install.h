/* settle-install.h: registering the PKCS#11 module with NSS databases (an
 * explicit one, Chromium's, every Firefox profile), OpenSSL's default
 * paths for this user's sessions, and removing them again.  Both are
 * idempotent: running them twice changes nothing the second time.
 *
 * Reports, through the manager's note callback: one SETTLE_NOTE_RESULT
 * line per database or file ("Registered in sql:DIR", "Removed from
 * sql:DIR", "Not registered in sql:DIR", ...), a SETTLE_NOTE_NOTICE for
 * each database that could not be changed (counted as a failure) and for
 * each one skipped (a sandboxed browser, a profile without a database;
 * not a failure).  The databases registered in are remembered in
 * settle.conf (settle-installs.h) for audit and reset.
 *
 * Ownership: the request is borrowed. */
#pragma once

#include "settle-manager.h"

G_BEGIN_DECLS

typedef struct {
  char **nssdbs;       /* DIR or sql:DIR, NULL-terminated, or NULL */
  gboolean chromium;   /* Chromium's and Chrome's databases */
  gboolean firefox;    /* every Firefox profile listed in profiles.ini */
  gboolean openssl;    /* ~/.config/environment.d/60-settle.conf */
  const char *module;  /* install: the module to register; NULL: $SETTLE_PKCS11_MODULE,
                          the build tree's, else the installed one */
} SettleInstallPlaces;

/* FALSE with `error` only when nothing could be tried (no module to
 * register); else TRUE with *failures, the places that could not be
 * changed. */
gboolean settle_manager_install (SettleManager *manager, const SettleInstallPlaces *places, guint *failures,
                                 GError **error);
gboolean settle_manager_uninstall (SettleManager *manager, const SettleInstallPlaces *places, guint *failures,
                                   GError **error);

/* Removes the module registration from every NSS database settle knows
 * of: those `settle install` remembered, Chromium's, and every Firefox
 * profile's, and OpenSSL's default paths when settle wrote them.
 * Reports like settle_manager_uninstall; returns the number of places
 * that could not be changed (settle reset). */
guint settle_manager_uninstall_everywhere (SettleManager *manager);

G_END_DECLS
