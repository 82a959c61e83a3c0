/* test-snapshot-write.c: settle_snapshot_write and the reader against
 * each other, with real certificates and the real `openssl verify`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/x509.h>

#include "settle-error.h"
#include "settle-paths.h"
#include "settle-record.h"
#include "settle-snapshot-reader.h"
#include "settle-snapshot.h"
#include "snapshot-test-certs.h"

/* Certificates shared by every test (built once in main; owned here). */
static struct {
  gint64 not_after;
  EVP_PKEY *root_a_key, *root_b_key, *dev_key, *dev2_key, *peer_key, *leaf_key, *stranger_key;
  X509 *root_a, *root_b, *device_ca, *cross_a, *cross_b, *peer, *leaf, *stranger_ca, *stranger_leaf;
} certs;

/* Per-test world: a private data dir with `trust` inside. */
typedef struct {
  char *data_dir;   /* owned */
  char *trust;      /* owned: data_dir/trust */
  GPtrArray *records; /* owned SettleRecord* */
} Fixture;

#define DEVICE_CN "Device CA"
#define CROSS_SERIAL 2002   /* both cross certificates: only the issuer tells them apart */

static void
build_certs (void)
{
  certs.not_after = (gint64) time (NULL) + 400 * 86400;
  certs.root_a_key = stc_key_new ();
  certs.root_b_key = stc_key_new ();
  certs.dev_key = stc_key_new ();
  certs.dev2_key = stc_key_new ();
  certs.peer_key = stc_key_new ();
  certs.leaf_key = stc_key_new ();
  certs.stranger_key = stc_key_new ();
  certs.root_a = stc_wrapper_new ("settle root A", certs.root_a_key, NULL, NULL, 1001, "local", certs.not_after);
  certs.root_b = stc_wrapper_new ("settle root B", certs.root_b_key, NULL, NULL, 1002, "local", certs.not_after);
  certs.device_ca = stc_cert_new (DEVICE_CN, certs.dev_key, NULL, NULL, 7, TRUE, NULL, certs.not_after);
  certs.cross_a = stc_wrapper_new (DEVICE_CN, certs.dev_key, certs.root_a, certs.root_a_key, CROSS_SERIAL,
                                   "local", certs.not_after);
  certs.cross_b = stc_wrapper_new (DEVICE_CN, certs.dev2_key, certs.root_b, certs.root_b_key, CROSS_SERIAL,
                                   "local", certs.not_after);
  certs.peer = stc_cert_new ("nas.local", certs.peer_key, NULL, NULL, 3003, FALSE, "nas.local",
                             certs.not_after);
  certs.leaf = stc_cert_new ("printer.local", certs.leaf_key, certs.cross_a, certs.dev_key, 4004, FALSE,
                             "printer.local", certs.not_after - 86400);
  certs.stranger_ca = stc_cert_new ("Stranger CA", certs.stranger_key, NULL, NULL, 9, TRUE, NULL,
                                    certs.not_after);
  certs.stranger_leaf = stc_cert_new ("printer.local", certs.leaf_key, certs.stranger_ca,
                                      certs.stranger_key, 4005, FALSE, "printer.local", certs.not_after - 86400);
}

static void
free_certs (void)
{
  X509 *all_certs[] = { certs.root_a, certs.root_b, certs.device_ca, certs.cross_a, certs.cross_b,
                        certs.peer, certs.leaf, certs.stranger_ca, certs.stranger_leaf };
  EVP_PKEY *all_keys[] = { certs.root_a_key, certs.root_b_key, certs.dev_key, certs.dev2_key,
                           certs.peer_key, certs.leaf_key, certs.stranger_key };
  for (gsize i = 0; i < G_N_ELEMENTS (all_certs); i++)
    X509_free (all_certs[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (all_keys); i++)
    EVP_PKEY_free (all_keys[i]);
}

static SettleRecord *
ca_record (SettleKind kind, const char *label, X509 *anchor, X509 *root, X509 *cross,
           const char *const *names, const char *const *scope)
{
  SettleRecord *r = settle_record_new ();
  r->kind = kind;
  g_free (r->label);
  r->label = g_strdup (label);
  r->fingerprint = stc_fingerprint (anchor);
  g_strfreev (r->names);
  r->names = g_strdupv ((char **) names);
  g_strfreev (r->scope);
  r->scope = g_strdupv ((char **) scope);
  r->anchor_der = stc_der (anchor);
  if (root != NULL)
    r->wrapper_root_der = stc_der (root);
  if (cross != NULL)
    r->cross_der = stc_der (cross);
  r->expires = certs.not_after;
  return r;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  (void) data;
  static const char *const printer[] = { "printer.local", NULL };
  static const char *const nothing[] = { NULL };
  static const char *const home[] = { "home.arpa", NULL };
  static const char *const nas[] = { "nas.local", NULL };

  f->data_dir = g_dir_make_tmp ("settle-snapshot-XXXXXX", NULL);
  g_assert_nonnull (f->data_dir);
  f->trust = g_build_filename (f->data_dir, "trust", NULL);
  f->records = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_record_free);
  g_ptr_array_add (f->records, ca_record (SETTLE_KIND_DEVICE_CA, "Printer", certs.device_ca,
                                          certs.root_a, certs.cross_a, printer, printer));
  g_ptr_array_add (f->records, ca_record (SETTLE_KIND_REFEREE_CA, "Home referee", certs.device_ca,
                                          certs.root_b, certs.cross_b, nothing, home));
  /* Distinct fingerprints: the referee record is keyed by its cross's anchor. */
  SettleRecord *referee = g_ptr_array_index (f->records, 1);
  g_free (referee->fingerprint);
  referee->fingerprint = stc_fingerprint (certs.cross_b);
  g_ptr_array_add (f->records, ca_record (SETTLE_KIND_PINNED_PEER, "Old NAS", certs.peer,
                                          NULL, NULL, nas, nothing));
}

static void
remove_tree (const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", path);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  (void) data;
  remove_tree (f->data_dir);
  g_free (f->data_dir);
  g_free (f->trust);
  g_ptr_array_unref (f->records);
}

static settle_snapshot *
load_ok (const char *dir)
{
  char err[512] = "";
  settle_snapshot *snap = NULL;
  int rc = settle_snapshot_load (dir, &snap, err, sizeof err);
  if (rc != 0)
    g_error ("load failed: %s", err);
  g_assert_nonnull (snap);
  return snap;
}

static void
write_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = settle_snapshot_write (f->trust, f->records, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
assert_bytes (settle_bytes got, GBytes *want)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (want, &len);
  g_assert_cmpmem (got.data, got.len, data, len);
}

static GBytes *
i2d_name (const X509_NAME *name)
{
  unsigned char *der = NULL;
  int len = i2d_X509_NAME (name, &der);
  g_assert_cmpint (len, >, 0);
  GBytes *b = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return b;
}

static GBytes *
i2d_serial (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_ASN1_INTEGER (X509_get0_serialNumber (cert), &der);
  g_assert_cmpint (len, >, 0);
  GBytes *b = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return b;
}

static void
assert_digest (GChecksumType type, GBytes *data, const guint8 *got, gsize got_len)
{
  g_autoptr (GChecksum) sum = g_checksum_new (type);
  guint8 want[32];
  gsize want_len = sizeof want;
  g_checksum_update (sum, g_bytes_get_data (data, NULL), (gssize) g_bytes_get_size (data));
  g_checksum_get_digest (sum, want, &want_len);
  g_assert_cmpmem (got, got_len, want, want_len);
}

static void
assert_strv (const char *const *got, const char *const *want)
{
  g_assert_cmpstrv ((const char *const *) got, want);
}

