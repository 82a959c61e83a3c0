/* ceremony-msg.c: ceremony messages as CBOR maps (libcbor) and their
 * length-prefixed frames (schema/ceremony.md, schema/ceremony.cddl). */
#include "settle-ceremony-msg.h"

#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/crypto.h>

#include "settle-error.h"

/* Bounds checked before libcbor builds anything: cbor_load() allocates a
 * definite array or map at the size its header announces, so a 5-byte
 * header could otherwise ask for gigabytes. */
#define CONTAINER_MAX 32
#define ITEMS_MAX 256
#define KEY_MAX 16
#define NAME_MAX_LEN 253

/* ---- allocation ---- */

SettleCeremonyMsg *
settle_ceremony_msg_new (SettleMsgType type)
{
  SettleCeremonyMsg *msg = g_new0 (SettleCeremonyMsg, 1);
  msg->type = type;
  if (type == SETTLE_MSG_ENROL_RESPONSE)
    msg->enrol_response.chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return msg;
}

SettleCeremonyMsg *
settle_ceremony_msg_new_error (SettleCeremonyErrorCode code, const char *text)
{
  SettleCeremonyMsg *msg = settle_ceremony_msg_new (SETTLE_MSG_ERROR);
  msg->error.code = code;
  msg->error.text = g_strdup (text);
  return msg;
}

void
settle_ceremony_msg_free (SettleCeremonyMsg *msg)
{
  if (msg == NULL)
    return;
  switch (msg->type)
    {
    case SETTLE_MSG_ENROL_REQUEST:
      g_clear_pointer (&msg->enrol_request.csr_der, g_bytes_unref);
      g_free (msg->enrol_request.role);
      g_clear_pointer (&msg->enrol_request.nonce, g_bytes_unref);
      break;
    case SETTLE_MSG_ENROL_RESPONSE:
      g_clear_pointer (&msg->enrol_response.cert_der, g_bytes_unref);
      g_clear_pointer (&msg->enrol_response.chain, g_ptr_array_unref);
      g_strfreev (msg->enrol_response.names);
      g_free (msg->enrol_response.role);
      g_clear_pointer (&msg->enrol_response.idevid, g_ptr_array_unref);
      g_clear_pointer (&msg->enrol_response.voucher, g_bytes_unref);
      g_clear_pointer (&msg->enrol_response.referee_ca_der, g_bytes_unref);
      g_strfreev (msg->enrol_response.subtree);
      OPENSSL_cleanse (msg->enrol_response.discovery_key, sizeof msg->enrol_response.discovery_key);
      break;
    case SETTLE_MSG_ERROR:
      g_free (msg->error.text);
      break;
    case SETTLE_MSG_CLIENT_HELLO:
    case SETTLE_MSG_SERVER_SHARE:
    case SETTLE_MSG_CLIENT_CONFIRM:
    case SETTLE_MSG_COMMIT:
    case SETTLE_MSG_COMMITTED:
      break;
    }
  g_free (msg);
}

const char *
settle_ceremony_msg_type_name (guint type)
{
  switch (type)
    {
    case SETTLE_MSG_CLIENT_HELLO: return "CLIENT_HELLO";
    case SETTLE_MSG_SERVER_SHARE: return "SERVER_SHARE";
    case SETTLE_MSG_CLIENT_CONFIRM: return "CLIENT_CONFIRM";
    case SETTLE_MSG_ENROL_REQUEST: return "ENROL_REQUEST";
    case SETTLE_MSG_ENROL_RESPONSE: return "ENROL_RESPONSE";
    case SETTLE_MSG_ERROR: return "ERROR";
    case SETTLE_MSG_COMMIT: return "COMMIT";
    case SETTLE_MSG_COMMITTED: return "COMMITTED";
    default: return "unknown";
    }
}

/* ---- value checks shared by encoder and decoder ---- */

