/* settle-conf.h: the user's settle.conf ($XDG_CONFIG_HOME/settle/settle.conf),
 * where settle remembers what it did outside the store: the NSS databases
 * it registered the module in ([install] nssdbs) and the exports it keeps
 * up to date ([export] dirs, pem-files).  One loader, one saver, one set of
 * list operations for every part of the helper.
 *
 * A missing or unreadable file is empty: the memory helps `audit`, `reset`
 * and refreshes, and is never a reason to refuse a command.  Every list
 * returned is owned and never NULL. */
#pragma once

#include <glib.h>

/* The list `key` of `group` (owned, NULL-terminated, possibly empty). */
char **settle_conf_list (const char *group, const char *key);

/* Adds `value` to the list (at the end) or takes it out, saving the file
 * only when the list changes; *changed (may be NULL) tells whether it did. */
gboolean settle_conf_list_add (const char *group, const char *key, const char *value, GError **error);
gboolean settle_conf_list_remove (const char *group, const char *key, const char *value,
                                  gboolean *changed, GError **error);

/* Forgets the whole list. */
gboolean settle_conf_list_clear (const char *group, const char *key, GError **error);
