/* pairing.c: settle_manager_pair (settle-pairing.h): the ceremony, the
 * record the user is asked about, and the commit.  Nothing is stored
 * unless every step succeeded and the user said yes. */
#include "settle-cert.h"
#include "settle-ceremony-client.h"
#include "settle-commit.h"
#include "settle-discover.h"
#include "settle-endpoint.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-manufacturer.h"
#include "settle-pairing.h"
#include "settle-scope.h"
#include "settle-wrap.h"

/* ---- the record ---- */

static char **
scope_of (char **names, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (char **n = names; *n != NULL; n++)
    {
      g_autofree char *canonical = settle_scope_normalize (*n, error);
      if (canonical == NULL)
        return NULL;
      g_strv_builder_add (builder, canonical);
    }
  return g_strv_builder_end (builder);
}

static gboolean
wrap_into_record (SettleRecord *record, X509 *ca, GError **error)
{
  SettleWrapped wrapped = { 0 };

  if (!settle_wrap_ca (ca, (const char *const *) record->scope, record->label, &wrapped, error))
    return FALSE;
  record->wrapper_root_der = settle_cert_to_der (wrapped.root);
  record->cross_der = settle_cert_to_der (wrapped.cross);
  settle_wrapped_clear (&wrapped);
  return TRUE;
}

/* A device's own CA (or its pinned leaf), for the names it proved. */
static gboolean
device_into_record (SettleRecord *record, const SettlePairResult *result, char **names, GError **error)
{
  record->anchor_der = settle_cert_to_der (result->anchor);
  record->kind = result->pinned_peer ? SETTLE_KIND_PINNED_PEER : SETTLE_KIND_DEVICE_CA;
  record->names = g_strdupv (names);
  record->scope = scope_of (names, error);
  if (record->scope == NULL)
    return FALSE;
  record->expires = settle_cert_not_after (result->anchor);
  return result->pinned_peer || wrap_into_record (record, result->anchor, error);
}

/* A referee (Track B): its CA, not the front's own, is what gets trusted,
 * for the scope settle_scope_approve_referee grants; with `yes` only when
 * the caller said it expects a referee. */
static gboolean
referee_into_record (SettleRecord *record, const SettlePairResult *result, const SettlePairing *pairing,
                     GError **error)
{
  g_auto (GStrv) typed = NULL;

  if (pairing->yes && !pairing->expect_referee)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                   "%s is a referee (it would vouch for every name under its subtree); --yes alone never "
                   "trusts a referee, so nothing was changed (add --referee if you expect one).",
                   result->device_name);
      return FALSE;
    }
  if (pairing->referee_scope != NULL && (typed = scope_of (pairing->referee_scope, error)) == NULL)
    return FALSE;
  record->scope = settle_scope_approve_referee ((const char *const *) result->referee_subtree,
                                                (const char *const *) typed, error);
  if (record->scope == NULL)
    return FALSE;
  record->kind = SETTLE_KIND_REFEREE_CA;
  record->names = g_strdupv (record->scope);
  record->anchor_der = settle_cert_to_der (result->referee_ca);
  record->expires = settle_cert_not_after (result->referee_ca);
  return wrap_into_record (record, result->referee_ca, error);
}

static SettleRecord *
record_from_result (const SettlePairResult *result, char **names, const SettlePairing *pairing,
                    GError **error)
{
  g_autoptr (SettleRecord) record = settle_record_new ();

  g_free (record->label);
  record->label = g_strdup (pairing->label != NULL ? pairing->label : result->device_name);
  g_strfreev (record->names);
  record->names = NULL;
  g_strfreev (record->scope);
  record->scope = NULL;
  if (result->referee_ca != NULL)
    {
      if (!referee_into_record (record, result, pairing, error))
        return NULL;
    }
  else if (pairing->referee_scope != NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                   "%s is a device, not a referee; a device is trusted for the names it proved, so "
                   "nothing was changed (pair again without --scope).", result->device_name);
      return NULL;
    }
  else if (!device_into_record (record, result, names, error))
    return NULL;
  record->fingerprint = settle_fingerprint_of_der (g_bytes_get_data (record->anchor_der, NULL),
                                                   g_bytes_get_size (record->anchor_der));
  record->created = g_get_real_time () / G_USEC_PER_SEC;
  record->role = g_strdup (result->role);
  record->client_cert_der = settle_cert_to_der (result->client_cert);
  /* A portable device: what recognises its rotating names from now on. */
  if (result->has_discovery)
    {
      record->discovery_key = g_memdup2 (result->discovery_key, SETTLE_RECORD_DISCOVERY_KEY_LEN);
      record->discovery_period = result->discovery_period;
    }
  return g_steal_pointer (&record);
}


