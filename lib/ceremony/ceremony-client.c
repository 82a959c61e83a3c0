/* ceremony-client.c: the helper's state machine for the pairing ceremony
 * (role A).  See settle-ceremony-client.h for the steps and the errors. */
#include "settle-ceremony-client.h"
#include "settle-cert-build.h"

#include <stdarg.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "settle-ceremony-msg.h"
#include "settle-ceremony-tls.h"
#include "settle-cert.h"
#include "settle-endpoint.h"
#include "settle-error.h"
#include "settle-scope.h"
#include "settle-self-cert.h"
#include "settle-spake2.h"
#include "settle-store.h"
#include "settle-voucher.h"


typedef struct {
  const SettlePairRequest *request;
  guint timeout_ms;
  SettleTlsConn *conn;            /* owned */
  char *device_name;              /* owned: identity B */
  SettleSpake2 *spake2;           /* owned */
  char *sas;                      /* owned */
  EVP_PKEY *client_key;           /* owned */
  SettleCeremonyMsg *enrolment;   /* owned: the ENROL_RESPONSE */
  GBytes *nonce;                  /* owned: the voucher nonce sent in ENROL_REQUEST */
} PairRun;

static void
pair_run_clear (PairRun *run)
{
  settle_tls_close (run->conn);
  g_free (run->device_name);
  settle_spake2_free (run->spake2);
  g_free (run->sas);
  EVP_PKEY_free (run->client_key);
  settle_ceremony_msg_free (run->enrolment);
  g_clear_pointer (&run->nonce, g_bytes_unref);
}

static void
report (const PairRun *run, SettlePairStep step, gboolean finished, const char *detail)
{
  if (run->request->progress != NULL)
    run->request->progress (step, finished, detail, run->request->progress_data);
}

static gboolean
fail (GError **error, SettleErrorCode code, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, SettleErrorCode code, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SETTLE_ERROR, code, message);
  return FALSE;
}

const char *
settle_pair_step_describe (SettlePairStep step)
{
  switch (step)
    {
    case SETTLE_PAIR_STEP_CONNECT: return "connecting to the device (TLS 1.3)";
    case SETTLE_PAIR_STEP_PIN: return "checking the device's key against the QR code";
    case SETTLE_PAIR_STEP_PROVE: return "proving the pairing code (SPAKE2)";
    case SETTLE_PAIR_STEP_ENROL: return "enrolling a new client key";
    case SETTLE_PAIR_STEP_CHECK: return "checking the device's names and certificates";
    case SETTLE_PAIR_STEP_COMMIT: return "asking the device to store the enrolment";
    }
  return "?";
}

void
settle_pair_result_free (SettlePairResult *result)
{
  if (result == NULL)
    return;
  g_free (result->device_name);
  g_strfreev (result->names);
  g_strfreev (result->unverified_names);
  g_free (result->role);
  X509_free (result->anchor);
  X509_free (result->server_leaf);
  X509_free (result->client_cert);
  X509_free (result->referee_ca);
  g_strfreev (result->referee_subtree);
  settle_secure_bytes_free (result->client_key_pem);
  g_free (result->sas);
  g_clear_pointer (&result->idevid, g_ptr_array_unref);
  g_clear_pointer (&result->voucher, g_bytes_unref);
  g_clear_pointer (&result->voucher_nonce, g_bytes_unref);
  OPENSSL_cleanse (result->discovery_key, sizeof result->discovery_key);
  g_free (result);
}

/* ---- connect ---- */

static char *
address_text (const char *host, guint16 port)
{
  return strchr (host, ':') != NULL ? g_strdup_printf ("[%s]:%u", host, (unsigned) port)
                                    : g_strdup_printf ("%s:%u", host, (unsigned) port);
}

static const char *
server_name_for_sni (const PairRun *run)
{
  const SettleQrPayload *payload = run->request->payload;

  return payload->name != NULL ? payload->name : payload->host;
}

/* The address hint may be stale (DHCP), so the name is tried next, but
 * only when the hint failed quickly: after a timeout, a second attempt
 * would double the wait the user allowed. */
static gboolean
should_try_name (const PairRun *run, gint64 started_us)
{
  const SettleQrPayload *payload = run->request->payload;
  gint64 spent_ms = (g_get_monotonic_time () - started_us) / 1000;

  return payload->name != NULL && g_ascii_strcasecmp (payload->name, payload->host) != 0
         && spent_ms < (gint64) run->timeout_ms / 2;
}

