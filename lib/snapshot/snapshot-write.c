/* snapshot-write.c: writing the trust snapshot (settle-snapshot.h).
 *
 * Runs in the helper only, under the state lock.  A generation directory
 * is written under a temporary name, synced, renamed to gen-N, and only
 * then is the `trust` symlink swapped with rename(2): a reader sees the
 * old or the new snapshot, never a mixture, even across a crash.
 * Format and layout: docs/snapshot.md. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cbor.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "settle-anchor-rule.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-record.h"
#include "settle-snapshot-reader.h"
#include "settle-snapshot.h"
#include "snapshot-write-private.h"

#define GENERATION_PREFIX "gen-"
#define TEMP_GENERATION_PREFIX ".gen-"
#define TEMP_LINK_NAME ".trust.tmp"

void
snapshot_item_free (SnapItem *item)
{
  X509_free (item->cert);
  g_free (item->pem);
  g_free (item);
}

/* ---- collecting the certificates ------------------------------------- */

const char *
snapshot_role_name (settle_snap_role role)
{
  switch (role)
    {
    case SETTLE_SNAP_ROOT: return "root";
    case SETTLE_SNAP_CROSS: return "cross";
    case SETTLE_SNAP_PEER: return "peer";
    case SETTLE_SNAP_CLIENT: return "client";
    }
  return "unknown";
}

/* Writes `der` with `name` as one PEM block (owned text, NULL on failure). */
static char *
pem_block (const char *name, const unsigned char *der, gsize len)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  char *pem = NULL;
  if (bio != NULL && PEM_write_bio (bio, name, "", der, (long) len) > 0)
    {
      char *data = NULL;
      long out_len = BIO_get_mem_data (bio, &data);
      if (out_len > 0)
        pem = g_strndup (data, (gsize) out_len);
    }
  BIO_free (bio);
  return pem;
}

/* A certificate as OpenSSL programs read it from the hash links and
 * bundle.pem: `TRUSTED CERTIFICATE` with trust settings for TLS server
 * authentication alone.  There is deliberately no plain-PEM form: GnuTLS
 * (which reads only plain PEM) never checks a trust anchor's purposes,
 * so in its hands a device CA would vouch for client authentication and
 * code signing too (docs/security.md). */
char *
snapshot_trusted_pem (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  if (len <= 0)
    return NULL;
  size_t trust_len;
  const unsigned char *trust = settle_anchor_rule_openssl_trust (&trust_len);
  g_autofree unsigned char *with_trust = g_malloc ((gsize) len + trust_len);
  memcpy (with_trust, der, (size_t) len);
  memcpy (with_trust + len, trust, trust_len);
  OPENSSL_free (der);
  return pem_block (PEM_STRING_X509_TRUSTED, with_trust, (gsize) len + trust_len);
}

/* The scope rule (settle-anchor-rule.h), applied before anything is
 * published: a record that slipped past the checks at ingest (an older
 * settle, a record edited by hand) must not become an issuer. */
static gboolean
check_anchor_rule (const SnapItem *item, GError **error)
{
  char why[256];
  if (settle_anchor_rule_check (item->role, item->cert, why, sizeof why))
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
               "The trust snapshot was not written: the %s certificate of record %s (%s) %s, so it "
               "could vouch for more than its scope. Remove the record (settle remove %s).",
               snapshot_role_name (item->role), item->record->fingerprint, item->record->label, why,
               item->record->fingerprint);
  return FALSE;
}

static gboolean
add_item (GPtrArray *items, const SettleRecord *record, settle_snap_role role, GBytes *der,
          GError **error)
{
  if (der == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "Record %s has no %s certificate to put in the trust snapshot.",
                   record->fingerprint, snapshot_role_name (role));
      return FALSE;
    }
  gsize len = 0;
  const unsigned char *data = g_bytes_get_data (der, &len);
  const unsigned char *p = data;
  X509 *cert = (len > 0 && len <= SETTLE_SNAPSHOT_MAX_CERT) ? d2i_X509 (NULL, &p, (long) len) : NULL;
  if (cert == NULL || p != data + len)
    {
      X509_free (cert);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                   "The %s certificate of record %s is not a single DER certificate of at most %u bytes.",
                   snapshot_role_name (role), record->fingerprint, SETTLE_SNAPSHOT_MAX_CERT);
      return FALSE;
    }
  SnapItem *item = g_new0 (SnapItem, 1);
  item->role = role;
  item->record = record;
  item->cert = cert;
  g_ptr_array_add (items, item);
  if ((item->pem = snapshot_trusted_pem (cert)) == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                   "The %s certificate of record %s cannot be written as PEM.",
                   snapshot_role_name (role), record->fingerprint);
      return FALSE;
    }
  return check_anchor_rule (item, error);
}

