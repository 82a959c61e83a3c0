/* test-store-file.c: the file store through the public store interface. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-store.h"
#include "store-test-records.h"

typedef struct {
  char *tmp;     /* owned temporary directory */
  char *dir;     /* owned: the store directory inside it */
  SettleStore *store;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  (void) data;
  f->tmp = store_test_tmpdir ();
  f->dir = g_build_filename (f->tmp, "store", NULL);
  GError *error = NULL;
  f->store = settle_store_open_file (f->dir, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  (void) data;
  g_clear_pointer (&f->store, settle_store_free);
  store_test_rmdir (f->tmp);
  g_free (f->dir);
  g_free (f->tmp);
}

static void
add_or_fail (Fixture *f, const SettleRecord *record)
{
  GError *error = NULL;
  g_assert_true (settle_store_add (f->store, record, &error));
  g_assert_no_error (error);
}

static guint
mode_of (const char *path)
{
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
expect_lookup (Fixture *f, const char *query, const char *fingerprint)
{
  GError *error = NULL;
  g_autoptr (SettleRecord) found = settle_store_lookup (f->store, query, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found->fingerprint, ==, fingerprint);
}

static void
expect_lookup_error (Fixture *f, const char *query, SettleErrorCode code, const char *part)
{
  GError *error = NULL;
  SettleRecord *found = settle_store_lookup (f->store, query, &error);
  g_assert_null (found);
  g_assert_error (error, SETTLE_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, part));
  g_error_free (error);
}

static void
test_add_list_lookup (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) router = store_test_record_new ("router", "router.home.arpa");
  g_autoptr (SettleRecord) printer = store_test_record_new ("printer", "printer.local");
  g_autoptr (SettleRecord) camera = store_test_record_new ("camera", NULL);
  add_or_fail (f, router);
  add_or_fail (f, printer);
  add_or_fail (f, camera);

  GError *error = NULL;
  GPtrArray *records = settle_store_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpstr (((SettleRecord *) records->pdata[0])->label, ==, "camera");
  g_assert_cmpstr (((SettleRecord *) records->pdata[1])->label, ==, "printer");
  g_assert_cmpstr (((SettleRecord *) records->pdata[2])->label, ==, "router");
  g_ptr_array_unref (records);

  expect_lookup (f, printer->fingerprint, printer->fingerprint);
  g_autofree char *pretty = settle_fingerprint_pretty (printer->fingerprint);
  expect_lookup (f, pretty, printer->fingerprint);
  g_autofree char *prefix = g_ascii_strup (printer->fingerprint, 8);
  expect_lookup (f, prefix, printer->fingerprint);
  expect_lookup (f, "printer", printer->fingerprint);
  expect_lookup (f, "router.home.arpa", router->fingerprint);
  expect_lookup (f, "ROUTER.home.arpa", router->fingerprint);

  expect_lookup_error (f, "scanner", SETTLE_ERROR_NOT_FOUND, "No trusted record matches");
  /* Seven hex digits are too few for a prefix. */
  g_autofree char *short_prefix = g_strndup (printer->fingerprint, 7);
  expect_lookup_error (f, short_prefix, SETTLE_ERROR_NOT_FOUND, "No trusted record matches");
  g_autofree char *absent = g_strnfill (64, '0');
  expect_lookup_error (f, absent, SETTLE_ERROR_NOT_FOUND, "No trusted record");
}

static void
test_lookup_ambiguous (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) one = store_test_record_new ("hall printer", "printer.local");
  g_autoptr (SettleRecord) two = store_test_record_new ("office printer", "printer.local");
  add_or_fail (f, one);
  add_or_fail (f, two);
  expect_lookup_error (f, "printer.local", SETTLE_ERROR_AMBIGUOUS, "matches 2 records");
  expect_lookup_error (f, "printer.local", SETTLE_ERROR_AMBIGUOUS, "hall printer");
  expect_lookup_error (f, "printer.local", SETTLE_ERROR_AMBIGUOUS, "office printer");
  expect_lookup (f, "office printer", two->fingerprint);
}

