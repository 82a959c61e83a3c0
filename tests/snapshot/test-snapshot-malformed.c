/* test-snapshot-malformed.c: the reader refuses every malformed index
 * with a message and keeps nothing (run under ASan to see no leak), and
 * accepts the variations the format allows.  Links only the reader. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cbor.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "settle-snapshot-reader.h"

/* ---- a valid index, built with libcbor's tree API --------------------- */

#define SUBJECT "\x30\x06SUBJCT"
#define P256_OID "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"
#define ISSUER "\x30\x06ISSUER"
#define SERIAL "\x02\x01\x05"
#define RECORD_HEX "abababababababababababababababababababababababababababababababab"

static cbor_item_t *
bytes_of (const void *data, size_t len)
{
  return cbor_build_bytestring (data, len);
}

static cbor_item_t *
bytes_filled (size_t len, guint8 fill)
{
  g_autofree guint8 *data = g_malloc (len ? len : 1);
  memset (data, fill, len);
  return cbor_build_bytestring (data, len);
}

/* A stand-in certificate: the reader never parses it, but subject and
 * serial sit inside it as they do in a real one. */
static cbor_item_t *
fake_der (void)
{
  GByteArray *der = g_byte_array_new ();
  g_byte_array_append (der, (const guint8 *) "\x30\x82\x01\x00", 4);
  g_byte_array_append (der, (const guint8 *) SERIAL, 3);
  g_byte_array_append (der, (const guint8 *) SUBJECT, 8);
  for (guint8 i = 0; i < 200; i++)
    g_byte_array_append (der, &i, 1);
  cbor_item_t *item = bytes_of (der->data, der->len);
  g_byte_array_unref (der);
  return item;
}

static cbor_item_t *
text_list (const char *text, size_t len)
{
  cbor_item_t *list = cbor_new_definite_array (1);
  g_assert_true (cbor_array_push (list, cbor_move (cbor_build_stringn (text, len))));
  return list;
}

/* Adds key -> value to map, taking `value`. */
static void
put (cbor_item_t *map, const char *key, cbor_item_t *value)
{
  g_assert_nonnull (value);
  g_assert_true (cbor_map_add (map, (struct cbor_pair) { .key = cbor_move (cbor_build_string (key)),
                                                         .value = cbor_move (value) }));
}

/* How a case changes one key of the entry or of the top-level map. */
typedef enum {
  KEEP, OMIT, SET_TEXT, SET_BYTES, SET_UINT, SET_NEGINT, SET_LIST, SET_MAP, SET_TWICE
} Change;

typedef struct {
  const char *name;
  gboolean top;         /* the change is to the top-level map, not the entry */
  const char *key;
  Change change;
  const char *text;     /* SET_TEXT, SET_LIST (may hold NUL: see len) */
  size_t len;           /* SET_BYTES length; SET_TEXT / SET_LIST length when text has NUL */
  const char *expect;   /* a phrase the error message must contain; NULL: must load */
} FieldCase;

static cbor_item_t *
changed_value (const FieldCase *c)
{
  size_t len = c->len ? c->len : (c->text ? strlen (c->text) : 0);
  switch (c->change)
    {
    case SET_TEXT: return cbor_build_stringn (c->text, len);
    case SET_BYTES: return bytes_filled (c->len, 0x5a);
    case SET_UINT: return cbor_build_uint64 (c->len);
    case SET_NEGINT: return cbor_build_negint64 (c->len);
    case SET_LIST: return text_list (c->text, len);
    case SET_MAP: return cbor_new_definite_map (0);
    case KEEP: case OMIT: case SET_TWICE: break;
    }
  g_assert_not_reached ();
}

/* Puts key -> default_value unless `c` changes that key. */
static void
put_field (cbor_item_t *map, const char *key, cbor_item_t *default_value, const FieldCase *c,
           gboolean top)
{
  if (c == NULL || c->top != top || g_strcmp0 (c->key, key) != 0 || c->change == KEEP)
    {
      put (map, key, default_value);
      return;
    }
  if (c->change == OMIT)
    {
      cbor_decref (&default_value);
      return;
    }
  if (c->change == SET_TWICE)
    {
      put (map, key, cbor_copy (default_value));
      put (map, key, default_value);
      return;
    }
  cbor_decref (&default_value);
  put (map, key, changed_value (c));
}

