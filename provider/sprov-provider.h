/* sprov-provider.h: the provider context shared by every part of settle.so.
 *
 * One sprov_ctx exists per library context that loads the provider (the
 * core calls OSSL_provider_init once for each).  It owns the snapshot
 * cache, so that every `settle:` open in a process shares one loaded
 * snapshot until the snapshot on disk changes. */
#pragma once

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include "sprov-snapcache.h"

#define SPROV_NAME "settle"

struct sprov_ctx {
  const OSSL_CORE_HANDLE *handle;           /* borrowed from the core */
  OSSL_FUNC_core_new_error_fn *core_new_error;
  OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
  OSSL_FUNC_core_vset_error_fn *core_vset_error;
  sprov_snapcache cache;                    /* owned */
};

/* The loader's dispatch table (sprov-store.c). */
extern const OSSL_DISPATCH sprov_store_functions[];
