/* store-keyring.c: the desktop keyring backend (Secret Service through
 * libsecret).
 *
 * Two schemas, items in the default collection only:
 *   org.settle.Anchor     attributes fingerprint, kind, label;
 *                         secret = the record JSON (application/json)
 *   org.settle.ClientKey  attribute fingerprint; secret = PKCS#8 PEM
 *
 * A locked keyring would make libsecret ask the Secret Service to show an
 * unlock prompt, which nobody may be there to answer (scripts, ssh).  So
 * every operation first asks the bus whether the default collection is
 * locked and refuses with SETTLE_ERROR_LOCKED; libsecret is then never
 * asked to unlock, and every D-Bus call has a bounded timeout. */
#include <string.h>

#include <libsecret/secret.h>

#include "settle-error.h"
#include "settle-record-json.h"
#include "store-keyring.h"

#define PROBE_TIMEOUT_MS 1500
#define KEYRING_CALL_TIMEOUT_MS 10000
#define SECRETS_BUS_NAME "org.freedesktop.secrets"

static const SecretSchema anchor_schema = {
  "org.settle.Anchor", SECRET_SCHEMA_NONE,
  {
    { "fingerprint", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "label", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
  0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

static const SecretSchema client_key_schema = {
  "org.settle.ClientKey", SECRET_SCHEMA_NONE,
  {
    { "fingerprint", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
  0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

typedef struct {
  SecretService *service;  /* owned reference */
} KeyringStore;

/* ---- is there a Secret Service at all? -------------------------------- */

static gboolean
bus_name_answer (GDBusConnection *bus, const char *method, GVariant *args,
                 const char *reply_type, GVariant **reply)
{
  *reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", method, args,
                                        G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                                        PROBE_TIMEOUT_MS, NULL, NULL);
  return *reply != NULL;
}

static gboolean
secrets_name_has_owner (GDBusConnection *bus)
{
  GVariant *reply = NULL;
  gboolean owned = FALSE;
  if (bus_name_answer (bus, "NameHasOwner", g_variant_new ("(s)", SECRETS_BUS_NAME), "(b)",
                       &reply))
    {
      g_variant_get (reply, "(b)", &owned);
      g_variant_unref (reply);
    }
  return owned;
}

static gboolean
secrets_name_is_activatable (GDBusConnection *bus)
{
  GVariant *reply = NULL;
  gboolean activatable = FALSE;
  if (bus_name_answer (bus, "ListActivatableNames", NULL, "(as)", &reply))
    {
      const char **names = NULL;
      g_variant_get (reply, "(^a&s)", &names);
      activatable = names != NULL && g_strv_contains (names, SECRETS_BUS_NAME);
      g_free (names);
      g_variant_unref (reply);
    }
  return activatable;
}

gboolean
settle_store_keyring_available (void)
{
  const char *address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  if (address == NULL || address[0] == '\0')
    return FALSE;

  GDBusConnection *bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (bus == NULL)
    return FALSE;
  gboolean available = secrets_name_has_owner (bus) || secrets_name_is_activatable (bus);
  g_object_unref (bus);
  return available;
}

/* ---- locked or not ---------------------------------------------------- */

static gboolean
keyring_error (GError **error, GError *cause, const char *action)
{
  if (g_error_matches (cause, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_LOCKED,
                 "The keyring is locked, so settle cannot %s; unlock it (for example by logging "
                 "in to the desktop) and try again.", action);
  else
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "The keyring could not %s: %s.",
                 action, cause != NULL ? cause->message : "unknown error");
  g_clear_error (&cause);
  return FALSE;
}

/* Asks the service now rather than trusting a proxy's cached property:
 * a collection locked by another program since we connected must be
 * noticed before libsecret would raise a prompt. */
static gboolean
collection_is_locked (KeyringStore *store, const char *path, gboolean *locked, GError **error)
{
  GDBusConnection *bus = g_dbus_proxy_get_connection (G_DBUS_PROXY (store->service));
  GError *local_error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (
    bus, g_dbus_proxy_get_name (G_DBUS_PROXY (store->service)), path,
    "org.freedesktop.DBus.Properties", "Get",
    g_variant_new ("(ss)", "org.freedesktop.Secret.Collection", "Locked"),
    G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, KEYRING_CALL_TIMEOUT_MS, NULL, &local_error);
  if (reply == NULL)
    return keyring_error (error, local_error, "tell whether it is locked");

  GVariant *value = NULL;
  g_variant_get (reply, "(v)", &value);
  gboolean ok = g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN);
  if (ok)
    *locked = g_variant_get_boolean (value);
  else
    g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                         "The keyring answered the Locked property with a non-boolean.");
  g_variant_unref (value);
  g_variant_unref (reply);
  return ok;
}

/* The default collection's D-Bus path (owned) once it is known to be
 * unlocked; NULL with SETTLE_ERROR_LOCKED or SETTLE_ERROR_STORE. */
static char *
unlocked_default_collection (KeyringStore *store, const char *action, GError **error)
{
  GError *local_error = NULL;
  SecretCollection *collection = secret_collection_for_alias_sync (
    store->service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, NULL, &local_error);
  if (collection == NULL)
    {
      if (local_error != NULL)
        keyring_error (error, local_error, action);
      else
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                     "The keyring has no default collection, so settle cannot %s; create one "
                     "(for example by logging in to the desktop) or set "
                     "SETTLE_STORE=file:/absolute/path.", action);
      return NULL;
    }
  char *path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection)));
  g_object_unref (collection);

  gboolean locked = TRUE;
  if (!collection_is_locked (store, path, &locked, error))
    g_clear_pointer (&path, g_free);
  else if (locked)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_LOCKED,
                   "The keyring is locked, so settle cannot %s; unlock it (for example by "
                   "logging in to the desktop) and try again.", action);
      g_clear_pointer (&path, g_free);
    }
  return path;
}

