/* sp11-module.c: the module's entry points and its function list.
 *
 * Exported (sp11.map): C_GetFunctionList, and C_GetInterfaceList /
 * C_GetInterface so that PKCS#11 3.0 loaders find the same 2.40 function
 * list.  Everything else is reached through the list.  The token is
 * read-only and holds no keys, so every cryptographic and writing call is
 * answered with the specific refusal PKCS#11 defines for it. */
#include <string.h>

#include "sp11-api.h"
#include "sp11-state.h"

#define SP11_EXPORT __attribute__ ((visibility ("default")))

static CK_RV
sp11_C_Initialize (CK_VOID_PTR init_args)
{
  return sp11_state_initialize (init_args);
}

static CK_RV
sp11_C_Finalize (CK_VOID_PTR reserved)
{
  return sp11_state_finalize (reserved);
}

static void
sp11_pad_info (CK_UTF8CHAR *dst, size_t len, const char *src)
{
  size_t n = strlen (src);
  memset (dst, ' ', len);
  memcpy (dst, src, n < len ? n : len);
}

static CK_RV
sp11_C_GetInfo (CK_INFO_PTR info)
{
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  if (info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  else
    {
      info->cryptokiVersion.major = 2;
      info->cryptokiVersion.minor = 40;
      sp11_pad_info (info->manufacturerID, sizeof info->manufacturerID, "SETTLE");
      info->flags = 0;
      sp11_pad_info (info->libraryDescription, sizeof info->libraryDescription,
                     "SETTLE local trust (read-only)");
      info->libraryVersion.major = 0;
      info->libraryVersion.minor = 1;
    }
  sp11_leave (m);
  return rv;
}

/* Writing: the token is write-protected (CKF_WRITE_PROTECTED). */
static CK_RV
sp11_C_InitToken (CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR label)
{
  (void) pin; (void) pin_len; (void) label;
  sp11_module *m;
  CK_RV rv = sp11_enter (&m);
  if (rv != CKR_OK)
    return rv;
  sp11_leave (m);
  return sp11_slot_valid (slot) ? CKR_TOKEN_WRITE_PROTECTED : CKR_SLOT_ID_INVALID;
}

/* A call the token refuses: an invalid session still gets its own code
 * first, as PKCS#11 orders the checks. */
static CK_RV
sp11_refuse (CK_SESSION_HANDLE session, CK_RV refusal)
{
  CK_RV rv = sp11_session_check (session);
  return rv == CKR_OK ? refusal : rv;
}

static CK_RV
sp11_refuse_write (CK_SESSION_HANDLE session)
{
  return sp11_refuse (session, CKR_TOKEN_WRITE_PROTECTED);
}

static CK_RV
sp11_C_InitPIN (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
  (void) pin; (void) len;
  return sp11_refuse_write (s);
}

static CK_RV
sp11_C_SetPIN (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR old, CK_ULONG old_len, CK_UTF8CHAR_PTR pin,
               CK_ULONG len)
{
  (void) old; (void) old_len; (void) pin; (void) len;
  return sp11_refuse_write (s);
}

static CK_RV
sp11_C_CreateObject (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR obj)
{
  (void) tmpl; (void) count; (void) obj;
  return sp11_refuse_write (s);
}

static CK_RV
sp11_C_CopyObject (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                   CK_OBJECT_HANDLE_PTR copy)
{
  (void) obj; (void) tmpl; (void) count; (void) copy;
  return sp11_refuse_write (s);
}

static CK_RV
sp11_C_DestroyObject (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
  (void) obj;
  return sp11_refuse_write (s);
}

static CK_RV
sp11_C_SetAttributeValue (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count)
{
  (void) obj; (void) tmpl; (void) count;
  return sp11_refuse_write (s);
}

/* No PIN: nobody can log in, and nobody is logged in. */
static CK_RV
sp11_C_Login (CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
  (void) user; (void) pin; (void) len;
  return sp11_refuse (s, CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV
sp11_C_Logout (CK_SESSION_HANDLE s)
{
  return sp11_refuse (s, CKR_USER_NOT_LOGGED_IN);
}

static CK_RV
sp11_C_GetOperationState (CK_SESSION_HANDLE s, CK_BYTE_PTR state, CK_ULONG_PTR len)
{
  (void) state; (void) len;
  return sp11_refuse (s, CKR_FUNCTION_NOT_SUPPORTED);
}

static CK_RV
sp11_C_SetOperationState (CK_SESSION_HANDLE s, CK_BYTE_PTR state, CK_ULONG len, CK_OBJECT_HANDLE enc,
                          CK_OBJECT_HANDLE auth)
{
  (void) state; (void) len; (void) enc; (void) auth;
  return sp11_refuse (s, CKR_FUNCTION_NOT_SUPPORTED);
}

/* Starting an operation: the token has no mechanisms. */
static CK_RV
sp11_refuse_mechanism (CK_SESSION_HANDLE session)
{
  return sp11_refuse (session, CKR_MECHANISM_INVALID);
}

/* Continuing an operation: none can have been started. */
static CK_RV
sp11_refuse_operation (CK_SESSION_HANDLE session)
{
  return sp11_refuse (session, CKR_OPERATION_NOT_INITIALIZED);
}

#define SP11_INIT_REFUSED(name)                                                          \
  static CK_RV name (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)   \
  {                                                                                       \
    (void) mech; (void) key;                                                              \
    return sp11_refuse_mechanism (s);                                                     \
  }
SP11_INIT_REFUSED (sp11_C_EncryptInit)
SP11_INIT_REFUSED (sp11_C_DecryptInit)
SP11_INIT_REFUSED (sp11_C_SignRecoverInit)
SP11_INIT_REFUSED (sp11_C_VerifyInit)
SP11_INIT_REFUSED (sp11_C_VerifyRecoverInit)

static CK_RV
sp11_C_DigestInit (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech)
{
  (void) mech;
  return sp11_refuse_mechanism (s);
}

/* One-shot and final steps: (session, in, in_len, out, out_len). */
#define SP11_STEP_REFUSED(name)                                                              \
  static CK_RV name (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,  \
                     CK_ULONG_PTR out_len)                                                    \
  {                                                                                           \
    (void) in; (void) in_len; (void) out; (void) out_len;                                     \
    return sp11_refuse_operation (s);                                                         \
  }
SP11_STEP_REFUSED (sp11_C_Encrypt)
SP11_STEP_REFUSED (sp11_C_EncryptUpdate)
SP11_STEP_REFUSED (sp11_C_Decrypt)
SP11_STEP_REFUSED (sp11_C_DecryptUpdate)
SP11_STEP_REFUSED (sp11_C_Digest)
SP11_STEP_REFUSED (sp11_C_SignRecover)
SP11_STEP_REFUSED (sp11_C_VerifyRecover)
SP11_STEP_REFUSED (sp11_C_DigestEncryptUpdate)
SP11_STEP_REFUSED (sp11_C_DecryptDigestUpdate)
SP11_STEP_REFUSED (sp11_C_SignEncryptUpdate)
SP11_STEP_REFUSED (sp11_C_DecryptVerifyUpdate)

/* Updates that take input only: (session, in, in_len). */
#define SP11_UPDATE_REFUSED(name)                                     \
  static CK_RV name (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG len) \
  {                                                                    \
    (void) in; (void) len;                                             \
    return sp11_refuse_operation (s);                                  \
  }
SP11_UPDATE_REFUSED (sp11_C_DigestUpdate)
SP11_UPDATE_REFUSED (sp11_C_VerifyUpdate)
SP11_UPDATE_REFUSED (sp11_C_VerifyFinal)

/* Finals that produce output: (session, out, out_len). */
#define SP11_FINAL_REFUSED(name)                                                \
  static CK_RV name (CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR out_len) \
  {                                                                              \
    (void) out; (void) out_len;                                                  \
    return sp11_refuse_operation (s);                                            \
  }
SP11_FINAL_REFUSED (sp11_C_EncryptFinal)
SP11_FINAL_REFUSED (sp11_C_DecryptFinal)
SP11_FINAL_REFUSED (sp11_C_DigestFinal)

static CK_RV
sp11_C_Verify (CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
  (void) data; (void) len; (void) sig; (void) sig_len;
  return sp11_refuse_operation (s);
}

static CK_RV
sp11_C_DigestKey (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
  (void) key;
  return sp11_refuse_operation (s);
}

static CK_RV
sp11_C_GenerateKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count,
                    CK_OBJECT_HANDLE_PTR key)
{
  (void) mech; (void) tmpl; (void) count; (void) key;
  return sp11_refuse_mechanism (s);
}

static CK_RV
sp11_C_GenerateKeyPair (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub_tmpl,
                        CK_ULONG pub_count, CK_ATTRIBUTE_PTR priv_tmpl, CK_ULONG priv_count,
                        CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
  (void) mech; (void) pub_tmpl; (void) pub_count; (void) priv_tmpl; (void) priv_count; (void) pub; (void) priv;
  return sp11_refuse_mechanism (s);
}

static CK_RV
sp11_C_WrapKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
  (void) mech; (void) wrapping; (void) key; (void) out; (void) out_len;
  return sp11_refuse_mechanism (s);
}

static CK_RV
sp11_C_UnwrapKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE unwrapping, CK_BYTE_PTR in,
                  CK_ULONG in_len, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count, CK_OBJECT_HANDLE_PTR key)
{
  (void) mech; (void) unwrapping; (void) in; (void) in_len; (void) tmpl; (void) count; (void) key;
  return sp11_refuse_mechanism (s);
}

