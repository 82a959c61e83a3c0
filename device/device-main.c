/* device-main.c: settle-device, the reference device of the pairing
 * ceremony (docs/device.md).
 *
 *   settle-device serve --name NAME|--self-certifying-name PREFIX --state DIR --listen ADDR:PORT
 *                       [--qr-png FILE] [--qr-text FILE] [--grant admin|user|guest]
 *                       [--no-mdns] [--qr-address yes|no|auto] [--portable [--rotation SECONDS]]
 *                       [--referee-ca FILE --subtree SUBTREE...]
 *                       [--acme-directory URL [--acme-ca FILE] [--acme-http ADDR:PORT]
 *                        [--acme-check-seconds N] [--acme-email ADDRESS] [--acme-client PROGRAM]]
 *   settle-device rotate --state DIR
 *   settle-device reset --state DIR */
#include "device.h"

#include <locale.h>
#include <string.h>

#include "settle-error.h"
#include "settle-harden.h"
#include "settle-portable-name.h"
#include "settle-scope.h"
#include "settle-self-cert.h"

#define EXIT_USAGE 2

static const char usage_text[] =
  "Usage:\n"
  "  settle-device serve --name NAME|--self-certifying-name PREFIX --state DIR --listen ADDR:PORT\n"
  "                      [--qr-png FILE] [--qr-text FILE] [--grant admin|user|guest]\n"
  "                      [--no-mdns] [--qr-address yes|no|auto] [--portable [--rotation SECONDS]]\n"
  "                      [--referee-ca FILE --subtree SUBTREE...]   a referee's pairing front\n"
  "                      [--acme-directory URL [--acme-ca FILE] [--acme-http ADDR:PORT]\n"
  "                       [--acme-check-seconds N] [--acme-email ADDRESS] [--acme-client PROGRAM]]\n"
  "                                              the TLS certificate from an ACME CA (lego)\n"
  "  settle-device rotate --state DIR   new device CA, cross-signed by the old one\n"
  "  settle-device reset --state DIR    factory reset: destroys every key and enrolment\n";

static int
usage_error (const char *message)
{
  g_printerr ("settle-device: %s\n%s", message, usage_text);
  return EXIT_USAGE;
}

