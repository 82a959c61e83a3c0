/* device-origins.c: the web origins an admin allowed to reach the device
 * from a browser (origins.json in the state directory):
 *
 *   {"origins": ["https://app.example", "http://localhost:8080"]}
 *
 * A browser names the page that makes a request in its Origin header;
 * only pages on these origins get CORS and local-network preflight
 * answers, and only they may change anything (device-access.c).  The
 * list starts empty: no web page at all.  Saved like the enrolments
 * (atomically, 0600); a change replaces the list only once it is on disk. */
#include "device.h"

#include <string.h>

#include "settle-error.h"
#include "settle-web-origin.h"

#define ORIGINS_FILE "origins.json"
#define ORIGINS_FILE_MAX (64 * 1024)

struct _SettleDeviceOrigins {
  char *path;       /* owned */
  GPtrArray *list;  /* owned, of owned canonical origins */
  GMutex lock;
};

static gboolean
origins_error (GError **error, const char *path, const char *problem)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "%s: %s", path, problem);
  return FALSE;
}

static gboolean
load_origins (SettleDeviceOrigins *o, GError **error)
{
  if (!g_file_test (o->path, G_FILE_TEST_EXISTS))
    return TRUE;
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (o->path, &text, &len, &local))
    return origins_error (error, o->path, local->message);
  if (len > ORIGINS_FILE_MAX)
    return origins_error (error, o->path, "the origin list is too large.");
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    return origins_error (error, o->path, local->message);
  g_auto (GStrv) origins = NULL;
  if (!settle_device_origins_parse (json_parser_get_root (parser), &origins, &local))
    return origins_error (error, o->path, local->message);
  for (char **s = origins; *s != NULL; s++)
    g_ptr_array_add (o->list, g_strdup (*s));
  return TRUE;
}

gboolean
settle_device_origins_parse (JsonNode *root, char ***origins, GError **error)
{
  JsonObject *obj = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *list = obj != NULL ? json_object_get_member (obj, "origins") : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list) || json_object_get_size (obj) != 1)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "Expected {\"origins\": [\"https://host[:port]\", ...]} and nothing else.");
      return FALSE;
    }
  JsonArray *array = json_node_get_array (list);
  guint n = json_array_get_length (array);
  if (n > SETTLE_DEVICE_ORIGINS_MAX)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "At most %d origins may be allowed.",
                   SETTLE_DEVICE_ORIGINS_MAX);
      return FALSE;
    }
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      const char *s = JSON_NODE_HOLDS_VALUE (item) && json_node_get_value_type (item) == G_TYPE_STRING
                        ? json_node_get_string (item)
                        : NULL;
      if (!settle_web_origin_valid (s))
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                       "Origin %u is not a lowercase http(s)://host[:port] origin without a path or a default port.", i + 1);
          return FALSE;
        }
      g_strv_builder_add (b, s);
    }
  *origins = g_strv_builder_end (b);
  return TRUE;
}

SettleDeviceOrigins *
settle_device_origins_open (const char *dir, GError **error)
{
  SettleDeviceOrigins *o = g_new0 (SettleDeviceOrigins, 1);
  o->path = g_build_filename (dir, ORIGINS_FILE, NULL);
  o->list = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&o->lock);
  if (!load_origins (o, error))
    {
      settle_device_origins_free (o);
      return NULL;
    }
  return o;
}

void
settle_device_origins_free (SettleDeviceOrigins *o)
{
  if (o == NULL)
    return;
  g_free (o->path);
  g_ptr_array_unref (o->list);
  g_mutex_clear (&o->lock);
  g_free (o);
}

gboolean
settle_device_origins_allowed (SettleDeviceOrigins *o, const char *origin)
{
  gboolean allowed = FALSE;
  g_mutex_lock (&o->lock);
  for (guint i = 0; !allowed && i < o->list->len; i++)
    allowed = strcmp (g_ptr_array_index (o->list, i), origin) == 0;
  g_mutex_unlock (&o->lock);
  return allowed;
}

char **
settle_device_origins_list (SettleDeviceOrigins *o)
{
  g_mutex_lock (&o->lock);
  char **copy = g_new0 (char *, o->list->len + 1);
  for (guint i = 0; i < o->list->len; i++)
    copy[i] = g_strdup (g_ptr_array_index (o->list, i));
  g_mutex_unlock (&o->lock);
  return copy;
}

gboolean
settle_device_origins_replace (SettleDeviceOrigins *o, const char *const *origins, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "origins");
  json_builder_begin_array (b);
  for (const char *const *s = origins; *s != NULL; s++)
    json_builder_add_string_value (b, *s);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, TRUE);
  g_autoptr (GError) local = NULL;
  g_mutex_lock (&o->lock);
  gboolean ok = g_file_set_contents_full (o->path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local);
  if (ok)
    {
      g_ptr_array_set_size (o->list, 0);
      for (const char *const *s = origins; *s != NULL; s++)
        g_ptr_array_add (o->list, g_strdup (*s));
    }
  g_mutex_unlock (&o->lock);
  return ok || origins_error (error, o->path, local->message);
}
