/* device.h: the parts of settle-device, one concern per file:
 *
 *   device-main.c        subcommands and their options
 *   device-certs.c       building X.509 certificates and keys (OpenSSL)
 *   device-identity.c    the state directory: device CA, TLS leaf, rotate, reset
 *   device-enrolments.c  who was paired, with which role and serial (JSON)
 *   device-qr.c          the SETTLE: payload shown as QR code and files
 *   device-http.c        the HTTPS page, /.well-known/settle/whoami and renew,
 *                        the binding audit and admin endpoints, CORS
 *   device-access.c      who may do what: the one rule for every request
 *   device-bindings.c    the binding audit document
 *   device-origins.c     the web origins an admin allowed
 *   device-serve.c       listening, one thread per connection, signals
 *   device-mdns.c        advertising the name and services through avahi-daemon
 *   device-acme.c        the TLS certificate from a referee's ACME CA (lego), renewed
 *   device-limits.c      per-source connection limits and pairing backoff
 *                        (its own header, device-limits.h)
 *
 * Every function reports failure as a SETTLE_ERROR GError that the
 * command prints as it is. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "settle-ceremony-server.h"
#include "settle-ceremony-tls.h"
#include "settle-web-origin.h"

G_BEGIN_DECLS

/* ---- device-certs.c ---- */

#define SETTLE_DEVICE_CA_DAYS 3650
#define SETTLE_DEVICE_LEAF_DAYS 397

/* A fresh P-256 key (owned). */
EVP_PKEY *settle_device_key_new (GError **error);
/* A self-signed device CA for `name`, generation `generation` (owned). */
X509 *settle_device_ca_new (const char *name, guint generation, EVP_PKEY *key, GError **error);
/* `subject_ca` (borrowed) re-issued under `issuer`/`issuer_key`: the
 * cross certificate that lets clients of the old CA reach the new one. */
X509 *settle_device_cross_new (X509 *subject_ca, X509 *issuer, EVP_PKEY *issuer_key, GError **error);
/* The TLS server leaf for `name` under the CA (owned). */
X509 *settle_device_leaf_new (const char *name, EVP_PKEY *leaf_key, X509 *ca, EVP_PKEY *ca_key,
                              GError **error);
/* TRUE when `cert` is signed by `ca` and valid now. */
gboolean settle_device_cert_issued_by (X509 *cert, X509 *ca);
/* Lowercase hex of the serial number (owned). */
char *settle_device_serial_hex (X509 *cert);
/* Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (owned). */
char *settle_device_spki_sha256_hex (X509 *cert);

/* ---- device-identity.c ---- */

/* A factory reset destroys the whole state directory, so no counter can
 * survive it on the reference device: each new state gets a random epoch
 * instead, and every enrolment records the epoch it was made in. */
#define SETTLE_DEVICE_EPOCH_HEX 32

typedef struct {
  char *dir;                /* owned: the state directory */
  char *name;               /* owned: canonical device name */
  guint generation;         /* of the current CA: 1, 2 after a rotation ... */
  char *epoch;              /* owned: random id of the state since the last factory reset (32 hex) */
  char *epoch_since;        /* owned: when that epoch began (ISO 8601 UTC) */
  EVP_PKEY *ca_key;         /* owned */
  X509 *ca;                 /* owned: current device CA, self-signed */
  X509 *ca_cross;           /* owned or NULL: current CA issued by the previous one */
  GPtrArray *previous_cas;  /* owned, of owned X509: retired CAs (public part only) */
  EVP_PKEY *tls_key;        /* owned */
  X509 *tls_cert;           /* owned */
} SettleDeviceIdentity;

void settle_device_identity_free (SettleDeviceIdentity *id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDeviceIdentity, settle_device_identity_free)

/* Loads the identity in `dir`, creating the directory (0700) and a new
 * identity for `name` on first run.  Refuses a directory made for another
 * name, and key files or a directory that others can read. */
