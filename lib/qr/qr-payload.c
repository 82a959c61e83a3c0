/* qr-payload.c: parse and format the `SETTLE:` QR payload
 * (schema/qr-payload.md), with or without the address hint A.  The parser is strict: a QR code is machine
 * made, so anything but the canonical form points at a broken or hostile
 * device, and every refusal says which field is wrong. */
#include "settle-qr-payload.h"

#include <string.h>

#include <gio/gio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "settle-endpoint.h"
#include "settle-error.h"
#include "settle-scope.h"

#define PREFIX "SETTLE:"
#define KEY_MAX 8
#define FIELDS_MAX 32
#define SPKI_HASH_B64_LEN 43 /* 32 bytes of base64url without padding */
#define SECRET_MIN_CHARS 26  /* 128 bits */

/* The fields this version knows; unknown ones are skipped. */
typedef enum { F_V, F_G, F_N, F_A, F_H, F_S, F_COUNT } FieldId;
static const char *const field_keys[F_COUNT] = { "V", "G", "N", "A", "H", "S" };
static const char *const field_roles[F_COUNT] = {
  "version", "algorithm suite", "device name", "address", "key hash", "secret",
};

/* Borrowed slices of the payload text, one per known field. */
typedef struct {
  const char *value[F_COUNT];
  gsize len[F_COUNT];
} Fields;

static gboolean
refuse (GError **error, const char *message)
{
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, message);
  return FALSE;
}

SettleQrPayload *
settle_qr_payload_new (void)
{
  SettleQrPayload *payload = g_new0 (SettleQrPayload, 1);
  payload->version = SETTLE_QR_PAYLOAD_VERSION;
  payload->suite = SETTLE_SPAKE2_SUITE_P256_SHA256;
  return payload;
}

void
settle_qr_payload_free (SettleQrPayload *payload)
{
  if (payload == NULL)
    return;
  g_free (payload->name);
  g_free (payload->host);
  OPENSSL_cleanse (payload, sizeof *payload);
  g_free (payload);
}

/* ---- envelope: prefix, fields, end marker ---- */

static gboolean
is_key_char (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int
known_field (const char *key, gsize len)
{
  for (int i = 0; i < F_COUNT; i++)
    if (strlen (field_keys[i]) == len && memcmp (field_keys[i], key, len) == 0)
      return i;
  return -1;
}

static gboolean
take_field (Fields *fields, const char *field, gsize len, GError **error)
{
  const char *colon = memchr (field, ':', len);
  if (colon == NULL)
    return refuse (error, "The pairing code has a field without a ':' between name and value.");
  gsize key_len = (gsize) (colon - field);
  if (key_len == 0 || key_len > KEY_MAX)
    return refuse (error, "The pairing code has a field name that is not 1 to 8 uppercase letters or digits.");
  for (gsize i = 0; i < key_len; i++)
    if (!is_key_char (field[i]))
      return refuse (error, "The pairing code has a field name that is not 1 to 8 uppercase letters or digits.");

  int id = known_field (field, key_len);
  if (id < 0)
    return TRUE;
  if (fields->value[id] != NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The pairing code has the %s field %s twice.", field_roles[id], field_keys[id]);
      return FALSE;
    }
  fields->value[id] = colon + 1;
  fields->len[id] = len - key_len - 1;
  return TRUE;
}

/* Everything after "SETTLE:": fields each ending in ';', then one more ';'. */
static gboolean
split_fields (const char *body, gsize len, Fields *fields, GError **error)
{
  gsize pos = 0;
  guint count = 0;
  for (;;)
    {
      if (pos == len)
        return refuse (error, "The pairing code is cut off: it does not end with ';;'.");
      if (body[pos] == ';')
        break;
      const char *semi = memchr (body + pos, ';', len - pos);
      if (semi == NULL)
        return refuse (error, "The pairing code is cut off: it does not end with ';;'.");
      if (++count > FIELDS_MAX)
        return refuse (error, "The pairing code has more than 32 fields.");
      if (!take_field (fields, body + pos, (gsize) (semi - body) - pos, error))
        return FALSE;
      pos = (gsize) (semi - body) + 1;
    }
  if (pos + 1 != len)
    return refuse (error, "The pairing code has text after its end marker ';;'.");
  return TRUE;
}

static gboolean
check_envelope (const char *text, gsize len, GError **error)
{
  if (len == 0)
    return refuse (error, "The QR code is empty.");
  if (len > SETTLE_QR_PAYLOAD_MAX)
    return refuse (error, "The QR code is longer than 1024 characters, so it is not a settle pairing code.");
  if (len < strlen (PREFIX) || g_ascii_strncasecmp (text, PREFIX, strlen (PREFIX)) != 0)
    return refuse (error, "This QR code is not a settle pairing code: it does not start with 'SETTLE:'.");
  for (gsize i = 0; i < len; i++)
    if (text[i] <= 0x20 || text[i] >= 0x7f)
      return refuse (error, "The pairing code contains a space, a control character or a non-ASCII byte.");
  return TRUE;
}

/* Every known field is required except the address hint A: a payload
 * without it means "find N on the local network" (schema/qr-payload.md).
 * A field that is there must not be empty. */
static gboolean
field_optional (int id)
{
  return id == F_A;
}

static gboolean
require_fields (const Fields *fields, GError **error)
{
  for (int i = 0; i < F_COUNT; i++)
    {
      if (fields->value[i] == NULL && field_optional (i))
        continue;
      if (fields->value[i] == NULL)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                       "The pairing code has no %s field %s.", field_roles[i], field_keys[i]);
          return FALSE;
        }
      if (fields->len[i] == 0)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                       "The pairing code's %s field %s is empty.", field_roles[i], field_keys[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- fields ---- */

static gboolean
parse_version (const char *value, gsize len, guint *out, GError **error)
{
  if (len > 3)
    return refuse (error, "The pairing code's version (V) is not a number from 1 to 999.");
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (value[i]))
      return refuse (error, "The pairing code's version (V) is not a number from 1 to 999.");
  guint version = (guint) g_ascii_strtoull (value, NULL, 10);
  if (version != SETTLE_QR_PAYLOAD_VERSION)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The pairing code has version %u; this program understands version %d only.",
                   version, SETTLE_QR_PAYLOAD_VERSION);
      return FALSE;
    }
  *out = version;
  return TRUE;
}

