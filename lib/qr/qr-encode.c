/* qr-encode.c: a SETTLE: payload as a QR code, for terminals and as PNG
 * (libqrencode for the symbol, gdk-pixbuf for the image). */
#include "settle-qr-encode.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <qrencode.h>

#include "settle-base32.h"
#include "settle-error.h"
#include "settle-qr-payload.h"

#define HALF_UPPER "\u2580"
#define HALF_LOWER "\u2584"
#define FULL_BLOCK "\u2588"
#define ANSI_WHITE_ON_BLACK "\033[37;40m"
#define ANSI_RESET "\033[0m"

/* The module matrix, quiet zone not included (owned; free with
 * symbol_free, which wipes it: the modules spell out the secret). */
static QRcode *
symbol_new (const char *text, GError **error)
{
  gsize len = text != NULL ? strlen (text) : 0;
  if (len == 0 || len > SETTLE_QR_PAYLOAD_MAX)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                   "A QR payload must be 1 to %d characters long.", SETTLE_QR_PAYLOAD_MAX);
      return NULL;
    }
  QRcode *code = QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M);
  if (code == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FORMAT,
                 "libqrencode could not encode the payload: %s.", g_strerror (errno));
  return code;
}

static void
symbol_free (QRcode *code)
{
  if (code == NULL)
    return;
  OPENSSL_cleanse (code->data, (size_t) code->width * (size_t) code->width);
  QRcode_free (code);
}

/* TRUE for a dark module; coordinates in the padded grid, where the quiet
 * zone is light. */
static gboolean
is_dark (const QRcode *code, int x, int y)
{
  x -= SETTLE_QR_QUIET_ZONE;
  y -= SETTLE_QR_QUIET_ZONE;
  if (x < 0 || y < 0 || x >= code->width || y >= code->width)
    return FALSE;
  return (code->data[y * code->width + x] & 1) != 0;
}

static const char *
half_block (gboolean top_light, gboolean bottom_light)
{
  if (top_light && bottom_light)
    return FULL_BLOCK;
  if (top_light)
    return HALF_UPPER;
  if (bottom_light)
    return HALF_LOWER;
  return " ";
}

char *
settle_qr_encode_terminal (const char *text, gboolean ansi_colours, GError **error)
{
  QRcode *code = symbol_new (text, error);
  if (code == NULL)
    return NULL;
  int size = code->width + 2 * SETTLE_QR_QUIET_ZONE;
  GString *out = g_string_sized_new ((gsize) (size * size * 2));
  for (int y = 0; y < size; y += 2)
    {
      if (ansi_colours)
        g_string_append (out, ANSI_WHITE_ON_BLACK);
      for (int x = 0; x < size; x++)
        {
          /* A missing last row (odd size) belongs to the quiet zone. */
          gboolean top_light = !is_dark (code, x, y);
          gboolean bottom_light = y + 1 >= size || !is_dark (code, x, y + 1);
          g_string_append (out, half_block (top_light, bottom_light));
        }
      if (ansi_colours)
        g_string_append (out, ANSI_RESET);
      g_string_append_c (out, '\n');
    }
  symbol_free (code);
  return g_string_free (out, FALSE);
}

static void
fill_square (guchar *pixels, int rowstride, int x0, int y0, guint px, guchar value)
{
  for (guint dy = 0; dy < px; dy++)
    memset (pixels + (gsize) (y0 + (int) dy) * (gsize) rowstride + (gsize) x0 * 3, value, px * 3);
}

GdkPixbuf *
settle_qr_encode_pixbuf (const char *text, guint module_px, GError **error)
{
  if (module_px == 0)
    module_px = SETTLE_QR_PNG_MODULE_PX;
  if (module_px > SETTLE_QR_PNG_MODULE_PX_MAX)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "A QR module may be at most %d pixels wide.", SETTLE_QR_PNG_MODULE_PX_MAX);
      return NULL;
    }
  QRcode *code = symbol_new (text, error);
  if (code == NULL)
    return NULL;
  int modules = code->width + 2 * SETTLE_QR_QUIET_ZONE;
  int side = modules * (int) module_px;
  GdkPixbuf *image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, side, side);
  if (image == NULL)
    {
      symbol_free (code);
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                           "Out of memory for the QR image.");
      return NULL;
    }
  guchar *pixels = gdk_pixbuf_get_pixels (image);
  int rowstride = gdk_pixbuf_get_rowstride (image);
  for (int y = 0; y < modules; y++)
    for (int x = 0; x < modules; x++)
      fill_square (pixels, rowstride, x * (int) module_px, y * (int) module_px, module_px,
                   is_dark (code, x, y) ? 0x00 : 0xff);
  symbol_free (code);
  return image;
}

/* The pixels spell out the secret too. */
static void
wipe_pixbuf (GdkPixbuf *image)
{
  guint len = 0;
  guchar *pixels = gdk_pixbuf_get_pixels_with_length (image, &len);
  OPENSSL_cleanse (pixels, len);
}

static gboolean
save_png_private (GdkPixbuf *image, const char *tmp_path, GError **error)
{
  /* Created 0600 before gdk-pixbuf writes into it. */
  int fd = g_open (tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot write the QR image %s: %s.",
                   tmp_path, g_strerror (errno));
      return FALSE;
    }
  close (fd);
  g_autoptr (GError) local = NULL;
  if (!gdk_pixbuf_save (image, tmp_path, "png", &local, NULL))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot write the QR image %s: %s",
                   tmp_path, local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
settle_qr_encode_png (const char *text, const char *path, guint module_px, GError **error)
{
  g_autoptr (GdkPixbuf) image = settle_qr_encode_pixbuf (text, module_px, error);
  if (image == NULL)
    return FALSE;
  g_autofree char *tmp_path = g_strconcat (path, ".tmp", NULL);
  gboolean ok = save_png_private (image, tmp_path, error);
  wipe_pixbuf (image);
  if (ok && g_rename (tmp_path, path) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot move the QR image into place at %s: %s.",
                   path, g_strerror (errno));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp_path);
  return ok;
}
