/* snapshot-cbor.c: bounded CBOR decoding for the snapshot reader
 * (snapshot-cbor.h).  Plain C and libcbor: it runs inside browsers.
 *
 * Why a pre-scan: cbor_load allocates a definite array or map of the
 * declared size before reading its items, and frees nested items
 * recursively.  A forged length (2^32 items in a 10-byte file) or a deep
 * nesting would therefore cost gigabytes or the stack before any check of
 * ours runs.  This pass walks the bytes with the streaming decoder first
 * and refuses declared counts larger than the bytes left, indefinite
 * lengths, and deep nesting. */
#include <string.h>

#include "snapshot-cbor.h"

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

/* ---- structural pre-scan -------------------------------------------- */

typedef struct {
  size_t remaining[SNAPSHOT_CBOR_MAX_DEPTH]; /* items still due in each open container */
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
  if (st->depth == SNAPSHOT_CBOR_MAX_DEPTH)
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

int
snapshot_cbor_prescan (const uint8_t *data, size_t len, size_t max_items, snapshot_error *err)
{
  prescan_state st = { .max_items = max_items };
  size_t offset = 0;

  if (len == 0)
    {
      snapshot_fail (err, "the index is empty.");
      return -1;
    }
  while (!st.complete)
    {
      if (offset == len)
        {
          snapshot_fail (err, "the index is truncated.");
          return -1;
        }
      st.bytes_left = len - offset;
      struct cbor_decoder_result r = cbor_stream_decode (data + offset, len - offset,
                                                         &prescan_callbacks, &st);
      if (r.status == CBOR_DECODER_NEDATA)
        {
          snapshot_fail (err, "the index is truncated.");
          return -1;
        }
      if (r.status != CBOR_DECODER_FINISHED)
        {
          snapshot_fail (err, "the index is not well-formed CBOR (at byte %zu).", offset);
          return -1;
        }
      if (st.problem != NULL)
        {
          snapshot_fail (err, "%s", st.problem);
          return -1;
        }
      offset += r.read;
    }
  if (offset != len)
    {
      snapshot_fail (err, "the index has trailing data after its map.");
      return -1;
    }
  return 0;
}

cbor_item_t *
snapshot_cbor_decode_new (const uint8_t *data, size_t len, size_t max_items, snapshot_error *err)
{
  if (snapshot_cbor_prescan (data, len, max_items, err) < 0)
    return NULL;
  struct cbor_load_result result;
  cbor_item_t *root = cbor_load (data, len, &result);
  if (root == NULL)
    {
      if (result.error.code == CBOR_ERR_MEMERROR)
        snapshot_fail (err, "out of memory while decoding the snapshot.");
      else
        snapshot_fail (err, "the index is not well-formed CBOR (at byte %zu).", result.error.position);
    }
  return root;
}

/* ---- typed access to CBOR items -------------------------------------- */

bool
snapshot_cbor_utf8_valid (const uint8_t *s, size_t n)
{
  return valid_utf8 (s, n);
}

bool
snapshot_cbor_text_is (const cbor_item_t *item, const char *s)
{
  size_t n = strlen (s);
  return cbor_isa_string (item) && cbor_string_is_definite (item)
         && cbor_string_length (item) == n && memcmp (cbor_string_handle (item), s, n) == 0;
}

bool
snapshot_cbor_is_clean_text (const cbor_item_t *item, size_t max)
{
  if (!cbor_isa_string (item) || !cbor_string_is_definite (item))
    return false;
  size_t n = cbor_string_length (item);
  const uint8_t *s = cbor_string_handle (item);
  return n <= max && (n == 0 || memchr (s, 0, n) == NULL);
}

bool
snapshot_cbor_is_lower_hex (const cbor_item_t *item, size_t len)
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

bool
snapshot_cbor_is_bytes (const cbor_item_t *item, size_t min, size_t max)
{
  if (!cbor_isa_bytestring (item) || !cbor_bytestring_is_definite (item))
    return false;
  size_t n = cbor_bytestring_length (item);
  return n >= min && n <= max;
}

bool
snapshot_cbor_read_uint (const cbor_item_t *item, uint64_t *out)
{
  if (!cbor_isa_uint (item))
    return false;
  *out = cbor_get_int (item);
  return true;
}

bool
snapshot_cbor_read_int64 (const cbor_item_t *item, int64_t *out)
{
  if (!cbor_isa_uint (item) && !cbor_isa_negint (item))
    return false;
  uint64_t v = cbor_get_int (item);
  if (v > (uint64_t) INT64_MAX)
    return false;
  *out = cbor_isa_uint (item) ? (int64_t) v : -1 - (int64_t) v;
  return true;
}

int
snapshot_cbor_collect_keys (const cbor_item_t *map, const char *const *keys, size_t n_keys,
                            const cbor_item_t **values, const char *where, snapshot_error *err)
{
  struct cbor_pair *pairs = cbor_map_handle (map);
  size_t n = cbor_map_size (map);

  for (size_t k = 0; k < n_keys; k++)
    values[k] = NULL;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < n_keys; k++)
      if (snapshot_cbor_text_is (pairs[i].key, keys[k]))
        {
          if (values[k] != NULL)
            {
              snapshot_fail (err, "%s has the key \"%s\" twice.", where, keys[k]);
              return -1;
            }
          values[k] = pairs[i].value;
        }
  for (size_t k = 0; k < n_keys; k++)
    if (values[k] == NULL)
      {
        snapshot_fail (err, "%s misses the key \"%s\".", where, keys[k]);
        return -1;
      }
  return 0;
}
