/* keyring-probe.c: drives the keyring backend for store-keyring.sh, on
 * the private gnome-keyring that tests/lib.sh starts.
 *
 *   store-keyring-probe exercise          add, list, lookup, keys, replace,
 *                                         remove; prints the fingerprint of
 *                                         the one record it leaves behind
 *   store-keyring-probe add LABEL         prints the new fingerprint, adds
 *   store-keyring-probe count             prints how many records there are
 *   store-keyring-probe has FINGERPRINT   exit 0 found, 2 not found
 *   store-keyring-probe describe-default  what settle_store_open_default picks
 *   store-keyring-probe unlock PASSWORD   unlocks the login collection
 *
 * Errors print "settle error <CODE>: <message>" and exit 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-store.h"
#include "store-test-records.h"

static const char *const code_names[] = {
  "FAILED", "SCOPE", "CERT", "FINGERPRINT", "NOT_FOUND", "EXISTS", "AMBIGUOUS", "STORE",
  "LOCKED", "FORMAT", "REFUSED", "NETWORK", "PROTOCOL", "AUTH",
};

static int
report (GError *error)
{
  const char *code = error->domain == SETTLE_ERROR && error->code >= 0
    && (gsize) error->code < G_N_ELEMENTS (code_names) ? code_names[error->code] : "OTHER";
  g_printerr ("settle error %s: %s\n", code, error->message);
  g_error_free (error);
  return 1;
}

static SettleStore *
open_keyring_or_exit (void)
{
  GError *error = NULL;
  SettleStore *store = settle_store_open_keyring (&error);
  if (store == NULL)
    exit (report (error));
  return store;
}

/* exercise: every step prints a diagnostic and fails the run when it goes
 * wrong; the shell script turns the exit code into one TAP line. */
#define STEP(cond, what) \
  G_STMT_START { if (!(cond)) { g_printerr ("step failed: %s\n", what); return 1; } } G_STMT_END

static gboolean
error_is (GError **error, SettleErrorCode code)
{
  gboolean is = g_error_matches (*error, SETTLE_ERROR, (gint) code);
  if (*error != NULL)
    g_printerr ("  (%s)\n", (*error)->message);
  g_clear_error (error);
  return is;
}

static gboolean
lookup_finds (SettleStore *store, const char *query, const char *fingerprint)
{
  GError *error = NULL;
  SettleRecord *found = settle_store_lookup (store, query, &error);
  gboolean ok = found != NULL && strcmp (found->fingerprint, fingerprint) == 0;
  if (error != NULL)
    g_printerr ("  lookup %s: %s\n", query, error->message);
  g_clear_error (&error);
  settle_record_free (found);
  return ok;
}

static guint
record_count (SettleStore *store)
{
  GError *error = NULL;
  GPtrArray *records = settle_store_list (store, &error);
  if (records == NULL)
    {
      report (error);
      return G_MAXUINT;
    }
  guint count = records->len;
  g_ptr_array_unref (records);
  return count;
}

static int
exercise (void)
{
  SettleStore *store = open_keyring_or_exit ();
  GError *error = NULL;
  STEP (strcmp (settle_store_describe (store), "keyring (Secret Service)") == 0, "describe");

  g_autoptr (SettleRecord) printer = store_test_record_new ("kr-printer", "printer.local");
  g_autoptr (SettleRecord) router = store_test_record_new ("kr-router", "router.home.arpa");
  STEP (settle_store_add (store, printer, &error), "add printer");
  STEP (settle_store_add (store, router, &error), "add router");
  STEP (!settle_store_add (store, printer, &error) && error_is (&error, SETTLE_ERROR_EXISTS),
        "duplicate add gives EXISTS");
  STEP (record_count (store) == 2, "list has two records");

  g_autofree char *prefix = g_strndup (printer->fingerprint, 10);
  g_autofree char *pretty = settle_fingerprint_pretty (printer->fingerprint);
  STEP (lookup_finds (store, printer->fingerprint, printer->fingerprint), "lookup by fingerprint");
  STEP (lookup_finds (store, pretty, printer->fingerprint), "lookup by pretty fingerprint");
  STEP (lookup_finds (store, prefix, printer->fingerprint), "lookup by prefix");
  STEP (lookup_finds (store, "kr-router", router->fingerprint), "lookup by label");
  STEP (lookup_finds (store, "printer.local", printer->fingerprint), "lookup by name");
  SettleRecord *none = settle_store_lookup (store, "scanner.local", &error);
  STEP (none == NULL && error_is (&error, SETTLE_ERROR_NOT_FOUND), "lookup of unknown name");

  GBytes *pem = store_test_client_key_pem ();
  STEP (settle_store_put_client_key (store, printer->fingerprint, pem, &error), "put key");
  GBytes *back = settle_store_get_client_key (store, printer->fingerprint, &error);
  STEP (back != NULL && g_bytes_equal (back, pem), "get key returns the same bytes");
  settle_secure_bytes_free (back);
  STEP (settle_store_put_client_key (store, router->fingerprint, pem, &error), "put router key");
  settle_secure_bytes_free (pem);

  g_free (printer->label);
  printer->label = g_strdup ("kr-printer-renamed");
  STEP (settle_store_replace (store, printer, &error), "replace with a new label");
  STEP (lookup_finds (store, "kr-printer-renamed", printer->fingerprint), "lookup new label");
  none = settle_store_lookup (store, "kr-printer", &error);
  STEP (none == NULL && error_is (&error, SETTLE_ERROR_NOT_FOUND), "old label is gone");
  STEP (record_count (store) == 2, "replace kept two records");

  STEP (settle_store_remove (store, router->fingerprint, &error), "remove router");
  STEP (!settle_store_remove (store, router->fingerprint, &error)
        && error_is (&error, SETTLE_ERROR_NOT_FOUND), "second remove gives NOT_FOUND");
  back = settle_store_get_client_key (store, router->fingerprint, &error);
  STEP (back == NULL && error_is (&error, SETTLE_ERROR_NOT_FOUND), "remove took the key");
  STEP (record_count (store) == 1, "one record left");

  settle_store_free (store);
  g_print ("%s\n", printer->fingerprint);
  return 0;
}