static gboolean
is_valid_role (const char *s, gsize len)
{
  if (len == 0 || len > SETTLE_CEREMONY_ROLE_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (s[i]) && !g_ascii_isdigit (s[i]) && s[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
is_valid_name (const char *s, gsize len)
{
  if (len == 0 || len > NAME_MAX_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (s[i] <= 0x20 || s[i] >= 0x7f)
      return FALSE;
  return TRUE;
}

/* Error text is shown to people: valid UTF-8 without control characters
 * (no terminal escapes, no fake extra lines). */
static gboolean
is_valid_text (const char *s, gsize len)
{
  if (len > SETTLE_CEREMONY_TEXT_MAX || !g_utf8_validate (s, (gssize) len, NULL))
    return FALSE;
  for (const char *p = s; p < s + len; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* ---- pre-scan with libcbor's streaming decoder ---- */

typedef struct {
  gboolean indefinite;
  gboolean tagged;
  gboolean oversized;
} Scan;

static void
scan_indefinite (void *ctx)
{
  ((Scan *) ctx)->indefinite = TRUE;
}

static void
scan_container (void *ctx, size_t size)
{
  if (size > CONTAINER_MAX)
    ((Scan *) ctx)->oversized = TRUE;
}

static void
scan_tag (void *ctx, uint64_t tag)
{
  (void) tag;
  ((Scan *) ctx)->tagged = TRUE;
}

static gboolean
refuse (GError **error, const char *message)
{
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, message);
  return FALSE;
}

static gboolean
prescan (const guint8 *body, gsize len, GError **error)
{
  struct cbor_callbacks callbacks = cbor_empty_callbacks;
  callbacks.indef_array_start = scan_indefinite;
  callbacks.indef_map_start = scan_indefinite;
  callbacks.byte_string_start = scan_indefinite;
  callbacks.string_start = scan_indefinite;
  callbacks.indef_break = scan_indefinite;
  callbacks.array_start = scan_container;
  callbacks.map_start = scan_container;
  callbacks.tag = scan_tag;

  Scan scan = { 0 };
  gsize offset = 0;
  guint items = 0;
  while (offset < len)
    {
      struct cbor_decoder_result r = cbor_stream_decode (body + offset, len - offset, &callbacks, &scan);
      if (r.status == CBOR_DECODER_NEDATA)
        return refuse (error, "The message is truncated: its CBOR ends in the middle of an item.");
      if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
        return refuse (error, "The message is not well-formed CBOR.");
      if (scan.indefinite)
        return refuse (error, "The message uses indefinite-length CBOR, which the ceremony does not allow.");
      if (scan.tagged)
        return refuse (error, "The message uses CBOR tags, which the ceremony does not allow.");
      if (scan.oversized)
        return refuse (error, "The message has an array or map with more than 32 entries.");
      if (++items > ITEMS_MAX)
        return refuse (error, "The message has more than 256 CBOR items.");
      offset += r.read;
    }
  return TRUE;
}

/* ---- decoding helpers: each refuses with the message and field named ---- */

typedef struct {
  const cbor_item_t *map;  /* borrowed */
  const char *msg_name;    /* static */
} MapView;

static gboolean
field_error (GError **error, const MapView *m, const char *key, const char *problem)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "The %s message's '%s' field %s.",
               m->msg_name, key, problem);
  return FALSE;
}

static gboolean
key_equals (const cbor_item_t *key, const char *name)
{
  gsize n = strlen (name);
  return cbor_string_length (key) == n && memcmp (cbor_string_handle (key), name, n) == 0;
}

/* Every key a definite text string of sane length, and no key twice: a
 * duplicate would let two readers see two different messages. */
static gboolean
check_keys (const cbor_item_t *map, GError **error)
{
  struct cbor_pair *pairs = cbor_map_handle (map);
  gsize n = cbor_map_size (map);
  for (gsize i = 0; i < n; i++)
    {
      const cbor_item_t *k = pairs[i].key;
      if (!cbor_isa_string (k) || cbor_string_length (k) == 0 || cbor_string_length (k) > KEY_MAX)
        return refuse (error, "The message has a map key that is not a short text string.");
      for (gsize j = 0; j < i; j++)
        if (cbor_string_length (pairs[j].key) == cbor_string_length (k)
            && memcmp (cbor_string_handle (pairs[j].key), cbor_string_handle (k),
                       cbor_string_length (k)) == 0)
          return refuse (error, "The message has the same map key twice.");
    }
  return TRUE;
}

static const cbor_item_t *
lookup (const MapView *m, const char *key, GError **error)
{
  struct cbor_pair *pairs = cbor_map_handle (m->map);
  for (gsize i = 0; i < cbor_map_size (m->map); i++)
    if (key_equals (pairs[i].key, key))
      return pairs[i].value;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "The %s message has no '%s' field.",
               m->msg_name, key);
  return NULL;
}

/* An optional field: NULL without an error when it is absent. */
static const cbor_item_t *
lookup_optional (const MapView *m, const char *key)
{
  struct cbor_pair *pairs = cbor_map_handle (m->map);
  for (gsize i = 0; i < cbor_map_size (m->map); i++)
    if (key_equals (pairs[i].key, key))
      return pairs[i].value;
  return NULL;
}

static gboolean
get_uint (const MapView *m, const char *key, guint64 max, guint *out, GError **error)
{
  const cbor_item_t *v = lookup (m, key, error);
  if (v == NULL)
    return FALSE;
  if (!cbor_isa_uint (v))
    return field_error (error, m, key, "is not an unsigned integer");
  if (cbor_get_int (v) > max)
    return field_error (error, m, key, "is out of range");
  *out = (guint) cbor_get_int (v);
  return TRUE;
}

static gboolean
get_fixed_bytes (const MapView *m, const char *key, guint8 *out, gsize len, GError **error)
{
  const cbor_item_t *v = lookup (m, key, error);
  if (v == NULL)
    return FALSE;
  if (!cbor_isa_bytestring (v))
    return field_error (error, m, key, "is not a byte string");
  if (cbor_bytestring_length (v) != len)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The %s message's '%s' field is not %" G_GSIZE_FORMAT " bytes long.",
                   m->msg_name, key, len);
      return FALSE;
    }
  memcpy (out, cbor_bytestring_handle (v), len);
  return TRUE;
}

