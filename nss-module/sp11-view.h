/* sp11-view.h: one snapshot generation seen as PKCS#11 objects.
 *
 * A view is made once per snapshot the module opens; an entry is checked
 * against the scope rule the first time it is served, and its objects
 * (certificate, NSS trust, PKCS#11 3.2 trust, p11-kit trust assertions)
 * are computed from the entry whenever they are read, never stored.  Lookups by value,
 * hash, id, subject, label or issuer and serial go through the snapshot's
 * hash tables, so C_FindObjectsInit scans the token only for templates
 * that name none of them.  View functions run under the module lock.
 *
 * Handles carry the view's tag in their upper bits: a handle from an earlier
 * view is simply not found, so an anchor removed from the snapshot cannot be
 * read through a stale handle.
 *
 * Ownership: a view owns its snapshot and one small record per entry;
 * objects borrow their entry and bytes from the snapshot. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"
#include "sp11-pkcs11.h"

typedef enum {
  SP11_OBJ_CERTIFICATE,
  SP11_OBJ_NSS_TRUST,
  SP11_OBJ_PKCS_TRUST,
  SP11_OBJ_ASSERTION, /* anchored (roots) or pinned for one name (peers) */
  SP11_OBJ_PRIVATE_KEY, /* of a client identity: attributes only, signing goes
                         * to the out-of-process signer (sp11-signer.c) */
} sp11_obj_kind;

/* The two slots: trust anchors, and the per-device client identities. */
#define SP11_SLOT_TRUST 1
#define SP11_SLOT_IDENTITIES 2

typedef struct {
  sp11_obj_kind kind;
  const settle_snap_entry *entry; /* borrowed from the view's snapshot */
  const char *peer;               /* pinned assertions: the name, borrowed; else NULL */
} sp11_object;

typedef struct sp11_view sp11_view;

/* Takes ownership of `snap` (may be NULL: an empty token).  `tag` tells this
 * view's handles from every earlier one; 1 .. SP11_VIEW_TAG_MAX.  Returns NULL
 * only when memory runs out (and then frees `snap`). */
sp11_view *sp11_view_new (settle_snapshot *snap, uint32_t tag);
void sp11_view_free (sp11_view *view);

#define SP11_VIEW_TAG_MAX 0xffffffu

uint32_t sp11_view_tag (const sp11_view *view);
CK_OBJECT_HANDLE sp11_view_handle (const sp11_view *view, size_t index);
/* Fills *out with the object for a handle of this view in `slot` and
 * returns 1, or returns 0.  Objects are computed from their entry, not
 * stored (sp11-view.c), hence a copy. */
int sp11_view_object (const sp11_view *view, CK_SLOT_ID slot, CK_OBJECT_HANDLE handle, sp11_object *out);

/* Calls `emit` with the handle of every object of `slot` matching the template, in a
 * stable order; stops early when `emit` returns nonzero (then returns that
 * value), else returns 0.  Goes through the snapshot's hash tables when the
 * template names a keyed attribute (sp11-view.c), answers at once a class
 * the token never serves, and otherwise walks every entry. */
typedef int (*sp11_emit_fn) (void *user, CK_OBJECT_HANDLE handle);
int sp11_view_find (const sp11_view *view, CK_SLOT_ID slot, const CK_ATTRIBUTE *tmpl,
                    CK_ULONG count, sp11_emit_fn emit, void *user);