static void
notice (const PairRun *run, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
notice (const PairRun *run, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  if (run->request->notice == NULL)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  run->request->notice (text, run->request->notice_data);
}

/* Where to look for a device whose payload has no address (A): an owned
 * list of SettleEndpoint, in the order to try (schema/qr-payload.md, "A
 * payload without an address"): first what the request's locate callback
 * finds (the manager's DNS-SD browse, lib/discovery/: the SRV port of
 * each _settle._tcp instance whose target host is the name, on the
 * addresses avahi resolved), then the name itself through the system
 * resolver (libnss-mdns for .local) on the default port.  Discovery only
 * says where to knock: every endpoint must pass the pin check. */
static GPtrArray *
endpoints_for_name (const PairRun *run, char **note)
{
  const SettleQrPayload *payload = run->request->payload;
  GPtrArray *endpoints = NULL;

  *note = NULL;
  if (run->request->locate != NULL)
    endpoints = run->request->locate (payload->name, run->timeout_ms, run->request->locate_data, note);
  if (endpoints == NULL)
    endpoints = g_ptr_array_new_with_free_func ((GDestroyNotify) settle_endpoint_free);
  if (*note != NULL)
    notice (run, "%s", *note);
  g_ptr_array_add (endpoints, settle_endpoint_new (payload->name, SETTLE_ENDPOINT_DEFAULT_PORT,
                                                   SETTLE_ENDPOINT_NAME));
  return endpoints;
}

static gboolean
key_matches (const PairRun *run)
{
  g_autoptr (GBytes) spki = settle_tls_peer_spki (run->conn);
  gsize len = 0;
  const guint8 *der = spki != NULL ? g_bytes_get_data (spki, &len) : NULL;

  return !run->request->pinned
         || (der != NULL && len > 0 && settle_qr_payload_spki_matches (run->request->payload, der, len));
}

/* A payload without an address: each endpoint in turn, within the one
 * timeout each, until one answers with the key of the QR code (a rogue
 * advertising the name with its own port is skipped, told, not fatal
 * while others remain); the error names the device and what was tried. */
static gboolean
connect_by_name (PairRun *run, GError **error)
{
  const SettleQrPayload *payload = run->request->payload;
  g_autoptr (GPtrArray) endpoints = NULL;
  g_autoptr (GError) last_error = NULL;
  g_autoptr (GString) tried = g_string_new (NULL);
  g_autofree char *looking = NULL;
  g_autofree char *wrong_key = NULL;
  g_autofree char *note = NULL;

  if (payload->name == NULL)
    return fail (error, SETTLE_ERROR_FORMAT,
                 "The pairing code has neither an address nor a device name, so the device "
                 "cannot be found.");
  looking = g_strdup_printf ("%s on the local network", payload->name);
  report (run, SETTLE_PAIR_STEP_CONNECT, FALSE, looking);
  endpoints = endpoints_for_name (run, &note);
  for (guint i = 0; i < endpoints->len && run->conn == NULL; i++)
    {
      const SettleEndpoint *at = g_ptr_array_index (endpoints, i);
      g_autofree char *where = settle_endpoint_to_string (at);
      gboolean discovered = at->source == SETTLE_ENDPOINT_DISCOVERED;

      g_string_append_printf (tried, "%s%s%s", tried->len > 0 ? ", " : "", where,
                              discovered ? " (DNS-SD)" : "");
      g_clear_error (&last_error);
      run->conn = settle_tls_connect (at->host, at->port, payload->name, run->timeout_ms, &last_error);
      if (run->conn != NULL && !key_matches (run))
        {
          g_free (wrong_key);
          wrong_key = g_strdup (where);
          settle_tls_close (run->conn);
          run->conn = NULL;
          if (i + 1 < endpoints->len)
            notice (run, "Skipped %s%s: it does not have the key named in the QR code (an impostor, or "
                         "another device); trying the next.", where, discovered ? ", found by DNS-SD" : "");
          continue;
        }
      if (run->conn != NULL)
        {
          /* Recorded as where the device answered: its name and the port
           * it answered on (the address was only how avahi resolved it). */
          g_autofree char *answered = discovered ? settle_endpoint_format (payload->name, at->port)
                                                 : settle_endpoint_to_string (at);
          report (run, SETTLE_PAIR_STEP_CONNECT, TRUE, answered);
        }
    }
  if (run->conn != NULL)
    return TRUE;
  if (wrong_key != NULL)
    return fail (error, SETTLE_ERROR_AUTH,
                 "The device at %s does not have the key named in the QR code, so nothing was sent "
                 "to it: it may be an impostor (evil twin) on the network, or the QR code belongs "
                 "to another device (tried %s%s%s).", wrong_key, tried->str, note != NULL ? "; " : "",
                 note != NULL ? note : "");
  return fail (error, last_error != NULL ? last_error->code : SETTLE_ERROR_NETWORK,
               "%s was not found on the local network: %s (tried %s%s%s)", payload->name,
               last_error != NULL ? last_error->message : "nothing to try.", tried->str,
               note != NULL ? "; " : "", note != NULL ? note : "");
}

static gboolean
step_connect (PairRun *run, GError **error)
{
  const SettleQrPayload *payload = run->request->payload;

  if (payload->host == NULL)
    return connect_by_name (run, error);

  g_autofree char *hint = address_text (payload->host, payload->port);
  g_autoptr (GError) hint_error = NULL;
  gint64 started = g_get_monotonic_time ();
  const char *answered = hint;
  g_autofree char *by_name = NULL;

  report (run, SETTLE_PAIR_STEP_CONNECT, FALSE, hint);
  run->conn = settle_tls_connect (payload->host, payload->port, server_name_for_sni (run),
                                  run->timeout_ms, &hint_error);
  if (run->conn == NULL && should_try_name (run, started))
    {
      g_autoptr (GError) name_error = NULL;
      run->conn = settle_tls_connect (payload->name, payload->port, payload->name, run->timeout_ms,
                                      &name_error);
      if (run->conn == NULL)
        return fail (error, hint_error->code, "%s Its name %s did not answer either: %s",
                     hint_error->message, payload->name, name_error->message);
      answered = by_name = address_text (payload->name, payload->port);
    }
  if (run->conn == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&hint_error));
      return FALSE;
    }
  report (run, SETTLE_PAIR_STEP_CONNECT, TRUE, answered);
  return TRUE;
}

