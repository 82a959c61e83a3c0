/* settle-record-json.h: a record's JSON form (record-json.c).
 *
 * Ownership: returned strings and records are owned by the caller. */
#pragma once

#include <glib.h>

#include "settle-record.h"

G_BEGIN_DECLS

/* JSON form used by the file store, the keyring secret and `--json`
 * output (schema/record.schema.json).  The parser refuses anything that
 * the schema refuses, with SETTLE_ERROR_FORMAT. */
char *settle_record_to_json (const SettleRecord *record, gboolean pretty);
/* The same for what is printed (`settle list --json`, `show --json`):
 * without a portable device's discovery key (a tracking secret that
 * stays in the store), i.e. "discovery": {"period": R} only. */
char *settle_record_to_output_json (const SettleRecord *record, gboolean pretty);
SettleRecord *settle_record_from_json (const char *json, gsize length, GError **error);

G_END_DECLS
