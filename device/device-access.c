/* device-access.c: who may do what on the device's HTTPS site, in one
 * place (REQ-ARCH-04a).  Every handler in device-http.c asks
 * settle_device_access_decide() before it reads or changes anything, and
 * this is the only place that compares roles or looks at the Origin.
 *
 * The rule, in this order:
 *   1. A request that names a web origin (browsers send Origin on every
 *      cross-origin request and on every POST or PUT) is refused (403)
 *      unless an admin allowed that origin (device-origins.c): a page on
 *      any other site, e.g. a cross-site form POST, changes and reads
 *      nothing, even in a browser that holds a paired client's
 *      certificate (the confused deputy).  No Origin: a program that is
 *      not a browser (settle, curl); the client certificate decides.
 *   2. No client certificate: 401.
 *   3. A certificate that none of the device's CAs issued, or that is no
 *      longer enrolled (revoked, renewed): 403.
 *   4. A role below the action's (table below): 403. */
#include "device.h"

#include <string.h>

static const char *const role_ranks[] = { "guest", "user", "admin" };

int
settle_device_role_rank (const char *role)
{
  for (gsize i = 0; role != NULL && i < G_N_ELEMENTS (role_ranks); i++)
    if (strcmp (role, role_ranks[i]) == 0)
      return (int) i;
  return -1;
}

/* The least role each action needs. */
static const char *
role_needed (SettleDeviceAction action)
{
  switch (action)
    {
    case SETTLE_DEVICE_ACT_WHOAMI:
    case SETTLE_DEVICE_ACT_RENEW:
      return "guest";
    case SETTLE_DEVICE_ACT_AUDIT:
    case SETTLE_DEVICE_ACT_ADMINISTER:
    default:
      return "admin";
    }
}

static gboolean
refuse (SettleDeviceAccess *out, guint status, const char *reason)
{
  out->status = status;
  out->reason = reason;
  return FALSE;
}

gboolean
settle_device_access_decide (const SettleDeviceHttpContext *ctx, X509 *peer, const char *origin,
                             SettleDeviceAction action, SettleDeviceAccess *out)
{
  memset (out, 0, sizeof *out);
  if (origin != NULL && !settle_device_origins_allowed (ctx->origins, origin))
    return refuse (out, 403,
                   "Requests from this web origin are not allowed; an admin of the device can allow it.");
  if (peer == NULL)
    return refuse (out, 401, "Present the client certificate this device issued when you paired.");
  if (!settle_device_identity_issued (ctx->identity, peer)
      || (out->role = settle_device_enrolments_role_of (ctx->enrolments, peer)) == NULL)
    return refuse (out, 403, "This certificate was not issued to a client paired with this device.");
  out->fingerprint = settle_device_spki_sha256_hex (peer);
  if (settle_device_role_rank (out->role) < settle_device_role_rank (role_needed (action)))
    return refuse (out, 403, "This needs the admin role on the device; this client's role is lower.");
  return TRUE;
}

void
settle_device_access_clear (SettleDeviceAccess *a)
{
  g_clear_pointer (&a->role, g_free);
  g_clear_pointer (&a->fingerprint, g_free);
}
