/* test-ceremony-server.c: lib/ceremony-server.c over real TLS 1.3 on
 * loopback (lib/ceremony-tls.c), driven by a minimal helper side written
 * with settle-spake2.h and settle-ceremony-msg.h. */
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "settle-ceremony-server.h"
#include "settle-ceremony-tls.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-spake2.h"

#define DEVICE_NAME "printer.local"
#define CLIENT_TIMEOUT_MS 5000

/* ---- test PKI ---- */

static X509 *
self_signed (EVP_PKEY *key, const char *cn)
{
  X509 *cert = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 1);
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 86400);
  X509_set_pubkey (cert, key);
  X509V3_CTX ctx;
  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *bc = X509V3_EXT_conf_nid (NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext (cert, bc, -1);
  X509_EXTENSION_free (bc);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  X509_NAME_free (name);
  return cert;
}

static GBytes *
csr_der (EVP_PKEY *key, gboolean corrupt_signature)
{
  X509_REQ *req = X509_REQ_new ();
  X509_NAME *name = X509_REQ_get_subject_name (req);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) "test helper", -1, -1, 0);
  X509_REQ_set_pubkey (req, key);
  g_assert_cmpint (X509_REQ_sign (req, key, EVP_sha256 ()), >, 0);
  unsigned char *der = NULL;
  int len = i2d_X509_REQ (req, &der);
  g_assert_cmpint (len, >, 0);
  if (corrupt_signature)
    der[len - 3] ^= 0x01;  /* inside the ECDSA signature's last integer */
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  X509_REQ_free (req);
  return bytes;
}

/* ---- the device side: a loopback listener, one thread per connection ---- */

typedef struct {
  SettleCeremonyServer *server;
  SSL_CTX *tls;
  EVP_PKEY *ca_key, *tls_key;
  X509 *ca, *tls_cert;
  int listen_fd;
  guint16 port;
  GAsyncQueue *outcomes;   /* of Outcome* */
  GThread *acceptor;
  GPtrArray *jobs;         /* of GThread*, owned by the acceptor until it is joined */
  gint enrolled;           /* record_enrolment calls */
  gint secret_changes;
  GMutex code_lock;
  char *check_code;        /* owned: the last one the device showed */
} Device;

typedef struct {
  SettleCeremonyOutcome outcome;
  GError *error;
} Outcome;

typedef struct {
  Device *device;
  int fd;
} Job;

static char *
grant_first_admin (const char *requested, gpointer user_data)
{
  Device *d = user_data;
  if (strcmp (requested, "admin") != 0 && strcmp (requested, "user") != 0 && strcmp (requested, "guest") != 0)
    return NULL;
  return g_strdup (g_atomic_int_get (&d->enrolled) == 0 ? "admin" : "guest");
}

static gboolean
record (X509 *cert, const char *role, const char *peer, gpointer user_data, GError **error)
{
  (void) cert, (void) role, (void) peer, (void) error;
  g_atomic_int_inc (&((Device *) user_data)->enrolled);
  return TRUE;
}

static void
secret_changed (SettleCeremonyServer *server, gpointer user_data)
{
  (void) server;
  g_atomic_int_inc (&((Device *) user_data)->secret_changes);
}

static void
show_check_code (const char *code, const char *peer, gpointer user_data)
{
  Device *d = user_data;
  (void) peer;
  g_mutex_lock (&d->code_lock);
  g_free (d->check_code);
  d->check_code = g_strdup (code);
  g_mutex_unlock (&d->code_lock);
}

static gpointer
handle_job (gpointer data)
{
  Job *job = data;
  Outcome *o = g_new0 (Outcome, 1);
  SettleTlsConn *conn = settle_tls_accept (job->device->tls, job->fd, CLIENT_TIMEOUT_MS, &o->error);
  if (conn != NULL)
    o->outcome = settle_ceremony_server_handle (job->device->server, conn, &o->error);
  else
    o->outcome = SETTLE_CEREMONY_OUTCOME_FAILED;
  settle_tls_close (conn);
  g_async_queue_push (job->device->outcomes, o);
  g_free (job);
  return NULL;
}

