/* snapshot-dir.h: where a snapshot's files are (private to lib/snapshot/;
 * the public half, the default directories and the stamp, is in
 * settle-snapshot-reader.h). */
#pragma once

/* `dir`/index.cbor, owned by the caller (free()); NULL when out of
 * memory. */
char *snapshot_dir_index_path_new (const char *dir);
