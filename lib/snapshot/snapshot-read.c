/* snapshot-read.c: loading the trust snapshot (settle-snapshot-reader.h).
 *
 * Linked into browser processes and OpenSSL programs, hence plain C11 and
 * libcbor only.  Loading is: bounded read, structural pre-scan, cbor_load,
 * validation of every field (docs/snapshot.md), one copy into a single
 * owned arena, and the CBOR tree freed, so a loaded snapshot holds each
 * byte once.
 *
 * Threads: a loaded snapshot is never modified, and lookups keep their
 * state in the caller's cursor, so any number of threads may read one
 * snapshot at once; only settle_snapshot_free must wait for all of them. */
#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settle-name-rule.h"
#include "settle-snapshot-reader.h"

/* Limits of our own on top of the header's: nothing we write comes near
 * them, and they bound what a tampered file can make us allocate. */
#define PRESCAN_MAX_DEPTH 16
#define MAX_ITEMS_PER_ENTRY 64u   /* CBOR items, all keys and values counted */
#define MAX_LABEL_BYTES 1024u
#define MAX_NAME_BYTES 253u       /* a DNS name */
#define MAX_NAMES_PER_ENTRY 1024u
#define MAX_SERIAL_BYTES 64u      /* 20 content octets in RFC 5280; room for sloppy CAs */
#define MAX_NAME_DER_BYTES SETTLE_SNAPSHOT_MAX_CERT
#define RECORD_HEX_LEN 64u
#define ID_BYTES 20u              /* SHA-1 */
#define MAX_EC_PARAMS_BYTES 32u   /* DER OBJECT IDENTIFIER of a named curve */
#define NOT_INSIDE_DER ((size_t) -1)

/* ---- errors --------------------------------------------------------- */

typedef struct {
  char *buf;    /* borrowed from the caller, may be NULL */
  size_t len;
} error_sink;

static void
fail (error_sink *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
fail (error_sink *err, const char *fmt, ...)
{
  if (err->buf == NULL || err->len == 0)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err->buf, err->len, fmt, ap);
  va_end (ap);
}

/* RFC 8949 text is UTF-8; libcbor 0.8 refuses bad UTF-8 only with a bare
 * syntax error, so the pre-scan checks it to say what is wrong. */
static bool
valid_utf8 (const uint8_t *s, size_t n)
{
  size_t i = 0;
  while (i < n)
    {
      uint8_t c = s[i];
      size_t extra;
      uint32_t min, cp;
      if (c < 0x80) { i++; continue; }
      else if ((c & 0xe0) == 0xc0) { extra = 1; min = 0x80; cp = c & 0x1f; }
      else if ((c & 0xf0) == 0xe0) { extra = 2; min = 0x800; cp = c & 0x0f; }
      else if ((c & 0xf8) == 0xf0) { extra = 3; min = 0x10000; cp = c & 0x07; }
      else return false;
      if (n - i <= extra)
        return false;
      for (size_t k = 1; k <= extra; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return false;
          cp = (cp << 6) | (s[i + k] & 0x3f);
        }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
      i += extra + 1;
    }
  return true;
}

/* ---- structural pre-scan --------------------------------------------
 * cbor_load allocates a definite array or map of the declared size before
 * reading its items, and frees nested items recursively.  A forged length
 * (2^32 items in a 10-byte file) or a deep nesting would therefore cost
 * gigabytes or the stack before any check of ours runs.  This pass walks
 * the bytes with the streaming decoder first and refuses declared counts
 * larger than the bytes left, indefinite lengths, and deep nesting. */

typedef struct {
  size_t remaining[PRESCAN_MAX_DEPTH]; /* items still due in each open container */
  size_t depth;
  size_t bytes_left;                   /* input bytes from the current item on */
  size_t items;                        /* items seen so far */
  size_t max_items;
  int complete;                        /* the top-level item has ended */
  const char *problem;                 /* static sentence, first problem found */
} prescan_state;

static void
prescan_item_done (prescan_state *st)
{
  if (st->complete)
    {
      st->problem = "the index has trailing data after its map.";
      return;
    }
  if (++st->items > st->max_items)
    st->problem = "the index holds more CBOR items than its entries allow.";
  while (st->depth > 0)
    {
      if (--st->remaining[st->depth - 1] > 0)
        return;
      st->depth--;   /* a finished container is one item of its parent */
    }
  st->complete = 1;
}

static void
prescan_open (prescan_state *st, size_t items)
{
  if (items == 0)
    {
      prescan_item_done (st);
      return;
    }
  if (items > st->bytes_left)
    {
      st->problem = "a CBOR array or map declares more items than the file holds.";
      return;
    }
  if (st->depth == PRESCAN_MAX_DEPTH)
    {
      st->problem = "the index nests CBOR containers too deeply.";
      return;
    }
  st->remaining[st->depth++] = items;
}

static void
prescan_array (void *ctx, size_t size)
{
  prescan_open (ctx, size);
}

static void
prescan_map (void *ctx, size_t size)
{
  prescan_state *st = ctx;
  if (size > SIZE_MAX / 2)
    st->problem = "a CBOR map declares more items than the file holds.";
  else
    prescan_open (st, size * 2);
}

static void
prescan_tag (void *ctx, uint64_t tag)
{
  (void) tag;
  prescan_open (ctx, 1);   /* a tag wraps exactly one item */
}

static void
prescan_indefinite (void *ctx)
{
  ((prescan_state *) ctx)->problem = "the index uses indefinite-length CBOR, which the format forbids.";
}

