/* store-file.c: the file store backend.
 *
 * Layout of the (0700, ours) store directory:
 *   <fingerprint>.json       one record, mode 0600
 *   keys/<fingerprint>.pem   its client key, mode 0600, keys/ is 0700
 *   catalogue                a cache of every record's summary, 0600, for
 *                            `settle list` and lookups by label or name
 *                            (store-catalogue.h); rewritten when a store
 *                            that changed a record is closed
 *   .tmp-*                   a write in progress; never read, and
 *                            removed by a later write once stale (a
 *                            writer killed before its rename)
 * Every write goes to a temporary file in the same directory, is synced,
 * then renamed (replace) or hard-linked (add: link fails when the name
 * exists, so two adders of one fingerprint cannot both win), and the
 * directory is synced so that the new name survives a crash.  All file
 * operations are relative to a descriptor held open on the directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "settle-error.h"
#include "settle-record-json.h"
#include "store-catalogue.h"
#include "store-file.h"

#define KEYS_SUBDIR "keys"
#define RECORD_SUFFIX ".json"
#define KEY_SUFFIX ".pem"
#define TEMP_PREFIX ".tmp-"
/* A write takes milliseconds; a temporary file this old was left by a
 * writer that died (SIGKILL, power loss), and may hold a client key. */
#define TEMP_STALE_SECONDS 60

typedef struct {
  char *dir;    /* owned: the store directory, for messages */
  int dir_fd;   /* owned */
  /* Fingerprints of the records written or deleted through this store
   * (owned set of owned strings, NULL before the first): the catalogue
   * is rewritten when it closes. */
  GHashTable *changed;
  /* A read found a record old enough to have a row without a usable
   * one (a store restored from a backup, a record edited by hand): the
   * catalogue is rewritten, every row checked, when the store closes. */
  gboolean catalogue_outdated;
} FileStore;

static void
note_changed (FileStore *store, const char *fingerprint)
{
  if (store->changed == NULL)
    store->changed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (store->changed, g_strdup (fingerprint));
}

static gboolean
was_changed (const FileStore *store, const char *fingerprint)
{
  return store->changed != NULL && g_hash_table_contains (store->changed, fingerprint);
}

static gboolean
store_errno_error (GError **error, int saved_errno, const char *action, const char *dir,
                   const char *name)
{
  char *path = name != NULL ? g_build_filename (dir, name, NULL) : g_strdup (dir);
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "Cannot %s %s: %s.", action, path,
               g_strerror (saved_errno));
  g_free (path);
  return FALSE;
}

/* ---- directories ------------------------------------------------------ */

/* Someone else able to write here could plant or swap records (trust
 * anchors!), so such a directory is refused rather than repaired.  Read
 * bits for others are only tightened: labels and names are private. */
static gboolean
check_private_dir (int fd, const char *path, GError **error)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    return store_errno_error (error, errno, "inspect", path, NULL);
  if (st.st_uid != geteuid ())
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "The store directory %s belongs to uid %u, not to you (uid %u); "
                   "settle will not use it.", path, (guint) st.st_uid, (guint) geteuid ());
      return FALSE;
    }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "The store directory %s is writable by other users (mode %04o); "
                   "settle will not use it until it is mode 0700.", path,
                   (guint) (st.st_mode & 07777));
      return FALSE;
    }
  if ((st.st_mode & 077) != 0 && fchmod (fd, 0700) != 0)
    return store_errno_error (error, errno, "restrict the permissions of", path, NULL);
  return TRUE;
}

