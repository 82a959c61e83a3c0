/* snapshot-zeroed.h: zeroed memory that costs nothing until it is touched
 * (private to lib/snapshot/).
 *
 * An opened index.snap keeps one entry view and one state byte per entry
 * (snapshot-mapped.c), 225 bytes each (4.5 MB for the 20,000 certificates
 * of 10,000 anchors), but touches only the entries that are asked for.
 * calloc gives untouched zero pages only while glibc serves the size with
 * mmap: once a block that large has been freed, glibc raises its mmap
 * threshold and the next calloc of that size comes from the heap and is
 * cleared byte by byte, so every open after a process's first cost time
 * in proportion to N (0.15 ms more at N = 10,000, docs/openssl.md).  An
 * anonymous mapping is zero-filled by the kernel a page at a time, when
 * a page is first touched, whatever happened before. */
#pragma once

#include <stddef.h>

/* `bytes` (> 0) of zeroed memory, or NULL.  Owned: snapshot_zeroed_free
 * with the same size. */
void *snapshot_zeroed_new (size_t bytes);
void snapshot_zeroed_free (void *block, size_t bytes);