static gpointer
acceptor (gpointer data)
{
  Device *d = data;
  for (;;)
    {
      int fd = accept (d->listen_fd, NULL, NULL);
      if (fd < 0)
        return NULL;  /* listen socket shut down: the test is over */
      Job *job = g_new0 (Job, 1);
      job->device = d;
      job->fd = fd;
      /* Joined in device_stop: a job still in its handshake when a test
       * ends must not outlive the server and TLS context it uses. */
      g_ptr_array_add (d->jobs, g_thread_new ("job", handle_job, job));
    }
}

static void
device_start (Device *d)
{
  memset (d, 0, sizeof *d);
  g_mutex_init (&d->code_lock);
  d->ca_key = EVP_EC_gen ("P-256");
  d->ca = self_signed (d->ca_key, "test device CA");
  d->tls_key = EVP_EC_gen ("P-256");
  d->tls_cert = self_signed (d->tls_key, DEVICE_NAME);
  g_autoptr (GError) error = NULL;
  d->tls = settle_tls_server_ctx_new (d->tls_key, d->tls_cert, NULL, d->ca, &error);
  g_assert_no_error (error);
  d->server = settle_ceremony_server_new (DEVICE_NAME, d->ca_key, d->ca, NULL, &error);
  g_assert_no_error (error);
  SettleCeremonyServerHooks hooks = {
    .grant_role = grant_first_admin, .record_enrolment = record, .secret_changed = secret_changed,
    .show_check_code = show_check_code, .user_data = d,
  };
  settle_ceremony_server_set_hooks (d->server, &hooks);
  d->outcomes = g_async_queue_new ();
  d->jobs = g_ptr_array_new ();
  d->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  g_assert_cmpint (bind (d->listen_fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (d->listen_fd, 8), ==, 0);
  g_assert_cmpint (getsockname (d->listen_fd, (struct sockaddr *) &sa, &len), ==, 0);
  d->port = ntohs (sa.sin_port);
  d->acceptor = g_thread_new ("acceptor", acceptor, d);
}

static void
device_stop (Device *d)
{
  shutdown (d->listen_fd, SHUT_RDWR);
  g_thread_join (d->acceptor);
  close (d->listen_fd);
  for (guint i = 0; i < d->jobs->len; i++)
    g_thread_join (g_ptr_array_index (d->jobs, i));
  g_ptr_array_free (d->jobs, TRUE);
  Outcome *o;
  while ((o = g_async_queue_try_pop (d->outcomes)) != NULL)
    {
      g_clear_error (&o->error);
      g_free (o);
    }
  g_async_queue_unref (d->outcomes);
  settle_ceremony_server_free (d->server);
  SSL_CTX_free (d->tls);
  EVP_PKEY_free (d->ca_key);
  EVP_PKEY_free (d->tls_key);
  X509_free (d->ca);
  X509_free (d->tls_cert);
  g_free (d->check_code);
  g_mutex_clear (&d->code_lock);
}

/* The server's verdict on the last connection (owned). */
static Outcome *
next_outcome (Device *d)
{
  Outcome *o = g_async_queue_timeout_pop (d->outcomes, 20 * G_USEC_PER_SEC);
  g_assert_nonnull (o);
  return o;
}

static void
outcome_free (Outcome *o)
{
  g_clear_error (&o->error);
  g_free (o);
}

static gsize
current_secret (Device *d, guint8 *out, guint *generation)
{
  return settle_ceremony_server_copy_secret (d->server, out, generation);
}

/* ---- the helper side ---- */

typedef struct {
  SettleTlsConn *conn;
  SettleSpake2 *spake;
} Client;

static void
client_connect (Device *d, Client *c)
{
  g_autoptr (GError) error = NULL;
  c->conn = settle_tls_connect ("127.0.0.1", d->port, DEVICE_NAME, CLIENT_TIMEOUT_MS, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (settle_tls_alpn_peek (c->conn), ==, SETTLE_CEREMONY_ALPN);
  c->spake = NULL;
}

static void
client_close (Client *c)
{
  settle_spake2_free (c->spake);
  settle_tls_close (c->conn);
}

/* CLIENT_HELLO, then SERVER_SHARE; returns whether cB verified. */
static gboolean
client_hello (Client *c, const guint8 *secret, gsize secret_len)
{
  g_autoptr (GError) error = NULL;
  guint8 aad[SETTLE_TLS_EXPORTER_LEN];
  g_assert_true (settle_tls_exporter (c->conn, aad, &error));
  c->spake = settle_spake2_new (SETTLE_SPAKE2_ROLE_A, SETTLE_SPAKE2_ID_CLIENT, DEVICE_NAME, secret,
                                secret_len, aad, sizeof aad, &error);
  g_assert_no_error (error);
  g_autoptr (SettleCeremonyMsg) hello = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_HELLO);
  hello->client_hello.version = SETTLE_CEREMONY_VERSION;
  hello->client_hello.suite = SETTLE_SPAKE2_SUITE_P256_SHA256;
  settle_spake2_get_share (c->spake, hello->client_hello.share);
  g_assert_true (settle_tls_send (c->conn, hello, &error));
  g_autoptr (SettleCeremonyMsg) share = settle_tls_receive (c->conn, &error);
  g_assert_no_error (error);
  g_assert_cmpint (share->type, ==, SETTLE_MSG_SERVER_SHARE);
  g_assert_true (settle_spake2_process_peer_share (c->spake, share->server_share.share,
                                                   sizeof share->server_share.share, &error));
  gboolean ok = settle_spake2_verify_peer_confirmation (c->spake, share->server_share.confirm,
                                                       sizeof share->server_share.confirm, NULL);
  return ok;
}

static void
client_confirm (Client *c)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) confirm = settle_ceremony_msg_new (SETTLE_MSG_CLIENT_CONFIRM);
  g_assert_true (settle_spake2_get_confirmation (c->spake, confirm->client_confirm.confirm, &error));
  g_assert_true (settle_tls_send (c->conn, confirm, &error));
}

