/* gen-ceremony-seeds.c: writes the seed corpus of fuzz-ceremony-msg with
 * the real encoder (settle_ceremony_frame_encode): one frame of each
 * message type, a whole helper-side and device-side conversation (with
 * COMMIT / COMMITTED, and a declined one) as one
 * stream of frames, and a few edge cases (an unsupported version, the
 * largest chain and name list, an empty role).  Run once by hand:
 *   build/tests/fuzz/fuzz-gen-ceremony-seeds tests/fuzz/corpus/ceremony-msg
 * Certificates and CSRs are opaque bytes to the decoder, so fixed byte
 * strings stand in for them. */
#include <stdio.h>
#include <string.h>

#include "settle-ceremony-msg.h"

static const char *out_dir;

static GBytes *
frame (SettleCeremonyMsg *msg)
{
  g_autoptr (GError) error = NULL;
  GBytes *f = settle_ceremony_frame_encode (msg, &error);
  if (f == NULL)
    g_error ("encode %s: %s", settle_ceremony_msg_type_name (msg->type), error->message);
  settle_ceremony_msg_free (msg);
  return f;
}

static void
write_seed (const char *name, GBytes *const *frames, size_t n)
{
  g_autoptr (GByteArray) all = g_byte_array_new ();
  for (size_t i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (frames[i], &len);
      g_byte_array_append (all, d, (guint) len);
    }
  g_autofree char *path = g_build_filename (out_dir, name, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, (const char *) all->data, all->len, &error))
    g_error ("%s", error->message);
}

static GBytes *
fake_der (guint8 tag, gsize len)
{
  guint8 *d = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    d[i] = (guint8) (i * 7 + tag);
  d[0] = 0x30;
  return g_bytes_new_take (d, len);
}

static SettleCeremonyMsg *
hello (guint version)
{
  SettleCeremonyMsg *m = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_HELLO);
  m->client_hello.version = version;
  m->client_hello.suite = SETTLE_SPAKE2_SUITE_P256_SHA256;
  m->client_hello.share[0] = 0x04;
  for (gsize i = 1; i < SETTLE_SPAKE2_SHARE_LEN; i++)
    m->client_hello.share[i] = (guint8) i;
  return m;
}

