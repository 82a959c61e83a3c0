/* harden.c: no core dumps and no same-user memory reads while secrets
 * live in this process (the helper: the pairing secret, the SPAKE2 keys
 * and the new client key; the device: its CA key and pairing secret). */
#include "settle-harden.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "settle-error.h"

static gboolean
forbid_core_files (GError **error)
{
  /* Hard limit too: a soft limit alone could be raised back by anything
   * that later runs in this process. */
  const struct rlimit none = { .rlim_cur = 0, .rlim_max = 0 };

  if (setrlimit (RLIMIT_CORE, &none) == 0)
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
               "Could not switch off core dumps before handling the pairing secret (%s).",
               g_strerror (errno));
  return FALSE;
}

static gboolean
forbid_dumping (GError **error)
{
  /* Also covers what RLIMIT_CORE does not: a core_pattern pipe to a
   * crash collector, and ptrace or /proc/PID/mem by the same user. */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
               "Could not mark the process non-dumpable before handling the pairing secret (%s).",
               g_strerror (errno));
  return FALSE;
}

gboolean
settle_harden_against_dumps (GError **error)
{
  return forbid_core_files (error) && forbid_dumping (error);
}