static void
client_enrol_request (Client *c, GBytes *csr, const char *role)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) req = settle_ceremony_msg_new (SETTLE_MSG_ENROL_REQUEST);
  req->enrol_request.csr_der = g_bytes_ref (csr);
  req->enrol_request.role = g_strdup (role);
  g_assert_true (settle_tls_send (c->conn, req, &error));
}

/* The device's answer to ENROL_REQUEST, asserted to be ENROL_RESPONSE. */
static SettleCeremonyMsg *
client_expect_enrolment (Client *c)
{
  g_autoptr (GError) error = NULL;
  SettleCeremonyMsg *resp = settle_tls_receive (c->conn, &error);
  g_assert_no_error (error);
  gboolean is_response = settle_ceremony_msg_expect (resp, SETTLE_MSG_ENROL_RESPONSE, &error);
  g_assert_no_error (error);
  g_assert_true (is_response);
  return resp;
}

/* COMMIT, answered with COMMITTED. */
static void
client_commit (Client *c)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) commit = settle_ceremony_msg_new (SETTLE_MSG_COMMIT);
  g_assert_true (settle_tls_send (c->conn, commit, &error));
  g_autoptr (SettleCeremonyMsg) committed = settle_tls_receive (c->conn, &error);
  g_assert_no_error (error);
  g_assert_cmpint (committed->type, ==, SETTLE_MSG_COMMITTED);
}

/* The ERROR code the device answered with (asserts it is an ERROR). */
static guint
client_expect_error (Client *c)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) msg = settle_tls_receive (c->conn, &error);
  g_assert_no_error (error);
  g_assert_cmpint (msg->type, ==, SETTLE_MSG_ERROR);
  return msg->error.code;
}

/* A whole attempt with `secret` that sends cA even when cB did not verify,
 * so that the device's own check is exercised. */
