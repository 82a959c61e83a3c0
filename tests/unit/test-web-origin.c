/* test-web-origin.c: the web-origin rule (lib/names/settle-web-origin.h)
 * the device applies to what an admin allows and `settle device origins`
 * applies to what a user types. */
#include <glib.h>

#include "settle-error.h"
#include "settle-web-origin.h"

static void
test_valid (void)
{
  const char *good[] = { "https://app.example", "http://localhost:8080", "https://a-b.c.d:1", "http://[fd00::1]:8080",
                         "https://192.168.1.2", "http://x:65535" };
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (settle_web_origin_valid (good[i]));
  /* Each fails one part of the rule: what a browser never sends. */
  const char *bad[] = { "null", "", "app.example", "ftp://app.example", "https://", "https://App.example",
                        "HTTPS://app.example", "https://app.example/", "https://app.example/x", "https://app.example:443",
                        "http://app.example:80", "https://app.example:0", "https://app.example:65536",
                        "https://app.example:08080", "https://app.example:", "https://a..b", "https://.a", "https://a.",
                        "https://a_b.example", "https://u@app.example", "https://app.example?x", "https://app.example#x",
                        "https://[]", "https://[FD00::1]", "https://app.example:8080:1", NULL };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (settle_web_origin_valid (bad[i]));
  g_autofree char *long_host = g_strnfill (300, 'a');
  g_autofree char *too_long = g_strconcat ("https://", long_host, NULL);
  g_assert_false (settle_web_origin_valid (too_long));
}

static void
test_canonical (void)
{
  struct { const char *typed, *canonical; } cases[] = {
    { "HTTPS://App.Example", "https://app.example" },
    { "https://app.example:443", "https://app.example" },
    { "http://app.example:80", "http://app.example" },
    { "http://app.example:443", "http://app.example:443" },
    { "http://[FD00::1]:8080", "http://[fd00::1]:8080" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *c = settle_web_origin_canonical (cases[i].typed, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (c, ==, cases[i].canonical);
      g_assert_true (settle_web_origin_valid (c));
    }
  struct { const char *typed, *says; } refused[] = {
    { "app.example", "must begin with https:// or http://" },
    { "ftp://app.example", "scheme must be https or http" },
    { "null", "opaque origin" },
    { "https://app.example/", "no path" },
    { "https://app.example/app", "no path" },
    { "https://app.example:99999", "port must be a number from 1 to 65535" },
    { "https://app.example:", "port" },
    { "https://", "no host" },
    { "https://a b", "letters, digits" },
    { "https://me@app.example", "user name" },
    { "https://app.example?q", "no query" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *c = settle_web_origin_canonical (refused[i].typed, &error);
      g_assert_null (c);
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED);
      if (g_strstr_len (error->message, -1, refused[i].says) == NULL)
        g_error ("%s: %s", refused[i].typed, error->message);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/web-origin/valid", test_valid);
  g_test_add_func ("/web-origin/canonical", test_canonical);
  return g_test_run ();
}
