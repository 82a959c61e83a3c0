/* test-device-acme.c: settle-device's ACME side (device/device-acme.c)
 * without a server: when a certificate is due for renewal, and the
 * refusals at start (not https, a client that fails).  The exchange with
 * a real ACME server is tests/pair/referee-acme.sh. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

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

/* A certificate for `name` valid from now for `lifetime_s`, with its key,
 * where lego would have written them (STATE/acme/certificates). */
static void
write_cert (const char *state, const char *name, long lifetime_s)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *cert = X509_new ();
  g_autofree char *san = g_strconcat ("DNS:", name, NULL);
  g_autofree char *dir = g_build_filename (state, "acme", "certificates", NULL);
  g_autofree char *crt_name = g_strconcat (name, ".crt", NULL), *key_name = g_strconcat (name, ".key", NULL);
  g_autofree char *crt = g_build_filename (dir, crt_name, NULL), *key_file = g_build_filename (dir, key_name, NULL);
  X509V3_CTX ctx;

  g_assert_nonnull (key);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 1);
  X509_gmtime_adj (X509_getm_notBefore (cert), 0);
  X509_gmtime_adj (X509_getm_notAfter (cert), lifetime_s);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (cert), "CN", MBSTRING_ASC, (const unsigned char *) name, -1, -1, 0);
  X509_set_issuer_name (cert, X509_get_subject_name (cert));
  X509_set_pubkey (cert, key);
  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_subject_alt_name, san);
  g_assert_nonnull (ext);
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  FILE *f = fopen (crt, "w");
  g_assert_nonnull (f);
  PEM_write_X509 (f, cert);
  fclose (f);
  f = fopen (key_file, "w");
  g_assert_nonnull (f);
  PEM_write_PrivateKey (f, key, NULL, NULL, 0, NULL, NULL);
  fclose (f);
  X509_free (cert);
  EVP_PKEY_free (key);
}

/* The same during a renewal: the timer starts the slow client once the
 * certificate is due, and settle_device_acme_stop() ends it at once
 * instead of waiting for it. */
static void
test_stop_ends_renewal (void)
{
  g_autofree char *state = g_dir_make_tmp ("device-acme-XXXXXX", NULL);
  g_autofree char *client = g_build_filename (state, "slow-client", NULL);
  g_autofree char *marker = g_build_filename (state, "client-ran", NULL);
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\n: >'%s'\nsleep 30 & wait\n", marker);
  g_assert_true (g_file_set_contents (client, script, -1, NULL));
  g_assert_cmpint (g_chmod (client, 0700), ==, 0);
  /* Valid for 6 s: not due at start, due (a third left) after 4 s. */
  write_cert (state, "printer.lab.home.arpa", 6);
  SettleDeviceAcmeOptions options = {
    .name = "printer.lab.home.arpa",
    .directory = "https://ca.lab.home.arpa/dir",
    .state_dir = state,
    .client = client,
    .check_s = 1,
  };
  g_autoptr (GError) error = NULL;

  SettleDeviceAcme *acme = settle_device_acme_start (&options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (acme);
  for (int i = 0; i < 200 && !g_file_test (marker, G_FILE_TEST_EXISTS); i++)
    g_usleep (50 * 1000);
  g_assert_true (g_file_test (marker, G_FILE_TEST_EXISTS));
  gint64 from = g_get_monotonic_time ();
  settle_device_acme_stop (acme);
  g_assert_cmpint (g_get_monotonic_time () - from, <, 5 * G_USEC_PER_SEC);

  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", state);
  g_assert_cmpint (system (cmd), ==, 0);
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
  g_test_add_func ("/device-acme/stop-ends-renewal", test_stop_ends_renewal);
  return g_test_run ();
}
