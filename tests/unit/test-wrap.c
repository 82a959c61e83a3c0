/* test-wrap.c: the name-constraint wrapping, checked by real verification:
 * OpenSSL's X509_verify_cert in process and the `openssl verify` command,
 * with R as the only trust anchor and C as an untrusted intermediate. */
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "settle-error.h"
#include "settle-wrap.h"
#include "unit-certs.h"


/* ---- test certificate maker ------------------------------------------- */

/* A device CA.  `basic` is its basicConstraints; with_skid FALSE makes one
 * without subjectKeyIdentifier (C must then compute the RFC 5280 one). */
static TestCert
make_ca_full (const char *basic, gboolean with_skid)
{
  TestCert ca = { NULL, EVP_EC_gen ("P-256") };
  g_assert_nonnull (ca.key);
  ca.cert = test_cert_body_new ("Printer Device CA", ca.key, NULL, -DAY, 365 * DAY);
  test_cert_add_ext (ca.cert, ca.cert, NID_basic_constraints, basic);
  test_cert_add_ext (ca.cert, ca.cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (with_skid)
    test_cert_add_ext (ca.cert, ca.cert, NID_subject_key_identifier, "hash");
  g_assert_cmpint (X509_sign (ca.cert, ca.key, EVP_sha256 ()), >, 0);
  return ca;
}

static TestCert
make_ca (void)
{
  return make_ca_full ("critical,CA:TRUE", TRUE);
}

/* Issuing software that computes key ids itself (RFC 5280 method 1) puts
 * one in the leaf even when the CA certificate carries no SKID. */
static void
add_method1_akid (X509 *leaf, X509 *ca)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len;
  g_assert_true (X509_pubkey_digest (ca, EVP_sha1 (), md, &len));
  AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new ();
  akid->keyid = ASN1_OCTET_STRING_new ();
  ASN1_OCTET_STRING_set (akid->keyid, md, (int) len);
  g_assert_cmpint (X509_add1_ext_i2d (leaf, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT), ==, 1);
  AUTHORITY_KEYID_free (akid);
}

