/* device-acme.c: the device's TLS certificate from a referee's ACME CA
 * (RFC 8555; docs/referee.md), obtained and renewed by lego.
 *
 * Why lego, run as a program: ACME is a maintained client's job (account
 * keys, JWS, nonces, orders, challenges), and Debian 12 ships two C/Go
 * ones.  uacme 1.7.4 cannot be told which CA signs the ACME server's own
 * HTTPS certificate (it uses libcurl-gnutls with the system bundle only),
 * so a home referee would have to be added to the system's trust; lego
 * takes that CA from LEGO_CA_CERTIFICATES for itself alone, answers
 * http-01 with its own small server, and writes the key and the chain to
 * files.  The device decides when to renew (notAfter, below) and lego
 * only obtains.
 *
 * The served certificate is swapped without a restart: the TLS context's
 * certificate callback hands each new connection the current one. */
#include "device.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "settle-error.h"

struct _SettleDeviceAcme {
  char *name;
  char *directory;
  char *ca_file;       /* NULL: the system's trust for the ACME server's HTTPS */
  char *http_listen;   /* where lego answers http-01 (":80" in a real home) */
  char *client;        /* the lego program */
  char *email;         /* the account's contact, or NULL */
  char *dir;           /* STATE/acme: lego's account and certificates */
  guint check_s;
  int stop_fd;         /* readable once the device stops (its signalfd), or -1 */

  GMutex lock;         /* guards the three below */
  X509 *cert;
  EVP_PKEY *key;
  STACK_OF (X509) *chain;

  GThread *thread;
  GMutex stop_lock;
  GCond stop_cond;
  gboolean stopping;
};

/* ---- when to renew ---- */

static gboolean
asn1_time_to_unix (const ASN1_TIME *t, gint64 *out)
{
  struct tm tm;
  if (t == NULL || ASN1_TIME_to_tm (t, &tm) != 1)
    return FALSE;
  *out = (gint64) timegm (&tm);
  return TRUE;
}

gboolean
settle_device_acme_renewal_due (gint64 not_before, gint64 not_after, gint64 now)
{
  gint64 lifetime = not_after - not_before;
  if (lifetime <= 0)
    return TRUE;
  /* A third of the lifetime left, as ACME clients commonly do (30 of 90
   * days): time for a few failed attempts before it expires. */
  return now >= not_after - lifetime / 3;
}

static gboolean
cert_due (X509 *cert)
{
  gint64 before, after;
  if (!asn1_time_to_unix (X509_get0_notBefore (cert), &before)
      || !asn1_time_to_unix (X509_get0_notAfter (cert), &after))
    return TRUE;
  return settle_device_acme_renewal_due (before, after, g_get_real_time () / G_USEC_PER_SEC);
}

/* ---- when to try again after a failure ---- */

guint
settle_device_acme_retry_delay_s (guint check_s, guint failures)
{
  guint cap = MAX (check_s, SETTLE_DEVICE_ACME_RETRY_CAP_S);
  guint delay = check_s;

  /* Doubling after each failure in a row: a dead or refusing ACME server
   * is not asked again at every check, yet a short outage costs little. */
  for (guint i = 0; i < failures && delay < cap; i++)
    delay = delay > cap / 2 ? cap : delay * 2;
  return MIN (delay, cap);
}

/* ---- lego ---- */

/* TRUE once the device is asked to stop: settle_device_acme_stop() for
 * the renewal thread, the signalfd at start.  Waits up to `wait_ms`. */
static gboolean
stop_requested (SettleDeviceAcme *acme, int wait_ms)
{
  gboolean stopping;

  g_mutex_lock (&acme->stop_lock);
  if (!acme->stopping && wait_ms > 0)
    g_cond_wait_until (&acme->stop_cond, &acme->stop_lock, g_get_monotonic_time () + (gint64) wait_ms * 1000);
  stopping = acme->stopping;
  g_mutex_unlock (&acme->stop_lock);
  if (!stopping && acme->stop_fd >= 0)
    {
      /* Not read: the accept loop reads the signal and stops the device. */
      struct pollfd p = { .fd = acme->stop_fd, .events = POLLIN };
      stopping = poll (&p, 1, 0) > 0;
    }
  return stopping;
}

