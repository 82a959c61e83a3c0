/* device-serve.c: `settle-device serve`.  One TCP port, TLS 1.3: ALPN
 * settle/1 runs the pairing ceremony, anything else gets the HTTPS page
 * (docs/device.md).  One thread per connection, within the per-source
 * and overall limits of device-limits.c; the ceremony itself runs one at
 * a time (the ceremony server answers others with ERROR busy), and a
 * source that failed too often gets ERROR busy before it starts.  SIGINT
 * and SIGTERM arrive through a signalfd, so that no handler runs inside
 * OpenSSL. */
#include "device.h"
#include "device-limits.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "settle-cert.h"
#include "settle-error.h"
#include "settle-scope.h"

/* Deep enough that a flood's SYNs do not crowd out an enrolled client's
 * before the accept loop has closed the excess connections. */
#define LISTEN_BACKLOG 128

typedef struct {
  const SettleDeviceServeOptions *options;
  SettleDeviceIdentity *identity;       /* owned */
  SettleDeviceEnrolments *enrolments;   /* owned */
  SettleDeviceOrigins *origins;         /* owned */
  SettleCeremonyServer *ceremony;       /* owned */
  SSL_CTX *tls;                         /* owned */
  SettleDeviceQrTarget qr;              /* host and paths owned */
  SettleDeviceHttpContext http;
  SettleDeviceLimits *limits;           /* owned */
  SettleDeviceMdns *mdns;               /* owned, NULL with --no-mdns or on loopback */
  SettleDeviceAcme *acme;               /* owned, NULL unless the certificate comes from ACME */
  int sig_fd;                           /* the signalfd of SIGINT and SIGTERM */

  GMutex lock;                          /* guards the fields below */
  GCond idle;
  GHashTable *active_fds;               /* fds of running connection threads */
  guint running;                        /* connection threads not yet finished */
  gboolean stopping;
} Device;

typedef struct {
  Device *device;
  int fd;
  SettleDeviceSource source;
} Connection;

/* ---- roles ---- */

/* Where the role is chosen at pairing; what it allows is decided in
 * device-access.c.  The first client gets admin, later ones guest, unless --grant says
 * otherwise; never more than the helper asked for. */
static char *
grant_role (const char *requested, gpointer user_data)
{
  Device *device = user_data;
  int asked = settle_device_role_rank (requested);
  if (asked < 0)
    return NULL;
  const char *policy = device->options->grant;
  if (policy == NULL)
    policy = settle_device_enrolments_count (device->enrolments) == 0 ? "admin" : "guest";
  return g_strdup (asked <= settle_device_role_rank (policy) ? requested : policy);
}

/* ---- ceremony hooks ---- */

