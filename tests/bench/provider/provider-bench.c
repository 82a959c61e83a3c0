/* provider-bench.c: one trust source timed inside libcrypto, in-process.
 *
 * Usage: provider-bench settle URI      LEAF.der HOST REPEATS K
 *        provider-bench cafile BUNDLE   LEAF.der HOST REPEATS K
 *        provider-bench capath HASHDIR  LEAF.der HOST REPEATS K
 *
 * `settle` adds the store URI with X509_STORE_load_store_ex (the provider
 * loaded with OSSL_PROVIDER_load); `cafile` parses the PEM bundle with
 * X509_STORE_load_file_ex (what -CAfile and SSL_CTX_load_verify_locations
 * do); `capath` adds an OpenSSL hash directory with X509_STORE_load_path
 * (-CApath, SSL_CERT_DIR), which reads files only when a verification asks
 * for a subject.  Every verification is X509_verify_cert of
 * LEAF for TLS server use and HOST, and must succeed with a chain of three
 * (leaf, cross certificate, wrapper root), or the program fails.
 *
 * Each of REPEATS rounds starts from a fresh OSSL_LIB_CTX, so that the
 * settle provider has no snapshot cached (a new process, without the
 * process start), and times:
 *   setup_ms   making the store ready: X509_STORE_new + load_file or
 *              load_path, or OSSL_PROVIDER_load("settle") + X509_STORE_new
 *              + load_store (OpenSSL opens the store there, so settle reads
 *              its snapshot inside this step);
 *   first_ms   the first verification on that store;
 *   renew_ms   a second store in the same library context, set up and
 *              used for one verification (a program that makes a new
 *              SSL_CTX per connection; settle's snapshot stays cached);
 * and one round also times K more verifications on its first store, in
 * five batches:
 *   verify_us  per verification once the store is warm (best batch).
 * Prints one line: setup_ms first_ms renew_ms verify_us, the first three
 * the median of the rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define EXPECTED_CHAIN_LENGTH 3
#define MAX_REPEATS 101
#define WARM_BATCHES 5

typedef enum { SOURCE_SETTLE, SOURCE_CAFILE, SOURCE_CAPATH } source_kind;

static const char *const source_names[] = { "settle", "cafile", "capath" };
#define SOURCE_COUNT (sizeof source_names / sizeof source_names[0])

typedef struct {
  source_kind kind;
  const char *source;     /* store URI, bundle path or hash directory */
  unsigned char *leaf_der;
  long leaf_len;
  const char *host;
} bench_input;

typedef struct {
  OSSL_LIB_CTX *libctx;
  OSSL_PROVIDER *default_provider;
  OSSL_PROVIDER *settle_provider;  /* NULL unless the source is settle */
  X509 *leaf;                      /* decoded in libctx */
} bench_world;

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}

static void
die (const char *what)
{
  fprintf (stderr, "provider-bench: %s\n", what);
  ERR_print_errors_fp (stderr);
  exit (1);
}

static unsigned char *
read_file (const char *path, long *len)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  unsigned char *buf = NULL;
  if (fseek (f, 0, SEEK_END) == 0 && (*len = ftell (f)) > 0 && fseek (f, 0, SEEK_SET) == 0
      && (buf = malloc ((size_t) *len)) != NULL && fread (buf, 1, (size_t) *len, f) != (size_t) *len) {
    free (buf);
    buf = NULL;
  }
  fclose (f);
  return buf;
}

/* The default provider is loaded, untimed, for both sources: it does the
 * decoding and the signature checks either way. */
static void
world_open (bench_world *world, const bench_input *in)
{
  memset (world, 0, sizeof *world);
  world->libctx = OSSL_LIB_CTX_new ();
  if (world->libctx == NULL
      || (world->default_provider = OSSL_PROVIDER_load (world->libctx, "default")) == NULL)
    die ("cannot make a library context with the default provider");
  world->leaf = X509_new_ex (world->libctx, NULL);
  const unsigned char *p = in->leaf_der;
  if (world->leaf == NULL || d2i_X509 (&world->leaf, &p, in->leaf_len) == NULL)
    die ("cannot decode the leaf");
}

static void
world_close (bench_world *world)
{
  X509_free (world->leaf);
  if (world->settle_provider != NULL)
    OSSL_PROVIDER_unload (world->settle_provider);
  OSSL_PROVIDER_unload (world->default_provider);
  OSSL_LIB_CTX_free (world->libctx);
}

/* Loads the settle provider once per library context, as settle.cnf would
 * at program start; the caller's timer includes it. */
static X509_STORE *
store_new (bench_world *world, const bench_input *in)
{
  if (in->kind == SOURCE_SETTLE && world->settle_provider == NULL
      && (world->settle_provider = OSSL_PROVIDER_load (world->libctx, "settle")) == NULL)
    die ("cannot load the settle provider (is OPENSSL_MODULES set?)");
  X509_STORE *store = X509_STORE_new ();
  if (store == NULL)
    die ("out of memory");
  int loaded = 0;
  switch (in->kind) {
  case SOURCE_SETTLE:
    loaded = X509_STORE_load_store_ex (store, in->source, world->libctx, NULL);
    break;
  case SOURCE_CAFILE:
    loaded = X509_STORE_load_file_ex (store, in->source, world->libctx, NULL);
    break;
  case SOURCE_CAPATH:
    loaded = X509_STORE_load_path (store, in->source);
    break;
  }
  if (!loaded)
    die ("cannot set up the store from the source given");
  return store;
}

