/* cmd-renew.c: `settle renew [NAME] [--address HOST:PORT] | --all`:
 * a new client certificate, for a fresh key, from each paired device
 * whose current one expires within RENEW_BEFORE_DAYS (or at once with
 * --force), over mutual TLS with the current one; no prompt, since
 * nothing about trust changes (renewal.c talks to the device, commit.c
 * stores the result). */
#include <stdio.h>

#include "commands.h"
#include "settle-commit.h"
#include "per-device.h"
#include "settle-renewal.h"
#include "settle-error.h"
#include "settle-tls-probe.h"
#include "ui.h"

#define CMD "renew"
#define RENEW_BEFORE_DAYS 30

typedef struct {
  SettleDeviceTarget target;  /* NAME | --all, --address, --timeout */
  gboolean force;
} RenewOptions;

static gboolean
has_client_certificate (const SettleRecord *record)
{
  return record->kind == SETTLE_KIND_DEVICE_CA && record->client_cert_der != NULL;
}

static gboolean
is_due (const SettleRecord *record, const RenewOptions *options)
{
  gint64 expiry = settle_renewal_cert_expiry (record->client_cert_der);
  return options->force || expiry - g_get_real_time () / G_USEC_PER_SEC < RENEW_BEFORE_DAYS * 24 * 3600;
}

static void
say_not_due (const SettleRecord *record)
{
  g_autofree char *until = settle_ui_format_time (settle_renewal_cert_expiry (record->client_cert_der));
  printf ("\"%s\": the client certificate is valid until %s; it is renewed in its last %d days "
          "(--force renews now).\n", record->label, until, RENEW_BEFORE_DAYS);
}

/* The stored key of the current certificate (owned secret). */
static GBytes *
current_client_key (SettleStore *store, const SettleRecord *record, GError **error)
{
  g_autoptr (GError) key_error = NULL;
  GBytes *key = settle_store_get_client_key (store, record->fingerprint, &key_error);

  if (key == NULL && g_error_matches (key_error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND))
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND,
                 "the client key of \"%s\" is missing from the store; pair with the device again", record->label);
  else if (key == NULL)
    g_propagate_error (error, g_steal_pointer (&key_error));
  return key;
}

/* Asks the device and stores the answer; `record` (borrowed) takes the
 * new certificate. */
static gboolean
renew_and_store (SettleStore *store, SettleRecord *record, GBytes *current_key, const RenewOptions *options,
                 GError **error)
{
  SettleRenewalTarget target = { .timeout_ms = (guint) options->target.timeout_s * 1000u };
  SettleRenewal renewal = { 0 };
  gboolean ok;

  g_autoptr (SettleEndpoint) device = settle_device_endpoint (record, options->target.address, error);
  if (device == NULL)
    return FALSE;
  target.host = device->host;
  target.port = device->port;
  if (!settle_renewal_run (record, current_key, &target, &renewal, error))
    return FALSE;
  g_bytes_unref (record->client_cert_der);
  record->client_cert_der = g_bytes_ref (renewal.client_cert_der);
  ok = settle_commit_client_renewal (store, record, current_key, renewal.client_key_pem, error);
  settle_renewal_clear (&renewal);
  return ok;
}

static void
say_renewed (const SettleRecord *record)
{
  g_autofree char *role = settle_renewal_cert_role (record->client_cert_der);
  g_autofree char *until = settle_ui_format_time (settle_renewal_cert_expiry (record->client_cert_der));
  printf ("\"%s\": renewed the client certificate for a fresh key (role %s, valid until %s); the device "
          "no longer accepts the old one.\n", record->label, role != NULL ? role : "-", until);
}

static gboolean
renew_one (SettleStore *store, SettleRecord *record, const RenewOptions *options, GError **error)
{
  GBytes *current_key;
  gboolean ok;

  if (!has_client_certificate (record))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "\"%s\" holds no client certificate to renew; only devices paired with 'settle pair' have one",
                   record->label);
      return FALSE;
    }
  if (!is_due (record, options))
    {
      say_not_due (record);
      return TRUE;
    }
  current_key = current_client_key (store, record, error);
  if (current_key == NULL)
    return FALSE;
  ok = renew_and_store (store, record, current_key, options, error);
  settle_secure_bytes_free (current_key);
  if (ok)
    say_renewed (record);
  return ok;
}

static gboolean
renew_step (SettleStore *store, SettleRecord *record, gconstpointer options, GError **error)
{
  return renew_one (store, record, options, error);
}

int
settle_cmd_renew (int argc, char **argv)
{
  RenewOptions options = { .target.timeout_s = 10 };
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &options.target.address, "Where the device listens (default: where it was paired, else its name on port 443)", "HOST:PORT" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &options.target.all, "Every paired device with a client certificate (for the daily timer)", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &options.force, "Renew now, not only in the certificate's last 30 days", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &options.target.timeout_s, "Seconds to wait for each network step (default 10)", "SECONDS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[NAME|FINGERPRINT] - renew this computer's client certificate");
  const char *problem;
  int status;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Connects to the device with the current client certificate (mutual TLS),\n"
    "checks the device against the CA you trust, and asks for a certificate for\n"
    "a fresh key with the same role. The new certificate and key replace the old\n"
    "ones without a prompt; the device stops accepting the old certificate.\n"
    "Certificates are renewed in their last 30 days unless --force is given.\n"
    "See docs/lifecycle.md.\n"
    "Exit status: 0 renewed or not yet due, 1 refused or failed, 2 usage error.");
  if (!settle_ui_parse (context, CMD, &argc, &argv))
    status = SETTLE_EXIT_USAGE;
  else if ((problem = settle_device_target_problem (argc, &options.target)) != NULL)
    {
      settle_ui_failf (CMD, "%s; run 'settle renew --help'", problem);
      status = SETTLE_EXIT_USAGE;
    }
  else
    status = settle_device_run (CMD, options.target.all ? NULL : argv[1], &options.target,
                                has_client_certificate, renew_step, &options);
  g_free (options.target.address);
  return status;
}
