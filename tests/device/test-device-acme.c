/* test-device-acme.c: settle-device's ACME side (device/device-acme.c)
 * without a server: when a certificate is due for renewal, and the
 * refusals at start (not https, a client that fails).  The exchange with
 * a real ACME server is tests/pair/referee-acme.sh. */
#include <string.h>

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
  return g_test_run ();
}