/* lego and whatever it starts get their own process group, so that a
 * stopping device ends all of them; and the signals the device blocks
 * (it reads them from a signalfd) are lego's to receive. */
static void
client_setup (gpointer data)
{
  sigset_t none;
  (void) data;
  setpgid (0, 0);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

/* Ends lego's process group: SIGTERM, then SIGKILL after the grace. */
static int
end_client (GPid pid)
{
  int status = 0;

  /* The group, or lego alone if it has not made its group yet. */
  if (kill (-pid, SIGTERM) != 0)
    kill (pid, SIGTERM);
  for (int waited = 0; waited < SETTLE_DEVICE_ACME_STOP_GRACE_MS; waited += 50)
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        return status;
      g_usleep (50 * 1000);
    }
  if (kill (-pid, SIGKILL) != 0)
    kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

static gboolean
run_client (SettleDeviceAcme *acme, GError **error)
{
  g_auto (GStrv) env = g_get_environ ();
  /* An ACME account needs a contact; a device has no mailbox, so the
   * account is named after the device unless the owner gave one. */
  g_autofree char *email = acme->email != NULL ? g_strdup (acme->email) : g_strconcat ("admin@", acme->name, NULL);
  const char *argv[] = {
    acme->client, "--server", acme->directory, "--accept-tos", "--email", email, "--path", acme->dir,
    "--key-type", "ec256", "--http", "--http.port", acme->http_listen, "--domains", acme->name,
    "run", NULL,
  };
  int status = 0;
  GPid pid = 0;
  g_autoptr (GError) spawn_error = NULL;

  if (acme->ca_file != NULL)
    env = g_environ_setenv (env, "LEGO_CA_CERTIFICATES", acme->ca_file, TRUE);
  /* lego's log goes to the device's standard error, as the device's own. */
  /* Standard input stays /dev/null: lego must never wait for a person. */
  if (!g_spawn_async (NULL, (char **) argv, env,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_DO_NOT_REAP_CHILD, client_setup,
                      NULL, &pid, &spawn_error))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot run the ACME client %s: %s.", acme->client,
                   spawn_error->message);
      return FALSE;
    }
  /* Here too (it fails once lego has exec'd, having done it itself): the
   * group exists before anyone may signal it. */
  setpgid (pid, pid);
  g_printerr ("settle-device: asking %s for a certificate for %s (ACME client %s, pid %d)\n", acme->directory,
              acme->name, acme->client, (int) pid);
  for (;;)
    {
      pid_t done = waitpid (pid, &status, WNOHANG);
      if (done == pid)
        break;
      if (done < 0 && errno != EINTR)
        {
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Lost the ACME client %s: %s.", acme->client,
                       g_strerror (errno));
          return FALSE;
        }
      if (stop_requested (acme, 100))
        {
          /* A device that stops does not wait for lego (which may retry
           * a dead ACME server for tens of seconds). */
          end_client (pid);
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                       "Stopped: the ACME client was ended before it obtained a certificate for %s.", acme->name);
          return FALSE;
        }
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK,
                   "The ACME client could not obtain a certificate for %s from %s (its messages are above).",
                   acme->name, acme->directory);
      return FALSE;
    }
  return TRUE;
}

/* ---- the certificate lego wrote ---- */

static char *
cert_path (SettleDeviceAcme *acme, const char *suffix)
{
  g_autofree char *file = g_strconcat (acme->name, suffix, NULL);
  return g_build_filename (acme->dir, "certificates", file, NULL);
}

/* Leaf, chain and key from lego's files; the leaf must be for our name
 * and match the key. */