static void
assert_entry (const settle_snap_entry *e, settle_snap_role role, X509 *cert, const SettleRecord *record,
              const char *label)
{
  static const char *const nothing[] = { NULL };
  g_autoptr (GBytes) der = stc_der (cert);
  g_autoptr (GBytes) subject = i2d_name (X509_get_subject_name (cert));
  g_autoptr (GBytes) issuer = i2d_name (X509_get_issuer_name (cert));
  g_autoptr (GBytes) serial = i2d_serial (cert);
  const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr (cert);
  g_autoptr (GBytes) key_bits = g_bytes_new (ASN1_STRING_get0_data (key), (gsize) ASN1_STRING_length (key));

  g_assert_nonnull (e);
  g_assert_cmpint (e->role, ==, role);
  assert_bytes (e->der, der);
  assert_bytes (e->subject, subject);
  assert_bytes (e->issuer, issuer);
  assert_bytes (e->serial, serial);
  g_assert_cmpint (e->serial.data[0], ==, 0x02);
  assert_digest (G_CHECKSUM_SHA1, key_bits, e->id.data, e->id.len);
  assert_digest (G_CHECKSUM_SHA1, der, e->sha1, sizeof e->sha1);
  assert_digest (G_CHECKSUM_MD5, der, e->md5, sizeof e->md5);
  assert_digest (G_CHECKSUM_SHA256, der, e->sha256, sizeof e->sha256);
  g_assert_cmpstr (e->label, ==, label);
  g_assert_cmpstr (e->record, ==, record->fingerprint);
  assert_strv (e->scope, role == SETTLE_SNAP_PEER ? nothing : (const char *const *) record->scope);
  assert_strv (e->names, (const char *const *) record->names);
  g_assert_cmpint (e->not_after, ==, certs.not_after);
}

static void
test_fields (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  settle_snapshot *snap = load_ok (f->trust);
  const SettleRecord *printer = g_ptr_array_index (f->records, 0);
  const SettleRecord *referee = g_ptr_array_index (f->records, 1);
  const SettleRecord *nas = g_ptr_array_index (f->records, 2);

  g_assert_cmpuint (settle_snapshot_generation (snap), ==, 1);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 5);
  assert_entry (settle_snapshot_entry (snap, 0), SETTLE_SNAP_ROOT, certs.root_a, printer, "Printer (root)");
  assert_entry (settle_snapshot_entry (snap, 1), SETTLE_SNAP_CROSS, certs.cross_a, printer, "Printer (cross)");
  assert_entry (settle_snapshot_entry (snap, 2), SETTLE_SNAP_ROOT, certs.root_b, referee, "Home referee (root)");
  assert_entry (settle_snapshot_entry (snap, 3), SETTLE_SNAP_CROSS, certs.cross_b, referee, "Home referee (cross)");
  assert_entry (settle_snapshot_entry (snap, 4), SETTLE_SNAP_PEER, certs.peer, nas, "Old NAS");
  g_assert_null (settle_snapshot_entry (snap, 5));
  settle_snapshot_free (snap);
}

/* A manufacturer CA vouches only that a device is genuine: the writer
 * publishes nothing of it, even a record that (by a bug elsewhere) carries
 * a wrapper root and a cross certificate. */
static void
test_manufacturer_never_published (Fixture *f, gconstpointer data)
{
  (void) data;
  static const char *const printer[] = { "printer.local", NULL };
  static const char *const nothing[] = { NULL };
  SettleRecord *maker = ca_record (SETTLE_KIND_MANUFACTURER_CA, "Test Maker", certs.device_ca, certs.root_a,
                                   certs.cross_a, nothing, printer);
  g_free (maker->fingerprint);
  maker->fingerprint = g_strnfill (64, 'e');
  g_ptr_array_add (f->records, maker);
  write_ok (f);
  settle_snapshot *snap = load_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 5);
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    g_assert_cmpstr (settle_snapshot_entry (snap, i)->record, !=, maker->fingerprint);
  settle_snapshot_free (snap);
}

/* The entry whose certificate is der[0..len), by a walk over the public
 * entries, as the module matches CKA_VALUE on its own objects: the reader
 * keeps an index by subject only (the provider's lookup). */
static const settle_snap_entry *
entry_with_der (const settle_snapshot *snap, const guint8 *der, gsize len)
{
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      if (e->der.len == len && memcmp (e->der.data, der, len) == 0)
        return e;
    }
  return NULL;
}

static void
test_lookups (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  settle_snapshot *snap = load_ok (f->trust);
  g_autoptr (GBytes) device = i2d_name (X509_get_subject_name (certs.cross_a));
  g_autoptr (GBytes) root_a = i2d_name (X509_get_subject_name (certs.root_a));
  g_autoptr (GBytes) root_b = i2d_name (X509_get_subject_name (certs.root_b));
  g_autoptr (GBytes) stranger = i2d_name (X509_get_subject_name (certs.stranger_ca));
  g_autoptr (GBytes) serial = i2d_serial (certs.cross_a);
  g_autoptr (GBytes) other_serial = i2d_serial (certs.leaf);
  gsize dlen, alen, blen, slen, serlen, oslen;
  const guint8 *d = g_bytes_get_data (device, &dlen), *a = g_bytes_get_data (root_a, &alen);
  const guint8 *b = g_bytes_get_data (root_b, &blen), *s = g_bytes_get_data (stranger, &slen);
  const guint8 *ser = g_bytes_get_data (serial, &serlen), *oser = g_bytes_get_data (other_serial, &oslen);

  /* Two cross certificates share the device CA's subject. */
  size_t cursor = 0;
  const settle_snap_entry *first = settle_snapshot_find_subject (snap, d, dlen, &cursor);
  const settle_snap_entry *second = settle_snapshot_find_subject (snap, d, dlen, &cursor);
  g_assert_nonnull (first);
  g_assert_nonnull (second);
  g_assert_true (first != second);
  g_assert_cmpint (first->role, ==, SETTLE_SNAP_CROSS);
  g_assert_cmpint (second->role, ==, SETTLE_SNAP_CROSS);
  g_assert_null (settle_snapshot_find_subject (snap, d, dlen, &cursor));
  g_assert_null (settle_snapshot_find_subject (snap, d, dlen, &cursor));

  cursor = 0;
  g_assert_true (settle_snapshot_find_subject (snap, a, alen, &cursor) == settle_snapshot_entry (snap, 0));
  g_assert_null (settle_snapshot_find_subject (snap, a, alen, &cursor));
  cursor = 0;
  g_assert_null (settle_snapshot_find_subject (snap, s, slen, &cursor));

  /* Same serial under both roots: the issuer tells the crosses apart
   * (CKA_ISSUER and CKA_SERIAL_NUMBER, as the module serves them). */
  const settle_snap_entry *cross_a = settle_snapshot_entry (snap, 1);
  const settle_snap_entry *cross_b = settle_snapshot_entry (snap, 3);
  g_assert_cmpmem (cross_a->issuer.data, cross_a->issuer.len, a, alen);
  g_assert_cmpmem (cross_a->serial.data, cross_a->serial.len, ser, serlen);
  g_assert_cmpmem (cross_b->issuer.data, cross_b->issuer.len, b, blen);
  g_assert_cmpmem (cross_b->serial.data, cross_b->serial.len, ser, serlen);
  g_assert_false (cross_a->serial.len == oslen && memcmp (cross_a->serial.data, oser, oslen) == 0);

  /* Every certificate once, and the leaf the CA signed in none. */
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      g_assert_true (entry_with_der (snap, e->der.data, e->der.len) == e);
    }
  g_autoptr (GBytes) leaf = stc_der (certs.leaf);
  g_assert_null (entry_with_der (snap, g_bytes_get_data (leaf, NULL), g_bytes_get_size (leaf)));
  settle_snapshot_free (snap);
}

static gboolean
generation_exists (Fixture *f, guint64 gen)
{
  g_autofree char *path = g_strdup_printf ("%s/snapshots/gen-%012" G_GUINT64_FORMAT, f->data_dir, gen);
  return g_file_test (path, G_FILE_TEST_IS_DIR);
}

static void
test_generations (Fixture *f, gconstpointer data)
{
  (void) data;
  settle_snapshot_stamp before, after;
  g_assert_cmpint (settle_snapshot_stamp_read (f->trust, &before), ==, 0);
  g_assert_false (before.present);

  write_ok (f);
  g_autofree char *link = g_file_read_link (f->trust, NULL);
  g_assert_cmpstr (link, ==, "snapshots/gen-000000000001");
  settle_snapshot *old = load_ok (f->trust);
  g_assert_cmpint (settle_snapshot_stamp_read (f->trust, &before), ==, 0);
  g_assert_true (before.present);
  g_assert_true (settle_snapshot_stamp_equal (&before, &before));

  g_ptr_array_remove_index (f->records, 2);   /* the user removed the NAS */
  write_ok (f);
  g_assert_cmpint (settle_snapshot_stamp_read (f->trust, &after), ==, 0);
  g_assert_false (settle_snapshot_stamp_equal (&before, &after));
  settle_snapshot *now = load_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_generation (now), ==, 2);
  g_assert_cmpuint (settle_snapshot_count (now), ==, 4);
  g_assert_true (generation_exists (f, 1));   /* kept for readers still walking it */

  /* The reader that loaded generation 1 still answers from it. */
  g_assert_cmpuint (settle_snapshot_count (old), ==, 5);
  const settle_snap_entry *peer = settle_snapshot_entry (old, 4);
  g_assert_cmpstr (peer->label, ==, "Old NAS");
  g_assert_true (entry_with_der (old, peer->der.data, peer->der.len) == peer);
  g_assert_null (entry_with_der (now, peer->der.data, peer->der.len));

  /* A temporary directory a crashed writer left is cleaned up too. */
  g_autofree char *leftover = g_strdup_printf ("%s/snapshots/.gen-000000000003.abc123", f->data_dir);
  g_assert_cmpint (g_mkdir (leftover, 0755), ==, 0);
  write_ok (f);
  g_assert_false (generation_exists (f, 1));
  g_assert_true (generation_exists (f, 2));
  g_assert_true (generation_exists (f, 3));
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  settle_snapshot *third = load_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_generation (third), ==, 3);

  settle_snapshot_free (third);
  settle_snapshot_free (now);
  settle_snapshot_free (old);
}

