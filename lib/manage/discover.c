/* discover.c: settle_manager_discover and the lookups by name
 * (settle-discover.h). */
#include "settle-discover.h"

#include <string.h>

#include "settle-error.h"
#include "settle-record.h"

static void
entry_clear (gpointer data)
{
  SettleDiscoverEntry *entry = data;

  g_free (entry->label);
  g_free (entry->fingerprint);
}

void
settle_discover_result_free (SettleDiscoverResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->entries, g_ptr_array_unref);
  settle_discovery_free (result->discovery);
  g_free (result);
}

static void
entry_free (gpointer data)
{
  entry_clear (data);
  g_free (data);
}

/* The stored device record one of whose names is `host`, or NULL. */
static const SettleRecord *
paired_record (GPtrArray *records, const char *host)
{
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const SettleRecord *record = records->pdata[i];
      if (record->kind != SETTLE_KIND_DEVICE_CA)
        continue;
      for (char **n = record->names; n != NULL && *n != NULL; n++)
        if (g_ascii_strcasecmp (*n, host) == 0)
          return record;
    }
  return NULL;
}

SettleDiscoverResult *
settle_manager_discover (SettleManager *manager, guint timeout_ms, GError **error)
{
  g_autoptr (SettleDiscoverResult) result = g_new0 (SettleDiscoverResult, 1);
  g_autoptr (GPtrArray) records = NULL;

  /* The store first: a store that cannot be read is said before the
   * network is asked. */
  records = settle_manager_list (manager, NULL, error);
  if (records == NULL)
    return NULL;
  result->started_us = g_get_monotonic_time ();
  result->discovery = settle_discovery_browse (timeout_ms, NULL, error);
  if (result->discovery == NULL)
    return NULL;
  result->entries = g_ptr_array_new_with_free_func (entry_free);
  for (guint i = 0; i < result->discovery->services->len; i++)
    {
      const SettleDiscovered *service = result->discovery->services->pdata[i];
      const SettleRecord *record = paired_record (records, service->host);
      SettleDiscoverEntry *entry = g_new0 (SettleDiscoverEntry, 1);

      entry->service = service;
      if (record != NULL)
        {
          entry->label = g_strdup (record->label);
          entry->fingerprint = g_strdup (record->fingerprint);
        }
      g_ptr_array_add (result->entries, entry);
    }
  return g_steal_pointer (&result);
}

GPtrArray *
settle_discover_endpoints_for (const char *name, guint timeout_ms, char **note)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleDiscovery) discovery = NULL;

  *note = NULL;
  discovery = settle_discovery_browse (timeout_ms, name, &error);
  if (discovery == NULL)
    {
      *note = g_strdup_printf ("%s Trying %s through the system resolver.", error->message, name);
      return g_ptr_array_new_with_free_func ((GDestroyNotify) settle_endpoint_free);
    }
  if (discovery->notes->len > 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      for (guint i = 0; i < discovery->notes->len; i++)
        g_string_append_printf (text, "%s%s", i > 0 ? " " : "", (char *) discovery->notes->pdata[i]);
      *note = g_string_free (g_steal_pointer (&text), FALSE);
    }
  return settle_discovery_endpoints (discovery, name);
}
