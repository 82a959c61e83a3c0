/* settle-ceremony-msg.h: the messages of the pairing ceremony and their
 * framing inside the TLS connection (schema/ceremony.md, ceremony.cddl).
 *
 *   helper (A)                               device (B)
 *   CLIENT_HELLO   {version, suite, pA}  ->
 *                                        <-  SERVER_SHARE {pB, cB}
 *   CLIENT_CONFIRM {cA}                  ->
 *   ENROL_REQUEST  {csr, role}           ->
 *                                        <-  ENROL_RESPONSE {cert, chain, names, role[, dk, dp]}
 *   (the helper asks its user)
 *   COMMIT {}                            ->      (only after the user said yes)
 *                                        <-  COMMITTED {}   (the device stored the enrolment)
 *   ERROR {code, text} may replace any message, in either direction, and
 *   ends the ceremony.
 *
 * Each message is one CBOR map (libcbor) in one frame: a 4-byte big-endian
 * body length, then the body, at most SETTLE_CEREMONY_FRAME_MAX bytes.
 *
 * Ownership: a SettleCeremonyMsg owns every pointer inside it (GBytes,
 * strings, the chain array); settle_ceremony_msg_free() releases them.
 * Decoders return owned messages; encoders return owned GBytes.
 *
 * Errors when decoding: SETTLE_ERROR_FORMAT for anything malformed
 * (truncated, oversized, wrong CBOR type, missing field, unknown message
 * type: answer with SETTLE_CEREMONY_ERR_MALFORMED), SETTLE_ERROR_PROTOCOL
 * for a well-formed CLIENT_HELLO asking for a version or suite this
 * program lacks (answer with SETTLE_CEREMONY_ERR_UNSUPPORTED). */
#pragma once

#include <glib.h>

#include "settle-spake2.h"

G_BEGIN_DECLS

#define SETTLE_CEREMONY_VERSION 1
#define SETTLE_CEREMONY_ALPN "settle/1"

#define SETTLE_CEREMONY_FRAME_HEADER_LEN 4
#define SETTLE_CEREMONY_FRAME_MAX 65536      /* body bytes */
#define SETTLE_CEREMONY_CSR_MAX 16384        /* bytes of DER */
#define SETTLE_CEREMONY_CERT_MAX 16384       /* bytes of DER, each certificate */
#define SETTLE_CEREMONY_CHAIN_MAX 8          /* certificates */
#define SETTLE_CEREMONY_NAMES_MAX 32
#define SETTLE_CEREMONY_SUBTREE_MAX 8        /* subtrees a referee declares */
#define SETTLE_CEREMONY_ROLE_MAX 32          /* [a-z0-9-], 1..32 */
#define SETTLE_CEREMONY_TEXT_MAX 256         /* error text, bytes of UTF-8 */
#define SETTLE_CEREMONY_NONCE_MIN 16         /* the optional voucher nonce, bytes */
#define SETTLE_CEREMONY_NONCE_MAX 64
#define SETTLE_CEREMONY_IDEVID_MAX 4         /* IDevID and its issuing CAs */
#define SETTLE_CEREMONY_VOUCHER_MAX 16384    /* bytes of CMS DER */
/* ENROL_RESPONSE's optional discovery key and rotation period (seconds):
 * the values of lib/names/settle-portable-name.h. */
#define SETTLE_CEREMONY_DISCOVERY_KEY_LEN 32
#define SETTLE_CEREMONY_DISCOVERY_PERIOD_MIN 2
#define SETTLE_CEREMONY_DISCOVERY_PERIOD_MAX 86400

/* Each side gives up when the next message takes longer than
 * SETTLE_TLS_DEFAULT_TIMEOUT_MS (settle-ceremony-tls.h, 10 s), and the
 * device ends any ceremony that runs longer than this total. */
#define SETTLE_CEREMONY_TOTAL_TIMEOUT_S 120
/* After ENROL_RESPONSE the device waits this long for COMMIT while the
 * helper's user reads the prompt; then it discards the pending enrolment.
 * Generous: a person may check the names and the check code slowly. */
#define SETTLE_CEREMONY_CONSENT_TIMEOUT_S 300

typedef enum {
  SETTLE_MSG_CLIENT_HELLO = 1,
  SETTLE_MSG_SERVER_SHARE = 2,
  SETTLE_MSG_CLIENT_CONFIRM = 3,
  SETTLE_MSG_ENROL_REQUEST = 4,
  SETTLE_MSG_ENROL_RESPONSE = 5,
  SETTLE_MSG_ERROR = 6,
  SETTLE_MSG_COMMIT = 7,      /* the helper's user consented: store the enrolment */
  SETTLE_MSG_COMMITTED = 8,   /* the device stored it */
} SettleMsgType;

#define SETTLE_MSG_TYPE_LAST SETTLE_MSG_COMMITTED

/* Codes carried by SETTLE_MSG_ERROR (schema/ceremony.md, "Errors"). */
typedef enum {
  SETTLE_CEREMONY_ERR_MALFORMED = 1,    /* could not decode the last message */
  SETTLE_CEREMONY_ERR_UNEXPECTED = 2,   /* valid message, wrong moment */
  SETTLE_CEREMONY_ERR_UNSUPPORTED = 3,  /* version or suite this side lacks */
  SETTLE_CEREMONY_ERR_AUTH_FAILED = 4,  /* key confirmation did not match */
  SETTLE_CEREMONY_ERR_ROLE_REFUSED = 5, /* the device will not grant that role */
  SETTLE_CEREMONY_ERR_CSR_REFUSED = 6,  /* unusable CSR: bad signature, weak key */
  SETTLE_CEREMONY_ERR_BUSY = 7,         /* another ceremony runs, or too many failures */
  SETTLE_CEREMONY_ERR_TIMEOUT = 8,
  SETTLE_CEREMONY_ERR_INTERNAL = 9,
  SETTLE_CEREMONY_ERR_DECLINED = 10,    /* the helper's user did not consent */
} SettleCeremonyErrorCode;

