/* record-summary.c: a record as `settle list` shows it
 * (settle-record-summary.h). */
#include <string.h>

#include <openssl/x509.h>

#include "settle-record-summary.h"
#include "settle-self-cert.h"

void
settle_record_self_certifying_names (const SettleRecord *record, char ***matching, char ***other)
{
  g_autoptr (GStrvBuilder) yes = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) no = g_strv_builder_new ();
  const guint8 *der = record->anchor_der != NULL ? g_bytes_get_data (record->anchor_der, NULL) : NULL;
  X509 *anchor = NULL;
  gboolean parsed = FALSE;

  for (char **name = record->names; name != NULL && *name != NULL; name++)
    if (settle_self_cert_parse (*name, strlen (*name), NULL) == SETTLE_SELF_CERT_OK)
      {
        /* Parsed only for such a name: d2i_X509 is slow (settle-cert-shape.h). */
        if (!parsed && der != NULL)
          anchor = d2i_X509 (NULL, &der, (long) g_bytes_get_size (record->anchor_der));
        parsed = TRUE;
        g_strv_builder_add (anchor != NULL && settle_self_cert_matches (*name, anchor) ? yes : no, *name);
      }
  X509_free (anchor);
  *matching = g_strv_builder_end (yes);
  *other = g_strv_builder_end (no);
}

static char **
strv_dup_or_empty (char **items)
{
  if (items != NULL)
    return g_strdupv (items);
  return g_new0 (char *, 1);
}

SettleRecordSummary *
settle_record_summary_new (const SettleRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  SettleRecordSummary *summary = g_new0 (SettleRecordSummary, 1);
  summary->fingerprint = g_strdup (record->fingerprint);
  summary->kind = record->kind;
  summary->label = g_strdup (record->label != NULL ? record->label : "");
  summary->names = strv_dup_or_empty (record->names);
  summary->scope = strv_dup_or_empty (record->scope);
  summary->expires = record->expires;
  settle_record_self_certifying_names (record, &summary->self_certifying, &summary->self_certifying_other);
  return summary;
}

void
settle_record_summary_free (SettleRecordSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->fingerprint);
  g_free (summary->label);
  g_strfreev (summary->names);
  g_strfreev (summary->scope);
  g_strfreev (summary->self_certifying);
  g_strfreev (summary->self_certifying_other);
  g_free (summary);
}

int
settle_record_summary_compare (gconstpointer a, gconstpointer b)
{
  const SettleRecordSummary *left = *(const SettleRecordSummary *const *) a;
  const SettleRecordSummary *right = *(const SettleRecordSummary *const *) b;
  int by_label = strcmp (left->label, right->label);
  return by_label != 0 ? by_label : strcmp (left->fingerprint, right->fingerprint);
}
