/* store.c: the store interface, shared by both backends.
 *
 * Everything that does not depend on where records live is here, once:
 * choosing the backend, validating records before they are written,
 * resolving what a user typed into one record, sorting. */
#include <string.h>

#include <openssl/crypto.h>

#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-paths.h"
#include "settle-record-json.h"
#include "settle-store.h"
#include "store-backend.h"
#include "store-file.h"
#include "store-keyring.h"

#define LOOKUP_QUERY_MAX 512
#define LOOKUP_PREFIX_MIN 8
/* How many candidates an AMBIGUOUS message names before "and N more". */
#define AMBIGUOUS_LISTED_MAX 8

struct _SettleStore {
  const SettleStoreBackend *backend;
  gpointer state;      /* owned by the backend, released by backend->close */
  char *description;   /* owned */
};

static SettleStore *
open_backend (const SettleStoreBackend *backend, const char *location, GError **error)
{
  char *description = NULL;
  gpointer state = backend->open (location, &description, error);
  if (state == NULL)
    return NULL;
  SettleStore *store = g_new0 (SettleStore, 1);
  store->backend = backend;
  store->state = state;
  store->description = description;
  return store;
}

SettleStore *
settle_store_open_file (const char *dir, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  return open_backend (&settle_store_file_backend, dir, error);
}

SettleStore *
settle_store_open_keyring (GError **error)
{
  return open_backend (&settle_store_keyring_backend, NULL, error);
}

void
settle_store_free (SettleStore *store)
{
  if (store == NULL)
    return;
  store->backend->close (store->state);
  g_free (store->description);
  g_free (store);
}

const char *
settle_store_describe (SettleStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->description;
}

/* ---- choosing a backend ----------------------------------------------- */

static SettleStore *
open_from_setting (const char *setting, GError **error)
{
  if (strcmp (setting, "keyring") == 0)
    return settle_store_open_keyring (error);
  if (g_str_has_prefix (setting, "file:") && g_path_is_absolute (setting + 5))
    return settle_store_open_file (setting + 5, error);
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
               "SETTLE_STORE is \"%.200s\"; use \"keyring\" or \"file:/absolute/path\".", setting);
  return NULL;
}

SettleStore *
settle_store_open_default (GError **error)
{
  const char *setting = g_getenv ("SETTLE_STORE");
  if (setting != NULL && setting[0] != '\0')
    return open_from_setting (setting, error);

  if (settle_store_keyring_available ())
    return settle_store_open_keyring (error);

  char *dir = settle_file_store_dir ();
  SettleStore *store = settle_store_open_file (dir, error);
  g_free (dir);
  return store;
}

/* ---- writing ---------------------------------------------------------- */

/* The JSON that goes to the backend, after checking that it reads back:
 * the store never holds a record that a later `settle list` would
 * refuse.  Returns owned JSON and, in *parsed, the owned record it reads
 * back as (with the recomputed fingerprint even when the caller left
 * record->fingerprint unset: the backend keys on it). */
static char *
validated_json (const SettleRecord *record, SettleRecord **parsed, GError **error)
{
  char *json = settle_record_to_json (record, FALSE);
  if (json == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The record cannot be written: its times or anchor are unusable.");
      return NULL;
    }
  *parsed = settle_record_from_json (json, strlen (json), error);
  if (*parsed == NULL)
    {
      g_prefix_error (error, "The record cannot be stored: ");
      g_free (json);
      return NULL;
    }
  return json;
}

static gboolean
write_record (SettleStore *store, const SettleRecord *record, SettleStoreWriteMode mode,
              GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  SettleRecord *stored = NULL;
  char *json = validated_json (record, &stored, error);
  if (json == NULL)
    return FALSE;
  gboolean ok = store->backend->write_record (store->state, stored, json, mode, error);
  settle_record_free (stored);
  g_free (json);
  return ok;
}

gboolean
settle_store_add (SettleStore *store, const SettleRecord *record, GError **error)
{
  return write_record (store, record, SETTLE_STORE_WRITE_NEW, error);
}

gboolean
settle_store_replace (SettleStore *store, const SettleRecord *record, GError **error)
{
  return write_record (store, record, SETTLE_STORE_WRITE_REPLACE, error);
}

gboolean
settle_store_remove (SettleStore *store, const char *fingerprint, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);

  char *canonical = settle_fingerprint_parse (fingerprint, error);
  if (canonical == NULL)
    return FALSE;
  gboolean ok = store->backend->delete_record (store->state, canonical, error);
  g_free (canonical);
  return ok;
}

/* ---- reading ---------------------------------------------------------- */

