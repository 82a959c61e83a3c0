/* sp11-lock.c: application or operating-system mutex, as C_Initialize asked. */
#include "sp11-lock.h"

#include <string.h>

static int
sp11_args_count_callbacks (const CK_C_INITIALIZE_ARGS *args)
{
  return (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) + (args->LockMutex != NULL)
         + (args->UnlockMutex != NULL);
}

CK_RV
sp11_lock_init (sp11_lock *lock, const CK_C_INITIALIZE_ARGS *args)
{
  memset (lock, 0, sizeof *lock);
  if (args != NULL)
    {
      int callbacks = sp11_args_count_callbacks (args);
      if (callbacks != 0 && callbacks != 4)
        return CKR_ARGUMENTS_BAD;
      if (callbacks == 4 && !(args->flags & CKF_OS_LOCKING_OK))
        {
          CK_RV rv = args->CreateMutex (&lock->app_mutex);
          if (rv != CKR_OK)
            return rv;
          lock->lock = args->LockMutex;
          lock->unlock = args->UnlockMutex;
          lock->destroy = args->DestroyMutex;
          return CKR_OK;
        }
    }
  if (pthread_mutex_init (&lock->os, NULL) != 0)
    return CKR_CANT_LOCK;
  return CKR_OK;
}

void
sp11_lock_acquire (sp11_lock *lock)
{
  if (lock->app_mutex != NULL)
    lock->lock (lock->app_mutex);
  else
    pthread_mutex_lock (&lock->os);
}

void
sp11_lock_release (sp11_lock *lock)
{
  if (lock->app_mutex != NULL)
    lock->unlock (lock->app_mutex);
  else
    pthread_mutex_unlock (&lock->os);
}

void
sp11_lock_clear (sp11_lock *lock)
{
  if (lock->app_mutex != NULL)
    lock->destroy (lock->app_mutex);
  else
    pthread_mutex_destroy (&lock->os);
  memset (lock, 0, sizeof *lock);
}
