/* record-json.c: the JSON form of a record (schema/record.schema.json).
 *
 * The same text is the file store's record file, the keyring item's
 * secret and the `--json` output, so the parser is the one gate every
 * stored record passes through: it refuses what the schema refuses and
 * also checks what a schema cannot (the fingerprint is recomputed from
 * the anchor, every DER blob must parse as one X.509 certificate). */
#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/crypto.h>

#include "settle-endpoint.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-name-rule.h"
#include "settle-cert-shape.h"
#include "settle-portable-name.h"
#include "settle-record-json.h"
#include "settle-record.h"

/* Input and field bounds; schema/record.schema.json states the same. */
#define RECORD_JSON_MAX (1024 * 1024)
#define LABEL_MAX 256
#define ROLE_MAX 64
#define NAME_MAX_LEN 253
#define NAME_LIST_MAX 64
#define DER_MAX (64 * 1024)

typedef struct {
  const char *member;
  gboolean required;
} MemberRule;

/* At most this many members a newer minor version added are kept. */
#define EXTRA_MEMBERS_MAX 64
#define FORMAT_MINOR_MAX 1000000

static const MemberRule member_rules[] = {
  { "format", TRUE },
  { "format_minor", FALSE },
  { "fingerprint", TRUE },
  { "kind", TRUE },
  { "label", TRUE },
  { "names", TRUE },
  { "scope", TRUE },
  { "created", TRUE },
  { "expires", TRUE },
  { "consent", TRUE },
  { "role", FALSE },
  { "anchor_der", TRUE },
  { "wrapper_root_der", FALSE },
  { "cross_der", FALSE },
  { "client_cert_der", FALSE },
  { "address", FALSE },
  { "discovery", FALSE },
};

static gboolean
format_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Always returns FALSE so that callers can `return format_error (...)`. */
static gboolean
format_error (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, message);
  g_free (message);
  return FALSE;
}

/* ---- writing ---------------------------------------------------------- */

/* Owned "YYYY-MM-DDTHH:MM:SSZ", or NULL when GDateTime cannot represent
 * the instant (outside years 1..9999). */
static char *
utc_time_to_text (gint64 unix_seconds)
{
  GDateTime *when = g_date_time_new_from_unix_utc (unix_seconds);
  if (when == NULL)
    return NULL;
  char *text = g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ",
                                g_date_time_get_year (when), g_date_time_get_month (when),
                                g_date_time_get_day_of_month (when), g_date_time_get_hour (when),
                                g_date_time_get_minute (when), g_date_time_get_second (when));
  g_date_time_unref (when);
  return text;
}

static void
add_string_list (JsonBuilder *builder, const char *member, char *const *list)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (gsize i = 0; list != NULL && list[i] != NULL; i++)
    json_builder_add_string_value (builder, list[i]);
  json_builder_end_array (builder);
}

static void
add_base64_member (JsonBuilder *builder, const char *member, GBytes *der)
{
  if (der == NULL)
    return;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (der, &len);
  char *text = g_base64_encode (data, len);
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, text);
  g_free (text);
}

static gboolean
is_known_member (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (member_rules); i++)
    if (strcmp (name, member_rules[i].member) == 0)
      return TRUE;
  return FALSE;
}

/* Writes back the members a newer settle added, as they were read; a
 * member this settle knows is never taken from there. */
static void
add_extra_members (JsonBuilder *builder, const char *extra_json)
{
  if (extra_json == NULL)
    return;
  JsonNode *extra = json_from_string (extra_json, NULL);
  if (extra != NULL && JSON_NODE_HOLDS_OBJECT (extra))
    {
      JsonObject *object = json_node_get_object (extra);
      GList *members = json_object_get_members (object);
      for (GList *l = members; l != NULL; l = l->next)
        if (!is_known_member (l->data))
          {
            json_builder_set_member_name (builder, l->data);
            json_builder_add_value (builder, json_node_copy (json_object_get_member (object, l->data)));
          }
      g_list_free (members);
    }
  if (extra != NULL)
    json_node_unref (extra);
}

