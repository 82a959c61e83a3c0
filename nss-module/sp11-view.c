/* sp11-view.c: building the object list and the lookup index of one snapshot. */
#include "sp11-view.h"

#include <stdlib.h>
#include <string.h>

#include "sp11-attrs.h"

/* A peer with more names than this gets pinned assertions for the first ones
 * only; the certificate and trust objects, which browsers use, are complete. */
#define SP11_MAX_PINS_PER_PEER 64u

/* Handles: view tag above, object number (1-based) below. */
#define SP11_INDEX_BITS (sizeof (CK_ULONG) >= 8 ? 32u : 24u)
#define SP11_INDEX_MASK ((((CK_ULONG) 1) << SP11_INDEX_BITS) - 1u)

/* The attributes lookups may be served from the index, most selective first:
 * sp11_view_find uses the first one the template names. */
static const CK_ATTRIBUTE_TYPE sp11_indexed[] = {
  CKA_VALUE, CKA_SERIAL_NUMBER, CKA_CERT_SHA1_HASH, SP11_CKA_HASH_OF_CERTIFICATE,
  SP11_CKA_X_CERTIFICATE_VALUE, CKA_ID, CKA_SUBJECT, SP11_CKA_X_PEER, CKA_ISSUER,
  CKA_LABEL, CKA_CLASS,
};
#define SP11_N_INDEXED (sizeof sp11_indexed / sizeof sp11_indexed[0])

typedef struct {
  uint64_t hash;
  uint32_t object; /* index into objects */
  uint32_t next;   /* next link in the bucket + 1, 0 ends */
} sp11_link;

struct sp11_view {
  settle_snapshot *snap; /* owned, may be NULL */
  uint32_t tag;
  sp11_object *objects;  /* owned */
  size_t n_objects;
  uint32_t *buckets;     /* owned: first link + 1, 0 = empty */
  size_t n_buckets;      /* a power of two */
  sp11_link *links;      /* owned */
  size_t n_links;
};

