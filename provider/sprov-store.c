/* sprov-store.c: the OSSL_STORE loader for `settle:` URIs.
 *
 * Shaped like the store of latchset/pkcs11-provider: open parses the URI
 * and takes hold of the data (here: a reference to the cached snapshot),
 * set_ctx_params records the search criteria, and each load hands one
 * certificate to the core as OSSL_OBJECT_CERT with its DER and the data
 * type "CERTIFICATE", so the core's own decoding turns it into an X509.
 *
 * Which entries an open yields:
 *   settle://               every entry (roots, crosses, peers);
 *   settle://?name=HOST     roots and crosses whose scope permits HOST,
 *                           the roots that issued those crosses (the chain
 *                           leaf <- cross <- root needs both), and pinned
 *                           peers that name HOST;
 *   + search by subject     the subset whose subject is the Name asked for
 *                           (X509_LOOKUP_store does this on every issuer
 *                           lookup), found through the subject index. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/store.h>

#include "sprov-errors.h"
#include "sprov-provider.h"
#include "settle-anchor-rule.h"
#include "sprov-scope.h"
#include "sprov-uri.h"

typedef struct {
  sprov_ctx *provctx;    /* borrowed */
  sprov_snap *snap;      /* owned reference */
  uint8_t *selected;     /* owned, one flag per entry; NULL: no name filter */
  uint8_t *subject;      /* owned DER Name to search for, or NULL */
  size_t subject_len;
  int expect;            /* OSSL_STORE_INFO_* asked for, 0 for anything */
  size_t *matches;       /* owned: entry indices for the subject search */
  size_t match_count;
  int matches_ready;
  size_t next;           /* position in matches, or in the snapshot */
  int failed;
} sprov_store_ctx;

static void
store_ctx_free (sprov_store_ctx *sctx)
{
  if (sctx == NULL)
    return;
  sprov_snap_release (sctx->snap);
  OPENSSL_free (sctx->selected);
  OPENSSL_free (sctx->subject);
  OPENSSL_free (sctx->matches);
  OPENSSL_free (sctx);
}

static void
select_index (uint8_t *selected, size_t index)
{
  if (index != SIZE_MAX)
    selected[index] = 1;
}

/* The issuers of a cross are found by subject, like OpenSSL finds them. */
static void
select_issuing_roots (const sprov_snap *snap, const settle_snap_entry *cross, uint8_t *selected)
{
  const settle_snapshot *snapshot = sprov_snap_get (snap);
  size_t cursor = 0;
  const settle_snap_entry *root;
  while ((root = settle_snapshot_find_subject (snapshot, cross->issuer.data, cross->issuer.len,
                                               &cursor)) != NULL)
    if (root->role == SETTLE_SNAP_ROOT)
      select_index (selected, sprov_snap_index_of (snap, root));
}

static int
entry_serves_host (const settle_snap_entry *entry, const char *host)
{
  if (entry->role == SETTLE_SNAP_PEER)
    return sprov_names_match (entry->names, host);
  return sprov_scope_permits (entry->scope, host);
}

static int
select_for_host (sprov_store_ctx *sctx, const char *host)
{
  const settle_snapshot *snapshot = sprov_snap_get (sctx->snap);
  size_t count = settle_snapshot_count (snapshot);
  sctx->selected = OPENSSL_zalloc (count > 0 ? count : 1);
  if (sctx->selected == NULL)
    return 0;
  for (size_t i = 0; i < count; i++) {
    const settle_snap_entry *entry = settle_snapshot_entry (snapshot, i);
    /* NULL: refused by the reader (a damaged index.snap), never served. */
    if (entry == NULL || !entry_serves_host (entry, host))
      continue;
    sctx->selected[i] = 1;
    if (entry->role == SETTLE_SNAP_CROSS)
      select_issuing_roots (sctx->snap, entry, sctx->selected);
  }
  return 1;
}

static const char *
snapshot_dir_for (const sprov_ctx *ctx, const sprov_uri *uri, char *buf, size_t len)
{
  if (uri->dir != NULL)
    return uri->dir;
  if (settle_snapshot_default_dir (buf, len) != 0) {
    sprov_raise (ctx, SPROV_R_NO_TRUST_DIR,
                 "set SETTLE_TRUST_DIR, XDG_DATA_HOME or HOME, or use settle://?dir=/ABS/PATH");
    return NULL;
  }
  return buf;
}

