/* snapshot-change.c: a new generation from the current one and a change
 * (settle_snapshot_write_change, settle-snapshot.h).
 *
 * A change touches one or two records, so the writer does work for them
 * only: the entries of every other record are taken from the current
 * generation's index.snap as the mapped reader returns them (each checked:
 * extent, checksum, every field) and encoded again without parsing their
 * certificates; the changed records' certificates get every check of the
 * full writer (snapshot_collect_items: the scope rule included) and go
 * through the CBOR reader; the new index.snap is checked entry by entry by
 * the mapped reader before it is written, as in the full writer.  Hash
 * links of subjects the change does not touch are hard links to the
 * current generation's files (written once, never modified); the chains
 * of touched subjects and bundle.pem are written anew.  The directory is
 * the generation the prune would delete, recycled: only the hash links
 * that differ from the current generation's are linked or removed, so a
 * change costs work in proportion to the last two changes, not to N.   The generation is
 * complete, self-contained and published exactly as a full one: readers
 * cannot tell the two writers apart (docs/snapshot.md, "Changes").
 *
 * Whenever the current generation does not lend itself (no index.snap for
 * its index.cbor, an entry the reader refuses, a hash chain or bundle.pem
 * that does not hold what its index says), the caller is told to write
 * the generation from the whole store instead. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/x509.h>

#include "settle-error.h"
#include "settle-snapshot.h"
#include "snapshot-write-private.h"

#define HASH_NAME_DIGITS 8
/* The largest file a generation holds besides the indexes: bundle.pem. */
#define BUNDLE_MAX SETTLE_SNAPSHOT_MAX_BYTES

typedef struct {
  settle_snapshot *current;  /* owned: the generation `trust` points at, mapped */
  GPtrArray *kept;           /* const settle_snap_entry*, borrowed from current */
  GPtrArray *gone_pems;      /* owned char*: trusted PEM of every removed trust entry */
  GHashTable *touched;       /* subject hash (as pointer) -> TRUE: chains written anew */
  GPtrArray *items;          /* owned SnapItem*: the added records' certificates */
  settle_snapshot *fresh;    /* owned: the added entries as the CBOR reader decoded them */
  GByteArray *index;         /* owned: the new index.cbor */
  const settle_snap_entry **entries; /* owned array, borrowed entries: kept then fresh */
  size_t count;
  gboolean unsuitable;       /* the current generation does not hold what its index says */
} Change;

static void
change_clear (Change *change)
{
  g_clear_pointer (&change->kept, g_ptr_array_unref);
  g_clear_pointer (&change->gone_pems, g_ptr_array_unref);
  g_clear_pointer (&change->touched, g_hash_table_unref);
  g_clear_pointer (&change->items, g_ptr_array_unref);
  g_clear_pointer (&change->fresh, settle_snapshot_free);
  g_clear_pointer (&change->index, g_byte_array_unref);
  g_clear_pointer (&change->entries, g_free);
  g_clear_pointer (&change->current, settle_snapshot_free);
}

static gboolean
unsuitable (Change *change, GError **error, const char *why)
{
  change->unsuitable = TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "the current generation cannot be changed in place: %s",
               why);
  return FALSE;
}

/* ---- what changes ------------------------------------------------------- */

static gboolean
is_listed (const char *fingerprint, const char *const *removed, GPtrArray *added)
{
  for (size_t i = 0; removed != NULL && removed[i] != NULL; i++)
    if (strcmp (fingerprint, removed[i]) == 0)
      return TRUE;
  for (guint i = 0; added != NULL && i < added->len; i++)
    if (strcmp (fingerprint, ((const SettleRecord *) g_ptr_array_index (added, i))->fingerprint) == 0)
      return TRUE;
  return FALSE;
}

/* The OpenSSL subject hash of a DER Name (as `openssl rehash` names). */
static gboolean
subject_hash (const uint8_t *der, size_t len, unsigned long *out)
{
  const unsigned char *p = der;
  X509_NAME *name = d2i_X509_NAME (NULL, &p, (long) len);
  int ok = 0;
  if (name != NULL && p == der + len)
    *out = X509_NAME_hash_ex (name, NULL, NULL, &ok);
  X509_NAME_free (name);
  return ok == 1;
}

/* Remembers what a removed entry published for OpenSSL: its hash chain
 * and its PEM block, both to be taken out. */
