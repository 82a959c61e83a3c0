/* settle-ceremony-server.h: the device's side of the pairing ceremony
 * (SPAKE2 role B; schema/ceremony.md).
 *
 * The server owns the current pairing secret.  It runs one ceremony at a
 * time on connections whose ALPN is settle/1 (others get ERROR busy),
 * answers CLIENT_HELLO with SERVER_SHARE {pB, cB}, checks cA in constant
 * time, and only then reads ENROL_REQUEST: it checks the CSR (signature,
 * key strength, key not already in use), issues a client certificate from
 * the device CA with the role the device grants, and sends ENROL_RESPONSE.
 * That enrolment stays pending, in memory only, while the helper's user
 * decides: COMMIT records it (the record_enrolment hook) and is answered
 * with COMMITTED; an ERROR, a hang-up or SETTLE_CEREMONY_CONSENT_TIMEOUT_S
 * without an answer discard it, and nothing was recorded.
 *
 * Secrets: a secret is spent by one ceremony that reached ENROL_RESPONSE
 * (committed or not: the user scans the next code to try again), or at most
 * SETTLE_CEREMONY_SERVER_MAX_FAILURES ceremonies that reached SERVER_SHARE
 * without a valid cA (a helper with the wrong code stops at cB and never
 * sends cA, so a silent hang-up counts too).  Then the server makes a
 * fresh secret and calls the `secret_changed` hook, so that the device
 * shows a new QR code.
 *
 * Thread safety: settle_ceremony_server_handle() may be called from
 * several threads at once (the second caller gets ERROR busy); hooks run
 * in the calling thread while the ceremony lock is held.
 *
 * Ownership: the server up-references the CA key and certificate it is
 * given; settle_ceremony_server_free() wipes the secret. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "settle-base32.h"
#include "settle-ceremony-tls.h"

G_BEGIN_DECLS

#define SETTLE_CEREMONY_SERVER_MAX_FAILURES 5
#define SETTLE_CEREMONY_SERVER_STEP_TIMEOUT_MS SETTLE_TLS_DEFAULT_TIMEOUT_MS  /* 10 s */
#define SETTLE_CEREMONY_SERVER_SECRET_BYTES SETTLE_SECRET_RECOMMENDED_BYTES   /* 160 bits */
#define SETTLE_CEREMONY_SERVER_CERT_DAYS 397

typedef struct _SettleCeremonyServer SettleCeremonyServer;

typedef enum {
  SETTLE_CEREMONY_OUTCOME_ENROLLED,     /* certificate issued and sent, COMMIT received, recorded */
  SETTLE_CEREMONY_OUTCOME_DECLINED,     /* ENROL_RESPONSE sent, no COMMIT: nothing recorded */
  SETTLE_CEREMONY_OUTCOME_AUTH_FAILED,  /* wrong secret, relay, or no cA: one failed attempt */
  SETTLE_CEREMONY_OUTCOME_REFUSED,      /* role or CSR refused after a valid confirmation */
  SETTLE_CEREMONY_OUTCOME_BUSY,         /* another ceremony was running */
  SETTLE_CEREMONY_OUTCOME_FAILED,       /* malformed input, timeout, network, internal */
} SettleCeremonyOutcome;

typedef struct {
  /* The role to grant for `requested` (owned result), or NULL to refuse
   * with ERROR role-refused.  Default: "guest". */
  char *(*grant_role) (const char *requested, gpointer user_data);
  /* TRUE when a key with this SHA-256 SPKI hash is already enrolled (the
   * helper must make one key per device).  Default: no check beyond the
   * device's own CA key. */
  gboolean (*key_in_use) (const guint8 spki_sha256[32], gpointer user_data);
  /* Records an issued certificate (borrowed) once the helper sent COMMIT,
   * before COMMITTED is sent.  FALSE (with error) answers ERROR internal. */
  gboolean (*record_enrolment) (X509 *cert, const char *role, const char *peer_address,
                                gpointer user_data, GError **error);
  /* Undoes record_enrolment when COMMITTED could not be sent. */
  void (*forget_enrolment) (X509 *cert, gpointer user_data);
  /* Both confirmations verified: `check_code` ("930 167", borrowed) is
   * the short authentication string the helper's prompt shows too. */
  void (*show_check_code) (const char *check_code, const char *peer_address, gpointer user_data);
  /* A manufacturer identity (schema/voucher.md), optional: called when
   * ENROL_REQUEST carries the helper's nonce, with the device's name and
   * its CA (both borrowed).  TRUE with *idevid (owned array of owned
   * GBytes DER: the IDevID first, then its issuing CAs) and *voucher
   * (owned CMS DER binding them) to send in ENROL_RESPONSE; FALSE to send
   * none.  NULL hook: the device has no manufacturer identity. */
  gboolean (*attest) (GBytes *nonce, const char *device_name, X509 *device_ca, GPtrArray **idevid,
                      GBytes **voucher, gpointer user_data);
  /* The current secret was retired and a new one made (show a new QR). */
  void (*secret_changed) (SettleCeremonyServer *server, gpointer user_data);
  gpointer user_data;
} SettleCeremonyServerHooks;

