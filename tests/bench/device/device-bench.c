/* device-bench.c: an enrolled client's whoami latency on a settle-device
 * flooded with TLS handshakes (docs/security.md, "Rate limiting").
 *
 * 1. Unloaded: SAMPLES whoami requests, one after another, each a new
 *    TCP connection and a full TLS 1.3 handshake with the client
 *    certificate (what a browser or `settle` does).
 * 2. Loaded: a forked child process (the second process) runs THREADS
 *    threads, each from its own loopback source address 127.0.0.(10+i),
 *    doing full TLS 1.3 handshakes and a `GET /` until HANDSHAKES are
 *    done; meanwhile the parent keeps measuring whoami.
 *
 * Usage: device-bench PORT CERT KEY [HANDSHAKES [THREADS [SAMPLES]]]
 * (defaults 2000, 8, 200).  Prints TAP: a failing line means a request
 * failed, never that a figure was slow. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static const unsigned char ALPN_HTTP[] = "\x08http/1.1";

typedef struct {
  guint16 port;
  int handshakes;
  int threads;
  int samples;
} Settings;

/* ---- one request ---- */

static int
tcp_connect (const char *source, guint16 port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (port) };
  inet_pton (AF_INET, source, &from.sin_addr);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 || bind (fd, (struct sockaddr *) &from, sizeof from) != 0
      || connect (fd, (struct sockaddr *) &to, sizeof to) != 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  /* The request follows the client's last handshake flight at once;
   * with Nagle it would wait for a delayed ACK (40 ms on Linux) and the
   * figures would measure that timer instead of the device. */
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Reads the whole answer (the device closes after one request); TRUE
 * when it starts with "HTTP/1.1 200". */
static gboolean
read_ok_answer (SSL *ssl)
{
  char buf[4096];
  gsize total = 0;
  gboolean ok = FALSE;
  int n;
  while ((n = SSL_read (ssl, buf, sizeof buf - 1)) > 0)
    {
      if (total == 0)
        ok = n >= 12 && strncmp (buf, "HTTP/1.1 200", 12) == 0;
      total += (gsize) n;
    }
  return ok;
}

/* One connection from `source`: handshake, GET `path`, whole answer.
 * FALSE when any step failed, e.g. the device closed at once. */
static gboolean
request (SSL_CTX *ctx, const char *source, guint16 port, const char *path)
{
  int fd = tcp_connect (source, port);
  if (fd < 0)
    return FALSE;
  SSL *ssl = SSL_new (ctx);
  SSL_set_fd (ssl, fd);
  SSL_set_alpn_protos (ssl, ALPN_HTTP, sizeof ALPN_HTTP - 1);
  SSL_set_tlsext_host_name (ssl, "printer.local");
  gboolean ok = SSL_connect (ssl) == 1;
  if (ok)
    {
      char req[256];
      /* One request per connection, read to the end: the device keeps
       * HTTP/1.1 connections open unless asked to close them. */
      int len = g_snprintf (req, sizeof req,
                            "GET %s HTTP/1.1\r\nHost: printer.local\r\nConnection: close\r\n\r\n", path);
      ok = SSL_write (ssl, req, len) == len && read_ok_answer (ssl);
    }
  SSL_free (ssl);
  close (fd);
  ERR_clear_error ();
  return ok;
}

static SSL_CTX *
client_ctx_new (const char *cert, const char *key)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  SSL_CTX_set_min_proto_version (ctx, TLS1_3_VERSION);
  /* Every connection must cost a full handshake, as a flood's would. */
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options (ctx, SSL_OP_NO_TICKET);
  if (cert != NULL
      && (SSL_CTX_use_certificate_file (ctx, cert, SSL_FILETYPE_PEM) != 1
          || SSL_CTX_use_PrivateKey_file (ctx, key, SSL_FILETYPE_PEM) != 1))
    {
      SSL_CTX_free (ctx);
      return NULL;
    }
  return ctx;
}

/* ---- latency ---- */

typedef struct {
  GArray *ms;   /* of double */
  int failed;
} Latencies;

