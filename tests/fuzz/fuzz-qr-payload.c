/* fuzz-qr-payload.c: settle_qr_payload_parse() on arbitrary text, i.e. on
 * whatever a QR reader returns from a hostile label or screen
 * (schema/qr-payload.md).
 *
 * Invariants asserted:
 *  - a refusal sets a SETTLE_ERROR_FORMAT error and returns NULL;
 *  - an accepted payload has version 1, suite P-256, either an address
 *    hint (a non-empty host and a port of 1..65535) or none (host NULL,
 *    port 0: no A field), a secret of 16, 20 or 32 bytes, and a device name that is already
 *    canonical (settle_name_normalize() gives it back unchanged) and lies in
 *    the local namespaces;
 *  - settle_qr_payload_format() accepts every payload the parser accepted,
 *    the formatted text parses back to the same fields, and formatting
 *    that again gives the same text (canonical form is a fixed point). */
#include <stdint.h>
#include <string.h>

#include "fuzz-assert.h"
#include "settle-error.h"
#include "settle-qr-payload.h"
#include "settle-scope.h"

static void
check_same (const SettleQrPayload *a, const SettleQrPayload *b)
{
  FUZZ_ASSERT (a->version == b->version && a->suite == b->suite);
  FUZZ_ASSERT (strcmp (a->name, b->name) == 0);
  FUZZ_ASSERT ((a->host == NULL && b->host == NULL)
               || (a->host != NULL && b->host != NULL && strcmp (a->host, b->host) == 0));
  FUZZ_ASSERT (a->port == b->port);
  FUZZ_ASSERT (memcmp (a->spki_sha256, b->spki_sha256, sizeof a->spki_sha256) == 0);
  FUZZ_ASSERT (a->secret_len == b->secret_len);
  FUZZ_ASSERT (memcmp (a->secret, b->secret, a->secret_len) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  SettleQrPayload *p = settle_qr_payload_parse ((const char *) data, size, &error);
  if (p == NULL)
    {
      FUZZ_ASSERT (error != NULL && error->domain == SETTLE_ERROR
                   && error->code == SETTLE_ERROR_FORMAT);
      g_error_free (error);
      return 0;
    }
  FUZZ_ASSERT (error == NULL);
  FUZZ_ASSERT (p->version == SETTLE_QR_PAYLOAD_VERSION);
  FUZZ_ASSERT (p->suite == SETTLE_SPAKE2_SUITE_P256_SHA256);
  FUZZ_ASSERT (p->host == NULL ? p->port == 0 : (p->port >= 1 && p->host[0] != '\0'));
  FUZZ_ASSERT (p->secret_len == 16 || p->secret_len == 20 || p->secret_len == 32);
  FUZZ_ASSERT (p->name != NULL);

  char *canonical = settle_name_normalize (p->name, FALSE, NULL);
  FUZZ_ASSERT (canonical != NULL && strcmp (canonical, p->name) == 0);
  FUZZ_ASSERT (settle_name_in_namespaces (canonical));
  g_free (canonical);

  char *text = settle_qr_payload_format (p, &error);
  FUZZ_ASSERT (text != NULL && error == NULL);
  FUZZ_ASSERT (strlen (text) <= SETTLE_QR_PAYLOAD_MAX);
  SettleQrPayload *again = settle_qr_payload_parse (text, strlen (text), &error);
  FUZZ_ASSERT (again != NULL && error == NULL);
  check_same (p, again);
  char *text2 = settle_qr_payload_format (again, &error);
  FUZZ_ASSERT (text2 != NULL && strcmp (text, text2) == 0);

  settle_base32_wipe_free (text);
  settle_base32_wipe_free (text2);
  settle_qr_payload_free (again);
  settle_qr_payload_free (p);
  return 0;
}
