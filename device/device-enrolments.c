/* device-enrolments.c: who was paired (enrolments.json in the state
 * directory, json-glib).  One entry per issued client certificate:
 *
 *   {"enrolments": [{"serial": "9f..", "role": "admin", "subject": "CN",
 *                    "peer": "127.0.0.1", "spki_sha256": "..",
 *                    "issued": "2026-11-23T10:00:00Z",
 *                    "epoch": "<factory-reset epoch, device.h>",
 *                    "enrolled_by": {"kind": "ceremony"} | {"kind": "renewal",
 *                                    "of": "<spki_sha256 of the renewed>"},
 *                    "role_set_by": "<spki_sha256 of an admin>",
 *                    "role_set_at": "..."}]}
 *
 * The ceremony thread writes while HTTP threads read: a mutex guards the
 * in-memory list, and every change is saved at once (atomically, 0600:
 * a temporary file, fsync, rename).  A change is made on a copy of the
 * list that replaces it only once it is on disk, so neither a crash nor a
 * failed write leaves half a change, in the file or in memory. */
#include "device.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "settle-error.h"

#define ENROLMENTS_FILE "enrolments.json"
#define ENROLMENTS_MAX 10000
#define ENROLMENTS_FILE_MAX (4 * 1024 * 1024)

struct _SettleDeviceEnrolments {
  char *path;       /* owned */
  char *epoch;      /* owned: the device's factory-reset epoch */
  JsonArray *list;  /* owned, of objects */
  GMutex lock;
};

static gboolean
enrol_error (GError **error, const char *path, const char *problem)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "%s: %s", path, problem);
  return FALSE;
}

static gboolean
load_list (SettleDeviceEnrolments *e, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_test (e->path, G_FILE_TEST_EXISTS))
    {
      e->list = json_array_new ();
      return TRUE;
    }
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (e->path, &text, &len, &local))
    return enrol_error (error, e->path, local->message);
  if (len > ENROLMENTS_FILE_MAX)
    return enrol_error (error, e->path, "the enrolment list is too large.");
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    return enrol_error (error, e->path, local->message);
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonNode *list = obj != NULL ? json_object_get_member (obj, "enrolments") : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return enrol_error (error, e->path, "no \"enrolments\" array.");
  e->list = json_array_ref (json_node_get_array (list));
  /* Entries from before epochs were recorded belong to this state
   * directory, which a factory reset would have removed with them. */
  for (guint i = 0; i < json_array_get_length (e->list); i++)
    {
      JsonObject *o = json_array_get_object_element (e->list, i);
      if (o == NULL)
        return enrol_error (error, e->path, "an enrolment is not an object.");
      if (!json_object_has_member (o, "epoch"))
        json_object_set_string_member (o, "epoch", e->epoch);
    }
  return TRUE;
}

SettleDeviceEnrolments *
settle_device_enrolments_open (const char *dir, const char *epoch, GError **error)
{
  SettleDeviceEnrolments *e = g_new0 (SettleDeviceEnrolments, 1);
  e->path = g_build_filename (dir, ENROLMENTS_FILE, NULL);
  e->epoch = g_strdup (epoch);
  g_mutex_init (&e->lock);
  if (!load_list (e, error))
    {
      settle_device_enrolments_free (e);
      return NULL;
    }
  return e;
}

void
settle_device_enrolments_free (SettleDeviceEnrolments *e)
{
  if (e == NULL)
    return;
  g_free (e->path);
  g_free (e->epoch);
  g_clear_pointer (&e->list, json_array_unref);
  g_mutex_clear (&e->lock);
  g_free (e);
}

guint
settle_device_enrolments_count (SettleDeviceEnrolments *e)
{
  g_mutex_lock (&e->lock);
  guint n = json_array_get_length (e->list);
  g_mutex_unlock (&e->lock);
  return n;
}

static gboolean
save_list (const char *path, JsonArray *list, GError **error)
{
  g_autoptr (JsonObject) root_obj = json_object_new ();
  json_object_set_array_member (root_obj, "enrolments", json_array_ref (list));
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (root, root_obj);
  g_autofree char *text = json_to_string (root, TRUE);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    return enrol_error (error, path, local->message);
  return TRUE;
}

static gboolean
save_locked (SettleDeviceEnrolments *e, GError **error)
{
  return save_list (e->path, e->list, error);
}