static guint
attempt_with_secret (Device *d, const guint8 *secret, gsize len)
{
  Client c;
  client_connect (d, &c);
  g_assert_false (client_hello (&c, secret, len));
  client_confirm (&c);
  guint code = client_expect_error (&c);
  client_close (&c);
  return code;
}

static void
wrong_secret (const guint8 *right, gsize len, guint8 *out)
{
  memcpy (out, right, len);
  out[0] ^= 0x80;
}

/* ---- tests ---- */

static void
test_correct_secret_enrols (void)
{
  Device d;
  device_start (&d);
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  guint generation = 0;
  gsize len = current_secret (&d, secret, &generation);
  g_assert_cmpuint (len * 8, >=, 128);

  EVP_PKEY *client_key = EVP_EC_gen ("P-256");
  g_autoptr (GBytes) csr = csr_der (client_key, FALSE);
  Client c;
  client_connect (&d, &c);
  g_assert_true (client_hello (&c, secret, len));
  client_confirm (&c);
  client_enrol_request (&c, csr, "admin");
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleCeremonyMsg) resp = client_expect_enrolment (&c);
  /* Pending until COMMIT: nothing recorded yet. */
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 0);
  g_assert_cmpstr (resp->enrol_response.role, ==, "admin");
  g_assert_cmpstr (resp->enrol_response.names[0], ==, DEVICE_NAME);
  g_assert_cmpuint (resp->enrol_response.chain->len, ==, 1);

  gsize der_len = 0;
  const guint8 *der = g_bytes_get_data (resp->enrol_response.cert_der, &der_len);
  X509 *cert = settle_cert_parse (der, der_len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (X509_verify (cert, d.ca_key), ==, 1);            /* issued by the device CA */
  g_assert_cmpint (EVP_PKEY_eq (X509_get0_pubkey (cert), client_key), ==, 1);  /* for our key */
  g_assert_cmpint (X509_check_purpose (cert, X509_PURPOSE_SSL_CLIENT, 0), ==, 1);
  X509_free (cert);
  client_commit (&c);
  client_close (&c);

  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_ENROLLED);
  outcome_free (o);
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 1);

  /* Single use: the secret was retired, the old one fails now. */
  guint8 fresh[SETTLE_SECRET_MAX_BYTES];
  guint fresh_generation = 0;
  current_secret (&d, fresh, &fresh_generation);
  g_assert_cmpuint (fresh_generation, ==, generation + 1);
  g_assert_cmpint (g_atomic_int_get (&d.secret_changes), ==, 1);
  g_assert_cmpuint (attempt_with_secret (&d, secret, len), ==, SETTLE_CEREMONY_ERR_AUTH_FAILED);
  outcome_free (next_outcome (&d));
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 1);

  EVP_PKEY_free (client_key);
  device_stop (&d);
}

static void
test_wrong_secret_refused (void)
{
  Device d;
  device_start (&d);
  guint8 secret[SETTLE_SECRET_MAX_BYTES], wrong[SETTLE_SECRET_MAX_BYTES];
  gsize len = current_secret (&d, secret, NULL);
  wrong_secret (secret, len, wrong);
  g_assert_cmpuint (attempt_with_secret (&d, wrong, len), ==, SETTLE_CEREMONY_ERR_AUTH_FAILED);
  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_AUTH_FAILED);
  g_assert_error (o->error, SETTLE_ERROR, SETTLE_ERROR_AUTH);
  outcome_free (o);
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 0);
  g_assert_cmpuint (settle_ceremony_server_failures (d.server), ==, 1);
  device_stop (&d);
}

