/* trusting.c: settle_manager_trust (settle-trusting.h). */
#include <string.h>

#include "settle-cert.h"
#include "settle-commit.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-name-rule.h"
#include "settle-scope.h"
#include "settle-trusting.h"
#include "settle-wrap.h"

#define SETTLE_LABEL_FROM_CERT_MAX 128

static gboolean
check_fingerprint (X509 *cert, const char *given, char **fingerprint_out, GError **error)
{
  g_autoptr (GBytes) der = settle_cert_to_der (cert);
  g_autofree char *expected = settle_fingerprint_parse (given, error);
  g_autofree char *actual = NULL;

  if (expected == NULL)
    return FALSE;
  actual = settle_fingerprint_of_der (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  if (g_strcmp0 (expected, actual) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FINGERPRINT,
                   "the certificate does not have the fingerprint you were given, so nothing was trusted "
                   "(check that the file and the fingerprint come from the same device)");
      return FALSE;
    }
  *fingerprint_out = g_steal_pointer (&actual);
  return TRUE;
}

static char **
normalize_scopes (char **scopes, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (char **s = scopes; *s != NULL; s++)
    {
      g_autofree char *canonical = settle_scope_normalize (*s, error);
      if (canonical == NULL)
        return NULL;
      g_strv_builder_add (builder, canonical);
    }
  return g_strv_builder_end (builder);
}

static char *
default_label (X509 *cert, char **names)
{
  if (names != NULL && names[0] != NULL)
    return g_strdup (names[0]);
  return settle_cert_subject_text (cert);
}

static SettleRecord *
record_for_ca (X509 *ca, const SettleTrusting *options, char *fingerprint, GError **error)
{
  g_autoptr (SettleRecord) record = settle_record_new ();
  SettleWrapped wrapped = { 0 };
  g_auto (GStrv) scope = NULL;

  if (!settle_ca_check (ca, error) || (scope = normalize_scopes (options->scopes, error)) == NULL)
    return NULL;
  if (!options->referee && !settle_scope_check_single_device ((const char *const *) scope, error))
    return NULL;
  g_free (record->label);
  record->label = options->label ? g_strdup (options->label) : default_label (ca, scope);
  if (!settle_wrap_ca (ca, (const char *const *) scope, record->label, &wrapped, error))
    return NULL;
  record->kind = options->referee ? SETTLE_KIND_REFEREE_CA : SETTLE_KIND_DEVICE_CA;
  record->fingerprint = fingerprint;
  record->wrapper_root_der = settle_cert_to_der (wrapped.root);
  record->cross_der = settle_cert_to_der (wrapped.cross);
  settle_wrapped_clear (&wrapped);
  g_strfreev (record->names);
  record->names = g_strdupv (scope);
  g_strfreev (record->scope);
  record->scope = g_steal_pointer (&scope);
  return g_steal_pointer (&record);
}

/* What the pairing prompt says the device is "made by": the root's
 * organizationName, else its whole subject. */
static char *
manufacturer_label (X509 *ca)
{
  char organization[SETTLE_LABEL_FROM_CERT_MAX];
  int len = X509_NAME_get_text_by_NID (X509_get_subject_name (ca), NID_organizationName, organization,
                                       sizeof organization);
  if (len > 0 && g_utf8_validate (organization, len, NULL))
    return g_strndup (organization, (gsize) len);
  return settle_cert_subject_text (ca);
}

/* A manufacturer CA is kept as it is, unwrapped: it is never published
 * as a TLS anchor (settle_kind_is_tls_anchor), only consulted when a
 * device offers a voucher (settle-manufacturer.h).  Its scope says which
 * local names its vouchers may bind; a subtree is allowed, since one
 * manufacturer makes many devices. */
static SettleRecord *
record_for_manufacturer (X509 *ca, const SettleTrusting *options, char *fingerprint, GError **error)
{
  g_autoptr (SettleRecord) record = settle_record_new ();
  g_auto (GStrv) scope = NULL;

  if (!settle_ca_check (ca, error) || (scope = normalize_scopes (options->scopes, error)) == NULL)
    return NULL;
  /* The point of the scope: a compromised maker (or a stolen batch of
   * IDevID keys) must not make every device of a namespace look genuine. */
  for (char **s = scope; *s != NULL; s++)
    if (settle_name_rule_is_namespace (*s, strlen (*s)))
      {
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                     "The scope '%s' is a whole namespace: a manufacturer trusted for it would vouch for "
                     "every device there. Give the names (or a subtree such as printers.home.arpa) its "
                     "devices will have.", *s);
        return NULL;
      }
  g_free (record->label);
  record->label = options->label ? g_strdup (options->label) : manufacturer_label (ca);
  record->kind = SETTLE_KIND_MANUFACTURER_CA;
  record->fingerprint = fingerprint;
  g_strfreev (record->scope);
  record->scope = g_steal_pointer (&scope);
  return g_steal_pointer (&record);
}

static SettleRecord *
record_for_peer (X509 *leaf, const SettleTrusting *options, char *fingerprint, GError **error)
{
  g_autoptr (SettleRecord) record = settle_record_new ();

  if (!settle_peer_check (leaf, error))
    return NULL;
  record->kind = SETTLE_KIND_PINNED_PEER;
  record->fingerprint = fingerprint;
  g_strfreev (record->names);
  record->names = settle_cert_dns_names (leaf);
  g_strfreev (record->scope);
  record->scope = g_strdupv (record->names);
  g_free (record->label);
  record->label = options->label ? g_strdup (options->label) : default_label (leaf, record->names);
  return g_steal_pointer (&record);
}

static SettleRecord *
build_record (const SettleTrusting *options, GError **error)
{
  const char *path = options->ca_file ? options->ca_file : options->peer_file;
  X509 *cert = settle_cert_load_file (path, error);
  char *fingerprint = NULL;
  SettleRecord *record = NULL;

  if (cert == NULL)
    return NULL;
  if (check_fingerprint (cert, options->fingerprint, &fingerprint, error))
    {
      if (options->manufacturer)
        record = record_for_manufacturer (cert, options, fingerprint, error);
      else
        record = options->ca_file ? record_for_ca (cert, options, fingerprint, error)
                                  : record_for_peer (cert, options, fingerprint, error);
      if (record == NULL)
        g_free (fingerprint);
      else
        {
          record->anchor_der = settle_cert_to_der (cert);
          record->created = g_get_real_time () / G_USEC_PER_SEC;
          record->expires = settle_cert_not_after (cert);
        }
    }
  X509_free (cert);
  return record;
}

gboolean
settle_manager_trust (SettleManager *manager, const SettleTrusting *trusting, SettleRecord **trusted,
                      GError **error)
{
  g_autoptr (SettleRecord) record = build_record (trusting, error);
  SettleQuestion question = { .kind = SETTLE_QUESTION_TRUST };

  *trusted = NULL;
  if (record == NULL || settle_manager_store (manager, error) == NULL)
    return FALSE;
  question.record = record;
  if (trusting->yes)
    record->consent = SETTLE_CONSENT_FLAG;
  else if (!settle_manager_ask (manager, &question, &record->consent, error))
    return FALSE;
  if (!settle_commit_add (manager, record, error))
    return FALSE;
  *trusted = g_steal_pointer (&record);
  return TRUE;
}
