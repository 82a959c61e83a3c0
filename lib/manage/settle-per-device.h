/* settle-per-device.h: what `settle refresh` and `settle renew` do, one
 * paired device by NAME|FINGERPRINT or --all of them, each reached over
 * the network with the same address and timeout, a failure with one
 * device not stopping the others.
 *
 *   refresh  look at what the device presents now (settle-tls-probe.h) and
 *            follow a CA rotation that the trusted CA cross-signed, without
 *            a question (settle-rotation.h); refuse a device with new keys
 *   renew    a new client certificate for a fresh key over mutual TLS
 *            with the current one (settle-renewal.h), in the certificate's
 *            last SETTLE_RENEW_BEFORE_DAYS days or at once with `force`;
 *            stored without a question, since trust does not change
 *
 * Each device done is reported through the manager's device_done
 * callback.  With one device, its failure is the operation's error;
 * with --all, each failure is a SETTLE_DEVICE_FAILED result and counted
 * in *failures, and the operation fails only when the store cannot be
 * read.
 *
 * Ownership: the target is borrowed. */
#pragma once

#include "settle-manager.h"

G_BEGIN_DECLS

#define SETTLE_DEVICE_TIMEOUT_MAX_S 600
#define SETTLE_RENEW_BEFORE_DAYS 30

typedef struct {
  const char *query;     /* NAME or FINGERPRINT; NULL with `all` */
  gboolean all;          /* every device the operation applies to */
  const char *address;   /* HOST:PORT, or NULL: where it was paired, else its name */
  int timeout_s;         /* per network step */
  gboolean force;        /* renew: now, not only in the last days */
} SettleDeviceTarget;

gboolean settle_manager_refresh (SettleManager *manager, const SettleDeviceTarget *target, guint *failures,
                                 GError **error);
gboolean settle_manager_renew (SettleManager *manager, const SettleDeviceTarget *target, guint *failures,
                               GError **error);

/* The stored key of `record`'s client certificate (owned secret,
 * settle_secure_bytes_free), with a sentence that says to pair again when
 * it is missing. */
GBytes *settle_manager_client_key (SettleManager *manager, const SettleRecord *record, GError **error);

G_END_DECLS