/* ---- pin ---- */

/* A typed code has no name in it unless the user gave one: the device's
 * certificate then names it, and SPAKE2 binds that name (identity B), so
 * a device without the secret cannot make it stick. */
static char *
name_from_certificate (X509 *leaf, GError **error)
{
  g_auto (GStrv) names = leaf != NULL ? settle_cert_dns_names (leaf) : NULL;

  for (char **n = names; n != NULL && *n != NULL; n++)
    {
      char *canonical = settle_name_normalize (*n, FALSE, NULL);
      if (canonical != NULL)
        return canonical;
    }
  fail (error, SETTLE_ERROR_SCOPE,
        "The device's certificate names no host below .local, home.arpa or .alt, so it cannot "
        "be paired; give its name with --name.");
  return NULL;
}

static gboolean
choose_device_name (PairRun *run, GError **error)
{
  const SettleQrPayload *payload = run->request->payload;

  if (payload->name != NULL)
    run->device_name = settle_name_normalize (payload->name, FALSE, error);
  else
    run->device_name = name_from_certificate (settle_tls_peer_leaf_peek (run->conn), error);
  return run->device_name != NULL;
}

static gboolean
step_pin (PairRun *run, GError **error)
{
  g_autoptr (GBytes) spki = settle_tls_peer_spki (run->conn);
  gsize len = 0;
  const guint8 *der = spki != NULL ? g_bytes_get_data (spki, &len) : NULL;

  report (run, SETTLE_PAIR_STEP_PIN, FALSE, NULL);
  if (der == NULL || len == 0)
    return fail (error, SETTLE_ERROR_PROTOCOL, "The device showed no certificate in the TLS handshake.");
  if (run->request->pinned && !settle_qr_payload_spki_matches (run->request->payload, der, len))
    return fail (error, SETTLE_ERROR_AUTH,
                 "The device at %s does not have the key named in the QR code, so nothing was sent "
                 "to it: it may be an impostor (evil twin) on the network, or the QR code belongs "
                 "to another device.", settle_tls_peer_address_peek (run->conn));
  if (!choose_device_name (run, error))
    return FALSE;
  report (run, SETTLE_PAIR_STEP_PIN, TRUE,
          run->request->pinned ? "the key matches the QR code"
                               : "no key to compare (typed code): the code's proof is the only check");
  return TRUE;
}

/* ---- messages ---- */

/* Tells the device why we stop; best effort, as the connection may be
 * what failed. */
static void
send_error_best_effort (PairRun *run, SettleCeremonyErrorCode code, const char *text)
{
  g_autoptr (SettleCeremonyMsg) msg = settle_ceremony_msg_new_error (code, text);

  settle_tls_send (run->conn, msg, NULL);
}

static const char *
peer_text (const SettleCeremonyMsg *msg)
{
  return msg->error.text != NULL && *msg->error.text != '\0' ? msg->error.text : "no reason given";
}

