/* sp11-view.c: one snapshot as PKCS#11 objects, checked entry by entry
 * as they are served (sp11-view.h).  Lookups go through the snapshot's own
 * hash tables (index.snap, docs/snapshot.md); opening a view costs one
 * zeroed array, whatever the number of entries. */
#include "sp11-view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settle-anchor-rule.h"
#include "sp11-attrs.h"

/* A peer with more names than this gets pinned assertions for the first ones
 * only; the certificate and trust objects, which browsers use, are complete. */
#define SP11_MAX_PINS_PER_PEER 64u

/* Handles: view tag above, object number (1-based) below. */
#define SP11_INDEX_BITS (sizeof (CK_ULONG) >= 8 ? 32u : 24u)
#define SP11_INDEX_MASK ((((CK_ULONG) 1) << SP11_INDEX_BITS) - 1u)

/* Every entry owns a fixed range of object numbers (certificate, trust
 * objects, one assertion per pinned name), so a handle is computed from
 * the entry's position without building anything. */
#define SP11_OBJS_PER_ENTRY (4u + SP11_MAX_PINS_PER_PEER)

/* What the module keeps of entry i: served[i], 4 bytes in one dense array
 * indexed by entry number.  The objects themselves are not stored: object
 * j of an entry is computed from the entry and j (sp11_entry_object).  So
 * after the snapshot's hash probe and key comparison, a warm search reads
 * one small record here and the entry the reader just compared, and
 * allocates nothing; at 20,000 entries the array is 80 KB, where an array
 * of pointers to heap blocks of objects scattered a search over two more
 * cache lines (docs/performance.md, "PKCS#11 module inside NSS"). */
enum { SP11_UNCHECKED = 0, SP11_SERVED, SP11_REFUSED };

typedef struct {
  uint8_t state;     /* SP11_UNCHECKED until first served, then SERVED or REFUSED */
  uint8_t n_objects; /* when SERVED: the entry's objects, <= SP11_OBJS_PER_ENTRY */
  uint8_t slot;      /* when SERVED: the slot all of them live in */
  uint8_t role;      /* when SERVED: the entry's settle_snap_role, copied so
                      * that telling its objects apart does not read the
                      * entry's first cache line (the reader's key
                      * comparison read another one) */
} sp11_served;

struct sp11_view {
  settle_snapshot *snap;        /* owned, may be NULL */
  uint32_t tag;
  size_t count;                 /* entries */
  sp11_served *served;          /* owned, one per entry, zeroed: all unchecked */
  int condemned;                /* an entry was refused: nothing more is served */
};

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

static CK_SLOT_ID
sp11_entry_slot (const settle_snap_entry *e)
{
  return e->role == SETTLE_SNAP_CLIENT ? SP11_SLOT_IDENTITIES : SP11_SLOT_TRUST;
}

/* Object `at` (below r->n_objects) of a served entry: a client
 * identity is its certificate and private key (no trust objects: NSS
 * treats it as a user certificate because a private key with the same
 * CKA_ID sits beside it); anything else is its certificate, NSS trust,
 * PKCS#11 trust, then the anchored assertion of a root or one pinned
 * assertion per name of a peer. */
static sp11_object
sp11_entry_object (const settle_snap_entry *e, const sp11_served *r, size_t at)
{
  sp11_object obj = { SP11_OBJ_CERTIFICATE, e, NULL };
  if (r->role == SETTLE_SNAP_CLIENT)
    obj.kind = at == 0 ? SP11_OBJ_CERTIFICATE : SP11_OBJ_PRIVATE_KEY;
  else if (at == 1)
    obj.kind = SP11_OBJ_NSS_TRUST;
  else if (at == 2)
    obj.kind = SP11_OBJ_PKCS_TRUST;
  else if (at >= 3)
    {
      obj.kind = SP11_OBJ_ASSERTION;
      obj.peer = r->role == SETTLE_SNAP_PEER ? e->names[at - 3] : NULL;
    }
  return obj;
}

/* Refuses entry `index` and with it the whole view: the writer never
 * publishes what the reader or the scope rule refuses, so the snapshot was
 * altered outside settle (settle-anchor-rule.h); what was served before
 * cannot be taken back, nothing more is served. */
static void
sp11_condemn (sp11_view *view, size_t index, const char *why)
{
  view->served[index].state = SP11_REFUSED;
  if (!view->condemned)
    fprintf (stderr, "settle-pkcs11: serving no more anchors: the trust snapshot was altered "
             "outside settle: %s\n", why);
  view->condemned = 1;
}

