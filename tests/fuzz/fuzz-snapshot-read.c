/* fuzz-snapshot-read.c: the trust snapshot reader on an index.cbor image
 * (settle_snapshot_parse, lib/snapshot/: snapshot-read.c and the bounded
 * CBOR, validation, arena and index behind it; format docs/snapshot.md).
 * The same code runs inside browsers (PKCS#11 module) and OpenSSL programs
 * (provider), on a file any process of the user can write.
 *
 * Invariants asserted:
 *  - a refusal returns -1, leaves *out NULL and says why in errbuf
 *    (NUL-terminated, non-empty);
 *  - an accepted snapshot holds at most SETTLE_SNAPSHOT_MAX_ENTRIES
 *    entries, each with a known role, a non-empty certificate of at most
 *    SETTLE_SNAPSHOT_MAX_CERT bytes whose bytes (and those of subject,
 *    issuer, serial, id) are all readable, NUL-terminated label and record
 *    strings and NULL-terminated scope and name arrays;
 *  - entry(count) is NULL, and every trust entry is found again by
 *    subject (this very entry among the matches, all with its subject),
 *    the one lookup the reader offers;
 *  - a client identity has ec_params and an empty scope, and the subject
 *    lookup never returns a client identity. */
#include <stdint.h>
#include <string.h>

#include "fuzz-assert.h"
#include "settle-snapshot-reader.h"

static volatile uint8_t sink;

static void
touch (settle_bytes b)
{
  uint8_t x = 0;
  FUZZ_ASSERT (b.data != NULL || b.len == 0);
  for (size_t i = 0; i < b.len; i++)
    x ^= b.data[i];
  sink ^= x;
}

static void
touch_strv (const char *const *v)
{
  FUZZ_ASSERT (v != NULL);
  for (size_t i = 0; v[i] != NULL; i++)
    sink ^= (uint8_t) strlen (v[i]);
}

static int
same_bytes (settle_bytes a, settle_bytes b)
{
  return a.len == b.len && (a.len == 0 || memcmp (a.data, b.data, a.len) == 0);
}

/* A client identity has a curve and no scope, and the trust lookup never
 * returns it (another entry with the same subject may be found). */
static void
check_client_entry (const settle_snapshot *snap, const settle_snap_entry *e)
{
  FUZZ_ASSERT (e->ec_params.len > 0 && e->scope != NULL && e->scope[0] == NULL);
  size_t cursor = 0;
  const settle_snap_entry *s;
  while ((s = settle_snapshot_find_subject (snap, e->subject.data, e->subject.len, &cursor)) != NULL)
    FUZZ_ASSERT (s->role != SETTLE_SNAP_CLIENT);
}

static void
check_entry (const settle_snapshot *snap, const settle_snap_entry *e)
{
  FUZZ_ASSERT (e->role == SETTLE_SNAP_ROOT || e->role == SETTLE_SNAP_CROSS
               || e->role == SETTLE_SNAP_PEER || e->role == SETTLE_SNAP_CLIENT);
  FUZZ_ASSERT (e->der.len > 0 && e->der.len <= SETTLE_SNAPSHOT_MAX_CERT);
  touch (e->der);
  touch (e->subject);
  touch (e->issuer);
  touch (e->serial);
  touch (e->id);
  FUZZ_ASSERT (e->label != NULL && e->record != NULL);
  sink ^= (uint8_t) (strlen (e->label) + strlen (e->record));
  touch_strv (e->scope);
  touch_strv (e->names);
  touch (e->ec_params);

  if (e->role == SETTLE_SNAP_CLIENT)
    {
      check_client_entry (snap, e);
      return;
    }
  if (e->subject.data != NULL)
    {
      size_t cursor = 0;
      const settle_snap_entry *s;
      int found = 0;
      while ((s = settle_snapshot_find_subject (snap, e->subject.data, e->subject.len, &cursor)) != NULL)
        {
          FUZZ_ASSERT (same_bytes (s->subject, e->subject));
          found |= s == e;
        }
      FUZZ_ASSERT (found);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char err[256];
  settle_snapshot *snap = (settle_snapshot *) &sink; /* must be reset to NULL */
  if (settle_snapshot_parse (data, size, &snap, err, sizeof err) != 0)
    {
      FUZZ_ASSERT (snap == NULL);
      FUZZ_ASSERT (memchr (err, '\0', sizeof err) != NULL && err[0] != '\0');
      return 0;
    }
  FUZZ_ASSERT (snap != NULL);
  size_t n = settle_snapshot_count (snap);
  FUZZ_ASSERT (n <= SETTLE_SNAPSHOT_MAX_ENTRIES);
  sink ^= (uint8_t) settle_snapshot_generation (snap);
  for (size_t i = 0; i < n; i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      FUZZ_ASSERT (e != NULL);
      check_entry (snap, e);
    }
  FUZZ_ASSERT (settle_snapshot_entry (snap, n) == NULL);
  settle_snapshot_free (snap);
  return 0;
}