static CK_RV
sp11_C_DeriveKey (CK_SESSION_HANDLE s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE base, CK_ATTRIBUTE_PTR tmpl,
                  CK_ULONG count, CK_OBJECT_HANDLE_PTR key)
{
  (void) mech; (void) base; (void) tmpl; (void) count; (void) key;
  return sp11_refuse_mechanism (s);
}

static CK_RV
sp11_C_SeedRandom (CK_SESSION_HANDLE s, CK_BYTE_PTR seed, CK_ULONG len)
{
  (void) seed; (void) len;
  return sp11_refuse (s, CKR_RANDOM_NO_RNG);
}

static CK_RV
sp11_C_GenerateRandom (CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG len)
{
  (void) out; (void) len;
  return sp11_refuse (s, CKR_RANDOM_NO_RNG);
}

/* Legacy parallel-function calls (PKCS#11 2.40, 5.16). */
static CK_RV
sp11_C_GetFunctionStatus (CK_SESSION_HANDLE s)
{
  return sp11_refuse (s, CKR_FUNCTION_NOT_PARALLEL);
}

static CK_RV
sp11_C_CancelFunction (CK_SESSION_HANDLE s)
{
  return sp11_refuse (s, CKR_FUNCTION_NOT_PARALLEL);
}

static CK_RV sp11_C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST sp11_function_list = {
  { 2, 40 },
  sp11_C_Initialize, sp11_C_Finalize, sp11_C_GetInfo, sp11_C_GetFunctionList,
  sp11_C_GetSlotList, sp11_C_GetSlotInfo, sp11_C_GetTokenInfo, sp11_C_GetMechanismList,
  sp11_C_GetMechanismInfo, sp11_C_InitToken, sp11_C_InitPIN, sp11_C_SetPIN,
  sp11_C_OpenSession, sp11_C_CloseSession, sp11_C_CloseAllSessions, sp11_C_GetSessionInfo,
  sp11_C_GetOperationState, sp11_C_SetOperationState, sp11_C_Login, sp11_C_Logout,
  sp11_C_CreateObject, sp11_C_CopyObject, sp11_C_DestroyObject, sp11_C_GetObjectSize,
  sp11_C_GetAttributeValue, sp11_C_SetAttributeValue, sp11_C_FindObjectsInit, sp11_C_FindObjects,
  sp11_C_FindObjectsFinal, sp11_C_EncryptInit, sp11_C_Encrypt, sp11_C_EncryptUpdate,
  sp11_C_EncryptFinal, sp11_C_DecryptInit, sp11_C_Decrypt, sp11_C_DecryptUpdate,
  sp11_C_DecryptFinal, sp11_C_DigestInit, sp11_C_Digest, sp11_C_DigestUpdate,
  sp11_C_DigestKey, sp11_C_DigestFinal, sp11_C_SignInit, sp11_C_Sign,
  sp11_C_SignUpdate, sp11_C_SignFinal, sp11_C_SignRecoverInit, sp11_C_SignRecover,
  sp11_C_VerifyInit, sp11_C_Verify, sp11_C_VerifyUpdate, sp11_C_VerifyFinal,
  sp11_C_VerifyRecoverInit, sp11_C_VerifyRecover, sp11_C_DigestEncryptUpdate,
  sp11_C_DecryptDigestUpdate, sp11_C_SignEncryptUpdate, sp11_C_DecryptVerifyUpdate,
  sp11_C_GenerateKey, sp11_C_GenerateKeyPair, sp11_C_WrapKey, sp11_C_UnwrapKey,
  sp11_C_DeriveKey, sp11_C_SeedRandom, sp11_C_GenerateRandom, sp11_C_GetFunctionStatus,
  sp11_C_CancelFunction, sp11_C_WaitForSlotEvent,
};

