/* device-identity.c: the state directory (docs/device.md, "State
 * directory"): device CA, TLS leaf, retired CAs; rotation and reset.
 *
 * Keys are written 0600 through a temporary file and rename, so that a
 * crash never leaves half a key; the directory is 0700.  Loading refuses
 * looser permissions, as ssh does, rather than keep using a key that
 * others may have read. */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "settle-cert.h"
#include "settle-error.h"
#include "settle-name-rule.h"
#include "settle-scope.h"
#include "settle-self-cert.h"

#define DEVICE_JSON "device.json"
#define CA_KEY "ca.key"
#define CA_CERT "ca.pem"
#define CA_CROSS "ca-cross.pem"
#define TLS_KEY "tls.key"
#define TLS_CERT "tls.pem"
#define ENROLMENTS "enrolments.json"
#define ORIGINS "origins.json"
#define PREVIOUS_DIR "previous"
#define DISCOVERY_KEY "discovery.key"   /* portable mode: 32 random bytes, 0600 */
#define DEVICE_JSON_MAX 4096
#define GENERATION_MAX 100000

static gboolean
state_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
state_error (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  ERR_clear_error ();
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_STORE, message);
  return FALSE;
}

void
settle_device_identity_free (SettleDeviceIdentity *id)
{
  if (id == NULL)
    return;
  g_free (id->dir);
  g_free (id->name);
  g_free (id->epoch);
  g_free (id->epoch_since);
  EVP_PKEY_free (id->ca_key);
  X509_free (id->ca);
  X509_free (id->ca_cross);
  g_clear_pointer (&id->previous_cas, g_ptr_array_unref);
  EVP_PKEY_free (id->tls_key);
  X509_free (id->tls_cert);
  g_free (id);
}

static SettleDeviceIdentity *
identity_new (const char *dir)
{
  SettleDeviceIdentity *id = g_new0 (SettleDeviceIdentity, 1);
  id->dir = g_strdup (dir);
  id->previous_cas = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  return id;
}

static char *
state_path (const SettleDeviceIdentity *id, const char *file)
{
  return g_build_filename (id->dir, file, NULL);
}

/* ---- writing ---- */

static gboolean
write_private (const char *path, const char *data, gsize len, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (path, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    return state_error (error, "Cannot write %s: %s", path, local->message);
  return TRUE;
}

typedef int (*PemWriter) (BIO *bio, void *object);

static int
pem_write_key (BIO *bio, void *key)
{
  return PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL);
}

static int
pem_write_cert (BIO *bio, void *cert)
{
  return PEM_write_bio_X509 (bio, cert);
}

/* PEM through a memory buffer that is wiped afterwards (keys). */
static gboolean
write_pem (const char *path, PemWriter writer, void *object, GError **error)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  if (bio == NULL || writer (bio, object) != 1)
    {
      BIO_free (bio);
      return state_error (error, "Could not encode %s.", path);
    }
  long len = BIO_get_mem_data (bio, &data);
  gboolean ok = write_private (path, data, (gsize) len, error);
  OPENSSL_cleanse (data, (size_t) len);
  BIO_free (bio);
  return ok;
}

static gboolean
write_state_pem (SettleDeviceIdentity *id, const char *file, PemWriter writer, void *object,
                 GError **error)
{
  g_autofree char *path = state_path (id, file);
  return write_pem (path, writer, object, error);
}

static gboolean
write_device_json (SettleDeviceIdentity *id, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, id->name);
  json_builder_set_member_name (b, "generation");
  json_builder_add_int_value (b, id->generation);
  json_builder_set_member_name (b, "epoch");
  json_builder_add_string_value (b, id->epoch);
  json_builder_set_member_name (b, "epoch_since");
  json_builder_add_string_value (b, id->epoch_since);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, TRUE);
  g_autofree char *path = state_path (id, DEVICE_JSON);
  return write_private (path, text, strlen (text), error);
}

/* ---- reading ---- */

static gboolean
check_private_mode (const char *path, gboolean is_dir, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    return state_error (error, "Cannot read %s: %s.", path, g_strerror (errno));
  if ((st.st_mode & 077) != 0)
    return state_error (error, "%s is open to other users (mode %03o); run chmod %s %s.", path,
                        st.st_mode & 0777, is_dir ? "700" : "600", path);
  return TRUE;
}

