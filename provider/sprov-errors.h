/* sprov-errors.h: the provider's error reasons and how they are raised.
 *
 * Errors go through the core's error functions (OSSL_FUNC_core_new_error,
 * set_error_debug, vset_error), never through libcrypto's ERR_* directly:
 * the core attributes them to this provider, and the reason strings below
 * are handed to it by OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, so
 * `openssl` prints "settle: malformed settle: URI: ..." instead of a
 * number. */
#pragma once

#include <openssl/core.h>

typedef struct sprov_ctx sprov_ctx;

/* Reason codes; 0 is not a reason.  Keep sprov_reason_strings in step. */
enum {
  SPROV_R_URI_MALFORMED = 1,
  SPROV_R_URI_UNKNOWN_PARAMETER,
  SPROV_R_URI_DUPLICATE_PARAMETER,
  SPROV_R_URI_BAD_PERCENT_ENCODING,
  SPROV_R_NAME_EMPTY,
  SPROV_R_NAME_TOO_LONG,
  SPROV_R_NAME_INVALID,
  SPROV_R_NAME_NOT_LOCAL,
  SPROV_R_DIR_INVALID,
  SPROV_R_NO_TRUST_DIR,
  SPROV_R_SNAPSHOT_UNREADABLE,
  SPROV_R_SNAPSHOT_TAMPERED,
  SPROV_R_OUT_OF_MEMORY,
};

/* The table for OSSL_FUNC_PROVIDER_GET_REASON_STRINGS (static storage). */
const OSSL_ITEM *sprov_reason_strings (void);

/* Raises `reason` with a printf-style detail through the core.  `ctx` is
 * borrowed; without core error functions (never with a real core) the
 * error is dropped rather than crashing. */
void sprov_raise_at (const sprov_ctx *ctx, const char *file, int line, const char *func,
                     int reason, const char *fmt, ...)
  __attribute__ ((format (printf, 6, 7)));

#define sprov_raise(ctx, reason, ...) \
  sprov_raise_at ((ctx), __FILE__, __LINE__, __func__, (reason), __VA_ARGS__)
