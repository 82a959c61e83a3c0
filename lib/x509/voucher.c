/* voucher.c: the manufacturer voucher (settle-voucher.h, schema/voucher.md):
 * JSON through json-glib, CMS through OpenSSL's CMS API. */
#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/cms.h>
#include <openssl/objects.h>

#include "settle-error.h"
#include "settle-voucher.h"

#define VOUCHER_CONTAINER "ietf-voucher:voucher"
#define LOCAL_NAME_MEMBER "settle-voucher:local-name"
#define ASSERTION "proximity"
/* id-ct-animaJSONVoucher (RFC 8366 section 8.3). */
#define VOUCHER_CONTENT_OID "1.2.840.113549.1.9.16.1.40"
#define NAME_MAX_BYTES 253
#define B64_MAX 128   /* base64 of at most SETTLE_VOUCHER_NONCE_MAX bytes, and of 32 */

static gboolean
voucher_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
voucher_error (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_VOUCHER, text);
  return FALSE;
}

void
settle_voucher_free (SettleVoucher *voucher)
{
  if (voucher == NULL)
    return;
  g_free (voucher->assertion);
  g_free (voucher->serial_number);
  g_free (voucher->local_name);
  g_clear_pointer (&voucher->nonce, g_bytes_unref);
  g_free (voucher);
}

gboolean
settle_voucher_spki_sha256 (X509 *cert, guint8 out[32])
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (X509_get0_pubkey (cert), &der);
  unsigned int out_len = 0;
  gboolean ok = len > 0 && EVP_Digest (der, (size_t) len, out, &out_len, EVP_sha256 (), NULL) == 1
                && out_len == 32;
  OPENSSL_free (der);
  return ok;
}

static gboolean
is_printable_ascii (const char *s, gsize len, gsize max)
{
  if (len == 0 || len > max)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (s[i] < 0x21 || s[i] > 0x7e)
      return FALSE;
  return TRUE;
}

char *
settle_idevid_serial_number (X509 *idevid, GError **error)
{
  X509_NAME *subject = X509_get_subject_name (idevid);
  int at = X509_NAME_get_index_by_NID (subject, NID_serialNumber, -1);
  if (at < 0)
    {
      voucher_error (error, "The device's IDevID certificate has no serialNumber in its subject (IEEE 802.1AR).");
      return NULL;
    }
  if (X509_NAME_get_index_by_NID (subject, NID_serialNumber, at) >= 0)
    {
      voucher_error (error, "The device's IDevID certificate has two serialNumbers in its subject.");
      return NULL;
    }
  const ASN1_STRING *value = X509_NAME_ENTRY_get_data (X509_NAME_get_entry (subject, at));
  const char *data = (const char *) ASN1_STRING_get0_data (value);
  int len = ASN1_STRING_length (value);
  if (len <= 0 || !is_printable_ascii (data, (gsize) len, SETTLE_VOUCHER_SERIAL_MAX))
    {
      voucher_error (error, "The device's IDevID serialNumber is not 1 to %d printable ASCII characters.",
                     SETTLE_VOUCHER_SERIAL_MAX);
      return NULL;
    }
  return g_strndup (data, (gsize) len);
}

/* ---- JSON ---- */

static char *
format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_seconds);
  return t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

char *
settle_voucher_to_json (const SettleVoucher *voucher)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autofree char *created = format_time (voucher->created_on);
  g_autofree char *expires = format_time (voucher->expires_on);
  g_autofree char *nonce = g_base64_encode (g_bytes_get_data (voucher->nonce, NULL),
                                            g_bytes_get_size (voucher->nonce));
  g_autofree char *pubk = g_base64_encode (voucher->pubk_sha256, sizeof voucher->pubk_sha256);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, VOUCHER_CONTAINER);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "assertion");
  json_builder_add_string_value (builder, voucher->assertion);
  json_builder_set_member_name (builder, "serial-number");
  json_builder_add_string_value (builder, voucher->serial_number);
  json_builder_set_member_name (builder, "created-on");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "expires-on");
  json_builder_add_string_value (builder, expires);
  json_builder_set_member_name (builder, "nonce");
  json_builder_add_string_value (builder, nonce);
  json_builder_set_member_name (builder, "pinned-domain-pubk-sha256");
  json_builder_add_string_value (builder, pubk);
  json_builder_set_member_name (builder, LOCAL_NAME_MEMBER);
  json_builder_add_string_value (builder, voucher->local_name);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static const char *
member_text (JsonObject *object, const char *name, gsize max, GError **error)
{
  JsonNode *node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      voucher_error (error, "The voucher has no text member \"%s\".", name);
      return NULL;
    }
  const char *text = json_node_get_string (node);
  if (text == NULL || text[0] == '\0' || strlen (text) > max)
    {
      voucher_error (error, "The voucher's \"%s\" is empty or longer than %" G_GSIZE_FORMAT " bytes.", name, max);
      return NULL;
    }
  return text;
}