static gboolean
load_files (SettleDeviceAcme *acme, X509 **cert, STACK_OF (X509) **chain, EVP_PKEY **key, GError **error)
{
  g_autofree char *crt = cert_path (acme, ".crt"), *key_file = cert_path (acme, ".key");
  FILE *f = fopen (crt, "r");
  gboolean ok = FALSE;

  *cert = NULL;
  *key = NULL;
  *chain = sk_X509_new_null ();
  if (f != NULL)
    {
      /* lego's .crt: the leaf, then the chain the ACME server returned. */
      *cert = *chain != NULL ? PEM_read_X509 (f, NULL, NULL, NULL) : NULL;
      X509 *extra;
      while (*cert != NULL && (extra = PEM_read_X509 (f, NULL, NULL, NULL)) != NULL)
        if (sk_X509_push (*chain, extra) <= 0)
          X509_free (extra);
      fclose (f);
    }
  if ((f = fopen (key_file, "r")) != NULL)
    {
      *key = PEM_read_PrivateKey (f, NULL, NULL, NULL);
      fclose (f);
    }
  if (*cert == NULL || *key == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "No readable ACME certificate and key in %s.", acme->dir);
  else if (X509_check_host (*cert, acme->name, 0, 0, NULL) != 1)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "The ACME certificate in %s is not for %s.", crt, acme->name);
  else if (X509_check_private_key (*cert, *key) != 1)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "The ACME certificate in %s does not match its key.", crt);
  else
    ok = TRUE;
  if (!ok)
    {
      X509_free (*cert);
      EVP_PKEY_free (*key);
      sk_X509_pop_free (*chain, X509_free);
      *cert = NULL;
      *key = NULL;
      *chain = NULL;
    }
  return ok;
}

static void
install (SettleDeviceAcme *acme, X509 *cert, STACK_OF (X509) *chain, EVP_PKEY *key)
{
  g_mutex_lock (&acme->lock);
  X509_free (acme->cert);
  EVP_PKEY_free (acme->key);
  sk_X509_pop_free (acme->chain, X509_free);
  acme->cert = cert;
  acme->chain = chain;
  acme->key = key;
  g_mutex_unlock (&acme->lock);
}

/* Loads what is on disk; obtains a new one when nothing usable is there
 * or `force`. */
static gboolean
refresh (SettleDeviceAcme *acme, gboolean force, GError **error)
{
  X509 *cert = NULL;
  STACK_OF (X509) *chain = NULL;
  EVP_PKEY *key = NULL;

  if (!force && load_files (acme, &cert, &chain, &key, NULL) && !cert_due (cert))
    {
      install (acme, cert, chain, key);
      return TRUE;
    }
  X509_free (cert);
  EVP_PKEY_free (key);
  sk_X509_pop_free (chain, X509_free);
  if (!run_client (acme, error) || !load_files (acme, &cert, &chain, &key, error))
    return FALSE;
  g_autofree char *serial = settle_device_serial_hex (cert);
  g_printerr ("settle-device: obtained the certificate for %s from %s (serial %s)\n", acme->name,
              acme->directory, serial);
  install (acme, cert, chain, key);
  return TRUE;
}

/* ---- the renewal timer ---- */

static gpointer
renewal_thread (gpointer data)
{
  SettleDeviceAcme *acme = data;
  guint failures = 0;

  g_mutex_lock (&acme->stop_lock);
  while (!acme->stopping)
    {
      guint wait_s = settle_device_acme_retry_delay_s (acme->check_s, failures);
      gint64 deadline = g_get_monotonic_time () + (gint64) wait_s * G_USEC_PER_SEC;
      while (!acme->stopping && g_cond_wait_until (&acme->stop_cond, &acme->stop_lock, deadline))
        ;
      if (acme->stopping)
        break;
      g_mutex_unlock (&acme->stop_lock);
      g_mutex_lock (&acme->lock);
      gboolean due = cert_due (acme->cert);
      g_mutex_unlock (&acme->lock);
      g_autoptr (GError) local = NULL;
      if (!due)
        failures = 0;
      else if (refresh (acme, TRUE, &local))
        failures = 0;
      else if (!stop_requested (acme, 0))
        {
          failures++;
          g_printerr ("settle-device: renewal failed (%u in a row), trying again in %u s: %s\n", failures,
                      settle_device_acme_retry_delay_s (acme->check_s, failures), local->message);
        }
      g_mutex_lock (&acme->stop_lock);
    }
  g_mutex_unlock (&acme->stop_lock);
  return NULL;
}

