/* test-device-acme.c: settle-device's ACME side (device/device-acme.c)
 * without a server: when a certificate is due for renewal, and the
 * refusals at start (not https, a client that fails).  The exchange with
 * a real ACME server is tests/pair/referee-acme.sh. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "device.h"
#include "settle-error.h"

#define DAY (24 * 3600)

/* A third of the lifetime left: 30 of 90 days, as ACME clients do. */
static void
test_renewal_due (void)
{
  const gint64 from = 1700000000, to = from + 90 * DAY;

  g_assert_false (settle_device_acme_renewal_due (from, to, from - 10));
  g_assert_false (settle_device_acme_renewal_due (from, to, from + DAY));
  g_assert_false (settle_device_acme_renewal_due (from, to, to - 30 * DAY - 1));
  g_assert_true (settle_device_acme_renewal_due (from, to, to - 30 * DAY));
  g_assert_true (settle_device_acme_renewal_due (from, to, to - DAY));
  g_assert_true (settle_device_acme_renewal_due (from, to, to + DAY));
  /* 45 seconds (tests/pair/referee-acme): renewed after 30. */
  g_assert_false (settle_device_acme_renewal_due (from, from + 45, from + 29));
  g_assert_true (settle_device_acme_renewal_due (from, from + 45, from + 30));
  /* A certificate that ends before it begins is renewed at once. */
  g_assert_true (settle_device_acme_renewal_due (to, from, from));
  g_assert_true (settle_device_acme_renewal_due (from, from, from - 1));
}

/* Back-off after failed attempts: doubling from the check interval,
 * capped, never shorter than the check itself, no overflow. */
static void
test_retry_delay (void)
{
  const guint cap = SETTLE_DEVICE_ACME_RETRY_CAP_S;

  g_assert_cmpuint (settle_device_acme_retry_delay_s (2, 0), ==, 2);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (2, 1), ==, 4);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (2, 2), ==, 8);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (2, 3), ==, 16);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (3600, 0), ==, 3600);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (3600, 1), ==, 7200);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (3600, 2), ==, 14400);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (3600, 3), ==, cap);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (3600, 100), ==, cap);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (2, G_MAXUINT), ==, cap);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (G_MAXUINT, 5), ==, G_MAXUINT);
  g_assert_cmpuint (settle_device_acme_retry_delay_s (cap + 1, 3), ==, cap + 1);
  /* Each step at least the one before. */
  for (guint f = 0; f < 40; f++)
    g_assert_cmpuint (settle_device_acme_retry_delay_s (7, f + 1), >=, settle_device_acme_retry_delay_s (7, f));
}

/* A device stopping while lego runs ends lego's process group at once
 * instead of waiting for it: here a "client" that would sleep 30 s and
 * the device's stop signal already pending on the stop descriptor. */
static void
test_stop_ends_client (void)
{
  g_autofree char *state = g_dir_make_tmp ("device-acme-XXXXXX", NULL);
  g_autofree char *client = g_build_filename (state, "slow-client", NULL);
  int pipe_fds[2];
  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  g_assert_true (g_file_set_contents (client, "#!/bin/sh\nsleep 30 & wait\n", -1, NULL));
  g_assert_cmpint (g_chmod (client, 0700), ==, 0);
  SettleDeviceAcmeOptions options = {
    .name = "printer.lab.home.arpa",
    .directory = "https://ca.lab.home.arpa/dir",
    .state_dir = state,
    .client = client,
    .stop_fd = &pipe_fds[0],
  };
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (write (pipe_fds[1], "x", 1), ==, 1);
  gint64 from = g_get_monotonic_time ();
  g_assert_null (settle_device_acme_start (&options, &error));
  g_assert_cmpint (g_get_monotonic_time () - from, <, 5 * G_USEC_PER_SEC);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "ended before it obtained a certificate for printer.lab.home.arpa"));
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  g_unlink (client);
  g_autofree char *acme = g_build_filename (state, "acme", NULL);
  g_rmdir (acme);
  g_rmdir (state);
}

static void
test_start_refusals (void)
{
  g_autofree char *state = g_dir_make_tmp ("device-acme-XXXXXX", NULL);
  SettleDeviceAcmeOptions options = {
    .name = "printer.lab.home.arpa",
    .directory = "http://ca.lab.home.arpa/dir",
    .state_dir = state,
  };
  g_autoptr (GError) error = NULL;

  g_assert_null (settle_device_acme_start (&options, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "not an https:// URL"));
  g_clear_error (&error);

  /* A client that fails: the start fails with a sentence naming the
   * name and the server; nothing is served. */
  options.directory = "https://ca.lab.home.arpa/dir";
  options.client = "false";
  g_assert_null (settle_device_acme_start (&options, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "could not obtain a certificate for printer.lab.home.arpa"));
  g_clear_error (&error);

  options.client = "/nonexistent/lego";
  g_assert_null (settle_device_acme_start (&options, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Cannot run the ACME client"));

  g_autofree char *acme = g_build_filename (state, "acme", NULL);
  g_rmdir (acme);
  g_rmdir (state);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device-acme/renewal-due", test_renewal_due);
  g_test_add_func ("/device-acme/start-refusals", test_start_refusals);
  g_test_add_func ("/device-acme/retry-delay", test_retry_delay);
  g_test_add_func ("/device-acme/stop-ends-client", test_stop_ends_client);
  return g_test_run ();
}
