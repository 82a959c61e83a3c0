/* ceremony-server.c: the device's state machine for the pairing ceremony
 * (SPAKE2 role B), schema/ceremony.md. */
#include "settle-ceremony-server.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "settle-cert-build.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-spake2.h"

#define RSA_MIN_BITS 2048
#define CLIENT_CN_MAX 64
#define DEFAULT_ROLE "guest"

struct _SettleCeremonyServer {
  char *name;                   /* owned: SPAKE2 identity B */
  EVP_PKEY *ca_key;             /* owned reference */
  X509 *ca_cert;                /* owned reference */
  STACK_OF (X509) *chain;       /* owned, of owned references */
  X509 *referee_ca;             /* owned reference, NULL: not a referee */
  char **referee_subtree;       /* owned, NULL: not a referee */
  SettleCeremonyServerHooks hooks;
  guint step_timeout_ms;
  guint consent_timeout_ms;

  GMutex ceremony_lock;         /* held for a whole ceremony */
  GMutex secret_lock;           /* guards the fields below */
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  gsize secret_len;
  guint failures;
  guint generation;
  /* Portable mode: told to every agent in ENROL_RESPONSE (set before the
   * first handle(); read only afterwards). */
  gboolean has_discovery;
  guint8 discovery_key[SETTLE_CEREMONY_DISCOVERY_KEY_LEN];
  guint discovery_period;
};

/* ---- the secret ---- */

static gboolean
make_secret_locked (SettleCeremonyServer *server, GError **error)
{
  OPENSSL_cleanse (server->secret, sizeof server->secret);
  if (RAND_priv_bytes (server->secret, SETTLE_CEREMONY_SERVER_SECRET_BYTES) != 1)
    {
      server->secret_len = 0;  /* no secret is better than a predictable one */
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "OpenSSL could not produce random bytes for a pairing secret.");
      return FALSE;
    }
  server->secret_len = SETTLE_CEREMONY_SERVER_SECRET_BYTES;
  server->failures = 0;
  server->generation++;
  return TRUE;
}

gboolean
settle_ceremony_server_renew_secret (SettleCeremonyServer *server, GError **error)
{
  g_mutex_lock (&server->secret_lock);
  gboolean ok = make_secret_locked (server, error);
  g_mutex_unlock (&server->secret_lock);
  if (ok && server->hooks.secret_changed != NULL)
    server->hooks.secret_changed (server, server->hooks.user_data);
  return ok;
}

gsize
settle_ceremony_server_copy_secret (SettleCeremonyServer *server, guint8 *out, guint *generation)
{
  g_mutex_lock (&server->secret_lock);
  gsize len = server->secret_len;
  memcpy (out, server->secret, len);
  if (generation != NULL)
    *generation = server->generation;
  g_mutex_unlock (&server->secret_lock);
  return len;
}

guint
settle_ceremony_server_failures (SettleCeremonyServer *server)
{
  g_mutex_lock (&server->secret_lock);
  guint failures = server->failures;
  g_mutex_unlock (&server->secret_lock);
  return failures;
}

/* One more failed confirmation; the fifth retires the secret. */
static void
count_failure (SettleCeremonyServer *server)
{
  gboolean retire;
  g_mutex_lock (&server->secret_lock);
  server->failures++;
  retire = server->failures >= SETTLE_CEREMONY_SERVER_MAX_FAILURES;
  g_mutex_unlock (&server->secret_lock);
  if (retire)
    {
      g_autoptr (GError) local = NULL;
      /* On failure there is no secret at all until the next renewal,
       * which keeps the retired one unusable. */
      if (!settle_ceremony_server_renew_secret (server, &local))
        g_warning ("%s", local->message);
    }
}

/* ---- construction ---- */

