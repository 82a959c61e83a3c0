/* test-cert.c: parsing certificates, the CA check and the pinned-peer check,
 * against certificates made here with OpenSSL (fresh keys every run). */
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "settle-anchor-rule.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "unit-certs.h"


/* ---- test certificate maker ------------------------------------------- */

typedef struct {
  const char *key;        /* "P-256", "P-384", "P-521", "secp256k1", "RSA-2048", "RSA-1024", "ED25519", "ED448" */
  const char *cn;
  const char *basic;      /* basicConstraints in openssl config syntax, NULL: none */
  const char *key_usage;  /* NULL: none */
  const char *san;        /* subjectAltName in config syntax, NULL: none */
  long not_before;        /* seconds from now */
  long not_after;
} CertSpec;

static EVP_PKEY *
make_key (const char *kind)
{
  EVP_PKEY *key;
  if (strcmp (kind, "RSA-2048") == 0)
    key = EVP_RSA_gen (2048);
  else if (strcmp (kind, "RSA-1024") == 0)
    key = EVP_RSA_gen (1024);
  else if (strcmp (kind, "ED25519") == 0 || strcmp (kind, "ED448") == 0)
    key = EVP_PKEY_Q_keygen (NULL, NULL, kind);
  else
    key = EVP_EC_gen (kind);
  g_assert_nonnull (key);
  return key;
}

/* A certificate for `spec`, signed by `issuer` or self-signed when NULL. */
static TestCert
make_cert (const CertSpec *spec, const TestCert *issuer)
{
  TestCert tc = { NULL, make_key (spec->key) };
  tc.cert = test_cert_body_new (spec->cn, tc.key, issuer ? issuer->cert : NULL, spec->not_before,
                                spec->not_after);
  X509 *signer = issuer ? issuer->cert : tc.cert;
  EVP_PKEY *signer_key = issuer ? issuer->key : tc.key;
  if (spec->basic)
    test_cert_add_ext (tc.cert, signer, NID_basic_constraints, spec->basic);
  if (spec->key_usage)
    test_cert_add_ext (tc.cert, signer, NID_key_usage, spec->key_usage);
  test_cert_add_ext (tc.cert, signer, NID_subject_key_identifier, "hash");
  if (issuer)
    test_cert_add_ext (tc.cert, signer, NID_authority_key_identifier, "keyid:always");
  if (spec->san)
    test_cert_add_ext (tc.cert, signer, NID_subject_alt_name, spec->san);
  /* A server certificate says so, as a pinned peer must (settle-anchor-rule.h). */
  if (spec->san != NULL && (spec->basic == NULL || strstr (spec->basic, "CA:TRUE") == NULL))
    test_cert_add_ext (tc.cert, signer, NID_ext_key_usage, "serverAuth");
  const EVP_MD *md = EVP_PKEY_is_a (signer_key, "ED25519") || EVP_PKEY_is_a (signer_key, "ED448")
                       ? NULL : EVP_sha256 ();
  g_assert_cmpint (X509_sign (tc.cert, signer_key, md), >, 0);
  return tc;
}

/* A valid CA with key `key`. */
static TestCert
make_ca (const char *key)
{
  CertSpec spec = { key, "Test Device CA", "critical,CA:TRUE", "critical,keyCertSign,cRLSign",
                    NULL, -DAY, 365 * DAY };
  return make_cert (&spec, NULL);
}

/* A valid self-signed leaf with the given SANs. */
static TestCert
make_leaf (const char *san)
{
  CertSpec spec = { "P-256", "printer.local", "critical,CA:FALSE", "critical,digitalSignature",
                    san, -DAY, 365 * DAY };
  return make_cert (&spec, NULL);
}

/* ---- parsing ------------------------------------------------------------ */

static GBytes *
to_pem (X509 *cert)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  g_assert_true (PEM_write_bio_X509 (bio, cert));
  char *data;
  long len = BIO_get_mem_data (bio, &data);
  GBytes *bytes = g_bytes_new (data, (gsize) len);
  BIO_free (bio);
  return bytes;
}

static void
assert_same_cert (X509 *a, X509 *b)
{
  g_assert_cmpint (X509_cmp (a, b), ==, 0);
}

