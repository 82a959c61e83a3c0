/* device-admin.c: a paired device's own bindings (settle-device-admin.h):
 * the binding audit and its flags, revocation and role changes, over
 * mutual TLS with this computer's client identity for the device
 * (settle-device-https.h). */
#include <string.h>

#include <json-glib/json-glib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "settle-device-admin.h"
#include "settle-device-https.h"
#include "settle-error.h"
#include "settle-store.h"
#include "settle-tls-probe.h"
#include "settle-web-origin.h"

#define BINDINGS_PATH "/.well-known/settle/bindings"
#define CLIENTS_PREFIX "/.well-known/settle/clients/"
#define ORIGINS_PATH "/.well-known/settle/origins"
#define BINDINGS_VERSION 1

/* ---- the connection ---- */

/* Everything one request needs; owned. */
typedef struct {
  SettleRecord *record;
  SettleEndpoint *endpoint;
  SettleClientIdentity id;
  SettleDeviceHttps https;
} DeviceLink;

static void
device_link_clear (DeviceLink *l)
{
  settle_record_free (l->record);
  settle_endpoint_free (l->endpoint);
  settle_client_identity_clear (&l->id);
}

static gboolean
device_link_open (SettleManager *manager, const SettleDeviceTarget *target, DeviceLink *l, GError **error)
{
  memset (l, 0, sizeof *l);
  l->record = settle_manager_lookup (manager, target->query, error);
  if (l->record == NULL)
    return FALSE;
  if (l->record->client_cert_der == NULL || l->record->names == NULL || l->record->names[0] == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                   "\"%s\" was not paired (no client certificate): only a paired device can be asked for its "
                   "bindings.", l->record->label);
      return FALSE;
    }
  GBytes *key_pem = settle_manager_client_key (manager, l->record, error);
  if (key_pem == NULL)
    return FALSE;
  gboolean loaded = settle_client_identity_load (&l->id, l->record, key_pem, error);
  settle_secure_bytes_free (key_pem);
  if (!loaded)
    return FALSE;
  l->endpoint = settle_device_endpoint (l->record, target->address, error);
  if (l->endpoint == NULL)
    return FALSE;
  l->https = (SettleDeviceHttps) {
    .name = l->record->names[0], .host = l->endpoint->host, .port = l->endpoint->port,
    .timeout_ms = (guint) target->timeout_s * 1000u, .anchor = l->id.anchor, .cert = l->id.cert, .key = l->id.key,
  };
  return TRUE;
}

/* The answer to a request that must be 200 (owned), else NULL with the
 * device's reason. */
static GBytes *
device_call_at (DeviceLink *l, const char *method, const char *path, const char *body, GError **error)
{
  long status = 0;
  g_autoptr (GBytes) request = body != NULL ? g_bytes_new (body, strlen (body)) : NULL;
  GBytes *answer = settle_device_https_request (&l->https, method, path, body != NULL ? "application/json" : NULL,
                                                request, &status, error);
  if (answer == NULL || status == 200)
    return answer;
  g_autofree char *text = settle_device_https_refusal_text (answer);
  g_bytes_unref (answer);
  const char *meaning = status == 401   ? "did not receive this computer's client certificate"
                        : status == 403 ? "refused this computer"
                        : status == 404 ? "does not know this"
                        : status == 409 ? "refused the change"
                                        : "refused";
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED, "The device %s %s: HTTP %ld, %s", l->record->names[0],
               meaning, status, text);
  return NULL;
}

/* device_call_at where the device was paired (or --address), else, when
 * nothing answered there, where DNS-SD and its name say (as settle renew
 * does, settle-per-device.h); whatever answers must still prove itself
 * with a chain to the record's anchor. */