static int
open_private_dir_at (int parent_fd, const char *name, const char *path, GError **error)
{
  int fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      store_errno_error (error, errno, "open the store directory", path, NULL);
      return -1;
    }
  if (!check_private_dir (fd, path, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* keys/ inside the store; with `create`, made when missing.  Returns -1
 * with errno ENOENT and no error when absent and not created. */
static int
open_keys_dir (FileStore *store, gboolean create, GError **error)
{
  if (create && mkdirat (store->dir_fd, KEYS_SUBDIR, 0700) != 0 && errno != EEXIST)
    {
      store_errno_error (error, errno, "create", store->dir, KEYS_SUBDIR);
      return -1;
    }
  struct stat st;
  if (!create && fstatat (store->dir_fd, KEYS_SUBDIR, &st, AT_SYMLINK_NOFOLLOW) != 0
      && errno == ENOENT)
    return -1;

  char *path = g_build_filename (store->dir, KEYS_SUBDIR, NULL);
  int fd = open_private_dir_at (store->dir_fd, KEYS_SUBDIR, path, error);
  g_free (path);
  return fd;
}

/* ---- atomic writes ---------------------------------------------------- */

static gboolean
write_fully (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
is_stale_temp_file (int dir_fd, const char *name, time_t now)
{
  struct stat st;
  return g_str_has_prefix (name, TEMP_PREFIX)
         && fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)
         && now - st.st_mtime > TEMP_STALE_SECONDS;
}

/* Best effort: removes what dead writers left in `dir_fd`.  By age, not
 * by the state lock, so that a live writer's file is never touched even
 * by a caller that does not hold the lock. */
static void
remove_stale_temp_files (int dir_fd)
{
  int fd = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  time_t now = time (NULL);
  struct dirent *entry;

  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  while ((entry = readdir (dir)) != NULL)
    if (is_stale_temp_file (dir_fd, entry->d_name, now))
      unlinkat (dir_fd, entry->d_name, 0);
  closedir (dir);
}

/* Creates and fills a 0600 temporary file in `dir_fd`, synced when
 * `sync`; returns its owned name, or NULL with `error` set. */
static char *
write_temp_file (int dir_fd, const char *dir, const guint8 *data, gsize len, gboolean sync,
                 GError **error)
{
  char *name = NULL;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; attempt++)
    {
      g_free (name);
      name = g_strdup_printf (TEMP_PREFIX "%08x%08x", g_random_int (), g_random_int ());
      fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  if (fd < 0)
    {
      store_errno_error (error, errno, "create a temporary file in", dir, NULL);
      g_free (name);
      return NULL;
    }

  gboolean written = write_fully (fd, data, len) && (!sync || fsync (fd) == 0);
  int saved = errno;
  if (close (fd) != 0 && written)
    {
      written = FALSE;
      saved = errno;
    }
  if (!written)
    {
      store_errno_error (error, saved, "write", dir, name);
      unlinkat (dir_fd, name, 0);
      g_free (name);
      return NULL;
    }
  return name;
}

/* Puts `data` under `name` in `dir_fd` all at once: readers see the old
 * content or the new one, never a part. */
static gboolean
write_atomically (int dir_fd, const char *dir, const char *name, const guint8 *data, gsize len,
                  SettleStoreWriteMode mode, GError **error)
{
  remove_stale_temp_files (dir_fd);
  char *temp = write_temp_file (dir_fd, dir, data, len, TRUE, error);
  if (temp == NULL)
    return FALSE;

  gboolean ok;
  if (mode == SETTLE_STORE_WRITE_NEW)
    {
      ok = linkat (dir_fd, temp, dir_fd, name, 0) == 0;
      int saved = errno;
      unlinkat (dir_fd, temp, 0);
      if (!ok && saved == EEXIST)
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_EXISTS,
                     "This anchor is already trusted (%s in %s).", name, dir);
      else if (!ok)
        store_errno_error (error, saved, "add", dir, name);
    }
  else
    {
      ok = renameat (dir_fd, temp, dir_fd, name) == 0;
      if (!ok)
        {
          store_errno_error (error, errno, "replace", dir, name);
          unlinkat (dir_fd, temp, 0);
        }
    }
  g_free (temp);

  if (ok && fsync (dir_fd) != 0)
    return store_errno_error (error, errno, "sync the directory", dir, NULL);
  return ok;
}

static gboolean
file_exists_at (int dir_fd, const char *name)
{
  struct stat st;
  return fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* ---- reading ---------------------------------------------------------- */

/* Whole regular file `name` in `dir_fd`, at most `max` bytes, into an
 * owned buffer (NUL-terminated for convenience), and in *st_out (may be
 * NULL) its fstat from before it was read.  ENOENT gives
 * SETTLE_ERROR_NOT_FOUND with `missing_message`. */
static guint8 *
read_small_file (int dir_fd, const char *dir, const char *name, gsize max,
                 const char *missing_message, gsize *len_out, struct stat *st_out, GError **error)
{
  /* O_NONBLOCK: a FIFO planted under the name must not hang the reader
   * (the fstat below then refuses it); no effect on a regular file. */
  int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    {
      if (errno == ENOENT)
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND, missing_message);
      else
        store_errno_error (error, errno, "open", dir, name);
      return NULL;
    }

  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size < 0
      || (guint64) st.st_size > max)
    {
      char *path = g_build_filename (dir, name, NULL);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE,
                   "%s is not a regular file of at most %zu bytes.", path, max);
      g_free (path);
      close (fd);
      return NULL;
    }

  if (st_out != NULL)
    *st_out = st;
  gsize size = (gsize) st.st_size;
  guint8 *buffer = g_malloc (size + 1);
  gsize done = 0;
  while (done < size)
    {
      ssize_t n = read (fd, buffer + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  int saved = errno;
  close (fd);
  if (done != size)
    {
      OPENSSL_cleanse (buffer, size + 1);
      g_free (buffer);
      store_errno_error (error, saved, "read", dir, name);
      return NULL;
    }
  buffer[size] = '\0';
  *len_out = size;
  return buffer;
}

/* The record in file `name`; *st_out (may be NULL) as read_small_file. */
static SettleRecord *
read_record_file (FileStore *store, const char *name, struct stat *st_out, GError **error)
{
  char *missing = g_strdup_printf ("No trusted record has the fingerprint %.64s.", name);
  gsize len = 0;
  guint8 *json = read_small_file (store->dir_fd, store->dir, name, SETTLE_STORE_RECORD_MAX,
                                  missing, &len, st_out, error);
  g_free (missing);
  if (json == NULL)
    return NULL;

  GError *parse_error = NULL;
  SettleRecord *record = settle_record_from_json ((const char *) json, len, &parse_error);
  g_free (json);
  if (record != NULL && !g_str_has_prefix (name, record->fingerprint))
    {
      g_set_error_literal (&parse_error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The record inside has a different fingerprint than its file name.");
      g_clear_pointer (&record, settle_record_free);
    }
  if (record == NULL)
    {
      char *path = g_build_filename (store->dir, name, NULL);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "The record file %s is corrupt: %s", path, parse_error->message);
      g_free (path);
      g_error_free (parse_error);
    }
  return record;
}

static gboolean
is_lower_hex_n (const char *text, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (text[i]) && !(text[i] >= 'a' && text[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* Only "<64 lowercase hex>.json": temporary files and anything a user
 * left in the directory are not records. */
static gboolean
is_record_file_name (const char *name)
{
  return strlen (name) == SETTLE_FINGERPRINT_HEX_LEN + strlen (RECORD_SUFFIX)
    && g_str_has_suffix (name, RECORD_SUFFIX)
    && is_lower_hex_n (name, SETTLE_FINGERPRINT_HEX_LEN);
}

static char *
record_file_name (const char *fingerprint)
{
  return g_strconcat (fingerprint, RECORD_SUFFIX, NULL);
}

/* ---- the backend ------------------------------------------------------ */

static gboolean
file_write_record (gpointer state, const SettleRecord *record, const char *json,
                   SettleStoreWriteMode mode, GError **error)
{
  FileStore *store = state;
  char *name = record_file_name (record->fingerprint);
  gboolean ok;
  if (mode == SETTLE_STORE_WRITE_REPLACE && !file_exists_at (store->dir_fd, name))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                   "No trusted record has the fingerprint %s, so there is nothing to replace.",
                   record->fingerprint);
      ok = FALSE;
    }
  else
    ok = write_atomically (store->dir_fd, store->dir, name, (const guint8 *) json, strlen (json),
                           mode, error);
  if (ok)
    note_changed (store, record->fingerprint);
  g_free (name);
  return ok;
}

static SettleRecord *
file_read_record (gpointer state, const char *fingerprint, GError **error)
{
  char *name = record_file_name (fingerprint);
  SettleRecord *record = read_record_file (state, name, NULL, error);
  g_free (name);
  return record;
}

/* Owned array of the owned names of every record file in the store. */
static GPtrArray *
record_file_names (FileStore *store, GError **error)
{
  int fd = openat (store->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  if (dir == NULL)
    {
      store_errno_error (error, errno, "list", store->dir, NULL);
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  while ((entry = readdir (dir)) != NULL)
    if (is_record_file_name (entry->d_name))
      g_ptr_array_add (names, g_strdup (entry->d_name));
  closedir (dir);
  return names;
}

/* The record in file `name`, or NULL: with `error` set for an I/O error,
 * or without, the record set aside in `unreadable`, when it does not parse
 * (one record we cannot read must not lock the user out of the rest). */
static SettleRecord *
read_record_or_set_aside (FileStore *store, const char *name, struct stat *st_out,
                          GPtrArray *unreadable, GError **error)
{
  GError *local_error = NULL;
  SettleRecord *record = read_record_file (store, name, st_out, &local_error);
  if (record != NULL)
    return record;
  if (g_error_matches (local_error, SETTLE_ERROR, SETTLE_ERROR_FORMAT))
    {
      g_autofree char *fingerprint = g_strndup (name, SETTLE_FINGERPRINT_HEX_LEN);
      settle_store_set_aside (unreadable, fingerprint, local_error);
      g_error_free (local_error);
    }
  else
    g_propagate_error (error, local_error);
  return NULL;
}

static GPtrArray *
file_read_all (gpointer state, GPtrArray *unreadable, GError **error)
{
  FileStore *store = state;
  g_autoptr (GPtrArray) names = record_file_names (store, error);
  if (names == NULL)
    return NULL;

  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_record_free);
  for (guint i = 0; i < names->len; i++)
    {
      GError *local_error = NULL;
      SettleRecord *record = read_record_or_set_aside (store, names->pdata[i], NULL, unreadable, &local_error);
      if (record != NULL)
        g_ptr_array_add (records, record);
      else if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          g_clear_pointer (&records, g_ptr_array_unref);
          break;
        }
    }
  return records;
}

/* ---- the catalogue (store-catalogue.h) -------------------------------- */

/* The rows of the catalogue file in its order, or NULL when there is none
 * usable: absent, unreadable, too large or not well-formed.  Never an
 * error: then every record is read instead. */
static GPtrArray *
load_catalogue (FileStore *store)
{
  gsize len = 0;
  guint8 *data = read_small_file (store->dir_fd, store->dir, SETTLE_CATALOGUE_FILE, SETTLE_CATALOGUE_MAX,
                                  "no catalogue", &len, NULL, NULL);
  if (data == NULL)
    return NULL;
  GPtrArray *rows = settle_catalogue_parse (data, len);
  g_free (data);
  return rows;
}

/* TRUE when record file `name` is the very file `row` was made from. */
static gboolean
row_is_fresh (FileStore *store, const SettleCatalogueRow *row, const char *name)
{
  struct stat st;
  return fstatat (store->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && settle_catalogue_row_is_fresh (row, &st);
}

/* Moves to `rows` each row of `cached` whose record file is in `pending`
 * (names still to account for) and usable, and takes its name out of
 * `pending`.  Usable, to answer a read (`carry_unchanged` FALSE): fresh,
 * checked against its file now.  To rewrite the catalogue (TRUE): any
 * row of a record this store did not change, carried as it is without
 * that check: every reader checks each row before it uses one, so a row
 * gone stale behind settle's back costs a reader one record file read,
 * never a wrong answer, while checking them all here would cost every
 * change N fstat calls.  Rows stay in the catalogue's order. */
static void
take_usable_rows (FileStore *store, GPtrArray *cached, GHashTable *pending, gboolean carry_unchanged,
                  GPtrArray *rows)
{
  char name[SETTLE_FINGERPRINT_HEX_LEN + sizeof RECORD_SUFFIX];
  for (guint i = 0; cached != NULL && i < cached->len; i++)
    {
      SettleCatalogueRow *row = cached->pdata[i];
      const char *fingerprint = row->summary->fingerprint;
      g_snprintf (name, sizeof name, "%s" RECORD_SUFFIX, fingerprint);
      if (!g_hash_table_contains (pending, name))
        continue;
      gboolean usable = carry_unchanged ? !was_changed (store, fingerprint) : row_is_fresh (store, row, name);
      if (usable)
        {
          g_hash_table_remove (pending, name);
          g_ptr_array_add (rows, g_steal_pointer (&cached->pdata[i]));
        }
    }
}

/* A row for every readable record file now in the store (owned array of
 * owned SettleCatalogueRow*): the catalogue's where usable
 * (take_usable_rows), else made from the file.  The set of records is
 * always the directory's, never the catalogue's: a record added or
 * removed behind settle's back is listed or not as it is there. */
static GPtrArray *
collect_rows (FileStore *store, gboolean carry_unchanged, GPtrArray *unreadable, GError **error)
{
  g_autoptr (GPtrArray) names = record_file_names (store, error);
  if (names == NULL)
    return NULL;
  g_autoptr (GHashTable) pending = g_hash_table_new (g_str_hash, g_str_equal);  /* borrowed from names */
  for (guint i = 0; i < names->len; i++)
    g_hash_table_add (pending, names->pdata[i]);
  g_autoptr (GPtrArray) cached = load_catalogue (store);
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_catalogue_row_free);
  take_usable_rows (store, cached, pending, carry_unchanged, rows);

  for (guint i = 0; i < names->len && g_hash_table_size (pending) > 0; i++)
    {
      const char *name = names->pdata[i];
      if (!g_hash_table_contains (pending, name))
        continue;
      struct stat st;
      gint64 now_ns = g_get_real_time () * 1000;
      GError *local_error = NULL;
      SettleRecord *record = read_record_or_set_aside (store, name, &st, unreadable, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          g_clear_pointer (&rows, g_ptr_array_unref);
          break;
        }
      if (record != NULL)
        {
          SettleCatalogueRow *row = settle_catalogue_row_new (record, &st, now_ns);
          store->catalogue_outdated |= !carry_unchanged && row->settled;
          g_ptr_array_add (rows, row);
        }
      settle_record_free (record);
    }
  return rows;
}

static GPtrArray *
file_read_summaries (gpointer state, GPtrArray *unreadable, GError **error)
{
  GPtrArray *rows = collect_rows (state, FALSE, unreadable, error);
  if (rows == NULL)
    return NULL;
  GPtrArray *summaries = g_ptr_array_new_full (rows->len, (GDestroyNotify) settle_record_summary_free);
  for (guint i = 0; i < rows->len; i++)
    {
      SettleCatalogueRow *row = rows->pdata[i];
      g_ptr_array_add (summaries, g_steal_pointer (&row->summary));
    }
  g_ptr_array_unref (rows);
  return summaries;
}

/* Replaces the catalogue all at once, but unsynced: after a power loss it
 * may be old, empty or damaged, which its checksum and the freshness rule
 * catch (schema/store.md), and a sync of 2 MB would cost every change
 * more than the catalogue saves. */
static void
replace_catalogue_file (FileStore *store, const guint8 *data, gsize len)
{
  char *temp = write_temp_file (store->dir_fd, store->dir, data, len, FALSE, NULL);
  if (temp != NULL && renameat (store->dir_fd, temp, store->dir_fd, SETTLE_CATALOGUE_FILE) != 0)
    unlinkat (store->dir_fd, temp, 0);
  g_free (temp);
}

/* Best effort: the catalogue is a cache, and a stale or missing one costs
 * time, never correctness, so a failure here fails no change.  Rows of
 * records nobody changed are carried unchecked after a change, checked
 * when a read found the catalogue outdated (take_usable_rows). */
static void
rewrite_catalogue (FileStore *store)
{
  g_autoptr (GPtrArray) unreadable = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_unreadable_record_free);
  g_autoptr (GPtrArray) rows = collect_rows (store, !store->catalogue_outdated, unreadable, NULL);
  if (rows == NULL)
    return;
  gsize len = 0;
  g_autofree guint8 *data = settle_catalogue_encode (rows, &len);
  replace_catalogue_file (store, data, len);
}

static gboolean
unlink_client_key (FileStore *store, const char *fingerprint, GError **error)
{
  GError *local_error = NULL;
  int keys_fd = open_keys_dir (store, FALSE, &local_error);
  if (keys_fd < 0)
    {
      /* No keys/ directory at all means no key to remove. */
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, local_error);
      return FALSE;
    }

  char *name = g_strconcat (fingerprint, KEY_SUFFIX, NULL);
  gboolean ok = TRUE;
  if (unlinkat (keys_fd, name, 0) != 0 && errno != ENOENT)
    ok = store_errno_error (error, errno, "remove the client key", store->dir, name);
  else if (fsync (keys_fd) != 0)
    ok = store_errno_error (error, errno, "sync the directory", store->dir, KEYS_SUBDIR);
  g_free (name);
  close (keys_fd);
  return ok;
}