/* The device's ERROR message as a sentence the user can act on. */
static gboolean
fail_with_device_error (const PairRun *run, const SettleCeremonyMsg *msg, GError **error)
{
  const char *text = peer_text (msg);

  switch (msg->error.code)
    {
    case SETTLE_CEREMONY_ERR_AUTH_FAILED:
      return fail (error, SETTLE_ERROR_AUTH,
                   "The device says the pairing code does not match: the code is wrong, or the "
                   "connection is being relayed through another machine.");
    case SETTLE_CEREMONY_ERR_ROLE_REFUSED:
      return fail (error, SETTLE_ERROR_REFUSED, "The device refused to enrol this computer as '%s': %s",
                   run->request->role != NULL ? run->request->role : SETTLE_PAIR_ROLE_DEFAULT, text);
    case SETTLE_CEREMONY_ERR_BUSY:
      return fail (error, SETTLE_ERROR_REFUSED,
                   "The device refused: it is pairing with someone else or stopped accepting this "
                   "code after failed attempts; wait for a new QR code and try again (%s).", text);
    case SETTLE_CEREMONY_ERR_CSR_REFUSED:
      return fail (error, SETTLE_ERROR_CERT, "The device refused this computer's certificate request: %s",
                   text);
    case SETTLE_CEREMONY_ERR_TIMEOUT:
      return fail (error, SETTLE_ERROR_NETWORK, "The device gave up waiting for this computer: %s", text);
    case SETTLE_CEREMONY_ERR_UNSUPPORTED:
      return fail (error, SETTLE_ERROR_PROTOCOL,
                   "The device does not support this version of the pairing protocol: %s", text);
    default:
      return fail (error, SETTLE_ERROR_PROTOCOL, "The device ended the pairing (error %u): %s",
                   msg->error.code, text);
    }
}

/* The next message, which must be `expected`; anything else ends the run
 * with an error naming what went wrong. */
static SettleCeremonyMsg *
receive_expected (PairRun *run, SettleMsgType expected, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SettleCeremonyMsg) msg = settle_tls_receive (run->conn, &local_error);

  if (msg == NULL)
    {
      if (g_error_matches (local_error, SETTLE_ERROR, SETTLE_ERROR_FORMAT))
        {
          send_error_best_effort (run, SETTLE_CEREMONY_ERR_MALFORMED, "malformed message");
          fail (error, SETTLE_ERROR_FORMAT, "The device sent a broken message where %s was expected: %s",
                settle_ceremony_msg_type_name (expected), local_error->message);
        }
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (msg->type == SETTLE_MSG_ERROR)
    {
      fail_with_device_error (run, msg, error);
      return NULL;
    }
  if (!settle_ceremony_msg_expect (msg, expected, error))
    {
      send_error_best_effort (run, SETTLE_CEREMONY_ERR_UNEXPECTED, "unexpected message");
      return NULL;
    }
  return g_steal_pointer (&msg);
}

/* ---- prove: SPAKE2 with key confirmation both ways ---- */

static gboolean
start_spake2 (PairRun *run, GError **error)
{
  const SettleQrPayload *payload = run->request->payload;
  guint8 aad[SETTLE_TLS_EXPORTER_LEN];

  if (!settle_tls_exporter (run->conn, aad, error))
    return FALSE;
  run->spake2 = settle_spake2_new (SETTLE_SPAKE2_ROLE_A, SETTLE_SPAKE2_ID_CLIENT, run->device_name,
                                   payload->secret, payload->secret_len, aad, sizeof aad, error);
  OPENSSL_cleanse (aad, sizeof aad);
  return run->spake2 != NULL;
}

static gboolean
send_client_hello (PairRun *run, GError **error)
{
  g_autoptr (SettleCeremonyMsg) hello = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_HELLO);

  hello->client_hello.version = SETTLE_CEREMONY_VERSION;
  hello->client_hello.suite = run->request->payload->suite;
  settle_spake2_get_share (run->spake2, hello->client_hello.share);
  return settle_tls_send (run->conn, hello, error);
}

static gboolean
fail_wrong_code (const PairRun *run, GError **error)
{
  if (run->request->pinned)
    return fail (error, SETTLE_ERROR_AUTH,
                 "The device did not prove that it knows the pairing code: the code was altered or "
                 "belongs to another pairing window, or the connection is being relayed.");
  return fail (error, SETTLE_ERROR_AUTH,
               "The device did not prove that it knows the pairing code: the code was mistyped, the "
               "device is not %s, or the connection is being relayed.", run->device_name);
}

/* B confirms first (schema/ceremony.md): cB is checked before we disclose
 * anything of our own. */
static gboolean
check_server_share (PairRun *run, const SettleCeremonyMsg *share, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!settle_spake2_process_peer_share (run->spake2, share->server_share.share,
                                         sizeof share->server_share.share, &local_error))
    {
      send_error_best_effort (run, SETTLE_CEREMONY_ERR_MALFORMED, "invalid share");
      return fail (error, SETTLE_ERROR_PROTOCOL, "The device sent an invalid SPAKE2 share: %s",
                   local_error->message);
    }
  if (!settle_spake2_verify_peer_confirmation (run->spake2, share->server_share.confirm,
                                               sizeof share->server_share.confirm, &local_error))
    {
      /* Code 4 and nothing more: the text must not help an attacker. */
      send_error_best_effort (run, SETTLE_CEREMONY_ERR_AUTH_FAILED, "");
      return fail_wrong_code (run, error);
    }
  return TRUE;
}