typedef struct {
  SettleMsgType type;
  union {
    struct {
      guint version;                              /* SETTLE_CEREMONY_VERSION */
      SettleSpake2Suite suite;
      guint8 share[SETTLE_SPAKE2_SHARE_LEN];      /* pA */
    } client_hello;
    struct {
      guint8 share[SETTLE_SPAKE2_SHARE_LEN];      /* pB */
      guint8 confirm[SETTLE_SPAKE2_CONFIRM_LEN];  /* cB */
    } server_share;
    struct {
      guint8 confirm[SETTLE_SPAKE2_CONFIRM_LEN];  /* cA */
    } client_confirm;
    struct {
      GBytes *csr_der;   /* owned: PKCS#10 DER */
      char *role;        /* owned: requested role */
      GBytes *nonce;     /* owned, optional ("nonce"): the helper's voucher nonce, or NULL */
    } enrol_request;
    struct {
      GBytes *cert_der;  /* owned: the client certificate */
      GPtrArray *chain;  /* owned, of owned GBytes: issuer of cert first, device CA last */
      char **names;      /* owned, NULL-terminated: DNS names the device serves (unchecked) */
      char *role;        /* owned: role granted */
      /* Optional, together or not at all (schema/voucher.md): */
      GPtrArray *idevid; /* owned, of owned GBytes, or NULL: IDevID first, then its issuing CAs */
      GBytes *voucher;   /* owned, or NULL: CMS SignedData of the voucher */
      /* A referee (Track B) only, both or neither: the CA it issues with
       * (its ACME CA) and the subtrees it declares (unchecked). */
      GBytes *referee_ca_der;  /* owned, NULL: not a referee */
      char **subtree;          /* owned, NULL-terminated, NULL: not a referee */
      /* Optional (portable mode, docs/portable.md): the device's
       * discovery key and rotation period, both or neither ("dk", "dp").
       * A tracking secret: wiped by settle_ceremony_msg_free(). */
      gboolean has_discovery;
      guint8 discovery_key[SETTLE_CEREMONY_DISCOVERY_KEY_LEN];
      guint discovery_period;   /* seconds, SETTLE_CEREMONY_DISCOVERY_PERIOD_MIN..MAX */
    } enrol_response;
    struct {
      guint code;        /* SettleCeremonyErrorCode, or a newer code */
      char *text;        /* owned: printable UTF-8, no control characters */
    } error;
  };
} SettleCeremonyMsg;

/* A zeroed message of `type`; for ENROL_RESPONSE `chain` is an empty
 * array ready for g_ptr_array_add (GBytes, owned by the array). */
SettleCeremonyMsg *settle_ceremony_msg_new (SettleMsgType type);
/* An ERROR message (text copied). */
SettleCeremonyMsg *settle_ceremony_msg_new_error (SettleCeremonyErrorCode code, const char *text);
void settle_ceremony_msg_free (SettleCeremonyMsg *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleCeremonyMsg, settle_ceremony_msg_free)

/* "CLIENT_HELLO" ...; "unknown" for anything else.  Static. */
const char *settle_ceremony_msg_type_name (guint type);

/* The CBOR body of a message; refuses (SETTLE_ERROR_FORMAT) a message the
 * decoder would refuse, so nothing malformed ever leaves this program. */
GBytes *settle_ceremony_msg_encode (const SettleCeremonyMsg *msg, GError **error);
/* Decodes one CBOR body of exactly `len` bytes (borrowed). */
SettleCeremonyMsg *settle_ceremony_msg_decode (const guint8 *body, gsize len, GError **error);

/* Header + body, ready to write to the TLS connection. */
GBytes *settle_ceremony_frame_encode (const SettleCeremonyMsg *msg, GError **error);
/* The body length announced by a frame header; refuses 0 and anything
 * over SETTLE_CEREMONY_FRAME_MAX before the reader allocates. */
gboolean settle_ceremony_frame_parse_header (const guint8 header[SETTLE_CEREMONY_FRAME_HEADER_LEN],
                                             gsize *body_len, GError **error);
/* Decodes the frame at the start of `buf` (borrowed, `len` bytes read so
 * far); sets *consumed to the frame's size.  A frame that does not fit in
 * `len` is refused as truncated. */
SettleCeremonyMsg *settle_ceremony_frame_decode (const guint8 *buf, gsize len, gsize *consumed,
                                                 GError **error);

/* TRUE when `msg` has type `expected`.  Otherwise sets an error a user
 * can read: for a peer's ERROR message, the code mapped to SettleErrorCode
 * (AUTH_FAILED -> SETTLE_ERROR_AUTH, ROLE_REFUSED and BUSY ->
 * SETTLE_ERROR_REFUSED, TIMEOUT -> SETTLE_ERROR_NETWORK, CSR_REFUSED ->
 * SETTLE_ERROR_CERT, others -> SETTLE_ERROR_PROTOCOL) with the peer's
 * text; for any other type, SETTLE_ERROR_PROTOCOL. */
gboolean settle_ceremony_msg_expect (const SettleCeremonyMsg *msg, SettleMsgType expected,
                                     GError **error);

G_END_DECLS