SettleCeremonyServer *
settle_ceremony_server_new (const char *device_name, EVP_PKEY *ca_key, X509 *ca_cert,
                            STACK_OF (X509) *chain, GError **error)
{
  g_return_val_if_fail (device_name != NULL && ca_key != NULL && ca_cert != NULL, NULL);
  if (*device_name == '\0' || strlen (device_name) > SETTLE_SPAKE2_ID_MAX)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_SCOPE,
                           "The device name must be 1 to 253 characters long.");
      return NULL;
    }
  if (X509_check_private_key (ca_cert, ca_key) != 1)
    {
      ERR_clear_error ();
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT,
                           "The device CA key does not belong to the device CA certificate.");
      return NULL;
    }
  SettleCeremonyServer *server = g_new0 (SettleCeremonyServer, 1);
  server->name = g_strdup (device_name);
  EVP_PKEY_up_ref (ca_key);
  server->ca_key = ca_key;
  X509_up_ref (ca_cert);
  server->ca_cert = ca_cert;
  if (chain != NULL && sk_X509_num (chain) > 0)
    server->chain = X509_chain_up_ref (chain);
  else
    {
      server->chain = sk_X509_new_null ();
      X509_up_ref (ca_cert);
      sk_X509_push (server->chain, ca_cert);
    }
  server->step_timeout_ms = SETTLE_CEREMONY_SERVER_STEP_TIMEOUT_MS;
  server->consent_timeout_ms = SETTLE_CEREMONY_CONSENT_TIMEOUT_S * 1000u;
  g_mutex_init (&server->ceremony_lock);
  g_mutex_init (&server->secret_lock);
  if (!make_secret_locked (server, error))
    {
      settle_ceremony_server_free (server);
      return NULL;
    }
  return server;
}

void
settle_ceremony_server_free (SettleCeremonyServer *server)
{
  if (server == NULL)
    return;
  OPENSSL_cleanse (server->secret, sizeof server->secret);
  OPENSSL_cleanse (server->discovery_key, sizeof server->discovery_key);
  g_free (server->name);
  EVP_PKEY_free (server->ca_key);
  X509_free (server->ca_cert);
  sk_X509_pop_free (server->chain, X509_free);
  X509_free (server->referee_ca);
  g_strfreev (server->referee_subtree);
  g_mutex_clear (&server->ceremony_lock);
  g_mutex_clear (&server->secret_lock);
  g_free (server);
}

void
settle_ceremony_server_set_referee (SettleCeremonyServer *server, X509 *referee_ca,
                                    const char *const *subtree)
{
  X509_free (server->referee_ca);
  g_strfreev (server->referee_subtree);
  server->referee_ca = NULL;
  server->referee_subtree = NULL;
  if (referee_ca == NULL)
    return;
  X509_up_ref (referee_ca);
  server->referee_ca = referee_ca;
  server->referee_subtree = g_strdupv ((char **) subtree);
}

void
settle_ceremony_server_set_discovery (SettleCeremonyServer *server,
                                      const guint8 key[SETTLE_CEREMONY_DISCOVERY_KEY_LEN], guint period_s)
{
  server->has_discovery = key != NULL;
  if (key != NULL)
    memcpy (server->discovery_key, key, sizeof server->discovery_key);
  else
    OPENSSL_cleanse (server->discovery_key, sizeof server->discovery_key);
  server->discovery_period = period_s;
}

void
settle_ceremony_server_set_hooks (SettleCeremonyServer *server,
                                  const SettleCeremonyServerHooks *hooks)
{
  server->hooks = *hooks;
}

void
settle_ceremony_server_set_step_timeout (SettleCeremonyServer *server, guint timeout_ms)
{
  server->step_timeout_ms = timeout_ms > 0 ? timeout_ms : SETTLE_CEREMONY_SERVER_STEP_TIMEOUT_MS;
}

void
settle_ceremony_server_set_consent_timeout (SettleCeremonyServer *server, guint timeout_ms)
{
  server->consent_timeout_ms = timeout_ms > 0 ? timeout_ms : SETTLE_CEREMONY_CONSENT_TIMEOUT_S * 1000u;
}