static void prescan_simple (void *ctx) { prescan_item_done (ctx); }
static void prescan_u8 (void *ctx, uint8_t v) { (void) v; prescan_item_done (ctx); }
static void prescan_u16 (void *ctx, uint16_t v) { (void) v; prescan_item_done (ctx); }
static void prescan_u32 (void *ctx, uint32_t v) { (void) v; prescan_item_done (ctx); }
static void prescan_u64 (void *ctx, uint64_t v) { (void) v; prescan_item_done (ctx); }
static void prescan_bytes (void *ctx, cbor_data d, size_t n) { (void) d; (void) n; prescan_item_done (ctx); }

static void
prescan_text (void *ctx, cbor_data d, size_t n)
{
  if (!valid_utf8 (d, n))
    ((prescan_state *) ctx)->problem = "a text string in the index is not valid UTF-8.";
  else
    prescan_item_done (ctx);
}
static void prescan_f (void *ctx, float v) { (void) v; prescan_item_done (ctx); }
static void prescan_d (void *ctx, double v) { (void) v; prescan_item_done (ctx); }
static void prescan_b (void *ctx, bool v) { (void) v; prescan_item_done (ctx); }

static const struct cbor_callbacks prescan_callbacks = {
  .uint8 = prescan_u8, .uint16 = prescan_u16, .uint32 = prescan_u32, .uint64 = prescan_u64,
  .negint8 = prescan_u8, .negint16 = prescan_u16, .negint32 = prescan_u32, .negint64 = prescan_u64,
  .byte_string = prescan_bytes, .string = prescan_text,
  .byte_string_start = prescan_indefinite, .string_start = prescan_indefinite,
  .indef_array_start = prescan_indefinite, .indef_map_start = prescan_indefinite,
  .indef_break = prescan_indefinite,
  .array_start = prescan_array, .map_start = prescan_map, .tag = prescan_tag,
  .float2 = prescan_f, .float4 = prescan_f, .float8 = prescan_d,
  .undefined = prescan_simple, .null = prescan_simple, .boolean = prescan_b,
};

static int
prescan (const uint8_t *data, size_t len, error_sink *err)
{
  prescan_state st = { .max_items = 16 + (size_t) SETTLE_SNAPSHOT_MAX_ENTRIES * MAX_ITEMS_PER_ENTRY };
  size_t offset = 0;

  if (len == 0)
    {
      fail (err, "the index is empty.");
      return -1;
    }
  while (!st.complete)
    {
      if (offset == len)
        {
          fail (err, "the index is truncated.");
          return -1;
        }
      st.bytes_left = len - offset;
      struct cbor_decoder_result r = cbor_stream_decode (data + offset, len - offset,
                                                         &prescan_callbacks, &st);
      if (r.status == CBOR_DECODER_NEDATA)
        {
          fail (err, "the index is truncated.");
          return -1;
        }
      if (r.status != CBOR_DECODER_FINISHED)
        {
          fail (err, "the index is not well-formed CBOR (at byte %zu).", offset);
          return -1;
        }
      if (st.problem != NULL)
        {
          fail (err, "%s", st.problem);
          return -1;
        }
      offset += r.read;
    }
  if (offset != len)
    {
      fail (err, "the index has trailing data after its map.");
      return -1;
    }
  return 0;
}

/* ---- typed access to CBOR items -------------------------------------- */

static bool
text_is (const cbor_item_t *item, const char *s)
{
  size_t n = strlen (s);
  return cbor_isa_string (item) && cbor_string_is_definite (item)
         && cbor_string_length (item) == n && memcmp (cbor_string_handle (item), s, n) == 0;
}

/* Definite text of at most `max` bytes without NUL (it becomes a C string
 * for consumers); the pre-scan already checked it is UTF-8. */
static bool
is_clean_text (const cbor_item_t *item, size_t max)
{
  if (!cbor_isa_string (item) || !cbor_string_is_definite (item))
    return false;
  size_t n = cbor_string_length (item);
  const uint8_t *s = cbor_string_handle (item);
  return n <= max && (n == 0 || memchr (s, 0, n) == NULL);
}

static bool
is_bytes (const cbor_item_t *item, size_t min, size_t max)
{
  if (!cbor_isa_bytestring (item) || !cbor_bytestring_is_definite (item))
    return false;
  size_t n = cbor_bytestring_length (item);
  return n >= min && n <= max;
}

static bool
read_uint (const cbor_item_t *item, uint64_t *out)
{
  if (!cbor_isa_uint (item))
    return false;
  *out = cbor_get_int (item);
  return true;
}

static bool
read_int64 (const cbor_item_t *item, int64_t *out)
{
  if (!cbor_isa_uint (item) && !cbor_isa_negint (item))
    return false;
  uint64_t v = cbor_get_int (item);
  if (v > (uint64_t) INT64_MAX)
    return false;
  *out = cbor_isa_uint (item) ? (int64_t) v : -1 - (int64_t) v;
  return true;
}

/* Collects the values of `keys` from a map, refusing duplicates of them;
 * other keys are ignored so later versions can add fields. */
