/* settle-openssl-paths.h: `settle install --openssl` and `settle uninstall
 * --openssl`: OpenSSL's default verify paths of this user's systemd
 * sessions include the trust snapshot (docs/install.md, docs/openssl.md). */
#pragma once

#include <glib.h>

/* Writes $XDG_CONFIG_HOME/environment.d/60-settle.conf (default
 * ~/.config), which appends the snapshot's absolute path to SSL_CERT_DIR
 * after OpenSSL's own directory.  Sets *changed when the file was written
 * (FALSE: it already said exactly that).  Stores the written path in
 * *path (owned). */
gboolean settle_openssl_paths_install (char **path, gboolean *changed, GError **error);
/* Removes that file if settle wrote it; *changed FALSE when there was none.
 * A file of that name that settle did not write is left alone (error). */
gboolean settle_openssl_paths_uninstall (char **path, gboolean *changed, GError **error);
