/* ceremony-bench.c: how fast pairing is, against its floor measured in
 * the same run, and how fast our QR decoding is against zbarimg.
 *
 * 1. Pairing on loopback: settle_pair_run (the helper's state machine)
 *    against lib/ceremony/ceremony-server.c in a thread of this process, over real
 *    TCP + TLS 1.3.  Floor: one TLS 1.3 handshake on the same server
 *    context, plus the ceremony's P-256 operations done back to back
 *    without a network (both SPAKE2 sides, the client key, signing and
 *    checking the CSR, issuing and checking the client certificate).
 *    Target: pairing within 2x of the floor.
 * 2. QR decoding of a 1920x1080 photo-like PNG (qrencode + ImageMagick:
 *    scaled, rotated 7 degrees, noise, blur): settle_qr_decode_file in
 *    this process, the same through a process (qr-decode-check), and
 *    `zbarimg` on the same file.
 *
 * Usage: ceremony-bench [ITERATIONS]   (needs qrencode, convert, zbarimg,
 * and QR_DECODE_CHECK in the environment).  Prints TAP: a failing line
 * means a step failed, never that a figure was slow; the figures go to
 * docs/pairing.md and docs/performance.md. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "settle-base32.h"
#include "settle-ceremony-client.h"
#include "settle-ceremony-server.h"
#include "settle-ceremony-tls.h"
#include "settle-qr-decode.h"
#include "settle-spake2.h"

#define DEVICE_NAME "bench-device.local"
#define DEFAULT_ITERATIONS 40
#define QR_RUNS 5

static int tap_count;

static void
tap (gboolean ok, const char *what)
{
  printf ("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_count, what);
  fflush (stdout);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *values, int n)
{
  qsort (values, (size_t) n, sizeof *values, compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* ---- a device identity made in memory ---- */

static void
add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  g_assert_nonnull (ext);
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
}

