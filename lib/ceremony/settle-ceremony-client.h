/* settle-ceremony-client.h: the helper's side of the pairing ceremony
 * (SPAKE2 role A; schema/ceremony.md), as `settle pair` runs it.
 *
 *   connect (address hint, then the name; without a hint: the request's
 *            locate callback's endpoints (DNS-SD), then the name on 443;
 *            each discovered endpoint must pass the pin check, a mismatch
 *            is told through `notice` and the next one is tried)
 *            TLS 1.3, ALPN settle/1, SNI = name
 *   pin      SHA-256 of the server's SPKI = the QR code's H, before a byte is sent
 *   prove    exporter -> SPAKE2 AAD; CLIENT_HELLO; SERVER_SHARE; cB checked in
 *            constant time; CLIENT_CONFIRM
 *   enrol    ENROL_REQUEST with a CSR for a fresh P-256 key and a fresh voucher
 *            nonce; ENROL_RESPONSE (with the device's IDevID and voucher, if any)
 *   check    names below .local / home.arpa / .alt only, the device's name among
 *            them, the client certificate carries our key, the returned device
 *            CA is a usable CA, the TLS leaf chains to it (else the leaf itself
 *            is the anchor: a pinned peer, docs/design.md)
 *   referee  a referee's front also sends its CA and declared subtrees
 *            (optional fields, schema/ceremony.md): a usable CA, subtrees
 *            inside the local namespaces
 *   consent  the request's consent callback, while the device keeps the
 *            enrolment pending in memory
 *   commit   COMMIT; the device stores the enrolment and answers COMMITTED.
 *            On "no" (or any failure before) the helper sends ERROR declined
 *            or just closes, and the device stores nothing.
 *
 * Names: only the device's name (identity B: the QR code's name, the
 * user's --name, or the certificate's name for a typed code) is
 * authenticated.  Other names the device lists are returned apart, as
 * unverified; only the caller, with the user's explicit yes for each, may
 * add them to what it trusts.
 *
 * Nothing is stored here: the caller stores the result after the run.
 *
 * Without a pin (a typed code carries no H) the SPAKE2 confirmation is the
 * only proof: it still defeats a machine in the middle, whose two TLS
 * connections have two exporter values, but the name that SPAKE2 binds is
 * then the one the user gave or the one the device's certificate shows,
 * so the caller must show it to the user to compare with the device.
 *
 * Every network step is bounded by the request's timeout.  Errors (one
 * sentence each, never quoting the secret):
 *   SETTLE_ERROR_NETWORK   no answer, connection refused, timeout, TLS failure
 *   SETTLE_ERROR_AUTH      wrong key (evil twin), wrong code, relayed connection
 *   SETTLE_ERROR_REFUSED   the device refused (role, busy, too many attempts)
 *   SETTLE_ERROR_SCOPE     a name outside the local namespaces
 *   SETTLE_ERROR_FORMAT    truncated, oversized or malformed message
 *   SETTLE_ERROR_PROTOCOL  a message out of order, an unsupported suite
 *   SETTLE_ERROR_CERT      unusable certificates in the enrolment
 *
 * Ownership: the request and everything it points to are borrowed; the
 * result is owned and settle_pair_result_free() wipes the client key. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "settle-ceremony-msg.h"
#include "settle-qr-payload.h"

G_BEGIN_DECLS

#define SETTLE_PAIR_ROLE_DEFAULT "admin"

typedef enum {
  SETTLE_PAIR_STEP_CONNECT = 1,  /* begin: "HOST:PORT"; end: the address that answered */
  SETTLE_PAIR_STEP_PIN,          /* end: whether the key matched the QR code */
  SETTLE_PAIR_STEP_PROVE,        /* end: the short authentication string */
  SETTLE_PAIR_STEP_ENROL,        /* begin: role asked for; end: role granted */
  SETTLE_PAIR_STEP_CHECK,        /* end: names and kind of anchor */
  SETTLE_PAIR_STEP_COMMIT,       /* after consent; end: the device stored the enrolment */
} SettlePairStep;

#define SETTLE_PAIR_STEP_COUNT SETTLE_PAIR_STEP_COMMIT

/* Called when a step begins (`finished` FALSE) and when it succeeded
 * (`finished` TRUE); a failing step ends with the run's error instead.
 * `detail` is borrowed for the call, may be NULL, never holds a secret. */
typedef void (*SettlePairProgressFn) (SettlePairStep step, gboolean finished, const char *detail,
                                      gpointer user_data);

typedef struct _SettlePairResult SettlePairResult;

