/* openssl-paths.c: OpenSSL's default verify paths for one user, through a
 * systemd environment.d file (environment.d(5)), read by the user's
 * systemd instance and so by the graphical session and the programs it
 * starts.  The file adds the snapshot to SSL_CERT_DIR, a colon-separated
 * list of OpenSSL hash directories, after OpenSSL's own directory, by its
 * absolute path: never a relative path and never a settle: URI, which
 * OpenSSL 3.0 would also look up in the working directory (docs/openssl.md).
 * /etc/profile.d/settle.sh (packaging/profile.d) does the same for every
 * login shell of every user. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/x509.h>

#include "settle-openssl-paths.h"
#include "settle-error.h"
#include "settle-paths.h"

#define SETTLE_ENV_MARKER "# Written by `settle install --openssl`"

static char *
settle_environment_d_file (void)
{
  const char *config = g_getenv ("XDG_CONFIG_HOME");
  if (config != NULL && g_path_is_absolute (config))
    return g_build_filename (config, "environment.d", "60-settle.conf", NULL);
  return g_build_filename (g_get_home_dir (), ".config", "environment.d", "60-settle.conf", NULL);
}

/* A path environment.d and SSL_CERT_DIR take as it is: absolute, and no
 * character that either would read as syntax. */
static gboolean
settle_plain_path (const char *path)
{
  if (path == NULL || !g_path_is_absolute (path))
    return FALSE;
  for (const char *p = path; *p != '\0'; p++)
    if (*p == ':' || *p == '$' || *p == '\\' || *p == '"' || *p == '\'' || *p == '`'
        || g_ascii_isspace (*p) || g_ascii_iscntrl (*p))
      return FALSE;
  return TRUE;
}

static char *
settle_openssl_paths_contents (GError **error)
{
  g_autofree char *trust = settle_trust_dir ();
  const char *system_dir = X509_get_default_cert_dir ();
  if (!settle_plain_path (trust))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "the trust snapshot's path %s is not absolute or holds a character "
                   "SSL_CERT_DIR cannot carry (a colon, a quote, a space, a $)", trust ? trust : "(none)");
      return NULL;
    }
  if (!settle_plain_path (system_dir))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "OpenSSL's certificate directory %s cannot be written to SSL_CERT_DIR", system_dir);
      return NULL;
    }
  return g_strdup_printf (
    SETTLE_ENV_MARKER "; `settle uninstall --openssl` removes it.\n"
    "# OpenSSL programs (curl, Python, openssl s_client) started by this user's\n"
    "# systemd session trust the devices paired with settle: the snapshot is an\n"
    "# OpenSSL hash directory, added after OpenSSL's own (docs/openssl.md).\n"
    "SSL_CERT_DIR=${SSL_CERT_DIR:-%s}:%s\n", system_dir, trust);
}

gboolean
settle_openssl_paths_install (char **path, gboolean *changed, GError **error)
{
  g_autofree char *file = settle_environment_d_file ();
  g_autofree char *contents = settle_openssl_paths_contents (error);
  g_autofree char *current = NULL;
  *changed = FALSE;
  *path = g_strdup (file);
  if (contents == NULL)
    return FALSE;
  if (g_file_get_contents (file, &current, NULL, NULL))
    {
      if (strcmp (current, contents) == 0)
        return TRUE;
      if (!g_str_has_prefix (current, SETTLE_ENV_MARKER))
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                       "%s exists and settle did not write it; move it away and run this again", file);
          return FALSE;
        }
    }
  g_autofree char *dir = g_path_get_dirname (file);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "cannot create %s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  if (!g_file_set_contents_full (file, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return FALSE;
  *changed = TRUE;
  return TRUE;
}

gboolean
settle_openssl_paths_uninstall (char **path, gboolean *changed, GError **error)
{
  g_autofree char *file = settle_environment_d_file ();
  g_autofree char *current = NULL;
  g_autoptr (GError) read_error = NULL;
  *changed = FALSE;
  *path = g_strdup (file);
  if (!g_file_get_contents (file, &current, NULL, &read_error))
    {
      if (g_error_matches (read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&read_error));
      return FALSE;
    }
  if (!g_str_has_prefix (current, SETTLE_ENV_MARKER))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "%s was not written by settle; left as it is", file);
      return FALSE;
    }
  if (g_unlink (file) != 0)
    {
      int saved = errno;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "cannot remove %s: %s", file, g_strerror (saved));
      return FALSE;
    }
  *changed = TRUE;
  return TRUE;
}