static void
assert_mode (const char *path, mode_t want)
{
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, want);
}

/* A record's client certificate becomes a "client" entry: listed with its
 * curve and no scope, but never found by the trust lookups and absent
 * from bundle.pem and the hash links. */
static void
test_client_identity (Fixture *f, gconstpointer data)
{
  (void) data;
  static const guint8 p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
  SettleRecord *printer = g_ptr_array_index (f->records, 0);
  printer->client_cert_der = stc_der (certs.leaf); /* an EC end-entity stands in */
  write_ok (f);
  settle_snapshot *snap = load_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 6);
  const settle_snap_entry *client = NULL;
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    if (settle_snapshot_entry (snap, i)->role == SETTLE_SNAP_CLIENT)
      {
        g_assert_null (client);
        client = settle_snapshot_entry (snap, i);
      }
  g_assert_nonnull (client);
  g_assert_cmpstr (client->label, ==, "Printer (client)");
  g_assert_cmpstr (client->record, ==, printer->fingerprint);
  g_assert_null (client->scope[0]);
  g_assert_cmpmem (client->ec_params.data, client->ec_params.len, p256_oid, sizeof p256_oid);
  size_t cursor = 0;
  const settle_snap_entry *e;
  while ((e = settle_snapshot_find_subject (snap, client->subject.data, client->subject.len, &cursor)))
    g_assert_true (e->role != SETTLE_SNAP_CLIENT);
  settle_snapshot_free (snap);

  g_autofree char *bundle = NULL;
  g_autofree char *bundle_path = g_build_filename (f->data_dir, "snapshots", "gen-000000000001",
                                                   "bundle.pem", NULL);
  g_assert_true (g_file_get_contents (bundle_path, &bundle, NULL, NULL));
  g_auto (GStrv) blocks = g_strsplit (bundle, "-----BEGIN TRUSTED CERTIFICATE-----", -1);
  g_assert_cmpuint (g_strv_length (blocks), ==, 1 + 5);
}

static void
test_files (Fixture *f, gconstpointer data)
{
  (void) data;
  mode_t old_umask = umask (077);   /* the writer must not inherit a private umask */
  write_ok (f);
  umask (old_umask);

  g_autofree char *gen = g_build_filename (f->data_dir, "snapshots", "gen-000000000001", NULL);
  assert_mode (gen, 0755);
  int hash_files = 0;
  g_autoptr (GDir) dir = g_dir_open (gen, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (gen, name, NULL);
      assert_mode (path, 0644);
      if (g_regex_match_simple ("^[0-9a-f]{8}\\.[0-9]+$", name, 0, 0))
        hash_files++;
    }
  g_assert_cmpint (hash_files, ==, 5);

  g_autofree char *bundle = NULL;
  g_autofree char *bundle_path = g_build_filename (gen, "bundle.pem", NULL);
  g_assert_true (g_file_get_contents (bundle_path, &bundle, NULL, NULL));
  g_auto (GStrv) blocks = g_strsplit (bundle, "-----BEGIN TRUSTED CERTIFICATE-----", -1);
  g_assert_cmpuint (g_strv_length (blocks), ==, 1 + 5);
  /* No plain-PEM bundle: GnuTLS would trust the anchors for every purpose. */
  g_autofree char *plain_path = g_build_filename (gen, "bundle-plain.pem", NULL);
  g_assert_false (g_file_test (plain_path, G_FILE_TEST_EXISTS));

  /* Both same-named cross certificates: collision counter 0 and 1. */
  unsigned long hash = X509_NAME_hash_ex (X509_get_subject_name (certs.cross_a), NULL, NULL, NULL);
  g_autofree char *h0 = g_strdup_printf ("%s/%08lx.0", gen, hash);
  g_autofree char *h1 = g_strdup_printf ("%s/%08lx.1", gen, hash);
  g_autofree char *h2 = g_strdup_printf ("%s/%08lx.2", gen, hash);
  g_assert_true (g_file_test (h0, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (h1, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (h2, G_FILE_TEST_EXISTS));
}

static void
test_empty (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (settle_snapshot_write (f->trust, none, &error));
  g_assert_no_error (error);
  settle_snapshot *snap = load_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 0);
  g_assert_cmpuint (settle_snapshot_generation (snap), ==, 1);
  g_autofree char *index = g_build_filename (f->trust, SETTLE_SNAPSHOT_INDEX, NULL);
  g_assert_true (g_file_test (index, G_FILE_TEST_IS_REGULAR));
  size_t cursor = 0;
  g_assert_null (settle_snapshot_find_subject (snap, (const uint8_t *) "x", 1, &cursor));
  settle_snapshot_free (snap);
}

static void
test_refuses_real_directory (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *precious = g_build_filename (f->trust, "precious.pem", NULL);
  g_assert_cmpint (g_mkdir (f->trust, 0755), ==, 0);
  g_assert_true (g_file_set_contents (precious, "keep me", -1, NULL));

  g_autoptr (GError) error = NULL;
  g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, "real directory"));
  g_assert_true (g_file_test (precious, G_FILE_TEST_IS_REGULAR));
}

/* snapshots/ must be the user's own real directory: a planted symlink or
 * a directory others can write is refused, and nothing is written. */
static void
test_refuses_foreign_snapshots_dir (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *snapshots = g_build_filename (f->data_dir, "snapshots", NULL);
  g_autofree char *elsewhere = g_build_filename (f->data_dir, "elsewhere", NULL);
  g_assert_cmpint (g_mkdir (elsewhere, 0755), ==, 0);
  g_assert_cmpint (symlink (elsewhere, snapshots), ==, 0);
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, "symlink"));
  g_autoptr (GDir) dir = g_dir_open (elsewhere, 0, NULL);
  g_assert_null (g_dir_read_name (dir));
  g_assert_false (g_file_test (f->trust, G_FILE_TEST_EXISTS));

  g_assert_cmpint (unlink (snapshots), ==, 0);
  g_assert_cmpint (g_mkdir (snapshots, 0755), ==, 0);
  g_assert_cmpint (chmod (snapshots, 0777), ==, 0);
  g_clear_error (&error);
  g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, "written by other users"));
  g_assert_false (g_file_test (f->trust, G_FILE_TEST_EXISTS));
}

/* The scope rule (settle-anchor-rule.h) before publishing: a pinned peer
 * that could issue, or a "root" without nameConstraints, in a record that
 * bypassed the checks at ingest, is never written. */
static void
test_refuses_what_could_issue (Fixture *f, gconstpointer data)
{
  (void) data;
  static const char *const nas[] = { "nas.local", NULL };
  static const char *const nothing[] = { NULL };
  struct {
    X509 *cert;
    const char *expected;
  } peers[] = {
    { certs.device_ca, "is a CA certificate" },
    { certs.root_a, "is a CA certificate" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      g_ptr_array_add (f->records, ca_record (SETTLE_KIND_PINNED_PEER, "Planted", peers[i].cert, NULL, NULL,
                                              nas, nothing));
      g_autoptr (GError) error = NULL;
      g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
      g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
      if (strstr (error->message, peers[i].expected) == NULL)
        g_error ("peer %zu: '%s' does not say '%s'", i, error->message, peers[i].expected);
      g_assert_nonnull (strstr (error->message, "settle remove"));
      g_assert_false (g_file_test (f->trust, G_FILE_TEST_EXISTS));
      g_ptr_array_remove_index (f->records, f->records->len - 1);
    }
  /* A device CA record whose "wrapper" is the bare CA itself. */
  SettleRecord *printer = g_ptr_array_index (f->records, 0);
  g_bytes_unref (printer->wrapper_root_der);
  printer->wrapper_root_der = stc_der (certs.device_ca);
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_nonnull (strstr (error->message, "nameConstraints"));
  g_assert_false (g_file_test (f->trust, G_FILE_TEST_EXISTS));
}

static void
test_refuses_foreign_scope (Fixture *f, gconstpointer data)
{
  (void) data;
  SettleRecord *printer = g_ptr_array_index (f->records, 0);
  g_strfreev (printer->scope);
  printer->scope = g_strsplit ("bank.example", ",", -1);

  g_autoptr (GError) error = NULL;
  g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "bank.example"));
  g_assert_false (g_file_test (f->trust, G_FILE_TEST_EXISTS));
}