static char *
record_fingerprint_dup (const SettleRecord *record)
{
  if (record->fingerprint != NULL)
    return g_strdup (record->fingerprint);
  gsize len = 0;
  const guint8 *der = g_bytes_get_data (record->anchor_der, &len);
  return settle_fingerprint_of_der (der, len);
}

static char *record_to_json (const SettleRecord *record, gboolean pretty, gboolean with_discovery_key);

char *
settle_record_to_json (const SettleRecord *record, gboolean pretty)
{
  return record_to_json (record, pretty, TRUE);
}

char *
settle_record_to_output_json (const SettleRecord *record, gboolean pretty)
{
  return record_to_json (record, pretty, FALSE);
}

static char *
record_to_json (const SettleRecord *record, gboolean pretty, gboolean with_discovery_key)
{
  g_return_val_if_fail (record != NULL, NULL);
  g_return_val_if_fail (record->anchor_der != NULL, NULL);

  char *created = utc_time_to_text (record->created);
  char *expires = utc_time_to_text (record->expires);
  if (created == NULL || expires == NULL)
    {
      g_free (created);
      g_free (expires);
      g_return_val_if_reached (NULL);
    }
  char *fingerprint = record_fingerprint_dup (record);

  JsonBuilder *builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_int_value (builder, SETTLE_RECORD_FORMAT_VERSION);
  json_builder_set_member_name (builder, "fingerprint");
  json_builder_add_string_value (builder, fingerprint);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, settle_kind_to_string (record->kind));
  json_builder_set_member_name (builder, "label");
  json_builder_add_string_value (builder, record->label != NULL ? record->label : "");
  add_string_list (builder, "names", record->names);
  add_string_list (builder, "scope", record->scope);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_string_value (builder, expires);
  json_builder_set_member_name (builder, "consent");
  json_builder_add_string_value (builder, settle_consent_to_string (record->consent));
  if (record->role != NULL)
    {
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, record->role);
    }
  add_base64_member (builder, "anchor_der", record->anchor_der);
  add_base64_member (builder, "wrapper_root_der", record->wrapper_root_der);
  add_base64_member (builder, "cross_der", record->cross_der);
  add_base64_member (builder, "client_cert_der", record->client_cert_der);
  if (record->address != NULL)
    {
      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, record->address);
    }
  if (record->discovery_key != NULL)
    {
      char *key = g_base64_encode (record->discovery_key, SETTLE_RECORD_DISCOVERY_KEY_LEN);
      json_builder_set_member_name (builder, "discovery");
      json_builder_begin_object (builder);
      if (with_discovery_key)
        {
          json_builder_set_member_name (builder, "key");
          json_builder_add_string_value (builder, key);
        }
      json_builder_set_member_name (builder, "period");
      json_builder_add_int_value (builder, record->discovery_period);
      json_builder_end_object (builder);
      OPENSSL_cleanse (key, strlen (key));
      g_free (key);
    }
  /* Minor 1 only when a minor-1 member is written: older settles read
   * the rest of the store as before. */
  guint minor = MAX (record->format_minor, record->discovery_key != NULL ? SETTLE_RECORD_FORMAT_MINOR : 0);
  if (minor > 0)
    {
      json_builder_set_member_name (builder, "format_minor");
      json_builder_add_int_value (builder, minor);
    }
  add_extra_members (builder, record->extra_json);
  json_builder_end_object (builder);

  JsonNode *root = json_builder_get_root (builder);
  JsonGenerator *generator = json_generator_new ();
  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  char *text = json_generator_to_data (generator, NULL);

  g_object_unref (generator);
  json_node_unref (root);
  g_object_unref (builder);
  g_free (fingerprint);
  g_free (created);
  g_free (expires);
  return text;
}

/* ---- reading: typed members ------------------------------------------- */

static gboolean
node_is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* Borrowed string of a member that must be a string (or, when
 * `nullable`, null or absent: *out = NULL then). */
static gboolean
get_string (JsonObject *object, const char *member, gboolean nullable,
            const char **out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (nullable)
        return TRUE;
      return format_error (error, "The record has no \"%s\", which is required.", member);
    }
  if (!node_is_string (node))
    return format_error (error, "The record's \"%s\" must be a string.", member);
  *out = json_node_get_string (node);
  return TRUE;
}