SettleDeviceIdentity *settle_device_identity_open (const char *dir, const char *name, GError **error);
/* The same for a self-certifying name (lib/names/settle-self-cert.h):
 * `spec` is a prefix ("printer", the name then below .local) or a prefix
 * and domain ("printer.home.arpa"); a new identity is named
 * PREFIX-<hash of its CA key>.DOMAIN.  An existing one must carry such a
 * name; when its CA was rotated since, the name no longer matches the key
 * and *warning (owned) says so, but the identity is still returned. */
SettleDeviceIdentity *settle_device_identity_open_self_certifying (const char *dir, const char *spec,
                                                                   char **warning, GError **error);
/* Loads an existing identity (rotate). */
SettleDeviceIdentity *settle_device_identity_load (const char *dir, GError **error);
/* New CA cross-signed by the current one, new TLS leaf; the old CA key is
 * destroyed, its certificate kept for clients it enrolled. */
gboolean settle_device_identity_rotate (SettleDeviceIdentity *id, GError **error);
/* Factory reset: wipes and deletes every key, certificate and enrolment
 * in `dir`, then the directory itself. */
gboolean settle_device_identity_reset (const char *dir, GError **error);
/* The certificate chain the TLS server sends after its leaf (owned). */
STACK_OF (X509) *settle_device_identity_tls_chain (SettleDeviceIdentity *id);
/* Portable mode: the device's discovery key in `dir` (discovery.key,
 * 0600), made from fresh randomness on first use and wiped by a factory
 * reset; `key` is the caller's to wipe. */
#define SETTLE_DEVICE_DISCOVERY_KEY_LEN 32
gboolean settle_device_discovery_key (const char *dir, guint8 key[SETTLE_DEVICE_DISCOVERY_KEY_LEN],
                                      GError **error);
/* TRUE when `cert` was issued by the current or a retired device CA. */
gboolean settle_device_identity_issued (SettleDeviceIdentity *id, X509 *cert);

/* ---- device-enrolments.c ---- */

typedef struct _SettleDeviceEnrolments SettleDeviceEnrolments;

/* `epoch` (borrowed): the identity's factory-reset epoch, recorded in
 * every new enrolment. */
SettleDeviceEnrolments *settle_device_enrolments_open (const char *dir, const char *epoch, GError **error);
void settle_device_enrolments_free (SettleDeviceEnrolments *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDeviceEnrolments, settle_device_enrolments_free)
guint settle_device_enrolments_count (SettleDeviceEnrolments *e);
/* Appends and saves (atomically, 0600); `renewed` (borrowed) is the
 * certificate a renewal replaces, NULL after a pairing ceremony. */
gboolean settle_device_enrolments_add (SettleDeviceEnrolments *e, X509 *cert, const char *role,
                                       const char *peer_address, X509 *renewed, GError **error);
void settle_device_enrolments_remove (SettleDeviceEnrolments *e, X509 *cert);
/* The role recorded for this exact certificate (owned), or NULL. */
char *settle_device_enrolments_role_of (SettleDeviceEnrolments *e, X509 *cert);
gboolean settle_device_enrolments_spki_known (SettleDeviceEnrolments *e, const char *spki_hex);
/* A deep copy of every entry (owned), for the binding audit. */
JsonArray *settle_device_enrolments_list (SettleDeviceEnrolments *e);

typedef enum {
  SETTLE_DEVICE_CHANGE_DONE = 0,
  SETTLE_DEVICE_CHANGE_UNKNOWN,     /* no enrolment has that key */
  SETTLE_DEVICE_CHANGE_LAST_ADMIN,  /* it would leave the device without an admin: nothing changed */
  SETTLE_DEVICE_CHANGE_FAILED,      /* could not be saved (`error`): nothing changed */
} SettleDeviceChange;

/* Revokes (`new_role` NULL) or sets the role of the enrolment whose key
 * has SHA-256 `spki` (hex), on behalf of the admin `actor_spki`; all or
 * nothing, on disk and in memory. */
SettleDeviceChange settle_device_enrolments_change (SettleDeviceEnrolments *e, const char *spki,
                                                    const char *new_role, const char *actor_spki,
                                                    GError **error);

/* ---- device-qr.c ---- */

