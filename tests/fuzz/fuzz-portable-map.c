/* fuzz-portable-map.c: the name map libnss_settle reads
 * (lib/names/portable-map.c; a file of the user's, but read inside every
 * process that resolves a host name).
 *
 * Input: the first byte is the length n (mod 64) of the name looked up,
 * the next n bytes the name, the rest the map.
 *
 * Invariants asserted: the result is one of the three; a found entry has a
 * period of 2..86400; a map that does not start with the header is never
 * usable; looking up the same name twice gives the same answer. */
#include <stdint.h>
#include <string.h>

#include "fuzz-assert.h"
#include "settle-portable-map.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t n = data[0] % 64;
  if (size - 1 < n)
    return 0;
  const char *name = (const char *) data + 1;
  const char *map = (const char *) data + 1 + n;
  size_t map_len = size - 1 - n;
  portable_map_entry a, b;
  portable_map_result r = portable_map_lookup (map, map_len, name, n, &a);
  FUZZ_ASSERT (r == PORTABLE_MAP_FOUND || r == PORTABLE_MAP_ABSENT || r == PORTABLE_MAP_MALFORMED);
  if (r == PORTABLE_MAP_FOUND)
    FUZZ_ASSERT (a.period_s >= 2 && a.period_s <= 86400);
  if (map_len < sizeof PORTABLE_MAP_HEADER - 1 || memcmp (map, PORTABLE_MAP_HEADER, sizeof PORTABLE_MAP_HEADER - 1) != 0)
    FUZZ_ASSERT (r == PORTABLE_MAP_MALFORMED);
  portable_map_result again = portable_map_lookup (map, map_len, name, n, &b);
  FUZZ_ASSERT (again == r);
  if (r == PORTABLE_MAP_FOUND)
    FUZZ_ASSERT (memcmp (&a, &b, sizeof a) == 0);
  return 0;
}
