/* cmd-device.c: a paired device's own bindings, through the manager
 * (lib/manage/device-admin.c does the work; this file parses and prints):
 *
 *   settle audit --device NAME [--expect-admin FP]... [--json]
 *   settle device revoke-client NAME FINGERPRINT [--yes]
 *   settle device role NAME FINGERPRINT ROLE [--yes]
 *   settle device origins NAME [--allow ORIGIN]... [--disallow ORIGIN]... [--yes]
 *
 * JSON: schema/device-audit.schema.json. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "commands.h"
#include "json-out.h"
#include "settle-device-admin.h"
#include "settle-web-origin.h"
#include "ui.h"

#define DEVICE_AUDIT_JSON_VERSION 1

/* ---- settle audit --device ---- */

static void
print_device_json (const SettleDeviceAudit *a)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  settle_json_member_int (b, "version", DEVICE_AUDIT_JSON_VERSION);
  settle_json_member_time (b, "generated", g_get_real_time () / G_USEC_PER_SEC);
  settle_json_member_string_or_null (b, "label", a->label);
  settle_json_member_string_or_null (b, "device", a->device);
  settle_json_member_string_or_null (b, "you", a->you);
  settle_json_member_string_or_null (b, "pinned_ca_key", a->pinned);
  settle_json_member_string_or_null (b, "device_ca", a->device_ca);
  settle_json_member_string_or_null (b, "device_ca_key", a->device_ca_key);
  json_builder_set_member_name (b, "factory_reset");
  json_builder_begin_object (b);
  settle_json_member_string_or_null (b, "epoch", a->epoch);
  settle_json_member_string_or_null (b, "since", a->since);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "clients");
  json_builder_begin_array (b);
  for (guint i = 0; i < a->clients->len; i++)
    {
      const SettleDeviceClient *c = a->clients->pdata[i];
      json_builder_begin_object (b);
      settle_json_member_string_or_null (b, "fingerprint", c->fingerprint);
      settle_json_member_string_or_null (b, "role", c->role);
      settle_json_member_string_or_null (b, "enrolled_at", c->enrolled_at);
      settle_json_member_string_or_null (b, "enrolled_by", c->enrolled_by);
      settle_json_member_string_or_null (b, "epoch", c->epoch);
      settle_json_member_bool (b, "this_computer", c->is_you);
      settle_json_member_bool (b, "expected", c->expected);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  settle_json_member_int (b, "trust_anchors", a->trust_anchors);
  settle_json_member_strv (b, "allowed_origins", a->origins);
  if (a->manufacturer_stated)
    {
      json_builder_set_member_name (b, "manufacturer_identity");
      if (a->manufacturer == NULL)
        json_builder_add_null_value (b);
      else
        {
          json_builder_begin_object (b);
          settle_json_member_string_or_null (b, "serial_number", a->manufacturer->serial_number);
          settle_json_member_string_or_null (b, "issuer", a->manufacturer->issuer);
          settle_json_member_string_or_null (b, "sha256", a->manufacturer->sha256);
          settle_json_member_string_or_null (b, "pem", a->manufacturer->chain_pem);
          json_builder_end_object (b);
        }
    }
  settle_json_member_problems (b, "flags", a->flags);
  json_builder_end_object (b);
  settle_json_print (b);
}

static void
print_device_text (const SettleDeviceAudit *a)
{
  printf ("Device %s (\"%s\")\n", a->device, a->label);
  printf ("  CA %.16s...  key %.16s...  pinned key %.16s...\n", a->device_ca, a->device_ca_key, a->pinned);
  printf ("  factory-reset epoch %s since %s\n", a->epoch, a->since);
  printf ("  trusts %u other CA(s) or referee(s)\n", a->trust_anchors);
  g_autofree char *origins = settle_ui_join (a->origins);
  printf ("  web origins allowed: %s\n", origins);
  if (a->manufacturer != NULL)
    printf ("  manufacturer identity (IDevID): serial number %s, issued by %s, SHA-256 %s\n",
            a->manufacturer->serial_number, a->manufacturer->issuer, a->manufacturer->sha256);
  else
    printf ("  manufacturer identity: %s\n", a->manufacturer_stated ? "none" : "not stated by the device");
  printf ("\nClients (%u):\n", a->clients->len);
  for (guint i = 0; i < a->clients->len; i++)
    {
      const SettleDeviceClient *c = a->clients->pdata[i];
      printf ("  %s  %-5s  enrolled %s by %s%s%s\n", c->fingerprint, c->role, c->enrolled_at ? c->enrolled_at : "-",
              c->enrolled_by ? c->enrolled_by : "-", c->is_you ? "  (this computer)" : "",
              c->expected ? "  (expected)" : "");
    }
  settle_ui_print_problems (a->flags, "Nothing to look at.", "Look at");
}

