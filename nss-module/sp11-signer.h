/* sp11-signer.h: running settle-signer, the program that holds an identity
 * key for the length of one signature.
 *
 * Why a separate process: the private key lives in the keyring (or the
 * file store), and reaching it takes GLib, D-Bus and libsecret, none of
 * which belongs inside every browser process; and a key that never enters
 * the browser cannot leak from it.  The signer's protocol: docs/nss-module.md,
 * "Device identities". */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sp11-pkcs11.h"

/* How long a signature may take before the signer is killed: a keyring
 * that answers is done in milliseconds, a locked one refuses at once, so
 * this only bounds a hung D-Bus. */
#define SP11_SIGNER_TIMEOUT_MS 10000

/* Signs `digest` with the client key of record `record` (64 hex digits),
 * which must have CKA_ID `key_id`; writes exactly `sig_len` bytes (r || s)
 * to `sig`.  CKR_OK, or CKR_DEVICE_ERROR (locked keyring, timeout, no
 * signer), CKR_KEY_HANDLE_INVALID (the key is gone or is another one), or
 * CKR_FUNCTION_FAILED. */
CK_RV sp11_signer_sign (const char *record, const uint8_t key_id[20], const uint8_t *digest,
                        size_t digest_len, uint8_t *sig, size_t sig_len);