/* ---- items ------------------------------------------------------------ */

static gboolean
item_in_collection (SecretItem *item, const char *collection_path)
{
  const char *item_path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (item));
  gsize prefix_len = strlen (collection_path);
  return strncmp (item_path, collection_path, prefix_len) == 0 && item_path[prefix_len] == '/';
}

/* Owned list of owned items of `schema` in the default collection,
 * matching `fingerprint` when not NULL.  *list_out is NULL when none. */
static gboolean
find_items (KeyringStore *store, const char *collection_path, const SecretSchema *schema,
            const char *fingerprint, gboolean load_secrets, GList **list_out, GError **error)
{
  GHashTable *attributes = fingerprint != NULL
    ? secret_attributes_build (schema, "fingerprint", fingerprint, NULL)
    : g_hash_table_new (g_str_hash, g_str_equal);
  /* Without SECRET_SEARCH_UNLOCK: the collection was checked, and a
   * search must never turn into an unlock prompt. */
  SecretSearchFlags flags = SECRET_SEARCH_ALL
    | (load_secrets ? SECRET_SEARCH_LOAD_SECRETS : SECRET_SEARCH_NONE);
  GError *local_error = NULL;
  GList *found = secret_service_search_sync (store->service, schema, attributes, flags, NULL,
                                             &local_error);
  g_hash_table_unref (attributes);
  if (local_error != NULL)
    return keyring_error (error, local_error, "search the keyring");

  GList *kept = NULL;
  for (GList *l = found; l != NULL; l = l->next)
    if (item_in_collection (l->data, collection_path))
      kept = g_list_prepend (kept, g_object_ref (l->data));
  g_list_free_full (found, g_object_unref);
  *list_out = g_list_reverse (kept);
  return TRUE;
}

static gboolean
delete_items (GList *items, GError **error)
{
  for (GList *l = items; l != NULL; l = l->next)
    {
      GError *local_error = NULL;
      if (!secret_item_delete_sync (l->data, NULL, &local_error))
        return keyring_error (error, local_error, "delete a keyring item");
    }
  return TRUE;
}

