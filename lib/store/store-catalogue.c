/* store-catalogue.c: the catalogue's format and freshness rule
 * (store-catalogue.h; specified in schema/store.md).
 *
 *   settle-store-catalogue 1\n
 *   one line per record, 12 fields separated by TAB:
 *     fingerprint inode size mtime_ns ctime_ns kind expires label names
 *     scope self_certifying self_certifying_other
 *   end TAB <rows> TAB <SHA-256 hex of every byte before this line>\n
 *
 * Strings escape '\\', TAB, LF, CR, ',', DEL and bytes below 0x20 as
 * "\xHH"; a list is its items each followed by ',' (empty: no bytes). */
#include <string.h>

#include <openssl/sha.h>

#include "store-catalogue.h"

#define HEADER "settle-store-catalogue 1\n"
#define TRAILER_TAG "end\t"
#define ROW_FIELDS 12
/* A row is written only for a record file whose ctime is this much older
 * than the moment it was looked at.  Then any later change of the file
 * sets a ctime that differs from the recorded one, even on a file system
 * that keeps times in whole seconds (FAT keeps 2 s) and even when the
 * change came right after the file was read: ext4 takes a file's times
 * from a clock that advances in ticks of 1 to 10 ms, so two changes in one
 * tick have the same ctime ("racy git").  A record changed in the last
 * seconds is read from its file until a later change rewrites the
 * catalogue. */
#define SETTLED_NS (3 * G_GINT64_CONSTANT (1000000000))

void
settle_catalogue_key_from_stat (const struct stat *st, SettleCatalogueKey *key)
{
  key->inode = (guint64) st->st_ino;
  key->size = (guint64) st->st_size;
  key->mtime_ns = (gint64) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  key->ctime_ns = (gint64) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

SettleCatalogueRow *
settle_catalogue_row_new (const SettleRecord *record, const struct stat *st, gint64 stat_time_ns)
{
  SettleCatalogueKey key;
  settle_catalogue_key_from_stat (st, &key);
  SettleCatalogueRow *row = g_new0 (SettleCatalogueRow, 1);
  row->summary = settle_record_summary_new (record);
  row->key = key;
  row->settled = S_ISREG (st->st_mode) && key.ctime_ns <= stat_time_ns - SETTLED_NS;
  return row;
}

void
settle_catalogue_row_free (SettleCatalogueRow *row)
{
  if (row == NULL)
    return;
  settle_record_summary_free (row->summary);
  g_free (row);
}

gboolean
settle_catalogue_row_is_fresh (const SettleCatalogueRow *row, const struct stat *st)
{
  SettleCatalogueKey now;
  settle_catalogue_key_from_stat (st, &now);
  return S_ISREG (st->st_mode) && now.inode == row->key.inode && now.size == row->key.size
         && now.mtime_ns == row->key.mtime_ns && now.ctime_ns == row->key.ctime_ns;
}

/* Lowercase hex SHA-256 of data[0..len) into hex (65 bytes).  OpenSSL's,
 * not GLib's: ten times faster on the 2 MB of 10,000 rows. */
static void
sha256_hex (const void *data, gsize len, char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
  guint8 digest[SHA256_DIGEST_LENGTH];
  SHA256 (data, len, digest);
  for (gsize i = 0; i < sizeof digest; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
}

/* ---- writing ---------------------------------------------------------- */

static gboolean
needs_escape (guchar c)
{
  return c < 0x20 || c == 0x7f || c == '\\' || c == ',';
}

static void
append_escaped (GString *out, const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (needs_escape (*p))
      g_string_append_printf (out, "\\x%02x", *p);
    else
      g_string_append_c (out, (char) *p);
}

static void
append_list (GString *out, char **items)
{
  for (char **item = items; item != NULL && *item != NULL; item++)
    {
      append_escaped (out, *item);
      g_string_append_c (out, ',');
    }
}

static void
append_row (GString *out, const SettleCatalogueRow *row)
{
  const SettleRecordSummary *summary = row->summary;
  g_string_append_printf (out, "%s\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%" G_GINT64_FORMAT
                          "\t%" G_GINT64_FORMAT "\t%s\t%" G_GINT64_FORMAT "\t",
                          summary->fingerprint, row->key.inode, row->key.size, row->key.mtime_ns,
                          row->key.ctime_ns, settle_kind_to_string (summary->kind), summary->expires);
  append_escaped (out, summary->label);
  g_string_append_c (out, '\t');
  append_list (out, summary->names);
  g_string_append_c (out, '\t');
  append_list (out, summary->scope);
  g_string_append_c (out, '\t');
  append_list (out, summary->self_certifying);
  g_string_append_c (out, '\t');
  append_list (out, summary->self_certifying_other);
  g_string_append_c (out, '\n');
}

static int
compare_rows (gconstpointer a, gconstpointer b)
{
  const SettleCatalogueRow *left = *(const SettleCatalogueRow *const *) a;
  const SettleCatalogueRow *right = *(const SettleCatalogueRow *const *) b;
  return settle_record_summary_compare (&left->summary, &right->summary);
}

guint8 *
settle_catalogue_encode (GPtrArray *rows, gsize *len_out)
{
  /* In the order `settle list` prints, so that a reader need not sort. */
  g_ptr_array_sort (rows, compare_rows);
  GString *out = g_string_sized_new (64 + rows->len * 256);
  guint written = 0;
  g_string_append (out, HEADER);
  for (guint i = 0; i < rows->len; i++)
    if (((const SettleCatalogueRow *) rows->pdata[i])->settled)
      {
        append_row (out, rows->pdata[i]);
        written++;
      }
  char digest[2 * SHA256_DIGEST_LENGTH + 1];
  sha256_hex (out->str, out->len, digest);
  g_string_append_printf (out, TRAILER_TAG "%u\t%s\n", written, digest);
  *len_out = out->len;
  return (guint8 *) g_string_free (out, FALSE);
}

/* ---- reading ---------------------------------------------------------- */

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* The unescaped text of field[0..len): owned, or NULL when an escape is
 * broken, decodes to NUL, or the result is not UTF-8. */
static char *
unescape (const char *field, gsize len)
{
  if (memchr (field, '\\', len) == NULL)
    {
      for (gsize i = 0; i < len; i++)
        if (needs_escape ((guchar) field[i]))
          return NULL;
      char *text = g_strndup (field, len);
      if (g_utf8_validate (text, (gssize) len, NULL))
        return text;
      g_free (text);
      return NULL;
    }
  GString *out = g_string_sized_new (len);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) field[i];
      if (needs_escape (c) && c != '\\')
        goto bad;
      if (c != '\\')
        {
          g_string_append_c (out, (char) c);
          continue;
        }
      if (len - i < 4)
        goto bad;
      if (field[i + 1] != 'x' || hex_value (field[i + 2]) < 0 || hex_value (field[i + 3]) < 0)
        goto bad;
      int value = hex_value (field[i + 2]) * 16 + hex_value (field[i + 3]);
      if (value == 0 || !needs_escape ((guchar) value))
        goto bad;  /* one spelling only: what needs no escape has none */
      g_string_append_c (out, (char) value);
      i += 3;
    }
  if (!g_utf8_validate (out->str, (gssize) out->len, NULL))
    goto bad;
  return g_string_free (out, FALSE);
bad:
  g_string_free (out, TRUE);
  return NULL;
}

