/* settle-harden.h: keeping secrets out of core dumps while a process
 * (the helper during pairing, the device always) holds them. */
#pragma once

#include <glib.h>

/* Sets RLIMIT_CORE to 0 (soft and hard, so nothing in this process can
 * raise it again) and marks the process non-dumpable: no core file, and
 * no other unprivileged process of the same user may ptrace it or read
 * its memory through /proc.  Irreversible by design: call it before the
 * first secret is read.  FALSE with `error` when the kernel refused. */
gboolean settle_harden_against_dumps (GError **error);