/* `device_name`: canonical name below a local namespace (SPAKE2 identity
 * B, sent in `names`).  `ca_key`/`ca_cert` (borrowed, up-referenced): the
 * device CA that issues client certificates.  `chain` (borrowed, may be
 * NULL = just the CA): what ENROL_RESPONSE carries after the client
 * certificate, issuer first, device CA last.  A first secret is made at
 * once.  Owned result. */
SettleCeremonyServer *settle_ceremony_server_new (const char *device_name, EVP_PKEY *ca_key,
                                                  X509 *ca_cert, STACK_OF (X509) *chain,
                                                  GError **error);
void settle_ceremony_server_free (SettleCeremonyServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleCeremonyServer, settle_ceremony_server_free)

/* Makes this device a referee's pairing front (Track B): ENROL_RESPONSE
 * then also carries `referee_ca` (borrowed, up-referenced: the CA that
 * issues its devices' certificates, e.g. its ACME CA's root) and the
 * subtrees it declares (copied; at least one, at most
 * SETTLE_CEREMONY_SUBTREE_MAX).  The pinned, SPAKE2-confirmed channel is
 * what authenticates them.  NULL: not a referee.  Call before the first
 * handle(). */
void settle_ceremony_server_set_referee (SettleCeremonyServer *server, X509 *referee_ca,
                                         const char *const *subtree);

/* Portable mode (docs/portable.md): every ENROL_RESPONSE carries `key`
 * (copied; wiped on free) and `period_s` as "dk" and "dp".  NULL: none
 * (the default).  Call before the first handle(). */
void settle_ceremony_server_set_discovery (SettleCeremonyServer *server,
                                           const guint8 key[SETTLE_CEREMONY_DISCOVERY_KEY_LEN], guint period_s);
/* Hooks are copied; call before the first handle(). */
void settle_ceremony_server_set_hooks (SettleCeremonyServer *server,
                                       const SettleCeremonyServerHooks *hooks);
/* Per-step network timeout (default SETTLE_CEREMONY_SERVER_STEP_TIMEOUT_MS). */
void settle_ceremony_server_set_step_timeout (SettleCeremonyServer *server, guint timeout_ms);
/* How long a pending enrolment waits for COMMIT (default
 * SETTLE_CEREMONY_CONSENT_TIMEOUT_S, in ms here; tests shorten it). */
void settle_ceremony_server_set_consent_timeout (SettleCeremonyServer *server, guint timeout_ms);

/* Copies the current secret into `out` (caller-owned, at least
 * SETTLE_SECRET_MAX_BYTES; the caller wipes it) and returns its length;
 * *generation (optional) counts the secrets made so far. */
gsize settle_ceremony_server_copy_secret (SettleCeremonyServer *server, guint8 *out,
                                          guint *generation);
/* Retires the current secret and makes a fresh one (calls secret_changed). */
gboolean settle_ceremony_server_renew_secret (SettleCeremonyServer *server, GError **error);
/* Failed attempts against the current secret. */
guint settle_ceremony_server_failures (SettleCeremonyServer *server);

/* Checks `req` (borrowed) exactly as the CSR of an ENROL_REQUEST is
 * checked (signature, key strength, not the device's own key, not a key
 * the key_in_use hook knows) and issues a client certificate for `role`
 * from the device CA (owned).  The device's renewal endpoint uses it, so
 * a renewed certificate is built like the first one; since the current
 * key is enrolled, a renewal needs a fresh key.  Safe to call from other
 * threads than the ceremony's: it reads only what construction and
 * set_hooks wrote.  SETTLE_ERROR_CERT with one sentence when refused. */
X509 *settle_ceremony_server_issue_client_cert (SettleCeremonyServer *server, X509_REQ *req,
                                                const char *role, GError **error);

/* Runs one ceremony on `conn` (borrowed; ALPN settle/1).  Every refusal
 * is also sent to the peer as an ERROR message when the connection still
 * works.  `error` is set for every outcome but ENROLLED. */
SettleCeremonyOutcome settle_ceremony_server_handle (SettleCeremonyServer *server,
                                                     SettleTlsConn *conn, GError **error);

G_END_DECLS
