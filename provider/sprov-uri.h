/* sprov-uri.h: parsing `settle:` store URIs.
 *
 * Grammar (scheme case-insensitive, parameters in any order, each at most
 * once, values percent-encoded where needed):
 *
 *   settle://                     every certificate of the snapshot
 *   settle://?name=HOST           what a chain for HOST needs
 *   settle://?dir=/ABS/PATH       another snapshot directory
 *   settle://?name=HOST&dir=/ABS/PATH
 *
 * The empty authority `//` may be left out (`settle:`, `settle:?name=`),
 * but OpenSSL's OSSL_STORE_open_ex() tries a URI as a local file before it
 * asks the scheme's loader unless the URI has an authority, so a file or
 * directory called `settle:` in the working directory would be loaded
 * instead: the `settle://` spelling cannot be hijacked that way.
 *
 * HOST must be a DNS name strictly below local, home.arpa or alt (LDH
 * labels of 1..63 octets, at most 253 octets, no trailing dot); the dir
 * must be absolute, so that no URI ever depends on the working directory
 * (openssl/openssl#18068).  Anything else is refused with a reason saying
 * what is wrong. */
#pragma once

#include "sprov-errors.h"

/* Longest URI considered at all; far above any legitimate one. */
#define SPROV_URI_MAX 8192
#define SPROV_HOST_MAX 253

typedef struct {
  char *host;  /* owned, lowercase; NULL: no name filter */
  char *dir;   /* owned absolute path; NULL: the default snapshot */
} sprov_uri;

/* Fills `out` (cleared first) and returns 1, or raises an error through
 * `ctx` (borrowed) and returns 0 with `out` empty. */
int sprov_uri_parse (const sprov_ctx *ctx, const char *uri, sprov_uri *out);
void sprov_uri_clear (sprov_uri *uri);
