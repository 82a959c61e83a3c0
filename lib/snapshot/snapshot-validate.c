/* snapshot-validate.c: every field of index.cbor checked before anything
 * is copied (snapshot-validate.h; docs/snapshot.md, "Checks in detail").
 *
 * A snapshot is derived from checked records, so anything this refuses
 * means the file was written by something other than settle: the reader
 * refuses the whole snapshot rather than serve part of it.  Names are
 * judged by the one local-name rule (settle-name-rule.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "settle-name-rule.h"
#include "snapshot-cbor.h"
#include "snapshot-validate.h"

static const char *const entry_keys[SNAPSHOT_F_COUNT] = {
  "role", "der", "subject", "issuer", "serial", "id", "sha1", "md5", "sha256",
  "label", "record", "scope", "names", "not_after",
};

/* scope and names: arrays of LDH names inside the namespaces; a wildcard
 * only among the names a device serves, never in a permitted subtree. */
static int
check_name_list (const cbor_item_t *list, bool is_scope, size_t index, snapshot_error *err)
{
  const char *key = is_scope ? "scope" : "names";
  if (!cbor_isa_array (list) || !cbor_array_is_definite (list)
      || cbor_array_size (list) > SNAPSHOT_MAX_NAMES_PER_ENTRY)
    {
      snapshot_fail (err, "entry %zu: \"%s\" must be an array of at most %u names.", index, key,
                     SNAPSHOT_MAX_NAMES_PER_ENTRY);
      return -1;
    }
  for (size_t i = 0; i < cbor_array_size (list); i++)
    {
      const cbor_item_t *item = cbor_array_handle (list)[i];
      if (!snapshot_cbor_is_clean_text (item, SNAPSHOT_MAX_NAME_BYTES))
        {
          snapshot_fail (err, "entry %zu: \"%s\" item %zu is not a text name of at most %u bytes without NUL.",
                         index, key, i, SNAPSHOT_MAX_NAME_BYTES);
          return -1;
        }
      const char *name = (const char *) cbor_string_handle (item);
      size_t len = cbor_string_length (item);
      if (settle_name_rule_syntax (name, len, !is_scope, NULL) != SETTLE_NAME_OK)
        {
          snapshot_fail (err, "entry %zu: \"%s\" item %zu is not a valid DNS name.", index, key, i);
          return -1;
        }
      if (!settle_name_rule_in_namespaces (name, len))
        {
          snapshot_fail (err, "entry %zu: \"%s\" item \"%.*s\" lies outside local, home.arpa and alt.",
                         index, key, (int) len, name);
          return -1;
        }
    }
  return 0;
}

static bool
parse_role (const cbor_item_t *item, settle_snap_role *out)
{
  if (snapshot_cbor_text_is (item, "root"))
    *out = SETTLE_SNAP_ROOT;
  else if (snapshot_cbor_text_is (item, "cross"))
    *out = SETTLE_SNAP_CROSS;
  else if (snapshot_cbor_text_is (item, "peer"))
    *out = SETTLE_SNAP_PEER;
  else if (snapshot_cbor_text_is (item, "client"))
    *out = SETTLE_SNAP_CLIENT;
  else
    return false;
  return true;
}

/* A DER INTEGER: tag 0x02, a length that matches, at least one octet. */
static bool
is_der_integer (const cbor_item_t *item)
{
  if (!snapshot_cbor_is_bytes (item, 3, SNAPSHOT_MAX_SERIAL_BYTES))
    return false;
  const uint8_t *b = cbor_bytestring_handle (item);
  size_t n = cbor_bytestring_length (item);
  if (b[0] != 0x02)
    return false;
  if (b[1] < 0x80)
    return (size_t) b[1] + 2 == n;
  return b[1] == 0x81 && b[2] >= 0x80 && (size_t) b[2] + 3 == n;
}

