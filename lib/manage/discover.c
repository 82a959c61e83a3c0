/* discover.c: settle_manager_discover and the lookups by name
 * (settle-discover.h). */
#include "settle-discover.h"

#include <string.h>

#include "settle-error.h"
#include "settle-portable-name.h"
#include "settle-record.h"

static void
entry_clear (gpointer data)
{
  SettleDiscoverEntry *entry = data;

  g_free (entry->label);
  g_free (entry->fingerprint);
  g_free (entry->settle_name);
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

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* TRUE when `host` is this period's (or the previous or next one's)
 * rotating name of a portable device whose discovery key we hold. */
static gboolean
is_portable_name_of (const guint8 *key, guint period_s, const char *host)
{
  const char *label = NULL;
  size_t len = 0;
  return key != NULL && settle_portable_label_of_host (host, &label, &len)
         && settle_portable_host_label_matches (key, period_s, now_s (), label, len);
}

/* The stored device record one of whose names is `host`, or whose
 * discovery key makes `host` its current rotating name; or NULL. */
static const SettleRecord *
paired_record (GPtrArray *records, const char *host)
{
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const SettleRecord *record = records->pdata[i];
      if (record->kind != SETTLE_KIND_DEVICE_CA && record->kind != SETTLE_KIND_PINNED_PEER)
        continue;
      if (record->kind == SETTLE_KIND_DEVICE_CA)
        for (char **n = record->names; n != NULL && *n != NULL; n++)
          if (g_ascii_strcasecmp (*n, host) == 0)
            return record;
      if (is_portable_name_of (record->discovery_key, record->discovery_period, host))
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
          /* A portable device is listed by its settle name, not by the
           * period's label (which only paired agents can link to it). */
          if (record->discovery_key != NULL && record->names != NULL && record->names[0] != NULL
              && g_ascii_strcasecmp (record->names[0], service->host) != 0)
            entry->settle_name = g_strdup (record->names[0]);
        }
      g_ptr_array_add (result->entries, entry);
    }
  return g_steal_pointer (&result);
}

/* TRUE when `host` is another name of the device `also` describes. */
static gboolean
is_alias (const SettleDiscoverAlso *also, const char *host)
{
  const char *label = NULL;
  size_t len = 0;
  if (also == NULL || !settle_portable_label_of_host (host, &label, &len))
    return FALSE;
  if (also->pin != NULL && settle_portable_pairing_label_matches (also->pin, label, len))
    return TRUE;
  return is_portable_name_of (also->discovery_key, also->discovery_period, host);
}

GPtrArray *
settle_discover_endpoints_for (const char *name, const SettleDiscoverAlso *also, guint timeout_ms, char **note)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleDiscovery) discovery = NULL;
  gboolean aliases = also != NULL && (also->pin != NULL || also->discovery_key != NULL);

  *note = NULL;
  /* With aliases every instance is resolved: its name is only known once
   * its SRV target is. */
  discovery = settle_discovery_browse (timeout_ms, aliases ? NULL : name, &error);
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
  GPtrArray *endpoints = settle_discovery_endpoints (discovery, name);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; aliases && i < discovery->services->len; i++)
    {
      const SettleDiscovered *service = discovery->services->pdata[i];
      if (g_hash_table_contains (seen, service->host) || !is_alias (also, service->host))
        continue;
      g_hash_table_add (seen, service->host);
      g_autoptr (GPtrArray) more = settle_discovery_endpoints (discovery, service->host);
      for (guint j = 0; j < more->len; j++)
        g_ptr_array_add (endpoints, g_steal_pointer (&more->pdata[j]));
    }
  return endpoints;
}
