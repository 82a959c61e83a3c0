/* json-out.h: the `--json` output of the commands (audit, discover, list):
 * members that may be null or lists, and the one way the document is
 * printed (pretty, to stdout, with a final newline).
 *
 * Ownership: values are copied into the builder; nothing is taken. */
#pragma once

#include <json-glib/json-glib.h>

/* "name": "value", or "name": null when value is NULL. */
void settle_json_member_string_or_null (JsonBuilder *builder, const char *name, const char *value);
/* "name": [items...]; NULL is an empty list, empty strings are left out. */
void settle_json_member_strv (JsonBuilder *builder, const char *name, char **items);
void settle_json_member_bool (JsonBuilder *builder, const char *name, gboolean value);
void settle_json_member_int (JsonBuilder *builder, const char *name, gint64 value);
/* "name": "2026-12-03T19:44:53Z": UTC to the second, as in the record
 * JSON. */
void settle_json_member_time (JsonBuilder *builder, const char *name, gint64 unix_seconds);

/* "name": [{"kind", "subject", "message"}...] of SettleAuditProblem
 * (settle-audit.h): `settle audit`'s inconsistencies and `settle audit
 * --device`'s flags. */
void settle_json_member_problems (JsonBuilder *builder, const char *name, const GPtrArray *problems);

/* Prints the builder's document on stdout. */
void settle_json_print (JsonBuilder *builder);
