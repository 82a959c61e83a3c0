/* test-store-catalogue.c: the catalogue's format (lib/store/store-catalogue.c,
 * schema/store.md): what it writes reads back the same, and the reader
 * refuses every catalogue that is not exactly well-formed (then the store
 * reads the records instead; store-catalogue.sh checks that end to end). */
#include <string.h>

#include "store-catalogue.h"
#include "store-test-records.h"

#define HEADER "settle-store-catalogue 1\n"
#define FP_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FP_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define KEY "\t12\t2400\t1700000000000000001\t1700000000000000002\t"
#define ROW_A FP_A KEY "device-ca\t1800000000\tPrinter\tprinter.local,\thome.arpa,\t\t\n"
#define ROW_B FP_B "\t13\t2400\t-5\t7\tpinned-peer\t1800000000\tNAS\t\t\t\t\n"

/* `body` (header and rows) with a correct trailer for `rows` rows, owned. */
static char *
with_trailer (const char *body, guint rows)
{
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, body, -1);
  return g_strdup_printf ("%send\t%u\t%s\n", body, rows, digest);
}

static gboolean
parses_bytes (const char *text, gsize len)
{
  g_autoptr (GPtrArray) rows = settle_catalogue_parse ((const guint8 *) text, len);
  return rows != NULL;
}

/* HEADER, ROW_A, then `row` as row 2, with a correct trailer. */
static gboolean
parses_with_row (const char *row)
{
  g_autofree char *body = g_strconcat (HEADER, ROW_A, row, NULL);
  g_autofree char *text = with_trailer (body, 2);
  return parses_bytes (text, strlen (text));
}

static void
test_hand_made_catalogue_reads (void)
{
  g_autofree char *text = with_trailer (HEADER ROW_A ROW_B, 2);
  g_autoptr (GPtrArray) rows = settle_catalogue_parse ((const guint8 *) text, strlen (text));
  g_assert_nonnull (rows);
  g_assert_cmpuint (rows->len, ==, 2);
  const SettleCatalogueRow *a = rows->pdata[0];
  g_assert_cmpstr (a->summary->fingerprint, ==, FP_A);
  g_assert_cmpuint (a->key.inode, ==, 12);
  g_assert_cmpint (a->key.mtime_ns, ==, G_GINT64_CONSTANT (1700000000000000001));
  g_assert_cmpstr (a->summary->label, ==, "Printer");
  g_assert_cmpstr (a->summary->names[0], ==, "printer.local");
  g_assert_null (a->summary->names[1]);
  g_assert_null (a->summary->self_certifying[0]);
  const SettleCatalogueRow *b = rows->pdata[1];
  g_assert_cmpint (b->summary->kind, ==, SETTLE_KIND_PINNED_PEER);
  g_assert_cmpint (b->key.mtime_ns, ==, -5);
  g_assert_null (b->summary->scope[0]);
  g_assert_true (parses_with_row (ROW_B));  /* the control of the next test */
}