static gboolean
note_gone (Change *change, const settle_snap_entry *e, GError **error)
{
  if (e->role == SETTLE_SNAP_CLIENT)
    return TRUE;
  const unsigned char *p = e->der.data;
  X509 *cert = d2i_X509 (NULL, &p, (long) e->der.len);
  char *pem = cert != NULL && p == e->der.data + e->der.len ? snapshot_trusted_pem (cert) : NULL;
  X509_free (cert);
  unsigned long hash = 0;
  if (pem == NULL || !subject_hash (e->subject.data, e->subject.len, &hash))
    {
      g_free (pem);
      return unsuitable (change, error, "a removed certificate cannot be read back");
    }
  g_ptr_array_add (change->gone_pems, pem);
  g_hash_table_add (change->touched, GSIZE_TO_POINTER ((gsize) hash));
  return TRUE;
}

/* Splits the current entries into those kept and those of removed or
 * replaced records. */
static gboolean
sort_current (Change *change, const char *const *removed, GPtrArray *added, GError **error)
{
  size_t count = settle_snapshot_count (change->current);
  for (size_t i = 0; i < count; i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (change->current, i);
      if (e == NULL)
        return unsuitable (change, error, settle_snapshot_refusal (change->current));
      if (!is_listed (e->record, removed, added))
        g_ptr_array_add (change->kept, (gpointer) e);
      else if (!note_gone (change, e, error))
        return FALSE;
    }
  return TRUE;
}

/* The added certificates' subjects get their chains written anew too, so
 * that none of them is also linked from the current generation. */
static gboolean
note_added (Change *change, GError **error)
{
  for (guint i = 0; i < change->items->len; i++)
    {
      const SnapItem *item = g_ptr_array_index (change->items, i);
      unsigned long hash;
      if (item->role == SETTLE_SNAP_CLIENT)
        continue;
      if (!snapshot_item_subject_hash (item, &hash, error))
        return FALSE;
      g_hash_table_add (change->touched, GSIZE_TO_POINTER ((gsize) hash));
    }
  return TRUE;
}

/* ---- the new index ------------------------------------------------------ */

#define ENTRY_KEYS 14 /* and "kind" when known, "ec_params" for client identities (snapshot-write.c) */

/* One entry as snapshot-write.c encodes it, from the fields a reader
 * returned: the same keys in the same order.  The kind comes from the
 * entry itself, so an entry taken over keeps the kind it was written with
 * (index.cbor and index.snap both hold it). */
static void
encode_entry_view (GByteArray *out, const settle_snap_entry *e)
{
  const char *kind = e->kind;
  gboolean has_ec = e->role == SETTLE_SNAP_CLIENT && e->ec_params.len > 0;
  snapshot_put_head (out, cbor_encode_map_start, ENTRY_KEYS + (kind != NULL) + has_ec);
  snapshot_put_text (out, "role");
  snapshot_put_text (out, snapshot_role_name (e->role));
  snapshot_put_text (out, "der");
  snapshot_put_bytes (out, e->der.data, e->der.len);
  snapshot_put_text (out, "subject");
  snapshot_put_bytes (out, e->subject.data, e->subject.len);
  snapshot_put_text (out, "issuer");
  snapshot_put_bytes (out, e->issuer.data, e->issuer.len);
  snapshot_put_text (out, "serial");
  snapshot_put_bytes (out, e->serial.data, e->serial.len);
  snapshot_put_text (out, "id");
  snapshot_put_bytes (out, e->id.data, e->id.len);
  snapshot_put_text (out, "sha1");
  snapshot_put_bytes (out, e->sha1, sizeof e->sha1);
  snapshot_put_text (out, "md5");
  snapshot_put_bytes (out, e->md5, sizeof e->md5);
  snapshot_put_text (out, "sha256");
  snapshot_put_bytes (out, e->sha256, sizeof e->sha256);
  snapshot_put_text (out, "label");
  snapshot_put_text (out, e->label);
  snapshot_put_text (out, "record");
  snapshot_put_text (out, e->record);
  snapshot_put_text (out, "scope");
  snapshot_put_text_list (out, (char *const *) e->scope);
  snapshot_put_text (out, "names");
  snapshot_put_text_list (out, (char *const *) e->names);
  snapshot_put_text (out, "not_after");
  snapshot_put_int (out, e->not_after);
  if (kind != NULL)
    {
      snapshot_put_text (out, "kind");
      snapshot_put_text (out, kind);
    }
  if (has_ec)
    {
      snapshot_put_text (out, "ec_params");
      snapshot_put_bytes (out, e->ec_params.data, e->ec_params.len);
    }
}

/* The added records' entries, encoded by the full writer's encoder and
 * decoded by the CBOR reader: what is new passes every check a reader
 * makes before it is published. */