/* ---- serving it ---- */

static int
use_current_cert (SSL *ssl, void *data)
{
  SettleDeviceAcme *acme = data;
  int ok;

  g_mutex_lock (&acme->lock);
  ok = SSL_use_cert_and_key (ssl, acme->cert, acme->key, acme->chain, 1);
  g_mutex_unlock (&acme->lock);
  return ok == 1 ? 1 : 0;
}

void
settle_device_acme_serve_with (SettleDeviceAcme *acme, SSL_CTX *ctx)
{
  SSL_CTX_set_cert_cb (ctx, use_current_cert, acme);
}

X509 *
settle_device_acme_current (SettleDeviceAcme *acme)
{
  g_mutex_lock (&acme->lock);
  X509 *cert = X509_dup (acme->cert);
  g_mutex_unlock (&acme->lock);
  return cert;
}

/* ---- life cycle ---- */

SettleDeviceAcme *
settle_device_acme_start (const SettleDeviceAcmeOptions *options, GError **error)
{
  SettleDeviceAcme *acme = g_new0 (SettleDeviceAcme, 1);

  g_mutex_init (&acme->lock);
  g_mutex_init (&acme->stop_lock);
  g_cond_init (&acme->stop_cond);
  acme->name = g_strdup (options->name);
  acme->directory = g_strdup (options->directory);
  acme->ca_file = g_strdup (options->ca_file);
  acme->http_listen = g_strdup (options->http_listen != NULL ? options->http_listen : ":80");
  acme->client = g_strdup (options->client != NULL ? options->client : "lego");
  acme->email = g_strdup (options->email);
  acme->dir = g_build_filename (options->state_dir, "acme", NULL);
  acme->check_s = options->check_s > 0 ? options->check_s : SETTLE_DEVICE_ACME_CHECK_S;
  acme->stop_fd = options->stop_fd != NULL ? *options->stop_fd : -1;
  if (!g_str_has_prefix (acme->directory, "https://"))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "The ACME directory %s is not an https:// URL.", acme->directory);
      settle_device_acme_stop (acme);
      return NULL;
    }
  if (g_mkdir_with_parents (acme->dir, 0700) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot create %s: %s.", acme->dir, g_strerror (errno));
      settle_device_acme_stop (acme);
      return NULL;
    }
  if (!refresh (acme, FALSE, error))
    {
      settle_device_acme_stop (acme);
      return NULL;
    }
  acme->thread = g_thread_new ("acme-renewal", renewal_thread, acme);
  return acme;
}

void
settle_device_acme_stop (SettleDeviceAcme *acme)
{
  if (acme == NULL)
    return;
  if (acme->thread != NULL)
    {
      g_mutex_lock (&acme->stop_lock);
      acme->stopping = TRUE;
      g_cond_signal (&acme->stop_cond);
      g_mutex_unlock (&acme->stop_lock);
      g_thread_join (acme->thread);
    }
  X509_free (acme->cert);
  EVP_PKEY_free (acme->key);
  sk_X509_pop_free (acme->chain, X509_free);
  g_free (acme->name);
  g_free (acme->directory);
  g_free (acme->ca_file);
  g_free (acme->http_listen);
  g_free (acme->client);
  g_free (acme->email);
  g_free (acme->dir);
  g_mutex_clear (&acme->lock);
  g_mutex_clear (&acme->stop_lock);
  g_cond_clear (&acme->stop_cond);
  g_free (acme);
}