static EVP_PKEY *
load_key (SettleDeviceIdentity *id, const char *file, GError **error)
{
  g_autofree char *path = state_path (id, file);
  if (!check_private_mode (path, FALSE, error))
    return NULL;
  BIO *bio = BIO_new_file (path, "r");
  EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;
  BIO_free (bio);
  if (key == NULL)
    state_error (error, "%s holds no readable private key.", path);
  return key;
}

static X509 *
load_cert (SettleDeviceIdentity *id, const char *file, GError **error)
{
  g_autofree char *path = state_path (id, file);
  return settle_cert_load_file (path, error);
}

/* ---- the factory-reset epoch ---- */

/* 32 lowercase hex digits. */
static gboolean
epoch_valid (const char *epoch)
{
  if (epoch == NULL || strlen (epoch) != SETTLE_DEVICE_EPOCH_HEX)
    return FALSE;
  for (const char *c = epoch; *c != '\0'; c++)
    if (!g_ascii_isxdigit (*c) || g_ascii_isupper (*c))
      return FALSE;
  return TRUE;
}

/* A fresh epoch starting at `since` (owned, ISO 8601 UTC). */
static gboolean
epoch_begin (SettleDeviceIdentity *id, char *since, GError **error)
{
  guint8 raw[SETTLE_DEVICE_EPOCH_HEX / 2];
  if (RAND_bytes (raw, sizeof raw) != 1)
    {
      g_free (since);
      return state_error (error, "Cannot draw a random factory-reset epoch.");
    }
  g_free (id->epoch);
  id->epoch = g_malloc (SETTLE_DEVICE_EPOCH_HEX + 1);
  for (gsize i = 0; i < sizeof raw; i++)
    g_snprintf (id->epoch + 2 * i, 3, "%02x", raw[i]);
  g_free (id->epoch_since);
  id->epoch_since = since;
  return TRUE;
}

static char *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format_iso8601 (now);
}

/* A state directory from before epochs were recorded gets one now; it
 * began when its first CA was made (its notBefore), as nothing in the
 * directory predates that. */
static gboolean
epoch_adopt (SettleDeviceIdentity *id, GError **error)
{
  if (id->epoch != NULL)
    return TRUE;
  struct tm tm;
  X509 *first = id->previous_cas->len > 0 ? g_ptr_array_index (id->previous_cas, 0) : id->ca;
  char *since = ASN1_TIME_to_tm (X509_get0_notBefore (first), &tm) == 1
                  ? g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
                  : now_iso8601 ();
  return epoch_begin (id, since, error) && write_device_json (id, error);
}

static gboolean
read_device_json (SettleDeviceIdentity *id, GError **error)
{
  g_autofree char *path = state_path (id, DEVICE_JSON);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    return state_error (error, "%s is not a settle-device state directory (%s).", id->dir, local->message);
  if (len > DEVICE_JSON_MAX)
    return state_error (error, "%s is too large to be a device description.", path);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    return state_error (error, "%s is not valid JSON: %s", path, local->message);
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *name = obj != NULL ? json_object_get_string_member_with_default (obj, "name", NULL) : NULL;
  gint64 generation = obj != NULL ? json_object_get_int_member_with_default (obj, "generation", 0) : 0;
  g_autofree char *canonical = name != NULL ? settle_name_normalize (name, FALSE, NULL) : NULL;
  if (canonical == NULL || strcmp (canonical, name) != 0 || generation < 1 || generation > GENERATION_MAX)
    return state_error (error, "%s does not name a device and a CA generation.", path);
  id->name = g_steal_pointer (&canonical);
  id->generation = (guint) generation;
  const char *epoch = json_object_get_string_member_with_default (obj, "epoch", NULL);
  const char *since = json_object_get_string_member_with_default (obj, "epoch_since", NULL);
  g_autoptr (GDateTime) since_time = since != NULL ? g_date_time_new_from_iso8601 (since, NULL) : NULL;
  if ((epoch != NULL || since != NULL) && (!epoch_valid (epoch) || since_time == NULL))
    return state_error (error, "%s has a broken factory-reset epoch.", path);
  id->epoch = g_strdup (epoch);
  id->epoch_since = g_strdup (since);
  return TRUE;
}