/* Returns an owned array of SnapItem*: wrapper root and cross certificate
 * for the CA kinds, the pinned certificate for peers, and the client
 * certificate of every record that has one. */
GPtrArray *
snapshot_collect_items (GPtrArray *records, GError **error)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) snapshot_item_free);
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const SettleRecord *record = g_ptr_array_index (records, i);
      if (!settle_fingerprint_is_canonical (record->fingerprint))
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                       "A record without a canonical 64-hex fingerprint cannot go into the trust snapshot.");
          return NULL;
        }
      /* The one place that decides what is served as a TLS anchor: a
       * manufacturer CA vouches only that a device is genuine, so nothing
       * of it reaches the module, the provider or any export. */
      if (!settle_kind_is_tls_anchor (record->kind))
        continue;
      gboolean ok;
      if (record->kind == SETTLE_KIND_PINNED_PEER)
        ok = add_item (items, record, SETTLE_SNAP_PEER, record->anchor_der, error);
      else
        ok = add_item (items, record, SETTLE_SNAP_ROOT, record->wrapper_root_der, error)
             && add_item (items, record, SETTLE_SNAP_CROSS, record->cross_der, error);
      /* The per-device client certificate is public; its key stays in
       * the store and only the signer (nss-module/signer/) reads it. */
      if (ok && record->client_cert_der != NULL)
        ok = add_item (items, record, SETTLE_SNAP_CLIENT, record->client_cert_der, error);
      if (!ok)
        return NULL;
    }
  return g_steal_pointer (&items);
}

/* ---- CBOR encoding --------------------------------------------------
 * libcbor's encoder, item by item into one growing buffer: the snapshot
 * is written once, so building a tree first would only double the
 * memory.  Heads are at most 9 bytes. */

#define CBOR_HEAD_MAX 9

void
snapshot_put_head (GByteArray *out, size_t (*encode) (size_t, unsigned char *, size_t), size_t value)
{
  unsigned char head[CBOR_HEAD_MAX];
  size_t n = encode (value, head, sizeof head);
  g_assert (n > 0);
  g_byte_array_append (out, head, (guint) n);
}

void
snapshot_put_uint (GByteArray *out, guint64 value)
{
  unsigned char head[CBOR_HEAD_MAX];
  size_t n = cbor_encode_uint (value, head, sizeof head);
  g_assert (n > 0);
  g_byte_array_append (out, head, (guint) n);
}

void
snapshot_put_int (GByteArray *out, gint64 value)
{
  if (value >= 0)
    {
      snapshot_put_uint (out, (guint64) value);
      return;
    }
  unsigned char head[CBOR_HEAD_MAX];
  size_t n = cbor_encode_negint ((guint64) (-(value + 1)), head, sizeof head);
  g_assert (n > 0);
  g_byte_array_append (out, head, (guint) n);
}

void
snapshot_put_bytes (GByteArray *out, const void *data, gsize len)
{
  snapshot_put_head (out, cbor_encode_bytestring_start, len);
  g_byte_array_append (out, data, (guint) len);
}

void
snapshot_put_text (GByteArray *out, const char *text)
{
  gsize len = strlen (text);
  snapshot_put_head (out, cbor_encode_string_start, len);
  g_byte_array_append (out, (const guint8 *) text, (guint) len);
}

void
snapshot_put_text_list (GByteArray *out, char *const *list)
{
  guint n = list ? g_strv_length ((char **) list) : 0;
  snapshot_put_head (out, cbor_encode_array_start, n);
  for (guint i = 0; i < n; i++)
    snapshot_put_text (out, list[i]);
}

