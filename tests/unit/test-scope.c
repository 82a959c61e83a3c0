/* test-scope.c: which names and scopes settle accepts, and in what form. */
#include <string.h>

#include "settle-error.h"
#include "settle-scope.h"

typedef struct {
  const char *input;
  const char *canonical;
} Accepted;

/* Device names (settle_name_normalize, no wildcard). */
static const Accepted names_ok[] = {
  { "printer.local", "printer.local" },
  { "Printer.LOCAL", "printer.local" },
  { "PRINTER-3FA9.local", "printer-3fa9.local" },
  { "evil.com.local", "evil.com.local" },  /* it IS under .local */
  { "local.local", "local.local" },
  { "alt.alt", "alt.alt" },
  { "home.arpa.local", "home.arpa.local" },
  { "router.home.arpa", "router.home.arpa" },
  { "Router.Home.Arpa", "router.home.arpa" },
  { "nas.lab.home.arpa", "nas.lab.home.arpa" },
  { "a.b.c.d.e.home.arpa", "a.b.c.d.e.home.arpa" },
  { "hub.alt", "hub.alt" },
  { "x.alt", "x.alt" },
  { "a.local", "a.local" },
  { "0.local", "0.local" },
  { "1-2-3.local", "1-2-3.local" },
  { "123.local", "123.local" },
  { "192.168.1.10.local", "192.168.1.10.local" },
  { "a-b.local", "a-b.local" },
  { "a--b.local", "a--b.local" },          /* hyphens not in places 3 and 4 */
  { "ab-c--d.local", "ab-c--d.local" },
  { "xn--bcher-kva.local", "xn--bcher-kva.local" },
  { "XN--BCHER-KVA.local", "xn--bcher-kva.local" },
  { "xn--ls8h.home.arpa", "xn--ls8h.home.arpa" },
  { "www.xn--bcher-kva.alt", "www.xn--bcher-kva.alt" },
  { "printer.xlocal.local", "printer.xlocal.local" },
  { "arpa.home.arpa", "arpa.home.arpa" },
  { "home.home.arpa", "home.home.arpa" },
  { "local.alt", "local.alt" },
  { "deep.a.b.c.d.e.f.g.h.i.j.alt", "deep.a.b.c.d.e.f.g.h.i.j.alt" },
  { "z9.home.arpa", "z9.home.arpa" },
  { "x.local", "x.local" },
  { "cam01.garden.home.arpa", "cam01.garden.home.arpa" },
  { "MixedCase-Name.Alt", "mixedcase-name.alt" },
  { "q.local", "q.local" },
  { "nas-01.office.local", "nas-01.office.local" },
  { "tv.living-room.home.arpa", "tv.living-room.home.arpa" },
  { "r1.r2.r3.alt", "r1.r2.r3.alt" },
  { "service.device.local", "service.device.local" },
  { "ab.alt", "ab.alt" },
  { "ZZZ.LOCAL", "zzz.local" },
  { "x1-y2-z3.home.arpa", "x1-y2-z3.home.arpa" },
};

typedef struct {
  const char *input;
  const char *why;  /* a word the refusal message must contain */
} Refused;

