/* snapshot-mapped.c: reading index.snap in place (snapshot-mapped.h).
 *
 * Opening checks the header alone (magic, version, lengths, the tables'
 * extent, its checksum): time independent of the number of entries.  An
 * entry is checked the first time it is asked for: its record's extent
 * and checksum, then every field as snapshot-validate.c checks index.cbor
 * (docs/snapshot.md, "Checks in detail"), and only then is it turned into
 * a settle_snap_entry whose bytes point into the mapping.  A refused entry
 * stays refused (NULL) for the life of the snapshot.
 *
 * Threads: an entry's state goes 0 (unchecked) -> 1 (being checked) ->
 * 2 (ready) or 3 (refused) with C11 atomics; the thread that claims it
 * fills it, the others wait for the release store (a few microseconds). */
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "settle-name-rule.h"
#include "snapshot-arena.h"
#include "snapshot-cbor.h"
#include "snapshot-hash.h"
#include "snapshot-mapped.h"
#include "snapshot-validate.h"
#include "snapshot-zeroed.h"

enum { ENTRY_UNCHECKED = 0, ENTRY_BUSY, ENTRY_READY, ENTRY_REFUSED };

struct snapshot_mapped {
  const uint8_t *data;
  size_t len;
  void *unmap;                 /* owned mapping of len bytes, or NULL (borrowed data) */
  size_t count;
  size_t slots;                /* per table; a power of two or 0 */
  uint64_t entries_off, tables_off;
  uint64_t cbor_size;
  int64_t cbor_sec, cbor_nsec;
  settle_snap_entry *entries;  /* owned (snapshot-zeroed.h, views_size): count of them,
                                * filled lazily, then the state bytes */
  _Atomic uint8_t *state;      /* inside the entries' block, after them: count of them */
  atomic_int refusal_taken;    /* 0 none, 1 being written, 2 written */
  char refusal[256];
};

static uint32_t
rd32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
rd64 (const uint8_t *p)
{
  return (uint64_t) rd32 (p) | (uint64_t) rd32 (p + 4) << 32;
}

/* ---- opening ------------------------------------------------------------ */

/* The entry views and their states, in one block that costs nothing until
 * an entry is first asked for (snapshot-zeroed.h says why not calloc):
 * opening stays independent of N.  The state bytes follow the views,
 * whose size keeps them aligned for any byte.  AddressSanitizer does not
 * watch inside a mapping, so the bound that matters is the one check of
 * an index against the count, in snapshot_mapped_entry. */
static size_t
views_size (size_t count)
{
  return count * (sizeof (settle_snap_entry) + sizeof (_Atomic uint8_t));
}

static bool
alloc_views (struct snapshot_mapped *m, size_t count)
{
  if ((m->entries = snapshot_zeroed_new (views_size (count))) == NULL)
    return false;
  m->state = (_Atomic uint8_t *) (m->entries + count);
  return true;
}