/* i2d output as owned GBytes (NULL on failure). */
static GBytes *
name_der (const X509_NAME *name)
{
  unsigned char *der = NULL;
  int len = i2d_X509_NAME (name, &der);
  if (len <= 0)
    return NULL;
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

static GBytes *
serial_der (const ASN1_INTEGER *serial)
{
  unsigned char *der = NULL;
  int len = i2d_ASN1_INTEGER (serial, &der);
  if (len <= 0)
    return NULL;
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

static gboolean
digest (const EVP_MD *md, const void *data, gsize len, unsigned char *out, unsigned int expect)
{
  unsigned int out_len = 0;
  return EVP_Digest (data, len, out, &out_len, md, NULL) == 1 && out_len == expect;
}

static gboolean
not_after_unix (X509 *cert, gint64 *out)
{
  struct tm tm;
  if (ASN1_TIME_to_tm (X509_get0_notAfter (cert), &tm) != 1)
    return FALSE;
  *out = (gint64) timegm (&tm);
  return TRUE;
}

static char *
entry_label (const SnapItem *item)
{
  const char *label = item->record->label ? item->record->label : "";
  switch (item->role)
    {
    case SETTLE_SNAP_ROOT: return g_strconcat (label, " (root)", NULL);
    case SETTLE_SNAP_CROSS: return g_strconcat (label, " (cross)", NULL);
    case SETTLE_SNAP_CLIENT: return g_strconcat (label, " (client)", NULL);
    case SETTLE_SNAP_PEER: break;
    }
  return g_strdup (label);
}

/* The attributes a reader needs, computed here once so that readers never
 * parse ASN.1. */
typedef struct {
  unsigned char *der;          /* owned (OpenSSL) */
  int der_len;
  GBytes *subject, *issuer, *serial;  /* owned */
  unsigned char id[20], sha1[20], md5[16], sha256[32];
  gint64 not_after;
  GBytes *ec_params;           /* owned; client identities only */
} EntryAttrs;

static void
entry_attrs_clear (EntryAttrs *a)
{
  OPENSSL_free (a->der);
  g_clear_pointer (&a->subject, g_bytes_unref);
  g_clear_pointer (&a->issuer, g_bytes_unref);
  g_clear_pointer (&a->serial, g_bytes_unref);
  g_clear_pointer (&a->ec_params, g_bytes_unref);
}

/* The DER OID of an EC key's named curve (what CKA_EC_PARAMS holds), or
 * NULL for any other key: the identity slot signs with ECDSA only. */
static GBytes *
ec_params_der (X509 *cert)
{
  EVP_PKEY *key = X509_get0_pubkey (cert);
  char curve[64];
  if (key == NULL || EVP_PKEY_get_base_id (key) != EVP_PKEY_EC
      || EVP_PKEY_get_utf8_string_param (key, "group", curve, sizeof curve, NULL) != 1)
    return NULL;
  int nid = OBJ_sn2nid (curve);
  ASN1_OBJECT *oid = nid != NID_undef ? OBJ_nid2obj (nid) : NULL;
  unsigned char *der = NULL;
  int len = oid != NULL ? i2d_ASN1_OBJECT (oid, &der) : -1;
  if (len <= 0)
    return NULL;
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

static gboolean
entry_attrs_compute (const SnapItem *item, EntryAttrs *a)
{
  const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr (item->cert);
  a->der_len = i2d_X509 (item->cert, &a->der);
  a->subject = name_der (X509_get_subject_name (item->cert));
  a->issuer = name_der (X509_get_issuer_name (item->cert));
  a->serial = serial_der (X509_get0_serialNumber (item->cert));
  return a->der_len > 0 && a->subject && a->issuer && a->serial && key != NULL
         && digest (EVP_sha1 (), ASN1_STRING_get0_data (key), (gsize) ASN1_STRING_length (key), a->id, 20)
         && digest (EVP_sha1 (), a->der, (gsize) a->der_len, a->sha1, 20)
         && digest (EVP_md5 (), a->der, (gsize) a->der_len, a->md5, 16)
         && digest (EVP_sha256 (), a->der, (gsize) a->der_len, a->sha256, 32)
         && not_after_unix (item->cert, &a->not_after);
}

static void
put_bytes_field (GByteArray *out, const char *key, GBytes *value)
{
  gsize len = 0;
  const void *data = g_bytes_get_data (value, &len);
  snapshot_put_text (out, key);
  snapshot_put_bytes (out, data, len);
}

#define ENTRY_KEYS 15 /* and "ec_params" for client identities */

static gboolean
encode_entry (GByteArray *out, const SnapItem *item, GError **error)
{
  EntryAttrs a = { 0 };
  if (item->role == SETTLE_SNAP_CLIENT && (a.ec_params = ec_params_der (item->cert)) == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                   "The client certificate of record %s does not hold an EC key on a named "
                   "curve; browsers sign with these identities through ECDSA only.",
                   item->record->fingerprint);
      return FALSE;
    }
  if (!entry_attrs_compute (item, &a))
    {
      entry_attrs_clear (&a);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                   "The %s certificate of record %s has fields OpenSSL cannot encode.",
                   snapshot_role_name (item->role), item->record->fingerprint);
      return FALSE;
    }
  g_autofree char *label = entry_label (item);
  static char *const no_names[] = { NULL };

  snapshot_put_head (out, cbor_encode_map_start, ENTRY_KEYS + (a.ec_params != NULL));
  snapshot_put_text (out, "role");
  snapshot_put_text (out, snapshot_role_name (item->role));
  snapshot_put_text (out, "der");
  snapshot_put_bytes (out, a.der, (gsize) a.der_len);
  put_bytes_field (out, "subject", a.subject);
  put_bytes_field (out, "issuer", a.issuer);
  put_bytes_field (out, "serial", a.serial);
  snapshot_put_text (out, "id");
  snapshot_put_bytes (out, a.id, sizeof a.id);
  snapshot_put_text (out, "sha1");
  snapshot_put_bytes (out, a.sha1, sizeof a.sha1);
  snapshot_put_text (out, "md5");
  snapshot_put_bytes (out, a.md5, sizeof a.md5);
  snapshot_put_text (out, "sha256");
  snapshot_put_bytes (out, a.sha256, sizeof a.sha256);
  snapshot_put_text (out, "label");
  snapshot_put_text (out, label);
  snapshot_put_text (out, "record");
  snapshot_put_text (out, item->record->fingerprint);
  /* A pinned peer is trusted for itself, never as an issuer, and a client
   * identity is not trusted at all: neither has a scope. */
  snapshot_put_text (out, "scope");
  gboolean vouches = item->role == SETTLE_SNAP_ROOT || item->role == SETTLE_SNAP_CROSS;
  snapshot_put_text_list (out, vouches ? item->record->scope : no_names);
  snapshot_put_text (out, "names");
  snapshot_put_text_list (out, item->record->names);
  snapshot_put_text (out, "not_after");
  snapshot_put_int (out, a.not_after);
  /* The record's kind, so that a reader can refuse what must never be
   * an anchor even if a writer published it by mistake. */
  snapshot_put_text (out, "kind");
  snapshot_put_text (out, settle_kind_to_string (item->record->kind));
  if (a.ec_params != NULL)
    put_bytes_field (out, "ec_params", a.ec_params);
  entry_attrs_clear (&a);
  return TRUE;
}

void
snapshot_put_index_head (GByteArray *out, guint64 generation, size_t n_entries)
{
  snapshot_put_head (out, cbor_encode_map_start, 4);
  snapshot_put_text (out, "v");
  snapshot_put_uint (out, SETTLE_SNAPSHOT_VERSION);
  snapshot_put_text (out, "generation");
  snapshot_put_uint (out, generation);
  snapshot_put_text (out, "written");
  snapshot_put_uint (out, (guint64) (g_get_real_time () / G_USEC_PER_SEC));
  snapshot_put_text (out, "entries");
  snapshot_put_head (out, cbor_encode_array_start, n_entries);
}

/* Returns the owned index.cbor bytes. */
GByteArray *
snapshot_encode_index (GPtrArray *items, guint64 generation, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  snapshot_put_index_head (out, generation, items->len);
  for (guint i = 0; i < items->len; i++)
    if (!encode_entry (out, g_ptr_array_index (items, i), error))
      return NULL;
  return g_steal_pointer (&out);
}

/* The writer never publishes what its readers would refuse (a name
 * outside the local namespaces, an oversized field): that would silently
 * empty the trust store of every browser. */
settle_snapshot *
snapshot_check_readers_accept (const GByteArray *index, GError **error)
{
  char why[256];
  settle_snapshot *snap = NULL;
  if (settle_snapshot_parse (index->data, index->len, &snap, why, sizeof why) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The trust snapshot was not written because its readers would refuse it: %s", why);
      return NULL;
    }
  return snap;
}

/* ---- files -------------------------------------------------------------- */

gboolean
snapshot_set_errno_error (GError **error, int err, const char *what, const char *path)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "Cannot %s %s: %s.", what, path,
               g_strerror (err));
  return FALSE;
}