static char *
subject_cn (X509 *cert)
{
  X509_NAME *subject = X509_get_subject_name (cert);
  int idx = X509_NAME_get_index_by_NID (subject, NID_commonName, -1);
  unsigned char *utf8 = NULL;
  int len = idx >= 0 ? ASN1_STRING_to_UTF8 (&utf8, X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, idx))) : -1;
  char *cn = len > 0 ? g_strndup ((char *) utf8, (gsize) len) : g_strdup ("");
  OPENSSL_free (utf8);
  return cn;
}

static gint index_of_serial_locked (SettleDeviceEnrolments *e, const char *serial);

static JsonObject *
entry_new (X509 *cert, const char *role, const char *peer_address, const char *epoch,
           const char *renewed_spki)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *serial = settle_device_serial_hex (cert);
  g_autofree char *cn = subject_cn (cert);
  g_autofree char *spki = settle_device_spki_sha256_hex (cert);
  g_autofree char *issued = g_date_time_format_iso8601 (now);
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "serial", serial);
  json_object_set_string_member (o, "role", role);
  json_object_set_string_member (o, "subject", cn);
  json_object_set_string_member (o, "peer", peer_address);
  json_object_set_string_member (o, "spki_sha256", spki);
  json_object_set_string_member (o, "issued", issued);
  json_object_set_string_member (o, "epoch", epoch);
  JsonObject *by = json_object_new ();
  json_object_set_string_member (by, "kind", renewed_spki != NULL ? "renewal" : "ceremony");
  if (renewed_spki != NULL)
    json_object_set_string_member (by, "of", renewed_spki);
  json_object_set_object_member (o, "enrolled_by", by);
  return o;
}

gboolean
settle_device_enrolments_add (SettleDeviceEnrolments *e, X509 *cert, const char *role,
                              const char *peer_address, X509 *renewed, GError **error)
{
  g_mutex_lock (&e->lock);
  gboolean ok = json_array_get_length (e->list) < ENROLMENTS_MAX;
  if (!ok)
    enrol_error (error, e->path, "too many enrolments; reset the device.");
  /* A renewal whose certificate an admin revoked meanwhile adds nothing. */
  g_autofree char *renewed_serial = renewed != NULL ? settle_device_serial_hex (renewed) : NULL;
  if (ok && renewed_serial != NULL && index_of_serial_locked (e, renewed_serial) < 0)
    {
      ok = FALSE;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND, "%s: the certificate being renewed was revoked.",
                   e->path);
    }
  if (ok)
    {
      g_autofree char *renewed_spki = renewed != NULL ? settle_device_spki_sha256_hex (renewed) : NULL;
      json_array_add_object_element (e->list, entry_new (cert, role, peer_address, e->epoch, renewed_spki));
      ok = save_locked (e, error);
      if (!ok)
        json_array_remove_element (e->list, json_array_get_length (e->list) - 1);
    }
  g_mutex_unlock (&e->lock);
  return ok;
}

static gint
index_of_serial_locked (SettleDeviceEnrolments *e, const char *serial)
{
  for (guint i = 0; i < json_array_get_length (e->list); i++)
    {
      JsonObject *o = json_array_get_object_element (e->list, i);
      const char *s = o != NULL ? json_object_get_string_member_with_default (o, "serial", NULL) : NULL;
      if (s != NULL && strcmp (s, serial) == 0)
        return (gint) i;
    }
  return -1;
}

void
settle_device_enrolments_remove (SettleDeviceEnrolments *e, X509 *cert)
{
  g_autofree char *serial = settle_device_serial_hex (cert);
  g_mutex_lock (&e->lock);
  gint i = index_of_serial_locked (e, serial);
  if (i >= 0)
    {
      json_array_remove_element (e->list, (guint) i);
      g_autoptr (GError) local = NULL;
      if (!save_locked (e, &local))
        g_printerr ("settle-device: %s\n", local->message);
    }
  g_mutex_unlock (&e->lock);
}

char *
settle_device_enrolments_role_of (SettleDeviceEnrolments *e, X509 *cert)
{
  g_autofree char *serial = settle_device_serial_hex (cert);
  g_autofree char *spki = settle_device_spki_sha256_hex (cert);
  char *role = NULL;
  g_mutex_lock (&e->lock);
  gint i = index_of_serial_locked (e, serial);
  JsonObject *o = i >= 0 ? json_array_get_object_element (e->list, (guint) i) : NULL;
  /* Serial and key together: a serial alone could be replayed on a
   * certificate from a CA the device retired and someone else holds. */
  const char *recorded_spki = o != NULL ? json_object_get_string_member_with_default (o, "spki_sha256", "") : "";
  if (o != NULL && strcmp (recorded_spki, spki) == 0)
    role = g_strdup (json_object_get_string_member_with_default (o, "role", NULL));
  g_mutex_unlock (&e->lock);
  return role;
}

