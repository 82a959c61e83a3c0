/* cmd-list.c: `settle list`: the user's view of everything trusted. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "json-out.h"
#include "commands.h"
#include "settle-error.h"
#include "settle-record-json.h"
#include "ui.h"

#define LIST_JSON_VERSION 1

/* {"version":1,"anchors":[record,...]} (schema/list.schema.json); each
 * record gains "self_certifying_names" (derived, never stored). */
static gboolean
print_json (GPtrArray *records, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  settle_json_member_int (builder, "version", LIST_JSON_VERSION);
  json_builder_set_member_name (builder, "anchors");
  json_builder_begin_array (builder);
  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *json = settle_record_to_output_json (records->pdata[i], FALSE);
      JsonNode *node = json_from_string (json, error);
      g_auto (GStrv) matching = NULL;
      g_auto (GStrv) other = NULL;
      if (node == NULL)
        return FALSE;
      settle_record_self_certifying_names (records->pdata[i], &matching, &other);
      JsonArray *array = json_array_new ();
      for (char **name = matching; *name != NULL; name++)
        json_array_add_string_element (array, *name);
      json_object_set_array_member (json_node_get_object (node), "self_certifying_names", array);
      json_builder_add_value (builder, node);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  settle_json_print (builder);
  return TRUE;
}

/* From the summaries (settle-record-summary.h): the file store answers
 * them from its catalogue instead of reading every record. */
static void
print_table (GPtrArray *summaries)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gboolean colour = settle_ui_use_colour (stdout);

  if (summaries->len == 0)
    {
      printf ("Nothing is trusted yet. Pair a device with 'settle pair' or add a CA with 'settle trust'.\n");
      return;
    }
  printf ("%-24s %-12s %-32s %-22s %s\n", "NAME", "KIND", "TRUSTED FOR", "EXPIRES", "FINGERPRINT");
  for (guint i = 0; i < summaries->len; i++)
    {
      const SettleRecordSummary *record = summaries->pdata[i];
      g_autofree char *scope = settle_ui_join (record->scope);
      g_autofree char *expires = settle_ui_relative_time (record->expires, now);
      gboolean expired = record->expires < now;

      printf ("%-24s %-12s %-32s %s%-22s%s %.16s\n", record->label, settle_kind_to_string (record->kind),
              scope, colour && expired ? "\033[31m" : "", expires, colour && expired ? "\033[0m" : "",
              record->fingerprint);
      for (char **name = record->self_certifying; *name != NULL; name++)
        printf ("  %s is self-certifying: it carries a hash of this CA's key\n", *name);
      for (char **name = record->self_certifying_other; *name != NULL; name++)
        printf ("  %s looks self-certifying but does not match this CA's key\n", *name);
    }
}

int
settle_cmd_list (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output (schema/list.schema.json)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- list everything this store trusts");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager ("list", NULL, NULL);
  g_autoptr (GPtrArray) records = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, "Exit status: 0 listed, 1 the store could not be read, 2 usage error.");
  if (!settle_ui_parse_options_only (context, "list", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  /* --json shows the certificates, which only the records hold. */
  records = json ? settle_manager_list (manager, NULL, &error) : settle_manager_list_summaries (manager, &error);
  if (records == NULL)
    {
      settle_ui_fail ("list", error);
      return SETTLE_EXIT_FAILED;
    }
  if (json)
    {
      if (!print_json (records, &error))
        {
          settle_ui_fail ("list", error);
          return SETTLE_EXIT_FAILED;
        }
    }
  else
    print_table (records);
  return SETTLE_EXIT_OK;
}
