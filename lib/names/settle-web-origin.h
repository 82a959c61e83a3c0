/* settle-web-origin.h: the one rule for the web origins a device lets
 * reach it from a browser (docs/device.md, "Browsers and the local
 * network"; schema/bindings.schema.json, $defs/origin).  The device
 * checks every origin an admin sends with it, and `settle device origins`
 * checks and canonicalises what the user typed with it before anything is
 * sent.
 *
 * The canonical form is the one browsers put in an Origin header (the
 * serialised origin of RFC 6454 / the URL standard), so that a plain
 * string comparison with the header decides:
 *   http:// or https://, a host (letters, digits, '-' and '.' in non-empty
 *   labels, or a bracketed IPv6 address), an optional :port (1-65535,
 *   no leading zero, never the scheme's default 80 / 443), nothing after
 *   it; lowercase throughout; at most SETTLE_WEB_ORIGIN_MAX bytes.
 * "null" (opaque origins) is never one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SETTLE_WEB_ORIGIN_MAX 255
/* How many origins one device allows at most. */
#define SETTLE_WEB_ORIGINS_MAX 32

/* TRUE when `origin` is a web origin in canonical form (the device's test). */
gboolean settle_web_origin_valid (const char *origin);

/* What a person typed as a web origin, in canonical form (owned): scheme
 * and host lowercased, the default port dropped.  NULL with
 * SETTLE_ERROR_FAILED and one sentence that says what is wrong (no scheme,
 * a path, a bad port ...). */
char *settle_web_origin_canonical (const char *typed, GError **error);

G_END_DECLS