/* A leaf issued by `ca` with subjectAltName `san` (NULL: CN only). */
static TestCert
make_leaf (const TestCert *ca, const char *cn, const char *san)
{
  TestCert leaf = { NULL, EVP_EC_gen ("P-256") };
  g_assert_nonnull (leaf.key);
  leaf.cert = test_cert_body_new (cn, leaf.key, ca->cert, -DAY, 30 * DAY);
  test_cert_add_ext (leaf.cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE");
  test_cert_add_ext (leaf.cert, ca->cert, NID_key_usage, "critical,digitalSignature");
  test_cert_add_ext (leaf.cert, ca->cert, NID_ext_key_usage, "serverAuth");
  test_cert_add_ext (leaf.cert, ca->cert, NID_subject_key_identifier, "hash");
  if (X509_get0_subject_key_id (ca->cert) != NULL)
    test_cert_add_ext (leaf.cert, ca->cert, NID_authority_key_identifier, "keyid:always");
  else
    add_method1_akid (leaf.cert, ca->cert);
  if (san)
    test_cert_add_ext (leaf.cert, ca->cert, NID_subject_alt_name, san);
  g_assert_cmpint (X509_sign (leaf.cert, ca->key, EVP_sha256 ()), >, 0);
  return leaf;
}

/* ---- verification ------------------------------------------------------- */

/* X509_V_OK or the verification error, with R the only anchor and C an
 * untrusted intermediate, under strict X.509 checks. */
static int
verify_leaf (const SettleWrapped *wrapped, X509 *leaf)
{
  X509_STORE *store = X509_STORE_new ();
  g_assert_true (X509_STORE_add_cert (store, wrapped->root));
  X509_VERIFY_PARAM *param = X509_STORE_get0_param (store);
  X509_VERIFY_PARAM_set_flags (param, X509_V_FLAG_X509_STRICT);
  STACK_OF (X509) *untrusted = sk_X509_new_null ();
  sk_X509_push (untrusted, wrapped->cross);
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  g_assert_true (X509_STORE_CTX_init (ctx, store, leaf, untrusted));
  X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
  int ok = X509_verify_cert (ctx);
  int result = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error (ctx);
  if (ok == 1)
    g_assert_cmpint (sk_X509_num (X509_STORE_CTX_get0_chain (ctx)), ==, 3);
  X509_STORE_CTX_free (ctx);
  sk_X509_free (untrusted);
  X509_STORE_free (store);
  return result;
}

static void
wrap_or_die (X509 *ca, const char *const *scope, SettleWrapped *out)
{
  g_autoptr (GError) error = NULL;
  if (!settle_wrap_ca (ca, scope, "Printer", out, &error))
    g_error ("wrapping failed: %s", error->message);
  g_assert_nonnull (out->root);
  g_assert_nonnull (out->cross);
}

static const char *const all_namespaces[] = { "local", "home.arpa", "alt", NULL };

typedef struct {
  const char *cn;
  const char *san;
  int expected;
} LeafCase;

static void
check_leaf_cases (const char *const *scope, const LeafCase *cases, gsize n)
{
  TestCert ca = make_ca ();
  SettleWrapped wrapped = { 0 };
  wrap_or_die (ca.cert, scope, &wrapped);
  for (gsize i = 0; i < n; i++)
    {
      TestCert leaf = make_leaf (&ca, cases[i].cn, cases[i].san);
      int got = verify_leaf (&wrapped, leaf.cert);
      if (got != cases[i].expected)
        g_error ("leaf %s / %s: got '%s', expected '%s'", cases[i].cn,
                 cases[i].san ? cases[i].san : "(no SAN)", X509_verify_cert_error_string (got),
                 X509_verify_cert_error_string (cases[i].expected));
      test_cert_clear (&leaf);
    }
  settle_wrapped_clear (&wrapped);
  test_cert_clear (&ca);
}

static void
test_constraints_all_namespaces (void)
{
  static const LeafCase cases[] = {
    { "printer.local", "DNS:printer.local", X509_V_OK },
    { "router", "DNS:router.home.arpa", X509_V_OK },
    { "hub", "DNS:hub.alt,DNS:www.hub.alt", X509_V_OK },
    { "evil", "DNS:evil.com.local", X509_V_OK },
    { "printer.local", NULL, X509_V_OK },
    { "bank", "DNS:bank.example", X509_V_ERR_PERMITTED_VIOLATION },
    { "bank", "DNS:local.evil.com", X509_V_ERR_PERMITTED_VIOLATION },
    { "bank", "DNS:xlocal", X509_V_ERR_PERMITTED_VIOLATION },
    { "mixed", "DNS:printer.local,DNS:bank.example", X509_V_ERR_PERMITTED_VIOLATION },
    { "bank.example", NULL, X509_V_ERR_PERMITTED_VIOLATION },
    { "ip", "IP:8.8.8.8", X509_V_ERR_EXCLUDED_VIOLATION },
    { "ip", "IP:192.168.1.10", X509_V_ERR_EXCLUDED_VIOLATION },
    { "ip", "IP:::1", X509_V_ERR_EXCLUDED_VIOLATION },
    { "ip", "DNS:printer.local,IP:127.0.0.1", X509_V_ERR_EXCLUDED_VIOLATION },
  };
  check_leaf_cases (all_namespaces, cases, G_N_ELEMENTS (cases));
}

static void
test_constraints_narrow_scope (void)
{
  static const char *const lab[] = { "lab.home.arpa", NULL };
  static const LeafCase cases[] = {
    { "x", "DNS:x.lab.home.arpa", X509_V_OK },
    { "x", "DNS:lab.home.arpa", X509_V_OK },
    { "x", "DNS:other.home.arpa", X509_V_ERR_PERMITTED_VIOLATION },
    { "x", "DNS:xlab.home.arpa", X509_V_ERR_PERMITTED_VIOLATION },
    { "x", "DNS:printer.local", X509_V_ERR_PERMITTED_VIOLATION },
    { "x", "IP:10.0.0.1", X509_V_ERR_EXCLUDED_VIOLATION },
  };
  check_leaf_cases (lab, cases, G_N_ELEMENTS (cases));
}

/* ---- the certificates themselves --------------------------------------- */

static NAME_CONSTRAINTS *
critical_name_constraints (X509 *cert)
{
  int idx = X509_get_ext_by_NID (cert, NID_name_constraints, -1);
  g_assert_cmpint (idx, >=, 0);
  g_assert_true (X509_EXTENSION_get_critical (X509_get_ext (cert, idx)));
  int crit = 0;
  NAME_CONSTRAINTS *nc = X509_get_ext_d2i (cert, NID_name_constraints, &crit, NULL);
  g_assert_nonnull (nc);
  return nc;
}

static void
assert_constraints (X509 *cert, const char *const *scope)
{
  NAME_CONSTRAINTS *nc = critical_name_constraints (cert);
  guint n = g_strv_length ((char **) scope);
  /* The scope's dNSNames, then mailboxes and URIs confined to .invalid. */
  g_assert_cmpint (sk_GENERAL_SUBTREE_num (nc->permittedSubtrees), ==, (int) n + 2);
  for (guint i = 0; i < n; i++)
    {
      GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value (nc->permittedSubtrees, (int) i);
      g_assert_cmpint (st->base->type, ==, GEN_DNS);
      g_assert_cmpmem (ASN1_STRING_get0_data (st->base->d.dNSName),
                       ASN1_STRING_length (st->base->d.dNSName), scope[i], strlen (scope[i]));
    }
  static const int nowhere_types[] = { GEN_EMAIL, GEN_URI };
  for (guint i = 0; i < 2; i++)
    {
      GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value (nc->permittedSubtrees, (int) (n + i));
      g_assert_cmpint (st->base->type, ==, nowhere_types[i]);
      g_assert_cmpmem (ASN1_STRING_get0_data (st->base->d.ia5), ASN1_STRING_length (st->base->d.ia5),
                       ".invalid", 8);
    }
  /* TLS server authentication and nothing else. */
  g_assert_cmpuint (X509_get_extended_key_usage (cert), ==, XKU_SSL_SERVER);
  static const unsigned char zeros[32] = { 0 };
  g_assert_cmpint (sk_GENERAL_SUBTREE_num (nc->excludedSubtrees), ==, 2);
  for (int i = 0; i < 2; i++)
    {
      GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value (nc->excludedSubtrees, i);
      g_assert_cmpint (st->base->type, ==, GEN_IPADD);
      g_assert_cmpmem (ASN1_STRING_get0_data (st->base->d.iPAddress),
                       ASN1_STRING_length (st->base->d.iPAddress), zeros, i == 0 ? 8 : 32);
    }
  NAME_CONSTRAINTS_free (nc);
}

static void
assert_same_octets (const ASN1_OCTET_STRING *a, const ASN1_OCTET_STRING *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (ASN1_OCTET_STRING_cmp (a, b), ==, 0);
}

static char *
fingerprint_prefix (X509 *cert)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len;
  g_assert_true (X509_digest (cert, EVP_sha256 (), md, &len));
  GString *hex = g_string_new (NULL);
  for (int i = 0; i < 8; i++)
    g_string_append_printf (hex, "%02x", md[i]);
  return g_string_free (hex, FALSE);
}