static void
verify_once (const bench_world *world, X509_STORE *store, const char *host)
{
  X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex (world->libctx, NULL);
  if (ctx == NULL || !X509_STORE_CTX_init (ctx, store, world->leaf, NULL))
    die ("cannot make a verification context");
  X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set1_host (X509_STORE_CTX_get0_param (ctx), host, 0);
  int ok = X509_verify_cert (ctx);
  if (ok != 1) {
    fprintf (stderr, "provider-bench: %s: %s\n", host,
             X509_verify_cert_error_string (X509_STORE_CTX_get_error (ctx)));
    die ("the leaf did not verify");
  }
  /* A shorter chain would mean something other than the wrapped anchor
   * was trusted, and the figures would measure the wrong thing.  Every
   * source serves the cross certificate with OpenSSL's serverAuth trust
   * block (docs/snapshot.md), so OpenSSL may end the chain there:
   * leaf, cross certificate (the cross is checked to be the one). */
  STACK_OF (X509) *chain = X509_STORE_CTX_get0_chain (ctx);
  int len = sk_X509_num (chain);
  if (len != EXPECTED_CHAIN_LENGTH && len != EXPECTED_CHAIN_LENGTH - 1)
    die ("the chain is not leaf, cross certificate[, wrapper root]");
  if (X509_check_issued (sk_X509_value (chain, 1), world->leaf) != X509_V_OK)
    die ("the leaf's issuer in the chain is not the cross certificate");
  X509_STORE_CTX_free (ctx);
}

typedef struct {
  double setup_ms, first_ms, renew_ms;
} round_times;

static round_times
time_round (const bench_input *in, X509_STORE **keep, bench_world *world)
{
  round_times t;
  double t0 = now_ms ();
  X509_STORE *store = store_new (world, in);
  double t1 = now_ms ();
  verify_once (world, store, in->host);
  double t2 = now_ms ();
  X509_STORE *second = store_new (world, in);
  verify_once (world, second, in->host);
  double t3 = now_ms ();
  X509_STORE_free (second);
  t.setup_ms = t1 - t0;
  t.first_ms = t2 - t1;
  t.renew_ms = t3 - t2;
  *keep = store;
  return t;
}

/* The best of WARM_BATCHES batch means: on a machine shared with other
 * jobs, the fastest batch is the one least disturbed by them. */
static double
time_warm_verifications (const bench_world *world, X509_STORE *store, const char *host, long k)
{
  long per_batch = k / WARM_BATCHES > 0 ? k / WARM_BATCHES : 1;
  double best_us = 0;
  for (int b = 0; b < WARM_BATCHES; b++) {
    double t0 = now_ms ();
    for (long i = 0; i < per_batch; i++)
      verify_once (world, store, host);
    double mean_us = (now_ms () - t0) * 1000.0 / (double) per_batch;
    if (b == 0 || mean_us < best_us)
      best_us = mean_us;
  }
  return best_us;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *values, int count)
{
  qsort (values, (size_t) count, sizeof *values, compare_double);
  return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

static int
source_kind_of (const char *name, source_kind *kind)
{
  for (size_t i = 0; i < SOURCE_COUNT; i++)
    if (strcmp (name, source_names[i]) == 0) {
      *kind = (source_kind) i;
      return 1;
    }
  return 0;
}

static void
parse_arguments (int argc, char **argv, bench_input *in, int *repeats, long *k)
{
  if (argc != 7 || !source_kind_of (argv[1], &in->kind)) {
    fprintf (stderr, "usage: provider-bench settle|cafile|capath URI|BUNDLE|HASHDIR LEAF.der "
                     "HOST REPEATS K\n");
    exit (2);
  }
  in->source = argv[2];
  in->host = argv[4];
  *repeats = atoi (argv[5]);
  *k = atol (argv[6]);
  if (*repeats < 1 || *repeats > MAX_REPEATS || *k < 1) {
    fprintf (stderr, "provider-bench: REPEATS must be 1..%d and K at least 1\n", MAX_REPEATS);
    exit (2);
  }
  if ((in->leaf_der = read_file (argv[3], &in->leaf_len)) == NULL)
    die ("cannot read the leaf");
}

int
main (int argc, char **argv)
{
  bench_input in;
  int repeats;
  long k;
  parse_arguments (argc, argv, &in, &repeats, &k);

  double setup[MAX_REPEATS], first[MAX_REPEATS], renew[MAX_REPEATS];
  double verify_us = 0;
  for (int r = 0; r < repeats; r++) {
    bench_world world;
    world_open (&world, &in);
    X509_STORE *store = NULL;
    round_times t = time_round (&in, &store, &world);
    setup[r] = t.setup_ms;
    first[r] = t.first_ms;
    renew[r] = t.renew_ms;
    /* Once is enough: a warm store has nothing left to vary by round. */
    if (r == 0)
      verify_us = time_warm_verifications (&world, store, in.host, k);
    X509_STORE_free (store);
    world_close (&world);
  }
  printf ("%.3f %.3f %.3f %.2f\n", median (setup, repeats), median (first, repeats),
          median (renew, repeats), verify_us);
  free (in.leaf_der);
  return 0;
}
