/* sp11-state.h: the module's state between C_Initialize and C_Finalize.
 *
 * One sp11_module exists while the module is initialised; every entry point
 * reaches it through sp11_enter(), which checks initialisation and the
 * process id (a forked child must call C_Initialize again) and takes the
 * lock.  All fields below are guarded by that lock. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sp11-lock.h"
#include "sp11-pkcs11.h"
#include "sp11-view.h"
#include "sp11-watch.h"

#define SP11_MAX_SESSIONS 4096u
#define SP11_SIGN_MAX_DIGEST 64u  /* SHA-512, the longest digest TLS signs */
#define SP11_SIGN_MAX_SIG 132u    /* r || s on P-521 */
#define SP11_FOUND_INLINE 8u

/* Between C_SignInit and the C_Sign that ends it: what the signer needs,
 * copied out of the view, which may be swapped in the meantime. */
typedef struct {
  int active;
  int busy;                  /* a C_Sign is waiting for the signer, unlocked */
  char record[65];           /* fingerprint of the record owning the key */
  uint8_t key_id[20];        /* CKA_ID: the signer checks the key against it */
  size_t sig_len;            /* r || s: twice the curve's order length */
} sp11_sign_op;

typedef struct {
  CK_SESSION_HANDLE handle;
  CK_SLOT_ID slot;           /* SP11_SLOT_TRUST or SP11_SLOT_IDENTITIES */
  CK_FLAGS flags;
  sp11_sign_op sign;
  uint32_t view_tag;         /* the view current when the session opened */
  int finding;               /* between C_FindObjectsInit and C_FindObjectsFinal */
  CK_OBJECT_HANDLE *found;   /* results of the active search: found_inline, or
                              * owned when more than fit there */
  size_t n_found;
  size_t next_found;
  size_t found_capacity;
  /* A search by subject or hash finds one to four objects: kept here, so
   * that a search allocates nothing. */
  CK_OBJECT_HANDLE found_inline[SP11_FOUND_INLINE];
} sp11_session;

typedef struct {
  sp11_lock lock;
  pid_t pid;                 /* of the process that called C_Initialize */
  sp11_watch watch;
  sp11_view *view;           /* owned: what the token shows now */
  sp11_session **sessions;   /* owned array of owned sessions; NULL = free */
  size_t n_sessions;         /* used length of `sessions` */
  uint32_t session_serial;   /* makes a reused table index a new handle */
  unsigned slot_events;      /* bit per slot (1 << id): swaps C_WaitForSlotEvent has not reported */
} sp11_module;

/* C_Initialize / C_Finalize. */
CK_RV sp11_state_initialize (CK_VOID_PTR init_args);
CK_RV sp11_state_finalize (CK_VOID_PTR reserved);

/* Locks and returns the module, or CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV sp11_enter (sp11_module **out);
void sp11_leave (sp11_module *module);

/* Swaps in a new view when the snapshot on disk changed (rate limited unless
 * `force`).  Sessions opened on the old view are then reported invalid by
 * C_GetSessionInfo, which is how NSS learns that the token was "reinserted"
 * and drops what it cached from it. */
void sp11_state_refresh (sp11_module *module, int force);

/* Session table (sp11-session.c). */
void sp11_sessions_free_all (sp11_module *module);
/* Closes the sessions of one slot. */
void sp11_sessions_close_slot (sp11_module *module, CK_SLOT_ID slot);
/* The open session with this handle, or NULL (lock held). */
sp11_session *sp11_session_lookup (sp11_module *module, CK_SESSION_HANDLE handle);
/* sp11_enter plus the session; CKR_SESSION_HANDLE_INVALID (unlocked) when
 * there is none. */
CK_RV sp11_enter_session (CK_SESSION_HANDLE handle, sp11_module **module, sp11_session **session);

/* 1 for a slot this module has. */
int sp11_slot_valid (CK_SLOT_ID slot);
