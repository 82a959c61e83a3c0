/* sprov-guard.c: see sprov-guard.h. */
#include "sprov-guard.h"

#include "settle-anchor-rule.h"

int
sprov_guard_check (const settle_snap_entry *entry, char *why, size_t whylen)
{
  return settle_anchor_rule_check_entry (entry, why, whylen);
}