static void
test_refuses_missing_cross (Fixture *f, gconstpointer data)
{
  (void) data;
  SettleRecord *printer = g_ptr_array_index (f->records, 0);
  g_clear_pointer (&printer->cross_der, g_bytes_unref);
  g_autoptr (GError) error = NULL;
  g_assert_false (settle_snapshot_write (f->trust, f->records, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "cross"));
}

/* Runs `openssl verify` trusting only the snapshot directory. */
static gboolean
openssl_verify (const char *capath, const char *pem, char **output)
{
  const char *argv[] = { "openssl", "verify", "-no-CAfile", "-no-CApath", "-no-CAstore",
                         "-purpose", "sslserver", "-CApath", capath, pem, NULL };
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  *output = g_strconcat (out, err, NULL);
  return g_spawn_check_wait_status (status, NULL);
}

static void
test_openssl_capath (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  if (openssl == NULL)
    {
      if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
        g_error ("the openssl CLI is missing (CI must install it)");
      g_test_skip ("openssl CLI not installed");
      return;
    }
  write_ok (f);
  g_autofree char *leaf = g_build_filename (f->data_dir, "leaf.pem", NULL);
  g_autofree char *stranger = g_build_filename (f->data_dir, "stranger.pem", NULL);
  stc_write_pem (certs.leaf, leaf);
  stc_write_pem (certs.stranger_leaf, stranger);

  g_autofree char *ok_out = NULL, *bad_out = NULL;
  gboolean ok = openssl_verify (f->trust, leaf, &ok_out);
  g_test_message ("openssl verify leaf: %s", ok_out);
  g_assert_true (ok);
  g_assert_nonnull (strstr (ok_out, ": OK"));

  gboolean bad = openssl_verify (f->trust, stranger, &bad_out);
  g_test_message ("openssl verify stranger: %s", bad_out);
  g_assert_false (bad);
  g_assert_nonnull (strstr (bad_out, "unable to get local issuer certificate"));
}

static void
test_missing_is_empty (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("settle-snapshot-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (tmp, "no", "such", "trust", NULL);
  char err[256] = "";
  settle_snapshot *snap = NULL;
  g_assert_cmpint (settle_snapshot_load (missing, &snap, err, sizeof err), ==, 0);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 0);
  g_assert_cmpuint (settle_snapshot_generation (snap), ==, 0);
  g_assert_null (settle_snapshot_entry (snap, 0));
  settle_snapshot_free (snap);

  settle_snapshot_stamp stamp;
  g_assert_cmpint (settle_snapshot_stamp_read (missing, &stamp), ==, 0);
  g_assert_false (stamp.present);
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
}