static GBytes *
bytes_item (const MapView *m, const char *key, const cbor_item_t *v, gsize max, GError **error)
{
  if (!cbor_isa_bytestring (v))
    {
      field_error (error, m, key, "is not a byte string");
      return NULL;
    }
  gsize n = cbor_bytestring_length (v);
  if (n == 0 || n > max)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The %s message's '%s' field is empty or longer than %" G_GSIZE_FORMAT " bytes.",
                   m->msg_name, key, max);
      return NULL;
    }
  return g_bytes_new (cbor_bytestring_handle (v), n);
}

static GBytes *
get_bytes (const MapView *m, const char *key, gsize max, GError **error)
{
  const cbor_item_t *v = lookup (m, key, error);
  return v != NULL ? bytes_item (m, key, v, max, error) : NULL;
}

typedef gboolean (*TextCheck) (const char *s, gsize len);

static char *
text_item (const MapView *m, const char *key, const cbor_item_t *v, TextCheck check,
           const char *problem, GError **error)
{
  if (!cbor_isa_string (v))
    {
      field_error (error, m, key, "is not a text string");
      return NULL;
    }
  const char *s = (const char *) cbor_string_handle (v);
  gsize n = cbor_string_length (v);
  if (memchr (s, '\0', n) != NULL || !check (s, n))
    {
      field_error (error, m, key, problem);
      return NULL;
    }
  return g_strndup (s, n);
}

static char *
get_text (const MapView *m, const char *key, TextCheck check, const char *problem, GError **error)
{
  const cbor_item_t *v = lookup (m, key, error);
  return v != NULL ? text_item (m, key, v, check, problem, error) : NULL;
}

static const cbor_item_t *
get_array (const MapView *m, const char *key, gsize max, GError **error)
{
  const cbor_item_t *v = lookup (m, key, error);
  if (v == NULL)
    return NULL;
  if (!cbor_isa_array (v))
    {
      field_error (error, m, key, "is not an array");
      return NULL;
    }
  if (cbor_array_size (v) == 0 || cbor_array_size (v) > max)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The %s message's '%s' field has no entries or more than %" G_GSIZE_FORMAT ".",
                   m->msg_name, key, max);
      return NULL;
    }
  return v;
}

/* ---- decoding per message ---- */

static gboolean
decode_client_hello (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  g_autofree char *suite = NULL;
  if (!get_uint (m, "version", G_MAXUINT16, &msg->client_hello.version, error)
      || (suite = get_text (m, "suite", is_valid_name, "is not a suite name", error)) == NULL
      || !get_fixed_bytes (m, "pA", msg->client_hello.share, SETTLE_SPAKE2_SHARE_LEN, error))
    return FALSE;
  /* Well-formed but unknown: PROTOCOL, so the device answers UNSUPPORTED. */
  if (msg->client_hello.version != SETTLE_CEREMONY_VERSION)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL,
                   "The helper speaks ceremony version %u; this program speaks version %d only.",
                   msg->client_hello.version, SETTLE_CEREMONY_VERSION);
      return FALSE;
    }
  if (!settle_spake2_suite_from_name (suite, &msg->client_hello.suite))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL,
                   "The helper asks for algorithm suite '%.64s', which this program does not support.",
                   suite);
      return FALSE;
    }
  return TRUE;
}