static gboolean
store_item (KeyringStore *store, const char *collection_path, const SecretSchema *schema,
            GHashTable *attributes, const char *item_label, SecretValue *value,
            const char *action, GError **error)
{
  GError *local_error = NULL;
  if (!secret_service_store_sync (store->service, schema, attributes, collection_path,
                                  item_label, value, NULL, &local_error))
    return keyring_error (error, local_error, action);
  return TRUE;
}

static gboolean
item_attribute_equals (SecretItem *item, const char *name, const char *expected)
{
  GHashTable *attributes = secret_item_get_attributes (item);
  gboolean equal = attributes != NULL
    && g_strcmp0 (g_hash_table_lookup (attributes, name), expected) == 0;
  g_clear_pointer (&attributes, g_hash_table_unref);
  return equal;
}

/* ---- records ---------------------------------------------------------- */

static gboolean
keyring_write_record (gpointer state, const SettleRecord *record, const char *json,
                      SettleStoreWriteMode mode, GError **error)
{
  KeyringStore *store = state;
  char *collection = unlocked_default_collection (store, "store the record", error);
  if (collection == NULL)
    return FALSE;

  GList *existing = NULL;
  gboolean ok = find_items (store, collection, &anchor_schema, record->fingerprint, FALSE,
                            &existing, error);
  if (ok && mode == SETTLE_STORE_WRITE_NEW && existing != NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_EXISTS,
                   "This anchor is already trusted (fingerprint %s, in the keyring).",
                   record->fingerprint);
      ok = FALSE;
    }
  else if (ok && mode == SETTLE_STORE_WRITE_REPLACE && existing == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                   "No trusted record has the fingerprint %s, so there is nothing to replace.",
                   record->fingerprint);
      ok = FALSE;
    }

  const char *kind = settle_kind_to_string (record->kind);
  if (ok)
    {
      GHashTable *attributes = secret_attributes_build (&anchor_schema,
                                                        "fingerprint", record->fingerprint,
                                                        "kind", kind,
                                                        "label", record->label, NULL);
      SecretValue *value = secret_value_new (json, -1, "application/json");
      char *item_label = g_strdup_printf ("settle trust anchor: %s", record->label);
      ok = store_item (store, collection, &anchor_schema, attributes, item_label, value,
                       "store the record", error);
      g_free (item_label);
      secret_value_unref (value);
      g_hash_table_unref (attributes);
    }

  /* The new item is written first and only then are items with other
   * attributes (a renamed label) dropped: a failure in between leaves a
   * duplicate, never a lost record. */
  for (GList *l = existing; ok && l != NULL; l = l->next)
    if (!item_attribute_equals (l->data, "label", record->label)
        || !item_attribute_equals (l->data, "kind", kind))
      {
        GList single = { l->data, NULL, NULL };
        ok = delete_items (&single, error);
      }

  g_list_free_full (existing, g_object_unref);
  g_free (collection);
  return ok;
}

static SettleRecord *
record_from_item (SecretItem *item, GError **error)
{
  SecretValue *value = secret_item_get_secret (item);
  if (value == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_LOCKED,
                           "The keyring did not hand out a record; it may have been locked "
                           "meanwhile; unlock it and try again.");
      return NULL;
    }
  gsize len = 0;
  const char *json = secret_value_get (value, &len);
  GError *parse_error = NULL;
  SettleRecord *record = settle_record_from_json (json, len, &parse_error);
  secret_value_unref (value);

  if (record != NULL && !item_attribute_equals (item, "fingerprint", record->fingerprint))
    {
      g_set_error_literal (&parse_error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "its fingerprint attribute differs from the record inside.");
      g_clear_pointer (&record, settle_record_free);
    }
  if (record == NULL)
    {
      char *item_label = secret_item_get_label (item);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The keyring item \"%s\" (%s) is corrupt: %s", item_label,
                   g_dbus_proxy_get_object_path (G_DBUS_PROXY (item)), parse_error->message);
      g_free (item_label);
      g_error_free (parse_error);
    }
  return record;
}

