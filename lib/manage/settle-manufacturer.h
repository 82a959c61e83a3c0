/* settle-manufacturer.h: what a device's manufacturer identity proves at
 * pairing (schema/voucher.md, docs/manufacturer.md).
 *
 * A voucher is an addition, never a replacement: the QR/SPAKE2 ceremony
 * still authenticates the device, and the user is still asked.  What it
 * adds, when the user trusts the device's manufacturer
 * (`settle trust --manufacturer`), is the prompt's "made by ... (verified)".
 *
 * The check, in order, each refusal with its own sentence
 * (SETTLE_ERROR_VOUCHER) so that pairing stops and nothing is stored:
 *   anchor   the manufacturer anchors whose subject is the issuer named at
 *            the top of the device's IDevID chain; none: no refusal, a
 *            note (the device is paired without the voucher)
 *   chain    the IDevID chains to one of them (X509_verify_cert)
 *   idevid   the IDevID is an end entity allowed to sign (no CA:TRUE;
 *            keyUsage, when present, with digitalSignature)
 *   scope    that anchor's scope covers the name being paired
 *   voucher  its CMS signature verifies with the IDevID key (forged)
 *   serial   it names the IDevID's serialNumber
 *   time     created-on not in the future, expires-on not past, and a
 *            lifetime of at most SETTLE_VOUCHER_MAX_LIFETIME_S
 *   nonce    it carries this ceremony's nonce (replayed otherwise)
 *   name     it binds the name being paired
 *   key      it binds the key being trusted (the device CA, or the pinned
 *            leaf)
 *
 * Ownership: everything passed in is borrowed; *manufacturer and *note
 * are owned. */
#pragma once

#include <glib.h>

#include "settle-ceremony-client.h"

G_BEGIN_DECLS

/* `records`: every record of the store (SettleRecord*, borrowed).  TRUE
 * with *manufacturer = the label of the anchor that verified the
 * voucher, or NULL when the device offered none (*note NULL) or offered
 * one from a manufacturer the user does not trust (*note says so).
 * FALSE with `error` when the voucher or IDevID must be refused. */
gboolean settle_manufacturer_check (GPtrArray *records, const SettlePairResult *result, char **manufacturer,
                                    char **note, GError **error);

G_END_DECLS