static gboolean
parse_suite (const char *value, SettleSpake2Suite *out, GError **error)
{
  if (settle_spake2_suite_from_qr_id (value, out))
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
               "The pairing code asks for algorithm suite '%.16s', which this program does not support.",
               value);
  return FALSE;
}

/* The address hint: host:port, [v6]:port or name:port (settle-endpoint.h). */
static gboolean
parse_address (const char *value, SettleQrPayload *payload, GError **error)
{
  g_autoptr (SettleEndpoint) hint = settle_endpoint_parse (value, SETTLE_ENDPOINT_QR,
                                                           "The pairing code's address (A)", error);
  if (hint == NULL)
    return FALSE;
  payload->host = g_steal_pointer (&hint->host);
  payload->port = hint->port;
  return TRUE;
}

static int
base64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

static gboolean
parse_spki_hash (const char *value, gsize len, guint8 out[SETTLE_QR_SPKI_HASH_LEN], GError **error)
{
  if (len != SPKI_HASH_B64_LEN)
    return refuse (error, "The pairing code's key hash (H) is not 43 base64url characters (a SHA-256).");
  for (gsize i = 0; i < len; i++)
    if (base64url_value (value[i]) < 0)
      return refuse (error, "The pairing code's key hash (H) has a character outside base64url (A-Z a-z 0-9 - _).");
  /* 43 characters carry 258 bits; the 2 spare bits must be zero. */
  if ((base64url_value (value[len - 1]) & 0x3) != 0)
    return refuse (error, "The pairing code's key hash (H) is not canonical base64url.");

  char standard[SPKI_HASH_B64_LEN + 2];
  for (gsize i = 0; i < len; i++)
    standard[i] = value[i] == '-' ? '+' : value[i] == '_' ? '/' : value[i];
  standard[len] = '=';
  standard[len + 1] = '\0';
  gsize out_len = 0;
  g_autofree guint8 *raw = g_base64_decode (standard, &out_len);
  if (out_len != SETTLE_QR_SPKI_HASH_LEN)
    return refuse (error, "The pairing code's key hash (H) does not decode to 32 bytes.");
  memcpy (out, raw, SETTLE_QR_SPKI_HASH_LEN);
  return TRUE;
}

static gboolean
parse_secret (const char *value, gsize len, SettleQrPayload *payload, GError **error)
{
  if (len < SECRET_MIN_CHARS)
    return refuse (error, "The pairing code's secret (S) is shorter than 128 bits.");
  if (len > SETTLE_BASE32_SECRET_MAX_CHARS)
    return refuse (error, "The pairing code's secret (S) is longer than 256 bits.");
  if (!settle_base32_decode (value, payload->secret, sizeof payload->secret,
                             &payload->secret_len, error))
    return FALSE;
  if (!settle_base32_secret_length_ok (payload->secret_len))
    return refuse (error, "The pairing code's secret (S) is not 128, 160 or 256 bits long.");
  return TRUE;
}