/* Refused as device names (no wildcard allowed). */
static const Refused names_bad[] = {
  { "", "empty" },
  { "local", "namespace" },
  { "home.arpa", "namespace" },
  { "alt", "namespace" },
  { "LOCAL", "namespace" },
  { "local.evil.com", "outside" },
  { "xlocal", "outside" },
  { "printer.xlocal", "outside" },
  { "home.arpa.evil", "outside" },
  { "arpa", "outside" },
  { "x.arpa", "outside" },
  { "homearpa", "outside" },
  { "printer.homearpa", "outside" },
  { "router.home-arpa", "outside" },
  { "bank.example", "outside" },
  { "example.com", "outside" },
  { "localhost", "outside" },
  { "printer.localhost", "outside" },
  { "printer.lan", "outside" },
  { "printer.internal", "outside" },
  { "8.8.8.8", "outside" },
  { ".local", "empty label" },
  { "a..local", "empty label" },
  { ".printer.local", "empty label" },
  { "printer.local.", "trailing dot" },
  { "local.", "trailing dot" },
  { ".", "trailing dot" },
  { "*.local", "wildcard" },
  { "*.printer.local", "wildcard" },
  { "printer_1.local", "underscore" },
  { "_http._tcp.local", "underscore" },
  { "-printer.local", "hyphen" },
  { "printer-.local", "hyphen" },
  { "printer.-x.local", "hyphen" },
  { "pr inter.local", "character" },
  { "printer!.local", "character" },
  { "printer/.local", "character" },
  { "printer\t.local", "character" },
  { "printer@local", "character" },
  { "p*.local", "*" },
  { "pr*nter.local", "*" },
  { "printer.*.local", "*" },
  { "b\xc3\xbc" "cher.local", "A-label" },
  { "\xe2\x80\x8bprinter.local", "A-label" },       /* zero-width space */
  { "printer.loc\xd0\xb0l", "A-label" },            /* Cyrillic a */
  { "\xff.local", "A-label" },
  { "xn--.local", "A-label" },
  { "xn--", "A-label" },
  { "xn--a.local", "A-label" },
  { "xn--abc.local", "A-label" },                   /* decodes to nothing */
  { "xn--zz.local", "A-label" },
  { "xn--99999999999.local", "A-label" },
  { "xn--bcher-kva-.local", "A-label" },
  { "ab--cd.local", "IDNA" },
  { "zz--printer.local", "IDNA" },
};

/* Canonical form or NULL; checks the error domain on refusal. */
static char *
normalize_name (const char *input, gboolean wildcard, char **message)
{
  g_autoptr (GError) error = NULL;
  char *out = settle_name_normalize (input, wildcard, &error);
  if (out == NULL)
    {
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
      *message = g_strdup (error->message);
    }
  else
    g_assert_no_error (error);
  return out;
}

static void
test_names_accepted (void)
{
  g_assert_cmpuint (G_N_ELEMENTS (names_ok), >=, 40);
  for (gsize i = 0; i < G_N_ELEMENTS (names_ok); i++)
    {
      g_autofree char *message = NULL;
      g_autofree char *out = normalize_name (names_ok[i].input, FALSE, &message);
      if (out == NULL)
        g_error ("'%s' was refused: %s", names_ok[i].input, message);
      g_assert_cmpstr (out, ==, names_ok[i].canonical);
      g_assert_true (settle_name_in_namespaces (out));
    }
}

static void
test_names_refused (void)
{
  g_assert_cmpuint (G_N_ELEMENTS (names_bad), >=, 40);
  for (gsize i = 0; i < G_N_ELEMENTS (names_bad); i++)
    {
      g_autofree char *message = NULL;
      g_autofree char *out = normalize_name (names_bad[i].input, FALSE, &message);
      if (out != NULL)
        g_error ("'%s' was accepted as '%s'", names_bad[i].input, out);
      if (strstr (message, names_bad[i].why) == NULL)
        g_error ("refusal of '%s' does not mention '%s': %s", names_bad[i].input,
                 names_bad[i].why, message);
      /* One sentence, no raw control bytes or non-ASCII echoed back. */
      g_assert_true (g_str_has_suffix (message, "."));
      for (const char *p = message; *p; p++)
        g_assert_true ((guchar) *p >= 0x20 && (guchar) *p < 0x7f);
    }
}