static gboolean
decode_server_share (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  return get_fixed_bytes (m, "pB", msg->server_share.share, SETTLE_SPAKE2_SHARE_LEN, error)
         && get_fixed_bytes (m, "cB", msg->server_share.confirm, SETTLE_SPAKE2_CONFIRM_LEN, error);
}

static gboolean
decode_client_confirm (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  return get_fixed_bytes (m, "cA", msg->client_confirm.confirm, SETTLE_SPAKE2_CONFIRM_LEN, error);
}

#define ROLE_PROBLEM "is not 1 to 32 lowercase letters, digits or hyphens"

/* The optional voucher nonce (schema/voucher.md): absent is fine, present
 * it must be SETTLE_CEREMONY_NONCE_MIN..MAX bytes. */
static gboolean
decode_nonce (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  const cbor_item_t *v = lookup_optional (m, "nonce");
  if (v == NULL)
    return TRUE;
  msg->enrol_request.nonce = bytes_item (m, "nonce", v, SETTLE_CEREMONY_NONCE_MAX, error);
  if (msg->enrol_request.nonce == NULL)
    return FALSE;
  if (g_bytes_get_size (msg->enrol_request.nonce) < SETTLE_CEREMONY_NONCE_MIN)
    return field_error (error, m, "nonce", "is shorter than 16 bytes");
  return TRUE;
}

static gboolean
decode_enrol_request (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  return (msg->enrol_request.csr_der = get_bytes (m, "csr", SETTLE_CEREMONY_CSR_MAX, error)) != NULL
         && (msg->enrol_request.role = get_text (m, "role", is_valid_role, ROLE_PROBLEM, error)) != NULL
         && decode_nonce (m, msg, error);
}

static gboolean
decode_cert_array (const MapView *m, const char *key, const cbor_item_t *array, GPtrArray *chain, GError **error)
{
  cbor_item_t **items = cbor_array_handle (array);
  for (gsize i = 0; i < cbor_array_size (array); i++)
    {
      GBytes *cert = bytes_item (m, key, items[i], SETTLE_CEREMONY_CERT_MAX, error);
      if (cert == NULL)
        return FALSE;
      g_ptr_array_add (chain, cert);
    }
  return TRUE;
}

static gboolean
decode_chain (const MapView *m, GPtrArray *chain, GError **error)
{
  const cbor_item_t *array = get_array (m, "chain", SETTLE_CEREMONY_CHAIN_MAX, error);
  return array != NULL && decode_cert_array (m, "chain", array, chain, error);
}

/* The optional manufacturer identity: "idevid" and "voucher" together, or
 * neither (a device without one pairs as before). */
static gboolean
decode_manufacturer (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  const cbor_item_t *idevid = lookup_optional (m, "idevid");
  const cbor_item_t *voucher = lookup_optional (m, "voucher");
  if (idevid == NULL && voucher == NULL)
    return TRUE;
  if (idevid == NULL || voucher == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The %s message has the field '%s' without '%s'.", m->msg_name,
                   idevid != NULL ? "idevid" : "voucher", idevid != NULL ? "voucher" : "idevid");
      return FALSE;
    }
  if (!cbor_isa_array (idevid) || cbor_array_size (idevid) == 0
      || cbor_array_size (idevid) > SETTLE_CEREMONY_IDEVID_MAX)
    return field_error (error, m, "idevid", "is not an array of 1 to 4 certificates");
  msg->enrol_response.idevid = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return decode_cert_array (m, "idevid", idevid, msg->enrol_response.idevid, error)
         && (msg->enrol_response.voucher = bytes_item (m, "voucher", voucher, SETTLE_CEREMONY_VOUCHER_MAX,
                                                       error)) != NULL;
}

static char **
decode_name_list (const MapView *m, const char *key, gsize max, GError **error)
{
  const cbor_item_t *array = get_array (m, key, max, error);
  if (array == NULL)
    return NULL;
  cbor_item_t **items = cbor_array_handle (array);
  gsize n = cbor_array_size (array);
  g_auto (GStrv) names = g_new0 (char *, n + 1);
  for (gsize i = 0; i < n; i++)
    {
      names[i] = text_item (m, key, items[i], is_valid_name,
                            "has an entry that is not 1 to 253 printable ASCII characters", error);
      if (names[i] == NULL)
        return NULL;
    }
  return g_steal_pointer (&names);
}

/* Optional (a referee only), but never half: a CA without its subtree,
 * or a subtree without its CA, is refused. */