typedef struct {
  char *name;          /* borrowed from the identity */
  char *host;          /* owned: address hint host */
  guint16 port;
  gboolean address;    /* the payload carries A (host:port); else the device is found by name */
  X509 *tls_cert;      /* borrowed */
  char *png_path;      /* owned or NULL */
  char *text_path;     /* owned or NULL */
} SettleDeviceQrTarget;

/* Shows the current secret of `server` as QR code on standard output and
 * writes the PNG and text files that were asked for. */
gboolean settle_device_qr_show (const SettleDeviceQrTarget *target, SettleCeremonyServer *server,
                                GError **error);

/* ---- device-origins.c ---- */

/* The limits and the syntax of an origin are lib/names/settle-web-origin.h's. */
#define SETTLE_DEVICE_ORIGINS_MAX SETTLE_WEB_ORIGINS_MAX

typedef struct _SettleDeviceOrigins SettleDeviceOrigins;

SettleDeviceOrigins *settle_device_origins_open (const char *dir, GError **error);
void settle_device_origins_free (SettleDeviceOrigins *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDeviceOrigins, settle_device_origins_free)
/* {"origins": [...]} and nothing else, each valid: *origins (owned). */
gboolean settle_device_origins_parse (JsonNode *root, char ***origins, GError **error);
gboolean settle_device_origins_allowed (SettleDeviceOrigins *o, const char *origin);
/* A copy of the list (owned). */
char **settle_device_origins_list (SettleDeviceOrigins *o);
/* Replaces the list, on disk first (atomically, 0600). */
gboolean settle_device_origins_replace (SettleDeviceOrigins *o, const char *const *origins, GError **error);

/* ---- device-http.c ---- */

typedef struct _SettleDeviceManufacturer SettleDeviceManufacturer;  /* device-manufacturer.c */

typedef struct {
  const char *name;
  SettleDeviceIdentity *identity;      /* borrowed */
  SettleDeviceEnrolments *enrolments;  /* borrowed */
  SettleDeviceOrigins *origins;        /* borrowed */
  SettleCeremonyServer *ceremony;      /* borrowed: issues renewed client certificates */
  SettleDeviceManufacturer *manufacturer;  /* borrowed, or NULL: no IDevID (the bindings say so) */
} SettleDeviceHttpContext;

/* Serves HTTP/1.1 and 1.0 on `conn` (keep-alive: as many requests as the
 * client sends within the idle timeout and the connection's lifetime),
 * then returns; FALSE only when serving could not start. */
gboolean settle_device_http_serve (SettleTlsConn *conn, const SettleDeviceHttpContext *ctx,
                                   GError **error);

/* ---- device-access.c ---- */

typedef enum {
  SETTLE_DEVICE_ACT_WHOAMI = 1,   /* read one's own role: any enrolled client */
  SETTLE_DEVICE_ACT_RENEW,        /* replace one's own certificate: any enrolled client */
  SETTLE_DEVICE_ACT_AUDIT,        /* read the bindings: admins */
  SETTLE_DEVICE_ACT_ADMINISTER,   /* revoke, set roles, allowed origins: admins */
} SettleDeviceAction;

typedef struct {
  guint status;          /* the HTTP status of a refusal (401, 403) */
  const char *reason;    /* static: the refusal in one sentence */
  char *role;            /* owned: the caller's role, when enrolled */
  char *fingerprint;     /* owned: the caller's key (SHA-256 of its SPKI, hex), when enrolled */
} SettleDeviceAccess;

/* guest < user < admin; -1 for anything else. */
int settle_device_role_rank (const char *role);
/* The one rule for every request (device-access.c says it): TRUE when
 * `peer` (borrowed, may be NULL) from `origin` (the Origin header, NULL
 * without one) may do `action`; else `out` says why not.  Clear `out`
 * with settle_device_access_clear() either way. */
gboolean settle_device_access_decide (const SettleDeviceHttpContext *ctx, X509 *peer, const char *origin,
                                      SettleDeviceAction action, SettleDeviceAccess *out);
void settle_device_access_clear (SettleDeviceAccess *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SettleDeviceAccess, settle_device_access_clear)

/* ---- device-bindings.c ---- */

/* The binding audit document (owned; schema/bindings.schema.json) for
 * the admin whose key is `caller_fingerprint`. */