static void
test_duplicate_add (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  add_or_fail (f, record);
  GError *error = NULL;
  g_assert_false (settle_store_add (f->store, record, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_EXISTS);
  g_error_free (error);
}

static void
test_replace (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  GError *error = NULL;
  g_assert_false (settle_store_replace (f->store, record, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  add_or_fail (f, record);
  g_free (record->label);
  record->label = g_strdup ("upstairs printer");
  g_assert_true (settle_store_replace (f->store, record, &error));
  g_assert_no_error (error);
  expect_lookup (f, "upstairs printer", record->fingerprint);
  expect_lookup_error (f, "printer", SETTLE_ERROR_NOT_FOUND, "No trusted record");

  GPtrArray *records = settle_store_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  g_ptr_array_unref (records);
}

static void
test_refuses_invalid_record (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  g_clear_pointer (&record->cross_der, g_bytes_unref);
  GError *error = NULL;
  g_assert_false (settle_store_add (f->store, record, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_error_free (error);
}

static void
test_remove_with_key (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  add_or_fail (f, record);
  GBytes *pem = store_test_client_key_pem ();
  GError *error = NULL;
  g_assert_true (settle_store_put_client_key (f->store, record->fingerprint, pem, &error));
  g_assert_no_error (error);

  GBytes *back = settle_store_get_client_key (f->store, record->fingerprint, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (pem, back));
  settle_secure_bytes_free (back);

  g_autofree char *pretty = settle_fingerprint_pretty (record->fingerprint);
  g_assert_true (settle_store_remove (f->store, pretty, &error));
  g_assert_no_error (error);
  g_assert_false (settle_store_remove (f->store, record->fingerprint, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (settle_store_get_client_key (f->store, record->fingerprint, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autofree char *key_path = g_strdup_printf ("%s/keys/%s.pem", f->dir, record->fingerprint);
  g_assert_false (g_file_test (key_path, G_FILE_TEST_EXISTS));
  settle_secure_bytes_free (pem);
}

static void
test_client_key_refusals (Fixture *f, gconstpointer data)
{
  (void) data;
  GError *error = NULL;
  g_autofree char *fingerprint = g_strnfill (64, 'a');
  g_assert_null (settle_store_get_client_key (f->store, fingerprint, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  GBytes *not_pem = g_bytes_new_static ("hello", 5);
  g_assert_false (settle_store_put_client_key (f->store, fingerprint, not_pem, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_clear_error (&error);
  g_bytes_unref (not_pem);

  GBytes *pem = store_test_client_key_pem ();
  g_assert_false (settle_store_put_client_key (f->store, "not-a-fingerprint", pem, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT);
  g_clear_error (&error);
  settle_secure_bytes_free (pem);
}

static void
test_permissions (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  add_or_fail (f, record);
  GBytes *pem = store_test_client_key_pem ();
  GError *error = NULL;
  g_assert_true (settle_store_put_client_key (f->store, record->fingerprint, pem, &error));
  g_assert_no_error (error);
  settle_secure_bytes_free (pem);

  g_autofree char *record_path = g_strdup_printf ("%s/%s.json", f->dir, record->fingerprint);
  g_autofree char *keys_dir = g_build_filename (f->dir, "keys", NULL);
  g_autofree char *key_path = g_strdup_printf ("%s/%s.pem", keys_dir, record->fingerprint);
  g_assert_cmpuint (mode_of (f->dir), ==, 0700);
  g_assert_cmpuint (mode_of (record_path), ==, 0600);
  g_assert_cmpuint (mode_of (keys_dir), ==, 0700);
  g_assert_cmpuint (mode_of (key_path), ==, 0600);

  /* Nothing but the record and keys/ is left behind by the writes. */
  GDir *dir = g_dir_open (f->dir, 0, &error);
  g_assert_no_error (error);
  guint entries = 0;
  while (g_dir_read_name (dir) != NULL)
    entries++;
  g_dir_close (dir);
  g_assert_cmpuint (entries, ==, 2);
}

static void
test_tightens_readable_dir (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "store", NULL);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  GError *error = NULL;
  SettleStore *store = settle_store_open_file (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (dir), ==, 0700);
  settle_store_free (store);
  store_test_rmdir (tmp);
}

static void
test_refuses_world_writable_dir (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "store", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
  GError *error = NULL;
  SettleStore *store = settle_store_open_file (dir, &error);
  g_assert_null (store);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "writable by other users"));
  g_assert_nonnull (strstr (error->message, dir));
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (dir, 0720), ==, 0);
  g_assert_null (settle_store_open_file (dir, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_clear_error (&error);
  store_test_rmdir (tmp);
}

static void
test_refuses_foreign_dir (void)
{
  /* Giving a directory away takes root; CI runs the tests as root. */
  if (geteuid () != 0)
    {
      g_test_skip ("needs root to chown a directory to another user");
      return;
    }
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "store", NULL);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (chown (dir, 65534, 65534), ==, 0);
  GError *error = NULL;
  g_assert_null (settle_store_open_file (dir, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "belongs to uid 65534"));
  g_clear_error (&error);
  store_test_rmdir (tmp);
}

/* One corrupt record among ten: the nine others stay usable, the corrupt
 * one is set aside with its fingerprint and a reason naming the file, and
 * removing it by fingerprint works. */
static void
test_corrupt_record_set_aside (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) victim = NULL;
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *label = g_strdup_printf ("device %d", i);
      g_autofree char *name = g_strdup_printf ("device%d.local", i);
      SettleRecord *record = store_test_record_new (label, name);
      add_or_fail (f, record);
      if (i == 4)
        victim = record;
      else
        settle_record_free (record);
    }
  g_autofree char *path = g_strdup_printf ("%s/%s.json", f->dir, victim->fingerprint);
  GError *error = NULL;
  g_assert_true (g_file_set_contents (path, "{\"format\": 1, \"kind\": ", -1, &error));
  g_assert_no_error (error);

  g_autoptr (GPtrArray) unreadable = NULL;
  g_autoptr (GPtrArray) records = settle_store_list_all (f->store, &unreadable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 9);
  g_assert_cmpuint (unreadable->len, ==, 1);
  const SettleUnreadableRecord *entry = unreadable->pdata[0];
  g_assert_cmpstr (entry->fingerprint, ==, victim->fingerprint);
  g_test_message ("%s", entry->reason);
  g_assert_nonnull (strstr (entry->reason, path));
  g_assert_nonnull (strstr (entry->reason, "corrupt"));

  /* Asked for by its fingerprint, it names the file. */
  g_assert_null (settle_store_lookup (f->store, victim->fingerprint, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  g_assert_true (settle_store_remove (f->store, victim->fingerprint, &error));
  g_assert_no_error (error);
  g_clear_pointer (&unreadable, g_ptr_array_unref);
  g_clear_pointer (&records, g_ptr_array_unref);
  records = settle_store_list_all (f->store, &unreadable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 9);
  g_assert_cmpuint (unreadable->len, ==, 0);
}

/* A record a newer settle wrote with members this one does not know
 * survives a rewrite (settle_store_replace) with those members intact; one
 * from a newer major version is set aside. */
static void
test_newer_records (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  add_or_fail (f, record);
  g_autofree char *path = g_strdup_printf ("%s/%s.json", f->dir, record->fingerprint);
  g_autofree char *json = NULL;
  g_assert_true (g_file_get_contents (path, &json, NULL, NULL));
  g_assert_true (g_str_has_suffix (json, "}") || g_str_has_suffix (json, "}\n"));
  g_autofree char *newer = g_strdup_printf ("%.*s,\"format_minor\":2,\"voucher\":\"x\"}",
                                            (int) (strrchr (json, '}') - json), json);
  g_assert_true (g_file_set_contents (path, newer, -1, NULL));

  GError *error = NULL;
  g_autoptr (SettleRecord) read = settle_store_lookup (f->store, "printer", &error);
  g_assert_no_error (error);
  g_free (read->label);
  read->label = g_strdup ("printer, renamed");
  g_assert_true (settle_store_replace (f->store, read, &error));
  g_assert_no_error (error);
  g_autofree char *rewritten = NULL;
  g_assert_true (g_file_get_contents (path, &rewritten, NULL, NULL));
  g_assert_nonnull (strstr (rewritten, "\"voucher\":\"x\""));
  g_assert_nonnull (strstr (rewritten, "\"format_minor\":2"));
  g_assert_nonnull (strstr (rewritten, "printer, renamed"));

  g_autofree char *major = g_strdup (rewritten);
  char *format = strstr (major, "\"format\":1");
  g_assert_nonnull (format);
  format[strlen ("\"format\":")] = '2';
  g_assert_true (g_file_set_contents (path, major, -1, NULL));
  g_autoptr (GPtrArray) unreadable = NULL;
  g_autoptr (GPtrArray) records = settle_store_list_all (f->store, &unreadable, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 0);
  g_assert_cmpuint (unreadable->len, ==, 1);
  g_assert_nonnull (strstr (((SettleUnreadableRecord *) unreadable->pdata[0])->reason, "format 2"));
}

static void
test_skips_temp_and_foreign_files (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  add_or_fail (f, record);
  g_autofree char *temp = g_build_filename (f->dir, ".tmp-0123456789abcdef", NULL);
  g_autofree char *notes = g_build_filename (f->dir, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (temp, "{half a rec", -1, NULL));
  g_assert_true (g_file_set_contents (notes, "hello", -1, NULL));

  GError *error = NULL;
  GPtrArray *records = settle_store_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  g_ptr_array_unref (records);
}

static void
test_open_default_setting (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "chosen", NULL);
  g_autofree char *setting = g_strconcat ("file:", dir, NULL);
  GError *error = NULL;

  g_setenv ("SETTLE_STORE", setting, TRUE);
  SettleStore *store = settle_store_open_default (&error);
  g_assert_no_error (error);
  g_autofree char *expected = g_strconcat ("file store ", dir, NULL);
  g_assert_cmpstr (settle_store_describe (store), ==, expected);
  settle_store_free (store);

  const char *bad[] = { "file:relative/path", "files:/x", "gnome", "keyring:" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_setenv ("SETTLE_STORE", bad[i], TRUE);
      g_assert_null (settle_store_open_default (&error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
      g_assert_nonnull (strstr (error->message, "\"keyring\""));
      g_assert_nonnull (strstr (error->message, "file:/absolute/path"));
      g_clear_error (&error);
    }

  /* No setting and no session bus: the file store under the data dir. */
  g_unsetenv ("SETTLE_STORE");
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  g_setenv ("SETTLE_DATA_DIR", tmp, TRUE);
  store = settle_store_open_default (&error);
  g_assert_no_error (error);
  g_autofree char *default_expected = g_strconcat ("file store ", tmp, "/store", NULL);
  g_assert_cmpstr (settle_store_describe (store), ==, default_expected);
  settle_store_free (store);
  g_unsetenv ("SETTLE_DATA_DIR");
  store_test_rmdir (tmp);
}

/* Secret bytes are wiped when their last reference goes, not under a
 * holder's feet: another reference still sees the key.  (The wipe itself,
 * in secret_buffer_free, happens as the memory is freed.) */
static void
test_secret_bytes_live_until_last_reference (void)
{
  guint8 *secret = g_malloc (32);
  memset (secret, 0x5a, 32);
  GBytes *bytes = settle_secret_bytes_take (secret, 32);
  GBytes *holder = g_bytes_ref (bytes);
  settle_secure_bytes_free (bytes);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (holder, &len);
  g_assert_cmpuint (len, ==, 32);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint (data[i], ==, 0x5a);
  settle_secure_bytes_free (holder);

  /* A copy owns its buffer, NUL-terminated for PEM readers. */
  g_autoptr (GBytes) copy = settle_secret_bytes_new ("-----BEGIN", 10);
  g_assert_cmpmem (g_bytes_get_data (copy, NULL), g_bytes_get_size (copy), "-----BEGIN", 10);
  g_assert_cmpint (((const char *) g_bytes_get_data (copy, NULL))[10], ==, '\0');
}

#define ADD_FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD_FIXTURE_TEST ("/store-file/add-list-lookup", test_add_list_lookup);
  ADD_FIXTURE_TEST ("/store-file/lookup-ambiguous", test_lookup_ambiguous);
  ADD_FIXTURE_TEST ("/store-file/duplicate-add", test_duplicate_add);
  ADD_FIXTURE_TEST ("/store-file/replace", test_replace);
  ADD_FIXTURE_TEST ("/store-file/refuses-invalid-record", test_refuses_invalid_record);
  ADD_FIXTURE_TEST ("/store-file/remove-with-key", test_remove_with_key);
  ADD_FIXTURE_TEST ("/store-file/client-key-refusals", test_client_key_refusals);
  ADD_FIXTURE_TEST ("/store-file/permissions", test_permissions);
  ADD_FIXTURE_TEST ("/store-file/corrupt-record-set-aside", test_corrupt_record_set_aside);
  ADD_FIXTURE_TEST ("/store-file/newer-records", test_newer_records);
  ADD_FIXTURE_TEST ("/store-file/skips-temp-files", test_skips_temp_and_foreign_files);
  g_test_add_func ("/store-file/tightens-readable-dir", test_tightens_readable_dir);
  g_test_add_func ("/store-file/refuses-world-writable-dir", test_refuses_world_writable_dir);
  g_test_add_func ("/store-file/refuses-foreign-dir", test_refuses_foreign_dir);
  g_test_add_func ("/store-file/open-default-setting", test_open_default_setting);
  g_test_add_func ("/store-file/secret-bytes-live-until-last-reference", test_secret_bytes_live_until_last_reference);
  return g_test_run ();
}
