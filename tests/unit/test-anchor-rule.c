/* test-anchor-rule.c: the names part of the scope rule for a pinned peer
 * (settle_anchor_rule_peer_names, lib/x509/anchor-rule.c), which the
 * snapshot writer, the provider, the module and the helper's
 * settle_peer_check all go through: the verdict, the offending name, and
 * the fragment the writer and the provider print. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "settle-anchor-rule.h"
#include "unit-certs.h"

/* A self-signed end-entity that passes every other part of the rule,
 * with subjectAltName `san` (config syntax; NULL: none). */
static TestCert
make_peer (const char *san)
{
  TestCert tc = { NULL, EVP_EC_gen ("P-256") };
  g_assert_nonnull (tc.key);
  tc.cert = test_cert_body_new ("peer", tc.key, NULL, -DAY, DAY);
  test_cert_add_ext (tc.cert, tc.cert, NID_basic_constraints, "critical,CA:FALSE");
  test_cert_add_ext (tc.cert, tc.cert, NID_ext_key_usage, "serverAuth");
  if (san != NULL)
    test_cert_add_ext (tc.cert, tc.cert, NID_subject_alt_name, san);
  g_assert_cmpint (X509_sign (tc.cert, tc.key, EVP_sha256 ()), >, 0);
  return tc;
}

static void
test_accepted (void)
{
  static const char *const sans[] = {
    "DNS:printer.local", "DNS:printer.local,DNS:www.printer.local", "DNS:Router.Home.Arpa",
    "DNS:*.printer.local", "DNS:hub.alt,DNS:hub.home.arpa", "DNS:xn--prnter-4va.local",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (sans); i++)
    {
      TestCert peer = make_peer (sans[i]);
      char name[256] = "unchanged", why[160] = "";
      g_assert_cmpint (settle_anchor_rule_peer_names (peer.cert, NULL, NULL, name, sizeof name), ==,
                       SETTLE_PEER_NAMES_OK);
      g_assert_cmpstr (name, ==, "");
      if (!settle_anchor_rule_check (SETTLE_SNAP_PEER, peer.cert, why, sizeof why))
        g_error ("%s refused: %s", sans[i], why);
      test_cert_clear (&peer);
    }
}

