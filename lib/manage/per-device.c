/* per-device.c: refresh and renew (settle-per-device.h), and the NAME |
 * --all driver they share. */
#include "settle-commit.h"
#include "settle-error.h"
#include "settle-per-device.h"
#include "settle-renewal.h"
#include "settle-rotation.h"
#include "settle-tls-probe.h"

/* Does the operation's work for one record (borrowed; the step may update
 * it) and reports it through device_done. */
typedef gboolean (*DeviceStep) (SettleManager *manager, SettleRecord *record, const SettleDeviceTarget *target,
                                GError **error);
/* Which records --all visits. */
typedef gboolean (*DeviceWanted) (const SettleRecord *record);

static void
report (SettleManager *manager, const SettleDeviceResult *result)
{
  gpointer user_data;
  const SettleManagerEvents *events = settle_manager_events (manager, &user_data);

  if (events->device_done != NULL)
    events->device_done (result, user_data);
}

static gboolean
run_all (SettleManager *manager, const SettleDeviceTarget *target, DeviceWanted wanted, DeviceStep step,
         guint *failures, GError **error)
{
  g_autoptr (GPtrArray) records = settle_manager_list (manager, NULL, error);

  if (records == NULL)
    return FALSE;
  for (guint i = 0; i < records->len; i++)
    {
      SettleRecord *record = records->pdata[i];
      g_autoptr (GError) one_error = NULL;
      if (!wanted (record))
        continue;
      if (!step (manager, record, target, &one_error))
        {
          SettleDeviceResult result = { .outcome = SETTLE_DEVICE_FAILED, .record = record, .error = one_error };
          report (manager, &result);
          (*failures)++;
        }
    }
  return TRUE;
}

static gboolean
run (SettleManager *manager, const SettleDeviceTarget *target, DeviceWanted wanted, DeviceStep step,
     guint *failures, GError **error)
{
  g_autoptr (SettleRecord) record = NULL;
  guint ignored = 0;

  if (failures == NULL)
    failures = &ignored;
  *failures = 0;
  if (target->all)
    return run_all (manager, target, wanted, step, failures, error);
  record = settle_manager_lookup (manager, target->query, error);
  if (record == NULL || !step (manager, record, target, error))
    {
      *failures = 1;
      return FALSE;
    }
  return TRUE;
}

/* ---- refresh ---- */

/* Follows the rotation in the store: the client key moves with it. */
static gboolean
store_rotation (SettleManager *manager, const SettleRecord *record, const SettleRecord *rotated, GError **error)
{
  g_autoptr (GError) key_error = NULL;
  SettleStore *store = settle_manager_store (manager, error);
  GBytes *client_key;
  gboolean ok;

  if (store == NULL)
    return FALSE;
  client_key = settle_store_get_client_key (store, record->fingerprint, &key_error);
  if (client_key == NULL && !g_error_matches (key_error, SETTLE_ERROR, SETTLE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&key_error));
      return FALSE;
    }
  ok = settle_commit_replace (manager, record, rotated, client_key, error);
  settle_secure_bytes_free (client_key);
  return ok;
}

static gboolean
refresh_one (SettleManager *manager, SettleRecord *record, const SettleDeviceTarget *target, GError **error)
{
  g_autofree char *where = NULL;
  g_autoptr (SettleRecord) rotated = NULL;
  SettlePresented presented = { 0 };
  SettleRotation outcome;
  SettleDeviceResult result = { .record = record };

  if (record->kind != SETTLE_KIND_DEVICE_CA)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "\"%s\" is a %s; only paired device CAs can be refreshed", record->label,
                   settle_kind_to_string (record->kind));
      return FALSE;
    }
  g_autoptr (SettleEndpoint) device = settle_device_endpoint (record, target->address, error);
  if (device == NULL)
    return FALSE;
  g_autoptr (GError) first_error = NULL;
  if (!settle_tls_probe (device->host, device->port, record->names[0], (guint) target->timeout_s * 1000u,
                         &presented, &first_error))
    {
      /* Not where it was: DNS-SD and the name (a typed --address is
       * never second-guessed).  The anchor check below still decides. */
      g_autoptr (GPtrArray) others = NULL;
      g_autofree char *note = NULL;
      settle_presented_clear (&presented);
      if (!g_error_matches (first_error, SETTLE_ERROR, SETTLE_ERROR_NETWORK))
        {
          g_propagate_error (error, g_steal_pointer (&first_error));
          return FALSE;
        }
      others = settle_device_other_endpoints (record, target->address, device,
                                              (guint) target->timeout_s * 1000u, &note);
      if (note != NULL)
        settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s", note);
      for (guint i = 0; i < others->len && presented.leaf == NULL; i++)
        {
          SettleEndpoint *other = others->pdata[i];
          settle_presented_clear (&presented);
          if (settle_tls_probe (other->host, other->port, record->names[0], (guint) target->timeout_s * 1000u,
                                &presented, NULL))
            {
              g_autofree char *found = settle_device_endpoint_where (record, other);
              g_autofree char *at = settle_endpoint_to_string (other);
              settle_manager_note (manager, SETTLE_NOTE_NOTICE, "\"%s\" did not answer where it was recorded; found it at %s (%s).",
                                   record->label, found, at);
              settle_endpoint_free (device);
              device = g_ptr_array_steal_index (others, i);
            }
        }
      if (presented.leaf == NULL)
        {
          settle_presented_clear (&presented);
          g_propagate_error (error, g_steal_pointer (&first_error));
          return FALSE;
        }
    }
  where = settle_device_endpoint_where (record, device);
  outcome = settle_rotation_judge (record, presented.leaf, presented.chain, where, &rotated, error);
  settle_presented_clear (&presented);
  if (rotated != NULL)
    {
      g_free (rotated->address);
      rotated->address = g_strdup (where); /* the one that answered */
    }
  if (outcome == SETTLE_ROTATION_UNCHANGED)
    result.outcome = SETTLE_DEVICE_UP_TO_DATE;
  else if (outcome == SETTLE_ROTATION_FOLLOWED && store_rotation (manager, record, rotated, error))
    {
      result.outcome = SETTLE_DEVICE_ROTATED;
      result.new_fingerprint = rotated->fingerprint;
    }
  else
    return FALSE;
  report (manager, &result);
  return TRUE;
}