static X509 *
make_cert (EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, gboolean ca)
{
  X509 *cert = X509_new ();
  guint8 serial[16];
  RAND_bytes (serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn (serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert));
  BN_free (bn);
  X509_set_version (cert, 2);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 30L * 86400);
  X509_set_pubkey (cert, key);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (cert), "CN", MBSTRING_ASC,
                              (const unsigned char *) cn, -1, -1, 0);
  X509 *signer = issuer != NULL ? issuer : cert;
  X509_set_issuer_name (cert, X509_get_subject_name (signer));
  add_ext (cert, signer, NID_subject_key_identifier, "hash");
  if (ca)
    {
      add_ext (cert, signer, NID_basic_constraints, "critical,CA:TRUE");
      add_ext (cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
  else
    {
      add_ext (cert, signer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext (cert, signer, NID_key_usage, "critical,digitalSignature");
      add_ext (cert, signer, NID_ext_key_usage, "serverAuth");
      add_ext (cert, signer, NID_subject_alt_name, "DNS:" DEVICE_NAME);
      add_ext (cert, signer, NID_authority_key_identifier, "keyid");
    }
  g_assert_true (X509_sign (cert, issuer_key != NULL ? issuer_key : key, EVP_sha256 ()) > 0);
  return cert;
}

typedef struct {
  EVP_PKEY *ca_key, *leaf_key;
  X509 *ca, *leaf;
  SSL_CTX *tls;
  SettleCeremonyServer *ceremony;
  int listen_fd;
  guint16 port;
  gboolean ceremony_mode;     /* FALSE: handshake only (the floor) */
  SettleQrPayload *payload;   /* for the next pairing */
  guint generation;           /* of the secret in `payload` */
  volatile gint stop;
} Device;

static char *
grant_admin (const char *requested, gpointer user_data)
{
  (void) requested;
  (void) user_data;
  return g_strdup ("admin");
}

static void
device_init (Device *device)
{
  g_autoptr (GError) error = NULL;
  SettleCeremonyServerHooks hooks = { .grant_role = grant_admin };
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;

  device->ca_key = EVP_EC_gen ("P-256");
  device->leaf_key = EVP_EC_gen ("P-256");
  device->ca = make_cert (device->ca_key, "bench device CA", NULL, NULL, TRUE);
  device->leaf = make_cert (device->leaf_key, DEVICE_NAME, device->ca, device->ca_key, FALSE);
  device->tls = settle_tls_server_ctx_new (device->leaf_key, device->leaf, NULL, device->ca, &error);
  g_assert_no_error (error);
  device->ceremony = settle_ceremony_server_new (DEVICE_NAME, device->ca_key, device->ca, NULL, &error);
  g_assert_no_error (error);
  settle_ceremony_server_set_hooks (device->ceremony, &hooks);
  device->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_true (bind (device->listen_fd, (struct sockaddr *) &addr, sizeof addr) == 0);
  g_assert_true (listen (device->listen_fd, 16) == 0);
  g_assert_true (getsockname (device->listen_fd, (struct sockaddr *) &addr, &len) == 0);
  device->port = ntohs (addr.sin_port);
  device->generation = G_MAXUINT;
}

static gpointer
device_serve (gpointer data)
{
  Device *device = data;

  while (!g_atomic_int_get (&device->stop))
    {
      int fd = accept4 (device->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0 || g_atomic_int_get (&device->stop))
        {
          if (fd >= 0)
            close (fd);
          continue;
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (SettleTlsConn) conn = settle_tls_accept (device->tls, fd, 10000, &error);
      if (conn != NULL && device->ceremony_mode)
        settle_ceremony_server_handle (device->ceremony, conn, NULL);
      else if (conn != NULL)
        {
          /* The floor's handshake: wait for the client's close. */
          guint8 byte;
          settle_tls_read (conn, &byte, 1, NULL);
        }
    }
  return NULL;
}

/* ---- the measured operations ---- */

/* What the device's QR code would say.  A secret serves one pairing and
 * the device renews it after answering, possibly after our client has
 * finished: wait (untimed) for the fresh one. */
static void
prepare_payload (Device *device)
{
  SettleQrPayload *payload = settle_qr_payload_new ();
  unsigned char *spki = NULL;
  int len = i2d_PUBKEY (X509_get0_pubkey (device->leaf), &spki);
  guint generation = device->generation;

  payload->name = g_strdup (DEVICE_NAME);
  payload->host = g_strdup ("127.0.0.1");
  payload->port = device->port;
  EVP_Digest (spki, (size_t) len, payload->spki_sha256, NULL, EVP_sha256 (), NULL);
  OPENSSL_free (spki);
  for (int i = 0; i < 10000 && generation == device->generation; i++)
    {
      payload->secret_len = settle_ceremony_server_copy_secret (device->ceremony, payload->secret,
                                                                &generation);
      if (generation == device->generation)
        g_usleep (100);
    }
  device->generation = generation;
  settle_qr_payload_free (device->payload);
  device->payload = payload;
}

static gboolean
one_pairing (Device *device)
{
  g_autoptr (GError) error = NULL;
  SettlePairRequest request = { .payload = device->payload, .pinned = TRUE, .role = "admin" };
  g_autoptr (SettlePairResult) result = settle_pair_run (&request, &error);

  if (result == NULL)
    fprintf (stderr, "# pairing failed: %s\n", error->message);
  return result != NULL;
}

static gboolean
one_handshake (Device *device)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleTlsConn) conn = settle_tls_connect ("127.0.0.1", device->port, DEVICE_NAME, 10000, &error);
  g_autoptr (GBytes) spki = conn != NULL ? settle_tls_peer_spki (conn) : NULL;

  if (conn == NULL)
    fprintf (stderr, "# handshake failed: %s\n", error->message);
  return spki != NULL;
}

/* Both SPAKE2 roles in full, as the two ends of a ceremony compute them. */
static gboolean
spake2_both_sides (void)
{
  guint8 secret[20], aad[32], share_a[SETTLE_SPAKE2_SHARE_LEN], share_b[SETTLE_SPAKE2_SHARE_LEN];
  guint8 conf_a[SETTLE_SPAKE2_CONFIRM_LEN], conf_b[SETTLE_SPAKE2_CONFIRM_LEN];
  RAND_bytes (secret, sizeof secret);
  RAND_bytes (aad, sizeof aad);
  g_autoptr (SettleSpake2) a = settle_spake2_new (SETTLE_SPAKE2_ROLE_A, SETTLE_SPAKE2_ID_CLIENT, DEVICE_NAME,
                                                  secret, sizeof secret, aad, sizeof aad, NULL);
  g_autoptr (SettleSpake2) b = settle_spake2_new (SETTLE_SPAKE2_ROLE_B, SETTLE_SPAKE2_ID_CLIENT, DEVICE_NAME,
                                                  secret, sizeof secret, aad, sizeof aad, NULL);
  if (a == NULL || b == NULL)
    return FALSE;
  settle_spake2_get_share (a, share_a);
  settle_spake2_get_share (b, share_b);
  g_autofree char *sas = NULL;
  gboolean ok = settle_spake2_process_peer_share (b, share_a, sizeof share_a, NULL)
                && settle_spake2_process_peer_share (a, share_b, sizeof share_b, NULL)
                && settle_spake2_get_confirmation (b, conf_b, NULL)
                && settle_spake2_verify_peer_confirmation (a, conf_b, sizeof conf_b, NULL)
                && settle_spake2_get_confirmation (a, conf_a, NULL)
                && settle_spake2_verify_peer_confirmation (b, conf_a, sizeof conf_a, NULL)
                && (sas = settle_spake2_short_auth_string (a, NULL)) != NULL;
  return ok;
}

/* Client key, CSR signed and checked, client certificate issued and
 * checked: the enrolment's public-key operations. */
static gboolean
enrolment_operations (Device *device)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509_REQ *req = X509_REQ_new ();
  gboolean ok = key != NULL && req != NULL && X509_REQ_set_pubkey (req, key) == 1
                && X509_REQ_sign (req, key, EVP_sha256 ()) > 0
                && X509_REQ_verify (req, X509_REQ_get0_pubkey (req)) == 1;
  X509 *cert = ok ? make_cert (key, "settle client", device->ca, device->ca_key, FALSE) : NULL;
  ok = ok && X509_verify (cert, device->ca_key) == 1;
  X509_free (cert);
  X509_REQ_free (req);
  EVP_PKEY_free (key);
  return ok;
}

