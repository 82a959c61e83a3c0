/* snapshot-error.h: where the reader's refusals go (private to
 * lib/snapshot/).
 *
 * Every step of loading (bounded CBOR, validation, the file itself) says
 * why it refused in one sentence; the sink is the caller's buffer, so a
 * refusal allocates nothing and needs no cleanup inside a browser. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
  char *buf;    /* borrowed from the caller, may be NULL */
  size_t len;
} snapshot_error;

static inline void
snapshot_fail (snapshot_error *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Writes the sentence into the sink (truncated to fit); the last refusal
 * wins, which is the one closest to the cause. */
static inline void
snapshot_fail (snapshot_error *err, const char *fmt, ...)
{
  if (err->buf == NULL || err->len == 0)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err->buf, err->len, fmt, ap);
  va_end (ap);
}