static gboolean
decode_referee (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  gboolean has_ca = lookup_optional (m, "referee-ca") != NULL, has_subtree = lookup_optional (m, "subtree") != NULL;

  if (!has_ca && !has_subtree)
    return TRUE;
  if (has_ca != has_subtree)
    return refuse (error, "The ENROL_RESPONSE message has only one of 'referee-ca' and 'subtree'.");
  return (msg->enrol_response.referee_ca_der = get_bytes (m, "referee-ca", SETTLE_CEREMONY_CERT_MAX, error)) != NULL
         && (msg->enrol_response.subtree = decode_name_list (m, "subtree", SETTLE_CEREMONY_SUBTREE_MAX, error)) != NULL;
}

static gboolean
has_key (const MapView *m, const char *key)
{
  struct cbor_pair *pairs = cbor_map_handle (m->map);
  for (gsize i = 0; i < cbor_map_size (m->map); i++)
    if (key_equals (pairs[i].key, key))
      return TRUE;
  return FALSE;
}

/* "dk" and "dp" come together or not at all (portable mode). */
static gboolean
decode_discovery (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  gboolean key = has_key (m, "dk"), period = has_key (m, "dp");
  if (!key && !period)
    return TRUE;
  if (key != period)
    return refuse (error, "The ENROL_RESPONSE message has only one of 'dk' and 'dp'.");
  if (!get_fixed_bytes (m, "dk", msg->enrol_response.discovery_key, SETTLE_CEREMONY_DISCOVERY_KEY_LEN, error)
      || !get_uint (m, "dp", SETTLE_CEREMONY_DISCOVERY_PERIOD_MAX, &msg->enrol_response.discovery_period, error))
    return FALSE;
  if (msg->enrol_response.discovery_period < SETTLE_CEREMONY_DISCOVERY_PERIOD_MIN)
    return field_error (error, m, "dp", "is out of range");
  msg->enrol_response.has_discovery = TRUE;
  return TRUE;
}

static gboolean
decode_enrol_response (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  return (msg->enrol_response.cert_der = get_bytes (m, "cert", SETTLE_CEREMONY_CERT_MAX, error)) != NULL
         && decode_chain (m, msg->enrol_response.chain, error)
         && (msg->enrol_response.names = decode_name_list (m, "names", SETTLE_CEREMONY_NAMES_MAX, error)) != NULL
         && (msg->enrol_response.role = get_text (m, "role", is_valid_role, ROLE_PROBLEM, error)) != NULL
         && decode_manufacturer (m, msg, error)
         && decode_referee (m, msg, error)
         && decode_discovery (m, msg, error);
}

static gboolean
decode_error (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  return get_uint (m, "code", G_MAXUINT16, &msg->error.code, error)
         && (msg->error.text = get_text (m, "text", is_valid_text,
                                         "is longer than 256 bytes or not printable UTF-8", error)) != NULL;
}

static gboolean
decode_fields (const MapView *m, SettleCeremonyMsg *msg, GError **error)
{
  switch (msg->type)
    {
    case SETTLE_MSG_CLIENT_HELLO: return decode_client_hello (m, msg, error);
    case SETTLE_MSG_SERVER_SHARE: return decode_server_share (m, msg, error);
    case SETTLE_MSG_CLIENT_CONFIRM: return decode_client_confirm (m, msg, error);
    case SETTLE_MSG_ENROL_REQUEST: return decode_enrol_request (m, msg, error);
    case SETTLE_MSG_ENROL_RESPONSE: return decode_enrol_response (m, msg, error);
    case SETTLE_MSG_ERROR: return decode_error (m, msg, error);
    case SETTLE_MSG_COMMIT:
    case SETTLE_MSG_COMMITTED:
      return TRUE;  /* no fields: the type is the whole message */
    }
  return refuse (error, "The message has an unknown type.");
}

static SettleCeremonyMsg *
decode_map (const cbor_item_t *root, GError **error)
{
  if (!cbor_isa_map (root))
    {
      refuse (error, "The message is not a CBOR map.");
      return NULL;
    }
  if (!check_keys (root, error))
    return NULL;

  MapView m = { root, "ceremony" };
  guint type = 0;
  if (!get_uint (&m, "type", G_MAXUINT16, &type, error))
    return NULL;
  if (type < SETTLE_MSG_CLIENT_HELLO || type > SETTLE_MSG_TYPE_LAST)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The message has type %u, which this program does not know.", type);
      return NULL;
    }
  g_autoptr (SettleCeremonyMsg) msg = settle_ceremony_msg_new ((SettleMsgType) type);
  m.msg_name = settle_ceremony_msg_type_name (type);
  if (!decode_fields (&m, msg, error))
    return NULL;
  return g_steal_pointer (&msg);
}

