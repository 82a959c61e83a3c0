/* ui.h: what every subcommand shares for talking to the user:
 * option parsing with uniform usage errors, one-sentence failures,
 * the manager with the terminal's events (settle-manager.h), times and
 * colour. */
#pragma once

#include <stdio.h>
#include <glib.h>

#include "settle-manager.h"
#include "settle-per-device.h"

/* Parses options; on a usage error prints "settle CMD: ..." and a hint and
 * returns FALSE (the caller exits 2).  Takes ownership of nothing. */
gboolean settle_ui_parse (GOptionContext *context, const char *cmd, int *argc, char ***argv);
/* The same for commands that take options only: a leftover argument is a
 * usage error too. */
gboolean settle_ui_parse_options_only (GOptionContext *context, const char *cmd, int *argc,
                                       char ***argv);

/* Prints "settle CMD: message" on stderr. */
void settle_ui_fail (const char *cmd, const GError *error);
void settle_ui_failf (const char *cmd, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* The manager for the command `cmd` (owned), with the terminal's events:
 * results on stdout; notices as "settle CMD: ...", warnings as "settle:
 * warning: ..." and progress on stderr; the store used only with
 * --verbose; questions on /dev/tty (consent.h).  `extra` (may be NULL)
 * adds the command's own pair_step and device_done callbacks, which get
 * `extra_data`.  Opening the store (settle_manager_store()) finishes a
 * change an earlier command left half done. */
SettleManager *settle_ui_manager (const char *cmd, const SettleManagerEvents *extra, gpointer extra_data);

/* The whole of a per-device command (refresh, renew): parses `context`,
 * whose entries fill `target` and *address (released here), refuses a bad
 * NAME / --all / --address / --timeout as a usage error pointing at
 * 'settle CMD --help', then runs `operation` (settle-per-device.h) with
 * `done` saying how each device went, failures as "settle CMD: LABEL:
 * ..."; with one device a failure is followed by "nothing was changed".
 * Returns the exit status. */
typedef gboolean (*SettleUiDeviceOperation) (SettleManager *manager, const SettleDeviceTarget *target,
                                             guint *failures, GError **error);
int settle_ui_per_device_command (const char *cmd, GOptionContext *context, int argc, char **argv,
                                  SettleDeviceTarget *target, char **address, SettleUiDeviceOperation operation,
                                  void (*done) (const SettleDeviceResult *result, gpointer user_data));

/* Prints SettleAuditProblem (settle-audit.h) `problems` on stdout: a
 * blank line, then `none` when there are none, else "HEADING (N):" and
 * "  kind: message" lines. */
void settle_ui_print_problems (const GPtrArray *problems, const char *none, const char *heading);

/* TRUE when `stream` is a terminal that wants colour (NO_COLOR unset). */
gboolean settle_ui_use_colour (FILE *stream);
/* "2026-11-23 09:31 UTC"; owned. */
char *settle_ui_format_time (gint64 unix_seconds);
/* "in 3 months", "in 5 days", "expired 2 days ago"; owned. */
char *settle_ui_relative_time (gint64 when, gint64 now);
/* Joins a NULL-terminated vector with ", " ("-" when empty); owned. */
char *settle_ui_join (char **items);