/* ---- one ceremony ---- */

typedef struct {
  SettleCeremonyServer *server;
  SettleTlsConn *conn;          /* borrowed */
  gint64 ends_at;               /* monotonic: the whole ceremony's deadline */
  guint step_timeout_ms;        /* the next receive's own limit */
  SettleSpake2 *spake;          /* owned */
  gboolean share_sent;          /* from here on, a missing cA is a failed attempt */
} Ceremony;

/* Tells the peer why we stop (best effort: the connection may be dead)
 * and passes `local` on.  Peer texts never say more than the code, so a
 * prober learns nothing about which check failed inside SPAKE2. */
static SettleCeremonyOutcome
stop (Ceremony *c, SettleCeremonyOutcome outcome, SettleCeremonyErrorCode code,
      const char *peer_text, GError *local, GError **error)
{
  g_autoptr (SettleCeremonyMsg) msg = settle_ceremony_msg_new_error (code, peer_text);
  settle_tls_send (c->conn, msg, NULL);
  g_propagate_error (error, local);
  return outcome;
}

/* The deadline of the next step: the step timeout, cut short by the
 * ceremony's total. */
static gboolean
arm_step_timeout (Ceremony *c)
{
  gint64 left_ms = (c->ends_at - g_get_monotonic_time ()) / 1000;
  if (left_ms <= 0)
    return FALSE;
  settle_tls_set_timeout (c->conn, (guint) MIN ((gint64) c->step_timeout_ms, left_ms));
  return TRUE;
}

/* Receives the next message and checks its type; on any failure answers
 * the peer with the matching code and returns FALSE with *outcome set. */
static SettleCeremonyMsg *
receive_expected (Ceremony *c, SettleMsgType expected, SettleCeremonyOutcome *outcome, GError **error)
{
  GError *local = NULL;
  *outcome = SETTLE_CEREMONY_OUTCOME_FAILED;
  if (!arm_step_timeout (c))
    {
      local = g_error_new (SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                           "The pairing took longer than %d s and was ended.",
                           SETTLE_CEREMONY_TOTAL_TIMEOUT_S);
      stop (c, *outcome, SETTLE_CEREMONY_ERR_TIMEOUT, "The pairing took too long.", local, error);
      return NULL;
    }
  SettleCeremonyMsg *msg = settle_tls_receive (c->conn, &local);
  if (msg == NULL)
    {
      if (settle_tls_timed_out (c->conn))
        stop (c, *outcome, SETTLE_CEREMONY_ERR_TIMEOUT, "No message arrived in time.", local, error);
      else if (g_error_matches (local, SETTLE_ERROR, SETTLE_ERROR_FORMAT))
        stop (c, *outcome, SETTLE_CEREMONY_ERR_MALFORMED, "Could not decode the last message.",
              local, error);
      else if (g_error_matches (local, SETTLE_ERROR, SETTLE_ERROR_PROTOCOL))
        stop (c, *outcome, SETTLE_CEREMONY_ERR_UNSUPPORTED,
              "This device speaks ceremony version 1 with SPAKE2-P256-SHA256-HKDF-HMAC only.",
              local, error);
      else
        g_propagate_error (error, local);  /* the connection is gone */
      return NULL;
    }
  if (!settle_ceremony_msg_expect (msg, expected, &local))
    {
      /* A peer's ERROR ends the ceremony without an answer. */
      if (msg->type == SETTLE_MSG_ERROR)
        g_propagate_error (error, local);
      else
        stop (c, *outcome, SETTLE_CEREMONY_ERR_UNEXPECTED, "That message was not expected now.",
              local, error);
      settle_ceremony_msg_free (msg);
      return NULL;
    }
  return msg;
}