static gboolean
load_previous_cas (SettleDeviceIdentity *id, GError **error)
{
  for (guint g = 1; g < id->generation; g++)
    {
      g_autofree char *file = g_strdup_printf (PREVIOUS_DIR "/ca-%u.pem", g);
      g_autofree char *path = state_path (id, file);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      X509 *ca = settle_cert_load_file (path, error);
      if (ca == NULL)
        return FALSE;
      g_ptr_array_add (id->previous_cas, ca);
    }
  return TRUE;
}

static gboolean
load_all (SettleDeviceIdentity *id, GError **error)
{
  if (!check_private_mode (id->dir, TRUE, error) || !read_device_json (id, error))
    return FALSE;
  if ((id->ca_key = load_key (id, CA_KEY, error)) == NULL
      || (id->ca = load_cert (id, CA_CERT, error)) == NULL
      || (id->tls_key = load_key (id, TLS_KEY, error)) == NULL
      || (id->tls_cert = load_cert (id, TLS_CERT, error)) == NULL)
    return FALSE;
  g_autofree char *cross_path = state_path (id, CA_CROSS);
  if (g_file_test (cross_path, G_FILE_TEST_EXISTS)
      && (id->ca_cross = settle_cert_load_file (cross_path, error)) == NULL)
    return FALSE;
  if (X509_check_private_key (id->ca, id->ca_key) != 1
      || X509_check_private_key (id->tls_cert, id->tls_key) != 1)
    return state_error (error, "The keys in %s do not belong to its certificates.", id->dir);
  if (!settle_device_cert_issued_by (id->tls_cert, id->ca))
    return state_error (error, "The TLS certificate in %s is not issued by its device CA, or expired.", id->dir);
  return load_previous_cas (id, error) && epoch_adopt (id, error);
}

SettleDeviceIdentity *
settle_device_identity_load (const char *dir, GError **error)
{
  g_autoptr (SettleDeviceIdentity) id = identity_new (dir);
  g_autofree char *json = state_path (id, DEVICE_JSON);
  if (!g_file_test (json, G_FILE_TEST_IS_REGULAR))
    {
      state_error (error, "%s is not a settle-device state directory (no %s).", dir, DEVICE_JSON);
      return NULL;
    }
  if (!load_all (id, error))
    return NULL;
  return g_steal_pointer (&id);
}

/* ---- creating ---- */

static gboolean
issue_tls_leaf (SettleDeviceIdentity *id, GError **error)
{
  EVP_PKEY *key = settle_device_key_new (error);
  X509 *leaf = key != NULL ? settle_device_leaf_new (id->name, key, id->ca, id->ca_key, error) : NULL;
  if (leaf == NULL)
    {
      EVP_PKEY_free (key);
      return FALSE;
    }
  EVP_PKEY_free (id->tls_key);
  X509_free (id->tls_cert);
  id->tls_key = key;
  id->tls_cert = leaf;
  return write_state_pem (id, TLS_KEY, pem_write_key, id->tls_key, error)
         && write_state_pem (id, TLS_CERT, pem_write_cert, id->tls_cert, error);
}

/* `ca_key` (owned, may be NULL: a fresh one) becomes the device CA key. */
static gboolean
create_all (SettleDeviceIdentity *id, EVP_PKEY *ca_key, GError **error)
{
  id->generation = 1;
  id->ca_key = ca_key;
  if (!epoch_begin (id, now_iso8601 (), error))
    return FALSE;
  if ((id->ca_key == NULL && (id->ca_key = settle_device_key_new (error)) == NULL)
      || (id->ca = settle_device_ca_new (id->name, id->generation, id->ca_key, error)) == NULL)
    return FALSE;
  /* device.json last: a directory without it is not a device yet, and the
   * next run starts over. */
  return write_state_pem (id, CA_KEY, pem_write_key, id->ca_key, error)
         && write_state_pem (id, CA_CERT, pem_write_cert, id->ca, error)
         && issue_tls_leaf (id, error)
         && write_device_json (id, error);
}

/* TRUE for an existing directory of this user that holds nothing yet. */
static gboolean
is_own_empty_dir (const char *dir)
{
  GStatBuf st;
  if (g_lstat (dir, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != geteuid ())
    return FALSE;
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  return listing != NULL && g_dir_read_name (listing) == NULL;
}

/* The state directory is made 0700.  One the user just made with a plain
 * `mkdir` (0755 under the usual umask) and that holds nothing yet is
 * tightened, since no key has been in it; one that already holds state
 * with a looser mode is refused: its keys may have been read. */
static gboolean
ensure_private_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0)
    return state_error (error, "Cannot create the state directory %s: %s.", dir, g_strerror (errno));
  if (is_own_empty_dir (dir) && g_chmod (dir, 0700) != 0)
    return state_error (error, "Cannot make the state directory %s private: %s.", dir, g_strerror (errno));
  return check_private_mode (dir, TRUE, error);
}