SettleCeremonyMsg *
settle_ceremony_msg_decode (const guint8 *body, gsize len, GError **error)
{
  if (len == 0)
    {
      refuse (error, "The message is empty.");
      return NULL;
    }
  if (len > SETTLE_CEREMONY_FRAME_MAX)
    {
      refuse (error, "The message is larger than 64 KiB.");
      return NULL;
    }
  if (!prescan (body, len, error))
    return NULL;

  struct cbor_load_result result;
  cbor_item_t *root = cbor_load (body, len, &result);
  if (root == NULL || result.error.code != CBOR_ERR_NONE)
    {
      if (root != NULL)
        cbor_decref (&root);
      if (result.error.code == CBOR_ERR_NOTENOUGHDATA)
        refuse (error, "The message is truncated: its CBOR map ends early.");
      else
        refuse (error, "The message is not well-formed CBOR.");
      return NULL;
    }
  SettleCeremonyMsg *msg = NULL;
  if (result.read != len)
    refuse (error, "The message has bytes after its CBOR map.");
  else
    msg = decode_map (root, error);
  cbor_decref (&root);
  return msg;
}

/* ---- encoding ---- */

/* Takes ownership of `value`; FALSE when libcbor ran out of memory. */
static gboolean
put (cbor_item_t *map, const char *key, cbor_item_t *value)
{
  if (value == NULL)
    return FALSE;
  cbor_item_t *k = cbor_build_string (key);
  gboolean ok = k != NULL && cbor_map_add (map, (struct cbor_pair) { .key = k, .value = value });
  if (k != NULL)
    cbor_decref (&k);
  cbor_decref (&value);
  return ok;
}

/* The shortest encoding, as CBOR's preferred serialisation asks. */
static cbor_item_t *
build_uint (guint64 v)
{
  if (v <= G_MAXUINT8)
    return cbor_build_uint8 ((uint8_t) v);
  if (v <= G_MAXUINT16)
    return cbor_build_uint16 ((uint16_t) v);
  if (v <= G_MAXUINT32)
    return cbor_build_uint32 ((uint32_t) v);
  return cbor_build_uint64 (v);
}

static cbor_item_t *
build_bytes (GBytes *bytes)
{
  if (bytes == NULL)
    return cbor_build_bytestring ((cbor_data) "", 0);
  gsize n = 0;
  const guint8 *data = g_bytes_get_data (bytes, &n);
  return cbor_build_bytestring (data, n);
}

static cbor_item_t *
build_text (const char *s)
{
  return cbor_build_string (s != NULL ? s : "");
}

static cbor_item_t *
build_chain (GPtrArray *chain)
{
  guint n = chain != NULL ? chain->len : 0;
  cbor_item_t *array = cbor_new_definite_array (n);
  for (guint i = 0; array != NULL && i < n; i++)
    {
      cbor_item_t *item = build_bytes (g_ptr_array_index (chain, i));
      gboolean ok = item != NULL && cbor_array_push (array, item);
      if (item != NULL)
        cbor_decref (&item);
      if (!ok)
        cbor_decref (&array);
    }
  return array;
}

static cbor_item_t *
build_names (char **names)
{
  guint n = names != NULL ? g_strv_length (names) : 0;
  cbor_item_t *array = cbor_new_definite_array (n);
  for (guint i = 0; array != NULL && i < n; i++)
    {
      cbor_item_t *item = build_text (names[i]);
      gboolean ok = item != NULL && cbor_array_push (array, item);
      if (item != NULL)
        cbor_decref (&item);
      if (!ok)
        cbor_decref (&array);
    }
  return array;
}

static gsize
field_count (const SettleCeremonyMsg *msg)
{
  switch (msg->type)
    {
    case SETTLE_MSG_CLIENT_HELLO: return 4;
    case SETTLE_MSG_SERVER_SHARE: return 3;
    case SETTLE_MSG_CLIENT_CONFIRM: return 2;
    case SETTLE_MSG_ENROL_REQUEST: return 3 + (msg->enrol_request.nonce != NULL);
    case SETTLE_MSG_ENROL_RESPONSE:
      return 5 + 2 * (msg->enrol_response.voucher != NULL) + 2 * (msg->enrol_response.referee_ca_der != NULL)
             + 2 * (msg->enrol_response.has_discovery != FALSE);
    case SETTLE_MSG_ERROR: return 3;
    case SETTLE_MSG_COMMIT:
    case SETTLE_MSG_COMMITTED: return 1;
    }
  return 0;
}

