/* install.h: what `settle reset` needs from `settle uninstall`
 * (cmd-install.c), shared rather than copied. */
#pragma once

/* Removes the module registration from every NSS database settle knows
 * of: those `settle install` remembered (installs.h), Chromium's, and every
 * Firefox profile's.  Prints one line per database, like `settle
 * uninstall`; returns the number of databases that could not be changed. */
int settle_uninstall_everywhere (const char *cmd);
