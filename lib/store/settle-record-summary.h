/* settle-record-summary.h: what `settle list` shows of a record and what
 * a lookup by label or name needs, without the certificates.
 *
 * The file store answers these from its catalogue (store-catalogue.h)
 * instead of reading every record; for the keyring they are made from the
 * records.  Either way they come from settle_record_summary_new, so the
 * two paths agree by construction.
 *
 * Ownership: a summary owns every pointer inside it. */
#pragma once

#include <glib.h>

#include "settle-record.h"

G_BEGIN_DECLS

typedef struct {
  char *fingerprint;            /* lowercase hex SHA-256 of the anchor */
  SettleKind kind;
  char *label;                  /* never NULL */
  char **names;                 /* NULL-terminated, may be empty */
  char **scope;                 /* NULL-terminated */
  gint64 expires;               /* unix seconds */
  char **self_certifying;       /* names that carry a hash of the anchor's key */
  char **self_certifying_other; /* names shaped like that whose hash does not match */
} SettleRecordSummary;

/* The record's names that are self-certifying (settle-self-cert.h): those
 * whose key hash matches the anchor's key in *matching, the others (a
 * record written before settle checked them) in *other; both owned.  The
 * one place of this rule for `settle list` (text and --json). */
void settle_record_self_certifying_names (const SettleRecord *record, char ***matching, char ***other);

/* Owned summary of `record` (borrowed). */
SettleRecordSummary *settle_record_summary_new (const SettleRecord *record);
void settle_record_summary_free (SettleRecordSummary *summary);
/* The order of `settle list`: by label, then fingerprint (for
 * g_ptr_array_sort: a and b point at SettleRecordSummary pointers). */
int settle_record_summary_compare (gconstpointer a, gconstpointer b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleRecordSummary, settle_record_summary_free)

G_END_DECLS
