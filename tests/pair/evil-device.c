/* evil-device.c: a hostile device for tests/pair/pair-evil.sh and
 * pair-hostile2.sh.
 *
 *   evil-device MODE PAYLOAD_FILE
 *
 * It speaks the real ceremony (TLS 1.3 with ALPN settle/1, the exporter
 * as SPAKE2 additional data, SPAKE2 role B for printer.local, frames of
 * settle-ceremony-msg.h), so the helper's key pin and both confirmations
 * succeed; only what it then claims is wrong.  The reference device cannot
 * do this (it refuses such names) and a Python fake cannot compute the
 * TLS exporter.  MODE:
 *
 *   foreign-name   ENROL_RESPONSE names = ["bank.example"]
 *   extra-name     names = ["printer.local", "bank.example"]
 *   local-extra    names = ["printer.local", "nas.local", "router.home.arpa"]:
 *                  local names, but nothing authenticated the last two;
 *                  otherwise an honest device that answers COMMIT
 *   foreign-leaf   names = ["printer.local"], but the TLS leaf (whose key
 *                  the QR code pins) is issued by the device CA for
 *                  DNS:bank.example only
 *   chain-not-ca   the chain's last certificate (which issued the leaf
 *                  and the client certificate) has basicConstraints
 *                  CA:FALSE
 *   replay         the first ceremony is honest up to SERVER_SHARE, which
 *                  it records, and ends after the client's confirmation;
 *                  every later one answers CLIENT_HELLO with that recorded
 *                  SERVER_SHARE: a new TLS session has a new exporter (and
 *                  the client a new share), so the confirmation must fail
 *
 * Prints "PORT n" once it listens on 127.0.0.1 and writes its SETTLE:
 * payload (the leaf's key hash, a fresh secret) to PAYLOAD_FILE.  It
 * serves ceremonies one after another until it is killed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "settle-ceremony-msg.h"
#include "settle-ceremony-tls.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-qr-payload.h"
#include "settle-spake2.h"

#define DEVICE_NAME "printer.local"
#define FOREIGN_NAME "bank.example"
#define STEP_TIMEOUT_MS 10000

typedef enum {
  MODE_FOREIGN_NAME,
  MODE_EXTRA_NAME,
  MODE_FOREIGN_LEAF,
  MODE_CHAIN_NOT_CA,
  MODE_REPLAY,
  MODE_LOCAL_EXTRA,
  MODE_UNCHAINED_LEAF, /* a self-signed TLS leaf without basicConstraints: it would be
                        * pinned as a peer, and could then issue in Chromium and NSS */
} EvilMode;

typedef struct {
  EvilMode mode;
  EVP_PKEY *ca_key;        /* owned: signs the leaf and client certificates */
  X509 *ca_cert;           /* owned: the chain's last (only) certificate */
  EVP_PKEY *leaf_key;      /* owned: the TLS key the QR code pins */
  X509 *leaf_cert;         /* owned */
  SettleQrPayload *payload; /* owned: name, pin and secret */
  SettleCeremonyMsg *recorded_share; /* owned: replay mode, the first SERVER_SHARE */
} EvilDevice;

static void
evil_device_clear (EvilDevice *dev)
{
  EVP_PKEY_free (dev->ca_key);
  X509_free (dev->ca_cert);
  EVP_PKEY_free (dev->leaf_key);
  X509_free (dev->leaf_cert);
  settle_qr_payload_free (dev->payload);
  settle_ceremony_msg_free (dev->recorded_share);
}

static gboolean
parse_mode (const char *text, EvilMode *out)
{
  static const char *const names[] = { "foreign-name", "extra-name", "foreign-leaf", "chain-not-ca",
                                       "replay", "local-extra", "unchained-leaf" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (text, names[i]) == 0)
      {
        *out = (EvilMode) i;
        return TRUE;
      }
  return FALSE;
}

/* ---- certificates ---- */

static gboolean
add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  gboolean ok = ext != NULL && X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}