static int
collect_keys (const cbor_item_t *map, const char *const *keys, size_t n_keys,
              const cbor_item_t **values, const char *where, error_sink *err)
{
  struct cbor_pair *pairs = cbor_map_handle (map);
  size_t n = cbor_map_size (map);

  for (size_t k = 0; k < n_keys; k++)
    values[k] = NULL;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < n_keys; k++)
      if (text_is (pairs[i].key, keys[k]))
        {
          if (values[k] != NULL)
            {
              fail (err, "%s has the key \"%s\" twice.", where, keys[k]);
              return -1;
            }
          values[k] = pairs[i].value;
        }
  for (size_t k = 0; k < n_keys; k++)
    if (values[k] == NULL)
      {
        fail (err, "%s misses the key \"%s\".", where, keys[k]);
        return -1;
      }
  return 0;
}

/* ---- entries ---------------------------------------------------------- */

enum {
  F_ROLE, F_DER, F_SUBJECT, F_ISSUER, F_SERIAL, F_ID, F_SHA1, F_MD5, F_SHA256,
  F_LABEL, F_RECORD, F_SCOPE, F_NAMES, F_NOT_AFTER, F_COUNT
};
static const char *const entry_keys[F_COUNT] = {
  "role", "der", "subject", "issuer", "serial", "id", "sha1", "md5", "sha256",
  "label", "record", "scope", "names", "not_after",
};

/* A validated entry still inside the CBOR tree (items borrowed from it). */
typedef struct {
  const cbor_item_t *f[F_COUNT];
  const cbor_item_t *ec_params; /* optional; required for client identities */
  settle_snap_role role;
  int64_t not_after;
  size_t subject_at, issuer_at, serial_at; /* offset inside der, or NOT_INSIDE_DER */
} entry_view;

static int
check_name_list (const cbor_item_t *list, bool is_scope, size_t index, error_sink *err)
{
  const char *key = is_scope ? "scope" : "names";
  if (!cbor_isa_array (list) || !cbor_array_is_definite (list)
      || cbor_array_size (list) > MAX_NAMES_PER_ENTRY)
    {
      fail (err, "entry %zu: \"%s\" must be an array of at most %u names.", index, key,
            MAX_NAMES_PER_ENTRY);
      return -1;
    }
  for (size_t i = 0; i < cbor_array_size (list); i++)
    {
      const cbor_item_t *item = cbor_array_handle (list)[i];
      if (!is_clean_text (item, MAX_NAME_BYTES))
        {
          fail (err, "entry %zu: \"%s\" item %zu is not a text name of at most %u bytes without NUL.",
                index, key, i, MAX_NAME_BYTES);
          return -1;
        }
      const char *name = (const char *) cbor_string_handle (item);
      size_t len = cbor_string_length (item);
      if (settle_name_rule_syntax (name, len, !is_scope, NULL) != SETTLE_NAME_OK)
        {
          fail (err, "entry %zu: \"%s\" item %zu is not a valid DNS name.", index, key, i);
          return -1;
        }
      if (!settle_name_rule_in_namespaces (name, len))
        {
          fail (err, "entry %zu: \"%s\" item \"%.*s\" lies outside local, home.arpa and alt.",
                index, key, (int) len, name);
          return -1;
        }
    }
  return 0;
}

static bool
parse_role (const cbor_item_t *item, settle_snap_role *out)
{
  if (text_is (item, "root"))
    *out = SETTLE_SNAP_ROOT;
  else if (text_is (item, "cross"))
    *out = SETTLE_SNAP_CROSS;
  else if (text_is (item, "peer"))
    *out = SETTLE_SNAP_PEER;
  else if (text_is (item, "client"))
    *out = SETTLE_SNAP_CLIENT;
  else
    return false;
  return true;
}