static gboolean
write_all (int fd, const void *data, gsize len)
{
  const guint8 *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Writes a new public (0644) file in dir_fd and syncs it. */
gboolean
snapshot_write_file_synced (int dir_fd, const char *dir, const char *name, const void *data, gsize len,
                   GError **error)
{
  int fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      return snapshot_set_errno_error (error, errno, "create", path);
    }
  /* fchmod: the umask must not make public trust data unreadable. */
  gboolean ok = write_all (fd, data, len) && fchmod (fd, 0644) == 0 && fsync (fd) == 0;
  int saved = errno;
  if (close (fd) != 0 && ok)
    {
      ok = FALSE;
      saved = errno;
    }
  if (!ok)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      return snapshot_set_errno_error (error, saved, "write", path);
    }
  return TRUE;
}

gboolean
snapshot_sync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return snapshot_set_errno_error (error, errno, "open", dir);
  int rc = fsync (fd);
  int saved = errno;
  close (fd);
  if (rc != 0)
    return snapshot_set_errno_error (error, saved, "sync", dir);
  return TRUE;
}

gboolean
snapshot_item_subject_hash (const SnapItem *item, unsigned long *hash, GError **error)
{
  int ok = 0;
  *hash = X509_NAME_hash_ex (X509_get_subject_name (item->cert), NULL, NULL, &ok);
  if (ok == 1)
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "The subject of the %s certificate of record %s cannot be hashed.",
               snapshot_role_name (item->role), item->record->fingerprint);
  return FALSE;
}