int
settle_audit_device (const char *device, const char *address, int timeout_s, char **expected, gboolean json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) canonical = g_ptr_array_new_with_free_func (g_free);
  for (char **e = expected; e != NULL && *e != NULL; e++)
    {
      char *fp = settle_device_key_fingerprint_parse (*e, &error);
      if (fp == NULL)
        {
          settle_ui_failf ("audit", "--expect-admin %s: %s", *e, error->message);
          return SETTLE_EXIT_USAGE;
        }
      g_ptr_array_add (canonical, fp);
    }
  g_ptr_array_add (canonical, NULL);
  SettleDeviceTarget target = { .query = device, .address = address, .timeout_s = timeout_s };
  if (timeout_s < 1 || timeout_s > SETTLE_DEVICE_TIMEOUT_MAX_S)
    {
      settle_ui_failf ("audit", "--timeout must be between 1 and %d seconds", SETTLE_DEVICE_TIMEOUT_MAX_S);
      return SETTLE_EXIT_USAGE;
    }
  g_autoptr (SettleManager) manager = settle_ui_manager ("audit", NULL, NULL);
  g_autoptr (SettleDeviceAudit) audit
    = settle_manager_audit_device (manager, &target, (const char *const *) canonical->pdata, &error);
  if (audit == NULL)
    {
      settle_ui_fail ("audit", error);
      return SETTLE_EXIT_FAILED;
    }
  if (json)
    print_device_json (audit);
  else
    print_device_text (audit);
  return audit->flags->len > 0 ? SETTLE_EXIT_FLAGGED : SETTLE_EXIT_OK;
}

/* ---- settle device origins ---- */

/* Lists the device's allowed web origins, one a line (none: nothing on
 * standard output, a line on standard error), or changes them. */
static int
device_origins (SettleManager *manager, const SettleDeviceTarget *target, char **allow, char **disallow,
                gboolean yes)
{
  g_autoptr (GError) error = NULL;
  if (allow == NULL && disallow == NULL)
    {
      g_auto (GStrv) origins = settle_manager_device_origins (manager, target, &error);
      if (origins == NULL)
        {
          settle_ui_fail ("device", error);
          return SETTLE_EXIT_FAILED;
        }
      for (char **o = origins; *o != NULL; o++)
        printf ("%s\n", *o);
      if (origins[0] == NULL)
        fprintf (stderr, "No web origin is allowed to reach %s from a browser.\n", target->query);
      return SETTLE_EXIT_OK;
    }
  if (!settle_manager_device_change_origins (manager, target, (const char *const *) allow,
                                             (const char *const *) disallow, yes, NULL, &error))
    {
      settle_ui_fail ("device", error);
      return SETTLE_EXIT_FAILED;
    }
  return SETTLE_EXIT_OK;
}

