/* nss-bench.c: one measurement of one trust module inside NSS.
 *
 * Usage: nss-bench DBDIR MODULE PARAMETERS LEAF.der SUBJECTS.bin LOOKUPS
 * Prints one line: start_verify_ms lookups_ms found rss_kb warm_ms rss_after_kb fixed_ms steady_ms
 *   start_verify_ms  NSS_Initialize + loading the module + one verification
 *                    of LEAF for TLS server use (must succeed)
 *   lookups_ms       LOOKUPS certificate searches by subject (cycling over
 *                    the subjects), C_FindObjectsInit/C_FindObjects/Final on
 *                    every slot of the module, as NSS searches: the first
 *                    search for each subject (a module that checks an entry
 *                    when it first serves it pays that here)
 *   rss_kb           VmRSS after the start and verification
 *   warm_ms          the same LOOKUPS searches again, right after
 *   rss_after_kb     VmRSS after both passes
 *   fixed_ms         LOOKUPS searches again, cycling over the first
 *                    FIXED_SET subjects only (all of them when there are
 *                    fewer)
 *   steady_ms        LOOKUPS searches over all N subjects once more, the
 *                    best of STEADY_PASSES passes (as the provider
 *                    benchmark's warm figure is a best of batches)
 *
 * What warm_ms and fixed_ms tell apart: warm_ms cycles over all N
 * subjects, so at N = 10,000 each search lands on memory the previous
 * 10,000 searches have pushed out of the caches and TLB (the snapshot's
 * hash table and records, the reader's and the module's per-entry
 * arrays), while at N = 10 everything stays in L1; it is the honest cost
 * of a search over a large store, cache misses included.  fixed_ms makes
 * the same number of searches over a working set of the same size (and
 * the same entries) at every N, so everything stays cached at every N:
 * its growth with N is the search's algorithmic growth alone (probe runs,
 * per-search work that depends on the number of entries), without the
 * cache footprint.
 *
 * warm_ms follows the pass that served every entry for the first time,
 * whose OpenSSL parses (the scope rule) push the snapshot's lines out of
 * every cache: at N = 10,000 it fetches them back from memory once.
 * steady_ms is the same searches once that is done, so their lines are
 * only as far as 10,000 other searches have pushed them: a long-running
 * browser's case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cert.h>
#include <nss.h>
#include <pk11pub.h>
#include <pkcs11.h>
#include <prerror.h>
#include <secmod.h>

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The working set of the fixed-set pass: the N of the smallest run. */
#define FIXED_SET 10u
#define STEADY_PASSES 5

static long
rss_kb (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose (f);
  return kb;
}

static unsigned char *
slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    return NULL;
  fseek (f, 0, SEEK_END);
  long n = ftell (f);
  fseek (f, 0, SEEK_SET);
  unsigned char *buf = malloc ((size_t) n + 1);
  *len = fread (buf, 1, (size_t) n, f);
  fclose (f);
  return buf;
}

/* LOOKUPS searches by CKA_CLASS + CKA_SUBJECT, cycling over the subjects,
 * on every slot; returns how many objects were found. */
static long
search (CK_FUNCTION_LIST_PTR f, const CK_SESSION_HANDLE *sessions, int n_slots,
        const unsigned char *subjects, const size_t *offs, size_t n_subjects, long lookups)
{
  long found = 0;
  for (long i = 0; i < lookups; i++)
    {
      size_t o = offs[(size_t) i % n_subjects];
      CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
      CK_ATTRIBUTE tmpl[] = {
        { CKA_CLASS, &klass, sizeof klass },
        { CKA_SUBJECT, (void *) (subjects + o + 2), ((CK_ULONG) subjects[o] << 8) | subjects[o + 1] },
      };
      for (int s = 0; s < n_slots; s++)
        {
          CK_OBJECT_HANDLE h[4];
          CK_ULONG n = 0;
          f->C_FindObjectsInit (sessions[s], tmpl, 2);
          f->C_FindObjects (sessions[s], h, 4, &n);
          f->C_FindObjectsFinal (sessions[s]);
          found += (long) n;
        }
    }
  return found;
}