static gboolean
set_subject_cn (X509 *cert, const char *cn)
{
  X509_NAME *name = X509_get_subject_name (cert);
  return X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1,
                                     -1, 0) == 1;
}

/* A certificate for `key` named `cn`, signed by issuer_key; `issuer` NULL
 * means self-signed.  nids[i] gets values[i]; nids ends with 0. */
static X509 *
make_cert (const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const int *nids,
           const char *const *values)
{
  X509 *cert = X509_new ();
  static long serial = 1;
  gboolean ok = cert != NULL && X509_set_version (cert, X509_VERSION_3)
                && ASN1_INTEGER_set (X509_get_serialNumber (cert), serial++)
                && set_subject_cn (cert, cn)
                && X509_set_issuer_name (cert, X509_get_subject_name (issuer != NULL ? issuer : cert))
                && X509_gmtime_adj (X509_getm_notBefore (cert), -3600) != NULL
                && X509_gmtime_adj (X509_getm_notAfter (cert), 30L * 24 * 3600) != NULL
                && X509_set_pubkey (cert, key);
  for (guint i = 0; ok && nids[i] != 0; i++)
    ok = add_ext (cert, issuer != NULL ? issuer : cert, nids[i], values[i]);
  ok = ok && X509_sign (cert, issuer_key, EVP_sha256 ()) > 0;
  if (!ok)
    {
      X509_free (cert);
      return NULL;
    }
  return cert;
}

/* The device CA; in chain-not-ca mode an end-entity certificate instead. */
static X509 *
make_device_ca (EvilMode mode, EVP_PKEY *key)
{
  const char *constraints = mode == MODE_CHAIN_NOT_CA ? "critical,CA:FALSE" : "critical,CA:TRUE";
  const int nids[] = { NID_basic_constraints, NID_key_usage, NID_subject_key_identifier, 0 };
  const char *const values[] = { constraints, "critical,keyCertSign,cRLSign,digitalSignature", "hash" };
  return make_cert ("evil device CA", key, NULL, key, nids, values);
}

static X509 *
make_tls_leaf (EvilMode mode, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key)
{
  if (mode == MODE_UNCHAINED_LEAF)
    {
      const int bare_nids[] = { NID_subject_alt_name, NID_key_usage, NID_ext_key_usage, 0 };
      const char *const bare_values[] = { "DNS:" DEVICE_NAME, "digitalSignature,keyCertSign", "serverAuth" };
      return make_cert (DEVICE_NAME, key, NULL, key, bare_nids, bare_values);
    }
  const char *san = mode == MODE_FOREIGN_LEAF ? "DNS:" FOREIGN_NAME : "DNS:" DEVICE_NAME;
  const int nids[] = { NID_subject_alt_name, NID_basic_constraints, NID_key_usage,
                       NID_ext_key_usage, NID_authority_key_identifier, 0 };
  const char *const values[] = { san, "critical,CA:FALSE", "critical,digitalSignature", "serverAuth",
                                 "keyid" };
  return make_cert (DEVICE_NAME, key, ca, ca_key, nids, values);
}

static X509 *
issue_client_cert (const EvilDevice *dev, EVP_PKEY *client_key)
{
  const int nids[] = { NID_basic_constraints, NID_key_usage, NID_ext_key_usage, 0 };
  const char *const values[] = { "critical,CA:FALSE", "critical,digitalSignature", "clientAuth" };
  return make_cert ("settle client", client_key, dev->ca_cert, dev->ca_key, nids, values);
}

/* ---- the payload ---- */

static gboolean
pin_leaf_key (SettleQrPayload *payload, EVP_PKEY *key)
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (key, &der);
  unsigned int md_len = 0;
  gboolean ok = len > 0 && EVP_Digest (der, (size_t) len, payload->spki_sha256, &md_len,
                                       EVP_sha256 (), NULL) == 1;
  OPENSSL_free (der);
  return ok && md_len == SETTLE_QR_SPKI_HASH_LEN;
}