/* Each is refused although the checksum and count are right. */
static void
test_malformed_rows_are_refused (void)
{
  const char *bad[] = {
    FP_B KEY "device-ca\t1\tA\\x41\t\t\t\t\n",           /* an escape where none is needed */
    FP_B KEY "device-ca\t1\tA\\x2C\t\t\t\t\n",           /* uppercase hex */
    FP_B KEY "device-ca\t1\tA\\x00\t\t\t\t\n",           /* NUL */
    FP_B KEY "device-ca\t1\tA\\y2c\t\t\t\t\n",           /* not \x */
    FP_B KEY "device-ca\t1\tA\\x2\t\t\t\t\n",            /* cut short */
    FP_B KEY "device-ca\t1\tA,B\t\t\t\t\n",              /* a raw ',' in a string */
    FP_B KEY "device-ca\t1\tA\x01\t\t\t\t\n",            /* a raw control byte */
    FP_B KEY "device-ca\t1\tA\xff\t\t\t\t\n",            /* not UTF-8 */
    FP_B KEY "device-ca\t1\tA\\xff\t\t\t\t\n",           /* not UTF-8 once unescaped */
    FP_B KEY "device-ca\t1\tA\tx.local\t\t\t\n",         /* an item without its ',' */
    FP_B KEY "device-ca\t1\tA\t,\t\t\t\n",               /* an empty item */
    FP_B KEY "device-ca\t1\tA\t\t\t\n",                  /* 11 fields */
    FP_B KEY "device-ca\t1\tA\t\t\t\t\t\n",              /* 13 fields */
    FP_B KEY "printer-ca\t1\tA\t\t\t\t\n",               /* no such kind */
    FP_B KEY "device-ca\t+1\tA\t\t\t\t\n",               /* a plus sign */
    FP_B KEY "device-ca\t01\tA\t\t\t\t\n",               /* a leading zero */
    FP_B KEY "device-ca\t-0\tA\t\t\t\t\n",               /* minus zero */
    FP_B KEY "device-ca\t9223372036854775808\tA\t\t\t\t\n", /* over gint64 */
    FP_B KEY "device-ca\t123456789012345678901\tA\t\t\t\t\n",  /* 21 digits */
    FP_B KEY "device-ca\t\tA\t\t\t\t\n",                 /* no number */
    FP_B "\t-1\t2400\t1\t2\tdevice-ca\t1\tA\t\t\t\t\n",  /* a negative inode */
    "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" KEY "device-ca\t1\tA\t\t\t\t\n",
    FP_B "b" KEY "device-ca\t1\tA\t\t\t\t\n",            /* 65 digits */
    ROW_A,                                              /* the same fingerprint twice */
    "\n",                                               /* an empty line */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    if (parses_with_row (bad[i]))
      g_error ("row %zu was accepted: %s", i, bad[i]);
}

static void
test_damaged_files_are_refused (void)
{
  g_autofree char *text = with_trailer (HEADER ROW_A ROW_B, 2);
  gsize len = strlen (text);
  g_assert_true (parses_bytes (text, len));
  /* Every truncation, and every single changed byte (checksum, count,
   * header, rows, trailer alike). */
  for (gsize cut = 0; cut < len; cut++)
    g_assert_false (parses_bytes (text, cut));
  for (gsize at = 0; at < len; at++)
    {
      g_autofree char *copy = g_strdup (text);
      copy[at] = copy[at] == 'x' ? 'y' : 'x';
      g_assert_false (parses_bytes (copy, len));
    }
  g_autofree char *longer = g_strconcat (text, "x\n", NULL);
  g_assert_false (parses_bytes (longer, strlen (longer)));
  g_autofree char *miscounted = with_trailer (HEADER ROW_A ROW_B, 3);
  g_assert_false (parses_bytes (miscounted, strlen (miscounted)));
  g_autofree char *newer = with_trailer ("settle-store-catalogue 2\n" ROW_A, 1);
  g_assert_false (parses_bytes (newer, strlen (newer)));
  g_assert_false (parses_bytes ("", 0));
}

/* What the writer writes reads back field for field, strings with every
 * character it escapes included, in list order; rows of files changed
 * in the last seconds are left out. */
static void
test_written_catalogue_reads_back (void)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_catalogue_row_free);
  const char *labels[] = { "zeta", "B\\x41, \"q\" \x7f \xc3\xbc\n\t\x01 end", "alpha" };
  struct stat st = { 0 };
  st.st_mode = S_IFREG | 0600;
  st.st_size = 2400;
  st.st_ctim.tv_sec = 1700000000;
  gint64 long_after = G_GINT64_CONSTANT (1800000000) * 1000000000;
  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      g_autoptr (SettleRecord) record = store_test_record_new (labels[i], "a.local");
      st.st_ino = 100 + i;
      g_ptr_array_add (rows, settle_catalogue_row_new (record, &st, long_after));
      g_strfreev (((SettleCatalogueRow *) rows->pdata[i])->summary->names);
      ((SettleCatalogueRow *) rows->pdata[i])->summary->names = g_strsplit ("a\\,b,c.local", ",", -1);
    }
  g_autoptr (SettleRecord) recent = store_test_record_new ("recent", NULL);
  g_ptr_array_add (rows, settle_catalogue_row_new (recent, &st, st.st_ctim.tv_sec * G_GINT64_CONSTANT (1000000000) + 1));
  g_assert_false (((SettleCatalogueRow *) rows->pdata[3])->settled);

  gsize len = 0;
  g_autofree guint8 *data = settle_catalogue_encode (rows, &len);
  g_autoptr (GPtrArray) read = settle_catalogue_parse (data, len);
  g_assert_nonnull (read);
  g_assert_cmpuint (read->len, ==, 3);
  g_assert_cmpstr (((SettleCatalogueRow *) read->pdata[0])->summary->label, ==, labels[1]);
  g_assert_cmpstr (((SettleCatalogueRow *) read->pdata[1])->summary->label, ==, "alpha");
  g_assert_cmpstr (((SettleCatalogueRow *) read->pdata[2])->summary->label, ==, "zeta");
  for (guint i = 0; i < read->len; i++)
    {
      const SettleCatalogueRow *row = read->pdata[i];
      g_assert_cmpstr (row->summary->names[0], ==, "a\\");
      g_assert_cmpstr (row->summary->names[1], ==, "b");
      g_assert_cmpstr (row->summary->names[2], ==, "c.local");
      g_assert_true (settle_catalogue_row_is_fresh (row, &st) == (row->key.inode == (guint64) st.st_ino));
    }
  /* A changed ctime alone makes a row stale. */
  struct stat changed = st;
  changed.st_ino = ((SettleCatalogueRow *) read->pdata[0])->key.inode;
  g_assert_true (settle_catalogue_row_is_fresh (read->pdata[0], &changed));
  changed.st_ctim.tv_nsec = 1;
  g_assert_false (settle_catalogue_row_is_fresh (read->pdata[0], &changed));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/catalogue/hand-made-reads", test_hand_made_catalogue_reads);
  g_test_add_func ("/catalogue/malformed-rows-refused", test_malformed_rows_are_refused);
  g_test_add_func ("/catalogue/damaged-files-refused", test_damaged_files_are_refused);
  g_test_add_func ("/catalogue/written-reads-back", test_written_catalogue_reads_back);
  return g_test_run ();
}