static cbor_item_t *
build_entry (const FieldCase *c)
{
  cbor_item_t *e = cbor_new_definite_map (20);
  put_field (e, "role", cbor_build_string ("root"), c, FALSE);
  put_field (e, "der", fake_der (), c, FALSE);
  put_field (e, "subject", bytes_of (SUBJECT, 8), c, FALSE);
  put_field (e, "issuer", bytes_of (ISSUER, 8), c, FALSE);
  put_field (e, "serial", bytes_of (SERIAL, 3), c, FALSE);
  put_field (e, "id", bytes_filled (20, 0x11), c, FALSE);
  put_field (e, "sha1", bytes_filled (20, 0x22), c, FALSE);
  put_field (e, "md5", bytes_filled (16, 0x33), c, FALSE);
  put_field (e, "sha256", bytes_filled (32, 0x44), c, FALSE);
  put_field (e, "label", cbor_build_string ("Printer (root)"), c, FALSE);
  put_field (e, "record", cbor_build_string (RECORD_HEX), c, FALSE);
  put_field (e, "scope", text_list ("printer.local", 13), c, FALSE);
  put_field (e, "names", text_list ("printer.local", 13), c, FALSE);
  put_field (e, "not_after", cbor_build_uint32 (1900000000u), c, FALSE);
  put_field (e, "kind", cbor_build_string ("device-ca"), c, FALSE);
  /* Optional for every role but "client", which needs it. */
  put_field (e, "ec_params", bytes_of (P256_OID, 10), c, FALSE);
  if (c != NULL && !c->top && c->change == KEEP)
    put (e, c->key, cbor_build_string ("a field from a later version"));
  return e;
}

static GBytes *
serialize (cbor_item_t *item)
{
  unsigned char *buf = NULL;
  size_t size = 0;
  size_t len = cbor_serialize_alloc (item, &buf, &size);
  g_assert_cmpuint (len, >, 0);
  GBytes *bytes = g_bytes_new (buf, len);
  free (buf);
  cbor_decref (&item);
  return bytes;
}

static GBytes *
build_index (const FieldCase *c)
{
  cbor_item_t *entries = cbor_new_definite_array (1);
  g_assert_true (cbor_array_push (entries, cbor_move (build_entry (c))));
  cbor_item_t *top = cbor_new_definite_map (8);
  put_field (top, "v", cbor_build_uint8 (1), c, TRUE);
  put_field (top, "generation", cbor_build_uint8 (7), c, TRUE);
  put_field (top, "written", cbor_build_uint32 (1700000000u), c, TRUE);
  put_field (top, "entries", entries, c, TRUE);
  if (c != NULL && c->top && c->change == KEEP)
    put (top, c->key, cbor_build_string ("a field from a later version"));
  return serialize (top);
}

/* ---- refusing ---------------------------------------------------------- */

static void
assert_refused (GBytes *input, const char *expect)
{
  char err[512];
  memset (err, 'x', sizeof err);
  settle_snapshot *snap = (settle_snapshot *) &err;   /* must be reset to NULL */
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (input, &len);
  int rc = settle_snapshot_parse (data, len, &snap, err, sizeof err);
  g_test_message ("refused: %s", err);
  g_assert_cmpint (rc, ==, -1);
  g_assert_null (snap);
  g_assert_cmpuint (strnlen (err, sizeof err), <, sizeof err);
  g_assert_cmpuint (strlen (err), >, 0);
  if (strstr (err, expect) == NULL)
    g_error ("expected \"%s\" in: %s", expect, err);
}

