/* snapshot-mapped-write.c: encoding index.snap from a loaded snapshot
 * (settle_snapshot_encode_mapped; format in snapshot-mapped.h and
 * docs/snapshot.md).
 *
 * Plain C in the reader's library so that the writer, the tests and the
 * fuzz harness encode alike.  Input is a snapshot the reader accepted
 * (normally the one decoded from the index.cbor just written), so every
 * field already has its checked size; the output is refused by nothing
 * the mapped reader checks. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot-arena.h"
#include "snapshot-hash.h"
#include "snapshot-mapped.h"

static void
wr32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
wr64 (uint8_t *p, uint64_t v)
{
  wr32 (p, (uint32_t) v);
  wr32 (p + 4, (uint32_t) (v >> 32));
}

static size_t
list_bytes (const char *const *list, uint32_t *count)
{
  size_t n = 0;
  *count = 0;
  for (size_t i = 0; list != NULL && list[i] != NULL; i++, (*count)++)
    n += strlen (list[i]) + 1;
  return n;
}

/* Where part lies inside der, or SIZE_MAX. */
static size_t
inside (settle_bytes der, settle_bytes part)
{
  if (part.data >= der.data && part.len <= der.len && part.data + part.len <= der.data + der.len)
    return (size_t) (part.data - der.data);
  return SIZE_MAX;
}

static size_t
record_size (const settle_snap_entry *e)
{
  uint32_t n;
  size_t size = SNAPSHOT_MAPPED_RECORD_FIXED + e->der.len + e->id.len + strlen (e->label) + 1
                + strlen (e->record) + 1 + e->ec_params.len + list_bytes (e->scope, &n)
                + list_bytes (e->names, &n) + (e->kind != NULL && e->kind[0] != '\0' ? strlen (e->kind) + 1 : 0) + 8;
  const settle_bytes parts[3] = { e->subject, e->issuer, e->serial };
  for (int i = 0; i < 3; i++)
    if (inside (e->der, parts[i]) == SIZE_MAX)
      size += parts[i].len;
  return size;
}

typedef struct {
  uint8_t *rec;
  size_t at;
} record_out;

static void
put_field (record_out *o, int field, const void *data, size_t len)
{
  wr32 (o->rec + 92 + 8 * field, (uint32_t) o->at);
  wr32 (o->rec + 96 + 8 * field, (uint32_t) len);
  if (len > 0)
    memcpy (o->rec + o->at, data, len);
  o->at += len;
}

static void
put_part (record_out *o, int field, uint32_t der_at, settle_bytes der, settle_bytes part)
{
  size_t at = inside (der, part);
  if (at == SIZE_MAX)
    {
      put_field (o, field, part.data, part.len);
      return;
    }
  wr32 (o->rec + 92 + 8 * field, (uint32_t) (der_at + at));
  wr32 (o->rec + 96 + 8 * field, (uint32_t) part.len);
}

static void
put_text (record_out *o, int field, const char *s)
{
  size_t n = strlen (s);
  put_field (o, field, s, n);
  o->rec[o->at++] = '\0';
}

static void
put_list (record_out *o, int field, const char *const *list)
{
  size_t start = o->at;
  for (size_t i = 0; list != NULL && list[i] != NULL; i++)
    {
      size_t n = strlen (list[i]) + 1;
      memcpy (o->rec + o->at, list[i], n);
      o->at += n;
    }
  wr32 (o->rec + 92 + 8 * field, (uint32_t) start);
  wr32 (o->rec + 96 + 8 * field, (uint32_t) (o->at - start));
}

