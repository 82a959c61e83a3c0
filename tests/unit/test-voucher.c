/* test-voucher.c: lib/x509/voucher.c (schema/voucher.md): a voucher signed
 * with the IDevID key opens with the IDevID alone; everything else is
 * refused with SETTLE_ERROR_VOUCHER and a sentence: another signer, a
 * certificate smuggled inside the CMS, wrong content type, trailing or
 * oversized bytes, and JSON that breaks the profile.  One voucher is made
 * by the openssl CLI exactly as docs/manufacturer.md tells device makers. */
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include "settle-error.h"
#include "settle-voucher.h"
#include "unit-certs.h"

#define SERIAL "TP-0001"

static TestCert idevid;   /* self-issued: the chain is the caller's, not the voucher's */
static TestCert stranger; /* same subject, another key */

static void
make_idevid (TestCert *tc)
{
  tc->key = EVP_EC_gen ("P-256");
  tc->cert = test_cert_body_new ("Test Maker device", tc->key, NULL, -60, DAY);
  X509_NAME *subject = X509_get_subject_name (tc->cert);
  g_assert_cmpint (X509_NAME_add_entry_by_NID (subject, NID_serialNumber, MBSTRING_ASC,
                                               (const unsigned char *) SERIAL, -1, -1, 0), ==, 1);
  X509_set_issuer_name (tc->cert, subject);
  test_cert_add_ext (tc->cert, tc->cert, NID_key_usage, "critical,digitalSignature");
  g_assert_cmpint (X509_sign (tc->cert, tc->key, EVP_sha256 ()), >, 0);
}

static SettleVoucher *
claims_new (void)
{
  SettleVoucher *v = g_new0 (SettleVoucher, 1);
  guint8 nonce[SETTLE_VOUCHER_NONCE_LEN];
  memset (nonce, 0x6e, sizeof nonce);
  v->assertion = g_strdup ("proximity");
  v->serial_number = g_strdup (SERIAL);
  v->local_name = g_strdup ("printer.local");
  v->nonce = g_bytes_new (nonce, sizeof nonce);
  memset (v->pubk_sha256, 0xab, sizeof v->pubk_sha256);
  v->created_on = 1900000000;
  v->expires_on = 1900000600;
  return v;
}

static void
assert_refused (GBytes *cms, X509 *signer, const char *expect)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleVoucher) v = settle_voucher_open (cms, signer, &error);
  g_assert_null (v);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_VOUCHER);
  g_test_message ("refused: %s", error->message);
  if (strstr (error->message, expect) == NULL)
    g_error ("expected \"%s\" in: %s", expect, error->message);
}

/* Any JSON text, signed by the IDevID as a voucher: to test the parser
 * behind a valid signature. */
static GBytes *
sign_json (const char *json, const char *content_oid)
{
  ASN1_OBJECT *type = OBJ_txt2obj (content_oid, 1);
  BIO *in = BIO_new_mem_buf (json, (int) strlen (json));
  CMS_ContentInfo *cms = CMS_sign (idevid.cert, idevid.key, NULL, NULL, CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP);
  g_assert_nonnull (cms);
  g_assert_cmpint (CMS_set1_eContentType (cms, type), ==, 1);
  g_assert_cmpint (CMS_final (cms, in, NULL, CMS_BINARY), ==, 1);
  unsigned char *der = NULL;
  int len = i2d_CMS_ContentInfo (cms, &der);
  g_assert_cmpint (len, >, 0);
  GBytes *out = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  CMS_ContentInfo_free (cms);
  BIO_free (in);
  ASN1_OBJECT_free (type);
  return out;
}

#define VOUCHER_OID "1.2.840.113549.1.9.16.1.40"

