/* cmd-discover.c: `settle discover`: the settle devices on the local
 * network (DNS-SD through avahi-daemon), paired or offering pairing. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "json-out.h"
#include "commands.h"
#include "settle-discover.h"
#include "settle-error.h"
#include "ui.h"

#define DISCOVER_JSON_VERSION 1

static const char *
state_of (const SettleDiscoverEntry *entry)
{
  if (entry->label != NULL)
    return "paired";
  return entry->service->offers_pairing ? "offers-pairing" : "not-offering";
}

/* schema/discover.schema.json. */
static void
print_json (const SettleDiscoverResult *result)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  settle_json_member_int (builder, "version", DISCOVER_JSON_VERSION);
  settle_json_member_bool (builder, "complete", result->discovery->complete);
  json_builder_set_member_name (builder, "devices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < result->entries->len; i++)
    {
      const SettleDiscoverEntry *entry = result->entries->pdata[i];
      const SettleDiscovered *service = entry->service;
      g_auto (GStrv) suites = g_strsplit (service->suites != NULL ? service->suites : "", ",", -1);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "instance");
      json_builder_add_string_value (builder, service->instance);
      json_builder_set_member_name (builder, "host");
      json_builder_add_string_value (builder, service->host);
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, service->port);
      settle_json_member_strv (builder, "addresses", service->addresses);
      settle_json_member_strv (builder, "suites", suites);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, state_of (entry));
      settle_json_member_bool (builder, "offers_pairing", service->offers_pairing);
      settle_json_member_string_or_null (builder, "label", entry->label);
      settle_json_member_string_or_null (builder, "fingerprint", entry->fingerprint);
      if (entry->settle_name != NULL)
        {
          json_builder_set_member_name (builder, "settle_name");
          json_builder_add_string_value (builder, entry->settle_name);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "notes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < result->discovery->notes->len; i++)
    json_builder_add_string_value (builder, result->discovery->notes->pdata[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  settle_json_print (builder);
}

static void
print_table (const SettleDiscoverResult *result)
{
  for (guint i = 0; i < result->discovery->notes->len; i++)
    fprintf (stderr, "settle discover: %s\n", (char *) result->discovery->notes->pdata[i]);
  if (!result->discovery->complete)
    fprintf (stderr, "settle discover: the timeout passed before every answer came; the list may be "
                     "incomplete.\n");
  if (result->entries->len == 0)
    {
      printf ("No settle device answered on the local network.\n");
      return;
    }
  printf ("%-28s %-6s %-24s %s\n", "HOST", "PORT", "STATE", "ADDRESSES");
  for (guint i = 0; i < result->entries->len; i++)
    {
      const SettleDiscoverEntry *entry = result->entries->pdata[i];
      g_autofree char *addresses = settle_ui_join (entry->service->addresses);
      g_autofree char *state = entry->label != NULL ? g_strdup_printf ("paired: %s", entry->label)
                                                    : g_strdup (entry->service->offers_pairing
                                                                  ? "offers pairing" : "-");

      /* A paired portable device by its name; the period's label means
       * nothing to its owner. */
      printf ("%-28s %-6u %-24s %s\n", entry->settle_name != NULL ? entry->settle_name : entry->service->host,
              (unsigned) entry->service->port, state, addresses);
    }
}

int
settle_cmd_discover (int argc, char **argv)
{
  gboolean json = FALSE;
  double timeout_s = SETTLE_DISCOVERY_DEFAULT_TIMEOUT_MS / 1000.0;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output (schema/discover.schema.json)", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout_s, "Wait at most S seconds for answers (default 3)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- list the settle devices on the local network");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleManager) manager = settle_ui_manager ("discover", NULL, NULL);
  g_autoptr (SettleDiscoverResult) result = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (
    context,
    "Lists the devices that announce _settle._tcp (DNS-SD, through avahi-daemon): those paired with\n"
    "this computer (a stored record names their host) and those offering pairing. Being listed\n"
    "proves nothing: settle checks a device's key whenever it connects.\n\n"
    "Exit status: 0 listed (possibly nothing), 1 the store could not be read, 2 usage error,\n"
    "3 no avahi-daemon could be reached (nothing can be discovered).");
  if (!settle_ui_parse_options_only (context, "discover", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  if (!(timeout_s > 0 && timeout_s <= 600))
    {
      settle_ui_failf ("discover", "--timeout must be more than 0 and at most 600 seconds.");
      return SETTLE_EXIT_USAGE;
    }
  result = settle_manager_discover (manager, (guint) (timeout_s * 1000.0 + 0.5), &error);
  if (result == NULL)
    {
      settle_ui_fail ("discover", error);
      return g_error_matches (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK) ? SETTLE_EXIT_UNAVAILABLE
                                                                         : SETTLE_EXIT_FAILED;
    }
  if (json)
    print_json (result);
  else
    print_table (result);
  return SETTLE_EXIT_OK;
}
