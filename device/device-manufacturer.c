/* device-manufacturer.c: the reference device's manufacturer identity
 * (device.h; schema/voucher.md): an IDevID key and certificate put on the
 * device by its maker, and the voucher it signs with that key when a
 * helper's ENROL_REQUEST carries a nonce.
 *
 * The test modes (--test-voucher) make an adversarial device out of the
 * reference one, for tests/manufacturer/ only: each breaks one binding of
 * the voucher so that the helper's refusal of it can be watched. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "device.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-voucher.h"

/* How long a voucher the device makes is valid: long enough for the
 * helper's user to read the prompt (SETTLE_CEREMONY_CONSENT_TIMEOUT_S). */
#define VOUCHER_LIFETIME_S 600

struct _SettleDeviceManufacturer {
  EVP_PKEY *key;                  /* owned: the IDevID key */
  X509 *idevid;                   /* owned */
  STACK_OF (X509) *issuers;       /* owned: the IDevID's issuing CAs, root excluded */
  char *serial_number;            /* owned: from the IDevID subject */
  SettleDeviceVoucherTest test;
  GMutex lock;                    /* guards `replayable` */
  GBytes *replayable;             /* owned: the previous voucher (TEST replay only) */
};

static const struct {
  const char *name;
  SettleDeviceVoucherTest test;
} test_names[] = {
  { "forged", SETTLE_DEVICE_VOUCHER_FORGED },
  { "expired", SETTLE_DEVICE_VOUCHER_EXPIRED },
  { "other-serial", SETTLE_DEVICE_VOUCHER_OTHER_SERIAL },
  { "other-name", SETTLE_DEVICE_VOUCHER_OTHER_NAME },
  { "other-key", SETTLE_DEVICE_VOUCHER_OTHER_KEY },
  { "replay", SETTLE_DEVICE_VOUCHER_REPLAY },
};

gboolean
settle_device_voucher_test_from_string (const char *text, SettleDeviceVoucherTest *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (test_names); i++)
    if (g_strcmp0 (text, test_names[i].name) == 0)
      {
        *out = test_names[i].test;
        return TRUE;
      }
  return FALSE;
}

void
settle_device_manufacturer_free (SettleDeviceManufacturer *m)
{
  if (m == NULL)
    return;
  EVP_PKEY_free (m->key);
  X509_free (m->idevid);
  sk_X509_pop_free (m->issuers, X509_free);
  g_free (m->serial_number);
  g_clear_pointer (&m->replayable, g_bytes_unref);
  g_mutex_clear (&m->lock);
  g_free (m);
}

static EVP_PKEY *
load_key (const char *path, GError **error)
{
  BIO *bio = BIO_new_file (path, "r");
  EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;
  BIO_free (bio);
  if (key == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "%s is not a PEM private key.", path);
  return key;
}

static STACK_OF (X509) *
load_issuers (const char *path, GError **error)
{
  STACK_OF (X509) *issuers = sk_X509_new_null ();
  BIO *bio = path != NULL ? BIO_new_file (path, "r") : NULL;
  X509 *cert;
  while (bio != NULL && (cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
    sk_X509_push (issuers, cert);
  BIO_free (bio);
  if (path != NULL && sk_X509_num (issuers) == 0)
    {
      sk_X509_pop_free (issuers, X509_free);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "%s holds no PEM certificate.", path);
      return NULL;
    }
  if (sk_X509_num (issuers) >= SETTLE_IDEVID_CHAIN_MAX)
    {
      sk_X509_pop_free (issuers, X509_free);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "%s holds more than %d issuing CAs.", path,
                   SETTLE_IDEVID_CHAIN_MAX - 1);
      return NULL;
    }
  return issuers;
}

SettleDeviceManufacturer *
settle_device_manufacturer_load (const char *key_path, const char *cert_path, const char *issuers_path,
                                 SettleDeviceVoucherTest test, GError **error)
{
  g_autoptr (SettleDeviceManufacturer) m = g_new0 (SettleDeviceManufacturer, 1);
  g_mutex_init (&m->lock);
  m->test = test;
  if ((m->key = load_key (key_path, error)) == NULL || (m->idevid = settle_cert_load_file (cert_path, error)) == NULL
      || (m->issuers = load_issuers (issuers_path, error)) == NULL
      || (m->serial_number = settle_idevid_serial_number (m->idevid, error)) == NULL)
    return NULL;
  if (X509_check_private_key (m->idevid, m->key) != 1)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "%s is not the key of the IDevID certificate %s.",
                   key_path, cert_path);
      return NULL;
    }
  return g_steal_pointer (&m);
}

const char *
settle_device_manufacturer_serial (SettleDeviceManufacturer *m)
{
  return m->serial_number;
}

X509 *
settle_device_manufacturer_idevid (SettleDeviceManufacturer *m)
{
  return m->idevid;
}

