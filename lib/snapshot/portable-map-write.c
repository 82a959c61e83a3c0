/* portable-map-write.c: the name map of paired portable devices for
 * libnss_settle (settle-snapshot.h; the format in settle-portable-map.h
 * and schema/portable-names.md).  lib/manage/commit.c writes it from the
 * whole store after every change of a record with a discovery key and
 * with every snapshot made from the whole store, so that it never
 * disagrees with what is trusted. */
#include "settle-snapshot.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <openssl/crypto.h>

#include "settle-error.h"
#include "settle-paths.h"
#include "settle-portable-map.h"
#include "settle-record.h"

char *
settle_portable_map_path (void)
{
  g_autofree char *dir = settle_data_dir ();
  return g_build_filename (dir, "portable-hosts", NULL);
}

static gboolean
is_mapped (const SettleRecord *record)
{
  return record->discovery_key != NULL && record->names != NULL && record->names[0] != NULL
         && strlen (record->names[0]) <= PORTABLE_MAP_NAME_MAX;
}

gboolean
settle_portable_map_write (const char *path, GPtrArray *records, GError **error)
{
  g_autoptr (GString) text = g_string_new (PORTABLE_MAP_HEADER);
  guint entries = 0;
  g_autoptr (GError) local = NULL;

  for (guint i = 0; i < records->len && entries < PORTABLE_MAP_MAX_ENTRIES; i++)
    {
      const SettleRecord *record = records->pdata[i];
      if (!is_mapped (record))
        continue;
      g_string_append_printf (text, "%s %u ", record->names[0], record->discovery_period);
      for (int b = 0; b < SETTLE_RECORD_DISCOVERY_KEY_LEN; b++)
        g_string_append_printf (text, "%02x", record->discovery_key[b]);
      g_string_append_c (text, '\n');
      entries++;
    }
  gboolean ok;
  g_autofree char *dir = g_path_get_dirname (path);
  if (entries > 0 && g_mkdir_with_parents (dir, 0700) != 0)
    ok = FALSE;
  else if (entries == 0)
    ok = g_unlink (path) == 0 || errno == ENOENT;
  else
    ok = g_file_set_contents_full (path, text->str, (gssize) text->len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                   &local);
  OPENSSL_cleanse (text->str, text->len);
  if (!ok)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_STORE, "Cannot write %s (the names libnss_settle resolves): %s",
                 path, local != NULL ? local->message : g_strerror (errno));
  return ok;
}