static bool
is_lower_hex (const cbor_item_t *item, size_t len)
{
  if (!cbor_isa_string (item) || !cbor_string_is_definite (item)
      || cbor_string_length (item) != len)
    return false;
  const uint8_t *s = cbor_string_handle (item);
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* A DER INTEGER: tag 0x02, a length that matches, at least one octet. */
static bool
is_der_integer (const cbor_item_t *item)
{
  if (!is_bytes (item, 3, MAX_SERIAL_BYTES))
    return false;
  const uint8_t *b = cbor_bytestring_handle (item);
  size_t n = cbor_bytestring_length (item);
  if (b[0] != 0x02)
    return false;
  if (b[1] < 0x80)
    return (size_t) b[1] + 2 == n;
  return b[1] == 0x81 && b[2] >= 0x80 && (size_t) b[2] + 3 == n;
}

/* Where `part` sits inside `der`: subject, issuer and serial normally are
 * substrings of the certificate, and pointing into its copy instead of
 * storing them again saves a fifth of the memory per anchor. */
static size_t
offset_inside (const cbor_item_t *der, const cbor_item_t *part)
{
  const uint8_t *hay = cbor_bytestring_handle (der);
  const uint8_t *needle = cbor_bytestring_handle (part);
  const uint8_t *at = memmem (hay, cbor_bytestring_length (der), needle,
                              cbor_bytestring_length (part));
  return at == NULL ? NOT_INSIDE_DER : (size_t) (at - hay);
}

static int
check_entry_bytes (entry_view *v, size_t index, error_sink *err)
{
  static const struct { int field; size_t min, max; } rules[] = {
    { F_DER, 1, SETTLE_SNAPSHOT_MAX_CERT },
    { F_SUBJECT, 1, MAX_NAME_DER_BYTES },
    { F_ISSUER, 1, MAX_NAME_DER_BYTES },
    { F_ID, ID_BYTES, ID_BYTES },
    { F_SHA1, 20, 20 },
    { F_MD5, 16, 16 },
    { F_SHA256, 32, 32 },
  };
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
    if (!is_bytes (v->f[rules[i].field], rules[i].min, rules[i].max))
      {
        if (rules[i].min == rules[i].max)
          fail (err, "entry %zu: \"%s\" must be a byte string of %zu bytes.", index,
                entry_keys[rules[i].field], rules[i].min);
        else
          fail (err, "entry %zu: \"%s\" must be a byte string of %zu to %zu bytes.", index,
                entry_keys[rules[i].field], rules[i].min, rules[i].max);
        return -1;
      }
  if (!is_der_integer (v->f[F_SERIAL]))
    {
      fail (err, "entry %zu: \"serial\" must be a DER INTEGER (tag 0x02) of at most %u bytes.",
            index, MAX_SERIAL_BYTES);
      return -1;
    }
  return 0;
}

/* A DER OBJECT IDENTIFIER: tag 0x06, a short length that matches. */
static bool
is_der_oid (const cbor_item_t *item)
{
  if (!is_bytes (item, 3, MAX_EC_PARAMS_BYTES))
    return false;
  const uint8_t *b = cbor_bytestring_handle (item);
  return b[0] == 0x06 && b[1] < 0x80 && (size_t) b[1] + 2 == cbor_bytestring_length (item);
}

/* "ec_params" is the one optional key: a client identity needs it (its
 * private key object answers CKA_EC_PARAMS without parsing ASN.1), the
 * trust roles do not have it. */
static int
check_client_fields (const cbor_item_t *map, entry_view *v, size_t index, error_sink *err)
{
  static const char *const optional_keys[] = { "ec_params" };
  struct cbor_pair *pairs = cbor_map_handle (map);
  v->ec_params = NULL;
  for (size_t i = 0; i < cbor_map_size (map); i++)
    if (text_is (pairs[i].key, optional_keys[0]))
      {
        if (v->ec_params != NULL)
          {
            fail (err, "entry %zu has the key \"ec_params\" twice.", index);
            return -1;
          }
        v->ec_params = pairs[i].value;
      }
  if (v->role != SETTLE_SNAP_CLIENT)
    return 0;
  if (v->ec_params == NULL || !is_der_oid (v->ec_params))
    {
      fail (err, "entry %zu: a client identity needs \"ec_params\", the DER OID of its curve.", index);
      return -1;
    }
  if (cbor_isa_array (v->f[F_SCOPE]) && cbor_array_size (v->f[F_SCOPE]) != 0)
    {
      fail (err, "entry %zu: a client identity vouches for nothing, so its \"scope\" must be empty.", index);
      return -1;
    }
  return 0;
}

static int
read_entry (const cbor_item_t *item, size_t index, entry_view *v, error_sink *err)
{
  char where[48];
  snprintf (where, sizeof where, "entry %zu", index);
  if (!cbor_isa_map (item) || !cbor_map_is_definite (item))
    {
      fail (err, "entry %zu is not a CBOR map.", index);
      return -1;
    }
  if (collect_keys (item, entry_keys, F_COUNT, v->f, where, err) < 0)
    return -1;
  if (!parse_role (v->f[F_ROLE], &v->role))
    {
      fail (err, "entry %zu: \"role\" must be \"root\", \"cross\", \"peer\" or \"client\".", index);
      return -1;
    }
  if (check_entry_bytes (v, index, err) < 0 || check_client_fields (item, v, index, err) < 0)
    return -1;
  if (!is_clean_text (v->f[F_LABEL], MAX_LABEL_BYTES))
    {
      fail (err, "entry %zu: \"label\" must be text of at most %u bytes without NUL.",
            index, MAX_LABEL_BYTES);
      return -1;
    }
  if (!is_lower_hex (v->f[F_RECORD], RECORD_HEX_LEN))
    {
      fail (err, "entry %zu: \"record\" must be %u lowercase hex digits.", index, RECORD_HEX_LEN);
      return -1;
    }
  if (!read_int64 (v->f[F_NOT_AFTER], &v->not_after))
    {
      fail (err, "entry %zu: \"not_after\" must be an integer (unix seconds).", index);
      return -1;
    }
  if (check_name_list (v->f[F_SCOPE], true, index, err) < 0
      || check_name_list (v->f[F_NAMES], false, index, err) < 0)
    return -1;
  v->subject_at = offset_inside (v->f[F_DER], v->f[F_SUBJECT]);
  v->issuer_at = offset_inside (v->f[F_DER], v->f[F_ISSUER]);
  v->serial_at = offset_inside (v->f[F_DER], v->f[F_SERIAL]);
  return 0;
}

/* ---- the arena ---------------------------------------------------------
 * One allocation: [snapshot][entries][3 index tables][pointer arrays][bytes].
 * Sizes are bounded by the 256 MiB input, so the sums cannot overflow. */

typedef struct {
  uint32_t hash;
  uint32_t entry;   /* entry index + 1; 0 marks an empty slot */
} index_slot;

struct settle_snapshot {
  uint64_t generation;
  size_t count;
  settle_snap_entry *entries;
  index_slot *by_subject;       /* all three: mask + 1 slots, in the arena */
  index_slot *by_issuer_serial;
  index_slot *by_der;
  size_t mask;
};

typedef struct {
  size_t pointers;  /* scope and names arrays, NULL terminators included */
  size_t bytes;     /* certificate bytes and strings */
} arena_need;

typedef struct {
  const char **next_ptr;
  uint8_t *next_byte;
} arena_cursor;

static size_t
align_up (size_t n)
{
  size_t a = _Alignof (max_align_t);
  return (n + a - 1) / a * a;
}

static size_t
bytes_len (const cbor_item_t *item)
{
  return cbor_bytestring_length (item);
}

static void
measure_entry (const entry_view *v, arena_need *need)
{
  need->bytes += bytes_len (v->f[F_DER]) + bytes_len (v->f[F_ID]);
  if (v->role == SETTLE_SNAP_CLIENT)
    need->bytes += bytes_len (v->ec_params);
  if (v->subject_at == NOT_INSIDE_DER)
    need->bytes += bytes_len (v->f[F_SUBJECT]);
  if (v->issuer_at == NOT_INSIDE_DER)
    need->bytes += bytes_len (v->f[F_ISSUER]);
  if (v->serial_at == NOT_INSIDE_DER)
    need->bytes += bytes_len (v->f[F_SERIAL]);
  need->bytes += cbor_string_length (v->f[F_LABEL]) + 1 + RECORD_HEX_LEN + 1;
  const cbor_item_t *lists[2] = { v->f[F_SCOPE], v->f[F_NAMES] };
  for (size_t l = 0; l < 2; l++)
    {
      need->pointers += cbor_array_size (lists[l]) + 1;
      for (size_t i = 0; i < cbor_array_size (lists[l]); i++)
        need->bytes += cbor_string_length (cbor_array_handle (lists[l])[i]) + 1;
    }
}

static const uint8_t *
arena_put (arena_cursor *c, const void *data, size_t len)
{
  uint8_t *at = c->next_byte;
  memcpy (at, data, len);
  c->next_byte += len;
  return at;
}

static const char *
arena_put_text (arena_cursor *c, const cbor_item_t *text)
{
  size_t n = cbor_string_length (text);
  uint8_t *at = c->next_byte;
  memcpy (at, cbor_string_handle (text), n);
  at[n] = '\0';
  c->next_byte += n + 1;
  return (const char *) at;
}

static const char *const *
arena_put_list (arena_cursor *c, const cbor_item_t *list)
{
  const char **array = c->next_ptr;
  size_t n = cbor_array_size (list);
  for (size_t i = 0; i < n; i++)
    array[i] = arena_put_text (c, cbor_array_handle (list)[i]);
  array[n] = NULL;
  c->next_ptr += n + 1;
  return array;
}

static settle_bytes
arena_put_bytes (arena_cursor *c, const cbor_item_t *item)
{
  settle_bytes b = { arena_put (c, cbor_bytestring_handle (item), bytes_len (item)), bytes_len (item) };
  return b;
}

static settle_bytes
part_of_der (arena_cursor *c, const settle_bytes *der, const cbor_item_t *item, size_t at)
{
  if (at == NOT_INSIDE_DER)
    return arena_put_bytes (c, item);
  settle_bytes b = { der->data + at, bytes_len (item) };
  return b;
}

static void
copy_entry (const entry_view *v, arena_cursor *c, settle_snap_entry *e)
{
  e->role = v->role;
  e->der = arena_put_bytes (c, v->f[F_DER]);
  e->subject = part_of_der (c, &e->der, v->f[F_SUBJECT], v->subject_at);
  e->issuer = part_of_der (c, &e->der, v->f[F_ISSUER], v->issuer_at);
  e->serial = part_of_der (c, &e->der, v->f[F_SERIAL], v->serial_at);
  e->id = arena_put_bytes (c, v->f[F_ID]);
  if (v->role == SETTLE_SNAP_CLIENT)
    e->ec_params = arena_put_bytes (c, v->ec_params);
  memcpy (e->sha1, cbor_bytestring_handle (v->f[F_SHA1]), sizeof e->sha1);
  memcpy (e->md5, cbor_bytestring_handle (v->f[F_MD5]), sizeof e->md5);
  memcpy (e->sha256, cbor_bytestring_handle (v->f[F_SHA256]), sizeof e->sha256);
  e->label = arena_put_text (c, v->f[F_LABEL]);
  e->record = arena_put_text (c, v->f[F_RECORD]);
  e->scope = arena_put_list (c, v->f[F_SCOPE]);
  e->names = arena_put_list (c, v->f[F_NAMES]);
  e->not_after = v->not_after;
}

/* ---- hash indexes ----------------------------------------------------
 * Open addressing with linear probing; FNV-1a, folded to 32 bits and kept
 * in the slot so most probes skip the byte comparison.  Every entry is
 * inserted, duplicates included, so all entries with one key lie on one
 * probe run before the first empty slot. */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t
fnv1a (uint64_t h, const uint8_t *data, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      h ^= data[i];
      h *= FNV_PRIME;
    }
  return h;
}