static gboolean
key_in_use (const guint8 spki_sha256[32], gpointer user_data)
{
  Device *device = user_data;
  g_autofree char *hex = g_malloc (65);
  for (int i = 0; i < 32; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", spki_sha256[i]);
  return settle_device_enrolments_spki_known (device->enrolments, hex);
}

static gboolean
record_enrolment (X509 *cert, const char *role, const char *peer_address, gpointer user_data, GError **error)
{
  Device *device = user_data;
  if (!settle_device_enrolments_add (device->enrolments, cert, role, peer_address, NULL, error))
    return FALSE;
  /* Owned now: the network hears pair=0 (docs/device.md). */
  settle_device_mdns_set_pairing (device->mdns, FALSE);
  g_autofree char *serial = settle_device_serial_hex (cert);
  g_printerr ("settle-device: paired the client at %s as %s (certificate serial %s)\n", peer_address,
              role, serial);
  return TRUE;
}

static void
forget_enrolment (X509 *cert, gpointer user_data)
{
  Device *device = user_data;
  settle_device_enrolments_remove (device->enrolments, cert);
}

/* On the device's own "screen" (its terminal, where the QR code is) and
 * in its log, in the helper's format, so the user can compare them. */
static void
show_check_code (const char *check_code, const char *peer_address, gpointer user_data)
{
  (void) user_data;
  g_print ("Check code:  %s  (settle pair must show the same)\n", check_code);
  fflush (stdout);
  g_printerr ("settle-device: check code %s for the pairing with %s\n", check_code, peer_address);
}

/* Whether the QR code carries the address: by default only when the
 * device is not found by name on the network (not advertised, or its name
 * taken by another host), so that a helper can still reach it. */
static gboolean
qr_with_address (Device *device)
{
  switch (device->options->qr_address)
    {
    case SETTLE_DEVICE_QR_ADDRESS_YES:
      return TRUE;
    case SETTLE_DEVICE_QR_ADDRESS_NO:
      return FALSE;
    case SETTLE_DEVICE_QR_ADDRESS_AUTO:
    default:
      /* Portable: only the first pairing finds the device by its pairing
       * label; later ones need the address (docs/portable.md). */
      if (device->options->portable && settle_device_enrolments_count (device->enrolments) > 0)
        return TRUE;
      return !settle_device_mdns_advertising (device->mdns);
    }
}

static void
secret_changed (SettleCeremonyServer *server, gpointer user_data)
{
  Device *device = user_data;
  g_autoptr (GError) local = NULL;
  if (device->acme != NULL)
    return;  /* no QR code: trusted through its referee */
  device->qr.address = qr_with_address (device);
  if (!settle_device_qr_show (&device->qr, server, &local))
    g_printerr ("settle-device: %s\n", local->message);
  else
    g_printerr ("settle-device: the previous pairing code is retired; showing a new one\n");
}

/* ---- one connection ---- */

/* A source in backoff learns why and for how long, as ERROR busy, the
 * answer the helper already shows as "try again later". */
static gboolean
refuse_blocked_source (Device *device, SettleTlsConn *conn, const SettleDeviceSource *source)
{
  gboolean everyone = FALSE;
  guint seconds = settle_device_limits_blocked_for (device->limits, source, &everyone);
  if (seconds == 0)
    return FALSE;
  g_autofree char *text = g_strdup_printf ("too many failed pairing attempts %s; try again in %u s",
                                           everyone ? "on this device" : "from this address", seconds);
  g_autoptr (SettleCeremonyMsg) busy = settle_ceremony_msg_new_error (SETTLE_CEREMONY_ERR_BUSY, text);
  settle_tls_send (conn, busy, NULL);  /* a peer that is gone needs no answer */
  g_printerr ("settle-device: refused pairing from %s: blocked for %u more s after failed attempts%s\n",
              source->text, seconds, everyone ? " from all sources" : "");
  return TRUE;
}

static void
count_failed_attempt (Device *device, const SettleDeviceSource *source)
{
  SettleDeviceBlock block = settle_device_limits_record_failure (device->limits, source);
  if (block & SETTLE_DEVICE_BLOCK_SOURCE)
    g_printerr ("settle-device: %d failed pairing attempts from %s within %d s; "
                "refusing its pairing attempts for %d s\n",
                SETTLE_DEVICE_LIMIT_FAILURES, source->text, SETTLE_DEVICE_LIMIT_FAILURE_WINDOW_S,
                SETTLE_DEVICE_LIMIT_BLOCK_S);
  if (block & SETTLE_DEVICE_BLOCK_ALL)
    g_printerr ("settle-device: %d failed pairing attempts from all sources within %d s; "
                "refusing every pairing attempt for %d s\n",
                SETTLE_DEVICE_LIMIT_FAILURES_TOTAL, SETTLE_DEVICE_LIMIT_FAILURE_WINDOW_S,
                SETTLE_DEVICE_LIMIT_BLOCK_S);
}

/* The count read after the attempt is 0 when this attempt retired the
 * code (a new one has no failures yet): say so instead of "0 of 5". */
static void
log_failed_attempt (Device *device, const char *peer, const char *why, guint generation_before)
{
  guint generation_after = 0;
  guint8 scratch[SETTLE_SECRET_MAX_BYTES];
  settle_ceremony_server_copy_secret (device->ceremony, scratch, &generation_after);
  OPENSSL_cleanse (scratch, sizeof scratch);
  if (generation_after != generation_before)
    g_printerr ("settle-device: pairing with %s failed: %s (%d of %d failed attempts for this code: "
                "the code is retired)\n", peer, why, SETTLE_CEREMONY_SERVER_MAX_FAILURES,
                SETTLE_CEREMONY_SERVER_MAX_FAILURES);
  else
    g_printerr ("settle-device: pairing with %s failed: %s (%u of %d failed attempts for this code)\n",
                peer, why, settle_ceremony_server_failures (device->ceremony),
                SETTLE_CEREMONY_SERVER_MAX_FAILURES);
}

static void
run_ceremony (Device *device, SettleTlsConn *conn, const SettleDeviceSource *source)
{
  g_autoptr (GError) local = NULL;
  const char *peer = settle_tls_peer_address_peek (conn);
  if (refuse_blocked_source (device, conn, source))
    return;
  guint generation_before = 0;
  guint8 scratch[SETTLE_SECRET_MAX_BYTES];
  settle_ceremony_server_copy_secret (device->ceremony, scratch, &generation_before);
  OPENSSL_cleanse (scratch, sizeof scratch);
  SettleCeremonyOutcome outcome = settle_ceremony_server_handle (device->ceremony, conn, &local);
  if (outcome == SETTLE_CEREMONY_OUTCOME_ENROLLED)
    return;
  if (outcome == SETTLE_CEREMONY_OUTCOME_AUTH_FAILED)
    {
      log_failed_attempt (device, peer, local->message, generation_before);
      count_failed_attempt (device, source);
    }
  else if (outcome == SETTLE_CEREMONY_OUTCOME_DECLINED)
    g_printerr ("settle-device: pairing with %s not committed: %s\n", peer, local->message);
  else
    g_printerr ("settle-device: pairing with %s failed: %s\n", peer, local->message);
}

static void
serve_connection (Device *device, int fd, const SettleDeviceSource *source)
{
  g_autoptr (GError) local = NULL;
  /* The TLS connection owns a duplicate; `fd` stays registered for
   * stop_connections until the thread closes it. */
  int tls_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (tls_fd < 0)
    {
      g_printerr ("settle-device: cannot duplicate a socket: %s\n", g_strerror (errno));
      return;
    }
  SettleTlsConn *conn = settle_tls_accept (device->tls, tls_fd, SETTLE_CEREMONY_SERVER_STEP_TIMEOUT_MS, &local);
  if (conn == NULL)
    {
      g_printerr ("settle-device: %s\n", local->message);
      return;
    }
  const char *alpn = settle_tls_alpn_peek (conn);
  if (alpn != NULL && strcmp (alpn, SETTLE_CEREMONY_ALPN) == 0)
    run_ceremony (device, conn, source);
  else if (!settle_device_http_serve (conn, &device->http, &local))
    g_printerr ("settle-device: HTTPS request from %s: %s\n", settle_tls_peer_address_peek (conn),
                local->message);
  settle_tls_close (conn);
}

static gpointer
connection_thread (gpointer data)
{
  Connection *c = data;
  Device *device = c->device;
  serve_connection (device, c->fd, &c->source);
  /* Unregistered before the fd is closed, so that stop_connections never
   * touches a number the kernel has handed out again. */
  g_mutex_lock (&device->lock);
  g_hash_table_remove (device->active_fds, GINT_TO_POINTER (c->fd));
  g_mutex_unlock (&device->lock);
  close (c->fd);
  settle_device_limits_release (device->limits, &c->source);
  g_free (c);
  /* This thread's OpenSSL state (error queue, random generators) goes
   * now, not in a thread-exit destructor that may still be running when
   * stop_connections has returned and the process exits. */
  OPENSSL_thread_stop ();
  g_mutex_lock (&device->lock);
  if (--device->running == 0)
    g_cond_broadcast (&device->idle);
  g_mutex_unlock (&device->lock);
  return NULL;
}

/* Connections beyond the limits are closed at once, before any TLS work:
 * the client retries, and queuing would only hold its socket and a slot
 * that an enrolled client may need. */
static void
start_connection (Device *device, int fd, const SettleDeviceSource *source)
{
  if (settle_device_limits_admit (device->limits, source) != SETTLE_DEVICE_ADMIT_OK)
    {
      close (fd);
      return;
    }
  g_mutex_lock (&device->lock);
  gboolean stopping = device->stopping;
  if (!stopping)
    {
      g_hash_table_add (device->active_fds, GINT_TO_POINTER (fd));
      device->running++;
    }
  g_mutex_unlock (&device->lock);
  if (stopping)
    {
      settle_device_limits_release (device->limits, source);
      close (fd);
      return;
    }
  Connection *c = g_new0 (Connection, 1);
  c->device = device;
  c->fd = fd;
  c->source = *source;
  g_thread_unref (g_thread_new ("settle-conn", connection_thread, c));
}

/* Wakes every connection thread (their next poll sees the socket shut
 * down) and waits until all have finished. */
static void
stop_connections (Device *device)
{
  g_mutex_lock (&device->lock);
  device->stopping = TRUE;
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, device->active_fds);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    shutdown (GPOINTER_TO_INT (key), SHUT_RDWR);
  while (device->running > 0)
    g_cond_wait (&device->idle, &device->lock);
  g_mutex_unlock (&device->lock);
}

