/* json-out.c: the commands' `--json` output (json-out.h). */
#include "json-out.h"

#include <stdio.h>

#include "settle-audit.h"

void
settle_json_member_string_or_null (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
settle_json_member_strv (JsonBuilder *builder, const char *name, char **items)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (char **item = items; item != NULL && *item != NULL; item++)
    if (**item != '\0')
      json_builder_add_string_value (builder, *item);
  json_builder_end_array (builder);
}

void
settle_json_member_bool (JsonBuilder *builder, const char *name, gboolean value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

void
settle_json_member_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

void
settle_json_print (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
}

void
settle_json_member_time (JsonBuilder *builder, const char *name, gint64 unix_seconds)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (unix_seconds);
  g_autofree char *text = time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ")
                                       : g_strdup ("1970-01-01T00:00:00Z");
  settle_json_member_string_or_null (builder, name, text);
}

void
settle_json_member_problems (JsonBuilder *builder, const char *name, const GPtrArray *problems)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < problems->len; i++)
    {
      const SettleAuditProblem *problem = problems->pdata[i];
      json_builder_begin_object (builder);
      settle_json_member_string_or_null (builder, "kind", problem->kind);
      settle_json_member_string_or_null (builder, "subject", problem->subject);
      settle_json_member_string_or_null (builder, "message", problem->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}
