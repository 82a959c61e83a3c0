/* manufacturer.c: settle_manufacturer_check (settle-manufacturer.h). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "settle-cert.h"
#include "settle-error.h"
#include "settle-manufacturer.h"
#include "settle-record.h"
#include "settle-scope.h"
#include "settle-voucher.h"

static gboolean
refuse (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_VOUCHER, "%s Nothing was stored on either side.", text);
  return FALSE;
}

static X509 *
cert_from_bytes (GBytes *der)
{
  gsize len = 0;
  const unsigned char *data = g_bytes_get_data (der, &len);
  const unsigned char *p = data;
  X509 *cert = d2i_X509 (NULL, &p, (long) len);
  if (cert != NULL && p != data + len)
    g_clear_pointer (&cert, X509_free);
  return cert;
}

/* The presented IDevID chain, leaf first (owned stack of owned X509). */
static STACK_OF (X509) *
parse_idevid_chain (GPtrArray *idevid, GError **error)
{
  STACK_OF (X509) *chain = sk_X509_new_null ();
  for (guint i = 0; chain != NULL && i < idevid->len; i++)
    {
      X509 *cert = cert_from_bytes (idevid->pdata[i]);
      if (cert == NULL || sk_X509_push (chain, cert) <= 0)
        {
          X509_free (cert);
          sk_X509_pop_free (chain, X509_free);
          refuse (error, "Certificate %u of the device's IDevID chain is not one DER certificate.", i + 1);
          return NULL;
        }
    }
  return chain;
}

static X509 *
record_anchor (const SettleRecord *record)
{
  return record->anchor_der != NULL ? cert_from_bytes (record->anchor_der) : NULL;
}

/* Manufacturer anchors whose subject is the issuer named at the top of
 * the presented chain (borrowed records).  Matching by name only picks
 * the candidates; the signatures decide. */
static GPtrArray *
candidate_anchors (GPtrArray *records, X509 *top)
{
  GPtrArray *found = g_ptr_array_new ();
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const SettleRecord *record = records->pdata[i];
      if (record->kind != SETTLE_KIND_MANUFACTURER_CA)
        continue;
      X509 *anchor = record_anchor (record);
      if (anchor != NULL && X509_NAME_cmp (X509_get_subject_name (anchor), X509_get_issuer_name (top)) == 0)
        g_ptr_array_add (found, (gpointer) record);
      X509_free (anchor);
    }
  return found;
}

/* TRUE when the IDevID chains to `anchor` alone (no system roots, no
 * partial chains); `why` gets OpenSSL's reason otherwise. */
static gboolean
chains_to (STACK_OF (X509) *chain, X509 *anchor, const char **why)
{
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  STACK_OF (X509) *untrusted = sk_X509_new_null ();
  gboolean ok = FALSE;

  *why = "OpenSSL could not set up the check";
  for (int i = 1; untrusted != NULL && i < sk_X509_num (chain); i++)
    sk_X509_push (untrusted, sk_X509_value (chain, i));
  if (store != NULL && ctx != NULL && untrusted != NULL && X509_STORE_add_cert (store, anchor) == 1
      && X509_STORE_CTX_init (ctx, store, sk_X509_value (chain, 0), untrusted) == 1)
    {
      X509_VERIFY_PARAM_set_flags (X509_STORE_CTX_get0_param (ctx), X509_V_FLAG_X509_STRICT);
      ok = X509_verify_cert (ctx) == 1;
      if (!ok)
        *why = X509_verify_cert_error_string (X509_STORE_CTX_get_error (ctx));
    }
  sk_X509_free (untrusted);
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  return ok;
}

/* The anchor among `candidates` the chain verifies to, or NULL with the
 * refusal. */
static const SettleRecord *
verifying_anchor (GPtrArray *candidates, STACK_OF (X509) *chain, GError **error)
{
  const char *why = "";
  for (guint i = 0; i < candidates->len; i++)
    {
      const SettleRecord *record = candidates->pdata[i];
      X509 *anchor = record_anchor (record);
      gboolean ok = anchor != NULL && chains_to (chain, anchor, &why);
      X509_free (anchor);
      if (ok)
        return record;
    }
  const SettleRecord *first = candidates->pdata[0];
  refuse (error, "The device's IDevID certificate claims to come from the manufacturer \"%s\" but does not "
                 "chain to it (%s): it is not a genuine device of that maker.", first->label, why);
  return NULL;
}

/* The IDevID signs the voucher, so it must be an end-entity certificate
 * whose key usage, when present, allows digitalSignature (IEEE 802.1AR,
 * RFC 5280 4.2.1.3): a maker's CA key presented as an "IDevID" is not a
 * device. */
static gboolean
check_idevid_may_sign (X509 *idevid, GError **error)
{
  uint32_t flags = X509_get_extension_flags (idevid);
  if ((flags & EXFLAG_CA) != 0)
    return refuse (error, "The device's IDevID certificate is a CA certificate, not a device's identity.");
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage (idevid) & KU_DIGITAL_SIGNATURE) == 0)
    return refuse (error, "The device's IDevID certificate does not allow digital signatures (keyUsage), so it "
                          "cannot sign a voucher.");
  return TRUE;
}