static int
check_entry_bytes (snapshot_entry_view *v, size_t index, snapshot_error *err)
{
  static const struct { int field; size_t min, max; } rules[] = {
    { SNAPSHOT_F_DER, 1, SETTLE_SNAPSHOT_MAX_CERT },
    { SNAPSHOT_F_SUBJECT, 1, SNAPSHOT_MAX_NAME_DER_BYTES },
    { SNAPSHOT_F_ISSUER, 1, SNAPSHOT_MAX_NAME_DER_BYTES },
    { SNAPSHOT_F_ID, SNAPSHOT_ID_BYTES, SNAPSHOT_ID_BYTES },
    { SNAPSHOT_F_SHA1, 20, 20 },
    { SNAPSHOT_F_MD5, 16, 16 },
    { SNAPSHOT_F_SHA256, 32, 32 },
  };
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (!snapshot_cbor_is_bytes (v->f[rules[i].field], rules[i].min, rules[i].max))
      {
        if (rules[i].min == rules[i].max)
          snapshot_fail (err, "entry %zu: \"%s\" must be a byte string of %zu bytes.", index,
                         entry_keys[rules[i].field], rules[i].min);
        else
          snapshot_fail (err, "entry %zu: \"%s\" must be a byte string of %zu to %zu bytes.", index,
                         entry_keys[rules[i].field], rules[i].min, rules[i].max);
        return -1;
      }
  if (!is_der_integer (v->f[SNAPSHOT_F_SERIAL]))
    {
      snapshot_fail (err, "entry %zu: \"serial\" must be a DER INTEGER (tag 0x02) of at most %u bytes.",
                     index, SNAPSHOT_MAX_SERIAL_BYTES);
      return -1;
    }
  return 0;
}

/* A DER OBJECT IDENTIFIER: tag 0x06, a short length that matches. */
static bool
is_der_oid (const cbor_item_t *item)
{
  if (!snapshot_cbor_is_bytes (item, 3, SNAPSHOT_MAX_EC_PARAMS_BYTES))
    return false;
  const uint8_t *b = cbor_bytestring_handle (item);
  return b[0] == 0x06 && b[1] < 0x80 && (size_t) b[1] + 2 == cbor_bytestring_length (item);
}

/* "ec_params" is the one optional key: a client identity needs it (its
 * private key object answers CKA_EC_PARAMS without parsing ASN.1), the
 * trust roles do not have it. */
static int
check_client_fields (const cbor_item_t *map, snapshot_entry_view *v, size_t index, snapshot_error *err)
{
  static const char *const optional_keys[] = { "ec_params" };
  struct cbor_pair *pairs = cbor_map_handle (map);
  v->ec_params = NULL;
  for (size_t i = 0; i < cbor_map_size (map); i++)
    if (snapshot_cbor_text_is (pairs[i].key, optional_keys[0]))
      {
        if (v->ec_params != NULL)
          {
            snapshot_fail (err, "entry %zu has the key \"ec_params\" twice.", index);
            return -1;
          }
        v->ec_params = pairs[i].value;
      }
  if (v->role != SETTLE_SNAP_CLIENT)
    return 0;
  if (v->ec_params == NULL || !is_der_oid (v->ec_params))
    {
      snapshot_fail (err, "entry %zu: a client identity needs \"ec_params\", the DER OID of its curve.", index);
      return -1;
    }
  if (cbor_isa_array (v->f[SNAPSHOT_F_SCOPE]) && cbor_array_size (v->f[SNAPSHOT_F_SCOPE]) != 0)
    {
      snapshot_fail (err, "entry %zu: a client identity vouches for nothing, so its \"scope\" must be empty.", index);
      return -1;
    }
  return 0;
}

const char *
snapshot_kind_refusal (const char *kind, size_t len)
{
  /* A manufacturer CA vouches only that a device is genuine and is never
   * a TLS anchor, so an entry of that kind means the writer broke its own
   * rule (settle_kind_is_tls_anchor): refuse it in every role, whatever
   * its certificate says.  Other kinds, known or newer, are left to the
   * remaining checks. */
  static const char manufacturer[] = "manufacturer-ca";
  if (len == sizeof manufacturer - 1 && memcmp (kind, manufacturer, len) == 0)
    return "comes from a manufacturer anchor, which is never a TLS anchor";
  return NULL;
}

/* "kind" (optional; writers since manufacturer anchors send it): the
 * record's kind, borrowed into v->kind (NULL when absent). */
static int
check_kind (const cbor_item_t *map, snapshot_entry_view *v, size_t index, snapshot_error *err)
{
  struct cbor_pair *pairs = cbor_map_handle (map);
  v->kind = NULL;
  for (size_t i = 0; i < cbor_map_size (map); i++)
    if (snapshot_cbor_text_is (pairs[i].key, "kind"))
      {
        if (v->kind != NULL)
          {
            snapshot_fail (err, "entry %zu has the key \"kind\" twice.", index);
            return -1;
          }
        if (!snapshot_cbor_is_clean_text (pairs[i].value, SNAPSHOT_MAX_KIND_BYTES))
          {
            snapshot_fail (err, "entry %zu: \"kind\" must be text of at most %u bytes.", index,
                           SNAPSHOT_MAX_KIND_BYTES);
            return -1;
          }
        const char *why = snapshot_kind_refusal ((const char *) cbor_string_handle (pairs[i].value),
                                                 cbor_string_length (pairs[i].value));
        if (why != NULL)
          {
            snapshot_fail (err, "entry %zu %s.", index, why);
            return -1;
          }
        v->kind = pairs[i].value;
      }
  return 0;
}