static gboolean
start_spake2 (Ceremony *c, GError **error)
{
  guint8 aad[SETTLE_TLS_EXPORTER_LEN];
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  if (!settle_tls_exporter (c->conn, aad, error))
    return FALSE;
  gsize secret_len = settle_ceremony_server_copy_secret (c->server, secret, NULL);
  if (secret_len == 0)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "The device has no pairing secret (the random generator failed).");
      return FALSE;
    }
  c->spake = settle_spake2_new (SETTLE_SPAKE2_ROLE_B, SETTLE_SPAKE2_ID_CLIENT, c->server->name,
                                secret, secret_len, aad, sizeof aad, error);
  OPENSSL_cleanse (secret, sizeof secret);
  return c->spake != NULL;
}

/* CLIENT_HELLO -> SERVER_SHARE {pB, cB}.  FALSE (with *outcome) ends
 * the ceremony. */
static gboolean
answer_hello (Ceremony *c, SettleCeremonyOutcome *outcome, GError **error)
{
  g_autoptr (SettleCeremonyMsg) hello = receive_expected (c, SETTLE_MSG_CLIENT_HELLO, outcome, error);
  if (hello == NULL)
    return FALSE;
  GError *local = NULL;
  *outcome = SETTLE_CEREMONY_OUTCOME_FAILED;
  if (!start_spake2 (c, &local))
    {
      stop (c, *outcome, SETTLE_CEREMONY_ERR_INTERNAL, "The device could not start the key exchange.",
            local, error);
      return FALSE;
    }
  if (!settle_spake2_process_peer_share (c->spake, hello->client_hello.share,
                                         sizeof hello->client_hello.share, &local))
    {
      stop (c, *outcome, SETTLE_CEREMONY_ERR_MALFORMED, "The share pA is not a valid P-256 point.",
            local, error);
      return FALSE;
    }
  g_autoptr (SettleCeremonyMsg) share = settle_ceremony_msg_new (SETTLE_MSG_SERVER_SHARE);
  settle_spake2_get_share (c->spake, share->server_share.share);
  if (!settle_spake2_get_confirmation (c->spake, share->server_share.confirm, &local))
    {
      stop (c, *outcome, SETTLE_CEREMONY_ERR_INTERNAL, "The device could not compute its confirmation.",
            local, error);
      return FALSE;
    }
  /* Counted from here: cB lets the peer test one guess of the secret. */
  c->share_sent = TRUE;
  gboolean sent = settle_tls_send (c->conn, share, error);
  OPENSSL_cleanse (share->server_share.confirm, sizeof share->server_share.confirm);
  return sent;
}

/* The short authentication string, for the device's own screen or log:
 * the helper's prompt asks the user to compare the two. */
static void
show_check_code (Ceremony *c)
{
  if (c->server->hooks.show_check_code == NULL)
    return;
  g_autofree char *code = settle_spake2_short_auth_string (c->spake, NULL);
  if (code != NULL)
    c->server->hooks.show_check_code (code, settle_tls_peer_address_peek (c->conn),
                                      c->server->hooks.user_data);
}

/* CLIENT_CONFIRM {cA}: the peer proves it knows the secret. */
static gboolean
check_confirmation (Ceremony *c, SettleCeremonyOutcome *outcome, GError **error)
{
  g_autoptr (SettleCeremonyMsg) confirm = receive_expected (c, SETTLE_MSG_CLIENT_CONFIRM, outcome, error);
  if (confirm == NULL)
    return FALSE;
  GError *local = NULL;
  if (!settle_spake2_verify_peer_confirmation (c->spake, confirm->client_confirm.confirm,
                                               sizeof confirm->client_confirm.confirm, &local))
    {
      g_clear_error (&local);
      local = g_error_new_literal (SETTLE_ERROR, SETTLE_ERROR_AUTH,
                                   "The helper's key confirmation did not match: wrong pairing code, "
                                   "wrong device name, or a relayed connection.");
      *outcome = stop (c, SETTLE_CEREMONY_OUTCOME_AUTH_FAILED, SETTLE_CEREMONY_ERR_AUTH_FAILED,
                       "Key confirmation failed.", local, error);
      return FALSE;
    }
  show_check_code (c);
  return TRUE;
}

