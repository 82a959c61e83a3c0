/* snapshot-zeroed.c: see snapshot-zeroed.h. */
#include "snapshot-zeroed.h"

#include <sys/mman.h>

void *
snapshot_zeroed_new (size_t bytes)
{
  if (bytes == 0)
    return NULL;
  void *block = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return block == MAP_FAILED ? NULL : block;
}

void
snapshot_zeroed_free (void *block, size_t bytes)
{
  if (block != NULL)
    munmap (block, bytes);
}
