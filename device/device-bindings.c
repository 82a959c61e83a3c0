/* device-bindings.c: the binding audit (REQ-ARCH-04b), what
 * GET /.well-known/settle/bindings answers an admin: every enrolled client
 * with its role and where it came from, every trust anchor the device
 * itself trusts (none: the reference device trusts nobody else, and says
 * so with an empty list), its own CA chain, its manufacturer identity
 * (IDevID) or null, the factory-reset epoch and the allowed web origins.  schema/bindings.schema.json describes it. */
#include "device.h"

#include <string.h>

#include <openssl/pem.h>

static char *
cert_pem (X509 *cert)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  char *pem = NULL;
  if (bio != NULL && PEM_write_bio_X509 (bio, cert) == 1)
    {
      long len = BIO_get_mem_data (bio, &data);
      pem = g_strndup (data, (gsize) len);
    }
  BIO_free (bio);
  return pem != NULL ? pem : g_strdup ("");
}

static char *
cert_sha256_hex (X509 *cert)
{
  unsigned char md[32];
  unsigned int len = 0;
  if (X509_digest (cert, EVP_sha256 (), md, &len) != 1 || len != sizeof md)
    return g_strdup ("");
  char *hex = g_malloc (2 * sizeof md + 1);
  for (gsize i = 0; i < sizeof md; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", md[i]);
  return hex;
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_ca (JsonBuilder *b, X509 *cert, const char *kind)
{
  g_autofree char *sha = cert_sha256_hex (cert);
  g_autofree char *spki = settle_device_spki_sha256_hex (cert);
  g_autofree char *pem = cert_pem (cert);
  json_builder_begin_object (b);
  add_string (b, "kind", kind);
  add_string (b, "sha256", sha);
  add_string (b, "spki_sha256", spki);
  add_string (b, "pem", pem);
  json_builder_end_object (b);
}

/* RFC 2253 one-line form of a name (owned). */
static char *
name_text (const X509_NAME *name)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  char *text = NULL;
  if (bio != NULL && X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253) >= 0)
    {
      long len = BIO_get_mem_data (bio, &data);
      text = g_strndup (data, (gsize) len);
    }
  BIO_free (bio);
  return text != NULL ? text : g_strdup ("");
}

/* The device's own manufacturer identity (IEEE 802.1AR IDevID), or null
 * when it has none: stated either way, never left out. */
static void
add_manufacturer_identity (JsonBuilder *b, SettleDeviceManufacturer *m)
{
  json_builder_set_member_name (b, "manufacturer_identity");
  if (m == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  X509 *idevid = settle_device_manufacturer_idevid (m);
  STACK_OF (X509) *issuers = settle_device_manufacturer_issuers (m);
  g_autofree char *issuer = name_text (X509_get_issuer_name (idevid));
  g_autofree char *sha = cert_sha256_hex (idevid);
  g_autoptr (GString) chain = g_string_new (NULL);
  g_autofree char *leaf = cert_pem (idevid);
  g_string_append (chain, leaf);
  for (int i = 0; i < sk_X509_num (issuers); i++)
    {
      g_autofree char *pem = cert_pem (sk_X509_value (issuers, i));
      g_string_append (chain, pem);
    }
  json_builder_begin_object (b);
  add_string (b, "serial_number", settle_device_manufacturer_serial (m));
  add_string (b, "issuer", issuer);
  add_string (b, "sha256", sha);
  add_string (b, "pem", chain->str);
  json_builder_end_object (b);
}

static void
add_client (JsonBuilder *b, JsonObject *e)
{
  json_builder_begin_object (b);
  add_string (b, "fingerprint", json_object_get_string_member_with_default (e, "spki_sha256", NULL));
  add_string (b, "role", json_object_get_string_member_with_default (e, "role", NULL));
  add_string (b, "serial", json_object_get_string_member_with_default (e, "serial", NULL));
  add_string (b, "subject", json_object_get_string_member_with_default (e, "subject", NULL));
  add_string (b, "enrolled_at", json_object_get_string_member_with_default (e, "issued", NULL));
  add_string (b, "epoch", json_object_get_string_member_with_default (e, "epoch", NULL));
  /* Entries from before "enrolled_by" was recorded came from a ceremony. */
  JsonObject *by = json_object_has_member (e, "enrolled_by") ? json_object_get_object_member (e, "enrolled_by") : NULL;
  const char *kind = by != NULL ? json_object_get_string_member_with_default (by, "kind", "ceremony") : "ceremony";
  json_builder_set_member_name (b, "enrolled_by");
  json_builder_begin_object (b);
  add_string (b, "kind", kind);
  if (strcmp (kind, "renewal") == 0)
    add_string (b, "of", json_object_get_string_member_with_default (by, "of", NULL));
  add_string (b, "peer", json_object_get_string_member_with_default (e, "peer", NULL));
  json_builder_end_object (b);
  add_string (b, "role_set_by", json_object_get_string_member_with_default (e, "role_set_by", NULL));
  add_string (b, "role_set_at", json_object_get_string_member_with_default (e, "role_set_at", NULL));
  json_builder_end_object (b);
}

char *
settle_device_bindings_json (const SettleDeviceHttpContext *ctx, const char *caller_fingerprint)
{
  SettleDeviceIdentity *id = ctx->identity;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  add_string (b, "device", id->name);
  add_string (b, "you", caller_fingerprint);

  json_builder_set_member_name (b, "factory_reset");
  json_builder_begin_object (b);
  add_string (b, "epoch", id->epoch);
  add_string (b, "since", id->epoch_since);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "ca");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "generation");
  json_builder_add_int_value (b, id->generation);
  json_builder_set_member_name (b, "certificates");
  json_builder_begin_array (b);
  add_ca (b, id->ca, "current");
  if (id->ca_cross != NULL)
    add_ca (b, id->ca_cross, "cross");
  for (guint i = 0; i < id->previous_cas->len; i++)
    add_ca (b, g_ptr_array_index (id->previous_cas, i), "retired");
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "clients");
  json_builder_begin_array (b);
  g_autoptr (JsonArray) clients = settle_device_enrolments_list (ctx->enrolments);
  for (guint i = 0; i < json_array_get_length (clients); i++)
    add_client (b, json_array_get_object_element (clients, i));
  json_builder_end_array (b);

  /* The reference device trusts no other CA, referee or controller: an
   * empty list, stated rather than left out. */
  json_builder_set_member_name (b, "trust_anchors");
  json_builder_begin_array (b);
  json_builder_end_array (b);

  add_manufacturer_identity (b, ctx->manufacturer);

  json_builder_set_member_name (b, "allowed_origins");
  json_builder_begin_array (b);
  g_auto (GStrv) origins = settle_device_origins_list (ctx->origins);
  for (char **o = origins; *o != NULL; o++)
    json_builder_add_string_value (b, *o);
  json_builder_end_array (b);

  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, TRUE);
  return g_strconcat (text, "\n", NULL);
}
