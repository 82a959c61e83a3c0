/* settle-fingerprint.h: SHA-256 fingerprints, the ids of records
 * (fingerprint.c).
 *
 * Ownership: returned strings are owned by the caller (g_free). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fingerprints: parse user input (hex, colons or spaces optional, any case)
 * into the canonical lowercase 64-hex form; compute one from DER. */
char *settle_fingerprint_parse (const char *text, GError **error);
/* TRUE for exactly 64 lowercase hex digits, the form records are keyed by. */
gboolean settle_fingerprint_is_canonical (const char *text);
char *settle_fingerprint_of_der (const guint8 *der, gsize len);
/* "AB:CD:..." form for people. */
char *settle_fingerprint_pretty (const char *hex);

G_END_DECLS