static uint64_t
sp11_hash_key (CK_ATTRIBUTE_TYPE type, const void *data, CK_ULONG len)
{
  /* FNV-1a: the keys are snapshot data, written by the helper. */
  uint64_t h = 0xcbf29ce484222325ull;
  const uint8_t *p = (const uint8_t *) &type;
  for (size_t i = 0; i < sizeof type; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  p = data;
  for (CK_ULONG i = 0; i < len; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static size_t
sp11_count_names (const char *const *names)
{
  size_t n = 0;
  while (names != NULL && names[n] != NULL && n < SP11_MAX_PINS_PER_PEER)
    n++;
  return n;
}

static size_t
sp11_objects_of_entry (const settle_snap_entry *e)
{
  if (e->role == SETTLE_SNAP_CLIENT)
    return 2; /* certificate, private key */
  size_t n = 3; /* certificate, NSS trust, PKCS#11 trust */
  if (e->role == SETTLE_SNAP_ROOT)
    n += 1;
  else if (e->role == SETTLE_SNAP_PEER)
    n += sp11_count_names (e->names);
  return n;
}

static sp11_object *
sp11_add_object (sp11_view *view, sp11_obj_kind kind, const settle_snap_entry *e, const char *peer)
{
  sp11_object *obj = &view->objects[view->n_objects++];
  obj->kind = kind;
  obj->entry = e;
  obj->peer = peer;
  return obj;
}

static void
sp11_add_entry_objects (sp11_view *view, const settle_snap_entry *e)
{
  if (e->role == SETTLE_SNAP_CLIENT)
    {
      /* No trust objects: NSS treats an identity as a user certificate
       * because a private key with the same CKA_ID sits beside it. */
      sp11_add_object (view, SP11_OBJ_CERTIFICATE, e, NULL);
      sp11_add_object (view, SP11_OBJ_PRIVATE_KEY, e, NULL);
      return;
    }
  sp11_add_object (view, SP11_OBJ_CERTIFICATE, e, NULL);
  sp11_add_object (view, SP11_OBJ_NSS_TRUST, e, NULL);
  sp11_add_object (view, SP11_OBJ_PKCS_TRUST, e, NULL);
  if (e->role == SETTLE_SNAP_ROOT)
    sp11_add_object (view, SP11_OBJ_ASSERTION, e, NULL);
  else if (e->role == SETTLE_SNAP_PEER)
    for (size_t i = 0; i < sp11_count_names (e->names); i++)
      sp11_add_object (view, SP11_OBJ_ASSERTION, e, e->names[i]);
}

static int
sp11_build_objects (sp11_view *view)
{
  size_t entries = view->snap ? settle_snapshot_count (view->snap) : 0;
  size_t total = 0;
  for (size_t i = 0; i < entries; i++)
    total += sp11_objects_of_entry (settle_snapshot_entry (view->snap, i));
  if (total >= SP11_INDEX_MASK)
    return -1;
  view->objects = calloc (total ? total : 1, sizeof *view->objects);
  if (view->objects == NULL)
    return -1;
  for (size_t i = 0; i < entries; i++)
    sp11_add_entry_objects (view, settle_snapshot_entry (view->snap, i));
  return 0;
}

static void
sp11_index_insert (sp11_view *view, uint64_t hash, uint32_t object)
{
  size_t b = (size_t) hash & (view->n_buckets - 1);
  sp11_link *link = &view->links[view->n_links];
  link->hash = hash;
  link->object = object;
  link->next = view->buckets[b];
  view->buckets[b] = (uint32_t) ++view->n_links;
}

static int
sp11_build_index (sp11_view *view)
{
  size_t max_links = view->n_objects * SP11_N_INDEXED;
  view->n_buckets = 64;
  while (view->n_buckets < max_links)
    view->n_buckets *= 2;
  view->buckets = calloc (view->n_buckets, sizeof *view->buckets);
  view->links = calloc (max_links ? max_links : 1, sizeof *view->links);
  if (view->buckets == NULL || view->links == NULL)
    return -1;
  for (size_t i = 0; i < view->n_objects; i++)
    for (size_t k = 0; k < SP11_N_INDEXED; k++)
      {
        sp11_value v;
        if (sp11_attr_get (&view->objects[i], sp11_indexed[k], &v))
          sp11_index_insert (view, sp11_hash_key (sp11_indexed[k], v.data, v.len), (uint32_t) i);
      }
  return 0;
}

sp11_view *
sp11_view_new (settle_snapshot *snap, uint32_t tag)
{
  sp11_view *view = calloc (1, sizeof *view);
  if (view == NULL)
    {
      settle_snapshot_free (snap);
      return NULL;
    }
  view->snap = snap;
  view->tag = tag;
  if (sp11_build_objects (view) < 0 || sp11_build_index (view) < 0)
    {
      sp11_view_free (view);
      return NULL;
    }
  return view;
}

void
sp11_view_free (sp11_view *view)
{
  if (view == NULL)
    return;
  free (view->links);
  free (view->buckets);
  free (view->objects);
  if (view->snap)
    settle_snapshot_free (view->snap);
  free (view);
}

uint32_t
sp11_view_tag (const sp11_view *view)
{
  return view->tag;
}

CK_OBJECT_HANDLE
sp11_view_handle (const sp11_view *view, size_t index)
{
  CK_ULONG tag = (CK_ULONG) view->tag & (CK_ULONG) (~(CK_ULONG) 0 >> SP11_INDEX_BITS);
  return (tag << SP11_INDEX_BITS) | (CK_ULONG) (index + 1);
}

CK_SLOT_ID
sp11_object_slot (const sp11_object *obj)
{
  return obj->entry->role == SETTLE_SNAP_CLIENT ? SP11_SLOT_IDENTITIES : SP11_SLOT_TRUST;
}

const sp11_object *
sp11_view_object (const sp11_view *view, CK_SLOT_ID slot, CK_OBJECT_HANDLE handle)
{
  CK_ULONG number = handle & SP11_INDEX_MASK;
  if (number == 0 || number > view->n_objects)
    return NULL;
  if (sp11_view_handle (view, number - 1) != handle)
    return NULL;
  const sp11_object *obj = &view->objects[number - 1];
  return sp11_object_slot (obj) == slot ? obj : NULL;
}

static const CK_ATTRIBUTE *
sp11_pick_key (const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  for (size_t k = 0; k < SP11_N_INDEXED; k++)
    for (CK_ULONG i = 0; i < count; i++)
      if (tmpl[i].type == sp11_indexed[k] && (tmpl[i].pValue != NULL || tmpl[i].ulValueLen == 0))
        return &tmpl[i];
  return NULL;
}

static int
sp11_find_by_key (const sp11_view *view, CK_SLOT_ID slot, const CK_ATTRIBUTE *key,
                  const CK_ATTRIBUTE *tmpl, CK_ULONG count, sp11_emit_fn emit, void *user)
{
  uint64_t hash = sp11_hash_key (key->type, key->pValue, key->ulValueLen);
  uint32_t next = view->buckets[(size_t) hash & (view->n_buckets - 1)];
  while (next != 0)
    {
      const sp11_link *link = &view->links[next - 1];
      next = link->next;
      if (link->hash != hash)
        continue;
      const sp11_object *obj = &view->objects[link->object];
      if (sp11_object_slot (obj) != slot || !sp11_attr_match (obj, tmpl, count))
        continue;
      int stop = emit (user, sp11_view_handle (view, link->object));
      if (stop)
        return stop;
    }
  return 0;
}

int
sp11_view_find (const sp11_view *view, CK_SLOT_ID slot, const CK_ATTRIBUTE *tmpl, CK_ULONG count,
                sp11_emit_fn emit, void *user)
{
  const CK_ATTRIBUTE *key = sp11_pick_key (tmpl, count);
  if (key != NULL)
    return sp11_find_by_key (view, slot, key, tmpl, count, emit, user);
  for (size_t i = 0; i < view->n_objects; i++)
    if (sp11_object_slot (&view->objects[i]) == slot
        && sp11_attr_match (&view->objects[i], tmpl, count))
      {
        int stop = emit (user, sp11_view_handle (view, i));
        if (stop)
          return stop;
      }
  return 0;
}