static uint32_t
fold (uint64_t h)
{
  return (uint32_t) (h ^ (h >> 32));
}

static uint32_t
hash_subject (const uint8_t *subject, size_t len)
{
  return fold (fnv1a (FNV_OFFSET, subject, len));
}

static uint32_t
hash_issuer_serial (const uint8_t *issuer, size_t ilen, const uint8_t *serial, size_t slen)
{
  return fold (fnv1a (fnv1a (FNV_OFFSET, issuer, ilen), serial, slen));
}

/* A certificate ends with its signature, which differs between any two
 * certificates: hashing the length and the last 64 bytes is as selective
 * as hashing everything, at a fixed cost per lookup. */
static uint32_t
hash_der (const uint8_t *der, size_t len)
{
  uint8_t len_bytes[8];
  for (size_t i = 0; i < 8; i++)
    len_bytes[i] = (uint8_t) (len >> (8 * i));
  size_t tail = len < 64 ? len : 64;
  return fold (fnv1a (fnv1a (FNV_OFFSET, len_bytes, 8), der + len - tail, tail));
}

static void
index_insert (index_slot *table, size_t mask, uint32_t hash, size_t entry)
{
  size_t i = hash & mask;
  while (table[i].entry != 0)
    i = (i + 1) & mask;
  table[i].hash = hash;
  table[i].entry = (uint32_t) (entry + 1);
}

