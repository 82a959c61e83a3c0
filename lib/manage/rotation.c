/* rotation.c: judging what a device presents against the CA we trust
 * (rotation.h). */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "settle-rotation.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "settle-scope.h"
#include "settle-self-cert.h"
#include "settle-wrap.h"

/* Every DNS name of the leaf lies inside the scope, and there is one. */
static gboolean
leaf_names_in_scope (X509 *leaf, char **scope, GError **error)
{
  g_auto (GStrv) names = settle_cert_dns_names (leaf);

  for (char **name = names; name != NULL && *name != NULL; name++)
    {
      g_autofree char *canonical = settle_name_normalize (*name, TRUE, NULL);
      if (canonical == NULL || !settle_scope_permits ((const char *const *) scope, canonical))
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                       "The device's certificate names %s, which this binding does not cover, so nothing was changed.",
                       *name);
          return FALSE;
        }
    }
  if (names == NULL || names[0] == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                           "The device's certificate names no host, so nothing was changed.");
      return FALSE;
    }
  return TRUE;
}

/* Verifies `leaf` with `ca` as the only trust anchor and nothing in
 * between (partial chains allowed: after one refresh the anchor is itself
 * a cross certificate, not self-signed). */
static gboolean
leaf_issued_by (X509 *leaf, X509 *ca)
{
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  gboolean ok = FALSE;

  if (store != NULL && ctx != NULL && X509_STORE_add_cert (store, ca) == 1
      && X509_STORE_CTX_init (ctx, store, leaf, NULL) == 1)
    {
      X509_STORE_CTX_set_flags (ctx, X509_V_FLAG_PARTIAL_CHAIN);
      X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
      ok = X509_verify_cert (ctx) == 1 && X509_STORE_CTX_get0_chain (ctx) != NULL
           && sk_X509_num (X509_STORE_CTX_get0_chain (ctx)) == 2;
    }
  ERR_clear_error ();
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  return ok;
}

static gboolean
same_key (X509 *a, X509 *b)
{
  return EVP_PKEY_eq (X509_get0_pubkey (a), X509_get0_pubkey (b)) == 1;
}

/* The certificate in `chain` that certifies a new key under the anchor:
 * issued by it (names, key identifiers, key usage) and signed with its
 * key.  Checked by hand rather than by path building, because the
 * anchor's own path length (a device's cross certificate has pathlen 0)
 * governs the device's chain, not our decision to follow it.  Borrowed. */
static X509 *
find_cross (X509 *anchor, STACK_OF (X509) *chain)
{
  for (int i = 0; chain != NULL && i < sk_X509_num (chain); i++)
    {
      X509 *cert = sk_X509_value (chain, i);
      gboolean cross = X509_check_issued (anchor, cert) == X509_V_OK
                       && X509_verify (cert, X509_get0_pubkey (anchor)) == 1 && !same_key (cert, anchor);
      ERR_clear_error ();
      if (cross)
        return cert;
    }
  return NULL;
}

/* A self-certifying name (settle-self-cert.h) names one CA key: the new
 * CA of a rotation has another, so a record with such a name cannot follow
 * it, however well the old CA vouches for the new one. */
static gboolean
names_certify (const SettleRecord *record, X509 *new_ca, const char *where, GError **error)
{
  for (char **name = record->names; name != NULL && *name != NULL; name++)
    if (settle_self_cert_parse (*name, strlen (*name), NULL) == SETTLE_SELF_CERT_OK
        && !settle_self_cert_matches (*name, new_ca))
      {
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_AUTH,
                     "the device at %s rotated its CA, but %s is a self-certifying name: it carries the "
                     "hash of the old CA's key and does not match the new one, so the rotation was not "
                     "followed and nothing was changed. The device needs a new name (pair with it again "
                     "under its new name).", where, *name);
        return FALSE;
      }
  return TRUE;
}

/* The rotated binding: the same label, names, scope, role, client
 * certificate, creation time and consent (the user's consent covered the
 * device, and the old CA vouched for the new one), a new anchor and a new
 * wrapping. */
static SettleRecord *
rotated_record (const SettleRecord *record, X509 *new_ca, GError **error)
{
  g_autoptr (SettleRecord) rotated = settle_record_new ();
  SettleWrapped wrapped = { 0 };

  if (!settle_wrap_ca (new_ca, (const char *const *) record->scope, record->label, &wrapped, error))
    return NULL;
  rotated->kind = record->kind;
  g_free (rotated->label);
  rotated->label = g_strdup (record->label);
  g_strfreev (rotated->names);
  rotated->names = g_strdupv (record->names);
  g_strfreev (rotated->scope);
  rotated->scope = g_strdupv (record->scope);
  rotated->anchor_der = settle_cert_to_der (new_ca);
  rotated->fingerprint = settle_fingerprint_of_der (g_bytes_get_data (rotated->anchor_der, NULL),
                                                    g_bytes_get_size (rotated->anchor_der));
  rotated->wrapper_root_der = settle_cert_to_der (wrapped.root);
  rotated->cross_der = settle_cert_to_der (wrapped.cross);
  settle_wrapped_clear (&wrapped);
  rotated->created = record->created;
  rotated->expires = settle_cert_not_after (new_ca);
  rotated->consent = record->consent;
  rotated->role = g_strdup (record->role);
  rotated->client_cert_der = record->client_cert_der ? g_bytes_ref (record->client_cert_der) : NULL;
  rotated->address = g_strdup (record->address);
  /* A CA rotation leaves the discovery key alone (portable mode). */
  rotated->discovery_key = record->discovery_key != NULL
                             ? g_memdup2 (record->discovery_key, SETTLE_RECORD_DISCOVERY_KEY_LEN) : NULL;
  rotated->discovery_period = record->discovery_period;
  /* What a newer settle added to the record stays with it. */
  rotated->format_minor = record->format_minor;
  rotated->extra_json = g_strdup (record->extra_json);
  return g_steal_pointer (&rotated);
}

SettleRotation
settle_rotation_judge (const SettleRecord *record, X509 *leaf, STACK_OF (X509) *chain, const char *where,
                       SettleRecord **new_record, GError **error)
{
  const guint8 *der = g_bytes_get_data (record->anchor_der, NULL);
  X509 *anchor = d2i_X509 (NULL, &der, (long) g_bytes_get_size (record->anchor_der));
  X509 *cross = NULL;
  SettleRotation outcome = 0;

  *new_record = NULL;
  if (anchor == NULL)
    g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "The stored anchor cannot be read.");
  else if (!leaf_names_in_scope (leaf, record->scope, error))
    ;
  else if (leaf_issued_by (leaf, anchor))
    outcome = SETTLE_ROTATION_UNCHANGED;
  else if ((cross = find_cross (anchor, chain)) == NULL || !leaf_issued_by (leaf, cross))
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_AUTH,
                 "the device at %s has new keys (factory reset?): pair with it again", where);
  else if (!names_certify (record, cross, where, error))
    ;
  else if (settle_ca_check (cross, error) && (*new_record = rotated_record (record, cross, error)) != NULL)
    outcome = SETTLE_ROTATION_FOLLOWED;
  X509_free (anchor);
  return outcome;
}