static void
test_certificate_fields (void)
{
  TestCert ca = make_ca ();
  SettleWrapped wrapped = { 0 };
  wrap_or_die (ca.cert, all_namespaces, &wrapped);
  X509 *root = wrapped.root, *cross = wrapped.cross;

  /* R: self-signed CA, critical constraints, subject naming the anchor. */
  g_assert_cmpint (X509_check_issued (root, root), ==, X509_V_OK);
  g_assert_cmpint (X509_verify (root, X509_get0_pubkey (root)), ==, 1);
  g_assert_cmpint (X509_check_ca (root), ==, 1);
  g_assert_cmpuint (X509_get_key_usage (root), ==, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  assert_constraints (root, all_namespaces);
  assert_constraints (cross, all_namespaces);
  char *subject = X509_NAME_oneline (X509_get_subject_name (root), NULL, 0);
  g_autofree char *fp = fingerprint_prefix (ca.cert);
  g_assert_nonnull (strstr (subject, "O=SETTLE local trust"));
  g_assert_nonnull (strstr (subject, fp));
  g_assert_nonnull (strstr (subject, "Printer"));
  OPENSSL_free (subject);
  g_assert_true (EVP_PKEY_is_a (X509_get0_pubkey (root), "EC"));
  g_assert_cmpint (X509_get_signature_nid (root), ==, NID_ecdsa_with_SHA256);
  g_assert_cmpint (X509_get_signature_nid (cross), ==, NID_ecdsa_with_SHA256);

  /* C: the CA's subject, key and SKID; AKID pointing at R. */
  g_assert_cmpint (X509_NAME_cmp (X509_get_subject_name (cross), X509_get_subject_name (ca.cert)), ==, 0);
  g_assert_cmpint (X509_NAME_cmp (X509_get_issuer_name (cross), X509_get_subject_name (root)), ==, 0);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cross), X509_get0_pubkey (ca.cert)), ==, 1);
  g_assert_cmpint (X509_check_issued (root, cross), ==, X509_V_OK);
  g_assert_cmpint (X509_check_ca (cross), ==, 1);
  g_assert_cmpuint (X509_get_key_usage (cross), ==, KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  assert_same_octets (X509_get0_subject_key_id (cross), X509_get0_subject_key_id (ca.cert));
  assert_same_octets (X509_get0_authority_key_id (cross), X509_get0_subject_key_id (root));
  g_assert_null (X509_get0_authority_key_id (root));

  /* Validity: from an hour ago (not before the CA) to the CA's end. */
  g_assert_cmpint (ASN1_TIME_compare (X509_get0_notAfter (root), X509_get0_notAfter (ca.cert)), ==, 0);
  g_assert_cmpint (ASN1_TIME_compare (X509_get0_notAfter (cross), X509_get0_notAfter (ca.cert)), ==, 0);
  int days, secs;
  g_assert_true (ASN1_TIME_diff (&days, &secs, NULL, X509_get0_notBefore (root)));
  g_assert_cmpint (days, ==, 0);
  g_assert_cmpint (secs, <=, -3590);
  g_assert_cmpint (secs, >=, -3610);

  /* Serials: 128 random bits, positive, different. */
  BIGNUM *r_serial = ASN1_INTEGER_to_BN (X509_get0_serialNumber (root), NULL);
  BIGNUM *c_serial = ASN1_INTEGER_to_BN (X509_get0_serialNumber (cross), NULL);
  g_assert_cmpint (BN_num_bits (r_serial), ==, 128);
  g_assert_cmpint (BN_num_bits (c_serial), ==, 128);
  g_assert_false (BN_is_negative (r_serial));
  g_assert_cmpint (BN_cmp (r_serial, c_serial), !=, 0);
  BN_free (r_serial);
  BN_free (c_serial);

  settle_wrapped_clear (&wrapped);
  g_assert_null (wrapped.root);
  g_assert_null (wrapped.cross);
  settle_wrapped_clear (&wrapped);
  test_cert_clear (&ca);
}

