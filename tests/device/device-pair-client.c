/* device-pair-client.c: a bare helper side of the ceremony for the device
 * tests (no consent, no store: that is `settle pair`).  Pairs with a
 * running settle-device from its --qr-text file and writes the client key
 * and certificate, so that curl can present them to whoami.
 *
 *   device-pair-client QR_TEXT_FILE ROLE KEY_OUT CERT_OUT [commit|decline|drop]
 *
 * After ENROL_RESPONSE it sends COMMIT and waits for COMMITTED (commit,
 * the default), or sends ERROR declined (decline), or just hangs up
 * (drop); the outputs are written in every case.  Prints the granted
 * role; exits 1 with the error message otherwise. */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "settle-ceremony-tls.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-qr-payload.h"
#include "settle-spake2.h"

static gboolean
fail (GError **error, const char *message)
{
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, message);
  return FALSE;
}

static GBytes *
make_csr (EVP_PKEY *key)
{
  X509_REQ *req = X509_REQ_new ();
  X509_NAME_add_entry_by_txt (X509_REQ_get_subject_name (req), "CN", MBSTRING_UTF8,
                              (const unsigned char *) "device test client", -1, -1, 0);
  X509_REQ_set_pubkey (req, key);
  X509_REQ_sign (req, key, EVP_sha256 ());
  unsigned char *der = NULL;
  int len = i2d_X509_REQ (req, &der);
  GBytes *csr = len > 0 ? g_bytes_new (der, (gsize) len) : NULL;
  OPENSSL_free (der);
  X509_REQ_free (req);
  return csr;
}

static gboolean
exchange (SettleTlsConn *conn, const SettleQrPayload *qr, GError **error)
{
  guint8 aad[SETTLE_TLS_EXPORTER_LEN];
  if (!settle_tls_exporter (conn, aad, error))
    return FALSE;
  g_autoptr (SettleSpake2) spake = settle_spake2_new (SETTLE_SPAKE2_ROLE_A, SETTLE_SPAKE2_ID_CLIENT, qr->name,
                                                      qr->secret, qr->secret_len, aad, sizeof aad, error);
  if (spake == NULL)
    return FALSE;
  g_autoptr (SettleCeremonyMsg) hello = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_HELLO);
  hello->client_hello.version = SETTLE_CEREMONY_VERSION;
  hello->client_hello.suite = SETTLE_SPAKE2_SUITE_P256_SHA256;
  settle_spake2_get_share (spake, hello->client_hello.share);
  if (!settle_tls_send (conn, hello, error))
    return FALSE;
  g_autoptr (SettleCeremonyMsg) share = settle_tls_receive (conn, error);
  if (share == NULL || !settle_ceremony_msg_expect (share, SETTLE_MSG_SERVER_SHARE, error)
      || !settle_spake2_process_peer_share (spake, share->server_share.share, SETTLE_SPAKE2_SHARE_LEN, error)
      || !settle_spake2_verify_peer_confirmation (spake, share->server_share.confirm,
                                                  SETTLE_SPAKE2_CONFIRM_LEN, error))
    return FALSE;
  g_autoptr (SettleCeremonyMsg) confirm = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_CONFIRM);
  return settle_spake2_get_confirmation (spake, confirm->client_confirm.confirm, error)
         && settle_tls_send (conn, confirm, error);
}

static gboolean
write_outputs (EVP_PKEY *key, GBytes *cert_der, const char *key_path, const char *cert_path, GError **error)
{
  gsize len = 0;
  const guint8 *der = g_bytes_get_data (cert_der, &len);
  X509 *cert = settle_cert_parse (der, len, error);
  if (cert == NULL)
    return FALSE;
  FILE *kf = fopen (key_path, "w"), *cf = fopen (cert_path, "w");
  gboolean ok = kf != NULL && cf != NULL && PEM_write_PrivateKey (kf, key, NULL, NULL, 0, NULL, NULL)
                && PEM_write_X509 (cf, cert);
  if (kf != NULL)
    fclose (kf);
  if (cf != NULL)
    fclose (cf);
  X509_free (cert);
  return ok ? TRUE : fail (error, "Cannot write the client key or certificate.");
}

/* What the helper's user "answered" after ENROL_RESPONSE. */
static gboolean
finish (SettleTlsConn *conn, const char *mode, GError **error)
{
  if (strcmp (mode, "drop") == 0)
    return TRUE;
  if (strcmp (mode, "decline") == 0)
    {
      g_autoptr (SettleCeremonyMsg) no = settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_DECLINED,
                                                                        "The user did not consent.");
      return settle_tls_send (conn, no, error);
    }
  g_autoptr (SettleCeremonyMsg) commit = settle_ceremony_msg_new (SETTLE_MSG_COMMIT);
  g_autoptr (SettleCeremonyMsg) committed = NULL;
  return settle_tls_send (conn, commit, error) && (committed = settle_tls_receive (conn, error)) != NULL
         && settle_ceremony_msg_expect (committed, SETTLE_MSG_COMMITTED, error);
}

static gboolean
pair (const char *qr_path, const char *role, const char *key_path, const char *cert_path,
      const char *mode, GError **error)
{
  g_autofree char *text = NULL;
  gsize text_len = 0;
  if (!g_file_get_contents (qr_path, &text, &text_len, error))
    return FALSE;
  g_autoptr (SettleQrPayload) qr = settle_qr_payload_parse (text, text_len, error);
  if (qr == NULL)
    return FALSE;
  g_autoptr (SettleTlsConn) conn = settle_tls_connect (qr->host, qr->port, qr->name, 5000, error);
  if (conn == NULL)
    return FALSE;
  g_autoptr (GBytes) spki = settle_tls_peer_spki (conn);
  if (spki == NULL || !settle_qr_payload_spki_matches (qr, g_bytes_get_data (spki, NULL), g_bytes_get_size (spki)))
    return fail (error, "The device's TLS key does not match the QR code.");
  if (!exchange (conn, qr, error))
    return FALSE;
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  g_autoptr (SettleCeremonyMsg) request = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);
  request->enrol_request.csr_der = make_csr (key);
  request->enrol_request.role = g_strdup (role);
  g_autoptr (SettleCeremonyMsg) response = NULL;
  gboolean ok = settle_tls_send (conn, request, error)
                && (response = settle_tls_receive (conn, error)) != NULL
                && settle_ceremony_msg_expect (response, SETTLE_MSG_ENROL_RESPONSE, error)
                && write_outputs (key, response->enrol_response.cert_der, key_path, cert_path, error)
                && finish (conn, mode, error);
  if (ok)
    printf ("%s\n", response->enrol_response.role);
  EVP_PKEY_free (key);
  return ok;
}

int
main (int argc, char **argv)
{
  if (argc != 5 && argc != 6)
    {
      fprintf (stderr, "usage: %s QR_TEXT_FILE ROLE KEY_OUT CERT_OUT [commit|decline|drop]\n", argv[0]);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  if (!pair (argv[1], argv[2], argv[3], argv[4], argc == 6 ? argv[5] : "commit", &error))
    {
      fprintf (stderr, "device-pair-client: %s\n", error->message);
      return 1;
    }
  return 0;
}
