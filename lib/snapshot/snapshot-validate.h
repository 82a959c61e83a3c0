/* snapshot-validate.h: what a valid index.cbor is, field by field (private
 * to lib/snapshot/; the format is docs/snapshot.md).
 *
 * Validation runs on the decoded CBOR tree and copies nothing: it hands
 * back views whose items are borrowed from the tree, and the arena
 * (snapshot-arena.h) copies them once everything has passed, so a refused
 * snapshot costs no allocation beyond the tree. */
#pragma once

#include <cbor.h>
#include <stddef.h>
#include <stdint.h>

#include "settle-snapshot-reader.h"
#include "snapshot-error.h"

/* Limits of our own on top of the public header's: nothing the writer
 * produces comes near them, and they bound what a tampered file can make
 * a reader allocate. */
#define SNAPSHOT_MAX_ITEMS_PER_ENTRY 64u   /* CBOR items, all keys and values counted */
#define SNAPSHOT_MAX_LABEL_BYTES 1024u
#define SNAPSHOT_MAX_KIND_BYTES 32u
#define SNAPSHOT_MAX_NAME_BYTES 253u       /* a DNS name */
#define SNAPSHOT_MAX_NAMES_PER_ENTRY 1024u
#define SNAPSHOT_MAX_SERIAL_BYTES 64u      /* 20 content octets in RFC 5280; room for sloppy CAs */
#define SNAPSHOT_MAX_NAME_DER_BYTES SETTLE_SNAPSHOT_MAX_CERT
#define SNAPSHOT_RECORD_HEX_LEN 64u
#define SNAPSHOT_ID_BYTES 20u              /* SHA-1 */
#define SNAPSHOT_MAX_EC_PARAMS_BYTES 32u   /* DER OBJECT IDENTIFIER of a named curve */

/* How many CBOR items a whole index may hold: the top-level map and its
 * keys, plus the most every entry may have (the pre-scan's bound). */
#define SNAPSHOT_MAX_ITEMS (16 + (size_t) SETTLE_SNAPSHOT_MAX_ENTRIES * SNAPSHOT_MAX_ITEMS_PER_ENTRY)

/* The required keys of an entry map, in the order of entry_view.f. */
enum {
  SNAPSHOT_F_ROLE, SNAPSHOT_F_DER, SNAPSHOT_F_SUBJECT, SNAPSHOT_F_ISSUER, SNAPSHOT_F_SERIAL,
  SNAPSHOT_F_ID, SNAPSHOT_F_SHA1, SNAPSHOT_F_MD5, SNAPSHOT_F_SHA256, SNAPSHOT_F_LABEL,
  SNAPSHOT_F_RECORD, SNAPSHOT_F_SCOPE, SNAPSHOT_F_NAMES, SNAPSHOT_F_NOT_AFTER, SNAPSHOT_F_COUNT
};

/* A validated entry still inside the CBOR tree: every item is borrowed
 * from the tree and dies with it. */
typedef struct {
  const cbor_item_t *f[SNAPSHOT_F_COUNT];
  const cbor_item_t *ec_params; /* client identities only (required there); else NULL */
  const cbor_item_t *kind;      /* the optional "kind" text; NULL when absent */
  settle_snap_role role;
  int64_t not_after;
  /* Where subject, issuer and serial sit inside der: filled by
   * snapshot_arena_measure (snapshot-arena.h), which shares their bytes
   * with the certificate's copy; SNAPSHOT_NOT_INSIDE_DER when absent. */
  size_t subject_at, issuer_at, serial_at;
} snapshot_entry_view;

#define SNAPSHOT_NOT_INSIDE_DER ((size_t) -1)

/* Checks the top-level map: version, generation, written, and an
 * "entries" array of at most SETTLE_SNAPSHOT_MAX_ENTRIES (borrowed into
 * *entries).  Returns 0, or -1 with a sentence in `err`. */
int snapshot_validate_top (const cbor_item_t *root, uint64_t *generation,
                           const cbor_item_t **entries, snapshot_error *err);

/* Checks entry number `index` (for the refusal's wording) and fills the
 * view.  Returns 0, or -1 with a sentence in `err`. */
int snapshot_validate_entry (const cbor_item_t *item, size_t index, snapshot_entry_view *view,
                             snapshot_error *err);

/* Why an entry whose record kind is kind[0..len) (not NUL-terminated)
 * must be refused, as a phrase to follow "entry N", or NULL when the kind
 * is acceptable.  The one kind rule, for index.cbor and index.snap alike. */
const char *snapshot_kind_refusal (const char *kind, size_t len);