/* ---- the CSR ---- */

static gboolean
csr_error (GError **error, const char *message)
{
  ERR_clear_error ();
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT, message);
  return FALSE;
}

/* Accepted: P-256, P-384, P-521, Ed25519, RSA of at least 2048 bits
 * (schema/ceremony.md).  Other curves, secp256k1 among them, are not weak
 * but unsupported: browsers and TLS stacks do not take them. */
static gboolean
key_is_supported (EVP_PKEY *key)
{
  switch (EVP_PKEY_get_base_id (key))
    {
    case EVP_PKEY_EC:
      {
        char curve[64] = { 0 };
        size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param (key, "group", curve, sizeof curve, &len) != 1)
          return FALSE;
        return strcmp (curve, "prime256v1") == 0 || strcmp (curve, "P-256") == 0
               || strcmp (curve, "secp384r1") == 0 || strcmp (curve, "P-384") == 0
               || strcmp (curve, "secp521r1") == 0 || strcmp (curve, "P-521") == 0;
      }
    case EVP_PKEY_RSA:
      return EVP_PKEY_get_bits (key) >= RSA_MIN_BITS;
    case EVP_PKEY_ED25519:
      return TRUE;
    default:
      return FALSE;
    }
}

static const char *
key_refusal (EVP_PKEY *key)
{
  if (EVP_PKEY_get_base_id (key) == EVP_PKEY_RSA)
    return "The certificate request's RSA key is too short (at least 2048 bits).";
  return "The certificate request's key type or curve is not supported (use P-256, P-384, "
         "P-521, Ed25519 or RSA of at least 2048 bits).";
}

static gboolean
spki_sha256 (EVP_PKEY *key, guint8 out[32])
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (key, &der);
  unsigned int md_len = 0;
  gboolean ok = len > 0 && EVP_Digest (der, (size_t) len, out, &md_len, EVP_sha256 (), NULL) == 1
                && md_len == 32;
  OPENSSL_free (der);
  return ok;
}

/* The CSR's key (owned), once the CSR proved possession of it and the
 * key is strong and new. */
static EVP_PKEY *
check_csr (SettleCeremonyServer *server, X509_REQ *req, GError **error)
{
  EVP_PKEY *key = X509_REQ_get_pubkey (req);
  if (key == NULL)
    {
      csr_error (error, "The certificate request holds no readable public key.");
      return NULL;
    }
  guint8 hash[32];
  if (X509_REQ_verify (req, key) != 1)
    csr_error (error, "The certificate request's signature does not verify.");
  else if (!key_is_supported (key))
    csr_error (error, key_refusal (key));
  else if (EVP_PKEY_eq (key, server->ca_key) == 1)
    csr_error (error, "The certificate request reuses the device's own key.");
  else if (!spki_sha256 (key, hash))
    csr_error (error, "Could not hash the certificate request's key.");
  else if (server->hooks.key_in_use != NULL && server->hooks.key_in_use (hash, server->hooks.user_data))
    csr_error (error, "The certificate request reuses a key that is already enrolled; make a fresh "
                      "key for each pairing.");
  else
    return key;
  EVP_PKEY_free (key);
  return NULL;
}

static X509_REQ *
parse_csr (GBytes *der, GError **error)
{
  gsize len = 0;
  const unsigned char *p = g_bytes_get_data (der, &len);
  const unsigned char *start = p;
  X509_REQ *req = d2i_X509_REQ (NULL, &p, (long) len);
  if (req == NULL || (gsize) (p - start) != len)
    {
      X509_REQ_free (req);
      csr_error (error, "The certificate request is not a single DER PKCS#10 request.");
      return NULL;
    }
  return req;
}