static gboolean
file_delete_record (gpointer state, const char *fingerprint, GError **error)
{
  FileStore *store = state;
  char *name = record_file_name (fingerprint);
  gboolean ok = TRUE;
  if (unlinkat (store->dir_fd, name, 0) != 0)
    {
      if (errno == ENOENT)
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                     "No trusted record has the fingerprint %s.", fingerprint);
      else
        store_errno_error (error, errno, "remove", store->dir, name);
      ok = FALSE;
    }
  else
    {
      note_changed (store, fingerprint);
      if (fsync (store->dir_fd) != 0)
        ok = store_errno_error (error, errno, "sync the directory", store->dir, NULL);
    }
  g_free (name);
  return ok && unlink_client_key (store, fingerprint, error);
}

static gboolean
file_write_client_key (gpointer state, const char *fingerprint, GBytes *pkcs8_pem,
                       GError **error)
{
  FileStore *store = state;
  int keys_fd = open_keys_dir (store, TRUE, error);
  if (keys_fd < 0)
    return FALSE;

  char *keys_path = g_build_filename (store->dir, KEYS_SUBDIR, NULL);
  char *name = g_strconcat (fingerprint, KEY_SUFFIX, NULL);
  gsize len = 0;
  const guint8 *pem = g_bytes_get_data (pkcs8_pem, &len);
  gboolean ok = write_atomically (keys_fd, keys_path, name, pem, len, SETTLE_STORE_WRITE_REPLACE,
                                  error);
  g_free (name);
  g_free (keys_path);
  close (keys_fd);
  return ok;
}