static void
test_refused (void)
{
  static const struct {
    const char *san;
    settle_peer_names_verdict verdict;
    const char *name;   /* the offending name reported */
    const char *why;    /* in settle_anchor_rule_check's fragment */
  } cases[] = {
    { NULL, SETTLE_PEER_NAMES_NONE, "", "no DNS subjectAltName" },
    { "email:a@b.local", SETTLE_PEER_NAMES_NOT_DNS, "", "not a DNS name" },
    { "DNS:printer.local,URI:https://bank.example/", SETTLE_PEER_NAMES_NOT_DNS, "", "not a DNS name" },
    { "IP:192.168.1.10", SETTLE_PEER_NAMES_IP_ADDRESS, "", "IP address" },
    { "DNS:printer.local,IP:::1", SETTLE_PEER_NAMES_IP_ADDRESS, "", "IP address" },
    { "DNS:bank.example", SETTLE_PEER_NAMES_OUTSIDE, "bank.example", "outside local, home.arpa and alt ('bank.example')" },
    { "DNS:printer.local,DNS:printer.localhost", SETTLE_PEER_NAMES_OUTSIDE, "printer.localhost", "outside" },
    { "DNS:local", SETTLE_PEER_NAMES_NAMESPACE, "local", "whole namespace" },
    { "DNS:home.arpa", SETTLE_PEER_NAMES_NAMESPACE, "home.arpa", "whole namespace" },
    { "DNS:*.local", SETTLE_PEER_NAMES_NAMESPACE, "*.local", "whole namespace" },
    { "DNS:*.alt", SETTLE_PEER_NAMES_NAMESPACE, "*.alt", "whole namespace" },
    { "DNS:.printer.local", SETTLE_PEER_NAMES_SYNTAX, ".printer.local", "not a valid host name" },
    { "DNS:printer.local.", SETTLE_PEER_NAMES_SYNTAX, "printer.local.", "not a valid host name" },
    { "DNS:printer_1.local", SETTLE_PEER_NAMES_SYNTAX, "printer_1.local", "not a valid host name" },
    { "DNS:*printer.local", SETTLE_PEER_NAMES_SYNTAX, "*printer.local", "not a valid host name" },
    { "DNS:*.*.printer.local", SETTLE_PEER_NAMES_SYNTAX, "*.*.printer.local", "not a valid host name" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestCert peer = make_peer (cases[i].san);
      char name[256] = "unchanged", why[160] = "";
      settle_peer_names_verdict verdict = settle_anchor_rule_peer_names (peer.cert, NULL, NULL, name,
                                                                         sizeof name);
      if (verdict != cases[i].verdict || strcmp (name, cases[i].name) != 0)
        g_error ("case %zu (%s): verdict %d name '%s', expected %d '%s'", i, cases[i].san, verdict, name,
                 cases[i].verdict, cases[i].name);
      g_assert_false (settle_anchor_rule_check (SETTLE_SNAP_PEER, peer.cert, why, sizeof why));
      if (strstr (why, cases[i].why) == NULL)
        g_error ("case %zu: '%s' does not say '%s'", i, why, cases[i].why);
      test_cert_clear (&peer);
    }
}

/* A dNSName with an embedded NUL must not read as its shorter prefix. */
static void
test_embedded_nul (void)
{
  TestCert peer = make_peer (NULL);
  GENERAL_NAMES *names = GENERAL_NAMES_new ();
  GENERAL_NAME *gn = GENERAL_NAME_new ();
  ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();
  ASN1_STRING_set (dns, "printer.local\0.bank.example", 27);
  GENERAL_NAME_set0_value (gn, GEN_DNS, dns);
  sk_GENERAL_NAME_push (names, gn);
  X509_add1_ext_i2d (peer.cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free (names);
  g_assert_cmpint (X509_sign (peer.cert, peer.key, EVP_sha256 ()), >, 0);

  g_assert_cmpint (settle_anchor_rule_peer_names (peer.cert, NULL, NULL, NULL, 0), ==,
                   SETTLE_PEER_NAMES_MALFORMED);
  char why[160] = "";
  g_assert_false (settle_anchor_rule_check (SETTLE_SNAP_PEER, peer.cert, why, sizeof why));
  g_assert_nonnull (strstr (why, "malformed DNS name"));
  test_cert_clear (&peer);
}

typedef struct {
  int calls;
  const char *refuse;
} JudgeLog;

static int
judge (const char *name, void *data)
{
  JudgeLog *log = data;
  log->calls++;
  return log->refuse == NULL || strcmp (name, log->refuse) != 0;
}

/* The caller's judge sees every dNSName that passed the rule, in order,
 * and its refusal is reported with the name; it never sees a name the
 * rule refused already. */
static void
test_judge (void)
{
  TestCert peer = make_peer ("DNS:a.local,DNS:b.local,DNS:c.local");
  JudgeLog log = { 0, NULL };
  char name[256];
  g_assert_cmpint (settle_anchor_rule_peer_names (peer.cert, judge, &log, name, sizeof name), ==,
                   SETTLE_PEER_NAMES_OK);
  g_assert_cmpint (log.calls, ==, 3);

  log = (JudgeLog) { 0, "b.local" };
  g_assert_cmpint (settle_anchor_rule_peer_names (peer.cert, judge, &log, name, sizeof name), ==,
                   SETTLE_PEER_NAMES_JUDGE);
  g_assert_cmpstr (name, ==, "b.local");
  g_assert_cmpint (log.calls, ==, 2);
  test_cert_clear (&peer);

  peer = make_peer ("DNS:bank.example,DNS:a.local");
  log = (JudgeLog) { 0, NULL };
  g_assert_cmpint (settle_anchor_rule_peer_names (peer.cert, judge, &log, name, 4), ==,
                   SETTLE_PEER_NAMES_OUTSIDE);
  g_assert_cmpstr (name, ==, "ban");   /* truncated to the caller's buffer */
  g_assert_cmpint (log.calls, ==, 0);
  test_cert_clear (&peer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/anchor-rule/peer-names/accepted", test_accepted);
  g_test_add_func ("/anchor-rule/peer-names/refused", test_refused);
  g_test_add_func ("/anchor-rule/peer-names/embedded-nul", test_embedded_nul);
  g_test_add_func ("/anchor-rule/peer-names/judge", test_judge);
  return g_test_run ();
}