static void
build_indexes (settle_snapshot *snap)
{
  for (size_t i = 0; i < snap->count; i++)
    {
      const settle_snap_entry *e = &snap->entries[i];
      /* The lookups are trust lookups: a client identity is never an
       * anchor, an issuer or a pinned peer, so it is not indexed. */
      if (e->role == SETTLE_SNAP_CLIENT)
        continue;
      index_insert (snap->by_subject, snap->mask, hash_subject (e->subject.data, e->subject.len), i);
      index_insert (snap->by_issuer_serial, snap->mask,
                    hash_issuer_serial (e->issuer.data, e->issuer.len, e->serial.data, e->serial.len), i);
      index_insert (snap->by_der, snap->mask, hash_der (e->der.data, e->der.len), i);
    }
}

static bool
bytes_equal (settle_bytes b, const uint8_t *data, size_t len)
{
  return b.len == len && memcmp (b.data, data, len) == 0;
}

/* Slots for n entries: a power of two at least twice n, so probe runs
 * stay short. */
static size_t
table_size_for (size_t n)
{
  size_t size = 4;
  while (size < 2 * n)
    size *= 2;
  return size;
}

/* ---- building a snapshot from a decoded index ------------------------- */

static settle_snapshot *
snapshot_alloc (size_t count, const arena_need *need, arena_cursor *cursor)
{
  size_t slots = count ? table_size_for (count) : 0;
  size_t off_entries = align_up (sizeof (settle_snapshot));
  size_t off_tables = off_entries + align_up (count * sizeof (settle_snap_entry));
  size_t off_ptrs = off_tables + align_up (3 * slots * sizeof (index_slot));
  size_t off_bytes = off_ptrs + align_up (need->pointers * sizeof (const char *));
  uint8_t *arena = calloc (1, off_bytes + need->bytes);
  if (arena == NULL)
    return NULL;
  settle_snapshot *snap = (settle_snapshot *) arena;
  snap->count = count;
  snap->entries = (settle_snap_entry *) (arena + off_entries);
  if (slots > 0)
    {
      snap->mask = slots - 1;
      snap->by_subject = (index_slot *) (arena + off_tables);
      snap->by_issuer_serial = snap->by_subject + slots;
      snap->by_der = snap->by_issuer_serial + slots;
    }
  cursor->next_ptr = (const char **) (arena + off_ptrs);
  cursor->next_byte = arena + off_bytes;
  return snap;
}

static const char *const top_keys[] = { "v", "generation", "written", "entries" };
enum { T_VERSION, T_GENERATION, T_WRITTEN, T_ENTRIES, T_COUNT };

static int
read_top (const cbor_item_t *root, uint64_t *generation, const cbor_item_t **entries,
          error_sink *err)
{
  const cbor_item_t *f[T_COUNT];
  uint64_t version, written;

  if (!cbor_isa_map (root))
    {
      fail (err, "the index is not a CBOR map.");
      return -1;
    }
  if (collect_keys (root, top_keys, T_COUNT, f, "the index", err) < 0)
    return -1;
  if (!read_uint (f[T_VERSION], &version))
    {
      fail (err, "\"v\" must be an unsigned integer.");
      return -1;
    }
  if (version != SETTLE_SNAPSHOT_VERSION)
    {
      fail (err, "the index has format version %llu; this reader knows version %d.",
            (unsigned long long) version, SETTLE_SNAPSHOT_VERSION);
      return -1;
    }
  if (!read_uint (f[T_GENERATION], generation) || !read_uint (f[T_WRITTEN], &written))
    {
      fail (err, "\"generation\" and \"written\" must be unsigned integers.");
      return -1;
    }
  if (!cbor_isa_array (f[T_ENTRIES]) || !cbor_array_is_definite (f[T_ENTRIES]))
    {
      fail (err, "\"entries\" must be an array.");
      return -1;
    }
  if (cbor_array_size (f[T_ENTRIES]) > SETTLE_SNAPSHOT_MAX_ENTRIES)
    {
      fail (err, "the index has %zu entries, more than the limit of %u.",
            cbor_array_size (f[T_ENTRIES]), SETTLE_SNAPSHOT_MAX_ENTRIES);
      return -1;
    }
  *entries = f[T_ENTRIES];
  return 0;
}