static void
measure_whoami (SSL_CTX *ctx, guint16 port, Latencies *out)
{
  gint64 start = g_get_monotonic_time ();
  if (request (ctx, "127.0.0.1", port, "/.well-known/settle/whoami"))
    {
      double ms = (double) (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (out->ms, ms);
    }
  else
    out->failed++;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
percentile (GArray *sorted, double p)
{
  if (sorted->len == 0)
    return 0;
  guint i = (guint) (p * (sorted->len - 1) + 0.5);
  return g_array_index (sorted, double, i);
}

/* ---- the load (child process) ---- */

typedef struct {
  SSL_CTX *ctx;
  guint16 port;
  int target;
  char source[16];
  atomic_int *started;
  atomic_int *done;
  atomic_int *refused;
} LoadWorker;

static gpointer
load_thread (gpointer data)
{
  LoadWorker *w = data;
  while (atomic_fetch_add (w->started, 1) < w->target)
    {
      if (request (w->ctx, w->source, w->port, "/"))
        atomic_fetch_add (w->done, 1);
      else
        atomic_fetch_add (w->refused, 1);
    }
  return NULL;
}

/* Runs the load and writes "DONE REFUSED SECONDS" to `out_fd`. */
static void
run_load (const Settings *s, int out_fd)
{
  SSL_CTX *ctx = client_ctx_new (NULL, NULL);
  atomic_int started = 0, done = 0, refused = 0;
  LoadWorker *workers = g_new0 (LoadWorker, s->threads);
  GThread **threads = g_new0 (GThread *, s->threads);
  gint64 start = g_get_monotonic_time ();
  for (int i = 0; i < s->threads; i++)
    {
      workers[i] = (LoadWorker) { ctx, s->port, s->handshakes, "", &started, &done, &refused };
      g_snprintf (workers[i].source, sizeof workers[i].source, "127.0.0.%d", 10 + i);
      threads[i] = g_thread_new ("load", load_thread, &workers[i]);
    }
  for (int i = 0; i < s->threads; i++)
    g_thread_join (threads[i]);
  double seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  char line[128];
  int len = g_snprintf (line, sizeof line, "%d %d %.3f\n", atomic_load (&done), atomic_load (&refused), seconds);
  if (write (out_fd, line, (size_t) len) != len)
    _exit (1);
  g_free (threads);
  g_free (workers);
  SSL_CTX_free (ctx);
}

/* ---- report ---- */

static int tap_count = 0;

static void
tap (gboolean ok, const char *what)
{
  printf ("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_count, what);
}

static void
report_latency (const char *label, Latencies *l, double *median, double *p95)
{
  g_array_sort (l->ms, compare_double);
  *median = percentile (l->ms, 0.5);
  *p95 = percentile (l->ms, 0.95);
  printf ("# whoami %s: %u requests, median %.2f ms, p95 %.2f ms, max %.2f ms, %d failed\n", label,
          l->ms->len, *median, *p95, percentile (l->ms, 1.0), l->failed);
}

static gboolean
parse_settings (int argc, char **argv, Settings *s)
{
  if (argc < 4)
    return FALSE;
  s->port = (guint16) atoi (argv[1]);
  s->handshakes = argc > 4 ? atoi (argv[4]) : 2000;
  s->threads = argc > 5 ? atoi (argv[5]) : 8;
  s->samples = argc > 6 ? atoi (argv[6]) : 200;
  return s->port > 0 && s->handshakes > 0 && s->threads > 0 && s->threads <= 200 && s->samples > 0;
}

/* Measures whoami while the child runs; at least `samples` requests. */
static void
measure_during_load (SSL_CTX *ctx, const Settings *s, pid_t child, Latencies *loaded)
{
  int status;
  while (waitpid (child, &status, WNOHANG) == 0)
    measure_whoami (ctx, s->port, loaded);
}

int
main (int argc, char **argv)
{
  Settings s;
  if (!parse_settings (argc, argv, &s))
    {
      fprintf (stderr, "usage: %s PORT CERT KEY [HANDSHAKES [THREADS [SAMPLES]]]\n", argv[0]);
      return 2;
    }
  SSL_CTX *ctx = client_ctx_new (argv[2], argv[3]);
  if (ctx == NULL)
    {
      fprintf (stderr, "cannot load the client certificate %s and key %s\n", argv[2], argv[3]);
      return 2;
    }
  Latencies idle = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  Latencies loaded = { g_array_new (FALSE, FALSE, sizeof (double)), 0 };
  for (int i = 0; i < s.samples; i++)
    measure_whoami (ctx, s.port, &idle);

  int pipe_fds[2];
  if (pipe (pipe_fds) != 0)
    return 2;
  fflush (stdout);
  pid_t child = fork ();
  if (child == 0)
    {
      close (pipe_fds[0]);
      run_load (&s, pipe_fds[1]);
      _exit (0);
    }
  close (pipe_fds[1]);
  measure_during_load (ctx, &s, child, &loaded);
  char line[128] = "";
  ssize_t n = read (pipe_fds[0], line, sizeof line - 1);
  close (pipe_fds[0]);
  int done = 0, refused = 0;
  double seconds = 0;
  gboolean load_reported = n > 0 && sscanf (line, "%d %d %lf", &done, &refused, &seconds) == 3;

  double idle_median, idle_p95, loaded_median, loaded_p95;
  printf ("# load: %d threads in a second process, one loopback source each, full TLS 1.3 handshake + GET /\n",
          s.threads);
  report_latency ("unloaded", &idle, &idle_median, &idle_p95);
  report_latency ("under load", &loaded, &loaded_median, &loaded_p95);
  printf ("# ratio loaded/unloaded: median %.2fx, p95 %.2fx\n",
          idle_median > 0 ? loaded_median / idle_median : 0, idle_p95 > 0 ? loaded_p95 / idle_p95 : 0);
  printf ("# load: %d handshakes served, %d refused, in %.2f s: %.0f handshakes/s\n", done, refused,
          seconds, seconds > 0 ? done / seconds : 0);
  tap (idle.failed == 0 && idle.ms->len > 0, "every unloaded whoami answered 200");
  tap (loaded.failed == 0 && loaded.ms->len > 0, "every whoami under load answered 200");
  tap (load_reported && done + refused >= s.handshakes, "the load process finished its handshakes");
  printf ("1..%d\n", tap_count);
  g_array_free (idle.ms, TRUE);
  g_array_free (loaded.ms, TRUE);
  SSL_CTX_free (ctx);
  return idle.failed == 0 && loaded.failed == 0 && load_reported ? 0 : 1;
}
