/* commands.h: the subcommands of `settle`.  Each lives in cmd-NAME.c and
 * returns the process exit code: 0 ok, 1 refused or failed, 2 usage. */
#pragma once

#include <glib.h>

/* 3: `settle discover` only, no avahi-daemon reachable.
 * 4: `settle audit --device` only, the device's bindings hold something
 *    to look at (a foreign admin, a client from before a factory reset,
 *    a CA that is not the pinned one, trust anchors of its own). */
enum {
  SETTLE_EXIT_OK = 0,
  SETTLE_EXIT_FAILED = 1,
  SETTLE_EXIT_USAGE = 2,
  SETTLE_EXIT_UNAVAILABLE = 3,
  SETTLE_EXIT_FLAGGED = 4,
};

typedef int (*SettleCommandFn) (int argc, char **argv);

int settle_cmd_trust (int argc, char **argv);
int settle_cmd_list (int argc, char **argv);
int settle_cmd_show (int argc, char **argv);
int settle_cmd_remove (int argc, char **argv);
int settle_cmd_export (int argc, char **argv);
int settle_cmd_install (int argc, char **argv);
int settle_cmd_uninstall (int argc, char **argv);
int settle_cmd_pair (int argc, char **argv);
int settle_cmd_reset (int argc, char **argv);
int settle_cmd_audit (int argc, char **argv);
int settle_cmd_refresh (int argc, char **argv);
int settle_cmd_renew (int argc, char **argv);
int settle_cmd_discover (int argc, char **argv);
int settle_cmd_device (int argc, char **argv);
/* `settle audit --device NAME` (cmd-device.c); `expected` are the
 * --expect-admin fingerprints (may be NULL). */
int settle_audit_device (const char *device, const char *address, int timeout_s, char **expected, gboolean json);
