/* settle-conf.c: the user's settle.conf (settle-conf.h). */
#include "settle-conf.h"

#include <errno.h>

#include "settle-error.h"

static char *
conf_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "settle", "settle.conf", NULL);
}

static GKeyFile *
conf_load (void)
{
  g_autofree char *path = conf_path ();
  GKeyFile *conf = g_key_file_new ();

  g_key_file_load_from_file (conf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  return conf;
}

static gboolean
conf_save (GKeyFile *conf, GError **error)
{
  g_autofree char *path = conf_path ();
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  return g_key_file_save_to_file (conf, path, error);
}

static char **
list_of (GKeyFile *conf, const char *group, const char *key)
{
  char **list = g_key_file_get_string_list (conf, group, key, NULL, NULL);
  return list != NULL ? list : g_new0 (char *, 1);
}

char **
settle_conf_list (const char *group, const char *key)
{
  g_autoptr (GKeyFile) conf = conf_load ();
  return list_of (conf, group, key);
}

/* Writes the list with `value` added or taken out; *changed says whether
 * anything had to change (and so whether the file was written). */
static gboolean
update_list (const char *group, const char *key, const char *value, gboolean adding, gboolean *changed,
             GError **error)
{
  g_autoptr (GKeyFile) conf = conf_load ();
  g_auto (GStrv) list = list_of (conf, group, key);
  gboolean present = g_strv_contains ((const char *const *) list, value);

  if (changed != NULL)
    *changed = present != adding;
  if (present == adding)
    return TRUE;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (char **item = list; *item != NULL; item++)
    if (g_strcmp0 (*item, value) != 0)
      g_strv_builder_add (builder, *item);
  if (adding)
    g_strv_builder_add (builder, value);
  g_auto (GStrv) updated = g_strv_builder_end (builder);
  g_key_file_set_string_list (conf, group, key, (const char *const *) updated, g_strv_length (updated));
  return conf_save (conf, error);
}

gboolean
settle_conf_list_add (const char *group, const char *key, const char *value, GError **error)
{
  return update_list (group, key, value, TRUE, NULL, error);
}

gboolean
settle_conf_list_remove (const char *group, const char *key, const char *value, gboolean *changed,
                         GError **error)
{
  return update_list (group, key, value, FALSE, changed, error);
}

gboolean
settle_conf_list_clear (const char *group, const char *key, GError **error)
{
  g_autoptr (GKeyFile) conf = conf_load ();
  if (!g_key_file_has_key (conf, group, key, NULL))
    return TRUE;
  g_key_file_remove_key (conf, group, key, NULL);
  return conf_save (conf, error);
}