static void
test_round_trip (void)
{
  g_autoptr (SettleVoucher) claims = claims_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) cms = settle_voucher_sign (claims, idevid.cert, idevid.key, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (SettleVoucher) v = settle_voucher_open (cms, idevid.cert, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (v->assertion, ==, "proximity");
  g_assert_cmpstr (v->serial_number, ==, SERIAL);
  g_assert_cmpstr (v->local_name, ==, "printer.local");
  g_assert_true (g_bytes_equal (v->nonce, claims->nonce));
  g_assert_cmpmem (v->pubk_sha256, 32, claims->pubk_sha256, 32);
  g_assert_cmpint (v->created_on, ==, 1900000000);
  g_assert_cmpint (v->expires_on, ==, 1900000600);
}

static void
test_serial_number (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *serial = settle_idevid_serial_number (idevid.cert, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (serial, ==, SERIAL);
  TestCert plain = { .key = EVP_EC_gen ("P-256") };
  plain.cert = test_cert_body_new ("no serial", plain.key, NULL, -60, DAY);
  g_assert_null (settle_idevid_serial_number (plain.cert, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_VOUCHER);
  test_cert_clear (&plain);
}

/* Signed by a stranger whose certificate copies the IDevID's subject and
 * rides inside the CMS: the verifier must look at the presented IDevID only. */
static void
test_other_signer (void)
{
  g_autoptr (SettleVoucher) claims = claims_new ();
  g_autoptr (GBytes) cms = settle_voucher_sign (claims, stranger.cert, stranger.key, NULL, NULL);
  g_assert_nonnull (cms);
  assert_refused (cms, idevid.cert, "does not verify with the device's IDevID key");
}

static void
test_bytes (void)
{
  g_autoptr (SettleVoucher) claims = claims_new ();
  g_autoptr (GBytes) cms = settle_voucher_sign (claims, idevid.cert, idevid.key, NULL, NULL);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (cms, &len);

  g_autoptr (GByteArray) trailing = g_byte_array_new ();
  g_byte_array_append (trailing, data, (guint) len);
  g_byte_array_append (trailing, (const guint8 *) "", 1);
  g_autoptr (GBytes) with_trailing = g_bytes_new (trailing->data, trailing->len);
  assert_refused (with_trailing, idevid.cert, "not one CMS SignedData");

  g_autofree guint8 *big = g_malloc0 (SETTLE_VOUCHER_CMS_MAX + 1);
  g_autoptr (GBytes) oversized = g_bytes_new (big, SETTLE_VOUCHER_CMS_MAX + 1);
  assert_refused (oversized, idevid.cert, "longer than 16384 bytes");

  g_autoptr (GBytes) garbage = g_bytes_new ("voucher", 7);
  assert_refused (garbage, idevid.cert, "not one CMS SignedData");

  g_autoptr (GBytes) flipped = g_bytes_new (data, len);
  guint8 *copy = (guint8 *) g_bytes_get_data (flipped, NULL);
  /* One letter of the signed JSON (the certificates a CMS carries are
   * not signed, and are ignored anyway). */
  guint8 *name = memmem (copy, len, "printer.local", 13);
  g_assert_nonnull (name);
  name[0] = 'q';
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleVoucher) v = settle_voucher_open (flipped, idevid.cert, &error);
  g_assert_null (v);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_VOUCHER);
}

static void
test_content_type (void)
{
  g_autoptr (SettleVoucher) claims = claims_new ();
  g_autofree char *json = settle_voucher_to_json (claims);
  g_autoptr (GBytes) as_data = sign_json (json, "1.2.840.113549.1.7.1");
  assert_refused (as_data, idevid.cert, "id-ct-animaJSONVoucher");
  g_autoptr (GBytes) as_voucher = sign_json (json, VOUCHER_OID);
  g_autoptr (SettleVoucher) v = settle_voucher_open (as_voucher, idevid.cert, NULL);
  g_assert_nonnull (v);
}

static const struct {
  const char *name;
  const char *json;
  const char *expect;
} json_cases[] = {
  { "not-json", "{\"ietf-voucher:voucher\": ", "not valid JSON" },
  { "no-container", "{\"voucher\": {}}", "\"ietf-voucher:voucher\" object" },
  { "container-array", "{\"ietf-voucher:voucher\": []}", "\"ietf-voucher:voucher\" object" },
#define V(members) "{\"ietf-voucher:voucher\": {" members "}}"
#define GOOD_NONCE "\"nonce\": \"bm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm5ubm4=\""
#define GOOD_PUBK "\"pinned-domain-pubk-sha256\": \"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\""
#define GOOD_TIMES "\"created-on\": \"2030-03-17T17:46:40Z\", \"expires-on\": \"2030-03-17T17:56:40Z\""
#define GOOD_NAME "\"settle-voucher:local-name\": \"printer.local\""
  { "assertion-verified",
    V ("\"assertion\": \"verified\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME),
    "settle takes \"proximity\" only" },
  { "no-nonce",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_PUBK ", " GOOD_NAME),
    "no text member \"nonce\"" },
  { "nonce-not-base64",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", \"nonce\": \"n*nce\", " GOOD_PUBK ", " GOOD_NAME),
    "\"nonce\" is not base64" },
  { "nonce-short",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", \"nonce\": \"bm5u\", " GOOD_PUBK ", " GOOD_NAME),
    "\"nonce\" is not 16 to 64 bytes" },
  { "pubk-31",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_NONCE ", \"pinned-domain-pubk-sha256\": \"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urqw==\", " GOOD_NAME),
    "\"pinned-domain-pubk-sha256\" is not 32 bytes" },
  { "serial-number-as-number",
    V ("\"assertion\": \"proximity\", \"serial-number\": 1, " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME),
    "no text member \"serial-number\"" },
  { "serial-with-space",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP 0001\", " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME),
    "serial-number is not printable ASCII" },
  { "date-without-zone",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", \"created-on\": \"2030-03-17T17:46:40\", \"expires-on\": \"2030-03-17T17:56:40Z\", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME),
    "\"created-on\" is not an RFC 3339" },
  /* json-glib would keep the second serial number; a reader that keeps
   * the first would see another device. */
  { "duplicate-serial-number",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", \"serial-number\": \"TP-0002\", " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME),
    "member \"serial-number\" twice in one object" },
  { "duplicate-container",
    "{\"ietf-voucher:voucher\": {}, \"ietf-voucher:voucher\": {\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME "}}",
    "member \"ietf-voucher:voucher\" twice" },
  { "duplicate-in-an-ignored-member",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK ", " GOOD_NAME ", \"x\": {\"a\": 1, \"a\": 2}"),
    "member \"a\" twice" },
  { "no-local-name",
    V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_NONCE ", " GOOD_PUBK),
    "settle-voucher:local-name" },
};