static gboolean
is_device_ca (const SettleRecord *record)
{
  return record->kind == SETTLE_KIND_DEVICE_CA;
}

gboolean
settle_manager_refresh (SettleManager *manager, const SettleDeviceTarget *target, guint *failures,
                        GError **error)
{
  return run (manager, target, is_device_ca, refresh_one, failures, error);
}

/* ---- renew ---- */

static gboolean
has_client_certificate (const SettleRecord *record)
{
  return record->kind == SETTLE_KIND_DEVICE_CA && record->client_cert_der != NULL;
}

static gboolean
is_due (const SettleRecord *record, const SettleDeviceTarget *target)
{
  gint64 expiry = settle_renewal_cert_expiry (record->client_cert_der);

  return target->force
         || expiry - g_get_real_time () / G_USEC_PER_SEC < SETTLE_RENEW_BEFORE_DAYS * 24 * 3600;
}

GBytes *
settle_manager_client_key (SettleManager *manager, const SettleRecord *record, GError **error)
{
  g_autoptr (GError) key_error = NULL;
  SettleStore *store = settle_manager_store (manager, error);
  GBytes *key;

  if (store == NULL)
    return NULL;
  key = settle_store_get_client_key (store, record->fingerprint, &key_error);
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
renew_and_store (SettleManager *manager, SettleRecord *record, GBytes *current_key,
                 const SettleDeviceTarget *options, GError **error)
{
  SettleRenewalTarget target = { .timeout_ms = (guint) options->timeout_s * 1000u };
  SettleRenewal renewal = { 0 };
  gboolean ok;
  g_autoptr (SettleEndpoint) device = settle_device_endpoint (record, options->address, error);
  g_autoptr (GError) first_error = NULL;

  if (device == NULL)
    return FALSE;
  target.host = device->host;
  target.port = device->port;
  if (!settle_renewal_run (record, current_key, &target, &renewal, &first_error))
    {
      /* Not where it was: DNS-SD and the name, each still proving itself
       * with a chain to the record's anchor (renewal.h). */
      g_autoptr (GPtrArray) others = NULL;
      g_autofree char *note = NULL;
      gboolean renewed = FALSE;
      if (!g_error_matches (first_error, SETTLE_ERROR, SETTLE_ERROR_NETWORK))
        {
          g_propagate_error (error, g_steal_pointer (&first_error));
          return FALSE;
        }
      others = settle_device_other_endpoints (record, options->address, device, target.timeout_ms, &note);
      if (note != NULL)
        settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s", note);
      for (guint i = 0; i < others->len && !renewed; i++)
        {
          g_autoptr (GError) other_error = NULL;
          SettleEndpoint *other = others->pdata[i];
          target.host = other->host;
          target.port = other->port;
          renewed = settle_renewal_run (record, current_key, &target, &renewal, &other_error);
          if (!renewed && !g_error_matches (other_error, SETTLE_ERROR, SETTLE_ERROR_NETWORK))
            {
              g_propagate_error (error, g_steal_pointer (&other_error));
              return FALSE;
            }
          if (renewed)
            {
              g_autofree char *found = settle_device_endpoint_where (record, other);
              settle_manager_note (manager, SETTLE_NOTE_NOTICE, "\"%s\" did not answer where it was; found at %s.",
                                   record->label, found);
            }
        }
      if (!renewed)
        {
          g_propagate_error (error, g_steal_pointer (&first_error));
          return FALSE;
        }
    }
  g_bytes_unref (record->client_cert_der);
  record->client_cert_der = g_bytes_ref (renewal.client_cert_der);
  ok = settle_commit_client_renewal (manager, record, current_key, renewal.client_key_pem, error);
  settle_renewal_clear (&renewal);
  return ok;
}

static gboolean
renew_one (SettleManager *manager, SettleRecord *record, const SettleDeviceTarget *target, GError **error)
{
  SettleDeviceResult result = { .record = record, .renew_before_days = SETTLE_RENEW_BEFORE_DAYS };
  GBytes *current_key;
  gboolean ok;

  if (!has_client_certificate (record))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "\"%s\" holds no client certificate to renew; only devices paired with 'settle pair' have one",
                   record->label);
      return FALSE;
    }
  if (!is_due (record, target))
    {
      result.outcome = SETTLE_DEVICE_NOT_DUE;
      result.valid_until = settle_renewal_cert_expiry (record->client_cert_der);
      report (manager, &result);
      return TRUE;
    }
  current_key = settle_manager_client_key (manager, record, error);
  if (current_key == NULL)
    return FALSE;
  ok = renew_and_store (manager, record, current_key, target, error);
  settle_secure_bytes_free (current_key);
  if (ok)
    {
      g_autofree char *role = settle_renewal_cert_role (record->client_cert_der);
      result.outcome = SETTLE_DEVICE_RENEWED;
      result.role = role;
      result.valid_until = settle_renewal_cert_expiry (record->client_cert_der);
      report (manager, &result);
    }
  return ok;
}

gboolean
settle_manager_renew (SettleManager *manager, const SettleDeviceTarget *target, guint *failures,
                      GError **error)
{
  return run (manager, target, has_client_certificate, renew_one, failures, error);
}