static void
encode_record (uint8_t *rec, size_t size, const settle_snap_entry *e)
{
  uint32_t n_scope, n_names;
  list_bytes (e->scope, &n_scope);
  list_bytes (e->names, &n_names);
  wr32 (rec, (uint32_t) e->role);
  wr32 (rec + 4, n_scope);
  wr32 (rec + 8, n_names);
  wr64 (rec + 16, (uint64_t) e->not_after);
  memcpy (rec + 24, e->sha1, 20);
  memcpy (rec + 44, e->md5, 16);
  memcpy (rec + 60, e->sha256, 32);
  record_out o = { rec, SNAPSHOT_MAPPED_RECORD_FIXED };
  uint32_t der_at = (uint32_t) o.at;
  put_field (&o, SNAPSHOT_M_DER, e->der.data, e->der.len);
  put_part (&o, SNAPSHOT_M_SUBJECT, der_at, e->der, e->subject);
  put_part (&o, SNAPSHOT_M_ISSUER, der_at, e->der, e->issuer);
  put_part (&o, SNAPSHOT_M_SERIAL, der_at, e->der, e->serial);
  put_field (&o, SNAPSHOT_M_ID, e->id.data, e->id.len);
  put_text (&o, SNAPSHOT_M_LABEL, e->label);
  put_text (&o, SNAPSHOT_M_RECORD, e->record);
  put_field (&o, SNAPSHOT_M_EC_PARAMS, e->ec_params.data, e->role == SETTLE_SNAP_CLIENT ? e->ec_params.len : 0);
  put_list (&o, SNAPSHOT_M_SCOPE, e->scope);
  put_list (&o, SNAPSHOT_M_NAMES, e->names);
  if (e->kind != NULL && e->kind[0] != '\0')
    put_text (&o, SNAPSHOT_M_KIND, e->kind);
  else
    put_field (&o, SNAPSHOT_M_KIND, NULL, 0);
  wr64 (rec + size - 8, snapshot_checksum (rec, size - 8));
}

static uint32_t
hash_of (const settle_snap_entry *e, settle_snap_key key)
{
  switch (key)
    {
    case SETTLE_SNAP_KEY_SUBJECT:
      return snapshot_key_hash (key, e->subject.data, e->subject.len, NULL, 0);
    case SETTLE_SNAP_KEY_ISSUER_SERIAL:
      return snapshot_key_hash (key, e->issuer.data, e->issuer.len, e->serial.data, e->serial.len);
    case SETTLE_SNAP_KEY_DER:
      return snapshot_key_hash (key, e->der.data, e->der.len, NULL, 0);
    case SETTLE_SNAP_KEY_SHA1:
      return snapshot_key_hash (key, e->sha1, sizeof e->sha1, NULL, 0);
    case SETTLE_SNAP_KEY_ID:
      return snapshot_key_hash (key, e->id.data, e->id.len, NULL, 0);
    case SETTLE_SNAP_KEY_SHA256:
      return snapshot_key_hash (key, e->sha256, sizeof e->sha256, NULL, 0);
    case SETTLE_SNAP_KEY_LABEL:
    default:
      return snapshot_key_hash (key, (const uint8_t *) e->label, strlen (e->label), NULL, 0);
    }
}

int
settle_snapshot_encode_mapped (const settle_snapshot *snap, uint64_t written, uint64_t cbor_size,
                               struct timespec cbor_mtime, uint8_t **out, size_t *out_len,
                               char *errbuf, size_t errlen)
{
  if (out == NULL || out_len == NULL || snap == NULL)
    return -1;
  *out = NULL;
  *out_len = 0;
  size_t count = settle_snapshot_count (snap);
  const settle_snap_entry **entries = calloc (count ? count : 1, sizeof *entries);  /* owned */
  if (entries == NULL)
    {
      if (errbuf != NULL && errlen > 0)
        snprintf (errbuf, errlen, "out of memory while encoding index.snap.");
      return -1;
    }
  for (size_t i = 0; i < count; i++)
    if ((entries[i] = settle_snapshot_entry (snap, i)) == NULL)
      {
        free (entries);
        if (errbuf != NULL && errlen > 0)
          snprintf (errbuf, errlen, "entry %zu of the snapshot was refused.", i);
        return -1;
      }
  int rc = settle_snapshot_encode_mapped_entries (entries, count, settle_snapshot_generation (snap), written,
                                                  cbor_size, cbor_mtime, out, out_len, errbuf, errlen);
  free (entries);
  return rc;
}

