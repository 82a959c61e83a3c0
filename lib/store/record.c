/* record.c: the record model: allocation and the names of its enums.
 * Serialisation lives in record-json.c, fingerprints in fingerprint.c. */
#include <string.h>

#include <openssl/crypto.h>

#include "settle-record.h"
#include "settle-store.h"

SettleRecord *
settle_record_new (void)
{
  SettleRecord *record = g_new0 (SettleRecord, 1);
  record->label = g_strdup ("");
  record->names = g_new0 (char *, 1);
  record->scope = g_new0 (char *, 1);
  return record;
}

void
settle_record_free (SettleRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->fingerprint);
  g_free (record->label);
  g_strfreev (record->names);
  g_strfreev (record->scope);
  g_clear_pointer (&record->anchor_der, g_bytes_unref);
  g_clear_pointer (&record->wrapper_root_der, g_bytes_unref);
  g_clear_pointer (&record->cross_der, g_bytes_unref);
  g_clear_pointer (&record->client_cert_der, g_bytes_unref);
  g_free (record->address);
  g_free (record->role);
  g_free (record->extra_json);
  if (record->discovery_key != NULL)
    OPENSSL_cleanse (record->discovery_key, SETTLE_RECORD_DISCOVERY_KEY_LEN);
  g_free (record->discovery_key);
  g_free (record);
}

static const struct {
  SettleKind kind;
  const char *name;
} kind_names[] = {
  { SETTLE_KIND_DEVICE_CA, "device-ca" },
  { SETTLE_KIND_REFEREE_CA, "referee-ca" },
  { SETTLE_KIND_PINNED_PEER, "pinned-peer" },
  { SETTLE_KIND_MANUFACTURER_CA, "manufacturer-ca" },
};

gboolean
settle_kind_is_tls_anchor (SettleKind kind)
{
  return kind == SETTLE_KIND_DEVICE_CA || kind == SETTLE_KIND_REFEREE_CA || kind == SETTLE_KIND_PINNED_PEER;
}

const char *
settle_kind_to_string (SettleKind kind)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (kind_names[i].kind == kind)
      return kind_names[i].name;
  return "unknown";
}

gboolean
settle_kind_from_string (const char *text, SettleKind *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (text, kind_names[i].name) == 0)
      {
        *out = kind_names[i].kind;
        return TRUE;
      }
  return FALSE;
}

const char *
settle_consent_to_string (SettleConsent consent)
{
  return consent == SETTLE_CONSENT_FLAG ? "flag" : "prompt";
}

gboolean
settle_consent_from_string (const char *text, SettleConsent *out)
{
  if (g_strcmp0 (text, "prompt") == 0)
    *out = SETTLE_CONSENT_PROMPT;
  else if (g_strcmp0 (text, "flag") == 0)
    *out = SETTLE_CONSENT_FLAG;
  else
    return FALSE;
  return TRUE;
}