static void
test_five_failures_retire_secret (void)
{
  Device d;
  device_start (&d);
  guint8 secret[SETTLE_SECRET_MAX_BYTES], wrong[SETTLE_SECRET_MAX_BYTES];
  guint generation = 0, later = 0;
  gsize len = current_secret (&d, secret, &generation);
  wrong_secret (secret, len, wrong);
  for (int i = 1; i <= SETTLE_CEREMONY_SERVER_MAX_FAILURES; i++)
    {
      g_assert_cmpuint (attempt_with_secret (&d, wrong, len), ==, SETTLE_CEREMONY_ERR_AUTH_FAILED);
      outcome_free (next_outcome (&d));
      guint8 scratch[SETTLE_SECRET_MAX_BYTES];
      current_secret (&d, scratch, &later);
      g_assert_cmpuint (later, ==, i < SETTLE_CEREMONY_SERVER_MAX_FAILURES ? generation : generation + 1);
    }
  g_assert_cmpint (g_atomic_int_get (&d.secret_changes), ==, 1);
  g_assert_cmpuint (settle_ceremony_server_failures (d.server), ==, 0);
  /* The retired secret, right before, is worthless now. */
  g_assert_cmpuint (attempt_with_secret (&d, secret, len), ==, SETTLE_CEREMONY_ERR_AUTH_FAILED);
  outcome_free (next_outcome (&d));
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 0);
  device_stop (&d);
}

/* A helper that stops at a wrong cB and hangs up counts as a failure too. */
static void
test_silent_hangup_counts (void)
{
  Device d;
  device_start (&d);
  guint8 secret[SETTLE_SECRET_MAX_BYTES], wrong[SETTLE_SECRET_MAX_BYTES];
  gsize len = current_secret (&d, secret, NULL);
  wrong_secret (secret, len, wrong);
  Client c;
  client_connect (&d, &c);
  g_assert_false (client_hello (&c, wrong, len));
  client_close (&c);
  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_AUTH_FAILED);
  outcome_free (o);
  g_assert_cmpuint (settle_ceremony_server_failures (d.server), ==, 1);
  device_stop (&d);
}

static void
send_raw (Client *c, const guint8 *bytes, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (settle_tls_write_all (c->conn, bytes, len, &error));
}

static void
test_truncated_frame (void)
{
  Device d;
  device_start (&d);
  Client c;
  client_connect (&d, &c);
  guint8 partial[4 + 10] = { 0, 0, 0, 100 };  /* announces 100 bytes, sends 10 */
  send_raw (&c, partial, sizeof partial);
  /* close_notify ends our half; the device can still answer. */
  SSL_shutdown (settle_tls_ssl_peek (c.conn));
  g_assert_cmpuint (client_expect_error (&c), ==, SETTLE_CEREMONY_ERR_MALFORMED);
  client_close (&c);
  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_FAILED);
  g_assert_error (o->error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  g_assert_nonnull (strstr (o->error->message, "truncated"));
  outcome_free (o);
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 0);
  device_stop (&d);
}

static void
test_oversized_frame (void)
{
  Device d;
  device_start (&d);
  Client c;
  client_connect (&d, &c);
  guint8 header[4] = { 0x00, 0x01, 0x00, 0x01 };  /* 65537 bytes: one too many */
  send_raw (&c, header, sizeof header);
  g_assert_cmpuint (client_expect_error (&c), ==, SETTLE_CEREMONY_ERR_MALFORMED);
  client_close (&c);
  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_FAILED);
  g_assert_error (o->error, SETTLE_ERROR, SETTLE_ERROR_FORMAT);
  outcome_free (o);
  device_stop (&d);
}

static void
test_silent_client_times_out (void)
{
  Device d;
  device_start (&d);
  settle_ceremony_server_set_step_timeout (d.server, 300);
  Client c;
  client_connect (&d, &c);
  gint64 start = g_get_monotonic_time ();
  g_assert_cmpuint (client_expect_error (&c), ==, SETTLE_CEREMONY_ERR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  client_close (&c);
  Outcome *o = next_outcome (&d);
  g_assert_error (o->error, SETTLE_ERROR, SETTLE_ERROR_NETWORK);
  outcome_free (o);
  device_stop (&d);
}

static void
test_concurrent_ceremony_busy (void)
{
  Device d;
  device_start (&d);
  settle_ceremony_server_set_step_timeout (d.server, 1500);
  Client first, second;
  client_connect (&d, &first);   /* holds the ceremony, says nothing */
  g_usleep (300 * 1000);
  client_connect (&d, &second);
  g_assert_cmpuint (client_expect_error (&second), ==, SETTLE_CEREMONY_ERR_BUSY);
  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_BUSY);
  outcome_free (o);
  client_close (&second);
  client_close (&first);
  outcome_free (next_outcome (&d));
  device_stop (&d);
}

