/* test-endpoint.c: the one HOST:PORT parser (lib/common/endpoint.c).  The QR
 * payload's address cases are in tests/ceremony/test-qr-payload.c. */
#include <string.h>

#include "settle-endpoint.h"
#include "settle-error.h"

static void
test_accepted (void)
{
  static const struct {
    const char *text, *host, *printed;
    guint16 port;
  } cases[] = {
    { "192.168.1.20:8443", "192.168.1.20", "192.168.1.20:8443", 8443 },
    { "[fd00::20]:443", "fd00::20", "[fd00::20]:443", 443 },
    { "[FD00:0::20]:1", "fd00::20", "[fd00::20]:1", 1 },
    { "Printer.Local:65535", "printer.local", "printer.local:65535", 65535 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SettleEndpoint) e = settle_endpoint_parse (cases[i].text, SETTLE_ENDPOINT_TYPED, "--address",
                                                            &error);
      g_assert_no_error (error);
      g_assert_cmpstr (e->host, ==, cases[i].host);
      g_assert_cmpuint (e->port, ==, cases[i].port);
      g_assert_cmpint (e->source, ==, SETTLE_ENDPOINT_TYPED);
      g_autofree char *printed = settle_endpoint_to_string (e);
      g_assert_cmpstr (printed, ==, cases[i].printed);
    }
}

static void
test_refused (void)
{
  static const struct {
    const char *text, *expected;
  } cases[] = {
    { "printer.local", "--address has no ':port'." },
    { "printer.local:0", "port that is not a number from 1 to 65535" },
    { "printer.local:+80", "port that is not a number" },
    { "printer.local:080", "port that is not a number" },
    { "bank.example:443", "outside the local namespaces" },
    { "fd00::20:443", "IPv6 address without [brackets]" },
    { "[fd00::20%eth0]:443", "IPv6 zone" },
    { "[printer.local]:443", "brackets around something that is not an IPv6 address" },
    { "300.1.1.1:443", "not a valid IPv4 address" },
    { ":443", "no host before the port" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (settle_endpoint_parse (cases[i].text, SETTLE_ENDPOINT_TYPED, "--address", &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
      if (strstr (error->message, cases[i].expected) == NULL)
        g_error ("%s: '%s' does not say '%s'", cases[i].text, error->message, cases[i].expected);
    }
  g_autofree char *long_text = g_strnfill (400, 'a');
  g_autoptr (GError) error = NULL;
  g_assert_null (settle_endpoint_parse (long_text, SETTLE_ENDPOINT_TYPED, "--address", &error));
  g_assert_nonnull (strstr (error->message, "too long"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/endpoint/accepted", test_accepted);
  g_test_add_func ("/endpoint/refused", test_refused);
  return g_test_run ();
}
