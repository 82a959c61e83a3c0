/* replay.c: main() for the fuzz-replay-<name> programs of the normal build.
 *
 * Feeds every regular file of the directories (or files) named on the
 * command line to the harness's LLVMFuzzerTestOneInput, once each, in
 * name order, exactly as libFuzzer would replay them.  A harness signals a
 * broken invariant by abort(), so the test fails on the first bad input;
 * an empty or missing corpus directory is a failure too, so that a
 * misnamed directory cannot turn the test into a no-op. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
__attribute__ ((weak)) int LLVMFuzzerInitialize (int *argc, char ***argv);

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      perror (path);
      return -1;
    }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc (cap);
  size_t n;
  while (buf != NULL && (n = fread (buf + len, 1, cap - len, f)) > 0)
    {
      len += n;
      if (len == cap)
        {
          uint8_t *grown = realloc (buf, cap * 2);
          if (grown == NULL)
            {
              free (buf);
              buf = NULL;
              break;
            }
          buf = grown;
          cap *= 2;
        }
    }
  int failed = ferror (f) || buf == NULL;
  fclose (f);
  if (failed)
    {
      fprintf (stderr, "%s: cannot read\n", path);
      free (buf);
      return -1;
    }
  /* A copy of exactly `len` bytes, so that the sanitizers see any read
   * past the input as they would under libFuzzer. */
  uint8_t *input = malloc (len ? len : 1);
  if (input == NULL)
    {
      free (buf);
      return -1;
    }
  memcpy (input, buf, len);
  free (buf);
  fprintf (stderr, "replay %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput (input, len);
  free (input);
  return 0;
}

static int
by_name (const struct dirent **a, const struct dirent **b)
{
  return strcmp ((*a)->d_name, (*b)->d_name);
}

int
main (int argc, char **argv)
{
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);
  size_t replayed = 0;
  for (int i = 1; i < argc; i++)
    {
      struct stat st;
      if (stat (argv[i], &st) != 0)
        {
          perror (argv[i]);
          return 1;
        }
      if (!S_ISDIR (st.st_mode))
        {
          if (replay_file (argv[i]) != 0)
            return 1;
          replayed++;
          continue;
        }
      struct dirent **entries;
      int n = scandir (argv[i], &entries, NULL, by_name);
      if (n < 0)
        {
          perror (argv[i]);
          return 1;
        }
      for (int j = 0; j < n; j++)
        {
          char path[4096];
          int ok = entries[j]->d_name[0] != '.'
                   && snprintf (path, sizeof path, "%s/%s", argv[i], entries[j]->d_name) < (int) sizeof path
                   && stat (path, &st) == 0 && S_ISREG (st.st_mode);
          free (entries[j]);
          if (!ok)
            continue;
          if (replay_file (path) != 0)
            return 1;
          replayed++;
        }
      free (entries);
    }
  printf ("replayed %zu inputs\n", replayed);
  return replayed > 0 ? 0 : 1;
}
