/* sp11-slot.c: the two slots, their read-only tokens, mechanisms and
 * slot events.  Slot 1, "SETTLE Local Trust", holds the anchors; slot 2,
 * "SETTLE Device Identities", the per-device client certificates and their
 * (signing-only) private keys.  Both follow the same snapshot.
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

#define SP11_MANUFACTURER "SETTLE"

typedef struct {
  CK_SLOT_ID id;
  const char *label; /* slot description and token label alike */
  const char *model;
  const char *serial;
} sp11_slot_desc;

static const sp11_slot_desc sp11_slots[] = {
  { SP11_SLOT_TRUST, "SETTLE Local Trust", "local trust", "1" },
  { SP11_SLOT_IDENTITIES, "SETTLE Device Identities", "identities", "2" },
};
#define SP11_N_SLOTS (sizeof sp11_slots / sizeof sp11_slots[0])

/* The identity keys sign with ECDSA on the NIST curves, nothing else. */
#define SP11_EC_MIN_BITS 256
#define SP11_EC_MAX_BITS 521

static const sp11_slot_desc *
sp11_slot_find (CK_SLOT_ID slot)
{
  for (size_t i = 0; i < SP11_N_SLOTS; i++)
    if (sp11_slots[i].id == slot)
      return &sp11_slots[i];
  return NULL;
}

int
sp11_slot_valid (CK_SLOT_ID slot)
{
  return sp11_slot_find (slot) != NULL;
}

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
  (void) token_present; /* the tokens are always present */
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (count == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else if (list != NULL && *count < SP11_N_SLOTS)
    rv = CKR_BUFFER_TOO_SMALL;
  else if (list != NULL)
    for (size_t i = 0; i < SP11_N_SLOTS; i++)
      list[i] = sp11_slots[i].id;
  if (count != NULL)
    *count = SP11_N_SLOTS;
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
  const sp11_slot_desc *desc = sp11_slot_find (slot);
  if (desc == NULL)
    rv = CKR_SLOT_ID_INVALID;
  else if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      /* NSS's presence check starts here: the moment to look at the disk. */
      sp11_state_refresh (m, 0);
      sp11_pad (info->slotDescription, sizeof info->slotDescription, desc->label);
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
  const sp11_slot_desc *desc = sp11_slot_find (slot);
  if (desc == NULL)
    rv = CKR_SLOT_ID_INVALID;
  else if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      sp11_state_refresh (m, 0);
      memset (info, 0, sizeof *info);
      sp11_pad (info->label, sizeof info->label, desc->label);
      sp11_pad (info->manufacturerID, sizeof info->manufacturerID, SP11_MANUFACTURER);
      sp11_pad (info->model, sizeof info->model, desc->model);
      sp11_pad (info->serialNumber, sizeof info->serialNumber, desc->serial);
      /* No login: the identity keys are guarded by the keyring, which the
       * signer asks, not by a PIN of ours. */
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

/* The trust token only holds public objects: no mechanisms.  The identity
 * token signs with CKM_ECDSA. */
CK_RV
sp11_C_GetMechanismList (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  CK_ULONG have = slot == SP11_SLOT_IDENTITIES ? 1 : 0;
  if (!sp11_slot_valid (slot))
    rv = CKR_SLOT_ID_INVALID;
  else if (count == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      if (list != NULL && *count < have)
        rv = CKR_BUFFER_TOO_SMALL;
      else if (list != NULL && have > 0)
        list[0] = CKM_ECDSA;
      *count = have;
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_GetMechanismInfo (CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (!sp11_slot_valid (slot))
    rv = CKR_SLOT_ID_INVALID;
  else if (slot != SP11_SLOT_IDENTITIES || type != CKM_ECDSA)
    rv = CKR_MECHANISM_INVALID;
  else if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      info->ulMinKeySize = SP11_EC_MIN_BITS;
      info->ulMaxKeySize = SP11_EC_MAX_BITS;
      info->flags = CKF_SIGN | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
    }
  sp11_leave (m);
  return rv;
}

/* Only the non-blocking form: a blocking wait would need a thread of our own
 * inside the browser, and NSS falls back to polling presence when a module
 * answers CKR_FUNCTION_NOT_SUPPORTED.  A snapshot swap is an event on both
 * slots, reported one at a time. */
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
  rv = CKR_NO_EVENT;
  for (size_t i = 0; i < SP11_N_SLOTS && rv == CKR_NO_EVENT; i++)
    if (m->slot_events & (1u << sp11_slots[i].id))
      {
        m->slot_events &= ~(1u << sp11_slots[i].id);
        *slot = sp11_slots[i].id;
        rv = CKR_OK;
      }
  sp11_leave (m);
  return rv;
}