static sprov_store_ctx *
store_ctx_new (sprov_ctx *ctx, const sprov_uri *uri)
{
  char dirbuf[PATH_MAX];
  const char *dir = snapshot_dir_for (ctx, uri, dirbuf, sizeof dirbuf);
  if (dir == NULL)
    return NULL;
  sprov_store_ctx *sctx = OPENSSL_zalloc (sizeof (*sctx));
  if (sctx == NULL) {
    sprov_raise (ctx, SPROV_R_OUT_OF_MEMORY, "opening the settle: store");
    return NULL;
  }
  sctx->provctx = ctx;
  sctx->snap = sprov_snapcache_acquire (ctx, dir);
  if (sctx->snap == NULL) {
    store_ctx_free (sctx);
    return NULL;
  }
  if (uri->host != NULL && !select_for_host (sctx, uri->host)) {
    sprov_raise (ctx, SPROV_R_OUT_OF_MEMORY, "selecting the entries for %s", uri->host);
    store_ctx_free (sctx);
    return NULL;
  }
  return sctx;
}

static void *
sprov_store_open (void *provctx, const char *uri_text)
{
  sprov_uri uri;
  if (!sprov_uri_parse (provctx, uri_text, &uri))
    return NULL;
  sprov_store_ctx *sctx = store_ctx_new (provctx, &uri);
  sprov_uri_clear (&uri);
  return sctx;
}

static const OSSL_PARAM *
sprov_store_settable_ctx_params (void *provctx)
{
  (void) provctx;
  static const OSSL_PARAM settable[] = {
    OSSL_PARAM_int (OSSL_STORE_PARAM_EXPECT, NULL),
    OSSL_PARAM_octet_string (OSSL_STORE_PARAM_SUBJECT, NULL, 0),
    OSSL_PARAM_END,
  };
  return settable;
}

static int
set_subject (sprov_store_ctx *sctx, const OSSL_PARAM *p)
{
  const void *der = NULL;
  size_t len = 0;
  if (!OSSL_PARAM_get_octet_string_ptr (p, &der, &len) || len == 0
      || len > SETTLE_SNAPSHOT_MAX_CERT)
    return 0;
  uint8_t *copy = OPENSSL_memdup (der, len);
  if (copy == NULL)
    return 0;
  OPENSSL_free (sctx->subject);
  OPENSSL_free (sctx->matches);
  sctx->subject = copy;
  sctx->subject_len = len;
  sctx->matches = NULL;
  sctx->match_count = 0;
  sctx->matches_ready = 0;
  sctx->next = 0;
  return 1;
}

static int
sprov_store_set_ctx_params (void *loaderctx, const OSSL_PARAM params[])
{
  sprov_store_ctx *sctx = loaderctx;
  const OSSL_PARAM *p = OSSL_PARAM_locate_const (params, OSSL_STORE_PARAM_EXPECT);
  if (p != NULL && !OSSL_PARAM_get_int (p, &sctx->expect))
    return 0;
  p = OSSL_PARAM_locate_const (params, OSSL_STORE_PARAM_SUBJECT);
  if (p != NULL && !set_subject (sctx, p))
    return 0;
  return 1;
}

static int
prepare_matches (sprov_store_ctx *sctx)
{
  if (sctx->subject == NULL || sctx->matches_ready)
    return 1;
  if (!sprov_snap_match_subject (sctx->snap, sctx->subject, sctx->subject_len, &sctx->matches,
                                 &sctx->match_count)) {
    sprov_raise (sctx->provctx, SPROV_R_OUT_OF_MEMORY, "searching the trust snapshot");
    return 0;
  }
  sctx->matches_ready = 1;
  return 1;
}

static size_t
candidate_count (const sprov_store_ctx *sctx)
{
  return sctx->subject != NULL ? sctx->match_count : settle_snapshot_count (sprov_snap_get (sctx->snap));
}

static size_t
candidate_index (const sprov_store_ctx *sctx, size_t position)
{
  return sctx->subject != NULL ? sctx->matches[position] : position;
}