int
snapshot_validate_entry (const cbor_item_t *item, size_t index, snapshot_entry_view *v,
                         snapshot_error *err)
{
  char where[48];
  snprintf (where, sizeof where, "entry %zu", index);
  if (!cbor_isa_map (item) || !cbor_map_is_definite (item))
    {
      snapshot_fail (err, "entry %zu is not a CBOR map.", index);
      return -1;
    }
  if (snapshot_cbor_collect_keys (item, entry_keys, SNAPSHOT_F_COUNT, v->f, where, err) < 0)
    return -1;
  if (!parse_role (v->f[SNAPSHOT_F_ROLE], &v->role))
    {
      snapshot_fail (err, "entry %zu: \"role\" must be \"root\", \"cross\", \"peer\" or \"client\".", index);
      return -1;
    }
  if (check_entry_bytes (v, index, err) < 0 || check_client_fields (item, v, index, err) < 0
      || check_kind (item, v, index, err) < 0)
    return -1;
  if (!snapshot_cbor_is_clean_text (v->f[SNAPSHOT_F_LABEL], SNAPSHOT_MAX_LABEL_BYTES))
    {
      snapshot_fail (err, "entry %zu: \"label\" must be text of at most %u bytes without NUL.",
                     index, SNAPSHOT_MAX_LABEL_BYTES);
      return -1;
    }
  if (!snapshot_cbor_is_lower_hex (v->f[SNAPSHOT_F_RECORD], SNAPSHOT_RECORD_HEX_LEN))
    {
      snapshot_fail (err, "entry %zu: \"record\" must be %u lowercase hex digits.", index, SNAPSHOT_RECORD_HEX_LEN);
      return -1;
    }
  if (!snapshot_cbor_read_int64 (v->f[SNAPSHOT_F_NOT_AFTER], &v->not_after))
    {
      snapshot_fail (err, "entry %zu: \"not_after\" must be an integer (unix seconds).", index);
      return -1;
    }
  if (check_name_list (v->f[SNAPSHOT_F_SCOPE], true, index, err) < 0
      || check_name_list (v->f[SNAPSHOT_F_NAMES], false, index, err) < 0)
    return -1;
  return 0;
}

static const char *const top_keys[] = { "v", "generation", "written", "entries" };
enum { T_VERSION, T_GENERATION, T_WRITTEN, T_ENTRIES, T_COUNT };

int
snapshot_validate_top (const cbor_item_t *root, uint64_t *generation,
                       const cbor_item_t **entries, snapshot_error *err)
{
  const cbor_item_t *f[T_COUNT];
  uint64_t version, written;

  if (!cbor_isa_map (root))
    {
      snapshot_fail (err, "the index is not a CBOR map.");
      return -1;
    }
  if (snapshot_cbor_collect_keys (root, top_keys, T_COUNT, f, "the index", err) < 0)
    return -1;
  if (!snapshot_cbor_read_uint (f[T_VERSION], &version))
    {
      snapshot_fail (err, "\"v\" must be an unsigned integer.");
      return -1;
    }
  if (version != SETTLE_SNAPSHOT_VERSION)
    {
      snapshot_fail (err, "the index has format version %llu; this reader knows version %d.",
                     (unsigned long long) version, SETTLE_SNAPSHOT_VERSION);
      return -1;
    }
  if (!snapshot_cbor_read_uint (f[T_GENERATION], generation) || !snapshot_cbor_read_uint (f[T_WRITTEN], &written))
    {
      snapshot_fail (err, "\"generation\" and \"written\" must be unsigned integers.");
      return -1;
    }
  if (!cbor_isa_array (f[T_ENTRIES]) || !cbor_array_is_definite (f[T_ENTRIES]))
    {
      snapshot_fail (err, "\"entries\" must be an array.");
      return -1;
    }
  if (cbor_array_size (f[T_ENTRIES]) > SETTLE_SNAPSHOT_MAX_ENTRIES)
    {
      snapshot_fail (err, "the index has %zu entries, more than the limit of %u.",
                     cbor_array_size (f[T_ENTRIES]), SETTLE_SNAPSHOT_MAX_ENTRIES);
      return -1;
    }
  *entries = f[T_ENTRIES];
  return 0;
}
