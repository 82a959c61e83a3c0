/* snapshot-cbor.h: bounded CBOR decoding for the snapshot reader (private
 * to lib/snapshot/).
 *
 * libcbor's cbor_load trusts the lengths an input declares: it allocates
 * a definite array or map of the declared size before reading its items
 * and frees nested items recursively.  A snapshot is a file any process of
 * the user can write, read inside browsers, so nothing reaches cbor_load
 * before a pass over the bytes has bounded it (snapshot_cbor_decode_new).
 * The typed accessors below refuse what the format never writes
 * (indefinite strings, wrong types) without asserting in libcbor. */
#pragma once

#include <cbor.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot-error.h"

/* Containers may nest this deep and no deeper (the format uses 3). */
#define SNAPSHOT_CBOR_MAX_DEPTH 16

/* Refuses, before anything is allocated: empty or truncated input,
 * indefinite lengths, nesting deeper than SNAPSHOT_CBOR_MAX_DEPTH, an
 * array or map declaring more items than bytes remain, more than
 * `max_items` items in all, text that is not UTF-8, and trailing bytes.
 * Returns 0, or -1 with a sentence in `err`. */
int snapshot_cbor_prescan (const uint8_t *data, size_t len, size_t max_items, snapshot_error *err);

/* The pre-scan, then cbor_load: the decoded tree (owned by the caller,
 * release with cbor_decref), or NULL with a sentence in `err`. */
cbor_item_t *snapshot_cbor_decode_new (const uint8_t *data, size_t len, size_t max_items,
                                       snapshot_error *err);

/* true when s[0..n) is UTF-8 (the pre-scan's test, for the mapped
 * format's strings: snapshot-mapped.c). */
bool snapshot_cbor_utf8_valid (const uint8_t *s, size_t n);

/* Typed access; every item is borrowed from its tree. */
/* true when `item` is definite text equal to `s`. */
bool snapshot_cbor_text_is (const cbor_item_t *item, const char *s);
/* Definite text of at most `max` bytes without NUL (it becomes a C string
 * for consumers); the pre-scan already checked it is UTF-8. */
bool snapshot_cbor_is_clean_text (const cbor_item_t *item, size_t max);
/* Definite text of exactly `len` lowercase hex digits. */
bool snapshot_cbor_is_lower_hex (const cbor_item_t *item, size_t len);
/* A definite byte string of min..max bytes. */
bool snapshot_cbor_is_bytes (const cbor_item_t *item, size_t min, size_t max);
bool snapshot_cbor_read_uint (const cbor_item_t *item, uint64_t *out);
/* An unsigned or negative integer that fits int64_t. */
bool snapshot_cbor_read_int64 (const cbor_item_t *item, int64_t *out);

/* Collects the values of `keys` from a map into `values` (borrowed),
 * refusing a missing key or one that occurs twice; other keys are ignored
 * so later versions can add fields.  `where` names the map in the
 * refusal ("entry 3", "the index"). */
int snapshot_cbor_collect_keys (const cbor_item_t *map, const char *const *keys, size_t n_keys,
                                const cbor_item_t **values, const char *where, snapshot_error *err);