/* ---- listening ---- */

static gboolean
parse_listen (const char *listen, char **host, guint16 *port, GError **error)
{
  const char *colon = strrchr (listen, ':');
  guint64 value = 0;
  if (colon == NULL || colon == listen || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "--listen wants ADDRESS:PORT (e.g. 127.0.0.1:8443, [::1]:0), not '%s'.", listen);
      return FALSE;
    }
  g_autofree char *addr = g_strndup (listen, (gsize) (colon - listen));
  if (addr[0] == '[' && addr[strlen (addr) - 1] == ']')
    {
      char *inner = g_strndup (addr + 1, strlen (addr) - 2);
      g_free (addr);
      addr = inner;
    }
  if (!g_hostname_is_ip_address (addr))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "--listen wants a numeric IPv4 or IPv6 address, not '%s'.", addr);
      return FALSE;
    }
  *host = g_steal_pointer (&addr);
  *port = (guint16) value;
  return TRUE;
}

static int
listen_on (const char *host, guint16 port, guint16 *bound_port, GError **error)
{
  struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM };
  struct addrinfo *ai = NULL;
  char service[8];
  g_snprintf (service, sizeof service, "%u", (unsigned) port);
  int rc = getaddrinfo (host, service, &hints, &ai);
  if (rc != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "Cannot use the address %s: %s.", host,
                   gai_strerror (rc));
      return -1;
    }
  int one = 1;
  int fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean ok = fd >= 0 && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0
                && bind (fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen (fd, LISTEN_BACKLOG) == 0;
  int saved = errno;
  freeaddrinfo (ai);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (ok && getsockname (fd, (struct sockaddr *) &ss, &len) == 0)
    *bound_port = ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                  : ((struct sockaddr_in *) &ss)->sin_port);
  if (!ok)
    {
      if (fd >= 0)
        close (fd);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_NETWORK, "Cannot listen on %s port %u: %s.", host,
                   (unsigned) port, g_strerror (saved));
      return -1;
    }
  return fd;
}