/* Two wraps of one CA never share a wrapper key: each R is throwaway. */
static void
test_fresh_key_each_time (void)
{
  TestCert ca = make_ca ();
  SettleWrapped a = { 0 }, b = { 0 };
  wrap_or_die (ca.cert, all_namespaces, &a);
  wrap_or_die (ca.cert, all_namespaces, &b);
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (a.root), X509_get0_pubkey (b.root)), !=, 1);
  /* C from one wrap does not chain to the other R. */
  TestCert leaf = make_leaf (&ca, "printer.local", "DNS:printer.local");
  SettleWrapped mixed = { a.root, b.cross };
  g_assert_cmpint (verify_leaf (&mixed, leaf.cert), !=, X509_V_OK);
  test_cert_clear (&leaf);
  settle_wrapped_clear (&a);
  settle_wrapped_clear (&b);
  test_cert_clear (&ca);
}

static void
test_ca_without_skid (void)
{
  TestCert ca = make_ca_full ("critical,CA:TRUE,pathlen:0", FALSE);
  g_assert_null (X509_get0_subject_key_id (ca.cert));
  SettleWrapped wrapped = { 0 };
  wrap_or_die (ca.cert, all_namespaces, &wrapped);

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len;
  g_assert_true (X509_pubkey_digest (ca.cert, EVP_sha1 (), md, &len));
  const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (wrapped.cross);
  g_assert_cmpmem (ASN1_STRING_get0_data (skid), ASN1_STRING_length (skid), md, len);
  /* The CA's pathlen:0 survives in C. */
  g_assert_cmpint (X509_get_pathlen (wrapped.cross), ==, 0);
  g_assert_cmpint (X509_get_pathlen (wrapped.root), ==, -1);

  TestCert leaf = make_leaf (&ca, "printer.local", "DNS:printer.local");
  g_assert_cmpint (verify_leaf (&wrapped, leaf.cert), ==, X509_V_OK);
  test_cert_clear (&leaf);
  settle_wrapped_clear (&wrapped);
  test_cert_clear (&ca);
}