static void
test_parse_pem_and_der (void)
{
  TestCert ca = make_ca ("P-256");
  g_autoptr (GBytes) der = settle_cert_to_der (ca.cert);
  g_autoptr (GBytes) pem = to_pem (ca.cert);
  g_autoptr (GError) error = NULL;

  X509 *from_der = settle_cert_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &error);
  g_assert_no_error (error);
  assert_same_cert (from_der, ca.cert);
  X509 *from_pem = settle_cert_parse (g_bytes_get_data (pem, NULL), g_bytes_get_size (pem), &error);
  g_assert_no_error (error);
  assert_same_cert (from_pem, ca.cert);

  /* PEM with leading whitespace, as pasted from a terminal. */
  g_autofree char *padded = g_strdup_printf ("\n  %.*s", (int) g_bytes_get_size (pem),
                                             (const char *) g_bytes_get_data (pem, NULL));
  X509 *from_padded = settle_cert_parse ((const guint8 *) padded, strlen (padded), &error);
  g_assert_no_error (error);
  assert_same_cert (from_padded, ca.cert);

  X509_free (from_der);
  X509_free (from_pem);
  X509_free (from_padded);
  test_cert_clear (&ca);
}

static void
assert_parse_fails (const guint8 *data, gsize len, const char *expected)
{
  g_autoptr (GError) error = NULL;
  X509 *cert = settle_cert_parse (data, len, &error);
  g_assert_null (cert);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  if (strstr (error->message, expected) == NULL)
    g_error ("message '%s' does not mention '%s'", error->message, expected);
}

static void
test_parse_refusals (void)
{
  TestCert ca = make_ca ("P-256");
  g_autoptr (GBytes) der = settle_cert_to_der (ca.cert);
  g_autoptr (GBytes) pem = to_pem (ca.cert);
  gsize der_len = g_bytes_get_size (der);

  assert_parse_fails (NULL, 0, "empty");
  assert_parse_fails ((const guint8 *) "hello", 5, "neither");
  static const char bad_pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  assert_parse_fails ((const guint8 *) bad_pem, strlen (bad_pem), "no readable");

  g_autofree guint8 *trailing = g_malloc (der_len + 3);
  memcpy (trailing, g_bytes_get_data (der, NULL), der_len);
  memcpy (trailing + der_len, "xyz", 3);
  assert_parse_fails (trailing, der_len + 3, "extra bytes");
  assert_parse_fails (g_bytes_get_data (der, NULL), der_len - 1, "neither");

  g_autofree char *two = g_strdup_printf ("%.*s%.*s", (int) g_bytes_get_size (pem),
                                          (const char *) g_bytes_get_data (pem, NULL),
                                          (int) g_bytes_get_size (pem),
                                          (const char *) g_bytes_get_data (pem, NULL));
  assert_parse_fails ((const guint8 *) two, strlen (two), "more than one");

  g_autofree guint8 *huge = g_malloc0 (1024 * 1024);
  assert_parse_fails (huge, 1024 * 1024, "too large");
  test_cert_clear (&ca);
}

