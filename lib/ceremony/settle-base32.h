/* settle-base32.h: the two text forms of a pairing secret.
 *
 * 1. RFC 4648 base32 (alphabet A-Z 2-7, uppercase, no padding): the `S:`
 *    field of the QR payload (schema/qr-payload.md).
 * 2. The typing code: the same secret for people who type it, in Crockford's
 *    alphabet (no I, L, O, U), in groups of 4 joined by '-', ending with one
 *    check character computed in GF(32) that catches every single mistyped
 *    character and every swap of two neighbours (schema/qr-payload.md,
 *    "Typing code").
 *
 * Secrets never go to the heap through this API unless the caller asks for
 * text: decoders write into a caller-owned buffer; encoders return owned
 * text that must be released with settle_base32_wipe_free(), which clears it
 * first.  Refusals use SETTLE_ERROR_FORMAT and never quote the secret. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Secret sizes in bytes: 16, 20 or 32 (128, 160 or 256 bits; at least 128
 * for REQ-TRUST-02, 160 recommended).  Only these three, so that the
 * typing codes of any two sizes differ by at least two characters: a
 * dropped or doubled character can never yield another valid length. */
#define SETTLE_SECRET_MIN_BYTES 16
#define SETTLE_SECRET_RECOMMENDED_BYTES 20
#define SETTLE_SECRET_MAX_BYTES 32

/* TRUE for 16, 20 and 32. */
gboolean settle_base32_secret_length_ok (gsize len);

/* Longest base32 text of a secret (32 bytes -> 52 characters). */
#define SETTLE_BASE32_SECRET_MAX_CHARS 52
/* Longest typing code the parser looks at, separators and spaces included. */
#define SETTLE_TYPING_CODE_INPUT_MAX 128

/* RFC 4648 base32 of `data`, uppercase, without '=' padding.  Owned. */
char *settle_base32_encode (const guint8 *data, gsize len);

/* Decodes canonical RFC 4648 base32 (uppercase, no padding, unused low bits
 * zero) into `out` (caller-owned, `out_size` bytes).  Sets *out_len.
 * Refuses lowercase, padding, foreign characters, impossible lengths and
 * results longer than out_size. */
gboolean settle_base32_decode (const char *text, guint8 *out, gsize out_size,
                               gsize *out_len, GError **error);

/* The typing code of a secret of an allowed length (16, 20 or 32 bytes),
 * e.g. "7KQ3-M0ZD-...-X".  Owned; free with settle_base32_wipe_free().
 * Returns NULL for any other length. */
char *settle_base32_code_format (const guint8 *secret, gsize len);

/* Reads a typing code as people type it: any case, '-' and spaces anywhere,
 * I and L read as 1, O read as 0.  Writes the secret into `out`
 * (caller-owned, at least SETTLE_SECRET_MAX_BYTES bytes is always enough)
 * and sets *out_len.  A wrong check character is reported as a typo. */
gboolean settle_base32_code_parse (const char *code, guint8 *out, gsize out_size,
                                   gsize *out_len, GError **error);

/* Clears and frees text that holds a secret (NULL is fine). */
void settle_base32_wipe_free (char *text);

G_END_DECLS
