/* qr-decode.c: a settle QR code from a picture (gdk-pixbuf + zbar's image
 * scanner) or from a camera (zbar's processor).  See settle-qr-decode.h. */
#include "settle-qr-decode.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <zbar.h>

#include "settle-error.h"
#include "settle-qr-payload.h"

#define READ_CHUNK (64u * 1024u)
#define SETTLE_PREFIX "SETTLE:"
/* QR readers may append a newline or two; the payload bound excludes them. */
#define DECODED_TEXT_MAX (SETTLE_QR_PAYLOAD_MAX + 16)
/* Photos get rescanned smaller down to about this many pixels on the long
 * side: below it the modules of a version 9 code would merge. */
#define RESCAN_MIN_SIDE 320u
#define RESCAN_FACTOR_MAX 8u

/* ---- what a scan found ---- */

typedef enum {
  FOUND_NOTHING,    /* no QR code at all */
  FOUND_FOREIGN,    /* QR codes, none of them a settle code */
  FOUND_SETTLE,
} FoundKind;

static gboolean
is_settle_text (const char *data, unsigned int len)
{
  gsize prefix_len = strlen (SETTLE_PREFIX);

  return len >= prefix_len && len <= DECODED_TEXT_MAX && memchr (data, '\0', len) == NULL
         && g_ascii_strncasecmp (data, SETTLE_PREFIX, prefix_len) == 0;
}

/* Looks through a chain of zbar symbols; on a settle code, *text_out gets
 * an owned copy of its text. */
static FoundKind
pick_settle_symbol (const zbar_symbol_t *symbol, char **text_out)
{
  FoundKind found = FOUND_NOTHING;

  for (; symbol != NULL; symbol = zbar_symbol_next (symbol))
    {
      if (zbar_symbol_get_type (symbol) != ZBAR_QRCODE)
        continue;
      const char *data = zbar_symbol_get_data (symbol);
      unsigned int len = zbar_symbol_get_data_length (symbol);
      if (data != NULL && is_settle_text (data, len))
        {
          *text_out = g_strndup (data, len);
          return FOUND_SETTLE;
        }
      found = FOUND_FOREIGN;
    }
  return found;
}

static void
configure_for_qr (int (*set_config) (void *, zbar_symbol_type_t, zbar_config_t, int), void *target)
{
  /* Only QR codes: the other symbologies find phantom barcodes in noise. */
  set_config (target, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  set_config (target, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  /* Raw bytes: no character set guessing on an ASCII payload. */
  set_config (target, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
}

static int
scanner_set_config (void *scanner, zbar_symbol_type_t symbology, zbar_config_t config, int value)
{
  return zbar_image_scanner_set_config (scanner, symbology, config, value);
}

static int
processor_set_config (void *processor, zbar_symbol_type_t symbology, zbar_config_t config, int value)
{
  return zbar_processor_set_config (processor, symbology, config, value);
}

static FoundKind
scan_gray_once (zbar_image_scanner_t *scanner, const guint8 *pixels, guint width, guint height,
                char **text_out)
{
  zbar_image_t *image = zbar_image_create ();
  FoundKind found = FOUND_NOTHING;

  zbar_image_set_format (image, zbar_fourcc ('Y', '8', '0', '0'));
  zbar_image_set_size (image, width, height);
  /* Borrowed pixels: no cleanup handler. */
  zbar_image_set_data (image, pixels, (unsigned long) width * height, NULL);
  if (zbar_scan_image (scanner, image) > 0)
    found = pick_settle_symbol (zbar_image_first_symbol (image), text_out);
  zbar_image_destroy (image);
  return found;
}

/* ---- rasters ---- */

/* Copies a strided raster into a tight one, as zbar wants it. */
static guint8 *
gray_pack (const guint8 *pixels, guint width, guint height, gsize stride)
{
  guint8 *packed = g_malloc ((gsize) width * height);

  for (guint y = 0; y < height; y++)
    memcpy (packed + (gsize) y * width, pixels + (gsize) y * stride, width);
  return packed;
}

/* Box-filter shrink by an integer factor: averaging removes the sensor
 * noise and JPEG ringing that make zbar's binarizer see false edges. */
static guint8 *
gray_shrink (const guint8 *pixels, guint width, guint height, guint factor, guint *out_width,
             guint *out_height)
{
  guint w = width / factor, h = height / factor;
  guint8 *out = g_malloc ((gsize) w * h);

  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      {
        guint sum = 0;
        for (guint dy = 0; dy < factor; dy++)
          {
            const guint8 *row = pixels + ((gsize) y * factor + dy) * width + (gsize) x * factor;
            for (guint dx = 0; dx < factor; dx++)
              sum += row[dx];
          }
        out[(gsize) y * w + x] = (guint8) (sum / (factor * factor));
      }
  *out_width = w;
  *out_height = h;
  return out;
}

static FoundKind
scan_gray_at_sizes (const guint8 *packed, guint width, guint height, char **text_out)
{
  zbar_image_scanner_t *scanner = zbar_image_scanner_create ();
  FoundKind best = FOUND_NOTHING;

  configure_for_qr (scanner_set_config, scanner);
  best = scan_gray_once (scanner, packed, width, height, text_out);
  for (guint factor = 2; best != FOUND_SETTLE && factor <= RESCAN_FACTOR_MAX
                         && MAX (width, height) / factor >= RESCAN_MIN_SIDE;
       factor++)
    {
      guint w, h;
      g_autofree guint8 *small = gray_shrink (packed, width, height, factor, &w, &h);
      FoundKind found = scan_gray_once (scanner, small, w, h, text_out);
      best = MAX (best, found);
    }
  zbar_image_scanner_destroy (scanner);
  return best;
}

static char *
text_or_error (FoundKind found, char *text, GError **error)
{
  switch (found)
    {
    case FOUND_SETTLE:
      return text;
    case FOUND_FOREIGN:
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The picture holds a QR code, but not a settle pairing code "
                           "(its text does not start with SETTLE:).");
      return NULL;
    case FOUND_NOTHING:
      break;
    }
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                       "No QR code was found in the picture; take it again with the whole code "
                       "in view, sharp and evenly lit.");
  return NULL;
}

char *
settle_qr_decode_gray (const guint8 *pixels, guint width, guint height, gsize stride,
                       GError **error)
{
  char *text = NULL;

  if (width == 0 || height == 0 || stride < width
      || (guint64) width * height > SETTLE_QR_IMAGE_MAX_PIXELS)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The picture is empty or too large to scan.");
      return NULL;
    }
  g_autofree guint8 *packed = gray_pack (pixels, width, height, stride);
  FoundKind found = scan_gray_at_sizes (packed, width, height, &text);
  return text_or_error (found, text, error);
}

