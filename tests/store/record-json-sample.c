/* record-json-sample.c: prints sample records as settle writes them, one
 * JSON document per line (a device CA with every member, a pinned peer
 * with only the required ones), for test-schema.py. */
#include <stdio.h>

#include "settle-record-json.h"
#include "settle-record.h"
#include "store-test-records.h"

static void
print_record (const SettleRecord *record)
{
  char *json = settle_record_to_json (record, FALSE);
  printf ("%s\n", json);
  g_free (json);
}

int
main (void)
{
  SettleRecord *device = store_test_record_new ("Living room printer", "printer.local");
  device->role = g_strdup ("print-admin");
  device->client_cert_der = store_test_cert_der ("client");
  device->consent = SETTLE_CONSENT_FLAG;
  print_record (device);
  settle_record_free (device);

  SettleRecord *peer = settle_record_new ();
  peer->kind = SETTLE_KIND_PINNED_PEER;
  g_free (peer->label);
  peer->label = g_strdup ("NAS");
  peer->anchor_der = store_test_cert_der ("nas.local");
  peer->expires = 253402300799;
  peer->consent = SETTLE_CONSENT_PROMPT;
  print_record (peer);
  settle_record_free (peer);
  return 0;
}