SettleDeviceIdentity *
settle_device_identity_open (const char *dir, const char *name, GError **error)
{
  g_autofree char *canonical = settle_name_normalize (name, FALSE, error);
  if (canonical == NULL)
    return NULL;
  if (!ensure_private_dir (dir, error))
    return NULL;
  g_autoptr (SettleDeviceIdentity) id = identity_new (dir);
  g_autofree char *json = state_path (id, DEVICE_JSON);
  if (!g_file_test (json, G_FILE_TEST_EXISTS))
    {
      id->name = g_strdup (canonical);
      if (!create_all (id, NULL, error))
        return NULL;
      return g_steal_pointer (&id);
    }
  if (!load_all (id, error))
    return NULL;
  if (strcmp (id->name, canonical) != 0)
    {
      state_error (error, "%s belongs to the device %s, not %s; use another --state or reset it.",
                   dir, id->name, canonical);
      return NULL;
    }
  return g_steal_pointer (&id);
}

/* Splits "printer" or "printer.home.arpa" into a first-label prefix and
 * a domain (default local). */
static gboolean
split_prefix (const char *spec, char **prefix, char **domain, GError **error)
{
  const char *dot = strchr (spec, '.');
  *prefix = dot != NULL ? g_strndup (spec, (gsize) (dot - spec)) : g_strdup (spec);
  *domain = g_strdup (dot != NULL ? dot + 1 : "local");
  /* Any hash has the same shape: judge the name with a placeholder. */
  g_autofree char *probe = g_strdup_printf ("%s-%s.%s", *prefix, "aaaaaaaaaaaaaaaaaaaaaaaaaa", *domain);
  settle_name_verdict verdict = settle_name_rule_syntax (probe, strlen (probe), FALSE, NULL);
  if (verdict != SETTLE_NAME_OK)
    return state_error (error, "--self-certifying-name %s: the name %s-<hash>.%s %s.", spec, *prefix, *domain,
                        settle_name_rule_explain (verdict));
  if (!settle_name_rule_in_namespaces (*domain, strlen (*domain)))
    return state_error (error, "--self-certifying-name %s: %s is outside the local namespaces .local, home.arpa "
                        "and .alt.", spec, *domain);
  g_autofree char *canonical = settle_name_normalize (probe, FALSE, error);
  if (canonical == NULL)
    {
      g_prefix_error (error, "--self-certifying-name %s: ", spec);
      return FALSE;
    }
  if (strcmp (canonical, probe) != 0)
    return state_error (error, "--self-certifying-name %s: write the prefix and domain in lowercase.", spec);
  return TRUE;
}

/* The name `prefix`-<hash of the CA key>.`domain` (owned). */
static char *
self_certifying_name (const char *prefix, const char *domain, X509 *ca, GError **error)
{
  char name[SETTLE_NAME_RULE_MAX + 1];
  if (!settle_self_cert_make_name (prefix, domain, ca, name, sizeof name))
    {
      state_error (error, "Cannot make a self-certifying name from the prefix %s (too long?).", prefix);
      return NULL;
    }
  return g_strdup (name);
}