/* The OpenSSL hash-directory names (`openssl rehash`): subject hash and a
 * counter for subjects that collide. */
char *
snapshot_item_hash_file_name (const SnapItem *item, GHashTable *used, GError **error)
{
  unsigned long hash;
  if (!snapshot_item_subject_hash (item, &hash, error))
    return NULL;
  gpointer key = GSIZE_TO_POINTER ((gsize) hash);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (used, key));
  g_hash_table_insert (used, key, GUINT_TO_POINTER (n + 1));
  return g_strdup_printf ("%08lx.%u", hash, n);
}

/* index.snap (docs/snapshot.md), written after index.cbor and bound to
 * it by its size and mtime: the same entries, laid out for the module and
 * the provider to map and search in place.  Encoded from entries the
 * reader accepted, and checked by the mapped reader, entry by entry,
 * before it is written. */
gboolean
snapshot_write_mapped_index (int dir_fd, const char *dir, const settle_snap_entry *const *entries, size_t count,
                             guint64 generation, GError **error)
{
  struct stat st;
  if (fstatat (dir_fd, SETTLE_SNAPSHOT_INDEX, &st, AT_SYMLINK_NOFOLLOW) != 0)
    {
      g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_INDEX, NULL);
      return snapshot_set_errno_error (error, errno, "stat", path);
    }
  char why[256] = "";
  settle_snapshot *snap = NULL;
  guint8 *bytes = NULL;
  size_t len = 0;
  gboolean ok = settle_snapshot_encode_mapped_entries (entries, count, generation,
                                                       (guint64) (g_get_real_time () / G_USEC_PER_SEC),
                                                       (guint64) st.st_size, st.st_mtim, &bytes, &len,
                                                       why, sizeof why) == 0;
  if (ok && settle_snapshot_parse_mapped (bytes, len, &snap, why, sizeof why) == 0)
    {
      for (size_t i = 0; ok && i < settle_snapshot_count (snap); i++)
        if (settle_snapshot_entry (snap, i) == NULL)
          {
            g_strlcpy (why, settle_snapshot_refusal (snap), sizeof why);
            ok = FALSE;
          }
      settle_snapshot_free (snap);
    }
  else
    ok = FALSE;
  if (!ok)
    {
      free (bytes);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The trust snapshot was not written because its mapped index failed: %s", why);
      return FALSE;
    }
  ok = snapshot_write_file_synced (dir_fd, dir, SETTLE_SNAPSHOT_MAPPED, bytes, len, error);
  free (bytes);
  return ok;
}

/* The entries of a loaded snapshot as an owned array of borrowed
 * pointers (all valid: it was decoded, not mapped). */
static const settle_snap_entry **
entries_of (const settle_snapshot *snap)
{
  size_t count = settle_snapshot_count (snap);
  const settle_snap_entry **entries = g_new0 (const settle_snap_entry *, count + 1);
  for (size_t i = 0; i < count; i++)
    entries[i] = settle_snapshot_entry (snap, i);
  return entries;
}

typedef struct {
  GPtrArray *items;             /* SnapItem*, borrowed */
  const GByteArray *index;      /* index.cbor, borrowed */
  const settle_snapshot *decoded; /* index as its reader decoded it, borrowed */
} FullGeneration;

static gboolean
write_full_generation (const char *dir, int dir_fd, guint64 generation, gpointer data, GError **error)
{
  const FullGeneration *full = data;
  g_autoptr (GString) bundle = g_string_new (NULL);
  g_autoptr (GHashTable) used = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autofree const settle_snap_entry **entries = entries_of (full->decoded);
  gboolean ok = snapshot_write_file_synced (dir_fd, dir, SETTLE_SNAPSHOT_INDEX, full->index->data,
                                            full->index->len, error)
                && snapshot_write_mapped_index (dir_fd, dir, entries, settle_snapshot_count (full->decoded),
                                                generation, error);
  for (guint i = 0; ok && i < full->items->len; i++)
    {
      const SnapItem *item = g_ptr_array_index (full->items, i);
      /* bundle.pem and the hash links are trust material for OpenSSL. */
      if (item->role == SETTLE_SNAP_CLIENT)
        continue;
      g_autofree char *name = snapshot_item_hash_file_name (item, used, error);
      if (name == NULL)
        {
          ok = FALSE;
          break;
        }
      g_string_append (bundle, item->pem);
      ok = snapshot_write_file_synced (dir_fd, dir, name, item->pem, strlen (item->pem), error);
    }
  if (ok)
    ok = snapshot_write_file_synced (dir_fd, dir, SETTLE_SNAPSHOT_BUNDLE, bundle->str, bundle->len, error);
  return ok;
}

