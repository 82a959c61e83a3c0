/* fuzz-snapshot-mapped.c: the mapped snapshot reader on an index.snap
 * image (settle_snapshot_parse_mapped, lib/snapshot/snapshot-mapped.c;
 * format docs/snapshot.md, "index.snap").  Inside browsers and OpenSSL
 * programs the reader searches this file in place, validating an entry
 * the first time it is returned, so every path is driven here: the
 * header, each entry, and each hash table.
 *
 * Invariants asserted:
 *  - a refusal returns -1, leaves *out NULL and says why in errbuf;
 *  - an accepted image holds at most SETTLE_SNAPSHOT_MAX_ENTRIES entries;
 *    entry i is NULL (refused, and then settle_snapshot_refusal says why)
 *    or has a known role, a non-empty certificate of at most
 *    SETTLE_SNAPSHOT_MAX_CERT bytes whose bytes (and those of subject,
 *    issuer, serial, id, ec_params) are readable, NUL-terminated label and
 *    record, NULL-terminated scope and names, and index_of gives i back;
 *  - every lookup returns only entries whose key equals the query, and the
 *    subject lookup never returns a client identity; entry(count) is NULL;
 *    in an image the writer made, each entry is found by each of its keys
 *    (the hash tables carry no checksum: a damaged slot may hide an entry,
 *    never substitute one, docs/snapshot.md);
 *  - an input that settle_snapshot_parse accepts as index.cbor encodes
 *    (settle_snapshot_encode_mapped) into an image whose every entry is
 *    served, equal to the decoded one: the writer's path. */
#include <stdint.h>
#include <stdlib.h>
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

static int
same_strv (const char *const *a, const char *const *b)
{
  size_t i = 0;
  for (; a[i] != NULL && b[i] != NULL; i++)
    if (strcmp (a[i], b[i]) != 0)
      return 0;
  return a[i] == NULL && b[i] == NULL;
}

static int
same_entry (const settle_snap_entry *a, const settle_snap_entry *b)
{
  return a->role == b->role && same_bytes (a->der, b->der) && same_bytes (a->subject, b->subject)
         && same_bytes (a->issuer, b->issuer) && same_bytes (a->serial, b->serial)
         && same_bytes (a->id, b->id) && same_bytes (a->ec_params, b->ec_params)
         && memcmp (a->sha1, b->sha1, 20) == 0 && memcmp (a->md5, b->md5, 16) == 0
         && memcmp (a->sha256, b->sha256, 32) == 0 && strcmp (a->label, b->label) == 0
         && strcmp (a->record, b->record) == 0 && same_strv (a->scope, b->scope)
         && same_strv (a->names, b->names) && a->not_after == b->not_after;
}

/* e is among the matches of `key`, and every match has the key. */
static void
check_key (const settle_snapshot *snap, const settle_snap_entry *e, settle_snap_key key,
           const uint8_t *data, size_t len, int intact)
{
  size_t cursor = 0;
  const settle_snap_entry *s;
  int found = 0;
  while ((s = settle_snapshot_find (snap, key, data, len, &cursor)) != NULL)
    {
      found |= s == e;
      switch (key)
        {
        case SETTLE_SNAP_KEY_SUBJECT: FUZZ_ASSERT (same_bytes (s->subject, e->subject)); break;
        case SETTLE_SNAP_KEY_DER: FUZZ_ASSERT (same_bytes (s->der, e->der)); break;
        case SETTLE_SNAP_KEY_SHA1: FUZZ_ASSERT (memcmp (s->sha1, e->sha1, 20) == 0); break;
        case SETTLE_SNAP_KEY_ID: FUZZ_ASSERT (same_bytes (s->id, e->id)); break;
        case SETTLE_SNAP_KEY_SHA256: FUZZ_ASSERT (memcmp (s->sha256, e->sha256, 32) == 0); break;
        case SETTLE_SNAP_KEY_LABEL: FUZZ_ASSERT (strcmp (s->label, e->label) == 0); break;
        default: FUZZ_ASSERT (0);
        }
    }
  FUZZ_ASSERT (found || !intact);
}