/* For a wildcard address the QR code needs an address a phone or laptop
 * can reach: the first non-loopback one of that family (owned). */
static char *
address_hint (const char *host)
{
  gboolean v6 = strchr (host, ':') != NULL;
  if (strcmp (host, "0.0.0.0") != 0 && strcmp (host, "::") != 0)
    return g_strdup (host);
  struct ifaddrs *list = NULL;
  char *hint = NULL;
  if (getifaddrs (&list) == 0)
    for (struct ifaddrs *i = list; i != NULL && hint == NULL; i = i->ifa_next)
      {
        char text[INET6_ADDRSTRLEN];
        if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) != 0)
          continue;
        if (!v6 && i->ifa_addr->sa_family == AF_INET
            && inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, text, sizeof text))
          hint = g_strdup (text);
        else if (v6 && i->ifa_addr->sa_family == AF_INET6
                 && !IN6_IS_ADDR_LINKLOCAL (&((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr)
                 && inet_ntop (AF_INET6, &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, text, sizeof text))
          hint = g_strdup (text);
      }
  freeifaddrs (list);
  return hint != NULL ? hint : g_strdup (v6 ? "::1" : "127.0.0.1");
}

/* The hooks share one user_data, the device: hand the manufacturer on. */
static gboolean
device_attest (GBytes *nonce, const char *device_name, X509 *device_ca, GPtrArray **idevid, GBytes **voucher,
               gpointer user_data)
{
  Device *device = user_data;
  return settle_device_manufacturer_attest (nonce, device_name, device_ca, idevid, voucher,
                                            device->options->manufacturer);
}

/* ---- set-up ---- */

/* A referee's pairing front: its CA and subtrees go into every
 * ENROL_RESPONSE (settle_ceremony_server_set_referee). */
static gboolean
declare_referee (Device *device, GError **error)
{
  const SettleDeviceServeOptions *o = device->options;
  X509 *ca = settle_cert_load_file (o->referee_ca, error);
  gboolean ok = ca != NULL && settle_ca_check (ca, error);

  if (ok)
    settle_ceremony_server_set_referee (device->ceremony, ca, (const char *const *) o->subtree);
  else
    g_prefix_error (error, "The referee CA %s cannot be used: ", o->referee_ca);
  X509_free (ca);
  return ok;
}

/* A device whose certificate comes from its referee's ACME CA serves that
 * one instead of its own leaf. */