static settle_snapshot *
snapshot_from_tree (const cbor_item_t *root, error_sink *err)
{
  uint64_t generation;
  const cbor_item_t *entries;
  if (read_top (root, &generation, &entries, err) < 0)
    return NULL;

  size_t count = cbor_array_size (entries);
  entry_view *views = calloc (count ? count : 1, sizeof *views);  /* owned, freed below */
  if (views == NULL)
    {
      fail (err, "out of memory while loading the snapshot.");
      return NULL;
    }
  arena_need need = { 0, 0 };
  for (size_t i = 0; i < count; i++)
    {
      if (read_entry (cbor_array_handle (entries)[i], i, &views[i], err) < 0)
        {
          free (views);
          return NULL;
        }
      measure_entry (&views[i], &need);
    }

  arena_cursor cursor;
  settle_snapshot *snap = snapshot_alloc (count, &need, &cursor);
  if (snap == NULL)
    {
      free (views);
      fail (err, "out of memory while loading the snapshot.");
      return NULL;
    }
  snap->generation = generation;
  for (size_t i = 0; i < count; i++)
    copy_entry (&views[i], &cursor, &snap->entries[i]);
  free (views);
  build_indexes (snap);
  return snap;
}

static settle_snapshot *
snapshot_empty (void)
{
  arena_need none = { 0, 0 };
  arena_cursor unused;
  return snapshot_alloc (0, &none, &unused);
}

/* ---- public API --------------------------------------------------------- */

int
settle_snapshot_parse (const uint8_t *data, size_t len, settle_snapshot **out,
                       char *errbuf, size_t errlen)
{
  error_sink err = { errbuf, errlen };
  if (out == NULL)
    return -1;
  *out = NULL;
  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  if (data == NULL && len > 0)
    {
      fail (&err, "no snapshot bytes were given.");
      return -1;
    }
  if (len > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      fail (&err, "the index is %zu bytes, more than the limit of %u.", len,
            SETTLE_SNAPSHOT_MAX_BYTES);
      return -1;
    }
  if (prescan (data, len, &err) < 0)
    return -1;

  struct cbor_load_result result;
  cbor_item_t *root = cbor_load (data, len, &result);  /* owned, released below */
  if (root == NULL)
    {
      if (result.error.code == CBOR_ERR_MEMERROR)
        fail (&err, "out of memory while decoding the snapshot.");
      else
        fail (&err, "the index is not well-formed CBOR (at byte %zu).", result.error.position);
      return -1;
    }
  settle_snapshot *snap = snapshot_from_tree (root, &err);
  cbor_decref (&root);
  if (snap == NULL)
    return -1;
  *out = snap;
  return 0;
}

static char *
index_path (const char *dir)
{
  size_t n = strlen (dir) + 1 + sizeof SETTLE_SNAPSHOT_INDEX;
  char *path = malloc (n);
  if (path != NULL)
    snprintf (path, n, "%s/%s", dir, SETTLE_SNAPSHOT_INDEX);
  return path;
}

/* Reads the whole regular file behind fd, refusing it beyond the limit
 * before allocating anything.  Returns the owned bytes or NULL. */
static uint8_t *
read_bounded (int fd, size_t *len_out, error_sink *err)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      fail (err, "cannot stat the index: %s.", strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      fail (err, "the index is not a regular file.");
      return NULL;
    }
  if (st.st_size < 0 || (uint64_t) st.st_size > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      fail (err, "the index is %lld bytes, more than the limit of %u.",
            (long long) st.st_size, SETTLE_SNAPSHOT_MAX_BYTES);
      return NULL;
    }
  size_t len = (size_t) st.st_size;
  uint8_t *data = malloc (len ? len : 1);
  if (data == NULL)
    {
      fail (err, "out of memory while reading the index.");
      return NULL;
    }
  size_t done = 0;
  while (done < len)
    {
      ssize_t r = read (fd, data + done, len - done);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          if (r == 0)
            fail (err, "the index shrank while it was read.");
          else
            fail (err, "cannot read the index: %s.", strerror (errno));
          free (data);
          return NULL;
        }
      done += (size_t) r;
    }
  *len_out = len;
  return data;
}

int
settle_snapshot_load (const char *dir, settle_snapshot **out, char *errbuf, size_t errlen)
{
  error_sink err = { errbuf, errlen };
  if (out == NULL)
    return -1;
  *out = NULL;
  if (errbuf != NULL && errlen > 0)
    errbuf[0] = '\0';
  if (dir == NULL)
    {
      fail (&err, "no snapshot directory was given.");
      return -1;
    }
  char *path = index_path (dir);   /* owned */
  if (path == NULL)
    {
      fail (&err, "out of memory while loading the snapshot.");
      return -1;
    }

  /* O_NONBLOCK: a FIFO planted as index.cbor must not hang the browser;
   * read_bounded refuses anything but a regular file anyway. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    {
      free (path);
      *out = snapshot_empty ();
      if (*out == NULL)
        {
          fail (&err, "out of memory while loading the snapshot.");
          return -1;
        }
      return 0;
    }
  char why[256] = "";
  error_sink inner = { why, sizeof why };
  int rc = -1;
  if (fd < 0)
    fail (&inner, "cannot open it: %s.", strerror (errno));
  else
    {
      size_t len = 0;
      uint8_t *data = read_bounded (fd, &len, &inner);  /* owned */
      close (fd);
      if (data != NULL)
        {
          rc = settle_snapshot_parse (data, len, out, why, sizeof why);
          free (data);
        }
    }
  if (rc < 0)
    fail (&err, "trust snapshot %s: %s", path, why);
  free (path);
  return rc;
}

void
settle_snapshot_free (settle_snapshot *snap)
{
  free (snap);   /* the snapshot is the head of its arena */
}

uint64_t
settle_snapshot_generation (const settle_snapshot *snap)
{
  return snap ? snap->generation : 0;
}