static gboolean
put_fields (cbor_item_t *map, const SettleCeremonyMsg *msg)
{
  switch (msg->type)
    {
    case SETTLE_MSG_CLIENT_HELLO:
      return put (map, "version", build_uint (msg->client_hello.version))
             && put (map, "suite", build_text (settle_spake2_suite_name (msg->client_hello.suite)))
             && put (map, "pA", cbor_build_bytestring (msg->client_hello.share, SETTLE_SPAKE2_SHARE_LEN));
    case SETTLE_MSG_SERVER_SHARE:
      return put (map, "pB", cbor_build_bytestring (msg->server_share.share, SETTLE_SPAKE2_SHARE_LEN))
             && put (map, "cB", cbor_build_bytestring (msg->server_share.confirm, SETTLE_SPAKE2_CONFIRM_LEN));
    case SETTLE_MSG_CLIENT_CONFIRM:
      return put (map, "cA", cbor_build_bytestring (msg->client_confirm.confirm, SETTLE_SPAKE2_CONFIRM_LEN));
    case SETTLE_MSG_ENROL_REQUEST:
      return put (map, "csr", build_bytes (msg->enrol_request.csr_der))
             && put (map, "role", build_text (msg->enrol_request.role))
             && (msg->enrol_request.nonce == NULL || put (map, "nonce", build_bytes (msg->enrol_request.nonce)));
    case SETTLE_MSG_ENROL_RESPONSE:
      return put (map, "cert", build_bytes (msg->enrol_response.cert_der))
             && put (map, "chain", build_chain (msg->enrol_response.chain))
             && put (map, "names", build_names (msg->enrol_response.names))
             && put (map, "role", build_text (msg->enrol_response.role))
             && (msg->enrol_response.voucher == NULL
                 || (put (map, "idevid", build_chain (msg->enrol_response.idevid))
                     && put (map, "voucher", build_bytes (msg->enrol_response.voucher))))
             && (msg->enrol_response.referee_ca_der == NULL
                 || (put (map, "referee-ca", build_bytes (msg->enrol_response.referee_ca_der))
                     && put (map, "subtree", build_names (msg->enrol_response.subtree))))
             && (!msg->enrol_response.has_discovery
                 || (put (map, "dk", cbor_build_bytestring (msg->enrol_response.discovery_key,
                                                            SETTLE_CEREMONY_DISCOVERY_KEY_LEN))
                     && put (map, "dp", build_uint (msg->enrol_response.discovery_period))));
    case SETTLE_MSG_ERROR:
      return put (map, "code", build_uint (msg->error.code))
             && put (map, "text", build_text (msg->error.text));
    case SETTLE_MSG_COMMIT:
    case SETTLE_MSG_COMMITTED:
      return TRUE;
    }
  return FALSE;
}

static GBytes *
serialize (const cbor_item_t *root)
{
  unsigned char *buf = NULL;
  size_t allocated = 0;
  size_t n = cbor_serialize_alloc (root, &buf, &allocated);
  GBytes *bytes = n > 0 ? g_bytes_new (buf, n) : NULL;
  free (buf);
  return bytes;
}

GBytes *
settle_ceremony_msg_encode (const SettleCeremonyMsg *msg, GError **error)
{
  if (field_count (msg) == 0)
    {
      refuse (error, "The message to send has an unknown type.");
      return NULL;
    }
  if (msg->type == SETTLE_MSG_CLIENT_HELLO && settle_spake2_suite_name (msg->client_hello.suite) == NULL)
    {
      refuse (error, "The CLIENT_HELLO message to send names no known algorithm suite.");
      return NULL;
    }

  if (msg->type == SETTLE_MSG_ENROL_RESPONSE && msg->enrol_response.has_discovery
      && (msg->enrol_response.discovery_period < SETTLE_CEREMONY_DISCOVERY_PERIOD_MIN
          || msg->enrol_response.discovery_period > SETTLE_CEREMONY_DISCOVERY_PERIOD_MAX))
    {
      refuse (error, "The ENROL_RESPONSE message to send has a rotation period out of range.");
      return NULL;
    }
  cbor_item_t *root = cbor_new_definite_map (field_count (msg));
  gboolean built = root != NULL && put (root, "type", build_uint (msg->type)) && put_fields (root, msg);
  g_autoptr (GBytes) body = built ? serialize (root) : NULL;
  if (root != NULL)
    cbor_decref (&root);
  if (body == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "libcbor could not build the message.");
      return NULL;
    }

  /* The decoder is the definition of valid: never send what it refuses. */
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);
  g_autoptr (SettleCeremonyMsg) back = settle_ceremony_msg_decode (data, len, error);
  if (back == NULL)
    return NULL;
  return g_steal_pointer (&body);
}

