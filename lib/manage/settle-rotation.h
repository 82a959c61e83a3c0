/* settle-rotation.h: following a device CA rotation (`settle-device rotate`)
 * without asking the user again, and refusing anything else.
 *
 * A device that rotated presents its new TLS leaf and a cross certificate:
 * the new CA's subject and key, issued and signed by the CA we trust.  The
 * new CA is accepted only when that cross certificate verifies with the
 * trusted CA's key, is a usable CA, and the leaf chains to it with every
 * DNS name inside the record's scope.  A device whose chain does not lead
 * back to the trusted CA has new keys (a factory reset, or another device
 * at that address): it must be paired again.
 *
 * Ownership: certificates passed in are borrowed; the new record is owned. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

#include "settle-record.h"

typedef enum {
  SETTLE_ROTATION_UNCHANGED = 1,  /* the leaf still chains straight to the trusted CA */
  SETTLE_ROTATION_FOLLOWED,       /* *new_record holds the rotated binding */
} SettleRotation;

/* `where` ("host:port") is for messages.  Returns 0 with `error` when the
 * device is refused (SETTLE_ERROR_AUTH: new keys; SETTLE_ERROR_CERT:
 * unusable certificates or names outside the scope). */
SettleRotation settle_rotation_judge (const SettleRecord *record, X509 *leaf, STACK_OF (X509) *chain,
                                      const char *where, SettleRecord **new_record, GError **error);
