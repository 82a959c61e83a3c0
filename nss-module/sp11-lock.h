/* sp11-lock.h: the one lock guarding the module's state.
 *
 * PKCS#11 (2.40, 5.4) lets the application choose: its own mutex callbacks,
 * the operating system's primitives (CKF_OS_LOCKING_OK), or either.  The
 * module uses a pthread mutex unless the application supplied callbacks
 * without allowing OS locking; then it must use the callbacks. */
#pragma once

#include <pthread.h>

#include "sp11-pkcs11.h"

typedef struct {
  pthread_mutex_t os;     /* used when `app_mutex` is NULL */
  void *app_mutex;        /* owned through `destroy`, or NULL */
  CK_LOCKMUTEX lock;
  CK_UNLOCKMUTEX unlock;
  CK_DESTROYMUTEX destroy;
} sp11_lock;

/* Chooses and creates the lock from C_Initialize's arguments (may be NULL).
 * Returns CKR_OK, CKR_ARGUMENTS_BAD for an incomplete callback set, or what
 * the application's CreateMutex returned. */
CK_RV sp11_lock_init (sp11_lock *lock, const CK_C_INITIALIZE_ARGS *args);
void sp11_lock_acquire (sp11_lock *lock);
void sp11_lock_release (sp11_lock *lock);
void sp11_lock_clear (sp11_lock *lock);