static int
compare_records_by_label (gconstpointer a, gconstpointer b)
{
  const SettleRecord *left = *(const SettleRecord *const *) a;
  const SettleRecord *right = *(const SettleRecord *const *) b;
  /* The order is the summaries' (settle_record_summary_compare), so that
   * both lists agree; it looks only at these two members. */
  const SettleRecordSummary left_key = { .label = left->label, .fingerprint = left->fingerprint };
  const SettleRecordSummary right_key = { .label = right->label, .fingerprint = right->fingerprint };
  const SettleRecordSummary *left_ptr = &left_key, *right_ptr = &right_key;
  return settle_record_summary_compare (&left_ptr, &right_ptr);
}

void
settle_unreadable_record_free (SettleUnreadableRecord *unreadable)
{
  if (unreadable == NULL)
    return;
  g_free (unreadable->fingerprint);
  g_free (unreadable->reason);
  g_free (unreadable);
}

static int
compare_unreadable (gconstpointer a, gconstpointer b)
{
  const SettleUnreadableRecord *left = *(const SettleUnreadableRecord *const *) a;
  const SettleUnreadableRecord *right = *(const SettleUnreadableRecord *const *) b;
  return g_strcmp0 (left->fingerprint, right->fingerprint);
}

GPtrArray *
settle_store_list_all (SettleStore *store, GPtrArray **unreadable, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);

  g_autoptr (GPtrArray) set_aside =
    g_ptr_array_new_with_free_func ((GDestroyNotify) settle_unreadable_record_free);
  GPtrArray *records = store->backend->read_all (store->state, set_aside, error);
  if (records == NULL)
    return NULL;
  g_ptr_array_sort (records, compare_records_by_label);
  g_ptr_array_sort (set_aside, compare_unreadable);
  if (unreadable != NULL)
    *unreadable = g_steal_pointer (&set_aside);
  return records;
}

GPtrArray *
settle_store_list (SettleStore *store, GError **error)
{
  return settle_store_list_all (store, NULL, error);
}

/* The file store's catalogue keeps its rows in this order already. */
static gboolean
is_sorted (GPtrArray *items, GCompareFunc compare)
{
  for (guint i = 1; i < items->len; i++)
    if (compare (&items->pdata[i - 1], &items->pdata[i]) > 0)
      return FALSE;
  return TRUE;
}

static GPtrArray *
summaries_from_records (GPtrArray *records)
{
  GPtrArray *summaries = g_ptr_array_new_full (records->len, (GDestroyNotify) settle_record_summary_free);
  for (guint i = 0; i < records->len; i++)
    g_ptr_array_add (summaries, settle_record_summary_new (records->pdata[i]));
  return summaries;
}

GPtrArray *
settle_store_list_summaries (SettleStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (GPtrArray) set_aside =
    g_ptr_array_new_with_free_func ((GDestroyNotify) settle_unreadable_record_free);
  GPtrArray *summaries;
  if (store->backend->read_summaries != NULL)
    summaries = store->backend->read_summaries (store->state, set_aside, error);
  else
    {
      g_autoptr (GPtrArray) records = store->backend->read_all (store->state, set_aside, error);
      summaries = records != NULL ? summaries_from_records (records) : NULL;
    }
  if (summaries != NULL && !is_sorted (summaries, settle_record_summary_compare))
    g_ptr_array_sort (summaries, settle_record_summary_compare);
  return summaries;
}

/* The query as a fingerprint prefix (lowercase, separators dropped), or
 * NULL when it has other characters or fewer than LOOKUP_PREFIX_MIN hex
 * digits.  Owned. */
static char *
query_as_fingerprint_prefix (const char *query)
{
  GString *hex = g_string_new (NULL);
  for (const char *p = query; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (hex, TRUE);
          return NULL;
        }
      g_string_append_c (hex, g_ascii_tolower (*p));
    }
  if (hex->len < LOOKUP_PREFIX_MIN)
    {
      g_string_free (hex, TRUE);
      return NULL;
    }
  return g_string_free (hex, FALSE);
}

static gboolean
record_matches (const SettleRecordSummary *record, const char *query, const char *prefix)
{
  if (prefix != NULL && g_str_has_prefix (record->fingerprint, prefix))
    return TRUE;
  if (strcmp (record->label, query) == 0)
    return TRUE;
  for (gsize i = 0; record->names[i] != NULL; i++)
    if (g_ascii_strcasecmp (record->names[i], query) == 0)
      return TRUE;
  return FALSE;
}

static void
set_ambiguous_error (GPtrArray *matches, const char *query, GError **error)
{
  GString *message = g_string_new (NULL);
  g_string_append_printf (message, "\"%s\" matches %u records:", query, matches->len);
  for (guint i = 0; i < matches->len && i < AMBIGUOUS_LISTED_MAX; i++)
    {
      const SettleRecordSummary *record = g_ptr_array_index (matches, i);
      g_string_append_printf (message, "%s %s (%.16s)", i == 0 ? "" : ",", record->label,
                              record->fingerprint);
    }
  if (matches->len > AMBIGUOUS_LISTED_MAX)
    g_string_append_printf (message, " and %u more", matches->len - AMBIGUOUS_LISTED_MAX);
  g_string_append (message, "; give more of the fingerprint.");
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_AMBIGUOUS, message->str);
  g_string_free (message, TRUE);
}

