/* sprov-errors.c: reason strings and raising errors through the core. */
#include "sprov-errors.h"

#include <stdarg.h>

#include "sprov-provider.h"

static const OSSL_ITEM reason_strings[] = {
  { SPROV_R_URI_MALFORMED, (char *) "malformed settle: URI" },
  { SPROV_R_URI_UNKNOWN_PARAMETER, (char *) "unknown settle: URI parameter" },
  { SPROV_R_URI_DUPLICATE_PARAMETER, (char *) "repeated settle: URI parameter" },
  { SPROV_R_URI_BAD_PERCENT_ENCODING, (char *) "bad percent-encoding in settle: URI" },
  { SPROV_R_NAME_EMPTY, (char *) "empty host name in settle: URI" },
  { SPROV_R_NAME_TOO_LONG, (char *) "host name in settle: URI is too long" },
  { SPROV_R_NAME_INVALID, (char *) "invalid host name in settle: URI" },
  { SPROV_R_NAME_NOT_LOCAL, (char *) "host name outside local, home.arpa and alt" },
  { SPROV_R_DIR_INVALID, (char *) "invalid snapshot directory in settle: URI" },
  { SPROV_R_NO_TRUST_DIR, (char *) "no settle trust snapshot directory" },
  { SPROV_R_SNAPSHOT_UNREADABLE, (char *) "settle trust snapshot unreadable" },
  { SPROV_R_SNAPSHOT_TAMPERED, (char *) "settle trust snapshot entry refused" },
  { SPROV_R_OUT_OF_MEMORY, (char *) "out of memory" },
  { 0, NULL },
};

const OSSL_ITEM *
sprov_reason_strings (void)
{
  return reason_strings;
}

void
sprov_raise_at (const sprov_ctx *ctx, const char *file, int line, const char *func,
                int reason, const char *fmt, ...)
{
  if (ctx == NULL || ctx->core_new_error == NULL || ctx->core_set_error_debug == NULL
      || ctx->core_vset_error == NULL)
    return;

  ctx->core_new_error (ctx->handle);
  ctx->core_set_error_debug (ctx->handle, file, line, func);

  va_list args;
  va_start (args, fmt);
  ctx->core_vset_error (ctx->handle, (uint32_t) reason, fmt, args);
  va_end (args);
}