static void
run_enrolment_expecting (Device *d, GBytes *csr, const char *role, guint expected_code)
{
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  gsize len = current_secret (d, secret, NULL);
  Client c;
  client_connect (d, &c);
  g_assert_true (client_hello (&c, secret, len));
  client_confirm (&c);
  client_enrol_request (&c, csr, role);
  g_assert_cmpuint (client_expect_error (&c), ==, expected_code);
  client_close (&c);
  Outcome *o = next_outcome (d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_REFUSED);
  outcome_free (o);
  g_assert_cmpint (g_atomic_int_get (&d->enrolled), ==, 0);
}

static void
test_bad_csr_and_role_refused (void)
{
  Device d;
  device_start (&d);
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  g_autoptr (GBytes) forged = csr_der (key, TRUE);
  run_enrolment_expecting (&d, forged, "guest", SETTLE_CEREMONY_ERR_CSR_REFUSED);
  g_autoptr (GBytes) good = csr_der (key, FALSE);
  run_enrolment_expecting (&d, good, "superuser", SETTLE_CEREMONY_ERR_ROLE_REFUSED);
  g_autoptr (GBytes) ca_key_csr = csr_der (d.ca_key, FALSE);
  run_enrolment_expecting (&d, ca_key_csr, "guest", SETTLE_CEREMONY_ERR_CSR_REFUSED);
  EVP_PKEY_free (key);
  device_stop (&d);
}

/* How the helper's side ends a pairing after ENROL_RESPONSE without COMMIT. */
typedef enum { END_DECLINE, END_DROP, END_SILENCE } PendingEnd;

/* A confirmed pairing that never commits: the device records nothing,
 * the secret is spent, and the next, committed pairing gets the role it
 * asked for (admin for the first enrolment), as if the first never was. */
static void
test_uncommitted_stores_nothing (gconstpointer data)
{
  PendingEnd end = (PendingEnd) GPOINTER_TO_INT (data);
  Device d;
  device_start (&d);
  if (end == END_SILENCE)
    settle_ceremony_server_set_consent_timeout (d.server, 300);
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  guint generation = 0;
  gsize len = current_secret (&d, secret, &generation);
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  g_autoptr (GBytes) csr = csr_der (key, FALSE);
  Client c;
  client_connect (&d, &c);
  g_assert_true (client_hello (&c, secret, len));
  client_confirm (&c);
  client_enrol_request (&c, csr, "admin");
  g_autoptr (SettleCeremonyMsg) resp = client_expect_enrolment (&c);
  g_assert_cmpstr (resp->enrol_response.role, ==, "admin");
  if (end == END_DECLINE)
    {
      g_autoptr (SettleCeremonyMsg) no = settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_DECLINED, "no");
      g_assert_true (settle_tls_send (c.conn, no, NULL));
    }
  else if (end == END_SILENCE)
    g_assert_cmpuint (client_expect_error (&c), ==, SETTLE_CEREMONY_ERR_TIMEOUT);
  client_close (&c);
  Outcome *o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_DECLINED);
  g_assert_error (o->error, SETTLE_ERROR, SETTLE_ERROR_REFUSED);
  outcome_free (o);
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 0);

  /* Spent: the next pairing needs the next secret. */
  guint8 fresh[SETTLE_SECRET_MAX_BYTES];
  guint fresh_generation = 0;
  gsize fresh_len = current_secret (&d, fresh, &fresh_generation);
  g_assert_cmpuint (fresh_generation, ==, generation + 1);
  g_assert_cmpuint (settle_ceremony_server_failures (d.server), ==, 0);

  /* The same key again (nothing holds it), and the role asked for. */
  client_connect (&d, &c);
  g_assert_true (client_hello (&c, fresh, fresh_len));
  client_confirm (&c);
  client_enrol_request (&c, csr, "admin");
  g_autoptr (SettleCeremonyMsg) again = client_expect_enrolment (&c);
  g_assert_cmpstr (again->enrol_response.role, ==, "admin");
  client_commit (&c);
  client_close (&c);
  o = next_outcome (&d);
  g_assert_cmpint (o->outcome, ==, SETTLE_CEREMONY_OUTCOME_ENROLLED);
  outcome_free (o);
  g_assert_cmpint (g_atomic_int_get (&d.enrolled), ==, 1);
  EVP_PKEY_free (key);
  device_stop (&d);
}

