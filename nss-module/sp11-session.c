/* sp11-session.c: the session table, object searches and attribute reads.
 *
 * Sessions stay usable across a snapshot swap, but the object handles of
 * the earlier view do not: a search in progress or a handle kept from it
 * then gets CKR_OBJECT_HANDLE_INVALID (the object may be gone), and
 * C_GetSessionInfo reports a session opened on an earlier view as
 * invalid.  NSS asks exactly that to decide whether a removable
 * token was pulled and reinserted; see docs/nss-module.md. */
#include "sp11-api.h"

#include <stdlib.h>
#include <string.h>

#include "sp11-attrs.h"
#include "sp11-state.h"

/* Handles: a serial above, table index + 1 in the low 16 bits. */
#define SP11_SESSION_INDEX_BITS 16u
#define SP11_SESSION_INDEX_MASK ((1u << SP11_SESSION_INDEX_BITS) - 1u)
/* A search template longer than this is refused rather than walked. */
#define SP11_MAX_TEMPLATE 64u

sp11_session *
sp11_session_lookup (sp11_module *m, CK_SESSION_HANDLE handle)
{
  size_t index = (size_t) (handle & SP11_SESSION_INDEX_MASK);
  if (index == 0 || index > m->n_sessions)
    return NULL;
  sp11_session *s = m->sessions[index - 1];
  return (s != NULL && s->handle == handle) ? s : NULL;
}

static void
sp11_session_end_find (sp11_session *s)
{
  if (s->found != s->found_inline)
    free (s->found);
  s->found = NULL;
  s->n_found = s->next_found = s->found_capacity = 0;
  s->finding = 0;
}

static void
sp11_session_free (sp11_session *s)
{
  sp11_session_end_find (s);
  free (s);
}

CK_RV
sp11_enter_session (CK_SESSION_HANDLE handle, sp11_module **m, sp11_session **s)
{
  CK_RV rv = sp11_enter (m);
  if (rv != CKR_OK)
    return rv;
  *s = sp11_session_lookup (*m, handle);
  if (*s == NULL)
    {
      sp11_leave (*m);
      return CKR_SESSION_HANDLE_INVALID;
    }
  return CKR_OK;
}