/* Owned array of owned records read from `items`; a fingerprint kept
 * twice (an interrupted relabel) is listed once. */
static char *
item_attribute_dup (SecretItem *item, const char *name)
{
  GHashTable *attributes = secret_item_get_attributes (item);
  char *value = attributes != NULL ? g_strdup (g_hash_table_lookup (attributes, name)) : NULL;
  g_clear_pointer (&attributes, g_hash_table_unref);
  return value;
}

static GPtrArray *
records_from_items (GList *items, GPtrArray *unreadable, GError **error)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_record_free);
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);  /* borrows fingerprints */
  for (GList *l = items; l != NULL; l = l->next)
    {
      GError *local_error = NULL;
      SettleRecord *record = record_from_item (l->data, &local_error);
      if (record == NULL && unreadable != NULL
          && g_error_matches (local_error, SETTLE_ERROR, SETTLE_ERROR_FORMAT))
        {
          /* One record we cannot read must not lock the user out of the rest. */
          g_autofree char *fingerprint = item_attribute_dup (l->data, "fingerprint");
          settle_store_set_aside (unreadable, fingerprint, local_error);
          g_error_free (local_error);
          continue;
        }
      if (record == NULL)
        {
          g_propagate_error (error, local_error);
          g_clear_pointer (&records, g_ptr_array_unref);
          break;
        }
      if (g_hash_table_contains (seen, record->fingerprint))
        {
          settle_record_free (record);
          continue;
        }
      g_hash_table_add (seen, record->fingerprint);
      g_ptr_array_add (records, record);
    }
  g_hash_table_unref (seen);
  return records;
}

static GPtrArray *
read_records (KeyringStore *store, const char *fingerprint, GPtrArray *unreadable, GError **error)
{
  char *collection = unlocked_default_collection (store, "read the records", error);
  if (collection == NULL)
    return NULL;
  GList *items = NULL;
  GPtrArray *records = NULL;
  if (find_items (store, collection, &anchor_schema, fingerprint, TRUE, &items, error))
    records = records_from_items (items, unreadable, error);
  g_list_free_full (items, g_object_unref);
  g_free (collection);
  return records;
}

static SettleRecord *
keyring_read_record (gpointer state, const char *fingerprint, GError **error)
{
  GPtrArray *records = read_records (state, fingerprint, NULL, error);
  if (records == NULL)
    return NULL;
  SettleRecord *record = NULL;
  if (records->len == 0)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                 "No trusted record has the fingerprint %s.", fingerprint);
  else
    record = g_ptr_array_steal_index (records, 0);
  g_ptr_array_unref (records);
  return record;
}

static GPtrArray *
keyring_read_all (gpointer state, GPtrArray *unreadable, GError **error)
{
  KeyringStore *store = state;
  /* Every item's proxy at once, before the search that returns them all
   * (the search alone makes them one by one, which takes longer); the
   * commands that touch one record never pay for it. */
  if (!secret_service_load_collections_sync (store->service, NULL, NULL))
    g_debug ("the keyring's collections could not be loaded ahead of the search");
  return read_records (state, NULL, unreadable, error);
}

static gboolean
keyring_delete_record (gpointer state, const char *fingerprint, GError **error)
{
  KeyringStore *store = state;
  char *collection = unlocked_default_collection (store, "remove the record", error);
  if (collection == NULL)
    return FALSE;

  GList *anchors = NULL;
  GList *keys = NULL;
  gboolean ok = find_items (store, collection, &anchor_schema, fingerprint, FALSE, &anchors,
                            error)
    && find_items (store, collection, &client_key_schema, fingerprint, FALSE, &keys, error);
  if (ok && anchors == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                   "No trusted record has the fingerprint %s.", fingerprint);
      ok = FALSE;
    }
  ok = ok && delete_items (anchors, error) && delete_items (keys, error);

  g_list_free_full (anchors, g_object_unref);
  g_list_free_full (keys, g_object_unref);
  g_free (collection);
  return ok;
}

