/* sprov-guard.h: the provider's own check of every certificate it serves.
 *
 * OpenSSL treats every certificate an X509_STORE returns as trusted, and
 * it cannot tell a trusted delegator from a trusted peer.  The snapshot is
 * derived from checked records, but it is a file in the user's data
 * directory; a certificate swapped into it would become an unconstrained
 * anchor for every OpenSSL program.  The provider has libcrypto, so before
 * it serves a certificate it checks the DER itself (defence in depth)
 * against the same rule the snapshot writer applied before publishing it
 * (lib/settle-anchor-rule.h): constrained wrappers, peers that cannot
 * issue. */
#pragma once

#include <stddef.h>

#include "settle-snapshot-reader.h"

/* 1 when `entry` (borrowed) may be served; 0 with a sentence fragment
 * saying why not in `why` ("has no nameConstraints extension"). */
int sprov_guard_check (const settle_snap_entry *entry, char *why, size_t whylen);