static int
add (const char *label)
{
  SettleStore *store = open_keyring_or_exit ();
  g_autoptr (SettleRecord) record = store_test_record_new (label, NULL);
  g_print ("%s\n", record->fingerprint);
  fflush (stdout);
  GError *error = NULL;
  int status = settle_store_add (store, record, &error) ? 0 : report (error);
  settle_store_free (store);
  return status;
}

static int
count (void)
{
  SettleStore *store = open_keyring_or_exit ();
  GError *error = NULL;
  GPtrArray *records = settle_store_list (store, &error);
  settle_store_free (store);
  if (records == NULL)
    return report (error);
  g_print ("%u\n", records->len);
  g_ptr_array_unref (records);
  return 0;
}

static int
has (const char *fingerprint)
{
  SettleStore *store = open_keyring_or_exit ();
  GError *error = NULL;
  SettleRecord *record = settle_store_lookup (store, fingerprint, &error);
  settle_store_free (store);
  if (record != NULL)
    {
      settle_record_free (record);
      return 0;
    }
  if (g_error_matches (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND))
    {
      g_error_free (error);
      return 2;
    }
  return report (error);
}

static int
describe_default (void)
{
  GError *error = NULL;
  SettleStore *store = settle_store_open_default (&error);
  if (store == NULL)
    return report (error);
  g_print ("%s\n", settle_store_describe (store));
  settle_store_free (store);
  return 0;
}

/* gnome-keyring's own unlock-without-prompt call, which takes the
 * password as a Secret Service secret over a "plain" session: the only
 * way for a test to unlock without a prompt.  Not something settle does. */
static int
unlock_login (const char *password)
{
  GError *error = NULL;
  GDBusConnection *bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    return report (error);
  GVariant *opened = g_dbus_connection_call_sync (
    bus, "org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
    "OpenSession", g_variant_new ("(sv)", "plain", g_variant_new_string ("")),
    G_VARIANT_TYPE ("(vo)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  if (opened == NULL)
    return report (error);
  const char *session = NULL;
  GVariant *output = NULL;
  g_variant_get (opened, "(v&o)", &output, &session);

  GVariant *secret = g_variant_new (
    "(o@ay@ays)", session, g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "", 0, 1),
    g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, password, strlen (password), 1),
    "text/plain");
  GVariant *reply = g_dbus_connection_call_sync (
    bus, "org.freedesktop.secrets", "/org/freedesktop/secrets",
    "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", "UnlockWithMasterPassword",
    g_variant_new ("(o@(oayays))", "/org/freedesktop/secrets/collection/login", secret),
    NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
  g_variant_unref (output);
  g_variant_unref (opened);
  g_object_unref (bus);
  if (reply == NULL)
    return report (error);
  g_variant_unref (reply);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "exercise") == 0)
    return exercise ();
  if (argc == 3 && strcmp (argv[1], "add") == 0)
    return add (argv[2]);
  if (argc == 2 && strcmp (argv[1], "count") == 0)
    return count ();
  if (argc == 3 && strcmp (argv[1], "has") == 0)
    return has (argv[2]);
  if (argc == 2 && strcmp (argv[1], "describe-default") == 0)
    return describe_default ();
  if (argc == 3 && strcmp (argv[1], "unlock") == 0)
    return unlock_login (argv[2]);
  g_printerr ("usage: store-keyring-probe exercise | add LABEL | count | has FINGERPRINT | "
              "describe-default | unlock PASSWORD\n");
  return 64;
}