/* Client identities share the snapshot but are never trust material. */
static int
candidate_wanted (const sprov_store_ctx *sctx, size_t index)
{
  const settle_snap_entry *entry = settle_snapshot_entry (sprov_snap_get (sctx->snap), index);
  /* An entry the reader refused stays a candidate: sprov_snap_servable
   * then condemns the snapshot, as for one the scope rule refuses. */
  if (entry != NULL && entry->role == SETTLE_SNAP_CLIENT)
    return 0;
  return sctx->selected == NULL || sctx->selected[index];
}

/* Moves `next` past candidates the name filter leaves out; returns 1 while
 * a candidate remains.  Idempotent, so eof may call it too. */
static int
skip_unselected (sprov_store_ctx *sctx)
{
  if (sctx->failed || !prepare_matches (sctx)) {
    sctx->failed = 1;
    return 0;
  }
  size_t count = candidate_count (sctx);
  while (sctx->next < count && !candidate_wanted (sctx, candidate_index (sctx, sctx->next)))
    sctx->next++;
  return sctx->next < count;
}

static int
expects_certificates (const sprov_store_ctx *sctx)
{
  return sctx->expect == 0 || sctx->expect == OSSL_STORE_INFO_CERT;
}

static int
sprov_store_load (void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                  OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
  (void) pw_cb;
  (void) pw_cbarg;
  sprov_store_ctx *sctx = loaderctx;
  if (!expects_certificates (sctx) || !skip_unselected (sctx))
    return 0;

  size_t index = candidate_index (sctx, sctx->next++);
  if (!sprov_snap_servable (sctx->provctx, sctx->snap, index)) {
    sctx->failed = 1;
    return 0;
  }
  const settle_snap_entry *entry = settle_snapshot_entry (sprov_snap_get (sctx->snap), index);

  /* The certificate with OpenSSL trust settings for TLS server
   * authentication alone (settle-anchor-rule.h): OpenSSL reads them with
   * d2i_X509_AUX and then rejects the anchor for S/MIME, client
   * authentication and every other purpose. */
  size_t trust_len;
  const unsigned char *trust = settle_anchor_rule_openssl_trust (&trust_len);
  unsigned char *data = OPENSSL_malloc (entry->der.len + trust_len);
  if (data == NULL) {
    sprov_raise (sctx->provctx, SPROV_R_OUT_OF_MEMORY, "serving a certificate");
    sctx->failed = 1;
    return 0;
  }
  memcpy (data, entry->der.data, entry->der.len);
  memcpy (data + entry->der.len, trust, trust_len);

  int object_type = OSSL_OBJECT_CERT;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_int (OSSL_OBJECT_PARAM_TYPE, &object_type),
    OSSL_PARAM_construct_utf8_string (OSSL_OBJECT_PARAM_DATA_TYPE, (char *) "TRUSTED CERTIFICATE", 0),
    OSSL_PARAM_construct_octet_string (OSSL_OBJECT_PARAM_DATA, data, entry->der.len + trust_len),
    OSSL_PARAM_construct_end (),
  };
  int ok = object_cb (params, object_cbarg);
  OPENSSL_free (data);
  return ok;
}

static int
sprov_store_eof (void *loaderctx)
{
  sprov_store_ctx *sctx = loaderctx;
  return sctx->failed || !expects_certificates (sctx) || !skip_unselected (sctx);
}

static int
sprov_store_close (void *loaderctx)
{
  store_ctx_free (loaderctx);
  return 1;
}

const OSSL_DISPATCH sprov_store_functions[] = {
  { OSSL_FUNC_STORE_OPEN, (void (*) (void)) sprov_store_open },
  { OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*) (void)) sprov_store_settable_ctx_params },
  { OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*) (void)) sprov_store_set_ctx_params },
  { OSSL_FUNC_STORE_LOAD, (void (*) (void)) sprov_store_load },
  { OSSL_FUNC_STORE_EOF, (void (*) (void)) sprov_store_eof },
  { OSSL_FUNC_STORE_CLOSE, (void (*) (void)) sprov_store_close },
  { 0, NULL },
};
