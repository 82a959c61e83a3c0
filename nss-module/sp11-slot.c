/* sp11-slot.c: the one slot, its read-only token, and slot events.
 *
 * The slot says CKF_REMOVABLE_DEVICE and not CKF_HW_SLOT on purpose: NSS
 * re-checks a removable slot (C_GetSlotInfo, then C_GetSessionInfo on its
 * default session) about once a second, which is when the module notices a
 * new snapshot; and NSS keeps a per-token object cache only for hardware
 * slots, so every certificate and trust lookup reaches the module and sees
 * the current snapshot (docs/nss-module.md). */
#include "sp11-api.h"

#include <string.h>

#include "sp11-state.h"

#define SP11_SLOT_DESCRIPTION "SETTLE Local Trust"
#define SP11_TOKEN_LABEL "SETTLE Local Trust"
#define SP11_MANUFACTURER "SETTLE"
#define SP11_MODEL "local trust"
#define SP11_SERIAL "1"

/* PKCS#11 strings are blank-padded, not NUL-terminated. */
static void
sp11_pad (CK_UTF8CHAR *dst, size_t len, const char *src)
{
  size_t n = strlen (src);
  memset (dst, ' ', len);
  memcpy (dst, src, n < len ? n : len);
}

CK_RV
sp11_C_GetSlotList (CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
  (void) token_present; /* the token is always present */
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (count == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else if (list != NULL && *count < 1)
    rv = CKR_BUFFER_TOO_SMALL;
  else if (list != NULL)
    list[0] = SP11_SLOT_ID;
  if (count != NULL)
    *count = 1;
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetSlotInfo (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (slot != SP11_SLOT_ID)
    rv = CKR_SLOT_ID_INVALID;
  else if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      /* NSS's presence check starts here: the moment to look at the disk. */
      sp11_state_refresh (m, 0);
      sp11_pad (info->slotDescription, sizeof info->slotDescription, SP11_SLOT_DESCRIPTION);
      sp11_pad (info->manufacturerID, sizeof info->manufacturerID, SP11_MANUFACTURER);
      info->flags = CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE;
      info->hardwareVersion.major = 0;
      info->hardwareVersion.minor = 1;
      info->firmwareVersion = info->hardwareVersion;
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (slot != SP11_SLOT_ID)
    rv = CKR_SLOT_ID_INVALID;
  else if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      sp11_state_refresh (m, 0);
      memset (info, 0, sizeof *info);
      sp11_pad (info->label, sizeof info->label, SP11_TOKEN_LABEL);
      sp11_pad (info->manufacturerID, sizeof info->manufacturerID, SP11_MANUFACTURER);
      sp11_pad (info->model, sizeof info->model, SP11_MODEL);
      sp11_pad (info->serialNumber, sizeof info->serialNumber, SP11_SERIAL);
      info->flags = CKF_WRITE_PROTECTED | CKF_TOKEN_INITIALIZED;
      info->ulMaxSessionCount = SP11_MAX_SESSIONS;
      info->ulSessionCount = CK_UNAVAILABLE_INFORMATION;
      info->ulMaxRwSessionCount = 0;
      info->ulRwSessionCount = 0;
      info->ulMaxPinLen = 0;
      info->ulMinPinLen = 0;
      info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
      info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
      info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
      info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
      info->hardwareVersion.minor = 1;
      info->firmwareVersion.minor = 1;
      sp11_pad (info->utcTime, sizeof info->utcTime, "");
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetMechanismList (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
  (void) list; /* no mechanisms: the token only holds public objects */
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (slot != SP11_SLOT_ID)
    rv = CKR_SLOT_ID_INVALID;
  else if (count == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    *count = 0;
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetMechanismInfo (CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
  (void) type;
  (void) info;
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  rv = slot != SP11_SLOT_ID ? CKR_SLOT_ID_INVALID : CKR_MECHANISM_INVALID;
  sp11_leave (m);
  return rv;
}

/* Only the non-blocking form: a blocking wait would need a thread of our own
 * inside the browser, and NSS falls back to polling presence when a module
 * answers CKR_FUNCTION_NOT_SUPPORTED. */
CK_RV
sp11_C_WaitForSlotEvent (CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
  if (slot == NULL || reserved != NULL)
    return CKR_ARGUMENTS_BAD;
  if (!(flags & CKF_DONT_BLOCK))
    return CKR_FUNCTION_NOT_SUPPORTED;
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  sp11_state_refresh (m, 0);
  if (m->slot_event_pending)
    {
      m->slot_event_pending = 0;
      *slot = SP11_SLOT_ID;
    }
  else
    rv = CKR_NO_EVENT;
  sp11_leave (m);
  return rv;
}