/* Owned NULL-terminated list of field[0..len), or NULL when malformed. */
static char **
parse_list (const char *field, gsize len)
{
  gsize count = 0;
  for (gsize i = 0; i < len; i++)
    count += field[i] == ',';
  if (len > 0 && field[len - 1] != ',')
    return NULL;  /* an item without its ',' */
  char **items = g_new0 (char *, count + 1);
  gsize start = 0, n = 0;
  for (gsize i = 0; i < len; i++)
    if (field[i] == ',')
      {
        items[n] = unescape (field + start, i - start);
        if (items[n] == NULL || items[n][0] == '\0')
          {
            g_strfreev (items);
            return NULL;
          }
        n++;
        start = i + 1;
      }
  return items;
}

/* Decimal digits, no sign, no leading zero but for "0", at most
 * G_MAXUINT64: one spelling per number. */
static gboolean
parse_u64 (const char *field, gsize len, guint64 *out)
{
  guint64 value = 0;
  if (len == 0 || len > 20 || (len > 1 && field[0] == '0'))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (field[i]))
        return FALSE;
      guint digit = (guint) (field[i] - '0');
      if (value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }
  *out = value;
  return TRUE;
}

/* The same with an optional '-' (not "-0"), within gint64. */
static gboolean
parse_i64 (const char *field, gsize len, gint64 *out)
{
  gboolean negative = len > 0 && field[0] == '-';
  guint64 magnitude;
  if (!parse_u64 (field + negative, len - negative, &magnitude))
    return FALSE;
  if (negative ? magnitude == 0 || magnitude > (guint64) G_MAXINT64 + 1 : magnitude > (guint64) G_MAXINT64)
    return FALSE;
  *out = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;
  return TRUE;
}

