/* fuzz-assert.h: the one way a harness reports a broken invariant.
 *
 * Unlike assert(), never compiled out (the normal build may use -DNDEBUG):
 * it prints where and why, then aborts, which libFuzzer records as a crash
 * and the replay test (replay.c) as a failure. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                      \
  do                                                                           \
    {                                                                          \
      if (!(cond))                                                             \
        {                                                                      \
          fprintf (stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
          abort ();                                                            \
        }                                                                      \
    }                                                                          \
  while (0)