static SettleQrPayload *
make_payload (EVP_PKEY *leaf_key, guint16 port, GError **error)
{
  g_autoptr (SettleQrPayload) payload = settle_qr_payload_new ();
  payload->name = g_strdup (DEVICE_NAME);
  payload->host = g_strdup ("127.0.0.1");
  payload->port = port;
  if (!pin_leaf_key (payload, leaf_key))
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "could not hash the leaf key");
      return NULL;
    }
  if (!settle_qr_payload_generate_secret (payload, SETTLE_SECRET_RECOMMENDED_BYTES, error))
    return NULL;
  return g_steal_pointer (&payload);
}

static gboolean
write_payload (const SettleQrPayload *payload, const char *path, GError **error)
{
  char *text = settle_qr_payload_format (payload, error);
  gboolean ok = text != NULL && g_file_set_contents (path, text, -1, error);
  settle_base32_wipe_free (text);
  return ok;
}

static gboolean
evil_device_init (EvilDevice *dev, EvilMode mode, guint16 port, GError **error)
{
  dev->mode = mode;
  dev->ca_key = EVP_EC_gen ("P-256");
  dev->leaf_key = EVP_EC_gen ("P-256");
  dev->ca_cert = dev->ca_key != NULL ? make_device_ca (mode, dev->ca_key) : NULL;
  dev->leaf_cert = dev->ca_cert != NULL && dev->leaf_key != NULL
                     ? make_tls_leaf (mode, dev->leaf_key, dev->ca_cert, dev->ca_key)
                     : NULL;
  if (dev->leaf_cert == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "could not make the certificates");
      return FALSE;
    }
  dev->payload = make_payload (dev->leaf_key, port, error);
  return dev->payload != NULL;
}

/* ---- the ceremony, role B ---- */

static SettleCeremonyMsg *
receive_expected (SettleTlsConn *conn, SettleMsgType expected, GError **error)
{
  SettleCeremonyMsg *msg = settle_tls_receive (conn, error);
  if (msg != NULL && !settle_ceremony_msg_expect (msg, expected, error))
    g_clear_pointer (&msg, settle_ceremony_msg_free);
  return msg;
}

static SettleSpake2 *
start_spake2 (const EvilDevice *dev, SettleTlsConn *conn, GError **error)
{
  guint8 aad[SETTLE_TLS_EXPORTER_LEN];
  if (!settle_tls_exporter (conn, aad, error))
    return NULL;
  return settle_spake2_new (SETTLE_SPAKE2_ROLE_B, SETTLE_SPAKE2_ID_CLIENT, DEVICE_NAME,
                            dev->payload->secret, dev->payload->secret_len, aad, sizeof aad, error);
}

/* A copy of SERVER_SHARE for replay mode. */
static SettleCeremonyMsg *
copy_share (const SettleCeremonyMsg *share)
{
  SettleCeremonyMsg *copy = settle_ceremony_msg_new (SETTLE_MSG_SERVER_SHARE);
  memcpy (copy->server_share.share, share->server_share.share, sizeof copy->server_share.share);
  memcpy (copy->server_share.confirm, share->server_share.confirm, sizeof copy->server_share.confirm);
  return copy;
}

/* CLIENT_HELLO -> SERVER_SHARE, then CLIENT_CONFIRM: the honest part. */
static gboolean
prove (EvilDevice *dev, SettleTlsConn *conn, GError **error)
{
  g_autoptr (SettleCeremonyMsg) hello = receive_expected (conn, SETTLE_MSG_CLIENT_HELLO, error);
  if (hello == NULL)
    return FALSE;
  g_autoptr (SettleSpake2) spake = start_spake2 (dev, conn, error);
  if (spake == NULL
      || !settle_spake2_process_peer_share (spake, hello->client_hello.share,
                                            sizeof hello->client_hello.share, error))
    return FALSE;
  g_autoptr (SettleCeremonyMsg) share = settle_ceremony_msg_new (SETTLE_MSG_SERVER_SHARE);
  settle_spake2_get_share (spake, share->server_share.share);
  if (!settle_spake2_get_confirmation (spake, share->server_share.confirm, error)
      || !settle_tls_send (conn, share, error))
    return FALSE;
  if (dev->mode == MODE_REPLAY)
    dev->recorded_share = copy_share (share);
  g_autoptr (SettleCeremonyMsg) confirm = receive_expected (conn, SETTLE_MSG_CLIENT_CONFIRM, error);
  return confirm != NULL
         && settle_spake2_verify_peer_confirmation (spake, confirm->client_confirm.confirm,
                                                    sizeof confirm->client_confirm.confirm, error);
}

