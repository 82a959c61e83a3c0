/* settle-profiles.h: where browsers keep the NSS databases the module goes into.
 * Reasons for each location: docs/nss-module.md, "Registration".
 * All returned vectors and strings are owned. */
#pragma once

#include <glib.h>

/* Chromium's candidate databases that exist now: $XDG_DATA_HOME/pki/nssdb
 * (Chromium 146 and later), ~/.pki/nssdb (earlier, and still used where it
 * exists), and the same two inside the snap and flatpak sandboxes.  When
 * none exists, returns the one directory Chromium would create today
 * ($XDG_DATA_HOME/pki/nssdb) and sets *to_create. */
char **settle_chromium_nssdbs (gboolean *to_create);

/* The profile directories listed in Firefox's profiles.ini files (the
 * XDG one, $XDG_CONFIG_HOME/mozilla/firefox, where Firefox ESR 153 makes
 * new profiles; the legacy ~/.mozilla/firefox; snap and flatpak), each
 * once.  FALSE with `error` when a profiles.ini cannot be parsed; an
 * absent one just adds nothing. */
gboolean settle_firefox_profiles (GPtrArray *out_dirs, GError **error);

/* TRUE when Firefox runs with this profile: its `lock` symlink exists and
 * names a process that is still alive (a crashed Firefox leaves a stale
 * lock behind). */
gboolean settle_firefox_profile_in_use (const char *profile_dir);

/* "snap" or "flatpak" when `dir` lies in such a sandbox's part of the home
 * directory, else NULL.  A sandboxed browser cannot load a module from
 * the host's /usr (strict snap confinement; flatpak without host-os), so
 * settle does not register it there (docs/nss-module.md). */
const char *settle_profile_sandbox (const char *dir);