settle_snapshot *
snapshot_mapped_new (const uint8_t *data, size_t len, void *unmap, snapshot_error *err)
{
  if (data == NULL || len < SNAPSHOT_MAPPED_HEADER || memcmp (data, SNAPSHOT_MAPPED_MAGIC, 8) != 0)
    {
      snapshot_fail (err, "index.snap does not start with its magic header.");
      return NULL;
    }
  if (rd32 (data + 8) != SETTLE_SNAPSHOT_MAPPED_VERSION || rd32 (data + 12) != SNAPSHOT_MAPPED_HEADER)
    {
      snapshot_fail (err, "index.snap has format version %u; this reader knows version %d.",
                     rd32 (data + 8), SETTLE_SNAPSHOT_MAPPED_VERSION);
      return NULL;
    }
  if (rd64 (data + 120) != snapshot_checksum (data, 120))
    {
      snapshot_fail (err, "the header of index.snap fails its checksum.");
      return NULL;
    }
  uint64_t file_len = rd64 (data + 16);
  uint64_t count = rd32 (data + 40), slots = rd32 (data + 44);
  uint64_t entries_off = rd64 (data + 48), tables_off = rd64 (data + 56);
  if (file_len != len || len > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      snapshot_fail (err, "index.snap is %zu bytes, its header says %llu.", len,
                     (unsigned long long) file_len);
      return NULL;
    }
  if (count > SETTLE_SNAPSHOT_MAX_ENTRIES)
    {
      snapshot_fail (err, "index.snap has %llu entries, more than the limit of %u.",
                     (unsigned long long) count, SETTLE_SNAPSHOT_MAX_ENTRIES);
      return NULL;
    }
  /* Slots: 0 with no entries, else a power of two of at least twice the
   * count (so every probe run ends at an empty slot) and at most 2^22. */
  bool slots_ok = count == 0 ? slots == 0
                             : (slots >= 2 * count && slots <= (1u << 22) && (slots & (slots - 1)) == 0);
  /* All quantities are below 2^32 * 2^22, far from overflowing 64 bits. */
  if (!slots_ok || entries_off < SNAPSHOT_MAPPED_HEADER || entries_off > len
      || count * SNAPSHOT_MAPPED_ENTRY > len - entries_off || tables_off < SNAPSHOT_MAPPED_HEADER
      || tables_off > len || SETTLE_SNAP_KEY_COUNT * slots * SNAPSHOT_MAPPED_SLOT > len - tables_off)
    {
      snapshot_fail (err, "the tables of index.snap lie outside the file.");
      return NULL;
    }

  settle_snapshot *snap = calloc (1, sizeof *snap);
  struct snapshot_mapped *m = calloc (1, sizeof *m);
  if (snap == NULL || m == NULL || (count > 0 && !alloc_views (m, count)))
    {
      free (m);
      free (snap);
      snapshot_fail (err, "out of memory while opening the snapshot.");
      return NULL;
    }
  m->data = data;
  m->len = len;
  m->unmap = unmap;
  m->slots = slots;
  m->count = count;
  m->entries_off = entries_off;
  m->tables_off = tables_off;
  m->cbor_size = rd64 (data + 64);
  m->cbor_sec = (int64_t) rd64 (data + 72);
  m->cbor_nsec = (int64_t) rd64 (data + 80);
  snap->generation = rd64 (data + 24);
  snap->count = count;
  snap->mapped = m;
  return snap;
}

void
snapshot_mapped_source (const struct snapshot_mapped *m, uint64_t *size, int64_t *sec, int64_t *nsec)
{
  *size = m->cbor_size;
  *sec = m->cbor_sec;
  *nsec = m->cbor_nsec;
}

void
snapshot_mapped_free (struct snapshot_mapped *m)
{
  if (m == NULL)
    return;
  /* Entries that were made ready own one pointer block (scope, then names). */
  for (size_t i = 0; i < m->count; i++)
    if (atomic_load (&m->state[i]) == ENTRY_READY)
      free ((void *) m->entries[i].scope);
  snapshot_zeroed_free (m->entries, views_size (m->count));
  if (m->unmap != NULL)
    munmap (m->unmap, m->len);
  free (m);
}

/* ---- one entry ---------------------------------------------------------- */

typedef struct {
  const uint8_t *rec;
  size_t data_len;           /* the record without its checksum */
  uint32_t off[SNAPSHOT_M_COUNT], len[SNAPSHOT_M_COUNT];
} record_view;

static void
refuse (const settle_snapshot *snap, size_t index, const char *why)
{
  struct snapshot_mapped *m = snap->mapped;
  int expected = 0;
  /* 1 while the sentence is written, 2 once it can be read. */
  if (atomic_compare_exchange_strong (&m->refusal_taken, &expected, 1))
    {
      snprintf (m->refusal, sizeof m->refusal, "index.snap entry %zu: %s", index, why);
      atomic_store (&m->refusal_taken, 2);
    }
}

static bool
is_der_integer (const uint8_t *b, size_t n)
{
  if (n < 3 || n > SNAPSHOT_MAX_SERIAL_BYTES || b[0] != 0x02)
    return false;
  if (b[1] < 0x80)
    return (size_t) b[1] + 2 == n;
  return b[1] == 0x81 && b[2] >= 0x80 && (size_t) b[2] + 3 == n;
}