static gboolean
check_time (const SettleVoucher *voucher, GError **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  if (voucher->expires_on <= voucher->created_on
      || voucher->expires_on - voucher->created_on > SETTLE_VOUCHER_MAX_LIFETIME_S)
    return refuse (error, "The device's voucher is valid for more than %d seconds (or for none): settle takes "
                          "only short-lived vouchers.", SETTLE_VOUCHER_MAX_LIFETIME_S);
  if (voucher->created_on > now + SETTLE_VOUCHER_CLOCK_SKEW_S)
    return refuse (error, "The device's voucher was created in the future; check the device's clock.");
  if (voucher->expires_on < now)
    return refuse (error, "The device's voucher has expired.");
  return TRUE;
}

static gboolean
check_nonce (const SettleVoucher *voucher, GBytes *sent, GError **error)
{
  gsize have_len = 0, want_len = 0;
  const guint8 *have = g_bytes_get_data (voucher->nonce, &have_len);
  const guint8 *want = sent != NULL ? g_bytes_get_data (sent, &want_len) : NULL;
  if (want == NULL || have_len != want_len || CRYPTO_memcmp (have, want, want_len) != 0)
    return refuse (error, "The device's voucher does not carry the nonce of this pairing: it was made for "
                          "another ceremony (replayed).");
  return TRUE;
}

static gboolean
check_bindings (const SettleVoucher *voucher, const SettlePairResult *result, X509 *idevid, GError **error)
{
  g_autoptr (GError) why = NULL;
  g_autofree char *serial = settle_idevid_serial_number (idevid, &why);
  guint8 spki[32];

  if (serial == NULL)
    return refuse (error, "%s", why->message);
  if (strcmp (serial, voucher->serial_number) != 0)
    return refuse (error, "The device's voucher is for serial number %s, but its IDevID certificate says %s.",
                   voucher->serial_number, serial);
  if (!check_time (voucher, error) || !check_nonce (voucher, result->voucher_nonce, error))
    return FALSE;
  if (g_ascii_strcasecmp (voucher->local_name, result->device_name) != 0)
    return refuse (error, "The device's voucher is for the name %s, but the device being paired is %s.",
                   voucher->local_name, result->device_name);
  if (!settle_voucher_spki_sha256 (result->anchor, spki)
      || CRYPTO_memcmp (spki, voucher->pubk_sha256, sizeof spki) != 0)
    return refuse (error, "The device's voucher binds another key than the %s this pairing would trust.",
                   result->pinned_peer ? "certificate" : "device CA");
  return TRUE;
}

static gboolean
check_voucher (GPtrArray *records, const SettlePairResult *result, STACK_OF (X509) *chain,
               char **manufacturer, char **note, GError **error)
{
  X509 *idevid = sk_X509_value (chain, 0);
  X509 *top = sk_X509_value (chain, sk_X509_num (chain) - 1);
  g_autoptr (GPtrArray) candidates = candidate_anchors (records, top);

  if (candidates->len == 0)
    {
      char *issuer = X509_NAME_oneline (X509_get_issuer_name (top), NULL, 0);
      *note = g_strdup_printf ("the device offers a manufacturer voucher from %s, which you do not trust as a "
                               "manufacturer (settle trust --manufacturer), so it is paired without it.",
                               issuer != NULL ? issuer : "an unknown issuer");
      OPENSSL_free (issuer);
      return TRUE;
    }
  const SettleRecord *anchor = verifying_anchor (candidates, chain, error);
  if (anchor == NULL || !check_idevid_may_sign (idevid, error))
    return FALSE;
  if (!settle_scope_permits ((const char *const *) anchor->scope, result->device_name))
    {
      g_autofree char *scope = g_strjoinv (", ", anchor->scope);
      return refuse (error, "The manufacturer \"%s\" is trusted to vouch only for %s, not for %s.", anchor->label,
                     scope, result->device_name);
    }
  g_autoptr (GError) why = NULL;
  g_autoptr (SettleVoucher) voucher = settle_voucher_open (result->voucher, idevid, &why);
  if (voucher == NULL)
    return refuse (error, "%s", why->message);
  if (!check_bindings (voucher, result, idevid, error))
    return FALSE;
  *manufacturer = g_strdup (anchor->label);
  return TRUE;
}

gboolean
settle_manufacturer_check (GPtrArray *records, const SettlePairResult *result, char **manufacturer, char **note,
                           GError **error)
{
  *manufacturer = NULL;
  *note = NULL;
  if (result->voucher == NULL)
    return TRUE;
  STACK_OF (X509) *chain = parse_idevid_chain (result->idevid, error);
  if (chain == NULL)
    return FALSE;
  gboolean ok = check_voucher (records, result, chain, manufacturer, note, error);
  sk_X509_pop_free (chain, X509_free);
  return ok;
}