static void
test_default_dir (void)
{
  char buf[512];
  g_setenv ("SETTLE_TRUST_DIR", "/srv/trust", TRUE);
  g_assert_cmpint (settle_snapshot_default_dir (buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "/srv/trust");
  g_assert_cmpint (settle_snapshot_default_dir (buf, 5), ==, -1);
  g_assert_cmpstr (buf, ==, "");

  g_unsetenv ("SETTLE_TRUST_DIR");
  g_setenv ("XDG_DATA_HOME", "/home/u/.data", TRUE);
  g_assert_cmpint (settle_snapshot_default_dir (buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "/home/u/.data/settle/trust");

  g_unsetenv ("XDG_DATA_HOME");
  g_setenv ("HOME", "/home/u", TRUE);
  g_assert_cmpint (settle_snapshot_default_dir (buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "/home/u/.local/share/settle/trust");

  /* SETTLE_DATA_DIR moves the trust folder for readers as for the writer
   * (settle_trust_dir() in lib/common/paths.c gives the same answer). */
  g_setenv ("SETTLE_DATA_DIR", "/var/lib/settle-test", TRUE);
  g_assert_cmpint (settle_snapshot_default_dir (buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "/var/lib/settle-test/trust");
  g_autofree char *writer_dir = settle_trust_dir ();
  g_assert_cmpstr (writer_dir, ==, buf);
  g_assert_cmpint (settle_snapshot_default_dir (buf, 20), ==, -1);
  g_assert_cmpstr (buf, ==, "");
  g_unsetenv ("SETTLE_DATA_DIR");

  g_unsetenv ("HOME");
  g_assert_cmpint (settle_snapshot_default_dir (buf, sizeof buf), ==, -1);
}

/* Many threads reading one snapshot, as the PKCS#11 module does. */
static gpointer
lookup_many (gpointer data)
{
  const settle_snapshot *snap = data;
  for (int round = 0; round < 2000; round++)
    for (size_t i = 0; i < settle_snapshot_count (snap); i++)
      {
        const settle_snap_entry *e = settle_snapshot_entry (snap, i);
        size_t cursor = 0;
        const settle_snap_entry *match;
        gboolean found = FALSE;
        while ((match = settle_snapshot_find_subject (snap, e->subject.data, e->subject.len, &cursor)) != NULL)
          found |= match == e;
        if (!found)
          return GINT_TO_POINTER (1);
      }
  return GINT_TO_POINTER (0);
}


/* ---- index.snap, the mapped index ----------------------------------------- */

static settle_snapshot *
cbor_snapshot (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->trust, SETTLE_SNAPSHOT_INDEX, NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  char why[256];
  settle_snapshot *snap = NULL;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  g_assert_cmpint (settle_snapshot_parse ((const guint8 *) bytes, len, &snap, why, sizeof why), ==, 0);
  /* The bytes are copied into the snapshot's arena. */
  return snap;
}

static void
assert_same_entry (const settle_snap_entry *a, const settle_snap_entry *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (a->role, ==, b->role);
  g_assert_cmpmem (a->der.data, a->der.len, b->der.data, b->der.len);
  g_assert_cmpmem (a->subject.data, a->subject.len, b->subject.data, b->subject.len);
  g_assert_cmpmem (a->issuer.data, a->issuer.len, b->issuer.data, b->issuer.len);
  g_assert_cmpmem (a->serial.data, a->serial.len, b->serial.data, b->serial.len);
  g_assert_cmpmem (a->id.data, a->id.len, b->id.data, b->id.len);
  g_assert_cmpmem (a->ec_params.data, a->ec_params.len, b->ec_params.data, b->ec_params.len);
  g_assert_cmpmem (a->sha1, 20, b->sha1, 20);
  g_assert_cmpmem (a->md5, 16, b->md5, 16);
  g_assert_cmpmem (a->sha256, 32, b->sha256, 32);
  g_assert_cmpstr (a->label, ==, b->label);
  g_assert_cmpstr (a->record, ==, b->record);
  assert_strv (a->scope, b->scope);
  assert_strv (a->names, b->names);
  g_assert_cmpint (a->not_after, ==, b->not_after);
}

static settle_snapshot *
open_ok (const char *dir)
{
  char why[256] = "";
  settle_snapshot *snap = NULL;
  g_assert_cmpint (settle_snapshot_open (dir, &snap, why, sizeof why), ==, 0);
  g_assert_nonnull (snap);
  return snap;
}

/* index.snap holds exactly what index.cbor holds, and every key finds its
 * entries through the file's hash tables. */
static void
test_mapped_same_as_cbor (Fixture *f, gconstpointer data)
{
  (void) data;
  SettleRecord *printer = g_ptr_array_index (f->records, 0);
  printer->client_cert_der = stc_der (certs.leaf); /* a client identity too */
  write_ok (f);
  settle_snapshot *cbor = cbor_snapshot (f);
  settle_snapshot *snap = open_ok (f->trust);
  g_assert_true (settle_snapshot_is_mapped (snap));
  g_assert_false (settle_snapshot_is_mapped (cbor));
  g_assert_cmpuint (settle_snapshot_generation (snap), ==, settle_snapshot_generation (cbor));
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 6);
  g_assert_cmpuint (settle_snapshot_count (snap), ==, settle_snapshot_count (cbor));
  for (size_t i = 0; i < settle_snapshot_count (snap); i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      assert_same_entry (e, settle_snapshot_entry (cbor, i));
      g_assert_cmpuint (settle_snapshot_index_of (snap, e), ==, i);
      g_assert_cmpuint (settle_snapshot_index_of (cbor, settle_snapshot_entry (cbor, i)), ==, i);
      /* Every key finds the entry, on both kinds of snapshot. */
      settle_snapshot *both[2] = { snap, cbor };
      for (int k = 0; k < 2; k++)
        {
          const settle_snap_entry *want = settle_snapshot_entry (both[k], i), *got;
          size_t cursor;
          gboolean seen;
#define FINDS(call)                                             \
          for (cursor = 0, seen = FALSE; (got = (call)) != NULL;) \
            seen |= got == want;                                \
          g_assert_true (seen);
          FINDS (settle_snapshot_find (both[k], SETTLE_SNAP_KEY_SUBJECT, e->subject.data, e->subject.len, &cursor));
          FINDS (settle_snapshot_find (both[k], SETTLE_SNAP_KEY_DER, e->der.data, e->der.len, &cursor));
          FINDS (settle_snapshot_find (both[k], SETTLE_SNAP_KEY_SHA1, e->sha1, sizeof e->sha1, &cursor));
          FINDS (settle_snapshot_find (both[k], SETTLE_SNAP_KEY_SHA256, e->sha256, sizeof e->sha256, &cursor));
          FINDS (settle_snapshot_find (both[k], SETTLE_SNAP_KEY_ID, e->id.data, e->id.len, &cursor));
          FINDS (settle_snapshot_find (both[k], SETTLE_SNAP_KEY_LABEL, (const guint8 *) e->label,
                                       strlen (e->label), &cursor));
          FINDS (settle_snapshot_find_issuer_serial (both[k], e->issuer.data, e->issuer.len,
                                                     e->serial.data, e->serial.len, &cursor));
#undef FINDS
        }
    }
  /* The two crosses share subject and serial: issuer and serial tell them apart. */
  const settle_snap_entry *cross_a = settle_snapshot_entry (snap, 1), *got;
  size_t cursor = 0, n = 0;
  while ((got = settle_snapshot_find_issuer_serial (snap, cross_a->issuer.data, cross_a->issuer.len,
                                                    cross_a->serial.data, cross_a->serial.len, &cursor)))
    {
      g_assert_true (got == cross_a);
      n++;
    }
  g_assert_cmpuint (n, ==, 1);
  g_autoptr (GBytes) device = i2d_name (X509_get_subject_name (certs.cross_a));
  for (cursor = 0, n = 0; settle_snapshot_find_subject (snap, g_bytes_get_data (device, NULL),
                                                        g_bytes_get_size (device), &cursor); n++)
    ;
  g_assert_cmpuint (n, ==, 2);
  /* Nothing else is found, and a key of another kind is refused. */
  g_autoptr (GBytes) leaf = stc_der (certs.leaf);
  cursor = 0;
  const settle_snap_entry *client = NULL;
  while ((got = settle_snapshot_find (snap, SETTLE_SNAP_KEY_DER, g_bytes_get_data (leaf, NULL),
                                      g_bytes_get_size (leaf), &cursor)))
    client = got;
  g_assert_nonnull (client);
  g_assert_cmpint (client->role, ==, SETTLE_SNAP_CLIENT);
  g_autoptr (GBytes) stranger = stc_der (certs.stranger_ca);
  cursor = 0;
  g_assert_null (settle_snapshot_find (snap, SETTLE_SNAP_KEY_DER, g_bytes_get_data (stranger, NULL),
                                       g_bytes_get_size (stranger), &cursor));
  cursor = 0;
  g_assert_null (settle_snapshot_find (snap, SETTLE_SNAP_KEY_ISSUER_SERIAL, cross_a->issuer.data,
                                       cross_a->issuer.len, &cursor));
  g_assert_null (settle_snapshot_refusal (snap));
  settle_snapshot_free (cbor);
  settle_snapshot_free (snap);
}

static char *
mapped_path (Fixture *f)
{
  return g_build_filename (f->trust, SETTLE_SNAPSHOT_MAPPED, NULL);
}

/* index.cbor is the authority: an index.snap that was not made for it, or
 * whose header is damaged, is passed over for index.cbor. */
static void
test_mapped_falls_back (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  g_autofree char *cbor_path = g_build_filename (f->trust, SETTLE_SNAPSHOT_INDEX, NULL);
  g_autofree char *snap_path = mapped_path (f);
  settle_snapshot *snap = open_ok (f->trust);
  g_assert_true (settle_snapshot_is_mapped (snap));
  settle_snapshot_free (snap);

  /* index.cbor rewritten (same bytes, another mtime). */
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (cbor_path, &bytes, &len, NULL));
  struct timespec times[2] = { { 0, UTIME_OMIT }, { 1000000000, 12345 } };
  g_assert_cmpint (utimensat (AT_FDCWD, cbor_path, times, 0), ==, 0);
  snap = open_ok (f->trust);
  g_assert_false (settle_snapshot_is_mapped (snap));
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 5);
  settle_snapshot_free (snap);

  /* A damaged header, index.cbor as written. */
  write_ok (f);
  g_free (snap_path);
  snap_path = mapped_path (f);
  g_autofree char *image = NULL;
  g_assert_true (g_file_get_contents (snap_path, &image, &len, NULL));
  image[30] ^= 1;
  g_assert_true (g_file_set_contents (snap_path, image, (gssize) len, NULL));
  snap = open_ok (f->trust);
  g_assert_false (settle_snapshot_is_mapped (snap));
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 5);
  settle_snapshot_free (snap);

  /* No index.snap at all (a snapshot written before it existed). */
  g_assert_cmpint (g_unlink (snap_path), ==, 0);
  snap = open_ok (f->trust);
  g_assert_false (settle_snapshot_is_mapped (snap));
  g_assert_cmpuint (settle_snapshot_count (snap), ==, 5);
  settle_snapshot_free (snap);
}

/* Rewrites index.snap in place, keeping its mtime-independent binding to
 * index.cbor (which is not touched). */
static void
damage_mapped (Fixture *f, gsize at)
{
  g_autofree char *path = mapped_path (f);
  FILE *file = fopen (path, "r+b");
  g_assert_nonnull (file);
  g_assert_cmpint (fseek (file, (long) at, SEEK_SET), ==, 0);
  int c = fgetc (file);
  g_assert_cmpint (c, !=, EOF);
  g_assert_cmpint (fseek (file, (long) at, SEEK_SET), ==, 0);
  fputc (c ^ 0x20, file);
  fclose (file);
}

/* One damaged record: opened lazily, that entry is refused (NULL, with a
 * reason) and the others are served; loaded whole, the snapshot is
 * refused as index.cbor would be. */
static void
test_mapped_damaged_entry (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  settle_snapshot *snap = open_ok (f->trust);
  g_assert_true (settle_snapshot_is_mapped (snap));
  /* Entry 2's record starts where entry 2's table slot says. */
  g_autofree char *path = mapped_path (f);
  g_autofree char *image = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &image, &len, NULL));
  const guint8 *slot = (const guint8 *) image + 128 + 2 * 16;
  gsize rec = (gsize) slot[0] | (gsize) slot[1] << 8 | (gsize) slot[2] << 16 | (gsize) slot[3] << 24;
  settle_snapshot_free (snap);
  damage_mapped (f, rec + 200);

  snap = open_ok (f->trust);
  g_assert_true (settle_snapshot_is_mapped (snap));
  g_assert_null (settle_snapshot_refusal (snap));
  g_assert_nonnull (settle_snapshot_entry (snap, 0));
  g_assert_null (settle_snapshot_entry (snap, 2));
  g_assert_null (settle_snapshot_entry (snap, 2));
  g_assert_nonnull (settle_snapshot_refusal (snap));
  g_assert_nonnull (strstr (settle_snapshot_refusal (snap), "checksum"));
  g_assert_nonnull (settle_snapshot_entry (snap, 4));
  /* Root B (entry 2) is no longer found by its subject. */
  g_autoptr (GBytes) root_b = i2d_name (X509_get_subject_name (certs.root_b));
  size_t cursor = 0;
  g_assert_null (settle_snapshot_find_subject (snap, g_bytes_get_data (root_b, NULL),
                                               g_bytes_get_size (root_b), &cursor));
  settle_snapshot_free (snap);

  char why[256] = "";
  snap = NULL;
  g_assert_cmpint (settle_snapshot_load (f->trust, &snap, why, sizeof why), ==, -1);
  g_assert_null (snap);
  g_assert_nonnull (strstr (why, "entry 2"));
}

