/* sp11-state.c: initialisation, finalisation, fork safety, locking and
 * the swap to a new snapshot. */
#include "sp11-state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Serialises C_Initialize and C_Finalize; the hot path never takes it. */
static pthread_mutex_t sp11_init_guard = PTHREAD_MUTEX_INITIALIZER;
static _Atomic (sp11_module *) sp11_current;
static pthread_once_t sp11_atfork_once = PTHREAD_ONCE_INIT;

/* In a forked child the parent's state is unusable: its lock may be held by
 * a thread that does not exist here, and its sessions belong to the parent.
 * PKCS#11 (2.40, 6.7.7.1) wants the child to call C_Initialize again, so the
 * child forgets the state (deliberately without freeing memory that another
 * parent thread may have been changing at the moment of fork). */
static void
sp11_forget_in_child (void)
{
  atomic_store (&sp11_current, NULL);
  pthread_mutex_unlock (&sp11_init_guard);
}

/* The init guard is held across fork, so that a C_Initialize or
 * C_Finalize running in another parent thread cannot leave the child's
 * copy locked for ever. */
static void
sp11_hold_guard_for_fork (void)
{
  pthread_mutex_lock (&sp11_init_guard);
}

static void
sp11_release_guard_in_parent (void)
{
  pthread_mutex_unlock (&sp11_init_guard);
}

static void
sp11_register_atfork (void)
{
  pthread_atfork (sp11_hold_guard_for_fork, sp11_release_guard_in_parent, sp11_forget_in_child);
}

static CK_RV
sp11_module_new (const CK_C_INITIALIZE_ARGS *args, sp11_module **out)
{
  sp11_module *m = calloc (1, sizeof *m);
  if (m == NULL)
    return CKR_HOST_MEMORY;
  CK_RV rv = sp11_lock_init (&m->lock, args);
  if (rv != CKR_OK)
    {
      free (m);
      return rv;
    }
  /* No HOME and no SETTLE_TRUST_DIR: an empty token, not a failure, so
   * that a browser started in such an environment still starts. */
  if (sp11_watch_init (&m->watch) != 0)
    m->watch.dir[0] = '\0';
  m->view = sp11_watch_load (&m->watch);
  if (m->view == NULL)
    {
      sp11_lock_clear (&m->lock);
      free (m);
      return CKR_HOST_MEMORY;
    }
  *out = m;
  return CKR_OK;
}

static void
sp11_module_free (sp11_module *m)
{
  sp11_sessions_free_all (m);
  sp11_view_free (m->view);
  sp11_lock_clear (&m->lock);
  free (m);
}

CK_RV
sp11_state_initialize (CK_VOID_PTR init_args)
{
  /* pReserved is not checked: NSS passes its module parameters there. */
  const CK_C_INITIALIZE_ARGS *args = init_args;
  sp11_module *m = NULL;
  CK_RV rv;

  pthread_once (&sp11_atfork_once, sp11_register_atfork);
  pthread_mutex_lock (&sp11_init_guard);
  if (atomic_load (&sp11_current) != NULL)
    rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
  else if ((rv = sp11_module_new (args, &m)) == CKR_OK)
    atomic_store (&sp11_current, m);
  pthread_mutex_unlock (&sp11_init_guard);
  return rv;
}

CK_RV
sp11_state_finalize (CK_VOID_PTR reserved)
{
  if (reserved != NULL)
    return CKR_ARGUMENTS_BAD;
  pthread_mutex_lock (&sp11_init_guard);
  sp11_module *m = atomic_exchange (&sp11_current, NULL);
  pthread_mutex_unlock (&sp11_init_guard);
  if (m == NULL)
    return CKR_CRYPTOKI_NOT_INITIALIZED;
  /* A call holding the state lock when the exchange happened finishes
   * before the state goes.  A call racing C_Finalize from another thread
   * is the application's error (PKCS#11 2.40, 5.4): this narrows that
   * window, it cannot close it without a reference count on every call. */
  sp11_lock_acquire (&m->lock);
  sp11_lock_release (&m->lock);
  sp11_module_free (m);
  return CKR_OK;
}

CK_RV
sp11_enter (sp11_module **out)
{
  sp11_module *m = atomic_load (&sp11_current);
  if (m == NULL)
    return CKR_CRYPTOKI_NOT_INITIALIZED;
  sp11_lock_acquire (&m->lock);
  *out = m;
  return CKR_OK;
}

void
sp11_leave (sp11_module *module)
{
  sp11_lock_release (&module->lock);
}

void
sp11_state_refresh (sp11_module *module, int force)
{
  if (!sp11_watch_changed (&module->watch, force))
    return;
  sp11_view *fresh = sp11_watch_load (&module->watch);
  if (fresh == NULL)
    {
      /* Out of memory: keep serving, and retry at the next check. */
      memset (&module->watch.stamp, 0, sizeof module->watch.stamp);
      return;
    }
  sp11_view_free (module->view);
  module->view = fresh;
  module->slot_events = (1u << SP11_SLOT_TRUST) | (1u << SP11_SLOT_IDENTITIES);
}