/* ---- issuing ---- */

/* The CSR's CN when it is short printable UTF-8, else a neutral one: the
 * subject is shown in browsers' certificate pickers. */
static char *
client_common_name (X509_REQ *req)
{
  X509_NAME *subject = X509_REQ_get_subject_name (req);
  int idx = subject != NULL ? X509_NAME_get_index_by_NID (subject, NID_commonName, -1) : -1;
  unsigned char *utf8 = NULL;
  int len = idx >= 0 ? ASN1_STRING_to_UTF8 (&utf8, X509_NAME_ENTRY_get_data (
                                                       X509_NAME_get_entry (subject, idx)))
                     : -1;
  gboolean usable = len > 0 && len <= CLIENT_CN_MAX && g_utf8_validate ((char *) utf8, len, NULL);
  for (int i = 0; usable && i < len; i++)
    usable = utf8[i] >= 0x20 && utf8[i] != 0x7f;
  char *cn = usable ? g_strndup ((char *) utf8, (gsize) len) : g_strdup (SETTLE_CLIENT_CSR_SUBJECT);
  OPENSSL_free (utf8);
  return cn;
}

static X509_NAME *
client_subject (const char *cn, const char *role, const char *device)
{
  X509_NAME *name = X509_NAME_new ();
  g_autofree char *org = g_strdup_printf ("%.48s clients", device);
  if (name == NULL
      || !X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const unsigned char *) org, -1, -1, 0)
      || !X509_NAME_add_entry_by_txt (name, "OU", MBSTRING_UTF8, (const unsigned char *) role, -1, -1, 0)
      || !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0))
    {
      X509_NAME_free (name);
      return NULL;
    }
  return name;
}

static X509 *
issue_client_cert (SettleCeremonyServer *server, X509_REQ *req, EVP_PKEY *key, const char *role,
                   GError **error)
{
  g_autofree char *cn = client_common_name (req);
  X509_NAME *subject = client_subject (cn, role, server->name);
  X509 *cert = X509_new ();
  gboolean ok = subject != NULL && cert != NULL && X509_set_version (cert, X509_VERSION_3)
                && settle_cert_set_random_serial (cert)
                && X509_set_issuer_name (cert, X509_get_subject_name (server->ca_cert))
                && X509_set_subject_name (cert, subject) && X509_set_pubkey (cert, key)
                && settle_cert_set_validity_days (cert, SETTLE_CEREMONY_SERVER_CERT_DAYS, server->ca_cert)
                && settle_cert_add_ext (cert, server->ca_cert, NID_basic_constraints, "critical,CA:FALSE")
                && settle_cert_add_ext (cert, server->ca_cert, NID_key_usage, "critical,digitalSignature")
                && settle_cert_add_ext (cert, server->ca_cert, NID_ext_key_usage, "clientAuth")
                && settle_cert_add_ext (cert, server->ca_cert, NID_subject_key_identifier, "hash")
                && settle_cert_add_ext (cert, server->ca_cert, NID_authority_key_identifier, "keyid,issuer")
                && X509_sign (cert, server->ca_key, EVP_sha256 ()) > 0;
  X509_NAME_free (subject);
  if (!ok)
    {
      X509_free (cert);
      csr_error (error, "The device could not issue the client certificate.");
      return NULL;
    }
  return cert;
}

X509 *
settle_ceremony_server_issue_client_cert (SettleCeremonyServer *server, X509_REQ *req, const char *role,
                                          GError **error)
{
  EVP_PKEY *key = check_csr (server, req, error);
  X509 *cert = key != NULL ? issue_client_cert (server, req, key, role, error) : NULL;
  EVP_PKEY_free (key);
  return cert;
}

/* ---- ENROL_REQUEST -> ENROL_RESPONSE ---- */