static gboolean
send_client_confirm (PairRun *run, GError **error)
{
  g_autoptr (SettleCeremonyMsg) confirm = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_CONFIRM);
  gboolean sent;

  if (!settle_spake2_get_confirmation (run->spake2, confirm->client_confirm.confirm, error))
    return FALSE;
  sent = settle_tls_send (run->conn, confirm, error);
  OPENSSL_cleanse (confirm->client_confirm.confirm, sizeof confirm->client_confirm.confirm);
  return sent;
}

static gboolean
step_prove (PairRun *run, GError **error)
{
  g_autoptr (SettleCeremonyMsg) share = NULL;
  g_autofree char *detail = NULL;

  report (run, SETTLE_PAIR_STEP_PROVE, FALSE, NULL);
  if (!start_spake2 (run, error) || !send_client_hello (run, error))
    return FALSE;
  share = receive_expected (run, SETTLE_MSG_SERVER_SHARE, error);
  if (share == NULL || !check_server_share (run, share, error) || !send_client_confirm (run, error))
    return FALSE;
  run->sas = settle_spake2_short_auth_string (run->spake2, error);
  if (run->sas == NULL)
    return FALSE;
  detail = g_strdup_printf ("confirmed both ways; check code %s", run->sas);
  report (run, SETTLE_PAIR_STEP_PROVE, TRUE, detail);
  return TRUE;
}

/* ---- enrol: a fresh key for this device alone ---- */

static gboolean
send_enrol_request (PairRun *run, const char *role, GError **error)
{
  g_autoptr (SettleCeremonyMsg) request = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);

  run->client_key = settle_client_key_new (error);
  if (run->client_key == NULL)
    return FALSE;
  request->enrol_request.csr_der = settle_client_csr_der (run->client_key, error);
  if (request->enrol_request.csr_der == NULL)
    return FALSE;
  request->enrol_request.role = g_strdup (role);
  /* A fresh nonce for a voucher (schema/voucher.md): a device with a
   * manufacturer identity signs it, so an old voucher cannot be replayed. */
  guint8 nonce[SETTLE_VOUCHER_NONCE_LEN];
  if (RAND_bytes (nonce, sizeof nonce) != 1)
    return fail (error, SETTLE_ERROR_FAILED, "No random bytes for the voucher nonce.");
  run->nonce = g_bytes_new (nonce, sizeof nonce);
  request->enrol_request.nonce = g_bytes_ref (run->nonce);
  return settle_tls_send (run->conn, request, error);
}

static gboolean
step_enrol (PairRun *run, GError **error)
{
  const char *role = run->request->role != NULL ? run->request->role : SETTLE_PAIR_ROLE_DEFAULT;
  g_autofree char *detail = NULL;

  report (run, SETTLE_PAIR_STEP_ENROL, FALSE, role);
  if (!send_enrol_request (run, role, error))
    return FALSE;
  run->enrolment = receive_expected (run, SETTLE_MSG_ENROL_RESPONSE, error);
  if (run->enrolment == NULL)
    return FALSE;
  detail = g_strdup_printf ("granted role %s", run->enrolment->enrol_response.role);
  report (run, SETTLE_PAIR_STEP_ENROL, TRUE, detail);
  return TRUE;
}

/* ---- check what the device returned ---- */

static X509 *
parse_returned_cert (GBytes *der, const char *what, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  X509 *cert = settle_cert_parse (g_bytes_get_data (der, NULL), g_bytes_get_size (der), &local_error);

  if (cert == NULL)
    fail (error, SETTLE_ERROR_CERT, "The device returned an unreadable %s: %s", what,
          local_error->message);
  return cert;
}

static gboolean
check_client_cert (PairRun *run, SettlePairResult *result, GError **error)
{
  result->client_cert = parse_returned_cert (run->enrolment->enrol_response.cert_der,
                                             "client certificate", error);
  if (result->client_cert == NULL)
    return FALSE;
  if (EVP_PKEY_eq (X509_get0_pubkey (result->client_cert), run->client_key) != 1)
    return fail (error, SETTLE_ERROR_CERT,
                 "The device issued the client certificate for another key than the one this "
                 "computer asked for.");
  return TRUE;
}

/* Canonical, deduplicated names; one outside the namespaces refuses all. */
static char **
checked_names (char **claimed, GError **error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (char **n = claimed; n != NULL && *n != NULL; n++)
    {
      g_autoptr (GError) local_error = NULL;
      char *canonical = settle_name_normalize (*n, FALSE, &local_error);
      if (canonical == NULL)
        {
          fail (error, SETTLE_ERROR_SCOPE,
                "The device claims a name outside .local, home.arpa and .alt, so the pairing was "
                "refused: %s", local_error->message);
          return NULL;
        }
      if (g_hash_table_add (seen, canonical))
        g_strv_builder_add (builder, canonical);
    }
  return g_strv_builder_end (builder);
}