SettleDeviceIdentity *
settle_device_identity_open_self_certifying (const char *dir, const char *spec, char **warning,
                                             GError **error)
{
  g_autofree char *prefix = NULL, *domain = NULL;
  *warning = NULL;
  if (!split_prefix (spec, &prefix, &domain, error) || !ensure_private_dir (dir, error))
    return NULL;
  g_autoptr (SettleDeviceIdentity) id = identity_new (dir);
  g_autofree char *json = state_path (id, DEVICE_JSON);
  if (!g_file_test (json, G_FILE_TEST_EXISTS))
    {
      /* The name depends on the CA key: make the key, then a throwaway
       * CA for its SPKI, then the identity under that name. */
      EVP_PKEY *key = settle_device_key_new (error);
      X509 *probe = key != NULL ? settle_device_ca_new ("probe.local", 1, key, error) : NULL;
      id->name = probe != NULL ? self_certifying_name (prefix, domain, probe, error) : NULL;
      X509_free (probe);
      if (id->name == NULL)
        {
          EVP_PKEY_free (key);
          return NULL;
        }
      if (!create_all (id, key, error))
        return NULL;
      return g_steal_pointer (&id);
    }
  if (!load_all (id, error))
    return NULL;
  /* The stored name must be this prefix and domain with some hash; after a
   * CA rotation the hash is the old key's, and the name certifies nothing. */
  g_autofree char *expected = self_certifying_name (prefix, domain, id->ca, error);
  if (expected == NULL)
    return NULL;
  gsize head = strlen (prefix) + (prefix[0] != '\0' ? 1 : 0);
  gboolean same_shape = strlen (id->name) == strlen (expected) && strncmp (id->name, expected, head) == 0
                        && g_str_has_suffix (id->name, expected + head + SETTLE_SELF_CERT_HASH_CHARS)
                        && settle_self_cert_parse (id->name, strlen (id->name), NULL) == SETTLE_SELF_CERT_OK;
  if (!same_shape)
    {
      state_error (error, "%s belongs to the device %s, not to a self-certifying %s-<hash>.%s; use another "
                   "--state or reset it.", dir, id->name, prefix, domain);
      return NULL;
    }
  if (strcmp (id->name, expected) != 0)
    *warning = g_strdup_printf ("%s is no longer self-certifying: the device CA was rotated (generation %u), "
                                "and the name carries the hash of an old key, so settle refuses it (pair "
                                "and refresh). Reset the device for a new name (it would be %s).",
                                id->name, id->generation, expected);
  return g_steal_pointer (&id);
}

/* ---- rotation ---- */

static gboolean
retire_current_ca (SettleDeviceIdentity *id, GError **error)
{
  g_autofree char *prev_dir = state_path (id, PREVIOUS_DIR);
  if (g_mkdir_with_parents (prev_dir, 0700) != 0)
    return state_error (error, "Cannot create %s: %s.", prev_dir, g_strerror (errno));
  g_autofree char *file = g_strdup_printf (PREVIOUS_DIR "/ca-%u.pem", id->generation);
  return write_state_pem (id, file, pem_write_cert, id->ca, error);
}

gboolean
settle_device_identity_rotate (SettleDeviceIdentity *id, GError **error)
{
  if (id->generation >= GENERATION_MAX)
    return state_error (error, "The device CA was rotated too often.");
  EVP_PKEY *new_key = settle_device_key_new (error);
  X509 *new_ca = new_key != NULL ? settle_device_ca_new (id->name, id->generation + 1, new_key, error) : NULL;
  X509 *cross = new_ca != NULL ? settle_device_cross_new (new_ca, id->ca, id->ca_key, error) : NULL;
  if (cross == NULL)
    {
      EVP_PKEY_free (new_key);
      X509_free (new_ca);
      return FALSE;
    }
  if (!retire_current_ca (id, error))
    {
      EVP_PKEY_free (new_key);
      X509_free (new_ca);
      X509_free (cross);
      return FALSE;
    }
  g_ptr_array_add (id->previous_cas, id->ca);
  EVP_PKEY_free (id->ca_key);  /* the old CA key is gone once ca.key is replaced below */
  id->ca = new_ca;
  id->ca_key = new_key;
  X509_free (id->ca_cross);
  id->ca_cross = cross;
  id->generation++;
  return write_state_pem (id, CA_KEY, pem_write_key, id->ca_key, error)
         && write_state_pem (id, CA_CERT, pem_write_cert, id->ca, error)
         && write_state_pem (id, CA_CROSS, pem_write_cert, id->ca_cross, error)
         && issue_tls_leaf (id, error)
         && write_device_json (id, error);
}

STACK_OF (X509) *
settle_device_identity_tls_chain (SettleDeviceIdentity *id)
{
  /* After a rotation the cross certificate lets helpers that trust the
   * previous CA reach the new one; others find the new CA by subject. */
  STACK_OF (X509) *chain = sk_X509_new_null ();
  X509 *next = id->ca_cross != NULL ? id->ca_cross : id->ca;
  X509_up_ref (next);
  sk_X509_push (chain, next);
  return chain;
}

gboolean
settle_device_identity_issued (SettleDeviceIdentity *id, X509 *cert)
{
  if (settle_device_cert_issued_by (cert, id->ca))
    return TRUE;
  for (guint i = 0; i < id->previous_cas->len; i++)
    if (settle_device_cert_issued_by (cert, g_ptr_array_index (id->previous_cas, i)))
      return TRUE;
  return FALSE;
}