int
settle_snapshot_encode_mapped_entries (const settle_snap_entry *const *entries, size_t count, uint64_t generation,
                                       uint64_t written, uint64_t cbor_size, struct timespec cbor_mtime,
                                       uint8_t **out, size_t *out_len, char *errbuf, size_t errlen)
{
  if (out == NULL || out_len == NULL || (entries == NULL && count > 0))
    return -1;
  *out = NULL;
  *out_len = 0;
  if (count > SETTLE_SNAPSHOT_MAX_ENTRIES)
    {
      if (errbuf != NULL && errlen > 0)
        snprintf (errbuf, errlen, "index.snap would hold %zu entries, more than the limit.", count);
      return -1;
    }
  size_t slots = count == 0 ? 0 : 4;
  while (slots < 2 * count)
    slots *= 2;
  size_t entries_off = SNAPSHOT_MAPPED_HEADER;
  size_t tables_off = entries_off + count * SNAPSHOT_MAPPED_ENTRY;
  size_t total = tables_off + SETTLE_SNAP_KEY_COUNT * slots * SNAPSHOT_MAPPED_SLOT;
  for (size_t i = 0; i < count; i++)
    {
      const settle_snap_entry *e = entries[i];
      if (e == NULL)
        {
          if (errbuf != NULL && errlen > 0)
            snprintf (errbuf, errlen, "entry %zu of the snapshot was refused.", i);
          return -1;
        }
      total += record_size (e);
    }
  if (total > SETTLE_SNAPSHOT_MAX_BYTES)
    {
      if (errbuf != NULL && errlen > 0)
        snprintf (errbuf, errlen, "index.snap would be %zu bytes, more than the limit.", total);
      return -1;
    }
  uint8_t *buf = calloc (1, total);
  if (buf == NULL)
    {
      if (errbuf != NULL && errlen > 0)
        snprintf (errbuf, errlen, "out of memory while encoding index.snap.");
      return -1;
    }
  memcpy (buf, SNAPSHOT_MAPPED_MAGIC, 8);
  wr32 (buf + 8, SETTLE_SNAPSHOT_MAPPED_VERSION);
  wr32 (buf + 12, SNAPSHOT_MAPPED_HEADER);
  wr64 (buf + 16, total);
  wr64 (buf + 24, generation);
  wr64 (buf + 32, written);
  wr32 (buf + 40, (uint32_t) count);
  wr32 (buf + 44, (uint32_t) slots);
  wr64 (buf + 48, entries_off);
  wr64 (buf + 56, tables_off);
  wr64 (buf + 64, cbor_size);
  wr64 (buf + 72, (uint64_t) (int64_t) cbor_mtime.tv_sec);
  wr64 (buf + 80, (uint64_t) (int64_t) cbor_mtime.tv_nsec);
  wr64 (buf + 120, snapshot_checksum (buf, 120));

  size_t at = tables_off + SETTLE_SNAP_KEY_COUNT * slots * SNAPSHOT_MAPPED_SLOT;
  for (size_t i = 0; i < count; i++)
    {
      const settle_snap_entry *e = entries[i];
      size_t size = record_size (e);
      wr64 (buf + entries_off + i * SNAPSHOT_MAPPED_ENTRY, at);
      wr32 (buf + entries_off + i * SNAPSHOT_MAPPED_ENTRY + 8, (uint32_t) size);
      encode_record (buf + at, size, e);
      at += size;
      for (int k = 0; k < SETTLE_SNAP_KEY_COUNT; k++)
        {
          uint32_t h = hash_of (e, (settle_snap_key) k);
          uint8_t *table = buf + tables_off + (size_t) k * slots * SNAPSHOT_MAPPED_SLOT;
          size_t s = h & (slots - 1);
          while (table[s * SNAPSHOT_MAPPED_SLOT + 4] | table[s * SNAPSHOT_MAPPED_SLOT + 5]
                 | table[s * SNAPSHOT_MAPPED_SLOT + 6] | table[s * SNAPSHOT_MAPPED_SLOT + 7])
            s = (s + 1) & (slots - 1);
          wr32 (table + s * SNAPSHOT_MAPPED_SLOT, h);
          wr32 (table + s * SNAPSHOT_MAPPED_SLOT + 4, (uint32_t) (i + 1));
        }
    }
  *out = buf;
  *out_len = total;
  return 0;
}
