/* profiles.c: Chromium's NSS database locations and Firefox's profiles.ini. */
#include "settle-profiles.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "settle-error.h"

/* Home-relative places where a Chromium build keeps its NSS database:
 * native (XDG first, then legacy), snap, flatpak (Chromium and Chrome). */
static const char *const settle_chromium_homes[] = {
  ".pki/nssdb",
  "snap/chromium/current/.local/share/pki/nssdb",
  "snap/chromium/current/.pki/nssdb",
  ".var/app/org.chromium.Chromium/data/pki/nssdb",
  ".var/app/org.chromium.Chromium/.pki/nssdb",
  ".var/app/com.google.Chrome/data/pki/nssdb",
  ".var/app/com.google.Chrome/.pki/nssdb",
  NULL,
};

/* Home-relative places of Firefox's profiles.ini besides the XDG one
 * ($XDG_CONFIG_HOME/mozilla/firefox, where Firefox ESR 153 makes new
 * profiles): the legacy directory, snap and flatpak (both spellings). */
static const char *const settle_firefox_inis[] = {
  ".mozilla/firefox/profiles.ini",
  "snap/firefox/common/.config/mozilla/firefox/profiles.ini",
  "snap/firefox/common/.mozilla/firefox/profiles.ini",
  ".var/app/org.mozilla.firefox/config/mozilla/firefox/profiles.ini",
  ".var/app/org.mozilla.firefox/.mozilla/firefox/profiles.ini",
  NULL,
};

static void
settle_add_if_database (GPtrArray *dirs, char *dir /* owned */)
{
  g_autofree char *cert9 = g_build_filename (dir, "cert9.db", NULL);
  if (g_file_test (cert9, G_FILE_TEST_IS_REGULAR))
    g_ptr_array_add (dirs, dir);
  else
    g_free (dir);
}

char **
settle_chromium_nssdbs (gboolean *to_create)
{
  GPtrArray *dirs = g_ptr_array_new ();
  char *xdg = g_build_filename (g_get_user_data_dir (), "pki", "nssdb", NULL);
  g_autofree char *xdg_default = g_strdup (xdg);
  settle_add_if_database (dirs, xdg);
  for (gsize i = 0; settle_chromium_homes[i] != NULL; i++)
    settle_add_if_database (dirs, g_build_filename (g_get_home_dir (), settle_chromium_homes[i], NULL));
  *to_create = dirs->len == 0;
  if (*to_create)
    g_ptr_array_add (dirs, g_steal_pointer (&xdg_default));
  g_ptr_array_add (dirs, NULL);
  return (char **) g_ptr_array_free (dirs, FALSE);
}

/* Adds the Path of every [ProfileN] group of one profiles.ini. */
static gboolean
settle_read_profiles_ini (const char *ini, GPtrArray *out_dirs, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  if (!g_key_file_load_from_file (kf, ini, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "cannot read %s: %s", ini, local->message);
      return FALSE;
    }
  g_autofree char *base = g_path_get_dirname (ini);
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (gsize i = 0; groups[i] != NULL; i++)
    {
      if (!g_str_has_prefix (groups[i], "Profile"))
        continue;
      g_autofree char *path = g_key_file_get_string (kf, groups[i], "Path", NULL);
      if (path == NULL || *path == '\0')
        continue;
      /* IsRelative defaults to 1 in Firefox when absent. */
      g_autoptr (GError) no_key = NULL;
      gboolean relative = g_key_file_get_boolean (kf, groups[i], "IsRelative", &no_key);
      if (no_key != NULL)
        relative = TRUE;
      g_ptr_array_add (out_dirs, relative ? g_build_filename (base, path, NULL) : g_strdup (path));
    }
  return TRUE;
}

static gboolean
settle_read_ini_if_present (const char *ini, GPtrArray *out_dirs, GError **error)
{
  return !g_file_test (ini, G_FILE_TEST_EXISTS) || settle_read_profiles_ini (ini, out_dirs, error);
}

/* Drops later copies of a profile that two profiles.ini files list. */
static void
settle_drop_duplicate_dirs (GPtrArray *dirs)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < dirs->len;)
    {
      g_autofree char *canonical = g_canonicalize_filename (g_ptr_array_index (dirs, i), NULL);
      if (g_hash_table_contains (seen, canonical))
        g_ptr_array_remove_index (dirs, i);
      else
        {
          g_hash_table_add (seen, g_steal_pointer (&canonical));
          i++;
        }
    }
}

gboolean
settle_firefox_profiles (GPtrArray *out_dirs, GError **error)
{
  g_autofree char *xdg_ini = g_build_filename (g_get_user_config_dir (), "mozilla", "firefox",
                                               "profiles.ini", NULL);
  if (!settle_read_ini_if_present (xdg_ini, out_dirs, error))
    return FALSE;
  for (gsize i = 0; settle_firefox_inis[i] != NULL; i++)
    {
      g_autofree char *ini = g_build_filename (g_get_home_dir (), settle_firefox_inis[i], NULL);
      if (!settle_read_ini_if_present (ini, out_dirs, error))
        return FALSE;
    }
  settle_drop_duplicate_dirs (out_dirs);
  return TRUE;
}

/* Firefox's `lock` is a symlink to "ADDRESS:+PID" of the process holding
 * the profile.  It stays behind when Firefox crashes or is killed: a lock
 * whose process no longer exists on this machine is stale.  A lock that
 * cannot be read that way counts as held (the safe side). */
static gboolean
settle_lock_holder_is_gone (const char *lock)
{
  g_autofree char *target = g_file_read_link (lock, NULL);
  const char *plus = target != NULL ? strrchr (target, '+') : NULL;
  guint64 pid = 0;
  if (plus == NULL || !g_ascii_string_to_unsigned (plus + 1, 10, 1, G_MAXINT32, &pid, NULL))
    return FALSE;
  return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

gboolean
settle_firefox_profile_in_use (const char *profile_dir)
{
  g_autofree char *lock = g_build_filename (profile_dir, "lock", NULL);
  return g_file_test (lock, G_FILE_TEST_IS_SYMLINK) && !settle_lock_holder_is_gone (lock);
}

const char *
settle_profile_sandbox (const char *dir)
{
  g_autofree char *snap = g_build_filename (g_get_home_dir (), "snap", NULL);
  g_autofree char *flatpak = g_build_filename (g_get_home_dir (), ".var", "app", NULL);
  if (g_str_has_prefix (dir, snap) && dir[strlen (snap)] == '/')
    return "snap";
  if (g_str_has_prefix (dir, flatpak) && dir[strlen (flatpak)] == '/')
    return "flatpak";
  return NULL;
}