static bool
is_lower_hex (const uint8_t *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* A C string of exactly len bytes at `off`: no NUL inside, one after. */
static bool
is_c_string (const record_view *r, int field)
{
  const uint8_t *s = r->rec + r->off[field];
  size_t n = r->len[field];
  return (size_t) r->off[field] + n < r->data_len && s[n] == '\0' && memchr (s, '\0', n) == NULL;
}

/* `count` NUL-terminated names filling the field exactly, each valid and
 * inside the namespaces; their starts go to out[0..count) and out[count]
 * is NULL. */
static const char *
check_names (const record_view *r, int field, uint32_t count, bool is_scope, const char **out)
{
  if (count > SNAPSHOT_MAX_NAMES_PER_ENTRY)
    return "has too many names";
  const char *p = (const char *) r->rec + r->off[field];
  size_t left = r->len[field];
  for (uint32_t i = 0; i < count; i++)
    {
      const char *nul = memchr (p, '\0', left);
      if (nul == NULL)
        return "has a name without its NUL";
      size_t n = (size_t) (nul - p);
      if (n == 0 || n > SNAPSHOT_MAX_NAME_BYTES
          || settle_name_rule_syntax (p, n, !is_scope, NULL) != SETTLE_NAME_OK)
        return "has a name that is not a valid DNS name";
      if (!settle_name_rule_in_namespaces (p, n))
        return "has a name outside local, home.arpa and alt";
      out[i] = p;
      p += n + 1;
      left -= n + 1;
    }
  out[count] = NULL;
  return left == 0 ? NULL : "has bytes after its last name";
}

/* Why record `r` is not a valid entry, or NULL. */
static const char *
check_record (const record_view *r, uint32_t role, uint32_t n_scope, uint32_t n_names)
{
  for (int f = 0; f < SNAPSHOT_M_COUNT; f++)
    if (r->off[f] < SNAPSHOT_MAPPED_RECORD_FIXED || r->off[f] > r->data_len
        || r->len[f] > r->data_len - r->off[f])
      return "has a field outside its record";
  if (role < SETTLE_SNAP_ROOT || role > SETTLE_SNAP_CLIENT)
    return "has an unknown role";
  if (r->len[SNAPSHOT_M_DER] < 1 || r->len[SNAPSHOT_M_DER] > SETTLE_SNAPSHOT_MAX_CERT)
    return "has a certificate of a wrong size";
  if (r->len[SNAPSHOT_M_SUBJECT] < 1 || r->len[SNAPSHOT_M_SUBJECT] > SNAPSHOT_MAX_NAME_DER_BYTES
      || r->len[SNAPSHOT_M_ISSUER] < 1 || r->len[SNAPSHOT_M_ISSUER] > SNAPSHOT_MAX_NAME_DER_BYTES)
    return "has a subject or issuer of a wrong size";
  if (!is_der_integer (r->rec + r->off[SNAPSHOT_M_SERIAL], r->len[SNAPSHOT_M_SERIAL]))
    return "has a serial that is no DER INTEGER";
  if (r->len[SNAPSHOT_M_ID] != SNAPSHOT_ID_BYTES)
    return "has an id of a wrong size";
  if (r->len[SNAPSHOT_M_LABEL] > SNAPSHOT_MAX_LABEL_BYTES || !is_c_string (r, SNAPSHOT_M_LABEL)
      || !snapshot_cbor_utf8_valid (r->rec + r->off[SNAPSHOT_M_LABEL], r->len[SNAPSHOT_M_LABEL]))
    return "has a label that is not UTF-8 text of at most 1024 bytes";
  if (r->len[SNAPSHOT_M_RECORD] != SNAPSHOT_RECORD_HEX_LEN || !is_c_string (r, SNAPSHOT_M_RECORD)
      || !is_lower_hex (r->rec + r->off[SNAPSHOT_M_RECORD], SNAPSHOT_RECORD_HEX_LEN))
    return "has a record fingerprint that is not 64 lowercase hex digits";
  const uint8_t *ec = r->rec + r->off[SNAPSHOT_M_EC_PARAMS];
  size_t ec_len = r->len[SNAPSHOT_M_EC_PARAMS];
  if (role == SETTLE_SNAP_CLIENT)
    {
      if (ec_len < 3 || ec_len > SNAPSHOT_MAX_EC_PARAMS_BYTES || ec[0] != 0x06 || ec[1] >= 0x80
          || (size_t) ec[1] + 2 != ec_len)
        return "is a client identity without the DER OID of its curve";
      if (n_scope != 0)
        return "is a client identity with a scope";
    }
  else if (ec_len != 0)
    return "has ec_params but is no client identity";
  (void) n_names;
  size_t kind_len = r->len[SNAPSHOT_M_KIND];
  if (kind_len > 0)
    {
      const char *kind = (const char *) r->rec + r->off[SNAPSHOT_M_KIND];
      if (kind_len > SNAPSHOT_MAX_KIND_BYTES || !is_c_string (r, SNAPSHOT_M_KIND)
          || !snapshot_cbor_utf8_valid ((const uint8_t *) kind, kind_len))
        return "has a kind that is not UTF-8 text of at most 32 bytes";
      const char *why = snapshot_kind_refusal (kind, kind_len);
      if (why != NULL)
        return why;
    }
  return NULL;
}

static settle_bytes
field_bytes (const record_view *r, int f)
{
  settle_bytes b = { r->rec + r->off[f], r->len[f] };
  return b;
}

/* Checks entry `index` and fills m->entries[index]; returns 0 or -1. */
static int
materialize (const settle_snapshot *snap, size_t index)
{
  struct snapshot_mapped *m = snap->mapped;
  const uint8_t *slot = m->data + m->entries_off + index * SNAPSHOT_MAPPED_ENTRY;
  uint64_t off = rd64 (slot);
  uint32_t len = rd32 (slot + 8);
  if (len < SNAPSHOT_MAPPED_RECORD_FIXED + 8 || len > SNAPSHOT_MAPPED_MAX_RECORD
      || off < SNAPSHOT_MAPPED_HEADER || off > m->len || len > m->len - off)
    {
      refuse (snap, index, "its record lies outside the file.");
      return -1;
    }
  record_view r;
  r.rec = m->data + off;
  r.data_len = len - 8;
  if (rd64 (r.rec + r.data_len) != snapshot_checksum (r.rec, r.data_len))
    {
      refuse (snap, index, "its record fails its checksum.");
      return -1;
    }
  for (int f = 0; f < SNAPSHOT_M_COUNT; f++)
    {
      r.off[f] = rd32 (r.rec + 92 + 8 * f);
      r.len[f] = rd32 (r.rec + 96 + 8 * f);
    }
  uint32_t role = rd32 (r.rec), n_scope = rd32 (r.rec + 4), n_names = rd32 (r.rec + 8);
  const char *why = check_record (&r, role, n_scope, n_names);
  const char **ptrs = NULL;
  if (why == NULL && (n_scope > SNAPSHOT_MAX_NAMES_PER_ENTRY || n_names > SNAPSHOT_MAX_NAMES_PER_ENTRY))
    why = "has too many names";
  if (why == NULL)
    {
      ptrs = malloc (((size_t) n_scope + n_names + 2) * sizeof *ptrs);
      if (ptrs == NULL)
        why = "cannot be read: out of memory";
    }
  if (why == NULL)
    why = check_names (&r, SNAPSHOT_M_SCOPE, n_scope, true, ptrs);
  if (why == NULL)
    why = check_names (&r, SNAPSHOT_M_NAMES, n_names, false, ptrs + n_scope + 1);
  if (why != NULL)
    {
      free (ptrs);
      char sentence[200];
      snprintf (sentence, sizeof sentence, "%s.", why);
      refuse (snap, index, sentence);
      return -1;
    }
  settle_snap_entry *e = &m->entries[index];
  e->role = (settle_snap_role) role;
  e->not_after = (int64_t) rd64 (r.rec + 16);
  memcpy (e->sha1, r.rec + 24, 20);
  memcpy (e->md5, r.rec + 44, 16);
  memcpy (e->sha256, r.rec + 60, 32);
  e->der = field_bytes (&r, SNAPSHOT_M_DER);
  e->subject = field_bytes (&r, SNAPSHOT_M_SUBJECT);
  e->issuer = field_bytes (&r, SNAPSHOT_M_ISSUER);
  e->serial = field_bytes (&r, SNAPSHOT_M_SERIAL);
  e->id = field_bytes (&r, SNAPSHOT_M_ID);
  e->ec_params = role == SETTLE_SNAP_CLIENT ? field_bytes (&r, SNAPSHOT_M_EC_PARAMS) : (settle_bytes) { NULL, 0 };
  e->label = (const char *) r.rec + r.off[SNAPSHOT_M_LABEL];
  e->record = (const char *) r.rec + r.off[SNAPSHOT_M_RECORD];
  e->kind = r.len[SNAPSHOT_M_KIND] > 0 ? (const char *) r.rec + r.off[SNAPSHOT_M_KIND] : NULL;
  e->scope = ptrs;
  e->names = ptrs + n_scope + 1;
  return 0;
}

const settle_snap_entry *
snapshot_mapped_entry (const settle_snapshot *snap, size_t index)
{
  struct snapshot_mapped *m = snap->mapped;
  if (index >= snap->count)
    return NULL;
  uint8_t state = atomic_load_explicit (&m->state[index], memory_order_acquire);
  if (state == ENTRY_UNCHECKED)
    {
      uint8_t expected = ENTRY_UNCHECKED;
      if (atomic_compare_exchange_strong (&m->state[index], &expected, ENTRY_BUSY))
        {
          state = materialize (snap, index) == 0 ? ENTRY_READY : ENTRY_REFUSED;
          atomic_store_explicit (&m->state[index], state, memory_order_release);
        }
      else
        state = expected;
    }
  while (state == ENTRY_BUSY)
    {
      sched_yield ();
      state = atomic_load_explicit (&m->state[index], memory_order_acquire);
    }
  return state == ENTRY_READY ? &m->entries[index] : NULL;
}

const settle_snap_entry *
snapshot_mapped_entries (const settle_snapshot *snap)
{
  return snap->mapped->entries;
}

const char *
snapshot_mapped_refusal (const settle_snapshot *snap)
{
  struct snapshot_mapped *m = snap->mapped;
  switch (atomic_load (&m->refusal_taken))
    {
    case 0:
      return NULL;
    case 1:
      return "an entry of index.snap was refused";   /* its sentence is being written */
    default:
      return m->refusal;
    }
}

const settle_snap_entry *
snapshot_mapped_probe (const settle_snapshot *snap, settle_snap_key key, uint32_t hash, size_t *cursor)
{
  struct snapshot_mapped *m = snap->mapped;
  if (m->slots == 0 || (unsigned) key >= SETTLE_SNAP_KEY_COUNT)
    return NULL;
  size_t mask = m->slots - 1;
  const uint8_t *table = m->data + m->tables_off + (size_t) key * m->slots * SNAPSHOT_MAPPED_SLOT;
  /* *cursor counts probe steps from the home slot already looked at. */
  for (size_t step = *cursor; step <= mask; step++)
    {
      const uint8_t *slot = table + ((hash + step) & mask) * SNAPSHOT_MAPPED_SLOT;
      uint32_t entry = rd32 (slot + 4);
      if (entry == 0)
        break;
      if (rd32 (slot) != hash || entry > snap->count)
        continue;
      const settle_snap_entry *e = snapshot_mapped_entry (snap, entry - 1);
      if (e != NULL)
        {
          *cursor = step + 1;
          return e;
        }
    }
  *cursor = mask + 1;
  return NULL;
}
