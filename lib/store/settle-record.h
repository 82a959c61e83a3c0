/* settle-record.h: the record model, one trusted binding per record.
 *
 * A record is identified by the SHA-256 fingerprint of its anchor
 * certificate (the device or referee CA, or the pinned leaf).  Records are
 * what the stores keep; the trust snapshot is derived from them.
 *
 * Ownership: a SettleRecord owns every pointer inside it;
 * settle_record_free() releases them all.  Functions named *_dup or
 * *_new return owned memory, functions that return `const` borrow. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SETTLE_KIND_DEVICE_CA = 1,   /* a device's own CA, scoped to the names it proved */
  SETTLE_KIND_REFEREE_CA = 2,  /* a referee CA, scoped to the subtree it manages */
  SETTLE_KIND_PINNED_PEER = 3, /* an exact self-signed leaf, no wrapping possible */
  SETTLE_KIND_MANUFACTURER_CA = 4, /* vouches only that a device in its scope is genuine
                                    * (IDevID, schema/voucher.md); never a TLS anchor */
} SettleKind;

typedef enum {
  SETTLE_CONSENT_PROMPT = 1,   /* the user answered yes at the terminal prompt */
  SETTLE_CONSENT_FLAG = 2,     /* --yes on the command line (scripts) */
} SettleConsent;

/* The record format is MAJOR.MINOR: a newer minor only adds members, which
 * this settle keeps as they are when it rewrites the record (extra_json);
 * a newer major is not read at all, and the stores set such a record
 * aside instead of failing (settle-store.h). */
#define SETTLE_RECORD_FORMAT_VERSION 1
#define SETTLE_RECORD_FORMAT_MINOR 1   /* 1: "discovery" (portable devices) */
#define SETTLE_FINGERPRINT_HEX_LEN 64
#define SETTLE_RECORD_DISCOVERY_KEY_LEN 32

typedef struct {
  char *fingerprint;        /* lowercase hex SHA-256 of anchor_der: the id */
  SettleKind kind;
  char *label;              /* what the user calls it; never NULL */
  char **names;             /* names the device serves (NULL-terminated, may be empty) */
  char **scope;             /* permitted DNS subtrees (NULL-terminated, non-empty for CAs) */
  GBytes *anchor_der;       /* the CA or pinned leaf as it was verified */
  GBytes *wrapper_root_der; /* self-signed wrapper root R (device and referee CA), else NULL */
  GBytes *cross_der;        /* cross certificate C: anchor's subject+key, issued by R */
  gint64 created;           /* unix seconds */
  gint64 expires;           /* unix seconds: notAfter of the anchor */
  SettleConsent consent;
  char *role;               /* role granted by the device, or NULL */
  GBytes *client_cert_der;  /* per-device client certificate, or NULL */
  char *address;            /* "HOST:PORT" where the device was paired (for refresh), or NULL */
  /* A device in portable mode (docs/portable.md): the discovery key it
   * gave in the ceremony (SETTLE_RECORD_DISCOVERY_KEY_LEN bytes, owned,
   * wiped on free; a tracking secret, kept where the record is: the
   * keyring's secret or the 0600 file) and its rotation period in
   * seconds; NULL and 0 for other devices. */
  guint8 *discovery_key;
  guint discovery_period;
  guint format_minor;       /* the minor format version the record was written with */
  char *extra_json;         /* members this settle does not know (a newer minor's), as one
                             * JSON object text, written back unchanged; NULL when none */
} SettleRecord;

SettleRecord *settle_record_new (void);
void settle_record_free (SettleRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleRecord, settle_record_free)

const char *settle_kind_to_string (SettleKind kind);          /* "device-ca" ... */
/* The one rule for which kinds the trust snapshot publishes, and so what
 * the module, the provider and every export may serve as a TLS anchor:
 * FALSE for a manufacturer CA, which vouches only that a device is
 * genuine (docs/manufacturer.md). */
gboolean settle_kind_is_tls_anchor (SettleKind kind);
gboolean settle_kind_from_string (const char *text, SettleKind *out);
const char *settle_consent_to_string (SettleConsent consent); /* "prompt", "flag" */
gboolean settle_consent_from_string (const char *text, SettleConsent *out);

G_END_DECLS