static EVP_PKEY *
csr_key (GBytes *csr_der, GError **error)
{
  gsize len = 0;
  const unsigned char *p = g_bytes_get_data (csr_der, &len);
  X509_REQ *req = d2i_X509_REQ (NULL, &p, (long) len);
  EVP_PKEY *key = req != NULL ? X509_REQ_get_pubkey (req) : NULL;
  X509_REQ_free (req);
  if (key == NULL)
    g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "unreadable CSR");
  return key;
}

/* The lie: the names this mode claims (owned). */
static char **
claimed_names (EvilMode mode)
{
  static const char *const only_foreign[] = { FOREIGN_NAME, NULL };
  static const char *const own_and_foreign[] = { DEVICE_NAME, FOREIGN_NAME, NULL };
  static const char *const only_own[] = { DEVICE_NAME, NULL };
  static const char *const own_and_local[] = { DEVICE_NAME, "nas.local", "router.home.arpa", NULL };
  switch (mode)
    {
    case MODE_LOCAL_EXTRA:
      return g_strdupv ((char **) own_and_local);
    case MODE_FOREIGN_NAME:
      return g_strdupv ((char **) only_foreign);
    case MODE_EXTRA_NAME:
      return g_strdupv ((char **) own_and_foreign);
    case MODE_FOREIGN_LEAF:
    case MODE_CHAIN_NOT_CA:
    case MODE_REPLAY:
    case MODE_UNCHAINED_LEAF:
      break;
    }
  return g_strdupv ((char **) only_own);
}

static gboolean
enrol (const EvilDevice *dev, SettleTlsConn *conn, GError **error)
{
  g_autoptr (SettleCeremonyMsg) request = receive_expected (conn, SETTLE_MSG_ENROL_REQUEST, error);
  if (request == NULL)
    return FALSE;
  EVP_PKEY *client_key = csr_key (request->enrol_request.csr_der, error);
  if (client_key == NULL)
    return FALSE;
  X509 *client_cert = issue_client_cert (dev, client_key);
  EVP_PKEY_free (client_key);
  if (client_cert == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "could not issue the client cert");
      return FALSE;
    }
  g_autoptr (SettleCeremonyMsg) response = settle_ceremony_msg_new (SETTLE_MSG_ENROL_RESPONSE);
  response->enrol_response.cert_der = settle_cert_to_der (client_cert);
  g_ptr_array_add (response->enrol_response.chain, settle_cert_to_der (dev->ca_cert));
  response->enrol_response.names = claimed_names (dev->mode);
  response->enrol_response.role = g_strdup ("guest");
  X509_free (client_cert);
  return settle_tls_send (conn, response, error);
}

/* After the enrolment: COMMIT is answered with COMMITTED; anything else
 * (the helper's ERROR, a hang-up) is logged. */
static void
await_commit (SettleTlsConn *conn)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) answer = settle_tls_receive (conn, &error);
  if (answer != NULL && answer->type == SETTLE_MSG_COMMIT)
    {
      g_autoptr (SettleCeremonyMsg) committed = settle_ceremony_msg_new (SETTLE_MSG_COMMITTED);
      if (settle_tls_send (conn, committed, &error))
        fprintf (stderr, "evil-device: committed\n");
    }
  else if (answer != NULL && answer->type == SETTLE_MSG_ERROR)
    fprintf (stderr, "evil-device: no commit: error %u\n", answer->error.code);
  else
    fprintf (stderr, "evil-device: no commit: %s\n", error != NULL ? error->message : "other message");
}

/* A later session of replay mode: the recorded SERVER_SHARE, whatever the
 * client sent; then whatever the client answers (its ERROR, we expect). */