static void
test_load_file (void)
{
  TestCert ca = make_ca ("P-256");
  g_autoptr (GBytes) pem = to_pem (ca.cert);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "ca.pem", NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (pem, NULL), (gssize) g_bytes_get_size (pem), &error));

  X509 *loaded = settle_cert_load_file (path, &error);
  g_assert_no_error (error);
  assert_same_cert (loaded, ca.cert);
  X509_free (loaded);

  g_autofree char *missing = g_build_filename (dir, "missing.pem", NULL);
  g_assert_null (settle_cert_load_file (missing, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_nonnull (strstr (error->message, "missing.pem"));
  g_clear_error (&error);

  /* A large file is refused after reading only the bound. */
  g_autofree char *big_path = g_build_filename (dir, "big.pem", NULL);
  g_autofree char *big = g_malloc0 (2 * 1024 * 1024);
  g_assert_true (g_file_set_contents (big_path, big, 2 * 1024 * 1024, &error));
  g_assert_null (settle_cert_load_file (big_path, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_nonnull (strstr (error->message, "too large"));

  g_unlink (path);
  g_unlink (big_path);
  g_rmdir (dir);
  test_cert_clear (&ca);
}

/* ---- the CA check ------------------------------------------------------- */

static void
test_ca_accepted (void)
{
  static const char *const keys[] = { "P-256", "P-384", "P-521", "RSA-2048", "ED25519" };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      TestCert ca = make_ca (keys[i]);
      g_autoptr (GError) error = NULL;
      if (!settle_ca_check (ca.cert, &error))
        g_error ("%s CA refused: %s", keys[i], error->message);
      test_cert_clear (&ca);
    }
  /* No keyUsage at all is fine: RFC 5280 leaves it optional. */
  CertSpec spec = { "P-256", "CA", "critical,CA:TRUE", NULL, NULL, -DAY, DAY };
  TestCert ca = make_cert (&spec, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (settle_ca_check (ca.cert, &error));
  g_assert_no_error (error);
  test_cert_clear (&ca);
}

static void
test_ca_refused (void)
{
  static const struct {
    CertSpec spec;
    const char *expected;
  } cases[] = {
    { { "P-256", "leaf", NULL, NULL, "DNS:printer.local", -DAY, DAY }, "not a CA" },
    { { "P-256", "leaf", "critical,CA:FALSE", NULL, NULL, -DAY, DAY }, "not a CA" },
    { { "P-256", "CA", "critical,CA:TRUE", "critical,digitalSignature", NULL, -DAY, DAY }, "keyUsage" },
    { { "P-256", "CA", "critical,CA:TRUE", NULL, NULL, -2 * DAY, -DAY }, "expired" },
    { { "P-256", "CA", "critical,CA:TRUE", NULL, NULL, DAY, 2 * DAY }, "not valid yet" },
    { { "RSA-1024", "CA", "critical,CA:TRUE", NULL, NULL, -DAY, DAY }, "1024-bit RSA" },
    { { "secp256k1", "CA", "critical,CA:TRUE", NULL, NULL, -DAY, DAY }, "secp256k1" },
    { { "ED448", "CA", "critical,CA:TRUE", NULL, NULL, -DAY, DAY }, "ED448" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestCert ca = make_cert (&cases[i].spec, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_false (settle_ca_check (ca.cert, &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
      if (strstr (error->message, cases[i].expected) == NULL)
        g_error ("case %zu: '%s' does not mention '%s'", i, error->message, cases[i].expected);
      test_cert_clear (&ca);
    }
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_ca_check (NULL, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
}

/* ---- the pinned-peer check ---------------------------------------------- */

static void
test_peer_accepted (void)
{
  static const char *const sans[] = {
    "DNS:printer.local", "DNS:printer.local,DNS:www.printer.local", "DNS:Router.Home.Arpa",
    "DNS:*.printer.local", "DNS:hub.alt,DNS:hub.home.arpa",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (sans); i++)
    {
      TestCert leaf = make_leaf (sans[i]);
      g_autoptr (GError) error = NULL;
      if (!settle_peer_check (leaf.cert, &error))
        g_error ("%s refused: %s", sans[i], error->message);
      test_cert_clear (&leaf);
    }
  CertSpec ed = { "ED25519", "x", "critical,CA:FALSE", NULL, "DNS:x.local", -DAY, DAY };
  TestCert leaf = make_cert (&ed, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (settle_peer_check (leaf.cert, &error));
  test_cert_clear (&leaf);
}

static void
test_peer_refused (void)
{
  static const struct {
    CertSpec spec;
    const char *expected;
  } cases[] = {
    { { "P-256", "printer.local", "CA:FALSE", NULL, NULL, -DAY, DAY }, "no DNS name" },
    /* Could issue in some verifier (settle-anchor-rule.h). */
    { { "P-256", "x", NULL, NULL, "DNS:printer.local", -DAY, DAY }, "no basicConstraints" },
    { { "P-256", "x", NULL, "keyCertSign", "DNS:printer.local", -DAY, DAY }, "no basicConstraints" },
    { { "P-256", "x", "CA:FALSE", "digitalSignature,keyCertSign", "DNS:printer.local", -DAY, DAY }, "keyUsage" },
    { { "P-256", "x", "CA:FALSE", "digitalSignature,cRLSign", "DNS:printer.local", -DAY, DAY }, "keyUsage" },
    /* Names of other forms than DNS. */
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local,email:ceo@bank.example", -DAY, DAY }, "not a DNS name" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local,URI:https://bank.example/", -DAY, DAY }, "not a DNS name" },
    { { "P-256", "x", "CA:FALSE", NULL, "email:a@b.local", -DAY, DAY }, "not a DNS name" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:bank.example", -DAY, DAY }, "outside" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local,DNS:bank.example", -DAY, DAY }, "outside" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:local", -DAY, DAY }, "namespace" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:*.local", -DAY, DAY }, "wildcard" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local.", -DAY, DAY }, "trailing dot" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer_1.local", -DAY, DAY }, "underscore" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local,IP:192.168.1.10", -DAY, DAY }, "IP address" },
    { { "P-256", "x", "CA:FALSE", NULL, "IP:::1", -DAY, DAY }, "IP address" },
    { { "P-256", "x", "critical,CA:TRUE", NULL, "DNS:printer.local", -DAY, DAY }, "is a CA" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local", -2 * DAY, -DAY }, "expired" },
    { { "P-256", "x", "CA:FALSE", NULL, "DNS:printer.local", DAY, 2 * DAY }, "not valid yet" },
    { { "RSA-1024", "x", "CA:FALSE", NULL, "DNS:printer.local", -DAY, DAY }, "1024-bit RSA" },
    { { "secp256k1", "x", "CA:FALSE", NULL, "DNS:printer.local", -DAY, DAY }, "secp256k1" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestCert leaf = make_cert (&cases[i].spec, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_false (settle_peer_check (leaf.cert, &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
      if (strstr (error->message, cases[i].expected) == NULL)
        g_error ("case %zu: '%s' does not mention '%s'", i, error->message, cases[i].expected);
      test_cert_clear (&leaf);
    }
}

/* A DNS SAN with an embedded NUL must not read as its shorter prefix. */
static void
test_peer_refuses_embedded_nul (void)
{
  TestCert leaf = make_leaf (NULL);
  GENERAL_NAMES *names = GENERAL_NAMES_new ();
  GENERAL_NAME *gn = GENERAL_NAME_new ();
  ASN1_IA5STRING *dns = ASN1_IA5STRING_new ();
  ASN1_STRING_set (dns, "printer.local\0.bank.example", 27);
  GENERAL_NAME_set0_value (gn, GEN_DNS, dns);
  sk_GENERAL_NAME_push (names, gn);
  X509_add1_ext_i2d (leaf.cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free (names);
  X509_sign (leaf.cert, leaf.key, EVP_sha256 ());

  g_autoptr (GError) error = NULL;
  g_assert_false (settle_peer_check (leaf.cert, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_auto (GStrv) listed = settle_cert_dns_names (leaf.cert);
  g_assert_cmpuint (g_strv_length (listed), ==, 0);
  test_cert_clear (&leaf);
}

/* Browsers take a pinned peer as an anchor, and mozilla::pkix lets a v1
 * anchor issue certificates: only v3 leaves may be pinned. */
static void
test_peer_refuses_v1 (void)
{
  TestCert leaf = make_leaf ("DNS:nas.local");
  g_assert_true (X509_set_version (leaf.cert, X509_VERSION_1));
  g_assert_cmpint (X509_sign (leaf.cert, leaf.key, EVP_sha256 ()), >, 0);

  g_autoptr (GError) error = NULL;
  g_assert_false (settle_peer_check (leaf.cert, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_nonnull (strstr (error->message, "version 3"));
  test_cert_clear (&leaf);
}

/* Extensions that make an end-entity certificate an issuer somewhere, or
 * that no server certificate needs: each alone makes a peer unpinnable. */
static void
test_peer_refuses_issuer_extensions (void)
{
  static const struct {
    int nid;
    const char *value;
    const char *expected;
  } cases[] = {
    { NID_name_constraints, "critical,permitted;DNS:nas.local", "nameConstraints" },
    { NID_netscape_cert_type, "server,sslCA", "Netscape" },
    /* A peer is trusted for TLS servers only: its certificate must say
     * serverAuth and nothing else (NSS would trust it as a client too). */
    { NID_ext_key_usage, "clientAuth", "other than serverAuth alone" },
    { NID_ext_key_usage, "serverAuth,clientAuth", "other than serverAuth alone" },
    { NID_ext_key_usage, "serverAuth,emailProtection", "other than serverAuth alone" },
    { NID_ext_key_usage, "serverAuth,codeSigning", "other than serverAuth alone" },
    { NID_ext_key_usage, "serverAuth,anyExtendedKeyUsage", "other than serverAuth alone" },
    { NID_undef, NULL, "no extendedKeyUsage" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestCert leaf = make_leaf ("DNS:nas.local");
      if (cases[i].nid == NID_ext_key_usage || cases[i].nid == NID_undef)
        X509_EXTENSION_free (X509_delete_ext (leaf.cert, X509_get_ext_by_NID (leaf.cert, NID_ext_key_usage, -1)));
      if (cases[i].nid != NID_undef)
        test_cert_add_ext (leaf.cert, leaf.cert, cases[i].nid, cases[i].value);
      g_assert_cmpint (X509_sign (leaf.cert, leaf.key, EVP_sha256 ()), >, 0);
      g_autoptr (GError) error = NULL;
      g_assert_false (settle_peer_check (leaf.cert, &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
      if (strstr (error->message, cases[i].expected) == NULL)
        g_error ("case %zu: '%s' does not mention '%s'", i, error->message, cases[i].expected);
      test_cert_clear (&leaf);
    }
}

/* The trust block the snapshot and the provider append is exactly what
 * OpenSSL writes for "trusted for serverAuth", and OpenSSL reads it back as
 * trusted for TLS servers and rejected for S/MIME and TLS clients. */
static void
test_openssl_trust_block (void)
{
  TestCert leaf = make_leaf ("DNS:nas.local");
  unsigned char *plain = NULL, *with_aux = NULL;
  int plain_len = i2d_X509 (leaf.cert, &plain);
  g_assert_true (X509_add1_trust_object (leaf.cert, OBJ_nid2obj (NID_server_auth)));
  int aux_len = i2d_X509_AUX (leaf.cert, &with_aux);
  size_t trust_len;
  const unsigned char *trust = settle_anchor_rule_openssl_trust (&trust_len);
  g_assert_cmpint (aux_len, ==, plain_len + (int) trust_len);
  g_assert_cmpmem (with_aux + plain_len, trust_len, trust, trust_len);

  const unsigned char *p = with_aux;
  X509 *read = d2i_X509_AUX (NULL, &p, aux_len);
  g_assert_nonnull (read);
  g_assert_cmpint (X509_check_trust (read, X509_TRUST_SSL_SERVER, 0), ==, X509_TRUST_TRUSTED);
  g_assert_cmpint (X509_check_trust (read, X509_TRUST_EMAIL, 0), ==, X509_TRUST_REJECTED);
  g_assert_cmpint (X509_check_trust (read, X509_TRUST_SSL_CLIENT, 0), ==, X509_TRUST_REJECTED);
  g_assert_cmpint (X509_check_trust (read, X509_TRUST_OBJECT_SIGN, 0), ==, X509_TRUST_REJECTED);
  X509_free (read);
  OPENSSL_free (plain);
  OPENSSL_free (with_aux);
  test_cert_clear (&leaf);
}

/* ---- accessors ---------------------------------------------------------- */

static void
test_accessors (void)
{
  CertSpec spec = { "P-256", "x", NULL, NULL, "DNS:printer.local,IP:10.0.0.1,DNS:Www.Printer.local",
                    -DAY, 30 * DAY };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  TestCert leaf = make_cert (&spec, NULL);

  gint64 not_after = settle_cert_not_after (leaf.cert);
  g_assert_cmpint (not_after, >=, now + 30 * DAY - 5);
  g_assert_cmpint (not_after, <=, now + 30 * DAY + 5);

  g_auto (GStrv) names = settle_cert_dns_names (leaf.cert);
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "printer.local");
  g_assert_cmpstr (names[1], ==, "Www.Printer.local");

  g_autoptr (GBytes) der = settle_cert_to_der (leaf.cert);
  const unsigned char *p = g_bytes_get_data (der, NULL);
  X509 *back = d2i_X509 (NULL, &p, (long) g_bytes_get_size (der));
  assert_same_cert (back, leaf.cert);
  X509_free (back);

  TestCert ca = make_ca ("P-256");
  g_auto (GStrv) none = settle_cert_dns_names (ca.cert);
  g_assert_nonnull (none);
  g_assert_null (none[0]);
  test_cert_clear (&ca);
  test_cert_clear (&leaf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cert/parse/pem-and-der", test_parse_pem_and_der);
  g_test_add_func ("/cert/parse/refusals", test_parse_refusals);
  g_test_add_func ("/cert/load-file", test_load_file);
  g_test_add_func ("/cert/ca/accepted", test_ca_accepted);
  g_test_add_func ("/cert/ca/refused", test_ca_refused);
  g_test_add_func ("/cert/peer/accepted", test_peer_accepted);
  g_test_add_func ("/cert/peer/refused", test_peer_refused);
  g_test_add_func ("/cert/peer/embedded-nul", test_peer_refuses_embedded_nul);
  g_test_add_func ("/cert/peer/v1", test_peer_refuses_v1);
  g_test_add_func ("/cert/peer/issuer-extensions", test_peer_refuses_issuer_extensions);
  g_test_add_func ("/cert/openssl-trust-block", test_openssl_trust_block);
  g_test_add_func ("/cert/accessors", test_accessors);
  return g_test_run ();
}