/* MAJOR must be ours; any MINOR is read (a newer one only added members). */
static gboolean
parse_format_version (JsonObject *object, SettleRecord *record, GError **error)
{
  JsonNode *node = json_object_get_member (object, "format");
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return format_error (error, "The record's \"format\" must be an integer.");
  gint64 version = json_node_get_int (node);
  if (version != SETTLE_RECORD_FORMAT_VERSION)
    return format_error (error, "The record has format %" G_GINT64_FORMAT
                         "; this settle reads format %d only (a newer settle wrote it?).", version,
                         SETTLE_RECORD_FORMAT_VERSION);
  node = json_object_get_member (object, "format_minor");
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0 || json_node_get_int (node) > FORMAT_MINOR_MAX)
    return format_error (error, "The record's \"format_minor\" must be an integer from 0 to %d.",
                         FORMAT_MINOR_MAX);
  record->format_minor = (guint) json_node_get_int (node);
  return TRUE;
}

static gboolean
check_required_members (JsonObject *object, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (member_rules); i++)
    if (member_rules[i].required && !json_object_has_member (object, member_rules[i].member))
      return format_error (error, "The record has no \"%s\", which is required.",
                           member_rules[i].member);
  return TRUE;
}

/* Members this settle does not know came from a newer minor version:
 * kept, bounded, as one JSON object text for the next rewrite. */
static gboolean
keep_unknown_members (JsonObject *object, SettleRecord *record, GError **error)
{
  JsonObject *extra = json_object_new ();
  guint count = 0;
  GList *members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    if (!is_known_member (l->data))
      {
        count++;
        json_object_set_member (extra, l->data, json_node_copy (json_object_get_member (object, l->data)));
      }
  g_list_free (members);
  gboolean ok = count <= EXTRA_MEMBERS_MAX;
  if (!ok)
    format_error (error, "The record has %u members this settle does not know; at most %d are kept.",
                  count, EXTRA_MEMBERS_MAX);
  else if (count > 0)
    {
      JsonNode *node = json_node_init_object (json_node_alloc (), extra);
      record->extra_json = json_to_string (node, FALSE);
      json_node_unref (node);
    }
  json_object_unref (extra);
  return ok;
}

static gboolean
is_lower_hex (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

static gboolean
text_has_control_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static gboolean
parse_label (JsonObject *object, SettleRecord *record, GError **error)
{
  const char *label = NULL;
  if (!get_string (object, "label", FALSE, &label, error))
    return FALSE;
  gsize len = strlen (label);
  if (len == 0 || len > LABEL_MAX)
    return format_error (error, "The record's \"label\" must have 1 to %d bytes.", LABEL_MAX);
  /* Labels are printed to terminals: control characters could rewrite
   * what the user sees. */
  if (text_has_control_characters (label))
    return format_error (error, "The record's \"label\" contains a control character.");
  g_free (record->label);
  record->label = g_strdup (label);
  return TRUE;
}

/* A canonical local name, as settle_name_normalize produces: the one name
 * rule (settle-name-rule.h), lowercase, inside the namespaces;
 * `allow_wildcard` admits one leading "*." label. */
static gboolean
is_canonical_local_name (const char *text, gboolean allow_wildcard)
{
  gsize len = strlen (text);
  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isupper (*p))
      return FALSE;
  return settle_name_rule_syntax (text, len, allow_wildcard, NULL) == SETTLE_NAME_OK
         && settle_name_rule_in_namespaces (text, len);
}