/* Removes a generation directory written by us: plain files only.  A
 * symlink (or anything else) in its place is unlinked, never followed:
 * the files behind it are not ours. */
void
snapshot_remove_generation_dir (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *listing = fd >= 0 ? fdopendir (fd) : NULL;
  if (listing == NULL)
    {
      if (fd >= 0)
        close (fd);
      else if ((errno == ENOTDIR || errno == ELOOP) && unlink (path) != 0)
        g_debug ("cannot remove %s: %s", path, g_strerror (errno));
      return;
    }
  struct dirent *entry;
  while ((entry = readdir (listing)) != NULL)
    if (strcmp (entry->d_name, ".") != 0 && strcmp (entry->d_name, "..") != 0
        && unlinkat (dirfd (listing), entry->d_name, 0) != 0)
      g_debug ("cannot remove %s/%s: %s", path, entry->d_name, g_strerror (errno));
  closedir (listing);
  if (g_rmdir (path) != 0)
    g_debug ("cannot remove %s: %s", path, g_strerror (errno));
}

/* ---- generations ------------------------------------------------------- */

static gboolean
parse_generation_name (const char *name, guint64 *out)
{
  if (!g_str_has_prefix (name, GENERATION_PREFIX))
    return FALSE;
  return g_ascii_string_to_unsigned (name + strlen (GENERATION_PREFIX), 10, 1, G_MAXUINT64 - 1,
                                     out, NULL);
}

/* One more than `highest` and than the number of every generation
 * directory in `snapshots_dir`. */
static guint64
after_generation_dirs (const char *snapshots_dir, guint64 highest)
{
  GDir *dir = g_dir_open (snapshots_dir, 0, NULL);
  if (dir != NULL)
    {
      const char *name;
      guint64 n;
      while ((name = g_dir_read_name (dir)) != NULL)
        if (parse_generation_name (name, &n) && n > highest)
          highest = n;
      g_dir_close (dir);
    }
  return highest + 1;
}

/* One more than both the current index and any generation directory:
 * the second guards against an unreadable current index and against
 * reusing a number a crashed writer left behind. */
static guint64
next_generation (const char *trust_dir, const char *snapshots_dir)
{
  guint64 highest = 0;
  settle_snapshot *current = NULL;
  char why[256];
  /* Opened, not loaded: the generation is in index.snap's header. */
  if (settle_snapshot_open (trust_dir, &current, why, sizeof why) == 0)
    {
      highest = settle_snapshot_generation (current);
      settle_snapshot_free (current);
    }
  else
    g_debug ("current snapshot unreadable, numbering from the directories: %s", why);

  return after_generation_dirs (snapshots_dir, highest);
}

/* The name of the generation `trust` points at now (owned), or NULL. */
static char *
current_generation_name (const char *trust_dir)
{
  g_autofree char *target = g_file_read_link (trust_dir, NULL);
  return target ? g_path_get_basename (target) : NULL;
}

/* Deletes every generation but `keep_new` and `keep_old`, and temporary
 * directories crashed writers left; failures only cost disk space. */
static void
prune_generations (const char *snapshots_dir, const char *keep_new, const char *keep_old)
{
  GDir *dir = g_dir_open (snapshots_dir, 0, NULL);
  if (dir == NULL)
    return;
  g_autoptr (GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint64 n;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gboolean ours = parse_generation_name (name, &n) || g_str_has_prefix (name, TEMP_GENERATION_PREFIX);
      if (ours && g_strcmp0 (name, keep_new) != 0 && g_strcmp0 (name, keep_old) != 0)
        g_ptr_array_add (doomed, g_build_filename (snapshots_dir, name, NULL));
    }
  g_dir_close (dir);
  for (guint i = 0; i < doomed->len; i++)
    snapshot_remove_generation_dir (g_ptr_array_index (doomed, i));
}

/* Creates `path` (0755 whatever the umask: the snapshot is public) unless
 * it exists, then checks that it is the user's own real directory.  A
 * directory others can write, or a symlink planted in its place, would let
 * someone else decide what every browser of this user trusts. */