static gboolean
use_acme (Device *device, GError **error)
{
  SettleDeviceAcmeOptions acme = device->options->acme;

  acme.name = device->identity->name;
  acme.state_dir = device->options->state_dir;
  /* SIGTERM while lego runs at start ends lego and the start. */
  acme.stop_fd = &device->sig_fd;
  device->acme = settle_device_acme_start (&acme, error);
  if (device->acme == NULL)
    return FALSE;
  settle_device_acme_serve_with (device->acme, device->tls);
  return TRUE;
}

static gboolean
device_open (Device *device, GError **error)
{
  const SettleDeviceServeOptions *o = device->options;
  device->identity = settle_device_identity_open (o->state_dir, o->name, error);
  if (device->identity == NULL)
    return FALSE;
  device->enrolments = settle_device_enrolments_open (o->state_dir, device->identity->epoch, error);
  if (device->enrolments == NULL)
    return FALSE;
  device->origins = settle_device_origins_open (o->state_dir, error);
  if (device->origins == NULL)
    return FALSE;
  STACK_OF (X509) *chain = settle_device_identity_tls_chain (device->identity);
  device->tls = settle_tls_server_ctx_new (device->identity->tls_key, device->identity->tls_cert, chain,
                                           device->identity->ca, error);
  sk_X509_pop_free (chain, X509_free);
  if (device->tls == NULL)
    return FALSE;
  device->ceremony = settle_ceremony_server_new (device->identity->name, device->identity->ca_key,
                                                 device->identity->ca, NULL, error);
  if (device->ceremony == NULL)
    return FALSE;
  SettleCeremonyServerHooks hooks = {
    .attest = o->manufacturer != NULL ? device_attest : NULL,
    .grant_role = grant_role,
    .key_in_use = key_in_use,
    .record_enrolment = record_enrolment,
    .forget_enrolment = forget_enrolment,
    .show_check_code = show_check_code,
    .secret_changed = secret_changed,
    .user_data = device,
  };
  settle_ceremony_server_set_hooks (device->ceremony, &hooks);
  if (o->referee_ca != NULL && !declare_referee (device, error))
    return FALSE;
  if (o->acme.directory != NULL && !use_acme (device, error))
    return FALSE;
  device->http.name = device->identity->name;
  device->http.identity = device->identity;
  device->http.enrolments = device->enrolments;
  device->http.origins = device->origins;
  device->http.manufacturer = o->manufacturer;
  device->http.ceremony = device->ceremony;
  return TRUE;
}

static void
device_close (Device *device)
{
  settle_device_acme_stop (device->acme);
  settle_ceremony_server_free (device->ceremony);
  SSL_CTX_free (device->tls);
  settle_device_enrolments_free (device->enrolments);
  settle_device_origins_free (device->origins);
  settle_device_identity_free (device->identity);
  g_free (device->qr.host);
  g_free (device->qr.png_path);
  g_free (device->qr.text_path);
  g_hash_table_unref (device->active_fds);
  settle_device_limits_free (device->limits);
  g_mutex_clear (&device->lock);
  g_cond_clear (&device->idle);
}

static int
signal_fd_new (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGTERM);
  /* Blocked before any thread exists, so that every thread inherits the
   * mask and the signals wait for the signalfd. */
  pthread_sigmask (SIG_BLOCK, set, NULL);
  return signalfd (-1, set, SFD_CLOEXEC);
}

/* Accepts until SIGINT or SIGTERM. */
static void
accept_loop (Device *device, int listen_fd, int sig_fd)
{
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = listen_fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN } };
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          g_printerr ("settle-device: poll failed: %s\n", g_strerror (errno));
          return;
        }
      if (fds[1].revents != 0)
        {
          struct signalfd_siginfo info;
          if (read (sig_fd, &info, sizeof info) == (ssize_t) sizeof info)
            g_printerr ("settle-device: %s received, stopping\n", strsignal ((int) info.ssi_signo));
          return;
        }
      struct sockaddr_storage peer;
      socklen_t peer_len = sizeof peer;
      int fd = accept4 (listen_fd, (struct sockaddr *) &peer, &peer_len, SOCK_CLOEXEC);
      SettleDeviceSource source;
      if (fd >= 0 && settle_device_source_of ((struct sockaddr *) &peer, peer_len, &source))
        start_connection (device, fd, &source);
      else if (fd >= 0)
        close (fd);
      else if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN)
        g_printerr ("settle-device: accept failed: %s\n", g_strerror (errno));
    }
}

/* Portable mode tells paired agents the discovery key in the ceremony,
 * and advertises only rotating names (docs/portable.md). */