static gboolean
replay_share (const EvilDevice *dev, SettleTlsConn *conn, GError **error)
{
  g_autoptr (SettleCeremonyMsg) hello = receive_expected (conn, SETTLE_MSG_CLIENT_HELLO, error);
  if (hello == NULL || !settle_tls_send (conn, dev->recorded_share, error))
    return FALSE;
  fprintf (stderr, "evil-device: replayed the recorded SERVER_SHARE\n");
  g_autoptr (SettleCeremonyMsg) answer = settle_tls_receive (conn, error);
  if (answer != NULL && answer->type == SETTLE_MSG_ERROR)
    fprintf (stderr, "evil-device: the client answered the replay with error %u\n",
             answer->error.code);
  return answer != NULL;
}

/* Replay mode's first session: honest up to the client's confirmation,
 * then it stops, so that nothing is enrolled. */
static gboolean
record_share (EvilDevice *dev, SettleTlsConn *conn, GError **error)
{
  if (!prove (dev, conn, error))
    return FALSE;
  fprintf (stderr, "evil-device: recorded SERVER_SHARE, closing before the enrolment\n");
  return TRUE;
}

static gboolean
serve_replay (EvilDevice *dev, SettleTlsConn *conn, GError **error)
{
  return dev->recorded_share == NULL ? record_share (dev, conn, error)
                                     : replay_share (dev, conn, error);
}

static void
serve_one (EvilDevice *dev, SSL_CTX *ctx, int fd)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleTlsConn) conn = settle_tls_accept (ctx, fd, STEP_TIMEOUT_MS, &error);
  if (conn != NULL && dev->mode == MODE_REPLAY)
    {
      if (!serve_replay (dev, conn, &error))
        fprintf (stderr, "evil-device: replay session ended: %s\n", error->message);
      return;
    }
  if (conn != NULL && prove (dev, conn, &error) && enrol (dev, conn, &error))
    {
      fprintf (stderr, "evil-device: sent the enrolment\n");
      await_commit (conn);
    }
  else
    fprintf (stderr, "evil-device: ceremony ended: %s\n", error != NULL ? error->message : "?");
}

/* ---- listening ---- */

static int
listen_on_loopback (guint16 *port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0 || listen (fd, 4) != 0
      || getsockname (fd, (struct sockaddr *) &addr, &len) != 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  *port = ntohs (addr.sin_port);
  return fd;
}

static int
usage (void)
{
  fprintf (stderr, "usage: evil-device foreign-name|extra-name|foreign-leaf|chain-not-ca|replay|"
           "local-extra "
           "PAYLOAD_FILE\n");
  return 2;
}

int
main (int argc, char **argv)
{
  EvilMode mode;
  if (argc != 3 || !parse_mode (argv[1], &mode))
    return usage ();
  signal (SIGPIPE, SIG_IGN);
  guint16 port = 0;
  int listen_fd = listen_on_loopback (&port);
  if (listen_fd < 0)
    {
      fprintf (stderr, "evil-device: cannot listen: %s\n", g_strerror (errno));
      return 1;
    }
  g_autoptr (GError) error = NULL;
  EvilDevice dev = { 0 };
  SSL_CTX *ctx = NULL;
  if (!evil_device_init (&dev, mode, port, &error)
      || (ctx = settle_tls_server_ctx_new (dev.leaf_key, dev.leaf_cert, NULL, NULL, &error)) == NULL
      || !write_payload (dev.payload, argv[2], &error))
    {
      fprintf (stderr, "evil-device: %s\n", error->message);
      evil_device_clear (&dev);
      close (listen_fd);
      return 1;
    }
  printf ("PORT %u\n", (unsigned) port);
  fflush (stdout);
  for (;;)
    {
      int fd = accept (listen_fd, NULL, NULL);
      if (fd >= 0)
        serve_one (&dev, ctx, fd);
      else if (errno != EINTR)
        break;
    }
  SSL_CTX_free (ctx);
  evil_device_clear (&dev);
  close (listen_fd);
  return 1;
}
