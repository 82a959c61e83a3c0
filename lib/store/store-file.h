/* store-file.h: the file backend (store-file.c): a 0700 directory, one
 * record per file, atomic writes.  Only store.c uses it, through its
 * table of backends. */
#pragma once

#include "store-backend.h"

G_BEGIN_DECLS

extern const SettleStoreBackend settle_store_file_backend;

G_END_DECLS