size_t
settle_snapshot_count (const settle_snapshot *snap)
{
  return snap ? snap->count : 0;
}

const settle_snap_entry *
settle_snapshot_entry (const settle_snapshot *snap, size_t index)
{
  if (snap == NULL || index >= snap->count)
    return NULL;
  return &snap->entries[index];
}

const settle_snap_entry *
settle_snapshot_find_subject (const settle_snapshot *snap, const uint8_t *subject, size_t len,
                              size_t *cursor)
{
  if (snap == NULL || snap->count == 0 || subject == NULL || cursor == NULL)
    return NULL;
  uint32_t h = hash_subject (subject, len);
  /* *cursor counts probe steps from the home slot already looked at. */
  for (size_t step = *cursor; step <= snap->mask; step++)
    {
      const index_slot *slot = &snap->by_subject[(h + step) & snap->mask];
      if (slot->entry == 0)
        break;
      const settle_snap_entry *e = &snap->entries[slot->entry - 1];
      if (slot->hash == h && bytes_equal (e->subject, subject, len))
        {
          *cursor = step + 1;
          return e;
        }
    }
  *cursor = snap->mask + 1;
  return NULL;
}

const settle_snap_entry *
settle_snapshot_find_issuer_serial (const settle_snapshot *snap, const uint8_t *issuer, size_t ilen,
                                    const uint8_t *serial, size_t slen)
{
  if (snap == NULL || snap->count == 0 || issuer == NULL || serial == NULL)
    return NULL;
  uint32_t h = hash_issuer_serial (issuer, ilen, serial, slen);
  for (size_t step = 0; step <= snap->mask; step++)
    {
      const index_slot *slot = &snap->by_issuer_serial[(h + step) & snap->mask];
      if (slot->entry == 0)
        break;
      const settle_snap_entry *e = &snap->entries[slot->entry - 1];
      if (slot->hash == h && bytes_equal (e->issuer, issuer, ilen)
          && bytes_equal (e->serial, serial, slen))
        return e;
    }
  return NULL;
}

const settle_snap_entry *
settle_snapshot_find_der (const settle_snapshot *snap, const uint8_t *der, size_t len)
{
  if (snap == NULL || snap->count == 0 || der == NULL || len == 0)
    return NULL;
  uint32_t h = hash_der (der, len);
  for (size_t step = 0; step <= snap->mask; step++)
    {
      const index_slot *slot = &snap->by_der[(h + step) & snap->mask];
      if (slot->entry == 0)
        break;
      const settle_snap_entry *e = &snap->entries[slot->entry - 1];
      if (slot->hash == h && bytes_equal (e->der, der, len))
        return e;
    }
  return NULL;
}

int
settle_snapshot_stamp_read (const char *dir, settle_snapshot_stamp *stamp)
{
  if (stamp == NULL)
    return -1;
  memset (stamp, 0, sizeof *stamp);
  if (dir == NULL)
    return -1;
  char *path = index_path (dir);   /* owned */
  if (path == NULL)
    return -1;
  struct stat st;
  int rc = stat (path, &st);   /* stat, not lstat: resolves the `trust` symlink */
  int saved = errno;
  free (path);
  if (rc != 0)
    return (saved == ENOENT || saved == ENOTDIR) ? 0 : -1;
  stamp->dev = st.st_dev;
  stamp->ino = st.st_ino;
  stamp->size = st.st_size;
  stamp->mtime = st.st_mtim;
  stamp->present = 1;
  return 0;
}

int
settle_snapshot_stamp_equal (const settle_snapshot_stamp *a, const settle_snapshot_stamp *b)
{
  if (a->present != b->present)
    return 0;
  if (!a->present)
    return 1;
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size
         && a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* secure_getenv: the provider may be loaded into set-uid programs, which
 * must not be pointed at another trust store by their caller. */
static const char *
env_nonempty (const char *name)
{
  const char *v = secure_getenv (name);
  return (v != NULL && v[0] != '\0') ? v : NULL;
}

static int
fits (char *buf, int written, size_t len)
{
  if (written >= 0 && (size_t) written < len)
    return 0;
  buf[0] = '\0';   /* never hand out a truncated path */
  return -1;
}

int
settle_data_dir_resolve (char *buf, size_t len)
{
  const char *explicit_dir = env_nonempty ("SETTLE_DATA_DIR");
  const char *xdg = env_nonempty ("XDG_DATA_HOME");
  const char *home = env_nonempty ("HOME");

  if (buf == NULL || len == 0)
    return -1;
  buf[0] = '\0';
  if (explicit_dir != NULL)
    return fits (buf, snprintf (buf, len, "%s", explicit_dir), len);
  /* The XDG spec says to ignore relative values. */
  if (xdg != NULL && xdg[0] == '/')
    return fits (buf, snprintf (buf, len, "%s/settle", xdg), len);
  if (home == NULL)
    return -1;
  return fits (buf, snprintf (buf, len, "%s/.local/share/settle", home), len);
}

int
settle_snapshot_default_dir (char *buf, size_t len)
{
  const char *explicit_dir = env_nonempty ("SETTLE_TRUST_DIR");

  if (buf == NULL || len == 0)
    return -1;
  if (explicit_dir != NULL)
    return fits (buf, snprintf (buf, len, "%s", explicit_dir), len);
  if (settle_data_dir_resolve (buf, len) != 0)
    return -1;
  size_t used = strlen (buf);
  return fits (buf, (int) used + snprintf (buf + used, len - used, "/trust"), len);
}