static gboolean
ensure_own_dir (const char *path, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    return snapshot_set_errno_error (error, errno, "create", parent);
  if (mkdir (path, 0755) == 0)
    {
      if (chmod (path, 0755) != 0)
        return snapshot_set_errno_error (error, errno, "set the mode of", path);
    }
  else if (errno != EEXIST)
    return snapshot_set_errno_error (error, errno, "create", path);

  struct stat st;
  if (lstat (path, &st) != 0)
    return snapshot_set_errno_error (error, errno, "inspect", path);
  const char *problem = NULL;
  if (S_ISLNK (st.st_mode))
    problem = "is a symlink; settle writes the trust snapshot only into a real directory";
  else if (!S_ISDIR (st.st_mode))
    problem = "is not a directory";
  else if (st.st_uid != geteuid ())
    problem = "belongs to another user";
  else if (st.st_mode & (S_IWGRP | S_IWOTH))
    problem = "can be written by other users (make it 0755 or 0700)";
  if (problem == NULL)
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "The trust snapshot was not written: %s %s.", path,
               problem);
  return FALSE;
}

/* `trust` must be a symlink we may replace, or absent.  A real directory
 * there was put by someone else: refuse rather than delete it. */
static gboolean
check_trust_path (const char *trust_dir, GError **error)
{
  struct stat st;
  if (lstat (trust_dir, &st) != 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return snapshot_set_errno_error (error, errno, "inspect", trust_dir);
    }
  if (S_ISLNK (st.st_mode))
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
               "%s is a real %s, not the symlink settle manages; move it away to let settle write the trust snapshot.",
               trust_dir, S_ISDIR (st.st_mode) ? "directory" : "file");
  return FALSE;
}

/* Points trust_dir at snapshots/<gen_name> atomically: a new symlink under
 * a temporary name, renamed over the old one. */
static gboolean
swap_trust_link (const char *data_dir, const char *trust_dir, const char *gen_name, GError **error)
{
  g_autofree char *target = g_build_filename ("snapshots", gen_name, NULL);
  g_autofree char *temp_link = g_build_filename (data_dir, TEMP_LINK_NAME, NULL);
  if (unlink (temp_link) != 0 && errno != ENOENT)
    return snapshot_set_errno_error (error, errno, "remove", temp_link);
  if (symlink (target, temp_link) != 0)
    return snapshot_set_errno_error (error, errno, "create the symlink", temp_link);
  if (rename (temp_link, trust_dir) != 0)
    {
      int saved = errno;
      unlink (temp_link);
      return snapshot_set_errno_error (error, saved, "replace", trust_dir);
    }
  return snapshot_sync_dir (data_dir, error);
}

/* The generation directory the prune after this change would delete
 * (owned path), or NULL: the highest-numbered gen-* but `keep_name` (the
 * one `trust` points at, kept as the previous generation), if it is a real
 * directory of this user (lstat: a symlink is never followed). */