static CK_RV
sp11_C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  if (list == NULL)
    return CKR_ARGUMENTS_BAD;
  *list = &sp11_function_list;
  return CKR_OK;
}

SP11_EXPORT CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  return sp11_C_GetFunctionList (list);
}

/* PKCS#11 3.0 discovery: one interface, "PKCS 11" version 2.40. */
static CK_UTF8CHAR sp11_interface_name[] = "PKCS 11";
static SP11_CK_INTERFACE sp11_interface = { sp11_interface_name, &sp11_function_list, 0 };

SP11_EXPORT CK_RV C_GetInterfaceList (SP11_CK_INTERFACE *list, CK_ULONG_PTR count);
SP11_EXPORT CK_RV C_GetInterface (CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
                                  SP11_CK_INTERFACE **out, CK_FLAGS flags);

CK_RV
C_GetInterfaceList (SP11_CK_INTERFACE *list, CK_ULONG_PTR count)
{
  if (count == NULL)
    return CKR_ARGUMENTS_BAD;
  if (list == NULL)
    {
      *count = 1;
      return CKR_OK;
    }
  if (*count < 1)
    {
      *count = 1;
      return CKR_BUFFER_TOO_SMALL;
    }
  list[0] = sp11_interface;
  *count = 1;
  return CKR_OK;
}

CK_RV
C_GetInterface (CK_UTF8CHAR_PTR name, CK_VERSION_PTR version, SP11_CK_INTERFACE **out, CK_FLAGS flags)
{
  if (out == NULL)
    return CKR_ARGUMENTS_BAD;
  if (name != NULL && strcmp ((const char *) name, (const char *) sp11_interface_name) != 0)
    return CKR_ARGUMENTS_BAD;
  if (version != NULL && (version->major != 2 || version->minor != 40))
    return CKR_ARGUMENTS_BAD;
  if ((flags & ~sp11_interface.flags) != 0)
    return CKR_ARGUMENTS_BAD;
  *out = &sp11_interface;
  return CKR_OK;
}
