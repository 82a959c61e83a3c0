/* snapshot-arena.c: a loaded snapshot as one allocation
 * (snapshot-arena.h).
 *
 * Why one block: the module holds a snapshot in every browser process and
 * swaps it whenever the helper writes a new generation; one allocation
 * makes the swap one free(), lets no entry outlive the others, and keeps
 * a 10,000-anchor snapshot close to the size of its certificates. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot-arena.h"

static size_t
align_up (size_t n)
{
  size_t a = _Alignof (max_align_t);
  return (n + a - 1) / a * a;
}

static size_t
bytes_len (const cbor_item_t *item)
{
  return cbor_bytestring_length (item);
}

/* Where `part` sits inside `der`: subject, issuer and serial normally are
 * substrings of the certificate, and pointing into its copy instead of
 * storing them again saves a fifth of the memory per anchor. */
static size_t
offset_inside (const cbor_item_t *der, const cbor_item_t *part)
{
  const uint8_t *hay = cbor_bytestring_handle (der);
  const uint8_t *needle = cbor_bytestring_handle (part);
  const uint8_t *at = memmem (hay, cbor_bytestring_length (der), needle,
                              cbor_bytestring_length (part));
  return at == NULL ? SNAPSHOT_NOT_INSIDE_DER : (size_t) (at - hay);
}

void
snapshot_arena_measure (snapshot_entry_view *v, snapshot_arena_need *need)
{
  v->subject_at = offset_inside (v->f[SNAPSHOT_F_DER], v->f[SNAPSHOT_F_SUBJECT]);
  v->issuer_at = offset_inside (v->f[SNAPSHOT_F_DER], v->f[SNAPSHOT_F_ISSUER]);
  v->serial_at = offset_inside (v->f[SNAPSHOT_F_DER], v->f[SNAPSHOT_F_SERIAL]);
  need->bytes += bytes_len (v->f[SNAPSHOT_F_DER]) + bytes_len (v->f[SNAPSHOT_F_ID]);
  if (v->role == SETTLE_SNAP_CLIENT)
    need->bytes += bytes_len (v->ec_params);
  if (v->subject_at == SNAPSHOT_NOT_INSIDE_DER)
    need->bytes += bytes_len (v->f[SNAPSHOT_F_SUBJECT]);
  if (v->issuer_at == SNAPSHOT_NOT_INSIDE_DER)
    need->bytes += bytes_len (v->f[SNAPSHOT_F_ISSUER]);
  if (v->serial_at == SNAPSHOT_NOT_INSIDE_DER)
    need->bytes += bytes_len (v->f[SNAPSHOT_F_SERIAL]);
  need->bytes += cbor_string_length (v->f[SNAPSHOT_F_LABEL]) + 1 + SNAPSHOT_RECORD_HEX_LEN + 1;
  if (v->kind != NULL)
    need->bytes += cbor_string_length (v->kind) + 1;
  const cbor_item_t *lists[2] = { v->f[SNAPSHOT_F_SCOPE], v->f[SNAPSHOT_F_NAMES] };
  for (size_t l = 0; l < 2; l++)
    {
      need->pointers += cbor_array_size (lists[l]) + 1;
      for (size_t i = 0; i < cbor_array_size (lists[l]); i++)
        need->bytes += cbor_string_length (cbor_array_handle (lists[l])[i]) + 1;
    }
}

static const uint8_t *
arena_put (snapshot_arena_cursor *c, const void *data, size_t len)
{
  uint8_t *at = c->next_byte;
  memcpy (at, data, len);
  c->next_byte += len;
  return at;
}

static const char *
arena_put_text (snapshot_arena_cursor *c, const cbor_item_t *text)
{
  size_t n = cbor_string_length (text);
  uint8_t *at = c->next_byte;
  memcpy (at, cbor_string_handle (text), n);
  at[n] = '\0';
  c->next_byte += n + 1;
  return (const char *) at;
}

