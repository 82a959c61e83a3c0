/* test-state-lock.c: state directories and the state lock. */
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "settle-error.h"
#include "settle-paths.h"
#include "store-test-records.h"

static void
test_directories_follow_environment (void)
{
  g_setenv ("SETTLE_DATA_DIR", "/srv/settle-data", TRUE);
  g_unsetenv ("SETTLE_TRUST_DIR");
  g_autofree char *data = settle_data_dir ();
  g_autofree char *trust = settle_trust_dir ();
  g_autofree char *store = settle_file_store_dir ();
  g_assert_cmpstr (data, ==, "/srv/settle-data");
  g_assert_cmpstr (trust, ==, "/srv/settle-data/trust");
  g_assert_cmpstr (store, ==, "/srv/settle-data/store");

  g_setenv ("SETTLE_TRUST_DIR", "/etc/settle/trust", TRUE);
  g_autofree char *trust_override = settle_trust_dir ();
  g_assert_cmpstr (trust_override, ==, "/etc/settle/trust");
  g_unsetenv ("SETTLE_TRUST_DIR");

  /* Without the override: the XDG data home (set in main, before GLib
   * caches it). */
  g_unsetenv ("SETTLE_DATA_DIR");
  g_autofree char *xdg = settle_data_dir ();
  g_assert_cmpstr (xdg, ==, "/home/tester/.local/share/settle");
}

/* In a child: 0 when a lock attempt with a short timeout fails with the
 * "another settle command" error after waiting, 1 when it got the lock,
 * 2 on any other outcome. */
static int
child_try_lock (guint timeout_ms)
{
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  int fd = settle_state_lock (timeout_ms, &error);
  gint64 waited_ms = (g_get_monotonic_time () - start) / 1000;
  if (fd >= 0)
    return 1;
  gboolean expected = g_error_matches (error, SETTLE_ERROR, SETTLE_ERROR_STORE)
    && strstr (error->message, "another settle command is changing the store") != NULL
    && waited_ms >= timeout_ms;
  return expected ? 0 : 2;
}

static int
run_child_try_lock (guint timeout_ms)
{
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (child_try_lock (timeout_ms));
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_lock_excludes_second_locker (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *data = g_build_filename (tmp, "nested", "settle", NULL);
  g_setenv ("SETTLE_DATA_DIR", data, TRUE);

  GError *error = NULL;
  int fd = settle_state_lock (1000, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);

  GStatBuf st;
  g_assert_cmpint (g_stat (data, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0700);
  g_autofree char *lock_path = g_build_filename (data, "lock", NULL);
  g_assert_true (g_file_test (lock_path, G_FILE_TEST_IS_REGULAR));

  g_assert_cmpint (run_child_try_lock (200), ==, 0);

  settle_state_unlock (fd);
  g_assert_cmpint (run_child_try_lock (200), ==, 1);

  g_unsetenv ("SETTLE_DATA_DIR");
  store_test_rmdir (tmp);
}

static void
test_lock_reports_unusable_dir (void)
{
  g_autofree char *tmp = store_test_tmpdir ();
  g_autofree char *file = g_build_filename (tmp, "plain-file", NULL);
  g_assert_true (g_file_set_contents (file, "", 0, NULL));
  g_autofree char *data = g_build_filename (file, "settle", NULL);
  g_setenv ("SETTLE_DATA_DIR", data, TRUE);

  GError *error = NULL;
  g_assert_cmpint (settle_state_lock (100, &error), ==, -1);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, data));
  g_clear_error (&error);

  g_unsetenv ("SETTLE_DATA_DIR");
  store_test_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_setenv ("XDG_DATA_HOME", "/home/tester/.local/share", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/state-lock/directories", test_directories_follow_environment);
  g_test_add_func ("/state-lock/excludes-second-locker", test_lock_excludes_second_locker);
  g_test_add_func ("/state-lock/unusable-dir", test_lock_reports_unusable_dir);
  return g_test_run ();
}