static SettleCeremonyMsg *
enrol_response_new (SettleCeremonyServer *server, X509 *cert, const char *role)
{
  SettleCeremonyMsg *msg = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  msg->enrol_response.cert_der = settle_cert_to_der (cert);
  for (int i = 0; i < sk_X509_num (server->chain); i++)
    g_ptr_array_add (msg->enrol_response.chain, settle_cert_to_der (sk_X509_value (server->chain, i)));
  char *names[] = { server->name, NULL };
  msg->enrol_response.names = g_strdupv (names);
  msg->enrol_response.role = g_strdup (role);
  if (server->referee_ca != NULL)
    {
      msg->enrol_response.referee_ca_der = settle_cert_to_der (server->referee_ca);
      msg->enrol_response.subtree = g_strdupv (server->referee_subtree);
    }
  /* Only ever after the client's confirmation: this message follows a
   * valid cA (schema/ceremony.md), so only the QR holder learns the key. */
  msg->enrol_response.has_discovery = server->has_discovery;
  if (server->has_discovery)
    memcpy (msg->enrol_response.discovery_key, server->discovery_key, sizeof server->discovery_key);
  msg->enrol_response.discovery_period = server->discovery_period;
  return msg;
}

/* Only for a helper that sent a nonce: a voucher is worth nothing without
 * one, and an older helper would not look at it. */
static void
attach_attestation (SettleCeremonyServer *server, GBytes *nonce, SettleCeremonyMsg *response)
{
  GPtrArray *idevid = NULL;
  GBytes *voucher = NULL;
  if (nonce == NULL || server->hooks.attest == NULL)
    return;
  if (!server->hooks.attest (nonce, server->name, server->ca_cert, &idevid, &voucher, server->hooks.user_data))
    return;
  response->enrol_response.idevid = idevid;
  response->enrol_response.voucher = voucher;
}

static char *
granted_role (SettleCeremonyServer *server, const char *requested)
{
  if (server->hooks.grant_role != NULL)
    return server->hooks.grant_role (requested, server->hooks.user_data);
  return g_strdup (DEFAULT_ROLE);
}

/* The pending enrolment becomes real only on COMMIT: the helper's user
 * reads the prompt now, so this one wait is longer than a network step
 * and outside the ceremony's total. */
static SettleCeremonyOutcome
await_commit (Ceremony *c, X509 *cert, const char *role, GError **error)
{
  SettleCeremonyServer *server = c->server;
  SettleCeremonyOutcome outcome;
  GError *local = NULL;
  c->step_timeout_ms = server->consent_timeout_ms;
  c->ends_at = g_get_monotonic_time () + (gint64) server->consent_timeout_ms * 1000;
  g_autoptr (SettleCeremonyMsg) commit = receive_expected (c, SETTLE_MSG_COMMIT, &outcome, &local);
  if (commit == NULL)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                   "No consent: the enrolment was discarded and nothing was stored (%s).",
                   local->message);
      g_error_free (local);
      return SETTLE_CEREMONY_OUTCOME_DECLINED;
    }
  c->step_timeout_ms = server->step_timeout_ms;
  if (server->hooks.record_enrolment != NULL
      && !server->hooks.record_enrolment (cert, role, settle_tls_peer_address_peek (c->conn),
                                          server->hooks.user_data, &local))
    return stop (c, SETTLE_CEREMONY_OUTCOME_FAILED, SETTLE_CEREMONY_ERR_INTERNAL,
                 "The device could not record the enrolment.", local, error);
  g_autoptr (SettleCeremonyMsg) committed = settle_ceremony_msg_new (SETTLE_MSG_COMMITTED);
  if (!settle_tls_send (c->conn, committed, error))
    {
      if (server->hooks.forget_enrolment != NULL)
        server->hooks.forget_enrolment (cert, server->hooks.user_data);
      return SETTLE_CEREMONY_OUTCOME_FAILED;
    }
  return SETTLE_CEREMONY_OUTCOME_ENROLLED;
}