static GBytes *
device_call (SettleManager *manager, DeviceLink *l, const char *typed, const char *method, const char *path,
             const char *body, GError **error)
{
  g_autoptr (GError) first_error = NULL;
  GBytes *answer = device_call_at (l, method, path, body, &first_error);
  if (answer != NULL || !g_error_matches (first_error, SETTLE_ERROR, SETTLE_ERROR_NETWORK))
    {
      if (answer == NULL)
        g_propagate_error (error, g_steal_pointer (&first_error));
      return answer;
    }
  g_autofree char *note = NULL;
  g_autoptr (GPtrArray) others = settle_device_other_endpoints (l->record, typed, l->endpoint, l->https.timeout_ms, &note);
  if (note != NULL)
    settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s", note);
  for (guint i = 0; i < others->len && answer == NULL; i++)
    {
      g_autoptr (GError) other_error = NULL;
      SettleEndpoint *other = others->pdata[i];
      l->https.host = other->host;
      l->https.port = other->port;
      answer = device_call_at (l, method, path, body, &other_error);
      if (answer != NULL)
        {
          g_autofree char *found = settle_device_endpoint_where (l->record, other);
          settle_manager_note (manager, SETTLE_NOTE_NOTICE, "\"%s\" did not answer where it was; found at %s.",
                               l->record->label, found);
        }
      else if (!g_error_matches (other_error, SETTLE_ERROR, SETTLE_ERROR_NETWORK))
        {
          g_clear_error (&first_error);
          first_error = g_steal_pointer (&other_error);
          break;
        }
    }
  /* Not left pointing into `others`. */
  l->https.host = l->endpoint->host;
  l->https.port = l->endpoint->port;
  if (answer == NULL)
    g_propagate_error (error, g_steal_pointer (&first_error));
  return answer;
}

/* ---- fingerprints ---- */

static char *
sha256_hex (const unsigned char *data, gsize len)
{
  unsigned char md[32];
  char *hex = g_malloc (65);
  EVP_Digest (data, len, md, NULL, EVP_sha256 (), NULL);
  for (int i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", md[i]);
  return hex;
}

static char *
spki_sha256 (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (X509_get0_pubkey (cert), &der);
  char *hex = len > 0 ? sha256_hex (der, (gsize) len) : g_strdup ("");
  OPENSSL_free (der);
  return hex;
}

char *
settle_device_key_fingerprint_parse (const char *text, GError **error)
{
  GString *hex = g_string_new (NULL);
  for (const char *c = text; c != NULL && *c != '\0' && hex->len <= 64; c++)
    {
      if (*c == ':')
        continue;
      if (!g_ascii_isxdigit (*c))
        break;
      g_string_append_c (hex, g_ascii_tolower (*c));
    }
  gboolean whole = text != NULL && hex->len == 64 && strspn (text, "0123456789abcdefABCDEF:") == strlen (text);
  if (!whole)
    {
      g_string_free (hex, TRUE);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                   "A client is named by the SHA-256 of its key: 64 hex digits (as settle audit --device shows).");
      return NULL;
    }
  return g_string_free (hex, FALSE);
}

/* ---- the audit ---- */

static void
client_free (gpointer data)
{
  SettleDeviceClient *c = data;
  g_free (c->fingerprint);
  g_free (c->role);
  g_free (c->enrolled_at);
  g_free (c->enrolled_by);
  g_free (c->epoch);
  g_free (c);
}

static void
manufacturer_identity_free (SettleDeviceManufacturerIdentity *m)
{
  if (m == NULL)
    return;
  g_free (m->serial_number);
  g_free (m->issuer);
  g_free (m->sha256);
  g_free (m->chain_pem);
  g_free (m);
}

void
settle_device_audit_free (SettleDeviceAudit *a)
{
  if (a == NULL)
    return;
  manufacturer_identity_free (a->manufacturer);
  g_free (a->label);
  g_free (a->device);
  g_free (a->pinned);
  g_free (a->device_ca);
  g_free (a->device_ca_key);
  g_free (a->you);
  g_free (a->epoch);
  g_free (a->since);
  g_clear_pointer (&a->clients, g_ptr_array_unref);
  g_strfreev (a->origins);
  g_clear_pointer (&a->flags, g_ptr_array_unref);
  g_free (a);
}

static void
flag (SettleDeviceAudit *a, const char *kind, const char *subject, char *message)
{
  settle_audit_problems_add (a->flags, kind, subject, message);
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
           ? json_node_get_string (n)
           : NULL;
}