static const char *const *
arena_put_list (snapshot_arena_cursor *c, const cbor_item_t *list)
{
  const char **array = c->next_ptr;
  size_t n = cbor_array_size (list);
  for (size_t i = 0; i < n; i++)
    array[i] = arena_put_text (c, cbor_array_handle (list)[i]);
  array[n] = NULL;
  c->next_ptr += n + 1;
  return array;
}

static settle_bytes
arena_put_bytes (snapshot_arena_cursor *c, const cbor_item_t *item)
{
  settle_bytes b = { arena_put (c, cbor_bytestring_handle (item), bytes_len (item)), bytes_len (item) };
  return b;
}

static settle_bytes
part_of_der (snapshot_arena_cursor *c, const settle_bytes *der, const cbor_item_t *item, size_t at)
{
  if (at == SNAPSHOT_NOT_INSIDE_DER)
    return arena_put_bytes (c, item);
  settle_bytes b = { der->data + at, bytes_len (item) };
  return b;
}

void
snapshot_arena_copy_entry (const snapshot_entry_view *v, snapshot_arena_cursor *c, settle_snap_entry *e)
{
  e->role = v->role;
  e->der = arena_put_bytes (c, v->f[SNAPSHOT_F_DER]);
  e->subject = part_of_der (c, &e->der, v->f[SNAPSHOT_F_SUBJECT], v->subject_at);
  e->issuer = part_of_der (c, &e->der, v->f[SNAPSHOT_F_ISSUER], v->issuer_at);
  e->serial = part_of_der (c, &e->der, v->f[SNAPSHOT_F_SERIAL], v->serial_at);
  e->id = arena_put_bytes (c, v->f[SNAPSHOT_F_ID]);
  if (v->role == SETTLE_SNAP_CLIENT)
    e->ec_params = arena_put_bytes (c, v->ec_params);
  memcpy (e->sha1, cbor_bytestring_handle (v->f[SNAPSHOT_F_SHA1]), sizeof e->sha1);
  memcpy (e->md5, cbor_bytestring_handle (v->f[SNAPSHOT_F_MD5]), sizeof e->md5);
  memcpy (e->sha256, cbor_bytestring_handle (v->f[SNAPSHOT_F_SHA256]), sizeof e->sha256);
  e->label = arena_put_text (c, v->f[SNAPSHOT_F_LABEL]);
  e->record = arena_put_text (c, v->f[SNAPSHOT_F_RECORD]);
  e->kind = v->kind != NULL ? arena_put_text (c, v->kind) : NULL;
  e->scope = arena_put_list (c, v->f[SNAPSHOT_F_SCOPE]);
  e->names = arena_put_list (c, v->f[SNAPSHOT_F_NAMES]);
  e->not_after = v->not_after;
}

settle_snapshot *
snapshot_arena_new (size_t count, const snapshot_arena_need *need, snapshot_arena_cursor *cursor)
{
  size_t slots = snapshot_index_slots_for (count);
  size_t off_entries = align_up (sizeof (settle_snapshot));
  size_t off_index = off_entries + align_up (count * sizeof (settle_snap_entry));
  size_t off_ptrs = off_index + align_up (slots * sizeof (snapshot_index_slot));
  size_t off_bytes = off_ptrs + align_up (need->pointers * sizeof (const char *));
  uint8_t *arena = calloc (1, off_bytes + need->bytes);
  if (arena == NULL)
    return NULL;
  settle_snapshot *snap = (settle_snapshot *) arena;
  snap->count = count;
  snap->entries = (settle_snap_entry *) (arena + off_entries);
  if (slots > 0)
    {
      snap->by_subject.mask = slots - 1;
      snap->by_subject.slots = (snapshot_index_slot *) (arena + off_index);
    }
  cursor->next_ptr = (const char **) (arena + off_ptrs);
  cursor->next_byte = arena + off_bytes;
  return snap;
}