static gboolean
decode_added (Change *change, guint64 generation, GError **error)
{
  g_autoptr (GByteArray) alone = snapshot_encode_index (change->items, generation, error);
  if (alone == NULL)
    return FALSE;
  change->fresh = snapshot_check_readers_accept (alone, error);
  return change->fresh != NULL;
}

static gboolean
encode_change (Change *change, guint64 generation, GError **error)
{
  size_t added = settle_snapshot_count (change->fresh);
  change->count = change->kept->len + added;
  if (change->count > SETTLE_SNAPSHOT_MAX_ENTRIES)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The trust snapshot was not written because its readers would refuse it: it would "
                   "hold %zu entries, more than the limit of %u.", change->count, SETTLE_SNAPSHOT_MAX_ENTRIES);
      return FALSE;
    }
  change->entries = g_new0 (const settle_snap_entry *, change->count + 1);
  for (guint i = 0; i < change->kept->len; i++)
    change->entries[i] = g_ptr_array_index (change->kept, i);
  for (size_t i = 0; i < added; i++)
    change->entries[change->kept->len + i] = settle_snapshot_entry (change->fresh, i);

  GByteArray *out = change->index = g_byte_array_new ();
  snapshot_put_index_head (out, generation, change->count);
  for (size_t i = 0; i < change->count; i++)
    encode_entry_view (out, change->entries[i]);
  if (out->len > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The trust snapshot was not written because its readers would refuse it: the index "
                   "would be %u bytes, more than the limit of %u.", out->len, SETTLE_SNAPSHOT_MAX_BYTES);
      return FALSE;
    }
  return TRUE;
}

/* ---- the files ---------------------------------------------------------- */

