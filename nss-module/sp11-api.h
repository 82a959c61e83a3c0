/* sp11-api.h: the PKCS#11 functions the module implements, by concern.
 * They are hidden; only the function list (sp11-module.c) reaches them. */
#pragma once

#include "sp11-pkcs11.h"

/* sp11-slot.c: slot, token and mechanism information, slot events. */
CK_RV sp11_C_GetSlotList (CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count);
CK_RV sp11_C_GetSlotInfo (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info);
CK_RV sp11_C_GetTokenInfo (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info);
CK_RV sp11_C_GetMechanismList (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count);
CK_RV sp11_C_GetMechanismInfo (CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info);
CK_RV sp11_C_WaitForSlotEvent (CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved);

/* sp11-session.c: sessions, searches and attribute reads. */
CK_RV sp11_C_OpenSession (CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                          CK_SESSION_HANDLE_PTR session);
CK_RV sp11_C_CloseSession (CK_SESSION_HANDLE session);
CK_RV sp11_C_CloseAllSessions (CK_SLOT_ID slot);
CK_RV sp11_C_GetSessionInfo (CK_SESSION_HANDLE session, CK_SESSION_INFO_PTR info);
CK_RV sp11_C_GetObjectSize (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG_PTR size);
CK_RV sp11_C_GetAttributeValue (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                                CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
CK_RV sp11_C_FindObjectsInit (CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count);
CK_RV sp11_C_FindObjects (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects, CK_ULONG max,
                          CK_ULONG_PTR count);
CK_RV sp11_C_FindObjectsFinal (CK_SESSION_HANDLE session);
/* Checks that `session` is open; for the calls the token refuses. */
CK_RV sp11_session_check (CK_SESSION_HANDLE session);

/* sp11-sign.c: signing with an identity key (CKM_ECDSA, single part). */
CK_RV sp11_C_SignInit (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key);
CK_RV sp11_C_Sign (CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
                   CK_ULONG_PTR sig_len);
CK_RV sp11_C_SignUpdate (CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG len);
CK_RV sp11_C_SignFinal (CK_SESSION_HANDLE session, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len);
