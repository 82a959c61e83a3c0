/* exports.c: exported copies of the snapshot. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "settle-exports.h"
#include "settle-conf.h"
#include "settle-error.h"
#include "settle-snapshot-reader.h"

/* A directory we export into carries this file, so that we never empty a
 * directory that belongs to someone else. */
#define EXPORT_MARKER ".settle-export"
#define CONFIG_GROUP "export"

static gboolean
is_hash_name (const char *name)
{
  return g_regex_match_simple ("^[0-9a-f]{8}\\.[0-9]+$", name, 0, 0);
}

/* Exported anchors are public trust material: 0644 whatever the umask
 * (g_file_set_contents_full() honours it), so that the programs of other
 * users an admin points at an export can read it, and a permissive umask
 * cannot make it writable by others. */
#define EXPORT_FILE_MODE 0644
#define EXPORT_DIR_MODE 0755

static gboolean
write_public_file (const char *path, const char *contents, gsize length, GError **error)
{
  if (!g_file_set_contents_full (path, contents, length, G_FILE_SET_CONTENTS_CONSISTENT, EXPORT_FILE_MODE,
                                 error))
    return FALSE;
  if (chmod (path, EXPORT_FILE_MODE) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot set the mode of %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_file_atomically (const char *from, const char *to, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (from, &contents, &length, error))
    return FALSE;
  return write_public_file (to, contents, length, error);
}

static gboolean
claim_export_dir (const char *dir, GError **error)
{
  g_autofree char *marker = g_build_filename (dir, EXPORT_MARKER, NULL);
  g_autoptr (GDir) listing = NULL;

  if (g_mkdir_with_parents (dir, EXPORT_DIR_MODE) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  if (g_file_test (marker, G_FILE_TEST_EXISTS))
    return TRUE;
  listing = g_dir_open (dir, 0, error);
  if (listing == NULL)
    return FALSE;
  if (g_dir_read_name (listing) != NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                   "%s is not empty and was not made by settle export; choose an empty or new directory", dir);
      return FALSE;
    }
  /* Empty and new to us: ours to make readable, whatever the umask. */
  if (chmod (dir, EXPORT_DIR_MODE) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot set the mode of %s: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  static const char note[] = "This directory is kept by `settle export --dir`.\n";
  return write_public_file (marker, note, sizeof note - 1, error);
}

/* New hash files first (each replaced atomically), stale ones after: a
 * program verifying meanwhile sees a complete old or new file. */
static gboolean
export_hash_dir (const char *snapshot, const char *dir, GError **error)
{
  g_autoptr (GDir) source = NULL;
  g_autoptr (GDir) target = NULL;
  g_autoptr (GHashTable) wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;

  if (!claim_export_dir (dir, error))
    return FALSE;
  source = g_dir_open (snapshot, 0, NULL);
  while (source != NULL && (name = g_dir_read_name (source)) != NULL)
    {
      g_autofree char *from = NULL, *to = NULL;
      if (!is_hash_name (name))
        continue;
      from = g_build_filename (snapshot, name, NULL);
      to = g_build_filename (dir, name, NULL);
      if (!copy_file_atomically (from, to, error))
        return FALSE;
      g_hash_table_add (wanted, g_strdup (name));
    }
  target = g_dir_open (dir, 0, error);
  if (target == NULL)
    return FALSE;
  while ((name = g_dir_read_name (target)) != NULL)
    if (is_hash_name (name) && !g_hash_table_contains (wanted, name))
      {
        g_autofree char *stale = g_build_filename (dir, name, NULL);
        g_unlink (stale);
      }
  return TRUE;
}

gboolean
settle_export_write (SettleExportKind kind, const char *trust_dir, const char *path, GError **error)
{
  g_autofree char *bundle = g_build_filename (trust_dir, SETTLE_SNAPSHOT_BUNDLE, NULL);

  if (kind == SETTLE_EXPORT_DIR)
    return export_hash_dir (trust_dir, path, error);
  if (!g_file_test (bundle, G_FILE_TEST_EXISTS))
    return write_public_file (path, "", 0, error);
  return copy_file_atomically (bundle, path, error);
}

static const char *
kind_key (SettleExportKind kind)
{
  return kind == SETTLE_EXPORT_DIR ? "dirs" : "pem-files";
}

gboolean
settle_export_remember (SettleExportKind kind, const char *path, GError **error)
{
  return settle_conf_list_add (CONFIG_GROUP, kind_key (kind), path, error);
}

gboolean
settle_export_forget (const char *path, gboolean *was_kept, GError **error)
{
  *was_kept = FALSE;
  for (SettleExportKind kind = SETTLE_EXPORT_DIR; kind <= SETTLE_EXPORT_PEM; kind++)
    {
      gboolean removed = FALSE;
      if (!settle_conf_list_remove (CONFIG_GROUP, kind_key (kind), path, &removed, error))
        return FALSE;
      *was_kept |= removed;
    }
  return TRUE;
}

gboolean
settle_export_refresh_all (const char *trust_dir, GError **error)
{
  for (SettleExportKind kind = SETTLE_EXPORT_DIR; kind <= SETTLE_EXPORT_PEM; kind++)
    {
      g_auto (GStrv) list = settle_export_list_kept (kind);
      for (char **item = list; *item != NULL; item++)
        if (!settle_export_write (kind, trust_dir, *item, error))
          {
            g_prefix_error (error, "the kept copy %s could not be refreshed: ", *item);
            return FALSE;
          }
    }
  return TRUE;
}

char **
settle_export_list_kept (SettleExportKind kind)
{
  return settle_conf_list (CONFIG_GROUP, kind_key (kind));
}

/* Only what export_hash_dir wrote: hash files and the marker.  Anything
 * else someone put there keeps the directory alive. */
static gboolean
delete_export_dir (const char *dir, GError **error)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_autofree char *marker = g_build_filename (dir, EXPORT_MARKER, NULL);
  const char *name;

  if (listing == NULL)
    return TRUE; /* already gone */
  if (!g_file_test (marker, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                   "%s was not made by settle export, so it was left as it is", dir);
      return FALSE;
    }
  while ((name = g_dir_read_name (listing)) != NULL)
    if (is_hash_name (name))
      {
        g_autofree char *file = g_build_filename (dir, name, NULL);
        g_unlink (file);
      }
  g_unlink (marker);
  g_rmdir (dir);
  return TRUE;
}

static gboolean
delete_export_file (const char *path, GError **error)
{
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot delete %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
settle_export_delete_all_kept (GError **error)
{
  gboolean ok = TRUE;

  for (SettleExportKind kind = SETTLE_EXPORT_DIR; kind <= SETTLE_EXPORT_PEM; kind++)
    {
      g_auto (GStrv) list = settle_export_list_kept (kind);
      for (char **item = list; *item != NULL; item++)
        {
          g_autoptr (GError) local = NULL;
          gboolean deleted = kind == SETTLE_EXPORT_DIR ? delete_export_dir (*item, &local)
                                                       : delete_export_file (*item, &local);
          if (!deleted && ok)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              ok = FALSE;
            }
        }
      if (!settle_conf_list_clear (CONFIG_GROUP, kind_key (kind), ok ? error : NULL))
        ok = FALSE;
    }
  return ok;
}

gboolean
settle_export_is_present (SettleExportKind kind, const char *path)
{
  g_autofree char *marker = g_build_filename (path, EXPORT_MARKER, NULL);

  return kind == SETTLE_EXPORT_DIR ? g_file_test (marker, G_FILE_TEST_EXISTS)
                                   : g_file_test (path, G_FILE_TEST_IS_REGULAR);
}
