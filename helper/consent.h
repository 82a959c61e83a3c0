/* consent.h: the user's explicit yes, asked on the controlling terminal.
 * Nothing is ever trusted without it (REQ-ARCH-05); --yes exists for
 * scripts and is recorded as such in the record.  settle_consent_answer
 * is the manager's consent callback for the terminal (settle-manager.h). */
#pragma once

#include <glib.h>

#include "settle-manager.h"
#include "settle-record.h"

/* The text of the consent prompt for `record` (owned).  `sas` is the
 * short authentication string of a ceremony, or NULL. */
char *settle_consent_describe (const SettleRecord *record, const char *sas);

/* Shows `prompt` and `question` on /dev/tty and reads the answer.  TRUE
 * and *how = SETTLE_CONSENT_PROMPT only when the user typed "yes";
 * with yes_flag, TRUE at once with SETTLE_CONSENT_FLAG.  "no", "n" and
 * "y" (an abbreviation never consents) are a no; anything else asks
 * again, up to three times; end of input (Ctrl-D) is a no.  Without a
 * terminal, or on a no, FALSE with SETTLE_ERROR_REFUSED. */
gboolean settle_consent_obtain (const char *prompt, const char *question, gboolean yes_flag,
                                SettleConsent *how, GError **error);

/* One more yes/no question on /dev/tty, answered as above: *yes is TRUE
 * only for the whole word yes.  FALSE (SETTLE_ERROR_REFUSED) only when
 * there is no terminal. */
gboolean settle_consent_ask (const char *prompt, const char *question, gboolean *yes, GError **error);

/* The manager's question on /dev/tty (SettleManagerEvents.consent): the
 * prompt for each kind of question, then settle_consent_obtain (a no is
 * FALSE with its reason) or, for an extra name, settle_consent_ask. */
gboolean settle_consent_answer (const SettleQuestion *question, gboolean *yes, SettleConsent *how,
                                GError **error);