static GBytes *
file_read_client_key (gpointer state, const char *fingerprint, GError **error)
{
  FileStore *store = state;
  char *missing = g_strdup_printf ("There is no client key for the fingerprint %s.", fingerprint);
  GError *local_error = NULL;
  int keys_fd = open_keys_dir (store, FALSE, &local_error);
  if (keys_fd < 0)
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else
        g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND, missing);
      g_free (missing);
      return NULL;
    }

  char *keys_path = g_build_filename (store->dir, KEYS_SUBDIR, NULL);
  char *name = g_strconcat (fingerprint, KEY_SUFFIX, NULL);
  gsize len = 0;
  guint8 *pem = read_small_file (keys_fd, keys_path, name, SETTLE_STORE_CLIENT_KEY_MAX, missing,
                                 &len, NULL, error);
  g_free (name);
  g_free (keys_path);
  g_free (missing);
  close (keys_fd);
  if (pem == NULL)
    return NULL;
  /* The terminating NUL stays in the buffer, outside the GBytes: it is
   * zero already, so wiping the GBytes wipes every secret byte. */
  return settle_secret_bytes_take (pem, len);
}

static void
file_close (gpointer state)
{
  FileStore *store = state;
  if (store == NULL)
    return;
  /* Once per command rather than once per change: filling a store of N
   * records in one process would otherwise rewrite it N times. */
  if (store->changed != NULL || store->catalogue_outdated)
    rewrite_catalogue (store);
  g_clear_pointer (&store->changed, g_hash_table_unref);
  if (store->dir_fd >= 0)
    close (store->dir_fd);
  g_free (store->dir);
  g_free (store);
}

static gpointer
file_open (const char *dir, char **description, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      store_errno_error (error, errno, "create the store directory", dir, NULL);
      return NULL;
    }
  int dir_fd = open_private_dir_at (AT_FDCWD, dir, dir, error);
  if (dir_fd < 0)
    return NULL;

  FileStore *state = g_new0 (FileStore, 1);
  state->dir = g_strdup (dir);
  state->dir_fd = dir_fd;
  *description = g_strdup_printf ("file store %s", dir);
  return state;
}

const SettleStoreBackend settle_store_file_backend = {
  .open = file_open,
  .write_record = file_write_record,
  .read_record = file_read_record,
  .read_all = file_read_all,
  .read_summaries = file_read_summaries,
  .delete_record = file_delete_record,
  .write_client_key = file_write_client_key,
  .read_client_key = file_read_client_key,
  .close = file_close,
};