/* ITU-R BT.601 luma in 8.8 fixed point; transparent pixels count as
 * white, the background a screenshot with alpha is shown on. */
static guint8
luma_of (const guint8 *px, int channels)
{
  guint y = (77u * px[0] + 150u * px[1] + 29u * px[2]) >> 8;

  if (channels == 4)
    y = (y * px[3] + 255u * (255u - px[3])) / 255u;
  return (guint8) y;
}

static guint8 *
pixbuf_to_gray (GdkPixbuf *pixbuf, guint *width_out, guint *height_out)
{
  guint width = (guint) gdk_pixbuf_get_width (pixbuf);
  guint height = (guint) gdk_pixbuf_get_height (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  gsize stride = (gsize) gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  guint8 *gray = g_malloc ((gsize) width * height);

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      gray[(gsize) y * width + x] = luma_of (pixels + y * stride + (gsize) x * channels, channels);
  *width_out = width;
  *height_out = height;
  return gray;
}

/* ---- loading pictures ---- */

typedef struct {
  gboolean too_large;
} LoadCheck;

static void
on_size_prepared (GdkPixbufLoader *loader, int width, int height, gpointer user_data)
{
  LoadCheck *check = user_data;

  (void) loader;
  if (width <= 0 || height <= 0 || (guint64) width * (guint64) height > SETTLE_QR_IMAGE_MAX_PIXELS)
    check->too_large = TRUE;
}

static gboolean
refuse_too_large (GError **error)
{
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
               "The picture is too large to scan (more than %u megapixels); use a smaller photo "
               "or a screenshot.", SETTLE_QR_IMAGE_MAX_PIXELS / (1024u * 1024u));
  return FALSE;
}

/* Feeds the loader in chunks so that an oversized picture is refused as
 * soon as its header announces the size, before the pixels are decoded. */
static gboolean
feed_loader (GdkPixbufLoader *loader, const LoadCheck *check, const guint8 *data, gsize len,
             GError **error)
{
  for (gsize done = 0; done < len; done += READ_CHUNK)
    {
      gsize n = MIN (READ_CHUNK, len - done);
      if (!gdk_pixbuf_loader_write (loader, data + done, n, error))
        return FALSE;
      if (check->too_large)
        return refuse_too_large (error);
    }
  return TRUE;
}

static GdkPixbuf *
load_pixbuf (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  g_autoptr (GError) local_error = NULL;
  LoadCheck check = { FALSE };
  gboolean fed;

  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);
  fed = feed_loader (loader, &check, data, len, &local_error);
  /* Closing is needed in every case; its error matters only after a good feed. */
  if (!gdk_pixbuf_loader_close (loader, fed ? &local_error : NULL) && fed)
    fed = FALSE;
  if (!fed)
    {
      if (local_error != NULL && local_error->domain == SETTLE_ERROR)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                     "The file is not a picture that can be read (PNG or JPEG expected): %s",
                     local_error != NULL ? local_error->message : "unknown format");
      return NULL;
    }
  GdkPixbuf *pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8
      || gdk_pixbuf_get_n_channels (pixbuf) < 3)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The picture uses a pixel format that cannot be scanned.");
      return NULL;
    }
  return g_object_ref (pixbuf);
}

