/* sp11-attrs.h: the attribute values of the module's objects.
 *
 * Every value is computed from the snapshot entry on demand: byte strings
 * point into the snapshot, scalars into static constants, so reading an
 * attribute never allocates. */
#pragma once

#include "sp11-pkcs11.h"
#include "sp11-view.h"

typedef struct {
  const void *data; /* borrowed */
  CK_ULONG len;
} sp11_value;

/* Fills `out` and returns 1 when the object has attribute `type`, else 0. */
int sp11_attr_get (const sp11_object *obj, CK_ATTRIBUTE_TYPE type, sp11_value *out);

/* 1 when every attribute of the template is present with an equal value. */
int sp11_attr_match (const sp11_object *obj, const CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* C_GetAttributeValue semantics for one object (PKCS#11 2.40, 5.7): every
 * entry is processed; a missing attribute gets CK_UNAVAILABLE_INFORMATION and
 * CKR_ATTRIBUTE_TYPE_INVALID, a short buffer CK_UNAVAILABLE_INFORMATION and
 * CKR_BUFFER_TOO_SMALL. */
CK_RV sp11_attr_fill (const sp11_object *obj, CK_ATTRIBUTE *tmpl, CK_ULONG count);

/* The byte length of the object's DER value (C_GetObjectSize). */
CK_ULONG sp11_attr_object_size (const sp11_object *obj);