static gboolean
parse_known_fields (const Fields *f, SettleQrPayload *p, GError **error)
{
  /* Copies so that each value is a C string; the secret's copy is wiped. */
  g_autofree char *v = g_strndup (f->value[F_V], f->len[F_V]);
  g_autofree char *g = g_strndup (f->value[F_G], f->len[F_G]);
  g_autofree char *n = g_strndup (f->value[F_N], f->len[F_N]);
  g_autofree char *a = f->value[F_A] != NULL ? g_strndup (f->value[F_A], f->len[F_A]) : NULL;
  char *s = g_strndup (f->value[F_S], f->len[F_S]);

  gboolean ok = parse_version (v, f->len[F_V], &p->version, error)
                && parse_suite (g, &p->suite, error)
                && (p->name = settle_name_normalize_in (n, "device name N of the pairing code", error)) != NULL
                && (a == NULL || parse_address (a, p, error))
                && parse_spki_hash (f->value[F_H], f->len[F_H], p->spki_sha256, error)
                && parse_secret (s, f->len[F_S], p, error);
  settle_base32_wipe_free (s);
  return ok;
}

static gsize
without_trailing_space (const char *text, gsize len)
{
  while (len > 0 && g_ascii_isspace (text[len - 1]))
    len--;
  return len;
}

SettleQrPayload *
settle_qr_payload_parse (const char *text, gsize len, GError **error)
{
  len = without_trailing_space (text, len);
  if (!check_envelope (text, len, error))
    return NULL;

  Fields fields = { 0 };
  gsize prefix_len = strlen (PREFIX);
  if (!split_fields (text + prefix_len, len - prefix_len, &fields, error)
      || !require_fields (&fields, error))
    return NULL;

  g_autoptr (SettleQrPayload) payload = settle_qr_payload_new ();
  if (!parse_known_fields (&fields, payload, error))
    return NULL;
  return g_steal_pointer (&payload);
}

/* ---- format ---- */

static char *
spki_hash_to_base64url (const guint8 hash[SETTLE_QR_SPKI_HASH_LEN])
{
  char *text = g_base64_encode (hash, SETTLE_QR_SPKI_HASH_LEN);
  for (char *p = text; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        *p = '\0';
    }
  return text;
}

static gboolean
same_payload (const SettleQrPayload *a, const SettleQrPayload *b)
{
  return a->version == b->version && a->suite == b->suite
         && g_strcmp0 (a->name, b->name) == 0 && g_strcmp0 (a->host, b->host) == 0
         && a->port == b->port
         && memcmp (a->spki_sha256, b->spki_sha256, sizeof a->spki_sha256) == 0
         && a->secret_len == b->secret_len
         && CRYPTO_memcmp (a->secret, b->secret, a->secret_len) == 0;
}

char *
settle_qr_payload_format (const SettleQrPayload *p, GError **error)
{
  const char *suite = settle_spake2_suite_qr_id (p->suite);
  if (suite == NULL || p->name == NULL || !settle_base32_secret_length_ok (p->secret_len))
    {
      refuse (error, "The pairing code cannot be written: its suite, name or secret is missing.");
      return NULL;
    }
  /* No host: no A field, and then no port either (the port comes from
   * DNS-SD or is the default one). */
  if (p->host == NULL && p->port != 0)
    {
      refuse (error, "The pairing code cannot be written: it has a port but no address.");
      return NULL;
    }

  g_autofree char *hash = spki_hash_to_base64url (p->spki_sha256);
  g_autofree char *address = p->host != NULL ? settle_endpoint_format (p->host, p->port) : NULL;
  g_autofree char *a_field = address != NULL ? g_strdup_printf ("A:%s;", address) : g_strdup ("");
  char *secret = settle_base32_encode (p->secret, p->secret_len);
  char *text = g_strdup_printf (PREFIX "V:%u;G:%s;N:%s;%sH:%s;S:%s;;", p->version, suite, p->name,
                                a_field, hash, secret);
  settle_base32_wipe_free (secret);

  /* The parser is the definition of valid: what it would refuse, or read
   * back differently (a name not in canonical form), is not written. */
  g_autoptr (SettleQrPayload) back = settle_qr_payload_parse (text, strlen (text), error);
  if (back == NULL || !same_payload (p, back))
    {
      if (back != NULL)
        refuse (error, "The pairing code cannot be written: its name or address is not in canonical form.");
      settle_base32_wipe_free (text);
      return NULL;
    }
  return text;
}

gboolean
settle_qr_payload_generate_secret (SettleQrPayload *payload, gsize len, GError **error)
{
  if (!settle_base32_secret_length_ok (len))
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "A pairing secret must be 16, 20 or 32 bytes long.");
      return FALSE;
    }
  if (RAND_priv_bytes (payload->secret, (int) len) != 1)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "OpenSSL could not produce random bytes for the pairing secret.");
      return FALSE;
    }
  payload->secret_len = len;
  return TRUE;
}

gboolean
settle_qr_payload_spki_matches (const SettleQrPayload *payload, const guint8 *spki_der,
                                gsize spki_len)
{
  guint8 digest[SETTLE_QR_SPKI_HASH_LEN];
  unsigned int digest_len = 0;
  if (EVP_Digest (spki_der, spki_len, digest, &digest_len, EVP_sha256 (), NULL) != 1
      || digest_len != sizeof digest)
    return FALSE;
  return CRYPTO_memcmp (digest, payload->spki_sha256, sizeof digest) == 0;
}