static gboolean
is_fingerprint (const char *field, gsize len)
{
  if (len != SETTLE_FINGERPRINT_HEX_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (hex_value (field[i]) < 0)
      return FALSE;
  return TRUE;
}

/* One row from line[0..len) (without its LF), owned, or NULL. */
static SettleCatalogueRow *
parse_row (const char *line, gsize len)
{
  const char *field[ROW_FIELDS];
  gsize field_len[ROW_FIELDS];
  guint count = 0;
  gsize start = 0;
  for (gsize i = 0; i <= len; i++)
    if (i == len || line[i] == '\t')
      {
        if (count == ROW_FIELDS)
          return NULL;
        field[count] = line + start;
        field_len[count++] = i - start;
        start = i + 1;
      }
  if (count != ROW_FIELDS || !is_fingerprint (field[0], field_len[0]))
    return NULL;

  g_autoptr (SettleRecordSummary) summary = g_new0 (SettleRecordSummary, 1);
  SettleCatalogueKey key;
  g_autofree char *kind = g_strndup (field[5], field_len[5]);
  summary->fingerprint = g_strndup (field[0], field_len[0]);
  if (!parse_u64 (field[1], field_len[1], &key.inode) || !parse_u64 (field[2], field_len[2], &key.size)
      || !parse_i64 (field[3], field_len[3], &key.mtime_ns) || !parse_i64 (field[4], field_len[4], &key.ctime_ns)
      || !settle_kind_from_string (kind, &summary->kind)
      || !parse_i64 (field[6], field_len[6], &summary->expires)
      || (summary->label = unescape (field[7], field_len[7])) == NULL
      || (summary->names = parse_list (field[8], field_len[8])) == NULL
      || (summary->scope = parse_list (field[9], field_len[9])) == NULL
      || (summary->self_certifying = parse_list (field[10], field_len[10])) == NULL
      || (summary->self_certifying_other = parse_list (field[11], field_len[11])) == NULL)
    return NULL;
  SettleCatalogueRow *row = g_new0 (SettleCatalogueRow, 1);
  row->summary = g_steal_pointer (&summary);
  row->key = key;
  row->settled = TRUE;
  return row;
}

/* TRUE when data[0..len) ends in a trailer line that counts `rows` rows
 * and carries the SHA-256 of everything before it; *body_len is where the
 * trailer starts. */
static gboolean
check_trailer (const guint8 *data, gsize len, gsize *body_len, guint *rows)
{
  if (len < 2 || data[len - 1] != '\n')
    return FALSE;
  const guint8 *line_end = data + len - 1;
  const guint8 *line = line_end;
  while (line > data && line[-1] != '\n')
    line--;
  gsize line_len = (gsize) (line_end - line);
  gsize tag_len = strlen (TRAILER_TAG);
  if (line_len < tag_len + 2 + 64 || memcmp (line, TRAILER_TAG, tag_len) != 0)
    return FALSE;
  const char *count = (const char *) line + tag_len;
  const char *tab = memchr (count, '\t', line_len - tag_len);
  guint64 parsed;
  if (tab == NULL || !parse_u64 (count, (gsize) (tab - count), &parsed) || parsed > G_MAXUINT
      || (const guint8 *) tab + 1 + 64 != line_end)
    return FALSE;
  *body_len = (gsize) (line - data);
  char digest[2 * SHA256_DIGEST_LENGTH + 1];
  sha256_hex (data, *body_len, digest);
  gboolean same = memcmp (digest, tab + 1, 64) == 0;
  *rows = (guint) parsed;
  return same;
}

GPtrArray *
settle_catalogue_parse (const guint8 *data, gsize len)
{
  gsize body_len = 0;
  guint count = 0;
  gsize header_len = strlen (HEADER);
  if (len < header_len || memcmp (data, HEADER, header_len) != 0
      || !check_trailer (data, len, &body_len, &count) || body_len < header_len)
    return NULL;

  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_catalogue_row_free);
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);  /* fingerprints borrowed from rows */
  const char *text = (const char *) data;
  gsize at = header_len;
  while (at < body_len && rows != NULL)
    {
      const char *end = memchr (text + at, '\n', body_len - at);
      SettleCatalogueRow *row = end != NULL ? parse_row (text + at, (gsize) (end - (text + at))) : NULL;
      if (row == NULL || !g_hash_table_add (seen, row->summary->fingerprint))
        {
          settle_catalogue_row_free (row);
          g_clear_pointer (&rows, g_ptr_array_unref);
          break;
        }
      g_ptr_array_add (rows, row);
      at = (gsize) (end - text) + 1;
    }
  g_hash_table_unref (seen);
  if (rows != NULL && rows->len != count)
    g_clear_pointer (&rows, g_ptr_array_unref);
  return rows;
}
