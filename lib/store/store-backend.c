/* store-backend.c: what both backends share and may call (they never
 * call store.c). */
#include "store-backend.h"

void
settle_store_set_aside (GPtrArray *unreadable, const char *fingerprint, const GError *error)
{
  SettleUnreadableRecord *entry = g_new0 (SettleUnreadableRecord, 1);
  entry->fingerprint = g_strdup (fingerprint);
  entry->reason = g_strdup (error->message);
  g_ptr_array_add (unreadable, entry);
}