/* ---- portable mode's discovery key ---- */

gboolean
settle_device_discovery_key (const char *dir, guint8 key[SETTLE_DEVICE_DISCOVERY_KEY_LEN], GError **error)
{
  g_autofree char *path = g_build_filename (dir, DISCOVERY_KEY, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!check_private_mode (path, FALSE, error))
        return FALSE;
      g_autoptr (GError) local = NULL;
      if (!g_file_get_contents (path, &data, &len, &local))
        return state_error (error, "Cannot read %s: %s.", path, local->message);
      gboolean ok = len == SETTLE_DEVICE_DISCOVERY_KEY_LEN;
      if (ok)
        memcpy (key, data, len);
      OPENSSL_cleanse (data, len);
      if (!ok)
        return state_error (error, "%s is not a discovery key (%" G_GSIZE_FORMAT " bytes, not %d): "
                            "a factory reset makes a new one.", path, len, SETTLE_DEVICE_DISCOVERY_KEY_LEN);
      return TRUE;
    }
  /* First use of portable mode: a fresh random key, kept until reset. */
  if (RAND_priv_bytes (key, SETTLE_DEVICE_DISCOVERY_KEY_LEN) != 1)
    return state_error (error, "Cannot make a discovery key: no randomness.");
  return write_private (path, (const char *) key, SETTLE_DEVICE_DISCOVERY_KEY_LEN, error);
}

/* ---- factory reset ---- */

/* Overwrites a key file in place before unlinking it: the bytes should
 * not survive in the file system's free blocks any longer than needed. */
static gboolean
wipe_file (const char *path, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return errno == ENOENT ? TRUE : state_error (error, "Cannot open %s: %s.", path, g_strerror (errno));
  struct stat st;
  gboolean ok = fstat (fd, &st) == 0;
  static const char zeros[4096];
  for (off_t done = 0; ok && done < st.st_size;)
    {
      ssize_t n = write (fd, zeros, (size_t) MIN ((off_t) sizeof zeros, st.st_size - done));
      ok = n > 0;
      done += n > 0 ? n : 0;
    }
  ok = ok && fsync (fd) == 0;
  close (fd);
  if (!ok)
    return state_error (error, "Cannot overwrite %s: %s.", path, g_strerror (errno));
  return TRUE;
}

static gboolean
remove_file (const char *dir, const char *file, gboolean wipe, GError **error)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  if (wipe && !wipe_file (path, error))
    return FALSE;
  if (g_unlink (path) != 0 && errno != ENOENT)
    return state_error (error, "Cannot remove %s: %s.", path, g_strerror (errno));
  return TRUE;
}

static gboolean
remove_previous (const char *dir, GError **error)
{
  g_autofree char *prev = g_build_filename (dir, PREVIOUS_DIR, NULL);
  g_autoptr (GDir) d = g_dir_open (prev, 0, NULL);
  if (d == NULL)
    return TRUE;
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, "ca-") && !remove_file (prev, entry, FALSE, error))
      return FALSE;
  if (g_rmdir (prev) != 0)
    return state_error (error, "Cannot remove %s: %s.", prev, g_strerror (errno));
  return TRUE;
}

gboolean
settle_device_identity_reset (const char *dir, GError **error)
{
  g_autofree char *json = g_build_filename (dir, DEVICE_JSON, NULL);
  if (!g_file_test (json, G_FILE_TEST_IS_REGULAR))
    return state_error (error, "%s is not a settle-device state directory; nothing was removed.", dir);
  /* Keys first: if anything below fails, no key survives a reset. */
  static const char *const keys[] = { CA_KEY, TLS_KEY, DISCOVERY_KEY };
  static const char *const others[] = { CA_CERT, CA_CROSS, TLS_CERT, ENROLMENTS, ORIGINS, DEVICE_JSON };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (!remove_file (dir, keys[i], TRUE, error))
      return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    if (!remove_file (dir, others[i], FALSE, error))
      return FALSE;
  if (!remove_previous (dir, error))
    return FALSE;
  if (g_rmdir (dir) != 0)
    return state_error (error, "Every key and enrolment is gone, but %s still holds other files: %s.",
                        dir, g_strerror (errno));
  return TRUE;
}