static gboolean
one_floor (Device *device)
{
  return one_handshake (device) && spake2_both_sides () && enrolment_operations (device);
}

typedef gboolean (*Operation) (Device *device);

static gboolean
measure (Device *device, Operation op, gboolean ceremony_mode, int n, double *median_ms)
{
  g_autofree double *times = g_new (double, n);

  device->ceremony_mode = ceremony_mode;
  for (int i = 0; i < n; i++)
    {
      if (ceremony_mode)
        prepare_payload (device);
      double start = now_ms ();
      if (!op (device))
        return FALSE;
      times[i] = now_ms () - start;
    }
  *median_ms = median (times, n);
  return TRUE;
}

static void
bench_pairing (int iterations)
{
  Device device = { 0 };
  double pair_ms = 0, floor_ms = 0;

  device_init (&device);
  GThread *thread = g_thread_new ("device", device_serve, &device);
  /* Interleaved warm-up so that neither side pays for first-use costs. */
  gboolean ok = measure (&device, one_floor, FALSE, 3, &floor_ms)
                && measure (&device, one_pairing, TRUE, 3, &pair_ms)
                && measure (&device, one_floor, FALSE, iterations, &floor_ms)
                && measure (&device, one_pairing, TRUE, iterations, &pair_ms);
  tap (ok, "pairing on loopback and its floor both ran");
  if (ok)
    {
      printf ("# pairing (median of %d): %.2f ms; floor (1 TLS 1.3 handshake + P-256 ops): %.2f ms; "
              "ratio %.2f (target <= 2)\n", iterations, pair_ms, floor_ms, pair_ms / floor_ms);
      tap (pair_ms / floor_ms <= 2.0, "pairing is within 2x of its floor");
    }
  g_atomic_int_set (&device.stop, 1);
  shutdown (device.listen_fd, SHUT_RDWR);
  close (device.listen_fd);
  g_thread_join (thread);
  settle_ceremony_server_free (device.ceremony);
  settle_qr_payload_free (device.payload);
  SSL_CTX_free (device.tls);
  X509_free (device.ca);
  X509_free (device.leaf);
  EVP_PKEY_free (device.ca_key);
  EVP_PKEY_free (device.leaf_key);
}