static SettleDeviceMdns *
start_advertising (Device *device, const char *host, guint16 port, GError **error)
{
  const SettleDeviceServeOptions *o = device->options;
  gboolean pairing = settle_device_enrolments_count (device->enrolments) == 0;
  if (!o->portable)
    return settle_device_mdns_start (device->identity->name, host, port, pairing, NULL);
  guint8 key[SETTLE_DEVICE_DISCOVERY_KEY_LEN], pin[32];
  unsigned char *spki = NULL;
  int spki_len = i2d_PUBKEY (X509_get0_pubkey (device->identity->tls_cert), &spki);
  gboolean ok = spki_len > 0 && EVP_Digest (spki, (size_t) spki_len, pin, NULL, EVP_sha256 (), NULL) == 1;
  OPENSSL_free (spki);
  if (!ok)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "Cannot hash the TLS key for portable mode.");
      return NULL;
    }
  if (!settle_device_discovery_key (o->state_dir, key, error))
    return NULL;
  settle_ceremony_server_set_discovery (device->ceremony, key, o->rotation_s);
  SettleDeviceMdnsPortable portable = { .discovery_key = key, .pin = pin, .period_s = o->rotation_s };
  g_printerr ("settle-device: portable mode: advertising rotating names (every %u s) instead of %s\n",
              o->rotation_s, device->identity->name);
  SettleDeviceMdns *m = settle_device_mdns_start (device->identity->name, host, port, pairing, &portable);
  OPENSSL_cleanse (key, sizeof key);
  return m;
}

static gboolean
prepare (Device *device, int *listen_fd, GError **error)
{
  const SettleDeviceServeOptions *o = device->options;
  g_autofree char *host = NULL;
  guint16 port = 0, bound = 0;
  if (!parse_listen (o->listen, &host, &port, error) || !device_open (device, error))
    return FALSE;
  *listen_fd = listen_on (host, port, &bound, error);
  if (*listen_fd < 0)
    return FALSE;
  if (!o->no_mdns && settle_device_mdns_is_loopback (host))
    g_printerr ("settle-device: listening on loopback only: not advertising %s on the local network\n",
                device->identity->name);
  else if (!o->no_mdns)
    device->mdns = start_advertising (device, host, bound, error);
  if (!o->no_mdns && device->mdns == NULL && o->portable && !settle_device_mdns_is_loopback (host))
    return FALSE;
  device->qr.name = device->identity->name;
  device->qr.host = address_hint (host);
  device->qr.port = bound;
  device->qr.address = qr_with_address (device);
  device->qr.tls_cert = device->identity->tls_cert;
  device->qr.png_path = g_strdup (o->qr_png);
  device->qr.text_path = g_strdup (o->qr_text);
  if (device->acme != NULL)
    g_print ("settle-device: %s serves the certificate its referee issued over ACME (%s): no pairing code\n",
             device->identity->name, o->acme.directory);
  else if (!settle_device_qr_show (&device->qr, device->ceremony, error))
    return FALSE;
  gboolean v6 = strchr (host, ':') != NULL;
  g_print ("settle-device: listening on %s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "", (unsigned) bound);
  fflush (stdout);
  return TRUE;
}

int
settle_device_serve (const SettleDeviceServeOptions *options)
{
  Device device = { .options = options };
  g_mutex_init (&device.lock);
  g_cond_init (&device.idle);
  device.active_fds = g_hash_table_new (NULL, NULL);
  device.limits = settle_device_limits_new ();
  sigset_t set;
  int sig_fd = signal_fd_new (&set);
  device.sig_fd = sig_fd;
  int listen_fd = -1;
  g_autoptr (GError) local = NULL;
  int status = 0;
  if (sig_fd < 0)
    {
      g_printerr ("settle-device: cannot watch for signals: %s\n", g_strerror (errno));
      status = 1;
    }
  else if (!prepare (&device, &listen_fd, &local))
    {
      g_printerr ("settle-device: %s\n", local->message);
      status = 1;
    }
  else
    {
      accept_loop (&device, listen_fd, sig_fd);
      /* Off the network first, so that nobody new is sent here. */
      settle_device_mdns_stop (device.mdns);
      device.mdns = NULL;
      stop_connections (&device);
      g_printerr ("settle-device: stopped\n");
    }
  settle_device_mdns_stop (device.mdns);
  if (listen_fd >= 0)
    close (listen_fd);
  if (sig_fd >= 0)
    close (sig_fd);
  device_close (&device);
  return status;
}