/* FALSE, having said why, when one of `typed` is no web origin. */
static gboolean
origins_typed_well (const char *option, char **typed)
{
  for (char **t = typed; t != NULL && *t != NULL; t++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *canonical = settle_web_origin_canonical (*t, &error);
      if (canonical == NULL)
        {
          settle_ui_failf ("device", "%s: %s", option, error->message);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- settle device revoke-client | role | origins ---- */

int
settle_cmd_device (int argc, char **argv)
{
  gboolean yes = FALSE;
  g_autofree char *address = NULL;
  int timeout_s = 10;
  g_auto (GStrv) allow = NULL;
  g_auto (GStrv) disallow = NULL;
  GOptionEntry entries[] = {
    { "allow", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allow, "origins: let pages of this web origin reach the device (repeatable)", "ORIGIN" },
    { "disallow", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disallow, "origins: stop allowing this web origin (repeatable)", "ORIGIN" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Where the device listens (default: where it was paired, else its name on port 443)", "HOST:PORT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Seconds to wait for the device (default 10)", "SECONDS" },
    { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, "Do not ask for confirmation", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (
    "revoke-client NAME FINGERPRINT | role NAME FINGERPRINT ROLE | origins NAME - a paired device's clients and web origins");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Changes who may use a device this computer paired with as admin, over\n"
    "mutual TLS with this computer's client certificate for it:\n"
    "  revoke-client  the device stops accepting the client with this key\n"
    "  role           admin, user or guest\n"
    "  origins        lists the web origins whose pages may reach the device from\n"
    "                 a browser; --allow and --disallow change the list. A page on\n"
    "                 an allowed origin acts on the device with the identity of\n"
    "                 any browser paired with it. An origin is https://host[:port]\n"
    "                 or http://host[:port], without a path.\n"
    "FINGERPRINT is the SHA-256 of the client's key, as 'settle audit --device\n"
    "NAME' lists it. The device refuses to lose its last admin.\n"
    "Exit status: 0 changed (or listed), 1 refused or failed, 2 usage error\n"
    "(a bad origin among them: nothing is sent).");
  if (!settle_ui_parse (context, "device", &argc, &argv))
    return SETTLE_EXIT_USAGE;
  gboolean revoke = argc == 4 && strcmp (argv[1], "revoke-client") == 0;
  gboolean role = argc == 5 && strcmp (argv[1], "role") == 0;
  gboolean origins = argc == 3 && strcmp (argv[1], "origins") == 0;
  if (!revoke && !role && !origins)
    {
      settle_ui_failf ("device", "expected revoke-client NAME FINGERPRINT, role NAME FINGERPRINT ROLE or origins NAME; "
                                 "run 'settle device --help'");
      return SETTLE_EXIT_USAGE;
    }
  if (!origins && (allow != NULL || disallow != NULL))
    {
      settle_ui_failf ("device", "--allow and --disallow go with 'settle device origins NAME'");
      return SETTLE_EXIT_USAGE;
    }
  if (timeout_s < 1 || timeout_s > SETTLE_DEVICE_TIMEOUT_MAX_S)
    {
      settle_ui_failf ("device", "--timeout must be between 1 and %d seconds", SETTLE_DEVICE_TIMEOUT_MAX_S);
      return SETTLE_EXIT_USAGE;
    }
  SettleDeviceTarget target = { .query = argv[2], .address = address, .timeout_s = timeout_s };
  /* A typing error in an origin is a usage error, before anything opens
   * (the manager checks them again, by the same rule). */
  if (origins && (!origins_typed_well ("--allow", allow) || !origins_typed_well ("--disallow", disallow)))
    return SETTLE_EXIT_USAGE;
  if (origins)
    {
      g_autoptr (SettleManager) manager = settle_ui_manager ("device", NULL, NULL);
      return device_origins (manager, &target, allow, disallow, yes);
    }
  g_autofree char *fp = settle_device_key_fingerprint_parse (argv[3], &error);
  if (fp == NULL || (role && strcmp (argv[4], "admin") != 0 && strcmp (argv[4], "user") != 0
                     && strcmp (argv[4], "guest") != 0))
    {
      if (fp == NULL)
        settle_ui_fail ("device", error);
      else
        settle_ui_failf ("device", "unknown role \"%s\": admin, user or guest", argv[4]);
      return SETTLE_EXIT_USAGE;
    }
  g_autoptr (SettleManager) manager = settle_ui_manager ("device", NULL, NULL);
  gboolean ok = revoke ? settle_manager_device_revoke_client (manager, &target, fp, yes, &error)
                       : settle_manager_device_set_role (manager, &target, fp, argv[4], yes, &error);
  if (!ok)
    {
      settle_ui_fail ("device", error);
      return SETTLE_EXIT_FAILED;
    }
  return SETTLE_EXIT_OK;
}