static void
check_entry (const settle_snapshot *snap, const settle_snap_entry *e, size_t index, int intact)
{
  FUZZ_ASSERT (e->role == SETTLE_SNAP_ROOT || e->role == SETTLE_SNAP_CROSS
               || e->role == SETTLE_SNAP_PEER || e->role == SETTLE_SNAP_CLIENT);
  FUZZ_ASSERT (e->der.len > 0 && e->der.len <= SETTLE_SNAPSHOT_MAX_CERT);
  FUZZ_ASSERT (settle_snapshot_index_of (snap, e) == index);
  touch (e->der);
  touch (e->subject);
  touch (e->issuer);
  touch (e->serial);
  touch (e->id);
  touch (e->ec_params);
  FUZZ_ASSERT (e->label != NULL && e->record != NULL && strlen (e->record) == 64);
  sink ^= (uint8_t) strlen (e->label);
  touch_strv (e->scope);
  touch_strv (e->names);
  if (e->role == SETTLE_SNAP_CLIENT)
    FUZZ_ASSERT (e->ec_params.len > 0 && e->scope[0] == NULL);
  check_key (snap, e, SETTLE_SNAP_KEY_SUBJECT, e->subject.data, e->subject.len, intact);
  check_key (snap, e, SETTLE_SNAP_KEY_DER, e->der.data, e->der.len, intact);
  check_key (snap, e, SETTLE_SNAP_KEY_SHA1, e->sha1, sizeof e->sha1, intact);
  check_key (snap, e, SETTLE_SNAP_KEY_SHA256, e->sha256, sizeof e->sha256, intact);
  check_key (snap, e, SETTLE_SNAP_KEY_ID, e->id.data, e->id.len, intact);
  check_key (snap, e, SETTLE_SNAP_KEY_LABEL, (const uint8_t *) e->label, strlen (e->label), intact);
  size_t cursor = 0;
  const settle_snap_entry *s;
  int found = 0;
  while ((s = settle_snapshot_find_issuer_serial (snap, e->issuer.data, e->issuer.len, e->serial.data,
                                                  e->serial.len, &cursor)) != NULL)
    {
      FUZZ_ASSERT (same_bytes (s->issuer, e->issuer) && same_bytes (s->serial, e->serial));
      found |= s == e;
    }
  FUZZ_ASSERT (found || !intact);
  cursor = 0;
  found = 0;
  while ((s = settle_snapshot_find_subject (snap, e->subject.data, e->subject.len, &cursor)) != NULL)
    {
      FUZZ_ASSERT (s->role != SETTLE_SNAP_CLIENT && same_bytes (s->subject, e->subject));
      found |= s == e;
    }
  FUZZ_ASSERT (found == (e->role != SETTLE_SNAP_CLIENT) || (!intact && !found));
}

static void
check_mapped (const uint8_t *data, size_t size, const settle_snapshot *decoded)
{
  char err[256];
  settle_snapshot *snap = (settle_snapshot *) &sink; /* must be reset to NULL */
  if (settle_snapshot_parse_mapped (data, size, &snap, err, sizeof err) != 0)
    {
      FUZZ_ASSERT (decoded == NULL);
      FUZZ_ASSERT (snap == NULL);
      FUZZ_ASSERT (memchr (err, '\0', sizeof err) != NULL && err[0] != '\0');
      return;
    }
  FUZZ_ASSERT (snap != NULL && settle_snapshot_is_mapped (snap));
  size_t n = settle_snapshot_count (snap);
  FUZZ_ASSERT (n <= SETTLE_SNAPSHOT_MAX_ENTRIES);
  FUZZ_ASSERT (decoded == NULL || n == settle_snapshot_count (decoded));
  sink ^= (uint8_t) settle_snapshot_generation (snap);
  for (size_t i = 0; i < n; i++)
    {
      const settle_snap_entry *e = settle_snapshot_entry (snap, i);
      if (e == NULL)
        {
          FUZZ_ASSERT (decoded == NULL && settle_snapshot_refusal (snap) != NULL);
          continue;
        }
      check_entry (snap, e, i, decoded != NULL);
      FUZZ_ASSERT (decoded == NULL || same_entry (e, settle_snapshot_entry (decoded, i)));
    }
  FUZZ_ASSERT (settle_snapshot_entry (snap, n) == NULL);
  settle_snapshot_free (snap);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_mapped (data, size, NULL);

  /* The writer's path: index.cbor decoded, encoded, read back. */
  settle_snapshot *decoded = NULL;
  if (settle_snapshot_parse (data, size, &decoded, NULL, 0) != 0)
    return 0;
  uint8_t *image = NULL;
  size_t len = 0;
  struct timespec mtime = { 1, 2 };
  FUZZ_ASSERT (settle_snapshot_encode_mapped (decoded, 3, size, mtime, &image, &len, NULL, 0) == 0);
  check_mapped (image, len, decoded);
  free (image);
  settle_snapshot_free (decoded);
  return 0;
}