/* Searched in the summaries (the file store's catalogue), then only the
 * one match read in full. */
static SettleRecord *
lookup_among_all (SettleStore *store, const char *query, GError **error)
{
  g_autoptr (GPtrArray) summaries = settle_store_list_summaries (store, error);
  if (summaries == NULL)
    return NULL;
  g_autofree char *prefix = query_as_fingerprint_prefix (query);
  g_autoptr (GPtrArray) matches = g_ptr_array_new ();  /* borrowed from summaries */
  for (guint i = 0; i < summaries->len; i++)
    if (record_matches (g_ptr_array_index (summaries, i), query, prefix))
      g_ptr_array_add (matches, g_ptr_array_index (summaries, i));
  if (matches->len == 1)
    {
      const SettleRecordSummary *match = g_ptr_array_index (matches, 0);
      return store->backend->read_record (store->state, match->fingerprint, error);
    }
  if (matches->len == 0)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                 "No trusted record matches \"%s\" (by fingerprint, label or name).", query);
  else
    set_ambiguous_error (matches, query, error);
  return NULL;
}

SettleRecord *
settle_store_lookup (SettleStore *store, const char *query, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (query[0] == '\0' || strlen (query) > LOOKUP_QUERY_MAX)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                   "Give a fingerprint, label or name of 1 to %d characters.", LOOKUP_QUERY_MAX);
      return NULL;
    }

  /* A full fingerprint names one record directly, in any spelling. */
  char *full = settle_fingerprint_parse (query, NULL);
  if (full != NULL)
    {
      SettleRecord *record = store->backend->read_record (store->state, full, error);
      g_free (full);
      return record;
    }
  return lookup_among_all (store, query, error);
}

/* ---- client keys ------------------------------------------------------ */

static gboolean
looks_like_pkcs8_pem (GBytes *pem)
{
  static const char *const headers[] = {
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
  };
  gsize len = 0;
  const char *data = g_bytes_get_data (pem, &len);
  for (gsize i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      gsize header_len = strlen (headers[i]);
      if (len >= header_len && memcmp (data, headers[i], header_len) == 0)
        return TRUE;
    }
  return FALSE;
}

gboolean
settle_store_put_client_key (SettleStore *store, const char *fingerprint, GBytes *pkcs8_pem,
                             GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);
  g_return_val_if_fail (pkcs8_pem != NULL, FALSE);

  gsize len = g_bytes_get_size (pkcs8_pem);
  if (len == 0 || len > SETTLE_STORE_CLIENT_KEY_MAX || !looks_like_pkcs8_pem (pkcs8_pem))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "A client key must be a PKCS#8 PEM private key of at most %d bytes.",
                   SETTLE_STORE_CLIENT_KEY_MAX);
      return FALSE;
    }
  char *canonical = settle_fingerprint_parse (fingerprint, error);
  if (canonical == NULL)
    return FALSE;
  gboolean ok = store->backend->write_client_key (store->state, canonical, pkcs8_pem, error);
  g_free (canonical);
  return ok;
}

GBytes *
settle_store_get_client_key (SettleStore *store, const char *fingerprint, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (fingerprint != NULL, NULL);

  char *canonical = settle_fingerprint_parse (fingerprint, error);
  if (canonical == NULL)
    return NULL;
  GBytes *key = store->backend->read_client_key (store->state, canonical, error);
  g_free (canonical);
  return key;
}

/* The buffer behind secret bytes, wiped and freed with the last reference. */
typedef struct {
  guint8 *data;
  gsize len;
} SecretBuffer;

static void
secret_buffer_free (gpointer data)
{
  SecretBuffer *buffer = data;
  OPENSSL_cleanse (buffer->data, buffer->len);
  g_free (buffer->data);
  g_free (buffer);
}

GBytes *
settle_secret_bytes_take (guint8 *data, gsize len)
{
  SecretBuffer *buffer = g_new (SecretBuffer, 1);
  buffer->data = data;
  buffer->len = len;
  return g_bytes_new_with_free_func (data, len, secret_buffer_free, buffer);
}

GBytes *
settle_secret_bytes_new (const void *data, gsize len)
{
  /* One byte more, zero: PEM text may be read as a C string. */
  guint8 *copy = g_malloc0 (len + 1);
  memcpy (copy, data, len);
  return settle_secret_bytes_take (copy, len);
}

void
settle_secure_bytes_free (GBytes *bytes)
{
  if (bytes != NULL)
    g_bytes_unref (bytes);
}