/* Every prefix and every single-byte change of a real index.snap: the
 * reader refuses or serves entries that pass every check, and never reads
 * outside the image (ASan builds check that). */
static void
test_mapped_mutations (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  g_autofree char *path = mapped_path (f);
  g_autofree char *image = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &image, &len, NULL));
  for (gsize cut = 0; cut <= len; cut += (cut < 400 ? 1 : 97))
    {
      guint8 *copy = g_memdup2 (image, cut ? cut : 1);
      settle_snapshot *snap = NULL;
      if (settle_snapshot_parse_mapped (copy, cut, &snap, NULL, 0) == 0)
        {
          g_assert_true (cut == len);
          settle_snapshot_free (snap);
        }
      g_free (copy);
    }
  for (gsize at = 0; at < len; at += (at < 600 ? 1 : 13))
    {
      guint8 *copy = g_memdup2 (image, len);
      copy[at] ^= 0x41;
      settle_snapshot *snap = NULL;
      if (settle_snapshot_parse_mapped (copy, len, &snap, NULL, 0) == 0)
        {
          for (size_t i = 0; i < settle_snapshot_count (snap); i++)
            {
              const settle_snap_entry *e = settle_snapshot_entry (snap, i);
              if (e != NULL)
                g_assert_true (e->der.len > 0 && e->label != NULL && e->scope != NULL);
            }
          settle_snapshot_free (snap);
        }
      g_free (copy);
    }
}

/* Threads racing for the first use of each entry of a lazily opened
 * index.snap: each entry is checked once and every thread gets it. */
static gpointer
first_use (gpointer data)
{
  const settle_snapshot *snap = data;
  for (size_t i = settle_snapshot_count (snap); i-- > 0;)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      if (e == NULL || settle_snapshot_index_of (snap, e) != i)
        return GINT_TO_POINTER (1);
    }
  return lookup_many (data);
}

static void
test_mapped_threads (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  for (int rep = 0; rep < 10; rep++)
    {
      settle_snapshot *snap = open_ok (f->trust);
      g_assert_true (settle_snapshot_is_mapped (snap));
      GThread *threads[4];
      for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
        threads[i] = g_thread_new ("first-use", first_use, snap);
      for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
        g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (threads[i])), ==, 0);
      g_assert_null (settle_snapshot_refusal (snap));
      settle_snapshot_free (snap);
    }
}

static void
test_threads (Fixture *f, gconstpointer data)
{
  (void) data;
  write_ok (f);
  settle_snapshot *snap = load_ok (f->trust);
  GThread *threads[6];
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("lookup", lookup_many, snap);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (threads[i])), ==, 0);
  settle_snapshot_free (snap);
}


/* ---- settle_snapshot_write_change ---------------------------------------- */