char *settle_device_bindings_json (const SettleDeviceHttpContext *ctx, const char *caller_fingerprint);

/* ---- device-mdns.c ---- */

typedef struct _SettleDeviceMdns SettleDeviceMdns;

/* TRUE for 127.0.0.0/8 and ::1: nothing to advertise to the network. */
gboolean settle_device_mdns_is_loopback (const char *listen_host);
/* Starts advertising `name` (A/AAAA for what `listen_host` reaches,
 * _settle._tcp and _https._tcp on `port`, TXT pair=1 when `pairing`)
 * through avahi-daemon, and waits (at most 5 s) until it is known whether
 * the name is ours.  Never fails: without a daemon, or when another host
 * has the name, it says so on standard error once and the device serves
 * without the advertisement.  Owned; settle_device_mdns_stop(). */
/* Portable mode (docs/portable.md): instead of `name`, the device
 * advertises rotating labels (lib/names/settle-portable-name.h) as host and
 * instance names, TXT v=1 only: the pairing label for `pin` while
 * `pairing`, else the host label of the period for `discovery_key`; both
 * change every `period_s` seconds.  Copied. */
typedef struct {
  const guint8 *discovery_key;  /* SETTLE_PORTABLE_KEY_BYTES */
  const guint8 *pin;            /* SHA-256 of the TLS key's SPKI (the QR code's H) */
  guint period_s;
} SettleDeviceMdnsPortable;
SettleDeviceMdns *settle_device_mdns_start (const char *name, const char *listen_host, guint16 port,
                                            gboolean pairing, const SettleDeviceMdnsPortable *portable);
/* TRUE while the name is ours on the network (or still being probed). */
gboolean settle_device_mdns_advertising (SettleDeviceMdns *m);
/* pair=1 / pair=0 in the _settle._tcp TXT record, updated on the network. */
void settle_device_mdns_set_pairing (SettleDeviceMdns *m, gboolean pairing);
/* Withdraws everything (avahi-daemon sends goodbyes) and frees; NULL is fine. */
void settle_device_mdns_stop (SettleDeviceMdns *m);

/* ---- device-manufacturer.c ---- */

/* How a test device breaks its voucher (--test-voucher, tests only). */
typedef enum {
  SETTLE_DEVICE_VOUCHER_HONEST = 0,
  SETTLE_DEVICE_VOUCHER_FORGED,        /* signed with a key the maker never certified */
  SETTLE_DEVICE_VOUCHER_EXPIRED,       /* expires-on in the past */
  SETTLE_DEVICE_VOUCHER_OTHER_SERIAL,  /* a serial number that is not the IDevID's */
  SETTLE_DEVICE_VOUCHER_OTHER_NAME,    /* another local name */
  SETTLE_DEVICE_VOUCHER_OTHER_KEY,     /* another device CA key */
  SETTLE_DEVICE_VOUCHER_REPLAY,        /* the previous ceremony's voucher, again */
} SettleDeviceVoucherTest;

gboolean settle_device_voucher_test_from_string (const char *text, SettleDeviceVoucherTest *out);
/* The IDevID key (PEM file; never on the command line), its certificate,
 * and (may be NULL) a PEM file of its issuing CAs, root excluded.  Owned. */
SettleDeviceManufacturer *settle_device_manufacturer_load (const char *key_path, const char *cert_path,
                                                           const char *issuers_path, SettleDeviceVoucherTest test,
                                                           GError **error);
void settle_device_manufacturer_free (SettleDeviceManufacturer *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDeviceManufacturer, settle_device_manufacturer_free)
const char *settle_device_manufacturer_serial (SettleDeviceManufacturer *m);
/* The IDevID certificate and its issuing CAs, root excluded (borrowed). */
X509 *settle_device_manufacturer_idevid (SettleDeviceManufacturer *m);
STACK_OF (X509) *settle_device_manufacturer_issuers (SettleDeviceManufacturer *m);
/* The ceremony server's attest hook (settle-ceremony-server.h); `user_data`
 * is the SettleDeviceManufacturer. */
