/* settle-device-admin.h: a paired device's own bindings, read and changed
 * with this computer's client identity for it (REQ-ARCH-04a/b; the
 * device side is docs/device.md, "Binding audit and roles", and
 * schema/bindings.schema.json).
 *
 *   audit        GET /.well-known/settle/bindings, and what the user should
 *                look at (flags, as SettleAuditProblem):
 *                  foreign-admin          an admin that is neither this
 *                                         computer nor one the user named
 *                  enrolled-before-reset  a client from another factory-reset
 *                                         epoch, or enrolled before it began
 *                  ca-mismatch            the device's current CA key is not
 *                                         the one this computer pinned
 *                  device-trusts-others   the device lists trust anchors
 *   revoke/role  POST .../clients/<fingerprint>/revoke or /role, after a yes
 *                to SETTLE_QUESTION_DEVICE_CHANGE (or at once with `yes`).
 *   origins      the web origins the device lets reach it from a browser:
 *                read from the bindings; changed with PUT .../origins after
 *                a yes to SETTLE_QUESTION_DEVICE_ORIGINS.  What the user
 *                typed is checked and made canonical first
 *                (settle-web-origin.h): a bad origin never reaches the
 *                network.
 *
 * The device is reached where settle-per-device.h's target says (--address,
 * else the address it was paired at; when nothing answers there, where
 * DNS-SD and its name say, as settle renew does), proving its first name
 * with a chain to the record's anchor, with the record's client
 * certificate.
 *
 * Ownership: a SettleDeviceAudit owns everything in it. */
#pragma once

#include "settle-audit.h"
#include "settle-manager.h"
#include "settle-per-device.h"

G_BEGIN_DECLS

typedef struct {
  char *fingerprint;      /* SHA-256 of the client key, 64 hex */
  char *role;
  char *enrolled_at;
  char *enrolled_by;      /* "ceremony" or "renewal" */
  char *epoch;
  gboolean is_you;        /* this computer */
  gboolean expected;      /* named by the user as a known admin */
} SettleDeviceClient;

/* The device's own manufacturer identity (IEEE 802.1AR IDevID), as its
 * bindings state it. */
typedef struct {
  char *serial_number;    /* from the IDevID subject */
  char *issuer;           /* RFC 2253 */
  char *sha256;           /* of the IDevID certificate (checked against chain_pem) */
  char *chain_pem;        /* the IDevID, then its issuing CAs */
} SettleDeviceManufacturerIdentity;

typedef struct {
  char *label;            /* the record's */
  char *device;           /* the name the device gives */
  char *pinned;           /* SHA-256 of the key of the CA this computer pinned, 64 hex */
  char *device_ca;        /* SHA-256 of the DER of the device's current CA */
  char *device_ca_key;    /* SHA-256 of its key */
  char *you;              /* this computer's client key fingerprint */
  char *epoch, *since;    /* the device's factory-reset epoch */
  GPtrArray *clients;     /* SettleDeviceClient* */
  guint trust_anchors;
  char **origins;         /* allowed web origins */
  /* The device's manufacturer identity; NULL with `manufacturer_stated`:
   * the device says it has none; NULL without: a device from before the
   * member, which says nothing either way. */
  SettleDeviceManufacturerIdentity *manufacturer;
  gboolean manufacturer_stated;
  GPtrArray *flags;       /* SettleAuditProblem* */
} SettleDeviceAudit;

void settle_device_audit_free (SettleDeviceAudit *audit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleDeviceAudit, settle_device_audit_free)

/* The bindings of the device `target->query` names, with flags;
 * `expected_admins` (may be NULL) are key fingerprints of admins the user
 * knows about.  NULL with `error`: the device could not be reached or
 * refused (a guest gets SETTLE_ERROR_REFUSED: only admins may audit), or
 * its answer does not follow the schema (SETTLE_ERROR_PROTOCOL). */
SettleDeviceAudit *settle_manager_audit_device (SettleManager *manager, const SettleDeviceTarget *target,
                                                const char *const *expected_admins, GError **error);

/* `fingerprint`: 64 hex digits (colons and case do not matter). */
gboolean settle_manager_device_revoke_client (SettleManager *manager, const SettleDeviceTarget *target,
                                              const char *fingerprint, gboolean yes, GError **error);
/* `role`: admin, user or guest. */
gboolean settle_manager_device_set_role (SettleManager *manager, const SettleDeviceTarget *target,
                                         const char *fingerprint, const char *role, gboolean yes, GError **error);

/* The web origins the device allows now (owned, NULL-terminated; empty:
 * no web page), from its bindings (only admins may read them). */
char **settle_manager_device_origins (SettleManager *manager, const SettleDeviceTarget *target, GError **error);

/* Adds `allow` to the device's allowed web origins and takes `disallow`
 * off (either may be NULL or empty).  Every origin is checked and made
 * canonical before anything else (SETTLE_ERROR_FAILED with the reason,
 * nothing sent); one in both lists is refused too.  Then the device's
 * list is read, and when it would change (origins already allowed, or
 * not allowed, are noted and skipped), SETTLE_QUESTION_DEVICE_ORIGINS is
 * asked (unless `yes`) and the new list sent.  *result (owned, may be
 * NULL): the list the device holds afterwards. */
gboolean settle_manager_device_change_origins (SettleManager *manager, const SettleDeviceTarget *target,
                                               const char *const *allow, const char *const *disallow, gboolean yes,
                                               char ***result, GError **error);

/* A key fingerprint in canonical form (owned: 64 lowercase hex), or NULL
 * with SETTLE_ERROR_FINGERPRINT. */
char *settle_device_key_fingerprint_parse (const char *text, GError **error);

G_END_DECLS