static void
change_ok (Fixture *f, const char *const *removed, GPtrArray *added)
{
  g_autoptr (GError) error = NULL;
  gboolean needs_full = TRUE;
  gboolean ok = settle_snapshot_write_change (f->trust, removed, added, &needs_full, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_false (needs_full);
}

/* name -> content of every hash link in `dir` (owned table). */
static GHashTable *
hash_links (const char *dir)
{
  GHashTable *links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    if (g_regex_match_simple ("^[0-9a-f]{8}\\.[0-9]+$", name, 0, 0))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        char *content = NULL;
        g_assert_true (g_file_get_contents (path, &content, NULL, NULL));
        g_hash_table_insert (links, g_strdup (name), content);
      }
  return links;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The PEM blocks of bundle.pem, sorted (owned). */
static GStrv
bundle_blocks (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, SETTLE_SNAPSHOT_BUNDLE, NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  GStrv blocks = g_strsplit (text, "-----BEGIN", -1);
  qsort (blocks, g_strv_length (blocks), sizeof *blocks, compare_strings);
  return blocks;
}

/* Every name in `dir`, sorted (owned). */
static GStrv
dir_names (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *name;
  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* Both indexes of `dir` decode to the same entries, in any order, as a
 * generation settle_snapshot_write makes of `records`; so do the hash
 * links (name for name) and bundle.pem (block for block); and the
 * directory holds the same names, nothing else. */
static void
assert_same_as_full (Fixture *f, GPtrArray *records)
{
  g_autofree char *other_dir = g_build_filename (f->data_dir, "other", NULL);
  g_autofree char *other = g_build_filename (other_dir, "trust", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_mkdir (other_dir, 0700), ==, 0);
  g_assert_true (settle_snapshot_write (other, records, &error));
  g_assert_no_error (error);

  settle_snapshot *mine = open_ok (f->trust), *full = load_ok (other);
  g_assert_true (settle_snapshot_is_mapped (mine));
  g_assert_cmpuint (settle_snapshot_count (mine), ==, settle_snapshot_count (full));
  for (size_t i = 0; i < settle_snapshot_count (full); i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (full, i);
      size_t cursor = 0;
      assert_same_entry (e, settle_snapshot_find (mine, SETTLE_SNAP_KEY_SHA256, e->sha256, 32, &cursor));
    }
  settle_snapshot_free (mine);
  /* index.cbor alone (copied away from its index.snap) says the same. */
  g_autofree char *cbor_dir = g_build_filename (f->data_dir, "cbor-only", NULL);
  g_autofree char *cbor_from = g_build_filename (f->trust, SETTLE_SNAPSHOT_INDEX, NULL);
  g_autofree char *cbor_to = g_build_filename (cbor_dir, SETTLE_SNAPSHOT_INDEX, NULL);
  g_autofree char *cbor = NULL;
  gsize cbor_len = 0;
  g_assert_cmpint (g_mkdir (cbor_dir, 0700), ==, 0);
  g_assert_true (g_file_get_contents (cbor_from, &cbor, &cbor_len, NULL));
  g_assert_true (g_file_set_contents (cbor_to, cbor, (gssize) cbor_len, NULL));
  settle_snapshot *decoded = load_ok (cbor_dir);
  g_assert_false (settle_snapshot_is_mapped (decoded));
  g_assert_cmpuint (settle_snapshot_count (decoded), ==, settle_snapshot_count (full));
  for (size_t i = 0; i < settle_snapshot_count (full); i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (full, i);
      size_t cursor = 0;
      assert_same_entry (e, settle_snapshot_find (decoded, SETTLE_SNAP_KEY_SHA256, e->sha256, 32, &cursor));
    }
  settle_snapshot_free (decoded);
  settle_snapshot_free (full);

  g_autoptr (GHashTable) mine_links = hash_links (f->trust), full_links = hash_links (other);
  g_assert_cmpuint (g_hash_table_size (mine_links), ==, g_hash_table_size (full_links));
  GHashTableIter iter;
  gpointer name, content;
  g_hash_table_iter_init (&iter, full_links);
  while (g_hash_table_iter_next (&iter, &name, &content))
    g_assert_cmpstr (g_hash_table_lookup (mine_links, name), ==, content);
  g_auto (GStrv) mine_blocks = bundle_blocks (f->trust), full_blocks = bundle_blocks (other);
  g_assert_cmpstrv (mine_blocks, full_blocks);
  g_auto (GStrv) mine_names = dir_names (f->trust), full_names = dir_names (other);
  g_assert_cmpstrv (mine_names, full_names);
  remove_tree (other_dir);
  remove_tree (cbor_dir);
}

/* Add, remove and replace through the current generation: each result is
 * the generation the whole store would give, including the chain of the
 * two same-named cross certificates (renumbered without a gap when the
 * first goes, or a CApath reader would stop before the second). */
static void
test_change_same_as_full (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();   /* borrowed from f->records */
  g_autoptr (GPtrArray) first = g_ptr_array_new ();
  for (guint i = 0; i < f->records->len; i++)
    g_ptr_array_add (all, g_ptr_array_index (f->records, i));
  SettleRecord *printer = g_ptr_array_index (all, 0), *nas = g_ptr_array_index (all, 2);
  g_ptr_array_add (first, printer);
  g_ptr_array_add (first, g_ptr_array_index (all, 1));

  g_autoptr (GError) error = NULL;
  g_assert_true (settle_snapshot_write (f->trust, first, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  g_ptr_array_add (added, nas);
  change_ok (f, NULL, added);                       /* the NAS comes */
  g_assert_true (generation_exists (f, 2));
  assert_same_as_full (f, all);

  const char *removed[] = { printer->fingerprint, NULL };
  change_ok (f, removed, NULL);                     /* the printer goes: its cross was .0 */
  g_ptr_array_remove_index (all, 0);
  assert_same_as_full (f, all);
  unsigned long hash = X509_NAME_hash_ex (X509_get_subject_name (certs.cross_b), NULL, NULL, NULL);
  g_autofree char *h0 = g_strdup_printf ("%s/%08lx.0", f->trust, hash);
  g_autofree char *h1 = g_strdup_printf ("%s/%08lx.1", f->trust, hash);
  g_assert_true (g_file_test (h0, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (h1, G_FILE_TEST_EXISTS));

  /* The NAS relabelled: same fingerprint, removed and added at once. */
  nas = g_ptr_array_index (all, 1);
  g_free (nas->label);
  nas->label = g_strdup ("New NAS");
  const char *replaced[] = { nas->fingerprint, NULL };
  g_ptr_array_set_size (added, 0);
  g_ptr_array_add (added, nas);
  change_ok (f, replaced, added);
  assert_same_as_full (f, all);
  settle_snapshot *snap = open_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_generation (snap), ==, 4);
  g_assert_true (generation_exists (f, 3));
  g_assert_false (generation_exists (f, 2));
  settle_snapshot_free (snap);
}

/* What is added gets every check of the full writer; nothing is
 * published when it fails, and that is not a reason to rebuild. */
static void
test_change_refuses_what_could_issue (Fixture *f, gconstpointer data)
{
  (void) data;
  static const char *const nas[] = { "nas.local", NULL };
  static const char *const nothing[] = { NULL };
  write_ok (f);
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_record_free);
  g_ptr_array_add (added, ca_record (SETTLE_KIND_PINNED_PEER, "Planted", certs.root_a, NULL, NULL, nas, nothing));
  g_autoptr (GError) error = NULL;
  gboolean needs_full = TRUE;
  g_assert_false (settle_snapshot_write_change (f->trust, NULL, added, &needs_full, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_nonnull (strstr (error->message, "is a CA certificate"));
  g_assert_false (needs_full);
  g_assert_false (generation_exists (f, 2));
  g_autofree char *link = g_file_read_link (f->trust, NULL);
  g_assert_cmpstr (link, ==, "snapshots/gen-000000000001");

  /* A scope outside the local namespaces: refused by the reader's check. */
  SettleRecord *printer = g_ptr_array_index (f->records, 0);
  g_strfreev (printer->scope);
  printer->scope = g_strsplit ("bank.example", ",", -1);
  g_ptr_array_set_size (added, 0);
  g_ptr_array_set_free_func (added, NULL);
  g_ptr_array_add (added, printer);
  const char *removed[] = { printer->fingerprint, NULL };
  g_clear_error (&error);
  g_assert_false (settle_snapshot_write_change (f->trust, removed, added, &needs_full, &error));
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "bank.example"));
  g_assert_false (needs_full);
  g_assert_false (generation_exists (f, 2));
}

/* A current generation that does not hold what its index says is never
 * carried forward: the caller is told to rebuild from the store, and
 * nothing is published. */
static void
test_change_needs_full (Fixture *f, gconstpointer data)
{
  (void) data;
  const char *removed[] = { ((SettleRecord *) g_ptr_array_index (f->records, 2))->fingerprint, NULL };
  g_autoptr (GError) error = NULL;
  gboolean needs_full = FALSE;

  /* No snapshot yet. */
  g_assert_false (settle_snapshot_write_change (f->trust, removed, NULL, &needs_full, &error));
  g_assert_no_error (error);
  g_assert_true (needs_full);

  /* A damaged entry in index.snap. */
  write_ok (f);
  damage_mapped (f, 128 + 16 * 5 + 16 * 7 * 16 + 300);
  needs_full = FALSE;
  g_assert_false (settle_snapshot_write_change (f->trust, removed, NULL, &needs_full, &error));
  g_assert_no_error (error);
  g_assert_true (needs_full);
  g_assert_false (generation_exists (f, 2));

  /* No index.snap (a generation written before it existed). */
  write_ok (f);
  g_autofree char *mapped = mapped_path (f);
  g_assert_cmpint (g_unlink (mapped), ==, 0);
  needs_full = FALSE;
  g_assert_false (settle_snapshot_write_change (f->trust, removed, NULL, &needs_full, &error));
  g_assert_no_error (error);
  g_assert_true (needs_full);

  /* bundle.pem without the removed certificate. */
  write_ok (f);
  g_autofree char *bundle = g_build_filename (f->trust, SETTLE_SNAPSHOT_BUNDLE, NULL);
  g_assert_cmpint (g_unlink (bundle), ==, 0);
  g_assert_true (g_file_set_contents (bundle, "", 0, NULL));
  needs_full = FALSE;
  g_assert_false (settle_snapshot_write_change (f->trust, removed, NULL, &needs_full, &error));
  g_assert_no_error (error);
  g_assert_true (needs_full);
  g_autofree char *link = g_file_read_link (f->trust, NULL);
  g_assert_cmpstr (link, ==, "snapshots/gen-000000000003");
  g_assert_false (generation_exists (f, 4));
  /* No temporary generation left behind either. */
  g_autofree char *snapshots = g_build_filename (f->data_dir, "snapshots", NULL);
  g_autoptr (GDir) listing = g_dir_open (snapshots, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_false (g_str_has_prefix (name, ".gen-"));
}

static ino_t
inode_of (const char *path)
{
  struct stat st;
  g_assert_cmpint (lstat (path, &st), ==, 0);
  return st.st_ino;
}

static char *
generation_path (Fixture *f, guint64 gen)
{
  return g_strdup_printf ("%s/snapshots/gen-%012" G_GUINT64_FORMAT, f->data_dir, gen);
}

/* The hash-link name `n` of `cert`'s subject in `dir` (owned). */
static char *
hash_link_path (const char *dir, X509 *cert, unsigned n)
{
  unsigned long hash = X509_NAME_hash_ex (X509_get_subject_name (cert), NULL, NULL, NULL);
  return g_strdup_printf ("%s/%08lx.%u", dir, hash, n);
}

/* A change reuses the generation the prune would delete (its directory
 * becomes the new generation), and what was planted there beforehand is
 * gone from what is published: a rogue CA under an OpenSSL hash name, a
 * stray file, an empty directory, and a hash link the new generation
 * keeps, replaced by another file of the same name.  The result is the
 * full writer's generation name for name, the rogue CA does not verify
 * through it, and every kept link is the current generation's file. */
static void
test_change_recycles (Fixture *f, gconstpointer data)
{
  (void) data;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();   /* borrowed from f->records */
  for (guint i = 0; i < f->records->len; i++)
    g_ptr_array_add (all, g_ptr_array_index (f->records, i));
  SettleRecord *printer = g_ptr_array_index (all, 0), *nas = g_ptr_array_index (all, 2);
  write_ok (f);                                     /* gen 1: all three */
  /* A reader that mapped generation 1 and has not looked at its entries
   * yet (each is checked when first returned). */
  settle_snapshot *mapped1 = open_ok (f->trust);
  g_assert_true (settle_snapshot_is_mapped (mapped1));
  const char *gone_nas[] = { nas->fingerprint, NULL };
  change_ok (f, gone_nas, NULL);                    /* gen 2: without the NAS */
  g_autofree char *gen1 = generation_path (f, 1), *gen2 = generation_path (f, 2), *gen3 = generation_path (f, 3);
  ino_t gen1_ino = inode_of (gen1);

  /* Planted into generation 1, the one the next change recycles. */
  g_autofree char *rogue = hash_link_path (gen1, certs.stranger_ca, 0);
  stc_write_pem (certs.stranger_ca, rogue);
  g_autofree char *stray = g_build_filename (gen1, "stray", NULL);
  g_assert_true (g_file_set_contents (stray, "stray", -1, NULL));
  g_autofree char *empty_dir = g_build_filename (gen1, "planted-dir", NULL);
  g_assert_cmpint (g_mkdir (empty_dir, 0755), ==, 0);
  g_autofree char *kept1 = hash_link_path (gen1, certs.cross_b, 0);
  g_autofree char *kept2 = hash_link_path (gen2, certs.cross_b, 0);
  g_assert_true (g_file_test (kept2, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (inode_of (kept1), ==, inode_of (kept2));   /* hard-linked by the change */
  g_assert_cmpint (g_unlink (kept1), ==, 0);
  stc_write_pem (certs.stranger_ca, kept1);

  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  g_free (nas->label);
  nas->label = g_strdup ("NAS is back");
  g_ptr_array_add (added, nas);
  change_ok (f, NULL, added);                       /* gen 3: the NAS is back */
  g_assert_false (generation_exists (f, 1));
  g_assert_cmpint (inode_of (gen3), ==, gen1_ino);  /* generation 1's directory, recycled */
  assert_same_as_full (f, all);
  g_autofree char *rogue3 = hash_link_path (gen3, certs.stranger_ca, 0);
  g_autofree char *stray3 = g_build_filename (gen3, "stray", NULL);
  g_autofree char *empty_dir3 = g_build_filename (gen3, "planted-dir", NULL);
  g_autofree char *kept3 = hash_link_path (gen3, certs.cross_b, 0);
  g_assert_false (g_file_test (rogue3, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (stray3, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (empty_dir3, G_FILE_TEST_EXISTS));
  g_assert_cmpint (inode_of (kept3), ==, inode_of (kept2));
  struct stat st;
  g_assert_cmpint (stat (gen3, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0755);

  g_autofree char *openssl = g_find_program_in_path ("openssl");
  if (openssl != NULL || g_strcmp0 (g_getenv ("CI"), "true") == 0)
    {
      g_autofree char *stranger = g_build_filename (f->data_dir, "stranger.pem", NULL);
      g_autofree char *out = NULL;
      stc_write_pem (certs.stranger_leaf, stranger);
      g_assert_false (openssl_verify (f->trust, stranger, &out));
      g_assert_nonnull (strstr (out, "unable to get local issuer certificate"));
    }

  /* Every kept hash link of the NAS-less generation 2 is generation 3's
   * file too (the same inode), and the printer's chain is still there. */
  g_autoptr (GHashTable) links2 = hash_links (gen2);
  GHashTableIter iter;
  gpointer name;
  g_hash_table_iter_init (&iter, links2);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    {
      g_autofree char *in2 = g_build_filename (gen2, (const char *) name, NULL);
      g_autofree char *in3 = g_build_filename (gen3, (const char *) name, NULL);
      g_assert_cmpint (inode_of (in3), ==, inode_of (in2));
    }
  /* The reader of generation 1 still gets all of it, each entry passing
   * its checksum: its index.snap was unlinked, not written over. */
  g_assert_cmpuint (settle_snapshot_count (mapped1), ==, 5);
  for (size_t i = 0; i < settle_snapshot_count (mapped1); i++)
    g_assert_nonnull (settle_snapshot_entry (mapped1, i));
  g_assert_cmpstr (settle_snapshot_entry (mapped1, 4)->label, ==, "Old NAS");
  settle_snapshot_free (mapped1);

  g_autofree char *printer_cross = hash_link_path (gen3, certs.cross_a, 0);
  g_assert_true (g_file_test (printer_cross, G_FILE_TEST_IS_REGULAR));
  (void) printer;
}

/* A candidate that is not a real directory of the user is never written
 * through: a symlink in gen-N's place is pruned, not followed, and the
 * change gets a fresh directory.  A directory that holds a non-empty
 * directory is not recycled either: the change is written from the
 * store instead. */
static void
test_change_recycles_only_own_dirs (Fixture *f, gconstpointer data)
{
  (void) data;
  SettleRecord *nas = g_ptr_array_index (f->records, 2);
  const char *gone_nas[] = { nas->fingerprint, NULL };
  g_autoptr (GPtrArray) added = g_ptr_array_new ();
  g_ptr_array_add (added, nas);
  write_ok (f);
  change_ok (f, gone_nas, NULL);                    /* gen 2 */
  g_autofree char *gen1 = generation_path (f, 1);
  g_autofree char *elsewhere = g_build_filename (f->data_dir, "elsewhere", NULL);
  g_autofree char *precious = g_build_filename (elsewhere, "precious", NULL);
  g_assert_cmpint (g_rename (gen1, elsewhere), ==, 0);
  g_assert_true (g_file_set_contents (precious, "mine", -1, NULL));
  g_assert_cmpint (symlink (elsewhere, gen1), ==, 0);

  change_ok (f, NULL, added);                       /* gen 3 */
  g_assert_true (g_file_test (precious, G_FILE_TEST_IS_REGULAR));
  struct stat st;
  g_assert_cmpint (lstat (gen1, &st), !=, 0);       /* the symlink was pruned */
  g_autofree char *gen3 = generation_path (f, 3);
  g_assert_cmpint (lstat (gen3, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_ino, !=, inode_of (elsewhere));
  assert_same_as_full (f, f->records);

  /* gen 2 now holds a directory with a file in it. */
  g_autofree char *gen2 = generation_path (f, 2);
  g_autofree char *nested = g_build_filename (gen2, "nested", NULL);
  g_autofree char *nested_file = g_build_filename (nested, "file", NULL);
  g_assert_cmpint (g_mkdir (nested, 0755), ==, 0);
  g_assert_true (g_file_set_contents (nested_file, "x", -1, NULL));
  g_autoptr (GError) error = NULL;
  gboolean needs_full = FALSE;
  g_assert_false (settle_snapshot_write_change (f->trust, gone_nas, NULL, &needs_full, &error));
  g_assert_no_error (error);
  g_assert_true (needs_full);
  g_autofree char *link = g_file_read_link (f->trust, NULL);
  g_assert_cmpstr (link, ==, "snapshots/gen-000000000003");
  g_ptr_array_remove_index (f->records, 2);
  write_ok (f);                                     /* what the caller does then */
  settle_snapshot *snap = load_ok (f->trust);
  g_assert_cmpuint (settle_snapshot_generation (snap), ==, 4);
  settle_snapshot_free (snap);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  build_certs ();
  /* First: it changes the environment, which is only safe before threads. */
  g_test_add_func ("/snapshot/read/default-dir", test_default_dir);
  g_test_add_func ("/snapshot/read/missing-is-empty", test_missing_is_empty);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/snapshot/write/fields", test_fields);
  ADD ("/snapshot/write/manufacturer-never-published", test_manufacturer_never_published);
  ADD ("/snapshot/write/lookups", test_lookups);
  ADD ("/snapshot/write/generations", test_generations);
  ADD ("/snapshot/write/files", test_files);
  ADD ("/snapshot/write/client-identity", test_client_identity);
  ADD ("/snapshot/write/empty", test_empty);
  ADD ("/snapshot/write/refuses-real-directory", test_refuses_real_directory);
  ADD ("/snapshot/write/refuses-foreign-scope", test_refuses_foreign_scope);
  ADD ("/snapshot/write/refuses-what-could-issue", test_refuses_what_could_issue);
  ADD ("/snapshot/write/refuses-foreign-snapshots-dir", test_refuses_foreign_snapshots_dir);
  ADD ("/snapshot/write/refuses-missing-cross", test_refuses_missing_cross);
  ADD ("/snapshot/write/openssl-capath", test_openssl_capath);
  ADD ("/snapshot/read/threads", test_threads);
  ADD ("/snapshot/mapped/same-as-cbor", test_mapped_same_as_cbor);
  ADD ("/snapshot/mapped/falls-back", test_mapped_falls_back);
  ADD ("/snapshot/mapped/damaged-entry", test_mapped_damaged_entry);
  ADD ("/snapshot/mapped/mutations", test_mapped_mutations);
  ADD ("/snapshot/mapped/threads", test_mapped_threads);
  ADD ("/snapshot/change/same-as-full", test_change_same_as_full);
  ADD ("/snapshot/change/refuses-what-could-issue", test_change_refuses_what_could_issue);
  ADD ("/snapshot/change/needs-full", test_change_needs_full);
  ADD ("/snapshot/change/recycles", test_change_recycles);
  ADD ("/snapshot/change/recycles-only-own-dirs", test_change_recycles_only_own_dirs);
#undef ADD
  int rc = g_test_run ();
  free_certs ();
  return rc;
}