/* Parses `entries` for `command`; FALSE after printing why. */
static gboolean
parse_options (const char *command, GOptionEntry *entries, int *argc, char ***argv)
{
  g_autofree char *summary = g_strdup_printf ("- settle-device %s", command);
  g_autoptr (GOptionContext) context = g_option_context_new (summary);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) local = NULL;
  if (!g_option_context_parse (context, argc, argv, &local))
    {
      g_printerr ("settle-device %s: %s\n", command, local->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_printerr ("settle-device %s: unexpected argument '%s'\n", command, (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_known_role (const char *role)
{
  return strcmp (role, "admin") == 0 || strcmp (role, "user") == 0 || strcmp (role, "guest") == 0;
}

static int
cmd_serve (int argc, char **argv)
{
  g_autofree char *name = NULL, *state = NULL, *listen = NULL, *qr_png = NULL, *qr_text = NULL, *grant = NULL;
  g_autofree char *qr_address = NULL, *self_cert = NULL;
  g_autofree char *idevid_key = NULL, *idevid_cert = NULL, *idevid_chain = NULL, *test_voucher = NULL;
  g_autofree char *referee_ca = NULL, *acme_directory = NULL, *acme_ca = NULL, *acme_http = NULL;
  g_autofree char *acme_client = NULL, *acme_email = NULL;
  g_auto (GStrv) subtree = NULL;
  int acme_check_s = 0;
  gboolean no_mdns = FALSE, portable = FALSE;
  gint rotation = SETTLE_PORTABLE_PERIOD_DEFAULT_S;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Device name below .local, home.arpa or .alt", "NAME" },
    { "self-certifying-name", 0, 0, G_OPTION_ARG_STRING, &self_cert,
      "Name the device PREFIX-<hash of its CA key>.local (or PREFIX.DOMAIN: below DOMAIN)", "PREFIX" },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, "State directory (created 0700)", "DIR" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address and port; port 0 picks a free one", "ADDR:PORT" },
    { "qr-png", 0, 0, G_OPTION_ARG_FILENAME, &qr_png, "Also write the QR code as PNG", "FILE" },
    { "qr-text", 0, 0, G_OPTION_ARG_FILENAME, &qr_text, "Also write the QR payload text", "FILE" },
    { "grant", 0, 0, G_OPTION_ARG_STRING, &grant, "Role for every client (default: first admin, then guest)",
      "admin|user|guest" },
    { "no-mdns", 0, 0, G_OPTION_ARG_NONE, &no_mdns, "Do not advertise the device through avahi-daemon", NULL },
    { "qr-address", 0, 0, G_OPTION_ARG_STRING, &qr_address,
      "Put the address in the QR code (default auto: only when not advertised)", "yes|no|auto" },
    { "idevid-key", 0, 0, G_OPTION_ARG_FILENAME, &idevid_key,
      "The manufacturer-installed IDevID key (PEM): sign a voucher at pairing (docs/manufacturer.md)", "FILE" },
    { "idevid-cert", 0, 0, G_OPTION_ARG_FILENAME, &idevid_cert, "Its IDevID certificate, with serialNumber", "FILE" },
    { "idevid-chain", 0, 0, G_OPTION_ARG_FILENAME, &idevid_chain,
      "Its issuing CA(s), PEM, root excluded", "FILE" },
    { "test-voucher", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &test_voucher,
      "TEST ONLY (tests/manufacturer/): send a broken voucher", "forged|expired|other-serial|other-name|other-key|replay" },
    { "referee-ca", 0, 0, G_OPTION_ARG_FILENAME, &referee_ca,
      "Be a referee's pairing front: pair clients to trust this CA (its ACME CA's root)", "FILE" },
    { "subtree", 0, 0, G_OPTION_ARG_STRING_ARRAY, &subtree,
      "With --referee-ca: the subtree it vouches for, e.g. lab.home.arpa (repeatable)", "SUBTREE" },
    { "acme-directory", 0, 0, G_OPTION_ARG_STRING, &acme_directory,
      "Serve a certificate obtained (and renewed) from this ACME directory", "URL" },
    { "acme-ca", 0, 0, G_OPTION_ARG_FILENAME, &acme_ca, "CA of the ACME server's own HTTPS certificate", "FILE" },
    { "acme-http", 0, 0, G_OPTION_ARG_STRING, &acme_http, "Where to answer http-01 (default :80)", "ADDR:PORT" },
    { "acme-check-seconds", 0, 0, G_OPTION_ARG_INT, &acme_check_s,
      "How often to check whether the certificate is due for renewal (default 3600)", "N" },
    { "acme-email", 0, 0, G_OPTION_ARG_STRING, &acme_email, "The ACME account's contact (default admin@NAME)",
      "ADDRESS" },
    { "acme-client", 0, 0, G_OPTION_ARG_FILENAME, &acme_client, "The lego program (default: lego from PATH)",
      "PROGRAM" },
    { "portable", 0, 0, G_OPTION_ARG_NONE, &portable,
      "Advertise only rotating names that paired agents recognise (docs/portable.md)", NULL },
    { "rotation", 0, 0, G_OPTION_ARG_INT, &rotation, "Rotation period of --portable (default 900)", "SECONDS" },
    G_OPTION_ENTRY_NULL
  };
  if (!parse_options ("serve", entries, &argc, &argv))
    return EXIT_USAGE;
  SettleDeviceVoucherTest voucher_test = SETTLE_DEVICE_VOUCHER_HONEST;
  if (test_voucher != NULL && !settle_device_voucher_test_from_string (test_voucher, &voucher_test))
    return usage_error ("--test-voucher takes forged, expired, other-serial, other-name, other-key or replay.");
  if ((idevid_key != NULL) != (idevid_cert != NULL) || (idevid_chain != NULL && idevid_key == NULL)
      || (test_voucher != NULL && idevid_key == NULL))
    return usage_error ("--idevid-key and --idevid-cert go together (--idevid-chain and --test-voucher need them).");
  g_autoptr (SettleDeviceManufacturer) manufacturer = NULL;
  if (idevid_key != NULL)
    {
      g_autoptr (GError) local = NULL;
      manufacturer = settle_device_manufacturer_load (idevid_key, idevid_cert, idevid_chain, voucher_test, &local);
      if (manufacturer == NULL)
        {
          g_printerr ("settle-device: %s\n", local->message);
          return 1;
        }
      g_print ("settle-device: IDevID serial number %s: vouchers are offered at pairing%s\n",
               settle_device_manufacturer_serial (manufacturer),
               voucher_test != SETTLE_DEVICE_VOUCHER_HONEST ? " (TEST: deliberately broken)" : "");
    }
  SettleDeviceQrAddress qr_mode = SETTLE_DEVICE_QR_ADDRESS_AUTO;
  if (qr_address != NULL && strcmp (qr_address, "yes") == 0)
    qr_mode = SETTLE_DEVICE_QR_ADDRESS_YES;
  else if (qr_address != NULL && strcmp (qr_address, "no") == 0)
    qr_mode = SETTLE_DEVICE_QR_ADDRESS_NO;
  else if (qr_address != NULL && strcmp (qr_address, "auto") != 0)
    return usage_error ("--qr-address takes yes, no or auto.");
  if (name != NULL && self_cert != NULL)
    return usage_error ("give either --name or --self-certifying-name, not both.");
  if ((name == NULL && self_cert == NULL) || state == NULL || listen == NULL)
    return usage_error ("serve needs --name (or --self-certifying-name), --state and --listen.");
  if (!settle_portable_period_ok (rotation))
    return usage_error ("--rotation takes 2 to 86400 seconds.");
  if (portable && no_mdns)
    return usage_error ("--portable is about what the device advertises; it makes no sense with --no-mdns.");
  if (grant != NULL && !is_known_role (grant))
    return usage_error ("--grant takes admin, user or guest.");
  if ((referee_ca == NULL) != (subtree == NULL))
    return usage_error ("a referee's front needs both --referee-ca and --subtree.");
  if (subtree != NULL && g_strv_length (subtree) > SETTLE_CEREMONY_SUBTREE_MAX)
    return usage_error ("at most 8 --subtree.");
  for (char **s = subtree; s != NULL && *s != NULL; s++)
    {
      g_autoptr (GError) local = NULL;
      char *canonical = settle_scope_normalize (*s, &local);
      if (canonical == NULL)
        {
          g_printerr ("settle-device: --subtree: %s\n", local->message);
          return EXIT_USAGE;
        }
      g_free (*s);
      *s = canonical;
    }
  if (acme_directory == NULL && (acme_ca != NULL || acme_http != NULL || acme_check_s != 0 || acme_client != NULL
                                 || acme_email != NULL))
    return usage_error ("the --acme-* options need --acme-directory.");
  if (acme_check_s < 0)
    return usage_error ("--acme-check-seconds takes a positive number.");
  if (self_cert != NULL)
    {
      /* The name comes from the CA key: make or load the identity first,
       * then serve it under that name. */
      g_autoptr (GError) local = NULL;
      g_autofree char *warning = NULL;
      g_autoptr (SettleDeviceIdentity) id = settle_device_identity_open_self_certifying (state, self_cert, &warning,
                                                                                        &local);
      if (id == NULL)
        {
          g_printerr ("settle-device: %s\n", local->message);
          return 1;
        }
      if (warning != NULL)
        g_printerr ("settle-device: warning: %s\n", warning);
      else
        g_print ("settle-device: self-certifying name %s (its first label ends in a hash of the device CA's key)\n",
                 id->name);
      name = g_strdup (id->name);
    }
  SettleDeviceServeOptions options = {
    .name = name, .state_dir = state, .listen = listen,
    .qr_png = qr_png, .qr_text = qr_text, .grant = grant,
    .no_mdns = no_mdns, .qr_address = qr_mode, .manufacturer = manufacturer,
    .referee_ca = referee_ca, .subtree = subtree,
    .acme = { .directory = acme_directory, .ca_file = acme_ca, .http_listen = acme_http,
              .client = acme_client, .email = acme_email, .check_s = (guint) acme_check_s },
    .portable = portable, .rotation_s = (guint) rotation,
  };
  return settle_device_serve (&options);
}

static int
cmd_rotate (int argc, char **argv)
{
  g_autofree char *state = NULL;
  GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, "State directory", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  if (!parse_options ("rotate", entries, &argc, &argv))
    return EXIT_USAGE;
  if (state == NULL)
    return usage_error ("rotate needs --state.");
  g_autoptr (GError) local = NULL;
  g_autoptr (SettleDeviceIdentity) id = settle_device_identity_load (state, &local);
  if (id == NULL || !settle_device_identity_rotate (id, &local))
    {
      g_printerr ("settle-device: %s\n", local->message);
      return 1;
    }
  g_print ("settle-device: %s now uses device CA generation %u, cross-signed by generation %u\n",
           id->name, id->generation, id->generation - 1);
  if (settle_self_cert_parse (id->name, strlen (id->name), NULL) == SETTLE_SELF_CERT_OK)
    g_print ("settle-device: %s is a self-certifying name for the old CA key: clients refuse it with the new "
             "one (settle refresh will not follow); reset the device for a new name\n", id->name);
  return 0;
}

static int
cmd_reset (int argc, char **argv)
{
  g_autofree char *state = NULL;
  GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, "State directory", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  if (!parse_options ("reset", entries, &argc, &argv))
    return EXIT_USAGE;
  if (state == NULL)
    return usage_error ("reset needs --state.");
  g_autoptr (GError) local = NULL;
  if (!settle_device_identity_reset (state, &local))
    {
      g_printerr ("settle-device: %s\n", local->message);
      return 1;
    }
  g_print ("settle-device: factory reset done: every key and enrolment in %s is destroyed\n", state);
  return 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    return usage_error ("no command given.");
  const char *command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0 || strcmp (command, "help") == 0)
    {
      g_print ("%s", usage_text);
      return 0;
    }
  /* Every subcommand handles the device CA key, and serve also the pairing
   * secret: no core file and no same-user ptrace for any of them. */
  g_autoptr (GError) harden_error = NULL;
  if (!settle_harden_against_dumps (&harden_error))
    {
      g_printerr ("settle-device: %s\n", harden_error->message);
      return 1;
    }
  /* The subcommand's own parser sees argv from the command name on. */
  if (strcmp (command, "serve") == 0)
    return cmd_serve (argc - 1, argv + 1);
  if (strcmp (command, "rotate") == 0)
    return cmd_rotate (argc - 1, argv + 1);
  if (strcmp (command, "reset") == 0)
    return cmd_reset (argc - 1, argv + 1);
  g_autofree char *message = g_strdup_printf ("unknown command '%s'.", command);
  return usage_error (message);
}
