/* sp11-watch.h: noticing that the helper wrote a new snapshot.
 *
 * The helper swaps the `trust` symlink to a new generation directory, so the
 * index file's identity (device, inode, size, mtime) changes with every
 * write.  Comparing that stamp costs one stat(2) through the symlink; the
 * module does it at most once per SP11_WATCH_INTERVAL_MS, on the calls NSS
 * and other consumers make before they search (docs/nss-module.md). */
#pragma once

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "settle-snapshot-reader.h"
#include "sp11-view.h"

#define SP11_WATCH_INTERVAL_MS 100

typedef struct {
  char dir[PATH_MAX];           /* the snapshot directory, fixed at C_Initialize */
  settle_snapshot_stamp stamp;  /* of the snapshot the current view came from */
  struct timespec last_check;   /* CLOCK_MONOTONIC */
  uint32_t last_tag;            /* tag of the newest view built */
} sp11_watch;

/* Resolves the snapshot directory (SETTLE_TRUST_DIR or the default).
 * Returns 0, or -1 when no directory can be determined (HOME unset). */
int sp11_watch_init (sp11_watch *watch);

/* Opens the snapshot as it is now into a new view (owned by the caller):
 * index.snap mapped in place when it belongs to index.cbor, whose entries
 * the view checks as it serves them (sp11-view.h), else index.cbor loaded
 * and checked whole.  A snapshot the reader or the scope rule refuses
 * gives an empty view: failing closed is safer than trusting what may
 * have been tampered with.  NULL only when memory runs out. */
sp11_view *sp11_watch_load (sp11_watch *watch);

/* 1 when the rate limit allows a check and the stamp on disk differs from
 * the loaded one; 0 otherwise.  `force` skips the rate limit. */
int sp11_watch_changed (sp11_watch *watch, int force);
