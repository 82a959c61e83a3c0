/* settle-portable-map.h: the per-user map of paired portable devices that
 * libnss_settle reads (nss-hosts/README.md; the format in
 * schema/portable-names.md, "The name map").  settle writes it with every
 * trust change (lib/snapshot/portable-map-write.c):
 *
 *   settle-portable-hosts 1\n
 *   NAME SP PERIOD SP KEY\n        (0 to PORTABLE_MAP_MAX_ENTRIES lines)
 *
 * NAME a lowercase settle name (1..253 of [a-z0-9.-]), PERIOD the rotation
 * period in decimal seconds (2..86400, no leading zero), KEY the 32-byte
 * discovery key in 64 lowercase hex digits.  Anything else anywhere makes
 * the whole map unusable: a half-read map could answer for the wrong
 * device.  Plain C, no allocation, no globals: the parser runs inside any
 * process that resolves a host name, on any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTABLE_MAP_HEADER "settle-portable-hosts 1\n"
#define PORTABLE_MAP_MAX_BYTES 65536
#define PORTABLE_MAP_MAX_ENTRIES 256
#define PORTABLE_MAP_NAME_MAX 253

typedef struct {
  uint32_t period_s;
  uint8_t key[32];
} portable_map_entry;

typedef enum {
  PORTABLE_MAP_FOUND = 0,
  PORTABLE_MAP_ABSENT,      /* a well-formed map without the name */
  PORTABLE_MAP_MALFORMED,   /* not a map: nothing in it is used */
} portable_map_result;

/* Looks `name` (len bytes, any case, one trailing dot allowed) up in the
 * map text data[0..len).  On PORTABLE_MAP_FOUND fills *entry (the caller
 * wipes it). */
portable_map_result portable_map_lookup (const char *data, size_t data_len, const char *name, size_t name_len,
                                         portable_map_entry *entry);
