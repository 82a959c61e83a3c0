/* ui.h: what every subcommand shares for talking to the user:
 * option parsing with uniform usage errors, one-sentence failures,
 * the store notice, times and colour. */
#pragma once

#include <stdio.h>
#include <glib.h>

#include "settle-store.h"

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

/* Opens the store that SETTLE_STORE or the environment selects and says
 * which one on stderr, once.  Owned result, or NULL with `error`. */
SettleStore *settle_ui_open_store (GError **error);

/* TRUE when `stream` is a terminal that wants colour (NO_COLOR unset). */
gboolean settle_ui_use_colour (FILE *stream);
/* "2026-11-23 09:31 UTC"; owned. */
char *settle_ui_format_time (gint64 unix_seconds);
/* "in 3 months", "in 5 days", "expired 2 days ago"; owned. */
char *settle_ui_relative_time (gint64 when, gint64 now);
/* Joins a NULL-terminated vector with ", " ("-" when empty); owned. */
char *settle_ui_join (char **items);
