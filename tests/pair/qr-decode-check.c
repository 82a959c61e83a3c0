/* qr-decode-check.c: prints what lib/qr-decode.c reads from a picture, so
 * that the QR round-trip tests can compare it with what went in.
 *
 * Usage: qr-decode-check FILE|-         prints the decoded text, exit 0
 *        qr-decode-check --camera DEV   the camera path (errors only here)
 * On a refusal: the error message on stderr, exit 1. */
#include <stdio.h>
#include <string.h>

#include "settle-base32.h"
#include "settle-qr-decode.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  char *text;

  if (argc == 3 && strcmp (argv[1], "--camera") == 0)
    text = settle_qr_decode_camera (argv[2], 2000, &error);
  else if (argc == 2)
    text = settle_qr_decode_file (argv[1], &error);
  else
    {
      fprintf (stderr, "usage: qr-decode-check FILE|- | --camera DEVICE\n");
      return 2;
    }
  if (text == NULL)
    {
      fprintf (stderr, "qr-decode-check: %s\n", error->message);
      return 1;
    }
  printf ("%s\n", text);
  settle_base32_wipe_free (text);
  return 0;
}