char *
settle_qr_decode_image_bytes (const guint8 *data, gsize len, GError **error)
{
  guint width, height;

  if (len == 0)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                           "The picture is empty (no bytes were read).");
      return NULL;
    }
  if (len > SETTLE_QR_IMAGE_MAX_BYTES)
    {
      refuse_too_large (error);
      return NULL;
    }
  g_autoptr (GdkPixbuf) pixbuf = load_pixbuf (data, len, error);
  if (pixbuf == NULL)
    return NULL;
  g_autofree guint8 *gray = pixbuf_to_gray (pixbuf, &width, &height);
  return settle_qr_decode_gray (gray, width, height, width, error);
}

/* Reads all of `fd`, refusing more than SETTLE_QR_IMAGE_MAX_BYTES. */
static GByteArray *
read_bounded (int fd, const char *what, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  guint8 chunk[READ_CHUNK];

  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "Cannot read %s: %s.", what,
                       g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        return g_steal_pointer (&bytes);
      if (bytes->len + (gsize) n > SETTLE_QR_IMAGE_MAX_BYTES)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                       "%s is larger than %u MiB; that is not a QR code picture.", what,
                       SETTLE_QR_IMAGE_MAX_BYTES / (1024u * 1024u));
          return NULL;
        }
      g_byte_array_append (bytes, chunk, (guint) n);
    }
}

char *
settle_qr_decode_file (const char *path, GError **error)
{
  gboolean from_stdin = g_strcmp0 (path, "-") == 0;
  g_autofree char *what = from_stdin ? g_strdup ("standard input") : g_strdup_printf ("the file %s", path);
  int fd = from_stdin ? STDIN_FILENO : open (path, O_RDONLY | O_CLOEXEC);
  g_autoptr (GByteArray) bytes = NULL;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT, "Cannot open %s: %s.", path,
                   g_strerror (saved));
      return NULL;
    }
  bytes = read_bounded (fd, what, error);
  if (!from_stdin)
    close (fd);
  if (bytes == NULL)
    return NULL;
  char *text = settle_qr_decode_image_bytes (bytes->data, bytes->len, error);
  if (text == NULL)
    g_prefix_error (error, "%s: ", from_stdin ? "Standard input" : path);
  return text;
}

/* ---- camera ---- */

/* Checked before zbar opens anything, whose own messages span several
 * lines of V4L2 detail. */
static gboolean
camera_exists (const char *device, GError **error)
{
  struct stat st;

  if (stat (device, &st) != 0)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                 "There is no camera at %s; photograph the code with another device and use "
                 "--qr FILE, or type the code with --code.", device);
  else if (!S_ISCHR (st.st_mode))
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                 "%s is not a camera (not a video device); give the camera's device, such as "
                 "/dev/video0.", device);
  else
    return TRUE;
  return FALSE;
}

static FoundKind
processor_results (zbar_processor_t *processor, char **text_out)
{
  const zbar_symbol_set_t *results = zbar_processor_get_results (processor);
  FoundKind found = FOUND_NOTHING;

  if (results != NULL)
    {
      found = pick_settle_symbol (zbar_symbol_set_first_symbol (results), text_out);
      zbar_symbol_set_ref ((zbar_symbol_set_t *) results, -1);
    }
  return found;
}

/* Scans frames until a settle code shows up (foreign QR codes in view,
 * such as a Wi-Fi code beside it, are skipped) or time runs out. */
static FoundKind
watch_camera (zbar_processor_t *processor, guint timeout_ms, char **text_out)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  FoundKind best = FOUND_NOTHING;

  while (best != FOUND_SETTLE)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      if (left_ms <= 0)
        break;
      int status = zbar_process_one (processor, (int) MIN (left_ms, G_MAXINT));
      if (status < 0)
        break;
      if (status > 0)
        best = MAX (best, processor_results (processor, text_out));
    }
  return best;
}

char *
settle_qr_decode_camera (const char *device, guint timeout_ms, GError **error)
{
  const char *path = device != NULL ? device : SETTLE_QR_CAMERA_DEFAULT;
  zbar_processor_t *processor;
  char *text = NULL;
  FoundKind found;

  if (!camera_exists (path, error))
    return NULL;
  processor = zbar_processor_create (0);
  configure_for_qr (processor_set_config, processor);
  if (zbar_processor_init (processor, path, 0) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "The camera at %s could not be opened for video capture (in use, or not a "
                   "camera); use --qr FILE with a photo of the code instead.", path);
      zbar_processor_destroy (processor);
      return NULL;
    }
  zbar_processor_set_active (processor, 1);
  found = watch_camera (processor, timeout_ms, &text);
  zbar_processor_set_active (processor, 0);
  zbar_processor_destroy (processor);
  if (found == FOUND_SETTLE)
    return text;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
               found == FOUND_FOREIGN
                 ? "The camera saw QR codes, but no settle pairing code, within %u seconds."
                 : "The camera saw no QR code within %u seconds; hold the code steady in front of it.",
               timeout_ms / 1000);
  return NULL;
}