/* "<8 lowercase hex>.<decimal>": a name of the hash directory. */
static gboolean
parse_hash_name (const char *name, unsigned long *hash)
{
  for (int i = 0; i < HASH_NAME_DIGITS; i++)
    if (!g_ascii_isxdigit (name[i]) || g_ascii_isupper (name[i]))
      return FALSE;
  if (name[HASH_NAME_DIGITS] != '.' || name[HASH_NAME_DIGITS + 1] == '\0')
    return FALSE;
  for (const char *p = name + HASH_NAME_DIGITS + 1; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  *hash = strtoul (name, NULL, 16);
  return TRUE;
}

/* The whole regular file `name` in `dir_fd` (owned, NUL-terminated), or
 * NULL with errno set (ENOENT: absent). */
static char *
read_file_at (int dir_fd, const char *name, gsize max, gsize *len_out)
{
  int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size < 0 || (guint64) st.st_size > max)
    {
      close (fd);
      errno = EINVAL;
      return NULL;
    }
  gsize size = (gsize) st.st_size, done = 0;
  char *data = g_malloc (size + 1);
  while (done < size)
    {
      ssize_t n = read (fd, data + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  close (fd);
  if (done != size)
    {
      g_free (data);
      errno = EIO;
      return NULL;
    }
  data[size] = '\0';
  *len_out = size;
  return data;
}

/* Index in gone_pems of the removed PEM equal to `text`, or -1. */
static int
gone_index (const Change *change, const char *text)
{
  for (guint i = 0; i < change->gone_pems->len; i++)
    if (strcmp (g_ptr_array_index (change->gone_pems, i), text) == 0)
      return (int) i;
  return -1;
}

/* name -> inode (owned ino_t*) of every name in the directory `dir_fd`
 * but "." and "..", as getdents returns them: no stat per file.  NULL
 * with errno set when it cannot be listed. */
static GHashTable *
list_inodes (int dir_fd)
{
  int fd = dup (dir_fd);
  DIR *listing = fd >= 0 ? fdopendir (fd) : NULL;
  if (listing == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      errno = saved;
      return NULL;
    }
  rewinddir (listing);
  GHashTable *inodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  struct dirent *entry;
  while ((entry = readdir (listing)) != NULL)
    if (strcmp (entry->d_name, ".") != 0 && strcmp (entry->d_name, "..") != 0)
      {
        ino_t ino = entry->d_ino;
        g_hash_table_insert (inodes, g_strdup (entry->d_name), g_memdup2 (&ino, sizeof ino));
      }
  closedir (listing);
  return inodes;
}

/* Removes `name` from the work directory, whatever it is (an empty
 * directory too); a directory with something in it makes the generation
 * unfit for recycling: the change is then written from the store into a
 * fresh directory. */
static gboolean
remove_from_work (Change *change, int dir_fd, const char *dir, const char *name, GError **error)
{
  if (unlinkat (dir_fd, name, 0) == 0
      || ((errno == EISDIR || errno == EPERM) && unlinkat (dir_fd, name, AT_REMOVEDIR) == 0))
    return TRUE;
  if (errno == ENOTEMPTY || errno == EEXIST)
    return unsuitable (change, error, "the generation to recycle holds a directory");
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return snapshot_set_errno_error (error, errno, "remove", path);
}

/* The hash links of untouched subjects, as hard links to the current
 * generation's files, and nothing else: the work directory may be a
 * recycled generation (snapshot_publish) still holding its old files.  A
 * name already linked to the current file (same inode) stays, so the
 * work is proportional to what changed since that generation; a name
 * linked to another file is linked anew; every other name goes (the
 * touched subjects' chains and the old indexes and bundle.pem, written
 * anew next, and anything planted there).  In an empty directory this
 * links every untouched hash link. */
static gboolean
mirror_untouched (Change *change, int old_fd, const char *dir, int dir_fd, GError **error)
{
  struct stat old_st, work_st;
  if (fstat (old_fd, &old_st) != 0 || fstat (dir_fd, &work_st) != 0)
    return snapshot_set_errno_error (error, errno, "inspect", dir);
  /* Inode numbers say "the same file" only within one file system. */
  gboolean same_fs = old_st.st_dev == work_st.st_dev;
  g_autoptr (GHashTable) stale = list_inodes (dir_fd);
  g_autoptr (GHashTable) current = stale != NULL ? list_inodes (old_fd) : NULL;
  if (current == NULL)
    return snapshot_set_errno_error (error, errno, "list", stale == NULL ? dir : "the current snapshot generation");
  GHashTableIter iter;
  gpointer name, ino;
  unsigned long hash;
  g_hash_table_iter_init (&iter, current);
  while (g_hash_table_iter_next (&iter, &name, &ino))
    {
      if (!parse_hash_name (name, &hash) || g_hash_table_contains (change->touched, GSIZE_TO_POINTER ((gsize) hash)))
        continue;
      const ino_t *have = g_hash_table_lookup (stale, name);
      if (have != NULL && same_fs && *have == *(const ino_t *) ino)
        {
          g_hash_table_remove (stale, name);
          continue;
        }
      if (have != NULL && !remove_from_work (change, dir_fd, dir, name, error))
        return FALSE;
      g_hash_table_remove (stale, name);
      if (linkat (old_fd, name, dir_fd, name, 0) != 0)
        {
          g_autofree char *path = g_build_filename (dir, (const char *) name, NULL);
          return snapshot_set_errno_error (error, errno, "link", path);
        }
    }
  g_hash_table_iter_init (&iter, stale);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (!remove_from_work (change, dir_fd, dir, name, error))
      return FALSE;
  return TRUE;
}

/* The chain of every touched subject: the current files but the removed
 * certificates, then the added ones, numbered from 0 without a gap (a
 * CApath reader stops at the first missing number). */
static gboolean
write_touched (Change *change, int old_fd, const char *dir, int dir_fd, GError **error)
{
  g_autoptr (GHashTable) used = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint found = 0;
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, change->touched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      unsigned long hash = (unsigned long) GPOINTER_TO_SIZE (key);
      guint next = 0;
      for (guint k = 0;; k++)
        {
          g_autofree char *name = g_strdup_printf ("%08lx.%u", hash, k);
          gsize len = 0;
          g_autofree char *pem = read_file_at (old_fd, name, SETTLE_SNAPSHOT_MAX_CERT * 2, &len);
          if (pem == NULL && errno == ENOENT)
            break;
          if (pem == NULL)
            return unsuitable (change, error, "a hash link cannot be read");
          if (gone_index (change, pem) >= 0)
            {
              found++;
              continue;
            }
          g_autofree char *new_name = g_strdup_printf ("%08lx.%u", hash, next++);
          if (!snapshot_write_file_synced (dir_fd, dir, new_name, pem, len, error))
            return FALSE;
        }
      g_hash_table_insert (used, key, GUINT_TO_POINTER (next));
    }
  if (found != change->gone_pems->len)
    return unsuitable (change, error, "a removed certificate has no hash link");
  for (guint i = 0; i < change->items->len; i++)
    {
      const SnapItem *item = g_ptr_array_index (change->items, i);
      if (item->role == SETTLE_SNAP_CLIENT)
        continue;
      g_autofree char *name = snapshot_item_hash_file_name (item, used, error);
      if (name == NULL)
        return FALSE;
      if (!snapshot_write_file_synced (dir_fd, dir, name, item->pem, strlen (item->pem), error))
        return FALSE;
    }
  return TRUE;
}

/* bundle.pem: the current one without the removed blocks, then the added
 * ones. */
static gboolean
write_bundle (Change *change, int old_fd, const char *dir, int dir_fd, GError **error)
{
  gsize len = 0;
  g_autofree char *old = read_file_at (old_fd, SETTLE_SNAPSHOT_BUNDLE, BUNDLE_MAX, &len);
  if (old == NULL)
    return unsuitable (change, error, "bundle.pem cannot be read");
  g_autoptr (GString) bundle = g_string_sized_new (len + 4096);
  const char *rest = old;
  for (guint i = 0; i < change->gone_pems->len; i++)
    {
      /* Blocks are cut in the order they are found, whatever the order
       * of gone_pems: find the earliest remaining one each time. */
      const char *first = NULL;
      gsize first_len = 0;
      for (guint j = 0; j < change->gone_pems->len; j++)
        {
          const char *pem = g_ptr_array_index (change->gone_pems, j);
          const char *at = strstr (rest, pem);
          if (at != NULL && (first == NULL || at < first))
            {
              first = at;
              first_len = strlen (pem);
            }
        }
      if (first == NULL)
        return unsuitable (change, error, "a removed certificate is not in bundle.pem");
      g_string_append_len (bundle, rest, first - rest);
      rest = first + first_len;
    }
  g_string_append (bundle, rest);
  for (guint i = 0; i < change->items->len; i++)
    {
      const SnapItem *item = g_ptr_array_index (change->items, i);
      if (item->role != SETTLE_SNAP_CLIENT)
        g_string_append (bundle, item->pem);
    }
  return snapshot_write_file_synced (dir_fd, dir, SETTLE_SNAPSHOT_BUNDLE, bundle->str, bundle->len, error);
}

typedef struct {
  Change *change;
  const char *trust_dir;
} ChangeWrite;

static gboolean
write_changed_generation (const char *dir, int dir_fd, guint64 generation, gpointer data, GError **error)
{
  ChangeWrite *write = data;
  Change *change = write->change;
  int old_fd = open (write->trust_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (old_fd < 0)
    return unsuitable (change, error, "its directory cannot be opened");
  /* First: in a recycled directory, it clears the names written anew
   * below, so that each is a new file (a process that still maps the old
   * one keeps it whole). */
  gboolean ok = mirror_untouched (change, old_fd, dir, dir_fd, error)
                && snapshot_write_file_synced (dir_fd, dir, SETTLE_SNAPSHOT_INDEX, change->index->data,
                                               change->index->len, error)
                && snapshot_write_mapped_index (dir_fd, dir, change->entries, change->count, generation, error)
                && write_touched (change, old_fd, dir, dir_fd, error)
                && write_bundle (change, old_fd, dir, dir_fd, error);
  close (old_fd);
  return ok;
}

/* ---- the whole ---------------------------------------------------------- */

static gboolean
open_current (Change *change, const char *trust_dir, GError **error)
{
  char why[256] = "";
  if (settle_snapshot_open (trust_dir, &change->current, why, sizeof why) != 0)
    return unsuitable (change, error, why);
  if (!settle_snapshot_is_mapped (change->current))
    return unsuitable (change, error, "it has no index.snap for its index.cbor");
  return TRUE;
}

gboolean
settle_snapshot_write_change (const char *trust_dir, const char *const *removed, GPtrArray *added,
                              gboolean *needs_full, GError **error)
{
  g_return_val_if_fail (trust_dir != NULL && needs_full != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  Change change = { 0 };
  g_autofree char *snapshots_dir = NULL;
  GError *local_error = NULL;
  ChangeWrite write = { &change, trust_dir };
  change.kept = g_ptr_array_new ();
  change.gone_pems = g_ptr_array_new_with_free_func (g_free);
  change.touched = g_hash_table_new (g_direct_hash, g_direct_equal);

  gboolean ok = snapshot_prepare_dirs (trust_dir, &snapshots_dir, &local_error)
                && open_current (&change, trust_dir, &local_error)
                && sort_current (&change, removed, added, &local_error)
                && (change.items = snapshot_collect_items (added, &local_error)) != NULL
                && note_added (&change, &local_error);
  guint64 generation = ok ? snapshot_next_generation (trust_dir, snapshots_dir, change.current) : 0;
  ok = ok && decode_added (&change, generation, &local_error)
       && encode_change (&change, generation, &local_error)
       && snapshot_publish (trust_dir, snapshots_dir, generation, TRUE, write_changed_generation, &write,
                                &local_error);
  *needs_full = !ok && change.unsuitable;
  if (*needs_full)
    g_clear_error (&local_error);
  else if (local_error != NULL)
    g_propagate_error (error, local_error);
  change_clear (&change);
  return ok;
}