static void
test_refusals (void)
{
  static const char *const empty[] = { NULL };
  static const char *const upper[] = { "LOCAL", NULL };
  static const char *const outside[] = { "local", "example.com", NULL };
  static const char *const wildcard[] = { "*.local", NULL };
  static const char *const dot[] = { "printer.local.", NULL };
  static const struct {
    const char *const *scope;
    const char *expected;
  } cases[] = {
    { NULL, "empty" }, { empty, "empty" }, { upper, "canonical" }, { outside, "outside" },
    { wildcard, "wildcard" }, { dot, "trailing dot" },
  };
  TestCert ca = make_ca ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      SettleWrapped wrapped = { 0 };
      g_assert_false (settle_wrap_ca (ca.cert, cases[i].scope, "x", &wrapped, &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE);
      if (strstr (error->message, cases[i].expected) == NULL)
        g_error ("'%s' does not mention '%s'", error->message, cases[i].expected);
      g_assert_null (wrapped.root);
      g_assert_null (wrapped.cross);
    }

  TestCert not_ca = make_ca_full ("critical,CA:FALSE", TRUE);
  g_autoptr (GError) error = NULL;
  SettleWrapped wrapped = { 0 };
  g_assert_false (settle_wrap_ca (not_ca.cert, all_namespaces, "x", &wrapped, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_null (wrapped.root);
  test_cert_clear (&not_ca);
  test_cert_clear (&ca);
}

/* A hostile label cannot break the subject or exceed the CN bound. */
static void
test_label_sanitised (void)
{
  TestCert ca = make_ca ();
  SettleWrapped wrapped = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (settle_wrap_ca (ca.cert, all_namespaces,
                                 "evil\n\x01 label \xff with a very long tail that goes on and on",
                                 &wrapped, &error));
  g_assert_no_error (error);
  X509_NAME *subject = X509_get_subject_name (wrapped.root);
  int idx = X509_NAME_get_index_by_NID (subject, NID_commonName, -1);
  ASN1_STRING *cn = X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, idx));
  g_assert_cmpint (ASN1_STRING_length (cn), <=, 64);
  const char *text = (const char *) ASN1_STRING_get0_data (cn);
  for (int i = 0; i < ASN1_STRING_length (cn); i++)
    g_assert_cmpint ((guchar) text[i], >=, 0x20);
  settle_wrapped_clear (&wrapped);

  g_assert_true (settle_wrap_ca (ca.cert, all_namespaces, NULL, &wrapped, &error));
  g_assert_no_error (error);
  settle_wrapped_clear (&wrapped);
  test_cert_clear (&ca);
}

/* ---- the openssl command -------------------------------------------------- */