/* Only identity B is authenticated (SPAKE2 bound it); every other name
 * the device claims goes apart, as unverified, for the user to judge. */
static void
split_names (SettlePairResult *result, const char *device_name, char **claimed)
{
  g_autoptr (GStrvBuilder) unverified = g_strv_builder_new ();
  for (char **n = claimed; n != NULL && *n != NULL; n++)
    if (strcmp (*n, device_name) != 0)
      g_strv_builder_add (unverified, *n);
  g_strfreev (result->names);
  g_strfreev (result->unverified_names);
  const char *authenticated[] = { device_name, NULL };
  result->names = g_strdupv ((char **) authenticated);
  result->unverified_names = g_strv_builder_end (unverified);
}

static gboolean
check_names (PairRun *run, SettlePairResult *result, GError **error)
{
  g_auto (GStrv) names = checked_names (run->enrolment->enrol_response.names, error);

  if (names == NULL)
    return FALSE;
  if (!g_strv_contains ((const char *const *) names, run->device_name))
    return fail (error, SETTLE_ERROR_SCOPE,
                 "The device did not list its own name %s among the names it serves.",
                 run->device_name);
  split_names (result, run->device_name, names);
  return TRUE;
}

static STACK_OF (X509) *
parse_chain (PairRun *run, GError **error)
{
  GPtrArray *chain = run->enrolment->enrol_response.chain;
  STACK_OF (X509) *certs = sk_X509_new_null ();

  for (guint i = 0; chain != NULL && i < chain->len; i++)
    {
      X509 *cert = parse_returned_cert (g_ptr_array_index (chain, i), "CA certificate", error);
      if (cert == NULL || sk_X509_push (certs, cert) <= 0)
        {
          X509_free (cert);
          sk_X509_pop_free (certs, X509_free);
          return NULL;
        }
    }
  if (sk_X509_num (certs) == 0)
    {
      sk_X509_pop_free (certs, X509_free);
      fail (error, SETTLE_ERROR_CERT, "The device returned no CA certificate.");
      return NULL;
    }
  return certs;
}

/* TRUE when the TLS leaf verifies up to `ca`, with the other returned
 * certificates and whatever the handshake sent as intermediates.  The CA
 * need not be self-signed (after a rotation it is cross-signed by the old
 * one), hence a partial chain. */
static gboolean
leaf_chains_to (X509 *leaf, X509 *ca, STACK_OF (X509) *returned, STACK_OF (X509) *sent)
{
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  STACK_OF (X509) *untrusted = sk_X509_new_null ();
  gboolean ok = FALSE;

  for (int i = 0; i < sk_X509_num (returned); i++)
    sk_X509_push (untrusted, sk_X509_value (returned, i));
  for (int i = 0; sent != NULL && i < sk_X509_num (sent); i++)
    sk_X509_push (untrusted, sk_X509_value (sent, i));
  if (store != NULL && ctx != NULL && untrusted != NULL && X509_STORE_add_cert (store, ca) == 1
      && X509_STORE_CTX_init (ctx, store, leaf, untrusted) == 1)
    {
      X509_VERIFY_PARAM_set_flags (X509_STORE_CTX_get0_param (ctx), X509_V_FLAG_PARTIAL_CHAIN);
      X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
      ok = X509_verify_cert (ctx) == 1;
    }
  sk_X509_free (untrusted);  /* borrowed entries */
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  return ok;
}

/* A pinned peer is trusted for its authenticated name; the other names
 * its certificate carries are unverified, like the device's own list. */
static gboolean
use_leaf_as_anchor (SettlePairResult *result, const char *device_name, X509 *leaf, GError **error)
{
  g_auto (GStrv) sans = NULL;
  g_auto (GStrv) leaf_names = NULL;

  if (!settle_peer_check (leaf, error))
    return FALSE;
  sans = settle_cert_dns_names (leaf);
  leaf_names = checked_names (sans, error);
  if (leaf_names == NULL)
    return FALSE;
  split_names (result, device_name, leaf_names);
  result->pinned_peer = TRUE;
  result->anchor = X509_dup (leaf);
  return TRUE;
}

/* A self-certifying device name (settle-self-cert.h) names the key of
 * the device's CA: the CA it returned must hash to the name, or the
 * pairing is refused before COMMIT (the device then discards the pending
 * enrolment, and nothing is stored here).  An ordinary name passes. */