/* A free table index, growing the table up to SP11_MAX_SESSIONS. */
static int
sp11_session_slot (sp11_module *m, size_t *index)
{
  for (size_t i = 0; i < m->n_sessions; i++)
    if (m->sessions[i] == NULL)
      {
        *index = i;
        return 0;
      }
  if (m->n_sessions >= SP11_MAX_SESSIONS)
    return -1;
  sp11_session **grown = realloc (m->sessions, (m->n_sessions + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  m->sessions = grown;
  m->sessions[m->n_sessions] = NULL;
  *index = m->n_sessions++;
  return 0;
}

CK_RV
sp11_C_OpenSession (CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                    CK_SESSION_HANDLE_PTR session)
{
  (void) app;
  (void) notify; /* the token never sends notifications */
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  size_t index;
  sp11_session *s = NULL;
  if (!sp11_slot_valid (slot))
    rv = CKR_SLOT_ID_INVALID;
  else if (session == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else if (!(flags & CKF_SERIAL_SESSION))
    rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
  else if (flags & CKF_RW_SESSION)
    rv = CKR_TOKEN_WRITE_PROTECTED;
  else if (sp11_session_slot (m, &index) != 0)
    rv = CKR_SESSION_COUNT;
  else if ((s = calloc (1, sizeof *s)) == NULL)
    rv = CKR_HOST_MEMORY;
  else
    {
      sp11_state_refresh (m, 0);
      m->session_serial = (m->session_serial + 1) & 0xffffu;
      s->handle = ((CK_SESSION_HANDLE) (m->session_serial + 1u) << SP11_SESSION_INDEX_BITS) | (index + 1);
      s->slot = slot;
      s->flags = flags;
      s->view_tag = sp11_view_tag (m->view);
      m->sessions[index] = s;
      *session = s->handle;
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_CloseSession (CK_SESSION_HANDLE handle)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  m->sessions[(handle & SP11_SESSION_INDEX_MASK) - 1] = NULL;
  sp11_session_free (s);
  sp11_leave (m);
  return CKR_OK;
}

void
sp11_sessions_close_slot (sp11_module *m, CK_SLOT_ID slot)
{
  for (size_t i = 0; i < m->n_sessions; i++)
    if (m->sessions[i] != NULL && m->sessions[i]->slot == slot)
      {
        sp11_session_free (m->sessions[i]);
        m->sessions[i] = NULL;
      }
}

void
sp11_sessions_free_all (sp11_module *m)
{
  for (size_t i = 0; i < m->n_sessions; i++)
    if (m->sessions[i] != NULL)
      sp11_session_free (m->sessions[i]);
  free (m->sessions);
  m->sessions = NULL;
  m->n_sessions = 0;
}

CK_RV
sp11_C_CloseAllSessions (CK_SLOT_ID slot)
{
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (!sp11_slot_valid (slot))
    rv = CKR_SLOT_ID_INVALID;
  else
    sp11_sessions_close_slot (m, slot);
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetSessionInfo (CK_SESSION_HANDLE handle, CK_SESSION_INFO_PTR info)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else if (s->view_tag != sp11_view_tag (m->view))
    rv = CKR_SESSION_HANDLE_INVALID; /* the token was "reinserted" since */
  else
    {
      info->slotID = s->slot;
      info->state = CKS_RO_PUBLIC_SESSION;
      info->flags = s->flags;
      info->ulDeviceError = 0;
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_session_check (CK_SESSION_HANDLE handle)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv == CKR_OK)
    sp11_leave (m);
  return rv;
}

/* Appends a result: into the session's inline array first, then a heap
 * array doubled as needed (a search of a whole class). */
static int
sp11_collect (void *user, CK_OBJECT_HANDLE handle)
{
  sp11_session *s = user;
  if (s->n_found == s->found_capacity)
    {
      size_t grown_capacity = s->found_capacity * 2;
      CK_OBJECT_HANDLE *grown = s->found == s->found_inline ? malloc (grown_capacity * sizeof *grown)
                                                            : realloc (s->found, grown_capacity * sizeof *grown);
      if (grown == NULL)
        return -1;
      if (s->found == s->found_inline)
        memcpy (grown, s->found_inline, s->n_found * sizeof *grown);
      s->found = grown;
      s->found_capacity = grown_capacity;
    }
  s->found[s->n_found++] = handle;
  return 0;
}

static CK_RV
sp11_start_find (sp11_module *m, sp11_session *s, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  s->found = s->found_inline;
  s->found_capacity = SP11_FOUND_INLINE;
  s->n_found = s->next_found = 0;
  if (sp11_view_find (m->view, s->slot, tmpl, count, sp11_collect, s) != 0)
    {
      sp11_session_end_find (s);
      return CKR_HOST_MEMORY;
    }
  s->finding = 1;
  return CKR_OK;
}

CK_RV
sp11_C_FindObjectsInit (CK_SESSION_HANDLE handle, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  if (tmpl == NULL && count > 0)
    rv = CKR_ARGUMENTS_BAD;
  else if (count > SP11_MAX_TEMPLATE)
    rv = CKR_TEMPLATE_INCONSISTENT;
  else if (s->finding)
    rv = CKR_OPERATION_ACTIVE;
  else
    {
      sp11_state_refresh (m, 0);
      rv = sp11_start_find (m, s, tmpl, count);
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_FindObjects (CK_SESSION_HANDLE handle, CK_OBJECT_HANDLE_PTR objects, CK_ULONG max,
                    CK_ULONG_PTR count)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  if (count == NULL || (objects == NULL && max > 0))
    rv = CKR_ARGUMENTS_BAD;
  else if (!s->finding)
    rv = CKR_OPERATION_NOT_INITIALIZED;
  else
    {
      size_t left = s->n_found - s->next_found;
      size_t n = left < max ? left : (size_t) max;
      if (n > 0)
        memcpy (objects, s->found + s->next_found, n * sizeof *objects);
      s->next_found += n;
      *count = (CK_ULONG) n;
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_FindObjectsFinal (CK_SESSION_HANDLE handle)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  if (!s->finding)
    rv = CKR_OPERATION_NOT_INITIALIZED;
  else
    sp11_session_end_find (s);
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetAttributeValue (CK_SESSION_HANDLE handle, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR tmpl,
                          CK_ULONG count)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  sp11_object obj;
  int found = sp11_view_object (m->view, s->slot, object, &obj);
  if (tmpl == NULL && count > 0)
    rv = CKR_ARGUMENTS_BAD;
  else if (!found)
    rv = CKR_OBJECT_HANDLE_INVALID;
  else
    rv = sp11_attr_fill (&obj, tmpl, count);
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetObjectSize (CK_SESSION_HANDLE handle, CK_OBJECT_HANDLE object, CK_ULONG_PTR size)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  sp11_object obj;
  int found = sp11_view_object (m->view, s->slot, object, &obj);
  if (size == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else if (!found)
    rv = CKR_OBJECT_HANDLE_INVALID;
  else
    *size = sp11_attr_object_size (&obj);
  sp11_leave (m);
  return rv;
}