static void
write_pem (const char *path, X509 *cert)
{
  BIO *bio = BIO_new_file (path, "w");
  g_assert_nonnull (bio);
  g_assert_true (PEM_write_bio_X509 (bio, cert));
  BIO_free (bio);
}

/* Runs `openssl verify -CAfile R -untrusted C leaf`; returns its output
 * (owned) and whether it exited 0. */
static char *
openssl_verify (const char *openssl, const char *dir, gboolean *passed)
{
  g_autofree char *root = g_build_filename (dir, "root.pem", NULL);
  g_autofree char *cross = g_build_filename (dir, "cross.pem", NULL);
  g_autofree char *leaf = g_build_filename (dir, "leaf.pem", NULL);
  const char *argv[] = { openssl, "verify", "-CAfile", root, "-untrusted", cross, leaf, NULL };
  char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  *passed = g_spawn_check_wait_status (status, NULL);
  char *all = g_strconcat (out, err, NULL);
  g_free (out);
  g_free (err);
  return all;
}

static void
test_openssl_cli (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  if (openssl == NULL)
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("the openssl command is missing (CI must install it)");
      g_test_skip ("openssl command not installed");
      return;
    }
  static const struct {
    const char *san;
    const char *expected;  /* NULL: must pass */
  } cases[] = {
    { "DNS:printer.local", NULL },
    { "DNS:bank.example", "permitted subtree violation" },
    { "DNS:printer.local,DNS:bank.example", "permitted subtree violation" },
    { "IP:8.8.8.8", "excluded subtree violation" },
    { "IP:::1", "excluded subtree violation" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_assert_no_error (error);
  g_autofree char *root_path = g_build_filename (dir, "root.pem", NULL);
  g_autofree char *cross_path = g_build_filename (dir, "cross.pem", NULL);
  g_autofree char *leaf_path = g_build_filename (dir, "leaf.pem", NULL);

  TestCert ca = make_ca ();
  SettleWrapped wrapped = { 0 };
  wrap_or_die (ca.cert, all_namespaces, &wrapped);
  write_pem (root_path, wrapped.root);
  write_pem (cross_path, wrapped.cross);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestCert leaf = make_leaf (&ca, "device", cases[i].san);
      write_pem (leaf_path, leaf.cert);
      gboolean passed;
      g_autofree char *output = openssl_verify (openssl, dir, &passed);
      if (cases[i].expected == NULL)
        {
          if (!passed || strstr (output, ": OK") == NULL)
            g_error ("openssl verify refused %s: %s", cases[i].san, output);
        }
      else if (passed || strstr (output, cases[i].expected) == NULL)
        g_error ("openssl verify of %s: expected '%s', got: %s", cases[i].san, cases[i].expected, output);
      test_cert_clear (&leaf);
    }
  /* With another anchor in place of R, C alone vouches for nothing. */
  TestCert other_ca = make_ca ();
  write_pem (root_path, other_ca.cert);
  TestCert leaf = make_leaf (&ca, "device", "DNS:printer.local");
  write_pem (leaf_path, leaf.cert);
  gboolean passed;
  g_autofree char *output = openssl_verify (openssl, dir, &passed);
  g_assert_false (passed);
  test_cert_clear (&leaf);
  test_cert_clear (&other_ca);

  g_unlink (root_path);
  g_unlink (cross_path);
  g_unlink (leaf_path);
  g_rmdir (dir);
  settle_wrapped_clear (&wrapped);
  test_cert_clear (&ca);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wrap/constraints/all-namespaces", test_constraints_all_namespaces);
  g_test_add_func ("/wrap/constraints/narrow-scope", test_constraints_narrow_scope);
  g_test_add_func ("/wrap/certificate-fields", test_certificate_fields);
  g_test_add_func ("/wrap/fresh-key-each-time", test_fresh_key_each_time);
  g_test_add_func ("/wrap/ca-without-skid", test_ca_without_skid);
  g_test_add_func ("/wrap/refusals", test_refusals);
  g_test_add_func ("/wrap/label-sanitised", test_label_sanitised);
  g_test_add_func ("/wrap/openssl-cli", test_openssl_cli);
  return g_test_run ();
}