static SettleCeremonyMsg *
response (guint n_chain, guint n_names, const char *role)
{
  SettleCeremonyMsg *m = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  m->enrol_response.cert_der = fake_der (1, 300);
  for (guint i = 0; i < n_chain; i++)
    g_ptr_array_add (m->enrol_response.chain, fake_der ((guint8) (2 + i), 200 + i));
  m->enrol_response.names = g_new0 (char *, n_names + 1);
  for (guint i = 0; i < n_names; i++)
    m->enrol_response.names[i] = i == 0 ? g_strdup ("printer-3fa9.local")
                                        : g_strdup_printf ("n%u.printer-3fa9.local", i);
  m->enrol_response.role = g_strdup (role);
  return m;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CORPUS-DIR\n", argv[0]);
      return 2;
    }
  out_dir = argv[1];

  SettleCeremonyMsg *share = settle_ceremony_msg_new (SETTLE_MSG_SERVER_SHARE);
  share->server_share.share[0] = 0x04;
  memset (share->server_share.confirm, 0xcb, sizeof share->server_share.confirm);
  SettleCeremonyMsg *confirm = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_CONFIRM);
  memset (confirm->client_confirm.confirm, 0xca, sizeof confirm->client_confirm.confirm);
  SettleCeremonyMsg *request = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);
  request->enrol_request.csr_der = fake_der (9, 250);
  request->enrol_request.role = g_strdup ("print-admin");

  GBytes *f_hello = frame (hello (SETTLE_CEREMONY_VERSION));
  GBytes *f_share = frame (share);
  GBytes *f_confirm = frame (confirm);
  GBytes *f_request = frame (request);
  GBytes *f_response = frame (response (1, 1, "print-admin"));
  GBytes *f_error = frame (settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_AUTH_FAILED,
                                                          "The pairing code does not match."));
  GBytes *f_commit = frame (settle_ceremony_msg_new (SETTLE_MSG_COMMIT));
  GBytes *f_committed = frame (settle_ceremony_msg_new (SETTLE_MSG_COMMITTED));
  GBytes *f_declined = frame (settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_DECLINED,
                                                             "The user did not consent."));

  write_seed ("seed-client-hello", &f_hello, 1);
  write_seed ("seed-server-share", &f_share, 1);
  write_seed ("seed-client-confirm", &f_confirm, 1);
  write_seed ("seed-enrol-request", &f_request, 1);
  write_seed ("seed-enrol-response", &f_response, 1);
  write_seed ("seed-error", &f_error, 1);
  write_seed ("seed-commit", &f_commit, 1);
  write_seed ("seed-committed", &f_committed, 1);
  write_seed ("seed-error-declined", &f_declined, 1);
  /* The optional manufacturer identity (schema/voucher.md). */
  SettleCeremonyMsg *request_nonce = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);
  request_nonce->enrol_request.csr_der = fake_der (9, 250);
  request_nonce->enrol_request.role = g_strdup ("admin");
  request_nonce->enrol_request.nonce = fake_der (0x6e, 32);
  GBytes *f_request_nonce = frame (request_nonce);
  write_seed ("seed-enrol-request-nonce", &f_request_nonce, 1);
  SettleCeremonyMsg *vouched = response (1, 1, "admin");
  vouched->enrol_response.idevid = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (vouched->enrol_response.idevid, fake_der (0x41, 180));
  g_ptr_array_add (vouched->enrol_response.idevid, fake_der (0x42, 160));
  vouched->enrol_response.voucher = fake_der (0x43, 400);
  GBytes *f_vouched = frame (vouched);
  write_seed ("seed-enrol-response-voucher", &f_vouched, 1);
  /* What the device reads, and what the helper reads, in one stream. */
  GBytes *device_reads[] = { f_hello, f_confirm, f_request, f_commit };
  write_seed ("seed-device-conversation", device_reads, 4);
  GBytes *device_declined[] = { f_hello, f_confirm, f_request, f_declined };
  write_seed ("seed-device-declined", device_declined, 4);
  GBytes *helper_reads[] = { f_share, f_response, f_committed };
  write_seed ("seed-helper-conversation", helper_reads, 3);
  GBytes *helper_error[] = { f_share, f_error };
  write_seed ("seed-helper-error", helper_error, 2);

  /* A later version: well-formed, refused as unsupported. */
  SettleCeremonyMsg *v2 = hello (2);
  g_autoptr (GError) error = NULL;
  GBytes *body = settle_ceremony_msg_encode (v2, &error);
  if (body == NULL)
    {
      /* The encoder refuses what the decoder refuses: patch version 1 to 2
       * in a version 1 body instead (the uint 1 after the "version" key). */
      g_clear_error (&error);
      gsize len;
      const guint8 *f = g_bytes_get_data (f_hello, &len);
      guint8 *copy = g_memdup2 (f, len);
      const guint8 *key = memmem (copy, len, "version", 7);
      if (key == NULL)
        g_error ("no version key in CLIENT_HELLO");
      copy[(key - copy) + 7] = 0x02;
      body = g_bytes_new_take (copy, len);
    }
  write_seed ("edge-hello-version-2", &body, 1);
  g_bytes_unref (body);
  settle_ceremony_msg_free (v2);

  GBytes *f_big = frame (response (SETTLE_CEREMONY_CHAIN_MAX, SETTLE_CEREMONY_NAMES_MAX,
                                   "a-role-of-exactly-32-characters0"));
  write_seed ("edge-response-max-chain-names", &f_big, 1);
  GBytes *f_empty_text = frame (settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_BUSY, ""));
  write_seed ("edge-error-empty-text", &f_empty_text, 1);
  GBytes *f_new_code = frame (settle_ceremony_msg_new_error (4242, "Ünïcode text from a newer peer"));
  write_seed ("edge-error-unknown-code", &f_new_code, 1);

  GBytes *all[] = { f_hello, f_share, f_confirm, f_request, f_response, f_error, f_big,
                    f_empty_text, f_new_code, f_commit, f_committed, f_declined };
  for (size_t i = 0; i < G_N_ELEMENTS (all); i++)
    g_bytes_unref (all[i]);
  return 0;
}