/* Asked after every check passed, before anything changes on either side
 * (the device holds the enrolment pending until COMMIT).  `result` is the
 * run's (borrowed for the call; the callback may keep notes in its own
 * data, not pointers into it).  TRUE: commit.  FALSE with `error` (one
 * sentence, SETTLE_ERROR_REFUSED for a "no"): the run ends with it, and
 * the device discards the enrolment.  The device waits at most
 * SETTLE_CEREMONY_CONSENT_TIMEOUT_S (settle-ceremony-msg.h). */
typedef gboolean (*SettlePairConsentFn) (const SettlePairResult *result, gpointer user_data,
                                        GError **error);

/* Where a device without an address in its payload may answer, besides
 * its name on the HTTPS port: an owned array of SettleEndpoint (found on
 * the network, e.g. DNS-SD; tried in order, each still pin-checked), or
 * NULL/empty.  `*note` (owned, may stay NULL) says why nothing was found
 * when that is worth telling ("no avahi-daemon").  The ceremony does not
 * know how the endpoints are found (lib/ceremony links no Avahi: the
 * manager passes lib/discovery/ in). */
typedef GPtrArray *(*SettlePairLocateFn) (const char *name, guint timeout_ms, gpointer user_data, char **note);
/* A step's remark that does not end it (an endpoint skipped); borrowed. */
typedef void (*SettlePairNoticeFn) (const char *text, gpointer user_data);

typedef struct {
  /* name: canonical device name (SPAKE2 identity B, SNI), or NULL when
   * pairing from a typed code without a name (then the name comes from
   * the device's certificate); host/port: where to connect; secret. */
  const SettleQrPayload *payload;
  gboolean pinned;          /* payload->spki_sha256 is valid (FALSE: typed code) */
  const char *role;         /* "admin", "user", "guest"; NULL = SETTLE_PAIR_ROLE_DEFAULT */
  guint timeout_ms;         /* per network step; 0 = SETTLE_TLS_DEFAULT_TIMEOUT_MS */
  SettlePairProgressFn progress;
  gpointer progress_data;
  SettlePairConsentFn consent;  /* NULL: commit without asking (the caller decided before) */
  gpointer consent_data;
  /* A payload without an address: where else to look (NULL: the name
   * only), and remarks on endpoints skipped (NULL: none told). */
  SettlePairLocateFn locate;
  gpointer locate_data;
  SettlePairNoticeFn notice;
  gpointer notice_data;
} SettlePairRequest;

struct _SettlePairResult {
  char *device_name;        /* the name SPAKE2 bound (identity B), canonical */
  char **names;             /* the authenticated names: { device_name } */
  char **unverified_names;  /* other canonical names the device claims (may be empty, never NULL) */
  char *role;               /* granted by the device */
  gboolean pinned_peer;     /* the TLS leaf does not chain to the device CA */
  X509 *anchor;             /* the device CA, or the TLS leaf for a pinned peer */
  X509 *server_leaf;        /* the certificate the TLS handshake showed */
  X509 *client_cert;        /* issued for client_key */
  GBytes *client_key_pem;   /* PKCS#8 PEM of the fresh client key (secret) */
  char *sas;                /* short authentication string, "123 456" */
  /* The device's manufacturer identity, unchecked (settle-manufacturer.h
   * checks it): both NULL when it offered none. */
  GPtrArray *idevid;        /* owned GBytes DER: IDevID first, then its issuing CAs */
  GBytes *voucher;          /* CMS SignedData DER (schema/voucher.md) */
  GBytes *voucher_nonce;    /* the nonce this run sent in ENROL_REQUEST */
  /* A referee's pairing front (Track B) only, else NULL: the CA it issues
   * its devices' certificates with (a usable CA), and the subtrees it
   * declares (canonical, inside the local namespaces; a whole namespace
   * is possible here and is the caller's to refuse). */
  X509 *referee_ca;
  char **referee_subtree;
  /* A device in portable mode (docs/portable.md): its discovery key (a
   * tracking secret, wiped on free) and rotation period in seconds. */
  gboolean has_discovery;
  guint8 discovery_key[SETTLE_CEREMONY_DISCOVERY_KEY_LEN];
  guint discovery_period;
};

void settle_pair_result_free (SettlePairResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettlePairResult, settle_pair_result_free)

/* "connecting", "checking the device's key" ...: static strings. */
const char *settle_pair_step_describe (SettlePairStep step);

/* Runs the whole ceremony.  Owned result, or NULL with `error`. */
SettlePairResult *settle_pair_run (const SettlePairRequest *request, GError **error);

G_END_DECLS