/* ---- framing ---- */

GBytes *
settle_ceremony_frame_encode (const SettleCeremonyMsg *msg, GError **error)
{
  g_autoptr (GBytes) body = settle_ceremony_msg_encode (msg, error);
  if (body == NULL)
    return NULL;
  gsize len = g_bytes_get_size (body);
  guint8 *frame = g_malloc (SETTLE_CEREMONY_FRAME_HEADER_LEN + len);
  guint32 be = GUINT32_TO_BE ((guint32) len);
  memcpy (frame, &be, sizeof be);
  memcpy (frame + SETTLE_CEREMONY_FRAME_HEADER_LEN, g_bytes_get_data (body, NULL), len);
  return g_bytes_new_take (frame, SETTLE_CEREMONY_FRAME_HEADER_LEN + len);
}

gboolean
settle_ceremony_frame_parse_header (const guint8 header[SETTLE_CEREMONY_FRAME_HEADER_LEN],
                                    gsize *body_len, GError **error)
{
  guint32 be;
  memcpy (&be, header, sizeof be);
  guint32 len = GUINT32_FROM_BE (be);
  if (len == 0)
    return refuse (error, "The frame announces an empty message.");
  if (len > SETTLE_CEREMONY_FRAME_MAX)
    return refuse (error, "The frame announces a message larger than 64 KiB.");
  *body_len = len;
  return TRUE;
}

SettleCeremonyMsg *
settle_ceremony_frame_decode (const guint8 *buf, gsize len, gsize *consumed, GError **error)
{
  gsize body_len = 0;
  *consumed = 0;
  if (len < SETTLE_CEREMONY_FRAME_HEADER_LEN)
    {
      refuse (error, "The frame is truncated: its 4-byte length header is incomplete.");
      return NULL;
    }
  if (!settle_ceremony_frame_parse_header (buf, &body_len, error))
    return NULL;
  if (len - SETTLE_CEREMONY_FRAME_HEADER_LEN < body_len)
    {
      refuse (error, "The frame is truncated: it holds fewer bytes than its header announces.");
      return NULL;
    }
  SettleCeremonyMsg *msg = settle_ceremony_msg_decode (buf + SETTLE_CEREMONY_FRAME_HEADER_LEN, body_len, error);
  if (msg != NULL)
    *consumed = SETTLE_CEREMONY_FRAME_HEADER_LEN + body_len;
  return msg;
}

/* ---- expectations ---- */

static SettleErrorCode
local_code_for (guint peer_code)
{
  switch (peer_code)
    {
    case SETTLE_CEREMONY_ERR_AUTH_FAILED: return SETTLE_ERROR_AUTH;
    case SETTLE_CEREMONY_ERR_ROLE_REFUSED:
    case SETTLE_CEREMONY_ERR_BUSY:
    case SETTLE_CEREMONY_ERR_DECLINED: return SETTLE_ERROR_REFUSED;
    case SETTLE_CEREMONY_ERR_TIMEOUT: return SETTLE_ERROR_NETWORK;
    case SETTLE_CEREMONY_ERR_CSR_REFUSED: return SETTLE_ERROR_CERT;
    default: return SETTLE_ERROR_PROTOCOL;
    }
}

gboolean
settle_ceremony_msg_expect (const SettleCeremonyMsg *msg, SettleMsgType expected, GError **error)
{
  if (msg->type == expected)
    return TRUE;
  if (msg->type == SETTLE_MSG_ERROR)
    g_set_error (error, SETTLE_ERROR, local_code_for (msg->error.code),
                 "The peer ended the ceremony (error %u): %s", msg->error.code,
                 msg->error.text != NULL && *msg->error.text != '\0' ? msg->error.text : "no reason given");
  else
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL,
                 "The peer sent %s where %s was expected.", settle_ceremony_msg_type_name (msg->type),
                 settle_ceremony_msg_type_name (expected));
  return FALSE;
}