/* ENROL_REQUEST -> ENROL_RESPONSE, then COMMIT -> COMMITTED.  *disclosed
 * tells whether ENROL_RESPONSE went out (which spends the secret). */
static SettleCeremonyOutcome
enrol (Ceremony *c, gboolean *disclosed, GError **error)
{
  SettleCeremonyServer *server = c->server;
  SettleCeremonyOutcome outcome;
  g_autoptr (SettleCeremonyMsg) request = receive_expected (c, SETTLE_MSG_ENROL_REQUEST, &outcome, error);
  if (request == NULL)
    return outcome;
  GError *local = NULL;
  g_autofree char *role = granted_role (server, request->enrol_request.role);
  if (role == NULL)
    {
      local = g_error_new (SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                           "The device refused to grant the role '%s'.", request->enrol_request.role);
      return stop (c, SETTLE_CEREMONY_OUTCOME_REFUSED, SETTLE_CEREMONY_ERR_ROLE_REFUSED,
                   "This device does not grant that role.", local, error);
    }
  X509_REQ *req = parse_csr (request->enrol_request.csr_der, &local);
  X509 *cert = req != NULL ? settle_ceremony_server_issue_client_cert (server, req, role, &local) : NULL;
  X509_REQ_free (req);
  if (cert == NULL)
    return stop (c, SETTLE_CEREMONY_OUTCOME_REFUSED, SETTLE_CEREMONY_ERR_CSR_REFUSED,
                 local->message, local, error);
  g_autoptr (SettleCeremonyMsg) response = enrol_response_new (server, cert, role);
  attach_attestation (server, request->enrol_request.nonce, response);
  *disclosed = settle_tls_send (c->conn, response, error);
  outcome = *disclosed ? await_commit (c, cert, role, error) : SETTLE_CEREMONY_OUTCOME_FAILED;
  X509_free (cert);
  return outcome;
}

static SettleCeremonyOutcome
run_ceremony (Ceremony *c, GError **error)
{
  SettleCeremonyOutcome outcome = SETTLE_CEREMONY_OUTCOME_FAILED;
  gboolean disclosed = FALSE;
  if (!answer_hello (c, &outcome, error) || !check_confirmation (c, &outcome, error))
    {
      if (!c->share_sent)
        return outcome;
      /* Whatever ended it, the peer saw cB without proving the secret. */
      count_failure (c->server);
      return SETTLE_CEREMONY_OUTCOME_AUTH_FAILED;
    }
  outcome = enrol (c, &disclosed, error);
  if (disclosed)
    {
      /* Spent, committed or not: the next helper (or the next try after
       * a "no") needs the next QR code. */
      g_autoptr (GError) local = NULL;
      if (!settle_ceremony_server_renew_secret (c->server, &local))
        g_warning ("%s", local->message);
    }
  return outcome;
}

SettleCeremonyOutcome
settle_ceremony_server_handle (SettleCeremonyServer *server, SettleTlsConn *conn, GError **error)
{
  Ceremony c = { .server = server, .conn = conn, .step_timeout_ms = server->step_timeout_ms };
  if (!g_mutex_trylock (&server->ceremony_lock))
    {
      settle_tls_set_timeout (conn, server->step_timeout_ms);
      GError *local = g_error_new_literal (SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                                           "Another pairing is in progress.");
      return stop (&c, SETTLE_CEREMONY_OUTCOME_BUSY, SETTLE_CEREMONY_ERR_BUSY,
                   "Another pairing is in progress; try again in a minute.", local, error);
    }
  c.ends_at = g_get_monotonic_time () + (gint64) SETTLE_CEREMONY_TOTAL_TIMEOUT_S * G_USEC_PER_SEC;
  SettleCeremonyOutcome outcome = run_ceremony (&c, error);
  settle_spake2_free (c.spake);
  g_mutex_unlock (&server->ceremony_lock);
  return outcome;
}