/* ---- client keys ------------------------------------------------------ */

static gboolean
keyring_write_client_key (gpointer state, const char *fingerprint, GBytes *pkcs8_pem,
                          GError **error)
{
  KeyringStore *store = state;
  char *collection = unlocked_default_collection (store, "store the client key", error);
  if (collection == NULL)
    return FALSE;

  gsize len = 0;
  const guint8 *pem = g_bytes_get_data (pkcs8_pem, &len);
  /* libsecret copies the value into its own wiped memory. */
  SecretValue *value = secret_value_new ((const char *) pem, (gssize) len,
                                         "application/x-pem-file");
  GHashTable *attributes = secret_attributes_build (&client_key_schema,
                                                    "fingerprint", fingerprint, NULL);
  char *item_label = g_strdup_printf ("settle client key: %.16s", fingerprint);
  gboolean ok = store_item (store, collection, &client_key_schema, attributes, item_label, value,
                            "store the client key", error);
  g_free (item_label);
  g_hash_table_unref (attributes);
  secret_value_unref (value);
  g_free (collection);
  return ok;
}

static GBytes *
keyring_read_client_key (gpointer state, const char *fingerprint, GError **error)
{
  KeyringStore *store = state;
  char *collection = unlocked_default_collection (store, "read the client key", error);
  if (collection == NULL)
    return NULL;

  GList *items = NULL;
  GBytes *key = NULL;
  SecretValue *value = NULL;
  if (find_items (store, collection, &client_key_schema, fingerprint, TRUE, &items, error))
    {
      if (items == NULL)
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                     "There is no client key for the fingerprint %s.", fingerprint);
      else if ((value = secret_item_get_secret (items->data)) == NULL)
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_LOCKED,
                             "The keyring did not hand out the client key; unlock it and "
                             "try again.");
    }
  if (value != NULL)
    {
      gsize len = 0;
      const char *pem = secret_value_get (value, &len);
      if (len == 0 || len > SETTLE_STORE_CLIENT_KEY_MAX)
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                     "The keyring's client key for %s is empty or larger than %d bytes.",
                     fingerprint, SETTLE_STORE_CLIENT_KEY_MAX);
      else
        key = settle_secret_bytes_new (pem, len);
      secret_value_unref (value);
    }
  g_list_free_full (items, g_object_unref);
  g_free (collection);
  return key;
}

static void
keyring_close (gpointer state)
{
  KeyringStore *store = state;
  if (store == NULL)
    return;
  g_clear_object (&store->service);
  g_free (store);
}

static gpointer
keyring_open (const char *location G_GNUC_UNUSED, char **description, GError **error)
{
  if (!settle_store_keyring_available ())
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                           "There is no keyring (Secret Service) on the session bus; start one "
                           "or set SETTLE_STORE=file:/absolute/path.");
      return NULL;
    }

  GError *local_error = NULL;
  /* Without SECRET_SERVICE_LOAD_COLLECTIONS: that makes a proxy for every
   * item of every collection (one D-Bus round trip each: 3.6 s with 1,000
   * records), and settle only ever searches by attributes. */
  SecretService *service = secret_service_get_sync (SECRET_SERVICE_OPEN_SESSION, NULL, &local_error);
  if (service == NULL)
    {
      keyring_error (error, local_error, "be opened");
      return NULL;
    }
  /* libsecret's own calls use the proxy's default timeout: bound them. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (service), KEYRING_CALL_TIMEOUT_MS);

  KeyringStore *state = g_new0 (KeyringStore, 1);
  state->service = service;
  *description = g_strdup ("keyring (Secret Service)");
  return state;
}

const SettleStoreBackend settle_store_keyring_backend = {
  .open = keyring_open,
  .write_record = keyring_write_record,
  .read_record = keyring_read_record,
  .read_all = keyring_read_all,
  .delete_record = keyring_delete_record,
  .write_client_key = keyring_write_client_key,
  .read_client_key = keyring_read_client_key,
  .close = keyring_close,
};
