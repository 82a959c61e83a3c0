/* installs.c: the remembered module registrations (installs.h). */
#include <errno.h>

#include "installs.h"
#include "settle-error.h"

#define INSTALL_GROUP "install"
#define INSTALL_KEY "nssdbs"

static char *
installs_config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "settle", "settle.conf", NULL);
}

/* A missing or unreadable file is an empty list: the memory is a help for
 * audit and reset, never a reason to refuse an install. */
static GKeyFile *
installs_config_load (void)
{
  g_autofree char *path = installs_config_path ();
  GKeyFile *config = g_key_file_new ();

  g_key_file_load_from_file (config, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  return config;
}

static gboolean
installs_config_save (GKeyFile *config, GError **error)
{
  g_autofree char *path = installs_config_path ();
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  return g_key_file_save_to_file (config, path, error);
}

char **
settle_installs_list (void)
{
  g_autoptr (GKeyFile) config = installs_config_load ();
  char **list = g_key_file_get_string_list (config, INSTALL_GROUP, INSTALL_KEY, NULL, NULL);

  return list != NULL ? list : g_new0 (char *, 1);
}

/* Writes the list with `dir` added (adding) or taken out (!adding);
 * does not touch the file when nothing changes. */
static gboolean
installs_update (const char *dir, gboolean adding, GError **error)
{
  g_autoptr (GKeyFile) config = installs_config_load ();
  g_auto (GStrv) list = settle_installs_list ();
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) updated = NULL;
  gboolean present = g_strv_contains ((const char *const *) list, dir);

  if (present == adding)
    return TRUE;
  for (char **item = list; *item != NULL; item++)
    if (g_strcmp0 (*item, dir) != 0)
      g_strv_builder_add (builder, *item);
  if (adding)
    g_strv_builder_add (builder, dir);
  updated = g_strv_builder_end (builder);
  g_key_file_set_string_list (config, INSTALL_GROUP, INSTALL_KEY, (const char *const *) updated,
                              g_strv_length (updated));
  return installs_config_save (config, error);
}

gboolean
settle_installs_remember (const char *nssdb_dir, GError **error)
{
  return installs_update (nssdb_dir, TRUE, error);
}

gboolean
settle_installs_forget (const char *nssdb_dir, GError **error)
{
  return installs_update (nssdb_dir, FALSE, error);
}