static gboolean
check_self_certifying (PairRun *run, X509 *ca, GError **error)
{
  uint8_t named[SETTLE_SELF_CERT_HASH_BYTES], presented[SETTLE_SELF_CERT_HASH_BYTES];
  char named_text[SETTLE_SELF_CERT_HASH_CHARS + 1], presented_text[SETTLE_SELF_CERT_HASH_CHARS + 1];
  settle_self_cert_verdict verdict = settle_self_cert_parse (run->device_name, strlen (run->device_name), named);

  if (verdict == SETTLE_SELF_CERT_NONE)
    return TRUE;
  if (verdict != SETTLE_SELF_CERT_OK)
    return fail (error, SETTLE_ERROR_SCOPE, "The device name %s %s, so the pairing was refused.",
                 run->device_name, settle_self_cert_explain (verdict));
  if (!settle_self_cert_hash_cert (ca, presented))
    return fail (error, SETTLE_ERROR_CERT, "The device's CA key cannot be read, so %s cannot be checked.",
                 run->device_name);
  if (CRYPTO_memcmp (named, presented, sizeof named) == 0)
    return TRUE;
  settle_self_cert_encode (named, named_text);
  settle_self_cert_encode (presented, presented_text);
  send_error_best_effort (run, SETTLE_CEREMONY_ERR_AUTH_FAILED, "The device name names another key.");
  return fail (error, SETTLE_ERROR_AUTH,
               "%s names a different key than the device presented: the name is self-certifying and "
               "carries the key hash %s, but the device's CA key hashes to %s. This is not the device "
               "the name belongs to (or its CA was replaced), so nothing was stored.",
               run->device_name, named_text, presented_text);
}

static gboolean
check_anchor (PairRun *run, SettlePairResult *result, GError **error)
{
  X509 *leaf = settle_tls_peer_leaf_peek (run->conn);
  STACK_OF (X509) *chain = parse_chain (run, error);
  gboolean ok = TRUE;

  if (chain == NULL)
    return FALSE;
  X509 *ca = sk_X509_value (chain, sk_X509_num (chain) - 1);
  /* The CA is checked before the leaf may fall back to being pinned: a
   * device whose "CA" is no CA at all (so that nothing chains to it) sent
   * a broken enrolment and must not be stored as a pinned peer instead. */
  if (!settle_ca_check (ca, error))
    {
      g_prefix_error (error, "The device returned a CA certificate that cannot be used: ");
      ok = FALSE;
    }
  else if (!check_self_certifying (run, ca, error))
    ok = FALSE;
  else if (X509_check_host (leaf, run->device_name, 0, 0, NULL) != 1)
    ok = fail (error, SETTLE_ERROR_CERT, "The device's TLS certificate is not valid for its name %s.",
               run->device_name);
  else if (leaf_chains_to (leaf, ca, chain, settle_tls_peer_chain_peek (run->conn)))
    result->anchor = X509_dup (ca);
  /* The name certifies the CA's key only: a leaf that does not chain to
   * that CA cannot be pinned in its place. */
  else if (settle_self_cert_parse (run->device_name, strlen (run->device_name), NULL) == SETTLE_SELF_CERT_OK)
    ok = fail (error, SETTLE_ERROR_CERT,
               "The device's TLS certificate does not chain to the CA that its self-certifying name %s "
               "names, so nothing was stored.", run->device_name);
  else
    ok = use_leaf_as_anchor (result, run->device_name, leaf, error);
  if (ok)
    result->server_leaf = X509_dup (leaf);
  sk_X509_pop_free (chain, X509_free);
  return ok;
}

/* A referee's pairing front (Track B) also sends the CA it issues with
 * and the subtrees it declares.  They arrive on the channel the QR code's
 * key hash pinned and SPAKE2 confirmed, which is what authenticates them;
 * here they are only checked to be a usable CA and subtrees inside the
 * local namespaces.  Whether a whole namespace may be trusted is the
 * caller's question (settle_scope_approve_referee). */
static gboolean
check_referee (PairRun *run, SettlePairResult *result, GError **error)
{
  GBytes *ca_der = run->enrolment->enrol_response.referee_ca_der;
  g_autoptr (GStrvBuilder) subtree = g_strv_builder_new ();

  if (ca_der == NULL)
    return TRUE;
  result->referee_ca = parse_returned_cert (ca_der, "referee CA certificate", error);
  if (result->referee_ca == NULL)
    return FALSE;
  if (!settle_ca_check (result->referee_ca, error))
    {
      g_prefix_error (error, "The referee's CA certificate cannot be used: ");
      return FALSE;
    }
  for (char **s = run->enrolment->enrol_response.subtree; s != NULL && *s != NULL; s++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autofree char *canonical = settle_scope_normalize (*s, &local_error);
      if (canonical == NULL)
        return fail (error, SETTLE_ERROR_SCOPE,
                     "The referee declares a subtree outside .local, home.arpa and .alt, so the "
                     "pairing was refused: %s", local_error->message);
      g_strv_builder_add (subtree, canonical);
    }
  result->referee_subtree = g_strv_builder_end (subtree);
  return TRUE;
}