/* The device shows the same check code as the helper computes. */
static void
test_device_shows_check_code (void)
{
  Device d;
  device_start (&d);
  guint8 secret[SETTLE_SECRET_MAX_BYTES];
  gsize len = current_secret (&d, secret, NULL);
  Client c;
  client_connect (&d, &c);
  g_assert_true (client_hello (&c, secret, len));
  client_confirm (&c);
  g_autofree char *helper_code = settle_spake2_short_auth_string (c.spake, NULL);
  g_assert_true (g_regex_match_simple ("^[0-9]{3} [0-9]{3}$", helper_code, 0, 0));
  client_close (&c);  /* hangs up before ENROL_REQUEST */
  outcome_free (next_outcome (&d));
  g_mutex_lock (&d.code_lock);
  g_assert_cmpstr (d.check_code, ==, helper_code);
  g_mutex_unlock (&d.code_lock);
  device_stop (&d);
}

/* secp256k1 is refused as unsupported, not as weak. */
static void
test_unsupported_curve_refused (void)
{
  Device d;
  device_start (&d);
  EVP_PKEY *k1 = EVP_EC_gen ("secp256k1");
  g_assert_nonnull (k1);
  X509_REQ *req = X509_REQ_new ();
  X509_REQ_set_pubkey (req, k1);
  g_assert_cmpint (X509_REQ_sign (req, k1, EVP_sha256 ()), >, 0);
  g_autoptr (GError) error = NULL;
  X509 *cert = settle_ceremony_server_issue_client_cert (d.server, req, "guest", &error);
  g_assert_null (cert);
  g_assert_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT);
  g_assert_nonnull (strstr (error->message, "not supported"));
  g_assert_null (strstr (error->message, "weak"));
  X509_REQ_free (req);
  EVP_PKEY_free (k1);
  device_stop (&d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ceremony-server/correct-secret-enrols", test_correct_secret_enrols);
  g_test_add_func ("/ceremony-server/wrong-secret-refused", test_wrong_secret_refused);
  g_test_add_func ("/ceremony-server/five-failures-retire-secret", test_five_failures_retire_secret);
  g_test_add_func ("/ceremony-server/silent-hangup-counts", test_silent_hangup_counts);
  g_test_add_func ("/ceremony-server/truncated-frame", test_truncated_frame);
  g_test_add_func ("/ceremony-server/oversized-frame", test_oversized_frame);
  g_test_add_func ("/ceremony-server/silent-client-times-out", test_silent_client_times_out);
  g_test_add_func ("/ceremony-server/concurrent-ceremony-busy", test_concurrent_ceremony_busy);
  g_test_add_func ("/ceremony-server/bad-csr-and-role-refused", test_bad_csr_and_role_refused);
  g_test_add_data_func ("/ceremony-server/uncommitted/declined", GINT_TO_POINTER (END_DECLINE),
                        test_uncommitted_stores_nothing);
  g_test_add_data_func ("/ceremony-server/uncommitted/dropped", GINT_TO_POINTER (END_DROP),
                        test_uncommitted_stores_nothing);
  g_test_add_data_func ("/ceremony-server/uncommitted/consent-deadline", GINT_TO_POINTER (END_SILENCE),
                        test_uncommitted_stores_nothing);
  g_test_add_func ("/ceremony-server/device-shows-check-code", test_device_shows_check_code);
  g_test_add_func ("/ceremony-server/unsupported-curve-refused", test_unsupported_curve_refused);
  return g_test_run ();
}
