/* settle-qr-decode.h: reading a device's QR code from a picture or a camera.
 *
 * Pictures (PNG, JPEG and whatever else gdk-pixbuf loads: screenshots,
 * phone photos) are converted to 8-bit grayscale (Y800) and scanned with
 * zbar's image scanner.  Photos are scanned at several sizes, because a
 * blurred or noisy code that defeats the scanner at full size often reads
 * once it is scaled down.  The camera path uses zbar's processor (V4L2).
 *
 * What comes back is the text of the first QR code whose text starts with
 * "SETTLE:" (schema/qr-payload.md); the caller parses it.  The text holds
 * the pairing secret: it is owned and must be released with
 * settle_base32_wipe_free().
 *
 * Bounds: files and standard input of at most SETTLE_QR_IMAGE_MAX_BYTES,
 * images of at most SETTLE_QR_IMAGE_MAX_PIXELS, decoded text of at most
 * SETTLE_QR_PAYLOAD_MAX characters.  Errors: SETTLE_ERROR_FORMAT (not an
 * image, too large, no QR code, a QR code that is not a settle code),
 * SETTLE_ERROR_FAILED (no camera, camera unusable, nothing seen in time). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SETTLE_QR_IMAGE_MAX_BYTES (64u * 1024u * 1024u)
#define SETTLE_QR_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)
#define SETTLE_QR_CAMERA_DEFAULT "/dev/video0"

/* From an image file; `path` "-" reads standard input. */
char *settle_qr_decode_file (const char *path, GError **error);
/* From image bytes already in memory (borrowed). */
char *settle_qr_decode_image_bytes (const guint8 *data, gsize len, GError **error);
/* From an 8-bit grayscale raster, `stride` bytes per row (borrowed). */
char *settle_qr_decode_gray (const guint8 *pixels, guint width, guint height, gsize stride,
                             GError **error);
/* From a camera (`device` NULL means SETTLE_QR_CAMERA_DEFAULT), waiting at
 * most `timeout_ms` for a settle code to come into view. */
char *settle_qr_decode_camera (const char *device, guint timeout_ms, GError **error);

G_END_DECLS