static void
test_json_case (gconstpointer data)
{
  const char *json = json_cases[GPOINTER_TO_UINT (data)].json;
  const char *expect = json_cases[GPOINTER_TO_UINT (data)].expect;
  g_autoptr (GBytes) cms = sign_json (json, VOUCHER_OID);
  assert_refused (cms, idevid.cert, expect);
}

static void
test_json_good_case (void)
{
  /* The same name in two objects is no duplicate. */
  const char *json = V ("\"assertion\": \"proximity\", \"serial-number\": \"TP-0001\", " GOOD_TIMES ", " GOOD_NONCE
                        ", " GOOD_PUBK ", " GOOD_NAME ", \"pinned-domain-cert\": \"ignored\", "
                        "\"x\": {\"serial-number\": \"other\", \"y\": {\"serial-number\": 1}}");
  g_autoptr (GBytes) cms = sign_json (json, VOUCHER_OID);
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleVoucher) v = settle_voucher_open (cms, idevid.cert, &error);
  g_assert_no_error (error);
  g_assert_cmpint (v->created_on, ==, 1900000000);
  g_assert_cmpuint (g_bytes_get_size (v->nonce), ==, 32);
}

/* The recipe of docs/manufacturer.md: `openssl cms -sign` with the CLI. */
static void
test_openssl_cli_voucher (void)
{
  g_autofree char *dir = g_dir_make_tmp ("settle-voucher-XXXXXX", NULL);
  g_autofree char *cert = g_build_filename (dir, "idevid.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "idevid.key", NULL);
  g_autofree char *json = g_build_filename (dir, "voucher.json", NULL);
  g_autofree char *out = g_build_filename (dir, "voucher.cms", NULL);
  FILE *f = fopen (cert, "w");
  PEM_write_X509 (f, idevid.cert);
  fclose (f);
  f = fopen (key, "w");
  PEM_write_PrivateKey (f, idevid.key, NULL, NULL, 0, NULL, NULL);
  fclose (f);
  g_autoptr (SettleVoucher) claims = claims_new ();
  g_autofree char *text = settle_voucher_to_json (claims);
  g_assert_true (g_file_set_contents (json, text, -1, NULL));
  const char *argv[] = { "openssl", "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-nosmimecap",
                         "-econtent_type", VOUCHER_OID, "-signer", cert, "-inkey", key, "-in", json,
                         "-out", out, NULL };
  int status = -1;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                               &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  gchar *der = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (out, &der, &len, NULL));
  g_autoptr (GBytes) cms = g_bytes_new_take (der, len);
  g_autoptr (SettleVoucher) v = settle_voucher_open (cms, idevid.cert, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (v->local_name, ==, "printer.local");
  for (const char *const *p = (const char *const[]) { cert, key, json, out, NULL }; *p != NULL; p++)
    g_unlink (*p);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  make_idevid (&idevid);
  make_idevid (&stranger);
  g_test_add_func ("/voucher/round-trip", test_round_trip);
  g_test_add_func ("/voucher/serial-number", test_serial_number);
  g_test_add_func ("/voucher/other-signer", test_other_signer);
  g_test_add_func ("/voucher/bytes", test_bytes);
  g_test_add_func ("/voucher/content-type", test_content_type);
  g_test_add_func ("/voucher/json/good", test_json_good_case);
  for (guint i = 0; i < G_N_ELEMENTS (json_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/voucher/json/%s", json_cases[i].name);
      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_json_case);
    }
  g_test_add_func ("/voucher/openssl-cli", test_openssl_cli_voucher);
  int rc = g_test_run ();
  test_cert_clear (&idevid);
  test_cert_clear (&stranger);
  return rc;
}
