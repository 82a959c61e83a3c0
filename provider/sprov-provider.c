/* sprov-provider.c: OSSL_provider_init and the provider's own dispatch.
 *
 * settle.so offers one operation, OSSL_OP_STORE, with one loader for the
 * "settle" scheme.  Everything else (decoding the DER it hands out,
 * verification) stays with the default provider, which is why settle.cnf
 * activates both. */
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "settle-config.h"
#include "sprov-errors.h"
#include "sprov-provider.h"

static const OSSL_ALGORITHM store_algorithms[] = {
  { "settle", "provider=settle", sprov_store_functions,
    "scoped local trust store of settle (trust snapshot)" },
  { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *
sprov_query_operation (void *provctx, int operation_id, int *no_cache)
{
  (void) provctx;
  *no_cache = 0;
  return operation_id == OSSL_OP_STORE ? store_algorithms : NULL;
}

static const OSSL_PARAM *
sprov_gettable_params (void *provctx)
{
  (void) provctx;
  static const OSSL_PARAM gettable[] = {
    OSSL_PARAM_utf8_ptr (OSSL_PROV_PARAM_NAME, NULL, 0),
    OSSL_PARAM_utf8_ptr (OSSL_PROV_PARAM_VERSION, NULL, 0),
    OSSL_PARAM_utf8_ptr (OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
    OSSL_PARAM_int (OSSL_PROV_PARAM_STATUS, NULL),
    OSSL_PARAM_END,
  };
  return gettable;
}

static int
sprov_get_params (void *provctx, OSSL_PARAM params[])
{
  (void) provctx;
  OSSL_PARAM *p;
  if ((p = OSSL_PARAM_locate (params, OSSL_PROV_PARAM_NAME)) != NULL
      && !OSSL_PARAM_set_utf8_ptr (p, "settle scoped local trust store"))
    return 0;
  if ((p = OSSL_PARAM_locate (params, OSSL_PROV_PARAM_VERSION)) != NULL
      && !OSSL_PARAM_set_utf8_ptr (p, SETTLE_VERSION))
    return 0;
  if ((p = OSSL_PARAM_locate (params, OSSL_PROV_PARAM_BUILDINFO)) != NULL
      && !OSSL_PARAM_set_utf8_ptr (p, "settle " SETTLE_VERSION))
    return 0;
  if ((p = OSSL_PARAM_locate (params, OSSL_PROV_PARAM_STATUS)) != NULL
      && !OSSL_PARAM_set_int (p, 1))
    return 0;
  return 1;
}

static const OSSL_ITEM *
sprov_get_reason_strings (void *provctx)
{
  (void) provctx;
  return sprov_reason_strings ();
}

static void
sprov_teardown (void *provctx)
{
  sprov_ctx *ctx = provctx;
  sprov_snapcache_clear (&ctx->cache);
  OPENSSL_free (ctx);
}

static const OSSL_DISPATCH provider_functions[] = {
  { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*) (void)) sprov_teardown },
  { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*) (void)) sprov_query_operation },
  { OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*) (void)) sprov_gettable_params },
  { OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*) (void)) sprov_get_params },
  { OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*) (void)) sprov_get_reason_strings },
  { 0, NULL },
};

static void
take_core_functions (sprov_ctx *ctx, const OSSL_DISPATCH *in)
{
  for (; in != NULL && in->function_id != 0; in++) {
    switch (in->function_id) {
    case OSSL_FUNC_CORE_NEW_ERROR:
      ctx->core_new_error = OSSL_FUNC_core_new_error (in);
      break;
    case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
      ctx->core_set_error_debug = OSSL_FUNC_core_set_error_debug (in);
      break;
    case OSSL_FUNC_CORE_VSET_ERROR:
      ctx->core_vset_error = OSSL_FUNC_core_vset_error (in);
      break;
    default:
      break;
    }
  }
}

/* The only symbol settle.so exports (settle.map). */
__attribute__ ((visibility ("default"))) int
OSSL_provider_init (const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                    const OSSL_DISPATCH **out, void **provctx)
{
  sprov_ctx *ctx = OPENSSL_zalloc (sizeof (*ctx));
  if (ctx == NULL)
    return 0;
  ctx->handle = handle;
  take_core_functions (ctx, in);
  sprov_snapcache_init (&ctx->cache);
  *out = provider_functions;
  *provctx = ctx;
  return 1;
}