gboolean
settle_device_enrolments_spki_known (SettleDeviceEnrolments *e, const char *spki_hex)
{
  gboolean known = FALSE;
  g_mutex_lock (&e->lock);
  for (guint i = 0; !known && i < json_array_get_length (e->list); i++)
    {
      JsonObject *o = json_array_get_object_element (e->list, i);
      const char *s = o != NULL ? json_object_get_string_member_with_default (o, "spki_sha256", NULL) : NULL;
      known = s != NULL && strcmp (s, spki_hex) == 0;
    }
  g_mutex_unlock (&e->lock);
  return known;
}

/* ---- the audit view and admin changes ---- */

/* A deep copy (owned): json_node_copy() only takes a reference to an
 * array, so the list goes through text and back. */
static JsonArray *
deep_copy (JsonArray *list)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, list);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr (JsonNode) copy = json_from_string (text, NULL);
  return copy != NULL && JSON_NODE_HOLDS_ARRAY (copy) ? json_array_ref (json_node_get_array (copy)) : json_array_new ();
}

JsonArray *
settle_device_enrolments_list (SettleDeviceEnrolments *e)
{
  g_mutex_lock (&e->lock);
  JsonArray *copy = deep_copy (e->list);
  g_mutex_unlock (&e->lock);
  return copy;
}

static gint
index_of_spki (JsonArray *list, const char *spki)
{
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *o = json_array_get_object_element (list, i);
      const char *s = json_object_get_string_member_with_default (o, "spki_sha256", NULL);
      if (s != NULL && strcmp (s, spki) == 0)
        return (gint) i;
    }
  return -1;
}

static guint
admins_in (JsonArray *list)
{
  guint n = 0;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *o = json_array_get_object_element (list, i);
      n += g_strcmp0 (json_object_get_string_member_with_default (o, "role", NULL), "admin") == 0;
    }
  return n;
}

SettleDeviceChange
settle_device_enrolments_change (SettleDeviceEnrolments *e, const char *spki, const char *new_role,
                                 const char *actor_spki, GError **error)
{
  g_mutex_lock (&e->lock);
  /* The change is made on a deep copy that replaces the list only once it
   * is saved. */
  g_autoptr (JsonArray) list = deep_copy (e->list);
  SettleDeviceChange result = SETTLE_DEVICE_CHANGE_DONE;
  gint i = index_of_spki (list, spki);
  if (i < 0)
    result = SETTLE_DEVICE_CHANGE_UNKNOWN;
  else if (new_role == NULL)
    {
      json_array_remove_element (list, (guint) i);
      /* A renewal of it that is on its way (its new certificate recorded,
       * the old one not yet retired) goes with it. */
      for (guint j = json_array_get_length (list); j-- > 0;)
        {
          JsonObject *o = json_array_get_object_element (list, j);
          JsonObject *by = json_object_has_member (o, "enrolled_by") ? json_object_get_object_member (o, "enrolled_by") : NULL;
          if (by != NULL && g_strcmp0 (json_object_get_string_member_with_default (by, "of", NULL), spki) == 0)
            json_array_remove_element (list, j);
        }
    }
  else
    {
      JsonObject *o = json_array_get_object_element (list, (guint) i);
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *at = g_date_time_format_iso8601 (now);
      json_object_set_string_member (o, "role", new_role);
      json_object_set_string_member (o, "role_set_by", actor_spki);
      json_object_set_string_member (o, "role_set_at", at);
    }
  /* One rule: a device always keeps an admin, or nobody could audit or
   * change it again short of a factory reset. */
  if (result == SETTLE_DEVICE_CHANGE_DONE && admins_in (list) == 0 && admins_in (e->list) > 0)
    result = SETTLE_DEVICE_CHANGE_LAST_ADMIN;
  if (result == SETTLE_DEVICE_CHANGE_DONE)
    {
      if (save_list (e->path, list, error))
        {
          json_array_unref (e->list);
          e->list = json_array_ref (list);
        }
      else
        result = SETTLE_DEVICE_CHANGE_FAILED;
    }
  g_mutex_unlock (&e->lock);
  return result;
}