static void
test_non_ascii_message_names_a_label (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (settle_name_normalize ("b\xc3\xbc" "cher.local", FALSE, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
  g_assert_nonnull (strstr (error->message, "'xn--bcher-kva.local'"));
  g_clear_error (&error);

  /* No suggestion that would hide an invisible character. */
  g_assert_null (settle_name_normalize ("\xe2\x80\x8bprinter.local", FALSE, &error));
  g_assert_null (strstr (error->message, "'printer.local'"));
}

static void
test_wildcards (void)
{
  static const Accepted ok[] = {
    { "*.printer.local", "*.printer.local" },
    { "*.Lab.Home.Arpa", "*.lab.home.arpa" },
    { "*.x.alt", "*.x.alt" },
    { "printer.local", "printer.local" },
  };
  static const char *const bad[] = {
    "*.local", "*.home.arpa", "*.alt", "*.arpa", "*", "*.", "**.printer.local",
    "*.*.printer.local", "a.*.printer.local", "*printer.local", "*.bank.example",
    "*..local", "*.local.",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autofree char *message = NULL;
      g_autofree char *out = normalize_name (ok[i].input, TRUE, &message);
      if (out == NULL)
        g_error ("'%s' was refused: %s", ok[i].input, message);
      g_assert_cmpstr (out, ==, ok[i].canonical);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *message = NULL;
      g_autofree char *out = normalize_name (bad[i], TRUE, &message);
      if (out != NULL)
        g_error ("wildcard '%s' was accepted as '%s'", bad[i], out);
    }
}

static char *
repeat_label (char c, gsize n)
{
  char *s = g_malloc (n + 1);
  memset (s, c, n);
  s[n] = '\0';
  return s;
}

static void
test_lengths (void)
{
  g_autofree char *label63 = repeat_label ('a', 63);
  g_autofree char *label64 = repeat_label ('a', 64);
  g_autofree char *ok63 = g_strconcat (label63, ".local", NULL);
  g_autofree char *bad64 = g_strconcat (label64, ".local", NULL);
  g_autofree char *message = NULL;
  g_autofree char *out = normalize_name (ok63, FALSE, &message);
  g_assert_cmpstr (out, ==, ok63);
  g_clear_pointer (&out, g_free);
  out = normalize_name (bad64, FALSE, &message);
  g_assert_null (out);
  g_assert_nonnull (strstr (message, "63"));
  g_clear_pointer (&message, g_free);

  /* 4 x 62-octet labels + "local": 4*63 + 5 = 257 > 253; trim to the edge. */
  g_autofree char *l62 = repeat_label ('b', 62);
  g_autofree char *long_name = g_strjoin (".", l62, l62, l62, l62, "local", NULL);
  g_assert_cmpuint (strlen (long_name), ==, 257);
  char *name253 = long_name + 4;  /* "bbb...": still a valid first label */
  g_assert_cmpuint (strlen (name253), ==, 253);
  out = normalize_name (name253, FALSE, &message);
  g_assert_cmpstr (out, ==, name253);
  g_clear_pointer (&out, g_free);
  char *name254 = long_name + 3;
  g_assert_cmpuint (strlen (name254), ==, 254);
  out = normalize_name (name254, FALSE, &message);
  g_assert_null (out);
  g_assert_nonnull (strstr (message, "253"));
  g_clear_pointer (&message, g_free);

  /* A huge input is refused without being echoed in full. */
  g_autofree char *huge = repeat_label ('c', 100000);
  out = normalize_name (huge, FALSE, &message);
  g_assert_null (out);
  g_assert_cmpuint (strlen (message), <, 200);
}

static void
test_scopes (void)
{
  static const Accepted ok[] = {
    { "local", "local" }, { "home.arpa", "home.arpa" }, { "alt", "alt" },
    { "LOCAL", "local" }, { "Home.Arpa", "home.arpa" }, { "lab.home.arpa", "lab.home.arpa" },
    { "printer-3fa9.local", "printer-3fa9.local" }, { "x.alt", "x.alt" },
  };
  static const char *const bad[] = {
    "", "arpa", "homearpa", "com", "example.com", "local.evil.com", "xlocal",
    "home.arpa.evil", ".local", "local.", "*.local", "*.lab.home.arpa", "a..local",
    "lab_1.home.arpa", "b\xc3\xbc" "cher.local", "xn--.local",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *out = settle_scope_normalize (ok[i].input, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (out, ==, ok[i].canonical);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *out = settle_scope_normalize (bad[i], &error);
      if (out != NULL)
        g_error ("scope '%s' was accepted as '%s'", bad[i], out);
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
    }
  g_autoptr (GError) error = NULL;
  g_assert_null (settle_scope_normalize (NULL, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
}

static void
test_permits (void)
{
  static const char *const all[] = { "local", "home.arpa", "alt", NULL };
  static const char *const lab[] = { "lab.home.arpa", NULL };
  static const char *const two[] = { "printer.local", "lab.home.arpa", NULL };
  static const char *const empty[] = { NULL };
  static const struct {
    const char *const *scope;
    const char *name;
    gboolean permitted;
  } cases[] = {
    { all, "printer.local", TRUE },
    { all, "local", TRUE },
    { all, "router.home.arpa", TRUE },
    { all, "hub.alt", TRUE },
    { all, "evil.com.local", TRUE },
    { all, "*.printer.local", TRUE },
    { all, "xlocal", FALSE },
    { all, "printer.xlocal", FALSE },
    { all, "homearpa", FALSE },
    { all, "xhome.arpa", FALSE },
    { all, "arpa", FALSE },
    { all, "bank.example", FALSE },
    { all, "local.evil.com", FALSE },
    { all, "", FALSE },
    { lab, "lab.home.arpa", TRUE },
    { lab, "x.lab.home.arpa", TRUE },
    { lab, "a.b.lab.home.arpa", TRUE },
    { lab, "*.lab.home.arpa", TRUE },
    { lab, "other.home.arpa", FALSE },
    { lab, "xlab.home.arpa", FALSE },
    { lab, "home.arpa", FALSE },
    { lab, "lab.home.arpa.local", FALSE },
    { two, "printer.local", TRUE },
    { two, "www.printer.local", TRUE },
    { two, "scanner.local", FALSE },
    { two, "nas.lab.home.arpa", TRUE },
    { empty, "printer.local", FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    if (settle_scope_permits (cases[i].scope, cases[i].name) != cases[i].permitted)
      g_error ("permits('%s') should be %s", cases[i].name, cases[i].permitted ? "TRUE" : "FALSE");
  g_assert_false (settle_scope_permits (NULL, "printer.local"));
  g_assert_false (settle_scope_permits (all, NULL));
}

static void
test_in_namespaces (void)
{
  g_assert_true (settle_name_in_namespaces ("local"));
  g_assert_true (settle_name_in_namespaces ("home.arpa"));
  g_assert_true (settle_name_in_namespaces ("printer.alt"));
  g_assert_false (settle_name_in_namespaces ("arpa"));
  g_assert_false (settle_name_in_namespaces ("xalt"));
  g_assert_false (settle_name_in_namespaces ("local.example"));
  g_assert_false (settle_name_in_namespaces (NULL));
}

/* One device's CA never gets a whole namespace without --referee. */
static void
test_single_device (void)
{
  static const char *const fine[] = { "printer.local", "lab.home.arpa", "x.alt", NULL };
  g_assert_true (settle_scope_check_single_device (fine, NULL));
  static const char *const namespaces[] = { "local", "home.arpa", "alt" };
  for (gsize i = 0; i < G_N_ELEMENTS (namespaces); i++)
    {
      const char *scope[] = { "printer.local", namespaces[i], NULL };
      g_autoptr (GError) error = NULL;
      g_assert_false (settle_scope_check_single_device (scope, &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
      g_assert_nonnull (strstr (error->message, "--referee"));
    }
}

/* A referee met in a pairing: its declared subtrees, never a whole
 * namespace unless typed; the user may narrow, never widen. */
static void
test_approve_referee (void)
{
  static const char *const lab[] = { "lab.home.arpa", NULL };
  static const char *const wide[] = { "home.arpa", NULL };
  static const char *const printer[] = { "printer.lab.home.arpa", NULL };
  g_autoptr (GError) error = NULL;

  g_auto (GStrv) declared = settle_scope_approve_referee (lab, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char *const *) declared, lab));
  g_auto (GStrv) narrowed = settle_scope_approve_referee (lab, printer, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char *const *) narrowed, printer));

  g_assert_null (settle_scope_approve_referee (wide, NULL, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
  g_assert_nonnull (strstr (error->message, "--scope home.arpa"));
  g_clear_error (&error);
  g_auto (GStrv) typed = settle_scope_approve_referee (wide, wide, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char *const *) typed, wide));

  g_assert_null (settle_scope_approve_referee (lab, wide, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
  g_assert_nonnull (strstr (error->message, "never for more"));
  g_clear_error (&error);
  static const char *const none[] = { NULL };
  g_assert_null (settle_scope_approve_referee (none, NULL, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scope/names-accepted", test_names_accepted);
  g_test_add_func ("/scope/names-refused", test_names_refused);
  g_test_add_func ("/scope/non-ascii-message", test_non_ascii_message_names_a_label);
  g_test_add_func ("/scope/wildcards", test_wildcards);
  g_test_add_func ("/scope/lengths", test_lengths);
  g_test_add_func ("/scope/scopes", test_scopes);
  g_test_add_func ("/scope/permits", test_permits);
  g_test_add_func ("/scope/in-namespaces", test_in_namespaces);
  g_test_add_func ("/scope/single-device", test_single_device);
  g_test_add_func ("/scope/approve-referee", test_approve_referee);
  return g_test_run ();
}