static gboolean
step_check (PairRun *run, SettlePairResult *result, GError **error)
{
  g_autofree char *names = NULL;
  g_autofree char *detail = NULL;

  report (run, SETTLE_PAIR_STEP_CHECK, FALSE, NULL);
  if (!check_client_cert (run, result, error) || !check_names (run, result, error)
      || !check_anchor (run, result, error) || !check_referee (run, result, error))
    return FALSE;
  result->client_key_pem = settle_private_key_pem (run->client_key, error);
  if (result->client_key_pem == NULL)
    return FALSE;
  result->device_name = g_strdup (run->device_name);
  result->role = g_strdup (run->enrolment->enrol_response.role);
  result->sas = g_strdup (run->sas);
  /* Handed on unchecked: only the manager knows the manufacturer anchors
   * (settle-manufacturer.h). */
  if (run->enrolment->enrol_response.voucher != NULL)
    {
      result->idevid = g_ptr_array_ref (run->enrolment->enrol_response.idevid);
      result->voucher = g_bytes_ref (run->enrolment->enrol_response.voucher);
    }
  result->voucher_nonce = g_bytes_ref (run->nonce);
  /* Portable mode: what recognises the device's rotating names later. */
  result->has_discovery = run->enrolment->enrol_response.has_discovery;
  memcpy (result->discovery_key, run->enrolment->enrol_response.discovery_key, sizeof result->discovery_key);
  result->discovery_period = run->enrolment->enrol_response.discovery_period;
  names = g_strjoinv (", ", result->names);
  if (result->referee_ca != NULL)
    {
      g_autofree char *subtree = g_strjoinv (", ", result->referee_subtree);
      detail = g_strdup_printf ("%s is a referee; its CA would vouch for every name under %s", names, subtree);
    }
  else
    detail = g_strdup_printf ("%s%s; %s", names,
                              result->unverified_names[0] != NULL ? " (and unverified claims)" : "",
                              result->pinned_peer ? "its certificate is pinned (it does not chain to its CA)"
                                                  : "its CA will be trusted for these names only");
  report (run, SETTLE_PAIR_STEP_CHECK, TRUE, detail);
  return TRUE;
}

/* ---- consent, then commit ---- */

static gboolean
ask_consent (PairRun *run, const SettlePairResult *result, GError **error)
{
  if (run->request->consent == NULL || run->request->consent (result, run->request->consent_data, error))
    return TRUE;
  /* The device discards the pending enrolment; this only says why. */
  send_error_best_effort (run, SETTLE_CEREMONY_ERR_DECLINED,
                          error != NULL && g_error_matches (*error, SETTLE_ERROR, SETTLE_ERROR_VOUCHER)
                            ? "The helper refused this device's manufacturer voucher."
                            : "The user did not consent.");
  if (error != NULL && *error == NULL)
    fail (error, SETTLE_ERROR_REFUSED, "You did not consent, so nothing was changed.");
  return FALSE;
}

static gboolean
step_commit (PairRun *run, GError **error)
{
  g_autoptr (SettleCeremonyMsg) commit = settle_ceremony_msg_new (SETTLE_MSG_COMMIT);
  g_autoptr (SettleCeremonyMsg) committed = NULL;

  report (run, SETTLE_PAIR_STEP_COMMIT, FALSE, NULL);
  if (!settle_tls_send (run->conn, commit, error))
    return FALSE;
  committed = receive_expected (run, SETTLE_MSG_COMMITTED, error);
  if (committed == NULL)
    {
      /* A network error here is most often an answer that came too late. */
      if (error != NULL && g_error_matches (*error, SETTLE_ERROR, SETTLE_ERROR_NETWORK))
        g_prefix_error (error, "The device did not confirm that it stored the enrolment (it waits "
                               "%d s for your answer): ", SETTLE_CEREMONY_CONSENT_TIMEOUT_S);
      else
        g_prefix_error (error, "The device did not confirm that it stored the enrolment: ");
      return FALSE;
    }
  report (run, SETTLE_PAIR_STEP_COMMIT, TRUE, "stored");
  return TRUE;
}

/* ---- the whole run ---- */

SettlePairResult *
settle_pair_run (const SettlePairRequest *request, GError **error)
{
  PairRun run = { 0 };
  g_autoptr (SettlePairResult) result = g_new0 (SettlePairResult, 1);
  gboolean ok;

  g_return_val_if_fail (request != NULL && request->payload != NULL, NULL);
  run.request = request;
  run.timeout_ms = request->timeout_ms > 0 ? request->timeout_ms : SETTLE_TLS_DEFAULT_TIMEOUT_MS;
  ok = step_connect (&run, error) && step_pin (&run, error) && step_prove (&run, error)
       && step_enrol (&run, error) && step_check (&run, result, error)
       && ask_consent (&run, result, error) && step_commit (&run, error);
  pair_run_clear (&run);
  return ok ? g_steal_pointer (&result) : NULL;
}
