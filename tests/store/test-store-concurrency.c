/* test-store-concurrency.c: several settle processes changing one file
 * store at once. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "settle-error.h"
#include "settle-paths.h"
#include "settle-record-json.h"
#include "settle-store.h"
#include "store-test-records.h"

#define WRITERS 8
#define RECORDS_PER_WRITER 25

/* Child body: adds its records one lock at a time, as the helper does. */
static int
writer_adds_records (const char *store_dir, int writer)
{
  GError *error = NULL;
  SettleStore *store = settle_store_open_file (store_dir, &error);
  if (store == NULL)
    return 1;
  for (int i = 0; i < RECORDS_PER_WRITER; i++)
    {
      char *label = g_strdup_printf ("device %d-%02d", writer, i);
      SettleRecord *record = store_test_record_new (label, NULL);
      int fd = settle_state_lock (30000, &error);
      gboolean ok = fd >= 0 && settle_store_add (store, record, &error);
      settle_state_unlock (fd);
      settle_record_free (record);
      g_free (label);
      if (!ok)
        {
          g_printerr ("writer %d: %s\n", writer, error != NULL ? error->message : "?");
          return 1;
        }
    }
  settle_store_free (store);
  return 0;
}

/* Child body without the lock: the store alone must let exactly one
 * adder of a fingerprint win.  0 = won, 3 = lost with EXISTS. */
static int
racer_adds_same_record (const char *store_dir, const char *json)
{
  GError *error = NULL;
  SettleStore *store = settle_store_open_file (store_dir, &error);
  SettleRecord *record = settle_record_from_json (json, strlen (json), &error);
  if (store == NULL || record == NULL)
    return 1;
  int result = settle_store_add (store, record, &error) ? 0
    : g_error_matches (error, SETTLE_ERROR, SETTLE_ERROR_EXISTS) ? 3 : 1;
  settle_record_free (record);
  settle_store_free (store);
  return result;
}

static void
wait_for_children (const pid_t *pids, int count, int *exit_codes)
{
  for (int i = 0; i < count; i++)
    {
      int status = 0;
      g_assert_cmpint (waitpid (pids[i], &status, 0), ==, pids[i]);
      g_assert_true (WIFEXITED (status));
      exit_codes[i] = WEXITSTATUS (status);
    }
}

static void
test_parallel_writers_lose_nothing (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *store_dir = g_build_filename (tmp, "store", NULL);
  g_setenv ("SETTLE_DATA_DIR", tmp, TRUE);

  pid_t pids[WRITERS];
  for (int w = 0; w < WRITERS; w++)
    {
      pids[w] = fork ();
      g_assert_cmpint (pids[w], >=, 0);
      if (pids[w] == 0)
        _exit (writer_adds_records (store_dir, w));
    }
  int codes[WRITERS];
  wait_for_children (pids, WRITERS, codes);
  for (int w = 0; w < WRITERS; w++)
    g_assert_cmpint (codes[w], ==, 0);

  GError *error = NULL;
  SettleStore *store = settle_store_open_file (store_dir, &error);
  g_assert_no_error (error);
  GPtrArray *records = settle_store_list (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, WRITERS * RECORDS_PER_WRITER);
  GHashTable *labels = g_hash_table_new (g_str_hash, g_str_equal);  /* borrows */
  for (guint i = 0; i < records->len; i++)
    g_hash_table_add (labels, ((SettleRecord *) records->pdata[i])->label);
  for (int w = 0; w < WRITERS; w++)
    for (int i = 0; i < RECORDS_PER_WRITER; i++)
      {
        g_autofree char *label = g_strdup_printf ("device %d-%02d", w, i);
        g_assert_true (g_hash_table_contains (labels, label));
      }
  g_hash_table_unref (labels);
  g_ptr_array_unref (records);
  settle_store_free (store);
  g_unsetenv ("SETTLE_DATA_DIR");
  store_test_rmdir (tmp);
}

static void
test_same_fingerprint_one_winner (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *store_dir = g_build_filename (tmp, "store", NULL);
  g_autoptr (SettleRecord) record = store_test_record_new ("printer", "printer.local");
  g_autofree char *json = settle_record_to_json (record, FALSE);

  pid_t pids[WRITERS];
  for (int w = 0; w < WRITERS; w++)
    {
      pids[w] = fork ();
      g_assert_cmpint (pids[w], >=, 0);
      if (pids[w] == 0)
        _exit (racer_adds_same_record (store_dir, json));
    }
  int codes[WRITERS];
  wait_for_children (pids, WRITERS, codes);
  int winners = 0;
  for (int w = 0; w < WRITERS; w++)
    {
      g_assert_true (codes[w] == 0 || codes[w] == 3);
      winners += codes[w] == 0;
    }
  g_assert_cmpint (winners, ==, 1);
  store_test_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store-concurrency/parallel-writers", test_parallel_writers_lose_nothing);
  g_test_add_func ("/store-concurrency/same-fingerprint", test_same_fingerprint_one_winner);
  return g_test_run ();
}