/* ---- names nothing authenticated ---- */

/* The authenticated names plus each unverified one the user accepted with
 * an explicit yes of its own (owned); `refused` gets the others.  NULL
 * when nobody could be asked. */
static char **
accepted_names (SettleManager *manager, const SettlePairResult *result, gboolean yes_flag,
                GStrvBuilder *refused, GError **error)
{
  g_autoptr (GStrvBuilder) accepted = g_strv_builder_new ();
  const SettleManagerEvents *events;
  gpointer user_data;

  g_strv_builder_addv (accepted, (const char **) result->names);
  if (result->unverified_names[0] != NULL && yes_flag)
    {
      g_autofree char *list = g_strjoinv (", ", result->unverified_names);
      settle_manager_note (manager, SETTLE_NOTE_NOTICE,
                           "the device also claims %s, which nothing vouched for; --yes never accepts "
                           "such names, so they are not trusted (pair without --yes to be asked about each).",
                           list);
      g_strv_builder_addv (refused, (const char **) result->unverified_names);
      return g_strv_builder_end (accepted);
    }
  events = settle_manager_events (manager, &user_data);
  for (char **n = result->unverified_names; *n != NULL; n++)
    {
      SettleQuestion question = {
        .kind = SETTLE_QUESTION_EXTRA_NAME,
        .name = *n,
        .first = n == result->unverified_names,
        .device_name = result->device_name,
      };
      gboolean yes = FALSE;
      SettleConsent how;
      if (events->consent != NULL && !events->consent (&question, &yes, &how, user_data, error))
        return NULL;
      g_strv_builder_add (yes ? accepted : refused, *n);
    }
  return g_strv_builder_end (accepted);
}

/* ---- the ceremony ---- */

/* Consent runs inside the ceremony, between the checks and COMMIT, so
 * that a "no" leaves nothing on the device either. */
typedef struct {
  SettleManager *manager;
  const SettlePairing *pairing;
  char *answered;           /* owned: where the device answered (HOST:PORT), once connected */
  SettleRecord *record;     /* owned: what the user agreed to */
  GPtrArray *notices;       /* owned: remarks of the connect step, told once it ends */
} PairConsent;

/* The device's voucher, if it offered one (settle-manufacturer.h): the
 * verified manufacturer's label (owned) or NULL; FALSE refuses the
 * pairing before any question is asked. */
static gboolean
check_manufacturer (SettleManager *manager, const SettlePairResult *result, char **manufacturer,
                    GError **error)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *note = NULL;

  *manufacturer = NULL;
  if (result->voucher == NULL)
    return TRUE;
  records = settle_manager_list (manager, NULL, error);
  if (records == NULL || !settle_manufacturer_check (records, result, manufacturer, &note, error))
    return FALSE;
  if (note != NULL)
    settle_manager_note (manager, SETTLE_NOTE_NOTICE, "%s", note);
  return TRUE;
}

static gboolean
consent_to_pairing (const SettlePairResult *result, gpointer user_data, GError **error)
{
  PairConsent *consent = user_data;
  const SettlePairing *pairing = consent->pairing;
  g_autofree char *manufacturer = NULL;
  g_autoptr (GStrvBuilder) refused_builder = g_strv_builder_new ();
  g_auto (GStrv) names = NULL;
  g_auto (GStrv) refused = NULL;
  g_autoptr (SettleRecord) record = NULL;

  if (!check_manufacturer (consent->manager, result, &manufacturer, error))
    return FALSE;
  names = accepted_names (consent->manager, result, pairing->yes, refused_builder, error);
  refused = g_strv_builder_end (refused_builder);
  if (names == NULL)
    return FALSE;
  record = record_from_result (result, names, pairing, error);
  if (record == NULL)
    return FALSE;
  /* Remembered so that `settle refresh` can find the device again: the
   * address the code gave, else (a code without one: found by its name)
   * where it answered. */
  record->address = pairing->payload->host != NULL
                      ? settle_endpoint_format (pairing->payload->host, pairing->payload->port)
                      : g_strdup (consent->answered);
  if (manufacturer != NULL)
    settle_manager_note (consent->manager, SETTLE_NOTE_NOTICE,
                         "made by %s (verified): its voucher binds %s and this key.", manufacturer,
                         result->device_name);
  if (pairing->yes)
    record->consent = SETTLE_CONSENT_FLAG;
  else
    {
      SettleQuestion question = {
        .kind = SETTLE_QUESTION_TRUST,
        .record = record,
        .pairing = TRUE,
        .sas = result->sas,
        .role = result->role,
        .device_name = result->device_name,
        .typed_code = pairing->typed_code,
        .refused = (const char *const *) refused,
        .manufacturer = manufacturer,
      };
      if (!settle_manager_ask (consent->manager, &question, &record->consent, error))
        return FALSE;
    }
  consent->record = g_steal_pointer (&record);
  return TRUE;
}