static const FieldCase field_cases[] = {
  { "version-2", TRUE, "v", SET_UINT, NULL, 2, "format version 2" },
  { "version-as-text", TRUE, "v", SET_TEXT, "1", 0, "\"v\" must be an unsigned integer" },
  { "no-entries", TRUE, "entries", OMIT, NULL, 0, "misses the key \"entries\"" },
  { "entries-not-array", TRUE, "entries", SET_MAP, NULL, 0, "\"entries\" must be an array" },
  { "generation-negative", TRUE, "generation", SET_NEGINT, NULL, 4, "\"generation\"" },
  { "version-twice", TRUE, "v", SET_TWICE, NULL, 0, "has the key \"v\" twice" },
  { "der-as-text", FALSE, "der", SET_TEXT, "MIIB", 0, "\"der\" must be a byte string" },
  { "der-oversized", FALSE, "der", SET_BYTES, NULL, SETTLE_SNAPSHOT_MAX_CERT + 1, "\"der\" must be a byte string of 1 to 65536 bytes" },
  { "der-empty", FALSE, "der", SET_BYTES, NULL, 0, "\"der\"" },
  { "sha1-19", FALSE, "sha1", SET_BYTES, NULL, 19, "\"sha1\" must be a byte string of 20 bytes" },
  { "md5-17", FALSE, "md5", SET_BYTES, NULL, 17, "\"md5\" must be a byte string of 16 bytes" },
  { "sha256-missing", FALSE, "sha256", OMIT, NULL, 0, "misses the key \"sha256\"" },
  { "id-empty", FALSE, "id", SET_BYTES, NULL, 0, "\"id\"" },
  { "subject-empty", FALSE, "subject", SET_BYTES, NULL, 0, "\"subject\"" },
  { "serial-not-integer", FALSE, "serial", SET_TEXT, "\x02\x01\x05", 0, "\"serial\" must be a DER INTEGER" },
  { "serial-wrong-tag", FALSE, "serial", SET_BYTES, NULL, 3, "\"serial\" must be a DER INTEGER" },
  { "role-unknown", FALSE, "role", SET_TEXT, "intermediate", 0, "\"role\" must be" },
  { "role-as-uint", FALSE, "role", SET_UINT, NULL, 1, "\"role\" must be" },
  { "client-with-scope", FALSE, "role", SET_TEXT, "client", 0, "its \"scope\" must be empty" },
  { "ec-params-twice", FALSE, "ec_params", SET_TWICE, NULL, 0, "has the key \"ec_params\" twice" },
  { "scope-bank", FALSE, "scope", SET_LIST, "bank.example", 0, "\"bank.example\" lies outside" },
  { "scope-not-on-label-boundary", FALSE, "scope", SET_LIST, "notlocal", 0, "lies outside" },
  { "scope-wildcard", FALSE, "scope", SET_LIST, "*.local", 0, "not a valid DNS name" },
  { "scope-as-text", FALSE, "scope", SET_TEXT, "printer.local", 0, "\"scope\" must be an array" },
  { "names-with-nul", FALSE, "names", SET_LIST, "printer.local\0.evil.example", 27, "without NUL" },
  { "names-trailing-dot", FALSE, "names", SET_LIST, "printer.local.", 0, "not a valid DNS name" },
  { "names-empty-label", FALSE, "names", SET_LIST, "printer..local", 0, "not a valid DNS name" },
  /* The one name rule (settle-name-rule.h): the reader used to accept these. */
  { "names-underscore", FALSE, "names", SET_LIST, "printer_1.local", 0, "not a valid DNS name" },
  { "names-long-label", FALSE, "names", SET_LIST,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.local", 0, "not a valid DNS name" },
  { "scope-edge-hyphen", FALSE, "scope", SET_LIST, "printer-.local", 0, "not a valid DNS name" },
  { "names-too-long", FALSE, "names", SET_LIST,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.local", 0, "at most 253 bytes" },
  { "label-with-nul", FALSE, "label", SET_TEXT, "Printer\0 (root)", 15, "\"label\" must be text" },
  { "label-bad-utf8", FALSE, "label", SET_TEXT, "Printer \xc3\x28", 0, "not valid UTF-8" },
  { "record-uppercase", FALSE, "record", SET_TEXT,
    "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB", 0, "lowercase hex" },
  { "record-short", FALSE, "record", SET_TEXT, "abab", 0, "lowercase hex" },
  { "not-after-as-text", FALSE, "not_after", SET_TEXT, "soon", 0, "\"not_after\" must be an integer" },
  { "sha1-twice", FALSE, "sha1", SET_TWICE, NULL, 0, "has the key \"sha1\" twice" },
  /* A manufacturer anchor is never a TLS anchor (settle_kind_is_tls_anchor):
   * an entry of that kind means the writer broke its rule. */
  { "kind-manufacturer", FALSE, "kind", SET_TEXT, "manufacturer-ca", 0, "manufacturer anchor" },
  { "kind-as-uint", FALSE, "kind", SET_UINT, NULL, 4, "\"kind\" must be text" },
};

static void
test_field_case (gconstpointer data)
{
  const FieldCase *c = data;
  g_autoptr (GBytes) input = build_index (c);
  assert_refused (input, c->expect);
}

/* Inputs that cannot be built as a tree: raw bytes around a valid index. */
static GBytes *
valid_index (void)
{
  return build_index (NULL);
}

static GBytes *
raw_empty (void)
{
  return g_bytes_new (NULL, 0);
}

static GBytes *
raw_truncated (void)
{
  g_autoptr (GBytes) whole = valid_index ();
  return g_bytes_new_from_bytes (whole, 0, g_bytes_get_size (whole) / 2);
}

static GBytes *
raw_truncated_by_one (void)
{
  g_autoptr (GBytes) whole = valid_index ();
  return g_bytes_new_from_bytes (whole, 0, g_bytes_get_size (whole) - 1);
}

static GBytes *
raw_trailing (void)
{
  g_autoptr (GBytes) whole = valid_index ();
  GByteArray *a = g_byte_array_new ();
  g_byte_array_append (a, g_bytes_get_data (whole, NULL), (guint) g_bytes_get_size (whole));
  g_byte_array_append (a, (const guint8 *) "\x00", 1);
  return g_byte_array_free_to_bytes (a);
}

static GBytes *
raw_not_a_map (void)
{
  return serialize (cbor_new_definite_array (0));
}

static GBytes *
raw_entry_not_a_map (void)
{
  cbor_item_t *entries = cbor_new_definite_array (1);
  g_assert_true (cbor_array_push (entries, cbor_move (cbor_build_uint8 (5))));
  cbor_item_t *top = cbor_new_definite_map (4);
  put (top, "v", cbor_build_uint8 (1));
  put (top, "generation", cbor_build_uint8 (1));
  put (top, "written", cbor_build_uint8 (1));
  put (top, "entries", entries);
  return serialize (top);
}

/* {"entries": array of 2^64-1 items} in 19 bytes. */
static GBytes *
raw_huge_array (void)
{
  static const guint8 bytes[] = { 0xa1, 0x67, 'e', 'n', 't', 'r', 'i', 'e', 's',
                                  0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
  return g_bytes_new (bytes, sizeof bytes);
}

/* A map of 2^32-1 pairs in 5 bytes. */
static GBytes *
raw_huge_map (void)
{
  static const guint8 bytes[] = { 0xba, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };
  return g_bytes_new (bytes, sizeof bytes);
}

/* A byte string declaring 4 GiB. */
static GBytes *
raw_huge_bytes (void)
{
  static const guint8 bytes[] = { 0xa1, 0x61, 'v', 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00 };
  return g_bytes_new (bytes, sizeof bytes);
}

static GBytes *
raw_indefinite_map (void)
{
  static const guint8 bytes[] = { 0xbf, 0x61, 'v', 0x01, 0xff };
  return g_bytes_new (bytes, sizeof bytes);
}

/* 10,000 nested arrays: cbor_decref would recurse that deep. */
static GBytes *
raw_deep_nesting (void)
{
  GByteArray *a = g_byte_array_new ();
  for (int i = 0; i < 10000; i++)
    g_byte_array_append (a, (const guint8 *) "\x81", 1);
  g_byte_array_append (a, (const guint8 *) "\x00", 1);
  return g_byte_array_free_to_bytes (a);
}

static GBytes *
raw_reserved_info (void)
{
  static const guint8 bytes[] = { 0x1c };   /* additional information 28 is reserved */
  return g_bytes_new (bytes, sizeof bytes);
}

/* 100,001 empty maps: one entry more than the limit. */
static GBytes *
raw_too_many_entries (void)
{
  GByteArray *a = g_byte_array_new ();
  static const guint8 head[] = { 0xa4, 0x61, 'v', 0x01, 0x6a, 'g', 'e', 'n', 'e', 'r', 'a', 't', 'i', 'o', 'n', 0x01,
                                 0x67, 'w', 'r', 'i', 't', 't', 'e', 'n', 0x01,
                                 0x67, 'e', 'n', 't', 'r', 'i', 'e', 's', 0x9a, 0x00, 0x01, 0x86, 0xa1 };
  g_byte_array_append (a, head, sizeof head);
  for (guint i = 0; i < SETTLE_SNAPSHOT_MAX_ENTRIES + 1; i++)
    g_byte_array_append (a, (const guint8 *) "\xa0", 1);
  return g_byte_array_free_to_bytes (a);
}

typedef struct {
  const char *name;
  GBytes *(*make) (void);
  const char *expect;
} RawCase;

static const RawCase raw_cases[] = {
  { "empty", raw_empty, "the index is empty" },
  { "truncated", raw_truncated, "truncated" },
  { "truncated-by-one", raw_truncated_by_one, "truncated" },
  { "trailing-data", raw_trailing, "trailing data" },
  { "not-a-map", raw_not_a_map, "not a CBOR map" },
  { "entry-not-a-map", raw_entry_not_a_map, "entry 0 is not a CBOR map" },
  { "huge-array", raw_huge_array, "declares more items than the file holds" },
  { "huge-map", raw_huge_map, "declares more items than the file holds" },
  { "huge-bytes", raw_huge_bytes, "truncated" },
  { "indefinite-map", raw_indefinite_map, "indefinite-length" },
  { "deep-nesting", raw_deep_nesting, "too deeply" },
  { "reserved-info", raw_reserved_info, "not well-formed CBOR" },
  { "too-many-entries", raw_too_many_entries, "more than the limit of 100000" },
};

static void
test_raw_case (gconstpointer data)
{
  const RawCase *c = data;
  g_autoptr (GBytes) input = c->make ();
  assert_refused (input, c->expect);
}

/* ---- through files ---------------------------------------------------- */

static char *
dir_with_index (GBytes *content)
{
  char *dir = g_dir_make_tmp ("settle-snapshot-bad-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_INDEX, NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (content, NULL),
                                      (gssize) g_bytes_get_size (content), NULL));
  return dir;
}

static void
remove_dir_with_index (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_INDEX, NULL);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_load_names_the_file (void)
{
  g_autoptr (GBytes) bad = raw_not_a_map ();
  g_autofree char *dir = dir_with_index (bad);
  g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_INDEX, NULL);
  char err[512] = "";
  settle_snapshot *snap = NULL;
  g_assert_cmpint (settle_snapshot_load (dir, &snap, err, sizeof err), ==, -1);
  g_assert_null (snap);
  g_assert_nonnull (strstr (err, path));
  g_assert_nonnull (strstr (err, "not a CBOR map"));
  remove_dir_with_index (dir);
}

/* A sparse file one byte over the limit: refused from fstat, unread. */
static void
test_load_refuses_oversized_file (void)
{
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autofree char *dir = dir_with_index (empty);
  g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_INDEX, NULL);
  g_assert_cmpint (truncate (path, (off_t) SETTLE_SNAPSHOT_MAX_BYTES + 1), ==, 0);
  char err[512] = "";
  settle_snapshot *snap = NULL;
  g_assert_cmpint (settle_snapshot_load (dir, &snap, err, sizeof err), ==, -1);
  g_assert_null (snap);
  g_assert_nonnull (strstr (err, "more than the limit"));
  remove_dir_with_index (dir);
}