static char *
recycle_candidate (const char *snapshots_dir, const char *keep_name)
{
  GDir *dir = g_dir_open (snapshots_dir, 0, NULL);
  if (dir == NULL || keep_name == NULL)
    {
      if (dir != NULL)
        g_dir_close (dir);
      return NULL;
    }
  g_autofree char *best = NULL;
  guint64 best_n = 0, n;
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (parse_generation_name (name, &n) && strcmp (name, keep_name) != 0 && (best == NULL || n > best_n))
      {
        g_free (best);
        best = g_strdup (name);
        best_n = n;
      }
  g_dir_close (dir);
  if (best == NULL)
    return NULL;
  char *path = g_build_filename (snapshots_dir, best, NULL);
  struct stat st;
  if (lstat (path, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != geteuid ())
    {
      g_free (path);
      return NULL;
    }
  return path;
}

/* A directory for generation `generation` under a temporary name (owned
 * path): with `recycle`, the generation the prune would delete, renamed
 * onto a fresh empty directory (so no path a reader uses leads into it
 * while it changes); else, or when there is none, that fresh directory.
 * A recycled directory still holds its old files: the writer must make
 * it hold exactly the new generation (snapshot-change.c). */
static char *
make_work_dir (const char *snapshots_dir, guint64 generation, const char *keep_name, gboolean recycle,
               GError **error)
{
  char *work_dir = g_strdup_printf ("%s/" TEMP_GENERATION_PREFIX "%012" G_GUINT64_FORMAT ".XXXXXX",
                                    snapshots_dir, generation);
  if (g_mkdtemp_full (work_dir, 0755) == NULL)
    {
      snapshot_set_errno_error (error, errno, "create", work_dir);
      g_free (work_dir);
      return NULL;
    }
  g_autofree char *candidate = recycle ? recycle_candidate (snapshots_dir, keep_name) : NULL;
  if (candidate != NULL && rename (candidate, work_dir) != 0)
    g_debug ("cannot recycle %s, writing a fresh generation: %s", candidate, g_strerror (errno));
  return work_dir;
}

/* The work directory, opened: the user's own real directory (a symlink
 * swapped in is refused), public (0755 whatever the umask). */
static int
open_work_dir (const char *work_dir, GError **error)
{
  int fd = open (work_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0)
    {
      snapshot_set_errno_error (error, errno, "open", work_dir);
      return -1;
    }
  if (fstat (fd, &st) != 0)
    snapshot_set_errno_error (error, errno, "inspect", work_dir);
  else if (st.st_uid != geteuid ())
    snapshot_set_errno_error (error, EPERM, "write into", work_dir);
  else if (fchmod (fd, 0755) != 0)
    snapshot_set_errno_error (error, errno, "set the mode of", work_dir);
  else
    return fd;
  close (fd);
  return -1;
}

/* Writes the complete generation under a temporary name (through
 * `write_files`, which syncs every file it writes) and renames it into
 * place.  Returns the owned final name (gen-N) or NULL. */
static char *
publish_generation (const char *snapshots_dir, guint64 generation, const char *keep_name, gboolean recycle,
                    SnapshotFilesWriter write_files, gpointer data, GError **error)
{
  g_autofree char *gen_name = g_strdup_printf (GENERATION_PREFIX "%012" G_GUINT64_FORMAT, generation);
  g_autofree char *final_dir = g_build_filename (snapshots_dir, gen_name, NULL);
  g_autofree char *temp_dir = make_work_dir (snapshots_dir, generation, keep_name, recycle, error);
  if (temp_dir == NULL)
    return NULL;
  int dir_fd = open_work_dir (temp_dir, error);
  gboolean ok = dir_fd >= 0 && write_files (temp_dir, dir_fd, generation, data, error);
  if (ok && fsync (dir_fd) != 0)
    ok = snapshot_set_errno_error (error, errno, "sync", temp_dir);
  if (dir_fd >= 0)
    close (dir_fd);
  if (ok && rename (temp_dir, final_dir) != 0)
    ok = snapshot_set_errno_error (error, errno, "rename", temp_dir);
  if (!ok)
    {
      snapshot_remove_generation_dir (temp_dir);
      return NULL;
    }
  if (!snapshot_sync_dir (snapshots_dir, error))
    return NULL;
  return g_steal_pointer (&gen_name);
}

gboolean
snapshot_prepare_dirs (const char *trust_dir, char **snapshots_dir_out, GError **error)
{
  if (!check_trust_path (trust_dir, error))
    return FALSE;
  g_autofree char *data_dir = g_path_get_dirname (trust_dir);
  g_autofree char *snapshots_dir = g_build_filename (data_dir, "snapshots", NULL);
  if (!ensure_own_dir (data_dir, error) || !ensure_own_dir (snapshots_dir, error))
    return FALSE;
  *snapshots_dir_out = g_steal_pointer (&snapshots_dir);
  return TRUE;
}

guint64
snapshot_next_generation (const char *trust_dir, const char *snapshots_dir, const settle_snapshot *current)
{
  if (current == NULL)
    return next_generation (trust_dir, snapshots_dir);
  guint64 highest = settle_snapshot_generation (current);
  return after_generation_dirs (snapshots_dir, highest);
}

gboolean
snapshot_publish (const char *trust_dir, const char *snapshots_dir, guint64 generation, gboolean recycle,
                  SnapshotFilesWriter write_files, gpointer data, GError **error)
{
  g_autofree char *data_dir = g_path_get_dirname (trust_dir);
  g_autofree char *old_name = current_generation_name (trust_dir);
  g_autofree char *new_name = publish_generation (snapshots_dir, generation, old_name, recycle, write_files, data,
                                                  error);
  if (new_name == NULL)
    return FALSE;
  if (!swap_trust_link (data_dir, trust_dir, new_name, error))
    return FALSE;
  prune_generations (snapshots_dir, new_name, old_name);
  return TRUE;
}

gboolean
settle_snapshot_write (const char *trust_dir, GPtrArray *records, GError **error)
{
  g_return_val_if_fail (trust_dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *snapshots_dir = NULL;
  if (!snapshot_prepare_dirs (trust_dir, &snapshots_dir, error))
    return FALSE;
  g_autoptr (GPtrArray) items = snapshot_collect_items (records, error);
  if (items == NULL)
    return FALSE;
  guint64 generation = next_generation (trust_dir, snapshots_dir);
  g_autoptr (GByteArray) index = snapshot_encode_index (items, generation, error);
  settle_snapshot *decoded = NULL;
  if (index == NULL || (decoded = snapshot_check_readers_accept (index, error)) == NULL)
    return FALSE;
  FullGeneration full = { items, index, decoded };
  gboolean ok = snapshot_publish (trust_dir, snapshots_dir, generation, FALSE, write_full_generation, &full,
                                  error);
  settle_snapshot_free (decoded);
  return ok;
}
