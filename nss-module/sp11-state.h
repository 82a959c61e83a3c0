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

#define SP11_SLOT_ID 1
#define SP11_MAX_SESSIONS 4096u

typedef struct {
  CK_SESSION_HANDLE handle;
  CK_FLAGS flags;
  uint32_t view_tag;         /* the view current when the session opened */
  int finding;               /* between C_FindObjectsInit and C_FindObjectsFinal */
  CK_OBJECT_HANDLE *found;   /* owned: results of the active search */
  size_t n_found;
  size_t next_found;
} sp11_session;

typedef struct {
  sp11_lock lock;
  pid_t pid;                 /* of the process that called C_Initialize */
  sp11_watch watch;
  sp11_view *view;           /* owned: what the token shows now */
  sp11_session **sessions;   /* owned array of owned sessions; NULL = free */
  size_t n_sessions;         /* used length of `sessions` */
  uint32_t session_serial;   /* makes a reused table index a new handle */
  int slot_event_pending;    /* a swap C_WaitForSlotEvent has not reported */
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
