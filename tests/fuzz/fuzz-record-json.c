/* fuzz-record-json.c: settle_record_from_json(), the one gate every stored
 * record passes through (file store, keyring secret; record-json.c).
 *
 * Invariants asserted:
 *  - a refusal returns NULL with a SETTLE_ERROR_FORMAT error;
 *  - an accepted record has a kind, a label, an anchor, and a fingerprint
 *    that is the SHA-256 of that anchor (64 lowercase hex digits);
 *  - the writer accepts what the reader accepted: settle_record_to_json()
 *    (compact and pretty) parses back, and writing that again gives the
 *    same compact text (the JSON form is a fixed point after one trip). */
#include <stdint.h>
#include <string.h>

#include "fuzz-assert.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-record-json.h"
#include "settle-record.h"

static char *
round_trip (const char *json)
{
  GError *error = NULL;
  SettleRecord *r = settle_record_from_json (json, strlen (json), &error);
  FUZZ_ASSERT (r != NULL && error == NULL);
  char *out = settle_record_to_json (r, FALSE);
  FUZZ_ASSERT (out != NULL);
  settle_record_free (r);
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  SettleRecord *r = settle_record_from_json ((const char *) data, size, &error);
  if (r == NULL)
    {
      FUZZ_ASSERT (error != NULL && error->domain == SETTLE_ERROR
                   && error->code == SETTLE_ERROR_FORMAT);
      g_error_free (error);
      return 0;
    }
  FUZZ_ASSERT (error == NULL);
  FUZZ_ASSERT (r->kind >= SETTLE_KIND_DEVICE_CA && r->kind <= SETTLE_KIND_MANUFACTURER_CA);
  FUZZ_ASSERT (r->label != NULL && r->anchor_der != NULL);
  FUZZ_ASSERT (r->fingerprint != NULL && strlen (r->fingerprint) == SETTLE_FINGERPRINT_HEX_LEN);
  gsize len;
  const guint8 *der = g_bytes_get_data (r->anchor_der, &len);
  char *computed = settle_fingerprint_of_der (der, len);
  FUZZ_ASSERT (computed != NULL && strcmp (computed, r->fingerprint) == 0);
  g_free (computed);

  char *compact = settle_record_to_json (r, FALSE);
  char *pretty = settle_record_to_json (r, TRUE);
  FUZZ_ASSERT (compact != NULL && pretty != NULL);
  char *again = round_trip (compact);
  char *again_pretty = round_trip (pretty);
  FUZZ_ASSERT (strcmp (compact, again) == 0);
  FUZZ_ASSERT (strcmp (compact, again_pretty) == 0);

  g_free (again_pretty);
  g_free (again);
  g_free (pretty);
  g_free (compact);
  settle_record_free (r);
  return 0;
}