STACK_OF (X509) *
settle_device_manufacturer_issuers (SettleDeviceManufacturer *m)
{
  return m->issuers;
}

/* The honest claims, then what a test mode breaks. */
static SettleVoucher *
claims_for (SettleDeviceManufacturer *m, GBytes *nonce, const char *name, X509 *device_ca)
{
  SettleVoucher *v = g_new0 (SettleVoucher, 1);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  v->assertion = g_strdup ("proximity");
  v->serial_number = g_strdup (m->serial_number);
  v->local_name = g_strdup (name);
  v->nonce = g_bytes_ref (nonce);
  v->created_on = now;
  v->expires_on = now + VOUCHER_LIFETIME_S;
  if (!settle_voucher_spki_sha256 (device_ca, v->pubk_sha256))
    g_clear_pointer (&v, settle_voucher_free);
  else if (m->test == SETTLE_DEVICE_VOUCHER_EXPIRED)
    {
      v->created_on = now - 2 * VOUCHER_LIFETIME_S;
      v->expires_on = now - VOUCHER_LIFETIME_S;
    }
  else if (m->test == SETTLE_DEVICE_VOUCHER_OTHER_SERIAL)
    {
      g_free (v->serial_number);
      v->serial_number = g_strconcat (m->serial_number, "-OTHER", NULL);
    }
  else if (m->test == SETTLE_DEVICE_VOUCHER_OTHER_NAME)
    {
      g_free (v->local_name);
      v->local_name = g_strconcat ("other-", name, NULL);
    }
  else if (m->test == SETTLE_DEVICE_VOUCHER_OTHER_KEY)
    v->pubk_sha256[0] ^= 0x01;
  return v;
}

/* TEST forged: the right claims signed by a key the manufacturer never
 * certified, under a certificate that copies the IDevID's subject. */
static GBytes *
sign_forged (const SettleVoucher *v, X509 *idevid, GError **error)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *cert = X509_new ();
  GBytes *out = NULL;
  if (key != NULL && cert != NULL && X509_set_version (cert, 2) == 1
      && X509_set_subject_name (cert, X509_get_subject_name (idevid)) == 1
      && X509_set_issuer_name (cert, X509_get_issuer_name (idevid)) == 1
      && X509_gmtime_adj (X509_getm_notBefore (cert), 0) != NULL
      && X509_gmtime_adj (X509_getm_notAfter (cert), 3600) != NULL && X509_set_pubkey (cert, key) == 1
      && X509_sign (cert, key, EVP_sha256 ()) > 0)
    out = settle_voucher_sign (v, cert, key, NULL, error);
  else
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "The forged test voucher could not be made.");
  X509_free (cert);
  EVP_PKEY_free (key);
  return out;
}

static GPtrArray *
idevid_chain_der (SettleDeviceManufacturer *m)
{
  GPtrArray *chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (chain, settle_cert_to_der (m->idevid));
  for (int i = 0; i < sk_X509_num (m->issuers); i++)
    g_ptr_array_add (chain, settle_cert_to_der (sk_X509_value (m->issuers, i)));
  return chain;
}

/* TEST replay: the voucher of the previous ceremony instead of a new one. */
static GBytes *
replayed_or_remembered (SettleDeviceManufacturer *m, GBytes *fresh)
{
  g_mutex_lock (&m->lock);
  GBytes *out = m->replayable != NULL ? g_bytes_ref (m->replayable) : g_bytes_ref (fresh);
  if (m->replayable == NULL)
    m->replayable = g_bytes_ref (fresh);
  g_mutex_unlock (&m->lock);
  g_bytes_unref (fresh);
  return out;
}

gboolean
settle_device_manufacturer_attest (GBytes *nonce, const char *device_name, X509 *device_ca, GPtrArray **idevid,
                                   GBytes **voucher, gpointer user_data)
{
  SettleDeviceManufacturer *m = user_data;
  g_autoptr (GError) local = NULL;
  g_autoptr (SettleVoucher) claims = claims_for (m, nonce, device_name, device_ca);
  GBytes *signed_voucher = NULL;

  if (claims != NULL)
    signed_voucher = m->test == SETTLE_DEVICE_VOUCHER_FORGED
                       ? sign_forged (claims, m->idevid, &local)
                       : settle_voucher_sign (claims, m->idevid, m->key, NULL, &local);
  if (signed_voucher == NULL)
    {
      g_printerr ("settle-device: no voucher sent: %s\n", local != NULL ? local->message : "no device CA key");
      return FALSE;
    }
  if (m->test == SETTLE_DEVICE_VOUCHER_REPLAY)
    signed_voucher = replayed_or_remembered (m, signed_voucher);
  *voucher = signed_voucher;
  *idevid = idevid_chain_der (m);
  return TRUE;
}