/* Entry `index` with its record, checked on first use (the reader's
 * checks, then the scope rule); NULL when it, or any entry before, was
 * refused.  `e`, when not NULL, is that entry as the reader just returned
 * it (saves asking again).  Called under the module lock, like every view
 * function. */
static const settle_snap_entry *
sp11_serve (sp11_view *view, size_t index, const settle_snap_entry *e, const sp11_served **record)
{
  if (view->condemned || index >= view->count)
    return NULL;
  sp11_served *r = &view->served[index];
  if (r->state == SP11_REFUSED)
    return NULL;
  if (e == NULL)
    e = settle_snapshot_entry (view->snap, index);
  if (r->state == SP11_SERVED && e != NULL)
    {
      *record = r;
      return e;
    }
  char why[256] = "";
  if (e == NULL)
    {
      const char *refusal = settle_snapshot_refusal (view->snap);
      sp11_condemn (view, index, refusal != NULL ? refusal : "an entry was refused");
      return NULL;
    }
  if (settle_snapshot_is_mapped (view->snap) && !settle_anchor_rule_check_entry (e, why, sizeof why))
    {
      /* A snapshot read from index.cbor was checked whole when it was
       * loaded (sp11-watch.c); a mapped one is checked entry by entry. */
      sp11_condemn (view, index, why);
      return NULL;
    }
  r->n_objects = (uint8_t) sp11_objects_of_entry (e);
  r->slot = (uint8_t) sp11_entry_slot (e);
  r->role = (uint8_t) e->role;
  r->state = SP11_SERVED;
  *record = r;
  return e;
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
  view->count = snap ? settle_snapshot_count (snap) : 0;
  if (view->count > 0)
    {
      /* calloc: untouched pages cost nothing, so opening stays
       * independent of the number of entries. */
      view->served = calloc (view->count, sizeof *view->served);
    }
  if (view->count >= SP11_INDEX_MASK / SP11_OBJS_PER_ENTRY
      || (view->count > 0 && view->served == NULL))
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
  free (view->served);
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

int
sp11_view_object (const sp11_view *view, CK_SLOT_ID slot, CK_OBJECT_HANDLE handle, sp11_object *out)
{
  CK_ULONG number = handle & SP11_INDEX_MASK;
  if (number == 0 || number > view->count * SP11_OBJS_PER_ENTRY)
    return 0;
  if (sp11_view_handle (view, number - 1) != handle)
    return 0;
  size_t entry = (number - 1) / SP11_OBJS_PER_ENTRY, at = (number - 1) % SP11_OBJS_PER_ENTRY;
  /* The view is the module's, changed only under its lock: serving an
   * entry for the first time fills its record in. */
  const sp11_served *r;
  const settle_snap_entry *e = sp11_serve ((sp11_view *) view, entry, NULL, &r);
  if (e == NULL || at >= r->n_objects || r->slot != slot)
    return 0;
  *out = sp11_entry_object (e, r, at);
  return 1;
}

/* Emits the objects of entry `index` (`e` when the caller has it, else
 * NULL) in `slot` that match the template. */
static int
sp11_emit_entry (sp11_view *view, size_t index, const settle_snap_entry *e, CK_SLOT_ID slot,
                 const CK_ATTRIBUTE *tmpl, CK_ULONG count, sp11_emit_fn emit, void *user)
{
  const sp11_served *r;
  e = sp11_serve (view, index, e, &r);
  if (e == NULL || r->slot != slot)
    return 0;
  for (size_t j = 0; j < r->n_objects; j++)
    {
      sp11_object obj = sp11_entry_object (e, r, j);
      if (sp11_attr_match (&obj, tmpl, count))
        {
          int stop = emit (user, sp11_view_handle (view, index * SP11_OBJS_PER_ENTRY + j));
          if (stop)
            return stop;
        }
    }
  return 0;
}

static const CK_ATTRIBUTE *
sp11_find_attr (const CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_ATTRIBUTE_TYPE type)
{
  for (CK_ULONG i = 0; i < count; i++)
    if (tmpl[i].type == type && (tmpl[i].pValue != NULL || tmpl[i].ulValueLen == 0))
      return &tmpl[i];
  return NULL;
}

/* The template attributes the snapshot's hash tables answer, most
 * selective first: sp11_view_find uses the first one the template names. */
static const struct {
  CK_ATTRIBUTE_TYPE type;
  settle_snap_key key;
} sp11_keyed[] = {
  { CKA_VALUE, SETTLE_SNAP_KEY_DER },
  { SP11_CKA_X_CERTIFICATE_VALUE, SETTLE_SNAP_KEY_DER },
  { CKA_CERT_SHA1_HASH, SETTLE_SNAP_KEY_SHA1 },
  { SP11_CKA_HASH_OF_CERTIFICATE, SETTLE_SNAP_KEY_SHA256 },
  { CKA_ID, SETTLE_SNAP_KEY_ID },
  { CKA_SUBJECT, SETTLE_SNAP_KEY_SUBJECT },
  { CKA_LABEL, SETTLE_SNAP_KEY_LABEL },
};

/* Emits every match among the entries the snapshot's table returns for
 * the key (each entry is in each table once, so nothing is emitted
 * twice); issuer and serial go together or not at all. */
static int
sp11_find_keyed (sp11_view *view, CK_SLOT_ID slot, const CK_ATTRIBUTE *tmpl, CK_ULONG count,
                 const CK_ATTRIBUTE *issuer, const CK_ATTRIBUTE *serial, const CK_ATTRIBUTE *key,
                 settle_snap_key kind, sp11_emit_fn emit, void *user)
{
  size_t cursor = 0;
  for (;;)
    {
      const settle_snap_entry *e;
      if (issuer != NULL)
        e = settle_snapshot_find_issuer_serial (view->snap, issuer->pValue, issuer->ulValueLen,
                                                serial->pValue, serial->ulValueLen, &cursor);
      else
        e = settle_snapshot_find (view->snap, kind, key->pValue, key->ulValueLen, &cursor);
      if (e == NULL)
        return 0;
      size_t index = settle_snapshot_index_of (view->snap, e);
      if (index == SIZE_MAX)
        continue;
      int stop = sp11_emit_entry (view, index, e, slot, tmpl, count, emit, user);
      if (stop)
        return stop;
    }
}

/* 0 when no object of the token can match: a class it never serves, or
 * CKA_TOKEN false.  NSS asks for such (its builtin root list, profiles)
 * when it loads a module; answering them without a scan keeps its start
 * independent of the number of entries. */
static int
sp11_template_may_match (const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  const CK_ATTRIBUTE *cls = sp11_find_attr (tmpl, count, CKA_CLASS);
  if (cls != NULL)
    {
      CK_OBJECT_CLASS c;
      if (cls->ulValueLen != sizeof c)
        return 0;
      memcpy (&c, cls->pValue, sizeof c);
      if (c != CKO_CERTIFICATE && c != CKO_NSS_TRUST && c != SP11_CKO_TRUST
          && c != SP11_CKO_X_TRUST_ASSERTION && c != CKO_PRIVATE_KEY)
        return 0;
    }
  const CK_ATTRIBUTE *token = sp11_find_attr (tmpl, count, CKA_TOKEN);
  if (token != NULL && (token->ulValueLen != sizeof (CK_BBOOL) || *(const CK_BBOOL *) token->pValue != CK_TRUE))
    return 0;
  return 1;
}

int
sp11_view_find (const sp11_view *cview, CK_SLOT_ID slot, const CK_ATTRIBUTE *tmpl, CK_ULONG count,
                sp11_emit_fn emit, void *user)
{
  sp11_view *view = (sp11_view *) cview;   /* serving fills entries in (sp11_serve) */
  if (view->condemned || view->count == 0 || !sp11_template_may_match (tmpl, count))
    return 0;
  for (size_t k = 0; k < sizeof sp11_keyed / sizeof sp11_keyed[0]; k++)
    {
      const CK_ATTRIBUTE *key = sp11_find_attr (tmpl, count, sp11_keyed[k].type);
      if (key != NULL)
        return sp11_find_keyed (view, slot, tmpl, count, NULL, NULL, key, sp11_keyed[k].key, emit, user);
    }
  const CK_ATTRIBUTE *issuer = sp11_find_attr (tmpl, count, CKA_ISSUER);
  const CK_ATTRIBUTE *serial = sp11_find_attr (tmpl, count, CKA_SERIAL_NUMBER);
  if (issuer != NULL && serial != NULL)
    return sp11_find_keyed (view, slot, tmpl, count, issuer, serial, NULL, SETTLE_SNAP_KEY_COUNT,
                            emit, user);
  /* Nothing keyed (every object of a class, the assertions of a peer):
   * the whole token, in order. */
  for (size_t i = 0; i < view->count; i++)
    {
      int stop = sp11_emit_entry (view, i, NULL, slot, tmpl, count, emit, user);
      if (stop)
        return stop;
    }
  return 0;
}
