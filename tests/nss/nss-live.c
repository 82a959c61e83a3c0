/* nss-live.c: a long-running NSS process, as a browser is.
 *
 * Usage: nss-live DBDIR MODULE
 * Opens the NSS database, registers the module with SECMOD_AddNewModule,
 * then reads commands from standard input, one per line:
 *   good LEAF.der   verify the leaf for TLS server use until it verifies
 *   bad LEAF.der    ... until it fails
 * and answers "ok <ms>" (how long it took to see that outcome) or
 * "timeout <last NSS error>" after SETTLE_LIVE_TIMEOUT_MS (10 s).  The
 * leaf certificates stay loaded between commands, as in a browser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cert.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <secerr.h>
#include <secmod.h>

#define LIVE_TIMEOUT_MS 10000

static long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static CERTCertificate *
load_leaf (const char *path)
{
  static unsigned char buf[65536];
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  size_t n = fread (buf, 1, sizeof buf, f);
  fclose (f);
  SECItem der = { siBuffer, buf, (unsigned int) n };
  return CERT_NewTempCertificate (CERT_GetDefaultCertDB (), &der, NULL, PR_FALSE, PR_TRUE);
}

static int
verifies (CERTCertificate *leaf)
{
  return CERT_VerifyCertificateNow (CERT_GetDefaultCertDB (), leaf, PR_TRUE,
                                    certificateUsageSSLServer, NULL, NULL) == SECSuccess;
}

static void
wait_for (CERTCertificate *leaf, int want_good)
{
  long start = now_ms ();
  for (;;)
    {
      int good = verifies (leaf);
      if (good == want_good)
        {
          printf ("ok %ld\n", now_ms () - start);
          return;
        }
      if (now_ms () - start > LIVE_TIMEOUT_MS)
        {
          printf ("timeout %s\n", PR_ErrorToName (PR_GetError ()));
          return;
        }
      struct timespec pause = { 0, 20 * 1000000L };
      nanosleep (&pause, NULL);
    }
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: nss-live DBDIR MODULE\n");
      return 2;
    }
  char dbspec[4096];
  snprintf (dbspec, sizeof dbspec, "sql:%s", argv[1]);
  if (NSS_Initialize (dbspec, "", "", "", 0) != SECSuccess)
    {
      fprintf (stderr, "nss-live: NSS_Initialize failed: %s\n", PR_ErrorToName (PR_GetError ()));
      return 1;
    }
  if (SECMOD_AddNewModule ("SETTLE Local Trust", argv[2], 0, 0) != SECSuccess)
    {
      fprintf (stderr, "nss-live: SECMOD_AddNewModule failed: %s\n", PR_ErrorToName (PR_GetError ()));
      return 1;
    }
  setvbuf (stdout, NULL, _IOLBF, 0);
  printf ("ready\n");

  CERTCertificate *leaves[16];
  char *paths[16];
  int n_leaves = 0;
  char line[4096];
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      line[strcspn (line, "\n")] = '\0';
      char *path = strchr (line, ' ');
      if (path == NULL)
        continue;
      *path++ = '\0';
      CERTCertificate *leaf = NULL;
      for (int i = 0; i < n_leaves; i++)
        if (strcmp (paths[i], path) == 0)
          leaf = leaves[i];
      if (leaf == NULL && n_leaves < 16 && (leaf = load_leaf (path)) != NULL)
        {
          paths[n_leaves] = strdup (path);
          leaves[n_leaves++] = leaf;
        }
      if (leaf == NULL)
        {
          printf ("error cannot load %s\n", path);
          continue;
        }
      wait_for (leaf, strcmp (line, "good") == 0);
    }
  for (int i = 0; i < n_leaves; i++)
    {
      CERT_DestroyCertificate (leaves[i]);
      free (paths[i]);
    }
  return NSS_Shutdown () == SECSuccess ? 0 : 1;
}