static gboolean
parse_name_list (JsonObject *object, const char *member, gboolean allow_wildcard,
                 char ***out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return format_error (error, "The record's \"%s\" must be an array of strings.", member);
  JsonArray *array = json_node_get_array (node);
  guint count = json_array_get_length (array);
  if (count > NAME_LIST_MAX)
    return format_error (error, "The record's \"%s\" has %u entries; at most %d are allowed.",
                         member, count, NAME_LIST_MAX);

  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < count; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *name = node_is_string (element) ? json_node_get_string (element) : NULL;
      if (name == NULL)
        {
          g_ptr_array_unref (names);
          return format_error (error, "The record's \"%s\" must be an array of strings.", member);
        }
      if (strlen (name) > NAME_MAX_LEN || !is_canonical_local_name (name, allow_wildcard))
        {
          g_ptr_array_unref (names);
          return format_error (error, "The record's \"%s\" entry %u is not a lowercase DNS name "
                               "of at most %d characters below local, home.arpa or alt.",
                               member, i + 1, NAME_MAX_LEN);
        }
      g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_add (names, NULL);
  g_strfreev (*out);
  *out = (char **) g_ptr_array_free (names, FALSE);
  return TRUE;
}

static gboolean
is_ascii_digits (const char *text, gsize from, gsize count)
{
  for (gsize i = from; i < from + count; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* Only the one canonical spelling "YYYY-MM-DDTHH:MM:SSZ" is accepted, so
 * a record reads back byte for byte as it was written. */
static gboolean
parse_utc_time (JsonObject *object, const char *member, gint64 *out, GError **error)
{
  const char *text = NULL;
  if (!get_string (object, member, FALSE, &text, error))
    return FALSE;

  gboolean shaped = strlen (text) == 20
    && is_ascii_digits (text, 0, 4) && text[4] == '-' && is_ascii_digits (text, 5, 2)
    && text[7] == '-' && is_ascii_digits (text, 8, 2) && text[10] == 'T'
    && is_ascii_digits (text, 11, 2) && text[13] == ':' && is_ascii_digits (text, 14, 2)
    && text[16] == ':' && is_ascii_digits (text, 17, 2) && text[19] == 'Z';
  GDateTime *when = NULL;
  if (shaped)
    when = g_date_time_new_utc ((int) g_ascii_strtoll (text, NULL, 10),
                                (int) g_ascii_strtoll (text + 5, NULL, 10),
                                (int) g_ascii_strtoll (text + 8, NULL, 10),
                                (int) g_ascii_strtoll (text + 11, NULL, 10),
                                (int) g_ascii_strtoll (text + 14, NULL, 10),
                                (double) g_ascii_strtoll (text + 17, NULL, 10));
  if (when == NULL)
    return format_error (error, "The record's \"%s\" must be a UTC time like "
                         "2025-01-31T12:00:00Z.", member);
  *out = g_date_time_to_unix (when);
  g_date_time_unref (when);
  return TRUE;
}

/* One DER X.509 certificate and nothing after it (its shape: see
 * settle-cert-shape.h for why not d2i_X509). */
static gboolean
der_is_one_certificate (GBytes *der)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (der, &len);
  return settle_der_is_one_certificate (data, len);
}

/* g_base64_decode() skips characters it does not know, so only input
 * that re-encodes to itself is accepted: canonical base64, no spaces. */
static gboolean
parse_der (JsonObject *object, const char *member, gboolean required,
           GBytes **out, GError **error)
{
  const char *text = NULL;
  if (!get_string (object, member, !required, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;

  gsize text_len = strlen (text);
  if (text_len == 0 || text_len % 4 != 0 || text_len > (DER_MAX / 3 + 1) * 4)
    return format_error (error, "The record's \"%s\" must be base64 of 1 to %d bytes.",
                         member, DER_MAX);
  gsize der_len = 0;
  guchar *der = g_base64_decode (text, &der_len);
  char *again = g_base64_encode (der, der_len);
  gboolean canonical = strcmp (again, text) == 0;
  g_free (again);
  if (!canonical || der_len == 0 || der_len > DER_MAX)
    {
      g_free (der);
      return format_error (error, "The record's \"%s\" is not valid base64.", member);
    }
  GBytes *bytes = g_bytes_new_take (der, der_len);
  if (!der_is_one_certificate (bytes))
    {
      g_bytes_unref (bytes);
      return format_error (error, "The record's \"%s\" is not a DER X.509 certificate.", member);
    }
  g_clear_pointer (out, g_bytes_unref);
  *out = bytes;
  return TRUE;
}

static gboolean
parse_role (JsonObject *object, SettleRecord *record, GError **error)
{
  const char *role = NULL;
  if (!get_string (object, "role", TRUE, &role, error))
    return FALSE;
  if (role == NULL)
    return TRUE;
  gsize len = strlen (role);
  gboolean plain = len >= 1 && len <= ROLE_MAX;
  for (const char *p = role; *p != '\0' && plain; p++)
    plain = g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-';
  if (!plain)
    return format_error (error, "The record's \"role\" must be 1 to %d letters, digits, "
                         "dots, dashes or underscores.", ROLE_MAX);
  record->role = g_strdup (role);
  return TRUE;
}

/* "discovery": {"key": base64 of 32 bytes, "period": 2..86400}, the
 * portable-mode values (settle-portable-name.h). */
static gboolean
parse_discovery (JsonObject *object, SettleRecord *record, GError **error)
{
  if (!json_object_has_member (object, "discovery"))
    return TRUE;
  JsonNode *node = json_object_get_member (object, "discovery");
  JsonObject *d = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  JsonNode *key = d != NULL ? json_object_get_member (d, "key") : NULL;
  JsonNode *period = d != NULL ? json_object_get_member (d, "period") : NULL;
  const char *text = key != NULL && JSON_NODE_HOLDS_VALUE (key) && json_node_get_value_type (key) == G_TYPE_STRING
                       ? json_node_get_string (key) : NULL;
  gboolean period_ok = period != NULL && JSON_NODE_HOLDS_VALUE (period)
                       && json_node_get_value_type (period) == G_TYPE_INT64
                       && settle_portable_period_ok (json_node_get_int (period));
  gsize len = 0;
  guint8 *raw = text != NULL && strlen (text) == 44 ? g_base64_decode (text, &len) : NULL;
  if (raw == NULL || len != SETTLE_RECORD_DISCOVERY_KEY_LEN || !period_ok || json_object_get_size (d) != 2)
    {
      if (raw != NULL)
        OPENSSL_cleanse (raw, len);
      g_free (raw);
      return format_error (error, "The record's \"discovery\" must be {\"key\": base64 of 32 bytes, "
                           "\"period\": %d to %d}.", SETTLE_PORTABLE_PERIOD_MIN_S, SETTLE_PORTABLE_PERIOD_MAX_S);
    }
  record->discovery_key = raw;
  record->discovery_period = (guint) json_node_get_int (period);
  return TRUE;
}

static gboolean
parse_address (JsonObject *object, SettleRecord *record, GError **error)
{
  const char *address = NULL;
  if (!get_string (object, "address", TRUE, &address, error))
    return FALSE;
  if (address == NULL)
    return TRUE;
  g_autoptr (GError) why = NULL;
  g_autoptr (SettleEndpoint) where = settle_endpoint_parse (address, SETTLE_ENDPOINT_RECORDED, "It", &why);
  if (where == NULL)
    return format_error (error, "The record's \"address\" must be HOST:PORT: %s", why->message);
  record->address = g_strdup (address);
  return TRUE;
}

static gboolean
parse_kind_and_consent (JsonObject *object, SettleRecord *record, GError **error)
{
  const char *kind = NULL;
  const char *consent = NULL;
  if (!get_string (object, "kind", FALSE, &kind, error))
    return FALSE;
  if (!settle_kind_from_string (kind, &record->kind))
    return format_error (error, "The record's \"kind\" is \"%.32s\"; expected device-ca, "
                         "referee-ca, pinned-peer or manufacturer-ca.", kind);
  if (!get_string (object, "consent", FALSE, &consent, error))
    return FALSE;
  if (!settle_consent_from_string (consent, &record->consent))
    return format_error (error, "The record's \"consent\" is \"%.32s\"; expected prompt or flag.",
                         consent);
  return TRUE;
}

/* The id must be the anchor's own hash: a record whose fingerprint
 * names another certificate would let a lookup by fingerprint return
 * something the user never verified. */
static gboolean
parse_fingerprint (JsonObject *object, SettleRecord *record, GError **error)
{
  const char *fingerprint = NULL;
  if (!get_string (object, "fingerprint", FALSE, &fingerprint, error))
    return FALSE;
  if (strlen (fingerprint) != SETTLE_FINGERPRINT_HEX_LEN || !is_lower_hex (fingerprint))
    return format_error (error, "The record's \"fingerprint\" must be 64 lowercase hex digits.");

  gsize len = 0;
  const guint8 *der = g_bytes_get_data (record->anchor_der, &len);
  char *computed = settle_fingerprint_of_der (der, len);
  gboolean matches = computed != NULL && strcmp (computed, fingerprint) == 0;
  g_free (computed);
  if (!matches)
    return format_error (error, "The record's \"fingerprint\" is not the SHA-256 of its anchor "
                         "certificate.");
  record->fingerprint = g_strdup (fingerprint);
  return TRUE;
}

static gboolean
check_kind_consistency (const SettleRecord *record, GError **error)
{
  if (record->kind == SETTLE_KIND_PINNED_PEER)
    {
      if (record->wrapper_root_der != NULL || record->cross_der != NULL)
        return format_error (error, "A pinned-peer record cannot have \"wrapper_root_der\" "
                             "or \"cross_der\".");
      return TRUE;
    }
  if (record->scope[0] == NULL)
    return format_error (error, "A %s record needs at least one \"scope\" entry.",
                         settle_kind_to_string (record->kind));
  /* A manufacturer CA is never wrapped: it is no TLS anchor at all. */
  if (record->kind == SETTLE_KIND_MANUFACTURER_CA)
    {
      if (record->wrapper_root_der != NULL || record->cross_der != NULL || record->client_cert_der != NULL)
        return format_error (error, "A manufacturer-ca record cannot have \"wrapper_root_der\", "
                             "\"cross_der\" or \"client_cert_der\".");
      return TRUE;
    }
  if (record->wrapper_root_der == NULL || record->cross_der == NULL)
    return format_error (error, "A %s record needs \"wrapper_root_der\" and \"cross_der\".",
                         settle_kind_to_string (record->kind));
  return TRUE;
}

static gboolean
parse_record_object (JsonObject *object, SettleRecord *record, GError **error)
{
  return check_required_members (object, error)
    && parse_format_version (object, record, error)
    && keep_unknown_members (object, record, error)
    && parse_kind_and_consent (object, record, error)
    && parse_label (object, record, error)
    && parse_name_list (object, "names", TRUE, &record->names, error)
    && parse_name_list (object, "scope", FALSE, &record->scope, error)
    && parse_utc_time (object, "created", &record->created, error)
    && parse_utc_time (object, "expires", &record->expires, error)
    && parse_role (object, record, error)
    && parse_address (object, record, error)
    && parse_discovery (object, record, error)
    && parse_der (object, "anchor_der", TRUE, &record->anchor_der, error)
    && parse_der (object, "wrapper_root_der", FALSE, &record->wrapper_root_der, error)
    && parse_der (object, "cross_der", FALSE, &record->cross_der, error)
    && parse_der (object, "client_cert_der", FALSE, &record->client_cert_der, error)
    && parse_fingerprint (object, record, error)
    && check_kind_consistency (record, error);
}

SettleRecord *
settle_record_from_json (const char *json, gsize length, GError **error)
{
  g_return_val_if_fail (json != NULL || length == 0, NULL);

  if (length > RECORD_JSON_MAX)
    {
      format_error (error, "The record is %zu bytes; at most %d are allowed.", length,
                    RECORD_JSON_MAX);
      return NULL;
    }
  if (length == 0)
    {
      format_error (error, "The record is empty.");
      return NULL;
    }

  JsonParser *parser = json_parser_new ();
  GError *parse_error = NULL;
  if (!json_parser_load_from_data (parser, json, (gssize) length, &parse_error))
    {
      format_error (error, "The record is not valid JSON: %s.", parse_error->message);
      g_error_free (parse_error);
      g_object_unref (parser);
      return NULL;
    }

  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      format_error (error, "The record must be a JSON object.");
      g_object_unref (parser);
      return NULL;
    }

  SettleRecord *record = settle_record_new ();
  if (!parse_record_object (json_node_get_object (root), record, error))
    g_clear_pointer (&record, settle_record_free);
  g_object_unref (parser);
  return record;
}
