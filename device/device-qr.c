/* device-qr.c: the current pairing secret as a SETTLE: payload, drawn on
 * the terminal and written to the files the user asked for.  Every copy
 * of the secret made here is wiped before it is released. */
#include "device.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "settle-base32.h"
#include "settle-error.h"
#include "settle-qr-encode.h"
#include "settle-qr-payload.h"

static gboolean
fill_spki_hash (SettleQrPayload *payload, X509 *cert, GError **error)
{
  unsigned char *der = NULL;
  int len = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (cert), &der);
  unsigned int md_len = 0;
  gboolean ok = len > 0 && EVP_Digest (der, (size_t) len, payload->spki_sha256, &md_len,
                                       EVP_sha256 (), NULL) == 1 && md_len == SETTLE_QR_SPKI_HASH_LEN;
  OPENSSL_free (der);
  if (!ok)
    g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "Could not hash the device's TLS key.");
  return ok;
}

static SettleQrPayload *
payload_new (const SettleDeviceQrTarget *target, SettleCeremonyServer *server, GError **error)
{
  g_autoptr (SettleQrPayload) payload = settle_qr_payload_new ();
  payload->name = g_strdup (target->name);
  /* Without A the helper finds the device by its name (schema/qr-payload.md). */
  payload->host = target->address ? g_strdup (target->host) : NULL;
  payload->port = target->address ? target->port : 0;
  payload->secret_len = settle_ceremony_server_copy_secret (server, payload->secret, NULL);
  if (payload->secret_len == 0)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "The device has no pairing secret.");
      return NULL;
    }
  if (!fill_spki_hash (payload, target->tls_cert, error))
    return NULL;
  return g_steal_pointer (&payload);
}

static gboolean
write_text_file (const char *path, const char *text, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *line = g_strconcat (text, "\n", NULL);
  gboolean ok = g_file_set_contents_full (path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local);
  OPENSSL_cleanse (line, strlen (line));
  if (!ok)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot write the QR text to %s: %s",
                 path, local->message);
  return ok;
}

static gboolean
print_terminal (const SettleDeviceQrTarget *target, const SettleQrPayload *payload, const char *text,
                GError **error)
{
  char *drawing = settle_qr_encode_terminal (text, isatty (STDOUT_FILENO), error);
  if (drawing == NULL)
    return FALSE;
  char *code = settle_base32_code_format (payload->secret, payload->secret_len);
  /* Without an address in the QR code, the typed code goes by name too. */
  const char *host = target->address ? target->host : target->name;
  gboolean v6 = strchr (host, ':') != NULL;
  /* The command line asks for the code instead of carrying it: argv is
   * visible to every local user. */
  g_print ("\n%s\nScan this code with `settle pair --qr`%s, or type the pairing code:\n"
           "  Pairing code: %s\n"
           "  settle pair --code - --address %s%s%s:%u   (then type the code)\n"
           "A check code appears here once a helper has proved the code; compare it with the\n"
           "helper's.\n\n",
           drawing, target->address ? "" : " (it finds the device by name on the local network)",
           code, v6 ? "[" : "", host, v6 ? "]" : "", (unsigned) target->port);
  /* At once, also when standard output is a file: a new code must be
   * there when the device says it shows one. */
  fflush (stdout);
  settle_base32_wipe_free (code);
  settle_base32_wipe_free (drawing);
  return TRUE;
}

gboolean
settle_device_qr_show (const SettleDeviceQrTarget *target, SettleCeremonyServer *server, GError **error)
{
  g_autoptr (SettleQrPayload) payload = payload_new (target, server, error);
  if (payload == NULL)
    return FALSE;
  char *text = settle_qr_payload_format (payload, error);
  if (text == NULL)
    return FALSE;
  gboolean ok = (target->png_path == NULL || settle_qr_encode_png (text, target->png_path, 0, error))
                && (target->text_path == NULL || write_text_file (target->text_path, text, error))
                && print_terminal (target, payload, text, error);
  settle_base32_wipe_free (text);
  return ok;
}