int
main (int argc, char **argv)
{
  if (argc != 7)
    {
      fprintf (stderr, "usage: nss-bench DBDIR MODULE PARAMETERS LEAF SUBJECTS LOOKUPS\n");
      return 2;
    }
  size_t leaf_len, subjects_len;
  unsigned char *leaf_der = slurp (argv[4], &leaf_len);
  unsigned char *subjects = slurp (argv[5], &subjects_len);
  long lookups = atol (argv[6]);
  if (!leaf_der || !subjects)
    return 2;
  /* Subject offsets. */
  size_t n_subjects = 0, cap = 1024;
  size_t *offs = malloc (cap * sizeof *offs);
  for (size_t p = 0; p + 2 <= subjects_len;)
    {
      size_t l = ((size_t) subjects[p] << 8) | subjects[p + 1];
      if (n_subjects == cap)
        offs = realloc (offs, (cap *= 2) * sizeof *offs);
      offs[n_subjects++] = p;
      p += 2 + l;
    }

  char dbspec[4096], modspec[8192];
  snprintf (dbspec, sizeof dbspec, "sql:%s", argv[1]);
  snprintf (modspec, sizeof modspec, "library=\"%s\" name=\"bench\" parameters=\"%s\"", argv[2], argv[3]);

  double t0 = now_ms ();
  if (NSS_Initialize (dbspec, "", "", "", NSS_INIT_READONLY) != SECSuccess)
    return 1;
  SECMODModule *mod = SECMOD_LoadUserModule (modspec, NULL, PR_FALSE);
  if (!mod || !mod->loaded)
    {
      fprintf (stderr, "nss-bench: cannot load %s: %s\n", argv[2], PR_ErrorToName (PR_GetError ()));
      return 1;
    }
  SECItem der = { siBuffer, leaf_der, (unsigned int) leaf_len };
  CERTCertificate *leaf = CERT_NewTempCertificate (CERT_GetDefaultCertDB (), &der, NULL, PR_FALSE, PR_TRUE);
  SECStatus verified = CERT_VerifyCertificateNow (CERT_GetDefaultCertDB (), leaf, PR_TRUE,
                                                  certificateUsageSSLServer, NULL, NULL);
  double t1 = now_ms ();
  long rss = rss_kb ();
  if (verified != SECSuccess)
    {
      fprintf (stderr, "nss-bench: the leaf did not verify: %s\n", PR_ErrorToName (PR_GetError ()));
      return 1;
    }

  CK_FUNCTION_LIST_PTR f = (CK_FUNCTION_LIST_PTR) mod->functionList;
  CK_SESSION_HANDLE sessions[8];
  int n_slots = mod->slotCount < 8 ? mod->slotCount : 8;
  for (int s = 0; s < n_slots; s++)
    if (f->C_OpenSession (PK11_GetSlotID (mod->slots[s]), CKF_SERIAL_SESSION, NULL, NULL, &sessions[s]) != CKR_OK)
      return 1;
  long found = 0, found_warm = 0;
  double t2 = now_ms ();
  found = search (f, sessions, n_slots, subjects, offs, n_subjects, lookups);
  double t3 = now_ms ();
  found_warm = search (f, sessions, n_slots, subjects, offs, n_subjects, lookups);
  double t4 = now_ms ();
  if (found_warm != found)
    return 1;
  long rss_after = rss_kb ();
  size_t n_fixed = n_subjects < FIXED_SET ? n_subjects : FIXED_SET;
  /* Every subject has one certificate in this benchmark, so the fixed set
   * finds one per search too. */
  long found_fixed = search (f, sessions, n_slots, subjects, offs, n_fixed, lookups);
  double t5 = now_ms ();
  if (found_fixed != found)
    return 1;
  double steady = -1;
  for (int pass = 0; pass < STEADY_PASSES; pass++)
    {
      double start = now_ms ();
      if (search (f, sessions, n_slots, subjects, offs, n_subjects, lookups) != found)
        return 1;
      double took = now_ms () - start;
      if (steady < 0 || took < steady)
        steady = took;
    }
  for (int s = 0; s < n_slots; s++)
    f->C_CloseSession (sessions[s]);
  printf ("%.1f %.1f %ld %ld %.1f %ld %.1f %.1f\n", t1 - t0, t3 - t2, found, rss, t4 - t3, rss_after,
          t5 - t4, steady);
  CERT_DestroyCertificate (leaf);
  SECMOD_UnloadUserModule (mod);
  SECMOD_DestroyModule (mod);
  NSS_Shutdown ();
  free (offs);
  free (leaf_der);
  free (subjects);
  return 0;
}