static void
forward_step (SettlePairStep step, gboolean finished, const char *detail, gpointer user_data)
{
  PairConsent *consent = user_data;
  gpointer front_end;
  const SettleManagerEvents *events = settle_manager_events (consent->manager, &front_end);

  if (step == SETTLE_PAIR_STEP_CONNECT && finished && detail != NULL)
    {
      g_free (consent->answered);
      consent->answered = g_strdup (detail);
    }
  if (events->pair_step != NULL)
    events->pair_step ((int) step, finished, detail, front_end);
  /* Told after the step's line is complete, not in the middle of it. */
  if (step == SETTLE_PAIR_STEP_CONNECT && finished)
    {
      for (guint i = 0; i < consent->notices->len; i++)
        settle_manager_note (consent->manager, SETTLE_NOTE_NOTICE, "%s", (char *) consent->notices->pdata[i]);
      g_ptr_array_set_size (consent->notices, 0);
    }
}

static void
queue_notice (const char *text, gpointer user_data)
{
  PairConsent *consent = user_data;

  g_ptr_array_add (consent->notices, g_strdup (text));
}

/* A QR code without an address: DNS-SD (lib/discovery/) says where the
 * name answers; the ceremony still pin-checks every endpoint. */
static GPtrArray *
locate_by_dns_sd (const char *name, guint timeout_ms, gpointer user_data, char **note)
{
  const SettlePairing *pairing = user_data;
  /* A portable device waiting for its first pairing answers to pairing
   * labels only the QR code's key hash recognises. */
  SettleDiscoverAlso also = { .pin = pairing->typed_code ? NULL : pairing->payload->spki_sha256 };
  return settle_discover_endpoints_for (name, &also, MIN (timeout_ms, SETTLE_DISCOVERY_DEFAULT_TIMEOUT_MS), note);
}

gboolean
settle_manager_pair (SettleManager *manager, const SettlePairing *pairing, SettleRecord **paired,
                     gboolean *enrolled_on_device, GError **error)
{
  g_autoptr (GPtrArray) notices = g_ptr_array_new_with_free_func (g_free);
  PairConsent consent = { .manager = manager, .pairing = pairing, .notices = notices };
  SettlePairRequest request = {
    .payload = pairing->payload,
    .pinned = !pairing->typed_code,
    .role = pairing->role,
    .timeout_ms = pairing->timeout_ms,
    .progress = forward_step,
    .progress_data = &consent,
    .consent = consent_to_pairing,
    .consent_data = &consent,
    .locate = locate_by_dns_sd,
    .locate_data = (gpointer) pairing,
    .notice = queue_notice,
    .notice_data = &consent,
  };
  g_autoptr (SettlePairResult) result = NULL;

  *paired = NULL;
  if (enrolled_on_device != NULL)
    *enrolled_on_device = FALSE;
  /* Opened first: a store that cannot be written must not cost the
   * device its single-use secret. */
  if (settle_manager_store (manager, error) == NULL)
    return FALSE;
  result = settle_pair_run (&request, error);
  if (result == NULL)
    {
      settle_record_free (consent.record);
      g_free (consent.answered);
      return FALSE;
    }
  g_free (consent.answered);
  if (!settle_commit_add_with_key (manager, consent.record, result->client_key_pem, error))
    {
      if (enrolled_on_device != NULL)
        *enrolled_on_device = TRUE;
      settle_record_free (consent.record);
      return FALSE;
    }
  *paired = consent.record;
  return TRUE;
}
