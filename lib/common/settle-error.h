/* settle-error.h: the one GError domain of the core library.
 * Every refusal carries one of these codes and a one-sentence message that
 * a user can act on; callers print error->message as it is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SETTLE_ERROR (settle_error_quark ())
GQuark settle_error_quark (void);

typedef enum {
  SETTLE_ERROR_FAILED,       /* anything not covered below */
  SETTLE_ERROR_SCOPE,        /* a name or scope outside .local, home.arpa, .alt */
  SETTLE_ERROR_CERT,         /* unusable certificate: not a CA, expired, weak key, bad names */
  SETTLE_ERROR_FINGERPRINT,  /* fingerprint malformed or not matching */
  SETTLE_ERROR_NOT_FOUND,    /* no such record */
  SETTLE_ERROR_EXISTS,       /* the anchor is already trusted */
  SETTLE_ERROR_AMBIGUOUS,    /* a name matches several records */
  SETTLE_ERROR_STORE,        /* the store could not be read or written */
  SETTLE_ERROR_LOCKED,       /* the keyring is locked or refused to unlock */
  SETTLE_ERROR_FORMAT,       /* malformed record, snapshot, payload or message */
  SETTLE_ERROR_REFUSED,      /* the user (or the lack of a terminal) said no */
  SETTLE_ERROR_NETWORK,      /* connection, timeout, TLS failure */
  SETTLE_ERROR_PROTOCOL,     /* the peer broke the ceremony protocol */
  SETTLE_ERROR_AUTH,         /* wrong code, wrong key, failed confirmation */
  SETTLE_ERROR_VOUCHER,      /* a manufacturer voucher that does not verify (settle-voucher.h) */
} SettleErrorCode;

G_END_DECLS
