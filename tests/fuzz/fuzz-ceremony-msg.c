/* fuzz-ceremony-msg.c: the ceremony message decoder, which both the helper
 * and the device run on what their peer sends (settle-ceremony-msg.h,
 * schema/ceremony.md).
 *
 * The input is used twice: as one CBOR body (settle_ceremony_msg_decode)
 * and as a stream of frames read one after the other, as from the TLS
 * connection (settle_ceremony_frame_decode), until one is refused.
 *
 * Invariants asserted:
 *  - a refusal returns NULL with a SETTLE_ERROR_FORMAT or (unsupported
 *    version or suite) SETTLE_ERROR_PROTOCOL error, and consumes nothing;
 *  - an accepted frame consumes exactly its header plus its announced body
 *    (1..64 KiB), never more than was given;
 *  - a decoded message has a known type, the encoder accepts it, its
 *    encoding decodes again to a message with the same encoding, and
 *    settle_ceremony_frame_encode gives the header plus that body;
 *  - settle_ceremony_msg_expect() succeeds for the message's own type only
 *    and otherwise sets an error. */
#include <stdint.h>
#include <string.h>

#include "fuzz-assert.h"
#include "settle-ceremony-msg.h"
#include "settle-error.h"

static void
check_refusal (GError **error)
{
  const GError *e = *error;
  FUZZ_ASSERT (e != NULL && e->domain == SETTLE_ERROR);
  FUZZ_ASSERT (e->code == SETTLE_ERROR_FORMAT || e->code == SETTLE_ERROR_PROTOCOL);
  FUZZ_ASSERT (e->message != NULL && e->message[0] != '\0');
  g_clear_error (error);
}

static void
check_message (const SettleCeremonyMsg *msg)
{
  GError *error = NULL;
  FUZZ_ASSERT (msg->type >= SETTLE_MSG_CLIENT_HELLO && msg->type <= SETTLE_MSG_TYPE_LAST);
  FUZZ_ASSERT (strcmp (settle_ceremony_msg_type_name (msg->type), "unknown") != 0);

  GBytes *body = settle_ceremony_msg_encode (msg, &error);
  FUZZ_ASSERT (body != NULL && error == NULL);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (body, &len);
  FUZZ_ASSERT (len > 0 && len <= SETTLE_CEREMONY_FRAME_MAX);

  SettleCeremonyMsg *again = settle_ceremony_msg_decode (bytes, len, &error);
  FUZZ_ASSERT (again != NULL && error == NULL && again->type == msg->type);
  GBytes *body2 = settle_ceremony_msg_encode (again, &error);
  FUZZ_ASSERT (body2 != NULL && g_bytes_equal (body, body2));

  GBytes *frame = settle_ceremony_frame_encode (msg, &error);
  FUZZ_ASSERT (frame != NULL && error == NULL);
  gsize flen;
  const guint8 *f = g_bytes_get_data (frame, &flen);
  FUZZ_ASSERT (flen == SETTLE_CEREMONY_FRAME_HEADER_LEN + len);
  FUZZ_ASSERT (f[0] == ((len >> 24) & 0xff) && f[1] == ((len >> 16) & 0xff)
               && f[2] == ((len >> 8) & 0xff) && f[3] == (len & 0xff));
  FUZZ_ASSERT (memcmp (f + SETTLE_CEREMONY_FRAME_HEADER_LEN, bytes, len) == 0);

  for (guint t = SETTLE_MSG_CLIENT_HELLO; t <= SETTLE_MSG_TYPE_LAST; t++)
    {
      gboolean ok = settle_ceremony_msg_expect (msg, t, &error);
      FUZZ_ASSERT (ok == (t == msg->type));
      FUZZ_ASSERT (ok == (error == NULL));
      g_clear_error (&error);
    }

  g_bytes_unref (frame);
  g_bytes_unref (body2);
  g_bytes_unref (body);
  settle_ceremony_msg_free (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  SettleCeremonyMsg *msg = settle_ceremony_msg_decode (data, size, &error);
  if (msg == NULL)
    check_refusal (&error);
  else
    {
      FUZZ_ASSERT (error == NULL);
      check_message (msg);
      settle_ceremony_msg_free (msg);
    }

  size_t off = 0;
  while (off < size)
    {
      gsize consumed = 12345;
      msg = settle_ceremony_frame_decode (data + off, size - off, &consumed, &error);
      if (msg == NULL)
        {
          FUZZ_ASSERT (consumed == 0);
          check_refusal (&error);
          break;
        }
      FUZZ_ASSERT (consumed > SETTLE_CEREMONY_FRAME_HEADER_LEN);
      FUZZ_ASSERT (consumed <= size - off);
      FUZZ_ASSERT (consumed - SETTLE_CEREMONY_FRAME_HEADER_LEN <= SETTLE_CEREMONY_FRAME_MAX);
      gsize announced = 0;
      FUZZ_ASSERT (settle_ceremony_frame_parse_header (data + off, &announced, NULL));
      FUZZ_ASSERT (announced == consumed - SETTLE_CEREMONY_FRAME_HEADER_LEN);
      check_message (msg);
      settle_ceremony_msg_free (msg);
      off += consumed;
    }
  return 0;
}
