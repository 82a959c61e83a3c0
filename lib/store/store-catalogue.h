/* store-catalogue.h: the file store's catalogue, a cache of what `settle
 * list` and a lookup by label or name need from every record, so that
 * they read one file instead of N (schema/store.md).
 *
 * This file knows the format and the freshness rule; store-file.c reads
 * and writes the file.  The catalogue is never the authority: a row is
 * used only while the record file it was made from is provably unchanged
 * (settle_catalogue_row_is_fresh), and a catalogue that is not
 * well-formed in every byte is not used at all.
 *
 * Ownership: rows and tables returned are owned by the caller. */
#pragma once

#include <sys/stat.h>

#include <glib.h>

#include "settle-record-summary.h"

G_BEGIN_DECLS

#define SETTLE_CATALOGUE_FILE "catalogue"
/* 10,000 records take about 2 MB; a larger file is not read. */
#define SETTLE_CATALOGUE_MAX (64 * 1024 * 1024)

/* What identifies one state of a record file: any write to it, in place
 * or by rename, any chmod or utimensat changes its ctime, which no user
 * can set. */
typedef struct {
  guint64 inode;
  guint64 size;
  gint64 mtime_ns;
  gint64 ctime_ns;
} SettleCatalogueKey;

typedef struct {
  SettleRecordSummary *summary; /* owned */
  SettleCatalogueKey key;       /* of the file the summary was made from */
  gboolean settled;             /* FALSE: the file changed too recently to be written down */
} SettleCatalogueRow;

void settle_catalogue_key_from_stat (const struct stat *st, SettleCatalogueKey *key);

/* Owned row of `record` (borrowed), read from a file whose fstat, taken
 * before its bytes were read, is `st`; `stat_time_ns` is the wall clock
 * just before that fstat.  Not `settled` when the file changed too
 * recently for a later change to be sure to show in its ctime
 * (store-catalogue.c): such a row is not written, and its record is read
 * from its file next time, which is always correct. */
SettleCatalogueRow *settle_catalogue_row_new (const SettleRecord *record, const struct stat *st,
                                              gint64 stat_time_ns);
void settle_catalogue_row_free (SettleCatalogueRow *row);

/* TRUE when `st` (of "<fingerprint>.json", not followed) is the very file
 * the row was made from. */
gboolean settle_catalogue_row_is_fresh (const SettleCatalogueRow *row, const struct stat *st);

/* The rows of a catalogue file's bytes, in the file's order (owned array
 * of owned rows); NULL when the bytes are not a well-formed catalogue of
 * this version (then no row of it may be used). */
GPtrArray *settle_catalogue_parse (const guint8 *data, gsize len);

/* The file's bytes for the settled ones of `rows` (borrowed
 * SettleCatalogueRow*, sorted here as `settle list` prints them), owned. */
guint8 *settle_catalogue_encode (GPtrArray *rows, gsize *len_out);

G_END_DECLS