static JsonArray *
member_array (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static JsonObject *
member_object (JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member (o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static gboolean
parse_clients (SettleDeviceAudit *a, JsonArray *clients, const char *const *expected)
{
  for (guint i = 0; i < json_array_get_length (clients); i++)
    {
      JsonNode *n = json_array_get_element (clients, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *fp = member_string (o, "fingerprint");
      const char *role = member_string (o, "role");
      if (fp == NULL || role == NULL)
        return FALSE;
      SettleDeviceClient *c = g_new0 (SettleDeviceClient, 1);
      c->fingerprint = g_ascii_strdown (fp, -1);
      c->role = g_strdup (role);
      c->enrolled_at = g_strdup (member_string (o, "enrolled_at"));
      c->enrolled_by = g_strdup (member_string (member_object (o, "enrolled_by"), "kind"));
      c->epoch = g_strdup (member_string (o, "epoch"));
      c->is_you = g_strcmp0 (c->fingerprint, a->you) == 0;
      c->expected = expected != NULL && g_strv_contains (expected, c->fingerprint);
      g_ptr_array_add (a->clients, c);
    }
  return TRUE;
}

/* SHA-256 (hex, owned) of the first certificate in `pem`, or NULL. */
static char *
first_cert_sha256 (const char *pem)
{
  BIO *bio = BIO_new_mem_buf (pem, -1);
  X509 *cert = bio != NULL ? PEM_read_bio_X509 (bio, NULL, NULL, NULL) : NULL;
  unsigned char *der = NULL;
  int len = cert != NULL ? i2d_X509 (cert, &der) : -1;
  char *hex = len > 0 ? sha256_hex (der, (gsize) len) : NULL;
  OPENSSL_free (der);
  X509_free (cert);
  BIO_free (bio);
  ERR_clear_error ();
  return hex;
}

/* "manufacturer_identity": absent (not stated), null (none) or the IDevID,
 * whose sha256 must be that of the first certificate of its pem. */
static gboolean
parse_manufacturer_identity (SettleDeviceAudit *a, JsonObject *o)
{
  JsonNode *n = json_object_get_member (o, "manufacturer_identity");
  a->manufacturer_stated = n != NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  JsonObject *m = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  const char *serial = member_string (m, "serial_number");
  const char *issuer = member_string (m, "issuer");
  const char *sha = member_string (m, "sha256");
  const char *pem = member_string (m, "pem");
  g_autofree char *computed = pem != NULL ? first_cert_sha256 (pem) : NULL;
  if (serial == NULL || *serial == '\0' || issuer == NULL || sha == NULL || computed == NULL
      || g_ascii_strcasecmp (sha, computed) != 0)
    return FALSE;
  a->manufacturer = g_new0 (SettleDeviceManufacturerIdentity, 1);
  a->manufacturer->serial_number = g_strdup (serial);
  a->manufacturer->issuer = g_strdup (issuer);
  a->manufacturer->sha256 = g_steal_pointer (&computed);
  a->manufacturer->chain_pem = g_strdup (pem);
  return TRUE;
}

/* The device's document, by schema/bindings.schema.json, into `a`. */
static gboolean
parse_bindings (SettleDeviceAudit *a, GBytes *body, const char *const *expected, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  JsonNode *root = json_parser_load_from_data (parser, data, (gssize) len, NULL) ? json_parser_get_root (parser) : NULL;
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  JsonObject *reset = member_object (o, "factory_reset");
  JsonArray *cas = member_array (member_object (o, "ca"), "certificates");
  JsonArray *clients = member_array (o, "clients");
  JsonArray *anchors = member_array (o, "trust_anchors");
  JsonArray *origins = member_array (o, "allowed_origins");
  JsonNode *first_ca = cas != NULL && json_array_get_length (cas) > 0 ? json_array_get_element (cas, 0) : NULL;
  JsonObject *ca = first_ca != NULL && JSON_NODE_HOLDS_OBJECT (first_ca) ? json_node_get_object (first_ca) : NULL;
  gboolean ok = o != NULL && json_object_get_int_member_with_default (o, "version", 0) == BINDINGS_VERSION
                && member_string (o, "you") != NULL && member_string (reset, "epoch") != NULL
                && member_string (reset, "since") != NULL && g_strcmp0 (member_string (ca, "kind"), "current") == 0
                && member_string (ca, "sha256") != NULL && member_string (ca, "spki_sha256") != NULL
                && clients != NULL && anchors != NULL && origins != NULL;
  if (ok)
    {
      a->device = g_strdup (member_string (o, "device"));
      a->you = g_ascii_strdown (member_string (o, "you"), -1);
      a->epoch = g_strdup (member_string (reset, "epoch"));
      a->since = g_strdup (member_string (reset, "since"));
      a->device_ca = g_ascii_strdown (member_string (ca, "sha256"), -1);
      a->device_ca_key = g_ascii_strdown (member_string (ca, "spki_sha256"), -1);
      a->trust_anchors = json_array_get_length (anchors);
      g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
      for (guint i = 0; i < json_array_get_length (origins); i++)
        g_strv_builder_add (b, json_array_get_string_element (origins, i));
      a->origins = g_strv_builder_end (b);
      ok = parse_clients (a, clients, expected) && parse_manufacturer_identity (a, o);
    }
  if (!ok)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL,
                 "The bindings the device sent do not follow version %d of schema/bindings.schema.json.",
                 BINDINGS_VERSION);
  return ok;
}

static gint64
time_of (const char *iso)
{
  g_autoptr (GDateTime) t = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  return t != NULL ? g_date_time_to_unix (t) : G_MININT64;
}

/* What the user should look at. */
static void
flag_bindings (SettleDeviceAudit *a)
{
  if (g_strcmp0 (a->pinned, a->device_ca_key) != 0)
    flag (a, "ca-mismatch", a->device_ca,
          g_strdup_printf ("The device says its CA is %.16s..., but this computer pinned another CA key (%.16s...).",
                           a->device_ca, a->pinned));
  gint64 since = time_of (a->since);
  for (guint i = 0; i < a->clients->len; i++)
    {
      SettleDeviceClient *c = a->clients->pdata[i];
      if (g_strcmp0 (c->role, "admin") == 0 && !c->is_you && !c->expected)
        flag (a, "foreign-admin", c->fingerprint,
              g_strdup_printf ("%.16s... is an admin of the device, and it is not this computer nor one you named "
                               "(--expect-admin).", c->fingerprint));
      if (g_strcmp0 (c->epoch, a->epoch) != 0 || time_of (c->enrolled_at) < since)
        flag (a, "enrolled-before-reset", c->fingerprint,
              g_strdup_printf ("%.16s... (%s) was enrolled before the device's last factory reset (%s) and survived it.",
                               c->fingerprint, c->role, a->since));
    }
  if (a->trust_anchors > 0)
    flag (a, "device-trusts-others", a->device,
          g_strdup_printf ("The device trusts %u other CA(s) or referee(s) to vouch for clients.", a->trust_anchors));
}

static SettleDeviceAudit *
device_audit_new (void)
{
  SettleDeviceAudit *a = g_new0 (SettleDeviceAudit, 1);
  a->clients = g_ptr_array_new_with_free_func (client_free);
  a->flags = settle_audit_problems_new ();
  return a;
}

/* The device's bindings over the open link `l` (owned, without flags). */
static SettleDeviceAudit *
bindings_read (SettleManager *manager, DeviceLink *l, const char *typed, const char *const *expected_admins,
               GError **error)
{
  g_autoptr (GBytes) body = device_call (manager, l, typed, "GET", BINDINGS_PATH, NULL, error);
  if (body == NULL)
    return NULL;
  g_autoptr (SettleDeviceAudit) a = device_audit_new ();
  a->label = g_strdup (l->record->label);
  a->pinned = spki_sha256 (l->id.anchor);
  return parse_bindings (a, body, expected_admins, error) ? g_steal_pointer (&a) : NULL;
}

SettleDeviceAudit *
settle_manager_audit_device (SettleManager *manager, const SettleDeviceTarget *target,
                             const char *const *expected_admins, GError **error)
{
  DeviceLink l;
  SettleDeviceAudit *a = NULL;
  if (device_link_open (manager, target, &l, error))
    a = bindings_read (manager, &l, target->address, expected_admins, error);
  if (a != NULL)
    flag_bindings (a);
  device_link_clear (&l);
  return a;
}

/* ---- changes ---- */

static gboolean
device_change (SettleManager *manager, const SettleDeviceTarget *target, const char *fingerprint, const char *role,
               gboolean yes, GError **error)
{
  g_autofree char *fp = settle_device_key_fingerprint_parse (fingerprint, error);
  if (fp == NULL)
    return FALSE;
  if (role != NULL && strcmp (role, "admin") != 0 && strcmp (role, "user") != 0 && strcmp (role, "guest") != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Unknown role \"%s\": admin, user or guest.", role);
      return FALSE;
    }
  DeviceLink l;
  gboolean ok = device_link_open (manager, target, &l, error);
  if (ok && !yes)
    {
      g_autofree char *mine = spki_sha256 (l.id.cert);
      SettleQuestion question = {
        .kind = SETTLE_QUESTION_DEVICE_CHANGE,
        .record = l.record,
        .device_name = l.record->names[0],
        .fingerprint = fp,
        .role = role,
        .self = strcmp (mine, fp) == 0,
      };
      ok = settle_manager_ask (manager, &question, NULL, error);
    }
  g_autofree char *path = g_strdup_printf (CLIENTS_PREFIX "%s/%s", fp, role != NULL ? "role" : "revoke");
  g_autofree char *body = role != NULL ? g_strdup_printf ("{\"role\":\"%s\"}", role) : NULL;
  g_autoptr (GBytes) answer = ok ? device_call (manager, &l, target->address, "POST", path, body, error) : NULL;
  if (answer != NULL)
    settle_manager_note (manager, SETTLE_NOTE_RESULT, role != NULL ? "%s: %.16s... is %s now" : "%s: %.16s... revoked%s",
                         l.record->names[0], fp, role != NULL ? role : "");
  device_link_clear (&l);
  return answer != NULL;
}

gboolean
settle_manager_device_revoke_client (SettleManager *manager, const SettleDeviceTarget *target,
                                     const char *fingerprint, gboolean yes, GError **error)
{
  return device_change (manager, target, fingerprint, NULL, yes, error);
}

gboolean
settle_manager_device_set_role (SettleManager *manager, const SettleDeviceTarget *target, const char *fingerprint,
                                const char *role, gboolean yes, GError **error)
{
  return device_change (manager, target, fingerprint, role, yes, error);
}

/* ---- allowed web origins ---- */

char **
settle_manager_device_origins (SettleManager *manager, const SettleDeviceTarget *target, GError **error)
{
  g_autoptr (SettleDeviceAudit) a = settle_manager_audit_device (manager, target, NULL, error);
  return a != NULL ? g_steal_pointer (&a->origins) : NULL;
}

/* What the user typed, each in canonical form (owned), or NULL with the
 * first bad one's reason. */
static GPtrArray *
origins_canonical (const char *const *typed, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  for (const char *const *t = typed; t != NULL && *t != NULL; t++)
    {
      char *c = settle_web_origin_canonical (*t, error);
      if (c == NULL)
        return NULL;
      if (!g_ptr_array_find_with_equal_func (out, c, g_str_equal, NULL))
        g_ptr_array_add (out, c);
      else
        g_free (c);
    }
  return g_steal_pointer (&out);
}

static gboolean
strv_has (const char *const *list, const char *s)
{
  return list != NULL && g_strv_contains (list, s);
}

/* {"origins": [...]} (owned). */
static char *
origins_body (GPtrArray *origins)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "origins");
  json_builder_begin_array (b);
  for (guint i = 0; i < origins->len; i++)
    json_builder_add_string_value (b, origins->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* The device's list with `allow` added and `disallow` taken off, into
 * `next`; what really changes into `added` and `removed` (borrowed
 * strings), and a note for each origin that changes nothing. */
static void
origins_merge (SettleManager *manager, const char *const *current, GPtrArray *allow, GPtrArray *disallow,
               GPtrArray *next, GPtrArray *added, GPtrArray *removed)
{
  for (const char *const *c = current; *c != NULL; c++)
    if (g_ptr_array_find_with_equal_func (disallow, *c, g_str_equal, NULL))
      g_ptr_array_add (removed, (gpointer) *c);
    else
      g_ptr_array_add (next, g_strdup (*c));
  for (guint i = 0; i < disallow->len; i++)
    if (!strv_has (current, disallow->pdata[i]))
      settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s was not allowed.", (char *) disallow->pdata[i]);
  for (guint i = 0; i < allow->len; i++)
    if (strv_has (current, allow->pdata[i]))
      settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s is already allowed.", (char *) allow->pdata[i]);
    else
      {
        g_ptr_array_add (next, g_strdup (allow->pdata[i]));
        g_ptr_array_add (added, allow->pdata[i]);
      }
}

/* The list in the device's answer to PUT (its bindings), owned. */
static char **
origins_of_answer (GBytes *answer, GError **error)
{
  g_autoptr (SettleDeviceAudit) a = device_audit_new ();
  return parse_bindings (a, answer, NULL, error) ? g_steal_pointer (&a->origins) : NULL;
}

gboolean
settle_manager_device_change_origins (SettleManager *manager, const SettleDeviceTarget *target,
                                      const char *const *allow, const char *const *disallow, gboolean yes,
                                      char ***result, GError **error)
{
  if (result != NULL)
    *result = NULL;
  /* Every origin is checked before the store or the network is touched. */
  g_autoptr (GPtrArray) to_allow = origins_canonical (allow, error);
  g_autoptr (GPtrArray) to_disallow = to_allow != NULL ? origins_canonical (disallow, error) : NULL;
  if (to_disallow == NULL)
    return FALSE;
  for (guint i = 0; i < to_allow->len; i++)
    if (g_ptr_array_find_with_equal_func (to_disallow, to_allow->pdata[i], g_str_equal, NULL))
      {
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "%s is both to be allowed and disallowed.",
                     (char *) to_allow->pdata[i]);
        return FALSE;
      }
  DeviceLink l;
  gboolean ok = device_link_open (manager, target, &l, error);
  g_autoptr (SettleDeviceAudit) now = ok ? bindings_read (manager, &l, target->address, NULL, error) : NULL;
  g_autoptr (GPtrArray) next = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  g_autoptr (GPtrArray) removed = g_ptr_array_new ();
  g_autoptr (GBytes) answer = NULL;
  ok = now != NULL;
  if (ok)
    origins_merge (manager, (const char *const *) now->origins, to_allow, to_disallow, next, added, removed);
  if (ok && added->len == 0 && removed->len == 0)
    {
      settle_manager_note (manager, SETTLE_NOTE_RESULT, "%s: nothing to change.", l.record->names[0]);
      if (result != NULL)
        *result = g_steal_pointer (&now->origins);
      device_link_clear (&l);
      return TRUE;
    }
  if (ok && next->len > SETTLE_WEB_ORIGINS_MAX)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "A device allows at most %d web origins; this would make %u.", SETTLE_WEB_ORIGINS_MAX, next->len);
      ok = FALSE;
    }
  if (ok && !yes)
    {
      g_ptr_array_add (added, NULL);
      g_ptr_array_add (removed, NULL);
      SettleQuestion question = {
        .kind = SETTLE_QUESTION_DEVICE_ORIGINS,
        .record = l.record,
        .device_name = l.record->names[0],
        .allow = (const char *const *) added->pdata,
        .disallow = (const char *const *) removed->pdata,
      };
      ok = settle_manager_ask (manager, &question, NULL, error);
    }
  g_autofree char *body = ok ? origins_body (next) : NULL;
  if (ok)
    answer = device_call (manager, &l, target->address, "PUT", ORIGINS_PATH, body, error);
  g_auto (GStrv) held = answer != NULL ? origins_of_answer (answer, error) : NULL;
  gboolean done = held != NULL;
  if (done)
    {
      g_autofree char *list = held[0] != NULL ? g_strjoinv (" ", held) : g_strdup ("none (no web page)");
      settle_manager_note (manager, SETTLE_NOTE_RESULT, "%s: web origins allowed now: %s", l.record->names[0], list);
      if (result != NULL)
        *result = g_steal_pointer (&held);
    }
  device_link_clear (&l);
  return done;
}
