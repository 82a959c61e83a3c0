/* settle-qr-encode.h: drawing a `SETTLE:` payload (settle-qr-payload.h)
 * as a QR code, through libqrencode (byte mode, error correction level M,
 * schema/qr-payload.md "Size"), with the 4-module quiet zone that ISO/IEC
 * 18004 asks for so that readers find the code on any background.
 *
 * The text holds the pairing secret: results that contain it are owned
 * and must be freed with settle_base32_wipe_free() (terminal text);
 * nothing here logs it.  Errors: SETTLE_ERROR_FORMAT for text that cannot
 * be encoded, SETTLE_ERROR_FAILED for an image that cannot be written. */
#pragma once

#include <glib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

#define SETTLE_QR_QUIET_ZONE 4           /* modules on each side */
#define SETTLE_QR_PNG_MODULE_PX 8        /* default pixels per module */
#define SETTLE_QR_PNG_MODULE_PX_MAX 64

/* The code as UTF-8 text for a terminal: two module rows per line with
 * the half blocks U+2580/U+2584/U+2588, light modules drawn as blocks.
 * With `ansi_colours` each line sets white on black explicitly, so the
 * code reads the same on light and dark terminals.  Owned; free with
 * settle_base32_wipe_free(). */
char *settle_qr_encode_terminal (const char *text, gboolean ansi_colours, GError **error);

/* The code as an RGB image, `module_px` pixels per module (1..64; 0 =
 * SETTLE_QR_PNG_MODULE_PX), quiet zone included.  Owned. */
GdkPixbuf *settle_qr_encode_pixbuf (const char *text, guint module_px, GError **error);

/* Writes the image as PNG to `path` (mode 0600: it holds the secret),
 * through a temporary file and rename, so that a reader never sees half
 * a file. */
gboolean settle_qr_encode_png (const char *text, const char *path, guint module_px, GError **error);

G_END_DECLS