static void
test_load_refuses_directory_as_index (void)
{
  g_autofree char *dir = g_dir_make_tmp ("settle-snapshot-bad-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_INDEX, NULL);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  char err[512] = "";
  settle_snapshot *snap = NULL;
  g_assert_cmpint (settle_snapshot_load (dir, &snap, err, sizeof err), ==, -1);
  g_assert_null (snap);
  g_test_message ("refused: %s", err);
  g_assert_cmpint (g_rmdir (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ---- accepting -------------------------------------------------------- */

static const FieldCase accepted_cases[] = {
  { "unknown-top-key", TRUE, "comment", KEEP, NULL, 0, NULL },
  { "unknown-entry-key", FALSE, "ski", KEEP, NULL, 0, NULL },
  { "not-after-negative", FALSE, "not_after", SET_NEGINT, NULL, 99, NULL },
  { "scope-namespace-itself", FALSE, "scope", SET_LIST, "home.arpa", 0, NULL },
  { "names-wildcard", FALSE, "names", SET_LIST, "*.printer.alt", 0, NULL },
  { "names-uppercase", FALSE, "names", SET_LIST, "Printer.LOCAL", 0, NULL },
  { "label-utf8", FALSE, "label", SET_TEXT, "Drucker im B\xc3\xbcro", 0, NULL },
  { "kind-absent", FALSE, "kind", OMIT, NULL, 0, NULL },
  { "kind-later", FALSE, "kind", SET_TEXT, "a-later-kind", 0, NULL },
};

static void
test_accepted_case (gconstpointer data)
{
  const FieldCase *c = data;
  g_autoptr (GBytes) input = build_index (c);
  char err[512] = "";
  settle_snapshot *snap = NULL;
  int rc = settle_snapshot_parse (g_bytes_get_data (input, NULL), g_bytes_get_size (input), &snap,
                                  err, sizeof err);
  if (rc != 0)
    g_error ("refused: %s", err);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 1);
  settle_snapshot_free (snap);
}

static void
test_valid_fields (void)
{
  g_autoptr (GBytes) input = valid_index ();
  char err[512] = "";
  settle_snapshot *snap = NULL;
  g_assert_cmpint (settle_snapshot_parse (g_bytes_get_data (input, NULL), g_bytes_get_size (input),
                                          &snap, err, sizeof err), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpuint (settle_snapshot_generation (snap), ==, 7);
  const settle_snap_entry *e = settle_snapshot_entry (snap, 0);
  g_assert_cmpint (e->role, ==, SETTLE_SNAP_ROOT);
  g_assert_cmpmem (e->subject.data, e->subject.len, SUBJECT, 8);
  g_assert_cmpmem (e->issuer.data, e->issuer.len, ISSUER, 8);
  g_assert_cmpmem (e->serial.data, e->serial.len, SERIAL, 3);
  /* Shared with the certificate's bytes where they occur in it. */
  g_assert_true (e->subject.data > e->der.data && e->subject.data < e->der.data + e->der.len);
  g_assert_true (e->serial.data > e->der.data && e->serial.data < e->der.data + e->der.len);
  g_assert_cmpuint (e->id.len, ==, 20);
  g_assert_cmpint (e->sha1[19], ==, 0x22);
  g_assert_cmpint (e->md5[15], ==, 0x33);
  g_assert_cmpint (e->sha256[31], ==, 0x44);
  g_assert_cmpstr (e->label, ==, "Printer (root)");
  g_assert_cmpstr (e->record, ==, RECORD_HEX);
  g_assert_cmpstr (e->scope[0], ==, "printer.local");
  g_assert_null (e->scope[1]);
  g_assert_cmpstr (e->names[0], ==, "printer.local");
  g_assert_null (e->names[1]);
  g_assert_cmpint (e->not_after, ==, 1900000000);
  size_t cursor = 0;
  g_assert_true (settle_snapshot_find_subject (snap, (const uint8_t *) SUBJECT, 8, &cursor) == e);
  g_assert_null (settle_snapshot_find_subject (snap, (const uint8_t *) SUBJECT, 8, &cursor));
  cursor = 0;
  g_assert_null (settle_snapshot_find_subject (snap, (const uint8_t *) ISSUER, 8, &cursor));
  settle_snapshot_free (snap);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/snapshot/parse/valid", test_valid_fields);
  for (gsize i = 0; i < G_N_ELEMENTS (accepted_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/snapshot/parse/accepts/%s", accepted_cases[i].name);
      g_test_add_data_func (path, &accepted_cases[i], test_accepted_case);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (field_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/snapshot/parse/refuses/%s", field_cases[i].name);
      g_test_add_data_func (path, &field_cases[i], test_field_case);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (raw_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/snapshot/parse/refuses/%s", raw_cases[i].name);
      g_test_add_data_func (path, &raw_cases[i], test_raw_case);
    }
  g_test_add_func ("/snapshot/load/names-the-file", test_load_names_the_file);
  g_test_add_func ("/snapshot/load/refuses-oversized-file", test_load_refuses_oversized_file);
  g_test_add_func ("/snapshot/load/refuses-directory-as-index", test_load_refuses_directory_as_index);
  return g_test_run ();
}
