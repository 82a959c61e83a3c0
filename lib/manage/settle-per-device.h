/* per-device.h: what `settle refresh` and `settle renew` share: one paired
 * device by NAME|FINGERPRINT or --all of them, each reached over the
 * network with the same --address and --timeout options, a failure with
 * one device not stopping the others. */
#pragma once

#include <glib.h>

#include "settle-store.h"

#define SETTLE_DEVICE_TIMEOUT_MAX_S 600

typedef struct {
  char *address;   /* HOST:PORT, owned */
  gboolean all;
  int timeout_s;
} SettleDeviceTarget;

/* Does the command's work for one record (borrowed; the step may update
 * it); `options` is the command's own options. */
typedef gboolean (*SettleDeviceStep) (SettleStore *store, SettleRecord *record,
                                      gconstpointer options, GError **error);
/* Which records --all visits. */
typedef gboolean (*SettleDeviceWanted) (const SettleRecord *record);

/* A usage error in NAME / --all / --address / --timeout, or NULL. */
const char *settle_device_target_problem (int argc, const SettleDeviceTarget *target);

/* Runs `step` on the record `query` names, or on every wanted record with
 * --all; prints the failures as `settle CMD: ...`.  Returns the exit
 * status. */
int settle_device_run (const char *cmd, const char *query, const SettleDeviceTarget *target,
                       SettleDeviceWanted wanted, SettleDeviceStep step, gconstpointer options);
