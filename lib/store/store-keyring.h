/* store-keyring.h: the keyring backend (store-keyring.c) through
 * libsecret.  Only store.c uses it, through its table of backends. */
#pragma once

#include "store-backend.h"

G_BEGIN_DECLS

extern const SettleStoreBackend settle_store_keyring_backend;

/* Whether the session bus has a Secret Service running or activatable;
 * answers within a short timeout and never starts one. */
gboolean settle_store_keyring_available (void);

G_END_DECLS