/* ---- QR decoding ---- */

static gboolean
run_tool (const char *const *argv, char **out)
{
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, out, NULL, &status, &error))
    {
      fprintf (stderr, "# %s: %s\n", argv[0], error->message);
      return FALSE;
    }
  return g_spawn_check_wait_status (status, NULL);
}

static gboolean
make_photo (const char *dir, const char *payload, char **photo_out)
{
  g_autofree char *qr = g_build_filename (dir, "qr.png", NULL);
  g_autofree char *photo = g_build_filename (dir, "photo.png", NULL);
  const char *qrencode[] = { "qrencode", "-l", "M", "-s", "8", "-o", qr, payload, NULL };
  const char *convert[] = { "convert", qr, "-filter", "point", "-resize", "560x560", "-bordercolor",
                            "white", "-border", "40", "-background", "white", "-gravity", "center",
                            "-extent", "1920x1080", "-rotate", "7", "-gravity", "center", "-extent",
                            "1920x1080", "-attenuate", "0.8", "+noise", "Gaussian", "-blur", "0x1.5",
                            photo, NULL };

  if (!run_tool (qrencode, NULL) || !run_tool (convert, NULL))
    return FALSE;
  *photo_out = g_steal_pointer (&photo);
  return TRUE;
}

static gboolean
time_tool (const char *const *argv, const char *expected, double *ms)
{
  g_autofree char *out = NULL;
  double start = now_ms ();
  gboolean ok = run_tool (argv, &out);

  *ms = now_ms () - start;
  return ok && out != NULL && g_str_has_prefix (out, expected);
}

static void
bench_qr_decode (void)
{
  const char *payload = "SETTLE:V:1;G:p256;N:printer-3fa9.local;A:192.168.178.20:8443;"
                        "H:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8;S:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT;;";
  g_autofree char *dir = g_dir_make_tmp ("settle-qr-bench-XXXXXX", NULL);
  g_autofree char *photo = NULL;
  const char *check = g_getenv ("QR_DECODE_CHECK");
  double ours[QR_RUNS], ours_process[QR_RUNS], theirs[QR_RUNS];
  gboolean ok = dir != NULL && check != NULL && make_photo (dir, payload, &photo);

  tap (ok, "a 1920x1080 photo-like PNG was made with qrencode and ImageMagick");
  for (int i = 0; ok && i < QR_RUNS; i++)
    {
      const char *zbarimg[] = { "zbarimg", "-q", "--raw", photo, NULL };
      const char *ours_argv[] = { check, photo, NULL };
      double start = now_ms ();
      char *text = settle_qr_decode_file (photo, NULL);
      ours[i] = now_ms () - start;
      ok = text != NULL && strcmp (text, payload) == 0;
      settle_base32_wipe_free (text);
      ok = ok && time_tool (ours_argv, payload, &ours_process[i])
           && time_tool (zbarimg, payload, &theirs[i]);
    }
  tap (ok, "both settle and zbarimg decoded the photo");
  if (ok)
    {
      double in_process = median (ours, QR_RUNS), as_process = median (ours_process, QR_RUNS);
      double zbarimg = median (theirs, QR_RUNS);
      printf ("# QR decode of a 1920x1080 photo (median of %d): settle %.1f ms in process, "
              "%.1f ms as a process; zbarimg %.1f ms; ratio (process/process) %.2f\n",
              QR_RUNS, in_process, as_process, zbarimg, as_process / zbarimg);
    }
  if (photo != NULL)
    {
      g_autofree char *qr = g_build_filename (dir, "qr.png", NULL);
      g_unlink (photo);
      g_unlink (qr);
    }
  if (dir != NULL)
    g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  int iterations = argc > 1 ? atoi (argv[1]) : DEFAULT_ITERATIONS;

  if (iterations < 1)
    iterations = DEFAULT_ITERATIONS;
  bench_pairing (iterations);
  bench_qr_decode ();
  printf ("1..%d\n", tap_count);
  return 0;
}