static gboolean
member_time (JsonObject *object, const char *name, gint64 *out, GError **error)
{
  const char *text = member_text (object, name, 64, error);
  if (text == NULL)
    return FALSE;
  g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (text, NULL);
  if (t == NULL)
    return voucher_error (error, "The voucher's \"%s\" is not an RFC 3339 date and time with a zone.", name);
  *out = g_date_time_to_unix (t);
  return TRUE;
}

/* Strict base64 (g_base64_decode accepts anything): decoded length in
 * [min, max]. */
static GBytes *
member_base64 (JsonObject *object, const char *name, gsize min, gsize max, GError **error)
{
  const char *text = member_text (object, name, B64_MAX, error);
  if (text == NULL)
    return NULL;
  if (!g_regex_match_simple ("^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", text, 0, 0))
    {
      voucher_error (error, "The voucher's \"%s\" is not base64.", name);
      return NULL;
    }
  gsize len = 0;
  guchar *data = g_base64_decode (text, &len);
  if (len < min || len > max)
    {
      g_free (data);
      if (min == max)
        voucher_error (error, "The voucher's \"%s\" is not %" G_GSIZE_FORMAT " bytes.", name, min);
      else
        voucher_error (error, "The voucher's \"%s\" is not %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " bytes.",
                       name, min, max);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}

static gboolean
parse_members (JsonObject *v, SettleVoucher *voucher, GError **error)
{
  const char *assertion, *serial, *name;
  g_autoptr (GBytes) pubk = NULL;

  if ((assertion = member_text (v, "assertion", 32, error)) == NULL
      || (serial = member_text (v, "serial-number", SETTLE_VOUCHER_SERIAL_MAX, error)) == NULL
      || (name = member_text (v, LOCAL_NAME_MEMBER, NAME_MAX_BYTES, error)) == NULL
      || !member_time (v, "created-on", &voucher->created_on, error)
      || !member_time (v, "expires-on", &voucher->expires_on, error)
      || (voucher->nonce = member_base64 (v, "nonce", SETTLE_VOUCHER_NONCE_MIN, SETTLE_VOUCHER_NONCE_MAX,
                                          error)) == NULL
      || (pubk = member_base64 (v, "pinned-domain-pubk-sha256", 32, 32, error)) == NULL)
    return FALSE;
  if (strcmp (assertion, ASSERTION) != 0)
    return voucher_error (error, "The voucher's assertion is \"%.32s\"; settle takes \"" ASSERTION "\" only.",
                          assertion);
  if (!is_printable_ascii (serial, strlen (serial), SETTLE_VOUCHER_SERIAL_MAX))
    return voucher_error (error, "The voucher's serial-number is not printable ASCII.");
  if (!is_printable_ascii (name, strlen (name), NAME_MAX_BYTES))
    return voucher_error (error, "The voucher's local name is not printable ASCII.");
  voucher->assertion = g_strdup (assertion);
  voucher->serial_number = g_strdup (serial);
  voucher->local_name = g_strdup (name);
  memcpy (voucher->pubk_sha256, g_bytes_get_data (pubk, NULL), 32);
  return TRUE;
}

/* json-glib keeps the last of two members with the same name in an
 * object, silently: a voucher {"serial-number": "A", "serial-number": "B"}
 * would mean B here and may mean A to another reader (a log, an audit
 * tool, the maker's own signer).  The parser names every member it adds
 * to an object (its "object-member" signal), so a duplicate is seen as
 * the second (object, name) pair; the set is bounded by the JSON's size. */
typedef struct {
  GHashTable *seen;       /* owned: "<object>/<name>" */
  char *duplicate;        /* owned: the first name seen twice, or NULL */
} MemberWatch;

static void
watch_member (JsonParser *parser, JsonObject *object, const char *name, gpointer user_data)
{
  (void) parser;
  MemberWatch *w = user_data;
  if (!g_hash_table_add (w->seen, g_strdup_printf ("%p/%s", (void *) object, name)) && w->duplicate == NULL)
    w->duplicate = g_strdup (name);
}

static SettleVoucher *
voucher_from_json (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (SettleVoucher) voucher = g_new0 (SettleVoucher, 1);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  MemberWatch watch = { .seen = seen };

  if (len == 0 || len > SETTLE_VOUCHER_JSON_MAX)
    {
      voucher_error (error, "The voucher's JSON is empty or longer than %d bytes.", SETTLE_VOUCHER_JSON_MAX);
      return NULL;
    }
  g_signal_connect (parser, "object-member", G_CALLBACK (watch_member), &watch);
  gboolean parsed = json_parser_load_from_data (parser, json, (gssize) len, &parse_error);
  g_autofree char *duplicate = g_steal_pointer (&watch.duplicate);
  if (!parsed)
    {
      voucher_error (error, "The voucher is not valid JSON (%s)", parse_error->message);
      return NULL;
    }
  if (duplicate != NULL)
    {
      voucher_error (error, "The voucher's JSON has the member \"%.64s\" twice in one object: readers could "
                            "disagree on what it says.", duplicate);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  JsonNode *container = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
                          ? json_object_get_member (json_node_get_object (root), VOUCHER_CONTAINER) : NULL;
  if (container == NULL || !JSON_NODE_HOLDS_OBJECT (container))
    {
      voucher_error (error, "The voucher is not a JSON object with an \"" VOUCHER_CONTAINER "\" object.");
      return NULL;
    }
  if (!parse_members (json_node_get_object (container), voucher, error))
    return NULL;
  return g_steal_pointer (&voucher);
}

/* ---- CMS ---- */

static ASN1_OBJECT *
voucher_content_type (void)
{
  return OBJ_txt2obj (VOUCHER_CONTENT_OID, 1);
}

GBytes *
settle_voucher_sign (const SettleVoucher *voucher, X509 *signer, EVP_PKEY *key, STACK_OF (X509) *extra,
                     GError **error)
{
  g_autofree char *json = settle_voucher_to_json (voucher);
  ASN1_OBJECT *type = voucher_content_type ();
  BIO *content = BIO_new_mem_buf (json, (int) strlen (json));
  CMS_ContentInfo *cms = NULL;
  unsigned char *der = NULL;
  int len = -1;

  cms = CMS_sign (signer, key, extra, NULL, CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP);
  if (cms != NULL && type != NULL && content != NULL && CMS_set1_eContentType (cms, type) == 1
      && CMS_final (cms, content, NULL, CMS_BINARY) == 1)
    len = i2d_CMS_ContentInfo (cms, &der);
  CMS_ContentInfo_free (cms);
  BIO_free (content);
  ASN1_OBJECT_free (type);
  if (len <= 0 || len > SETTLE_VOUCHER_CMS_MAX)
    {
      OPENSSL_free (der);
      voucher_error (error, "The voucher could not be signed (or came out larger than %d bytes).",
                     SETTLE_VOUCHER_CMS_MAX);
      return NULL;
    }
  GBytes *out = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return out;
}

static gboolean
is_json_voucher (CMS_ContentInfo *cms)
{
  ASN1_OBJECT *want = voucher_content_type ();
  const ASN1_OBJECT *have = CMS_get0_eContentType (cms);
  gboolean ok = want != NULL && have != NULL && OBJ_cmp (want, have) == 0
                && OBJ_obj2nid (CMS_get0_type (cms)) == NID_pkcs7_signed;
  ASN1_OBJECT_free (want);
  return ok;
}

/* The signed content, verified against `idevid` alone: CMS_NOINTERN makes
 * OpenSSL look for the signer among the certificates we pass, never among
 * those the message carries, so only the IDevID key can have signed it;
 * the IDevID's own chain is checked by the caller. */
static GBytes *
verified_content (CMS_ContentInfo *cms, X509 *idevid, GError **error)
{
  STACK_OF (X509) *signers = sk_X509_new_null ();
  BIO *out = BIO_new (BIO_s_mem ());
  GBytes *content = NULL;

  if (signers != NULL && out != NULL && sk_X509_push (signers, idevid) > 0
      && CMS_verify (cms, signers, NULL, NULL, out, CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1)
    {
      char *data = NULL;
      long len = BIO_get_mem_data (out, &data);
      if (len > 0 && len <= SETTLE_VOUCHER_JSON_MAX)
        content = g_bytes_new (data, (gsize) len);
      else
        voucher_error (error, "The voucher's JSON is empty or longer than %d bytes.", SETTLE_VOUCHER_JSON_MAX);
    }
  else
    voucher_error (error, "The voucher's signature does not verify with the device's IDevID key: it is forged "
                          "or was altered.");
  sk_X509_free (signers);
  BIO_free (out);
  return content;
}

SettleVoucher *
settle_voucher_open (GBytes *cms_der, X509 *idevid, GError **error)
{
  gsize len = 0;
  const unsigned char *data = g_bytes_get_data (cms_der, &len);
  const unsigned char *p = data;
  CMS_ContentInfo *cms = NULL;
  g_autoptr (GBytes) content = NULL;

  if (len == 0 || len > SETTLE_VOUCHER_CMS_MAX)
    {
      voucher_error (error, "The voucher is empty or longer than %d bytes.", SETTLE_VOUCHER_CMS_MAX);
      return NULL;
    }
  cms = d2i_CMS_ContentInfo (NULL, &p, (long) len);
  if (cms == NULL || p != data + len || !is_json_voucher (cms))
    {
      CMS_ContentInfo_free (cms);
      voucher_error (error, "The voucher is not one CMS SignedData of a JSON voucher (id-ct-animaJSONVoucher).");
      return NULL;
    }
  STACK_OF (CMS_SignerInfo) *infos = CMS_get0_SignerInfos (cms);
  if (infos == NULL || sk_CMS_SignerInfo_num (infos) != 1)
    {
      CMS_ContentInfo_free (cms);
      voucher_error (error, "The voucher must have exactly one signer, the device's IDevID.");
      return NULL;
    }
  content = verified_content (cms, idevid, error);
  CMS_ContentInfo_free (cms);
  if (content == NULL)
    return NULL;
  return voucher_from_json (g_bytes_get_data (content, NULL), g_bytes_get_size (content), error);
}