gboolean settle_device_manufacturer_attest (GBytes *nonce, const char *device_name, X509 *device_ca,
                                            GPtrArray **idevid, GBytes **voucher, gpointer user_data);
/* ---- device-acme.c ---- */

#define SETTLE_DEVICE_ACME_CHECK_S 3600
/* The longest wait between two failed attempts (docs/device.md). */
#define SETTLE_DEVICE_ACME_RETRY_CAP_S (6 * 3600)
/* How long a stopping device waits for the ACME client after SIGTERM
 * before it kills the client's process group. */
#define SETTLE_DEVICE_ACME_STOP_GRACE_MS 2000

typedef struct _SettleDeviceAcme SettleDeviceAcme;

typedef struct {
  const char *name;         /* canonical: the name to obtain the certificate for */
  const char *directory;    /* the ACME directory URL (https://) */
  const char *ca_file;      /* CA of the ACME server's HTTPS certificate, or NULL */
  const char *http_listen;  /* where the client answers http-01; NULL: ":80" */
  const char *client;       /* the lego program; NULL: "lego" from PATH */
  const char *email;        /* the ACME account's contact; NULL: admin@NAME */
  const char *state_dir;    /* account and certificates go to STATE/acme */
  guint check_s;            /* how often the timer checks notAfter; 0: SETTLE_DEVICE_ACME_CHECK_S */
  const int *stop_fd;       /* readable once the device is asked to stop (its signalfd), or NULL */
} SettleDeviceAcmeOptions;

/* Uses the certificate in STATE/acme when it is for `name` and not yet
 * due, else obtains one (failing when the ACME server refuses), and
 * starts the renewal timer.  Owned; settle_device_acme_stop(). */
SettleDeviceAcme *settle_device_acme_start (const SettleDeviceAcmeOptions *options, GError **error);
/* Stops the timer and frees; NULL is fine. */
void settle_device_acme_stop (SettleDeviceAcme *acme);
/* Every new TLS connection on `ctx` gets the current certificate. */
void settle_device_acme_serve_with (SettleDeviceAcme *acme, SSL_CTX *ctx);
/* A copy of the certificate served now (owned). */
X509 *settle_device_acme_current (SettleDeviceAcme *acme);
/* TRUE when a certificate valid from not_before to not_after (Unix
 * seconds) should be renewed at `now`: a third of its lifetime left. */
gboolean settle_device_acme_renewal_due (gint64 not_before, gint64 not_after, gint64 now);
/* Seconds to wait before the next attempt after `failures` failed ones in
 * a row: check_s * 2^failures (check_s itself with no failure), at most
 * SETTLE_DEVICE_ACME_RETRY_CAP_S (or check_s when that is longer). */
guint settle_device_acme_retry_delay_s (guint check_s, guint failures);

/* ---- device-serve.c ---- */

typedef enum {
  SETTLE_DEVICE_QR_ADDRESS_AUTO = 0,  /* A only when the device is not advertised */
  SETTLE_DEVICE_QR_ADDRESS_YES,
  SETTLE_DEVICE_QR_ADDRESS_NO,
} SettleDeviceQrAddress;

typedef struct {
  const char *name;
  const char *state_dir;
  const char *listen;      /* ADDR:PORT, [v6]:PORT */
  const char *qr_png;
  const char *qr_text;
  const char *grant;       /* NULL: first client admin, then guest */
  gboolean no_mdns;        /* do not advertise through avahi-daemon */
  gboolean portable;       /* rotating advertisements (docs/portable.md) */
  guint rotation_s;        /* their period, seconds */
  SettleDeviceQrAddress qr_address;
  SettleDeviceManufacturer *manufacturer;  /* borrowed, or NULL: no IDevID, no voucher */
  /* A referee's pairing front (docs/referee.md): the CA it vouches with
   * and the subtrees it declares (canonical), else NULL. */
  const char *referee_ca;
  char **subtree;
  /* A device whose TLS certificate comes from a referee's ACME CA: the
   * directory is set (then no QR code: it is trusted through its referee). */
  SettleDeviceAcmeOptions acme;
} SettleDeviceServeOptions;

int settle_device_serve (const SettleDeviceServeOptions *options);

G_END_DECLS
