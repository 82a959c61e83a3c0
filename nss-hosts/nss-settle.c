/* nss-settle.c: libnss_settle.so.2, the glibc NSS `hosts` module that
 * resolves the settle names of the calling user's paired portable devices
 * (docs/portable.md, README.md here):
 *
 *   hosts: files settle mdns4_minimal [NOTFOUND=return] dns
 *
 * A name is ours only when the user's name map (portable-map.h, written
 * by settle) lists it; everything else is NSS_STATUS_NOTFOUND at once, so
 * the next module answers as if this one were not there.  For a name of
 * ours, the device's host labels of the current, previous and next period
 * are derived from its discovery key (lib/names/settle-portable-name.h)
 * and asked of avahi-daemon in parallel (avahi-query.h), at most
 * SETTLE_NSS_TIMEOUT_MS in all.
 *
 * Loaded into every process that resolves a host name: no globals, no
 * threads, no main loop, no allocation beyond the map read (bounded), and
 * nothing from the environment of a set-uid program (secure_getenv).
 * The map must be a regular file of the caller's, mode 0600 or stricter:
 * it holds discovery keys. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <nss.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "avahi-query.h"
#include "settle-portable-map.h"
#include "settle-portable-name.h"
#include "settle-snapshot-reader.h"

#define SETTLE_NSS_EXPORT __attribute__ ((visibility ("default")))
#define SETTLE_NSS_TIMEOUT_MS 2000
#define SETTLE_NSS_GRACE_MS 150
#define MAP_FILE "portable-hosts"
#define PERIODS 3
#define MAX_ANSWERS (PERIODS * 2)
#define TTL_S 10

/* ---- the map ---- */

/* The caller's map into buf; its length, or -1. */
static ssize_t
read_map (char *buf, size_t size)
{
  char dir[4096], path[4200];
  struct stat st;
  ssize_t used = 0;

  if (settle_data_dir_resolve (dir, sizeof dir) != 0)
    return -1;
  int n = snprintf (path, sizeof path, "%s/%s", dir, MAP_FILE);
  if (n < 0 || (size_t) n >= sizeof path)
    return -1;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & 077) != 0
      || st.st_size > (off_t) size)
    {
      close (fd);
      return -1;
    }
  while ((size_t) used < size)
    {
      ssize_t got = read (fd, buf + used, size - (size_t) used);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
      used += got;
    }
  close (fd);
  return used;
}

/* The entry for `name`, or false (not ours, no map, a bad map). */
static bool
find_entry (const char *name, portable_map_entry *entry)
{
  char *buf;
  bool found;

  if (name == NULL || strlen (name) > PORTABLE_MAP_NAME_MAX + 1)
    return false;
  buf = malloc (PORTABLE_MAP_MAX_BYTES);
  if (buf == NULL)
    return false;
  ssize_t len = read_map (buf, PORTABLE_MAP_MAX_BYTES);
  found = len > 0 && portable_map_lookup (buf, (size_t) len, name, strlen (name), entry) == PORTABLE_MAP_FOUND;
  if (len > 0)
    OPENSSL_cleanse (buf, (size_t) len);
  free (buf);
  return found;
}

/* ---- asking avahi ---- */

typedef struct {
  int family;
  uint8_t address[16];
} answer;

/* The addresses of the device's current rotating name (families: AF_INET,
 * AF_INET6 or AF_UNSPEC for both); the count, 0 when none answered. */
static size_t
resolve_portable (const portable_map_entry *entry, int family, answer out[MAX_ANSWERS])
{
  char hosts[PERIODS][SETTLE_PORTABLE_LABEL_CHARS + sizeof ".local"];
  avahi_question q[MAX_ANSWERS];
  size_t n = 0, found = 0;
  uint64_t now = settle_portable_period_number ((int64_t) time (NULL), entry->period_s);

  for (int i = 0; i < PERIODS; i++)
    {
      /* current period first, then the previous and the next (clock skew) */
      static const int order[PERIODS] = { 0, -1, 1 };
      char label[SETTLE_PORTABLE_LABEL_CHARS + 1];
      if ((order[i] < 0 && now == 0)
          || !settle_portable_host_label (entry->key, now + (uint64_t) (int64_t) order[i], label))
        continue;
      memcpy (hosts[i], label, SETTLE_PORTABLE_LABEL_CHARS);
      memcpy (hosts[i] + SETTLE_PORTABLE_LABEL_CHARS, ".local", sizeof ".local");
      if (family != AF_INET6)
        q[n++] = (avahi_question) { .host = hosts[i], .family = AF_INET };
      if (family != AF_INET)
        q[n++] = (avahi_question) { .host = hosts[i], .family = AF_INET6 };
    }
  if (n == 0 || !avahi_query_resolve (q, n, SETTLE_NSS_TIMEOUT_MS, SETTLE_NSS_GRACE_MS))
    return 0;
  for (size_t i = 0; i < n; i++)
    {
      size_t alen = q[i].family == AF_INET ? 4 : 16;
      bool dup = false;
      if (!q[i].answered)
        continue;
      for (size_t j = 0; j < found; j++)
        dup = dup || (out[j].family == q[i].family && memcmp (out[j].address, q[i].address, alen) == 0);
      if (dup)
        continue;
      out[found].family = q[i].family;
      memcpy (out[found].address, q[i].address, alen);
      found++;
    }
  return found;
}

/* NOTFOUND for a name that is not ours or did not answer, filled in
 * *count otherwise. */
static enum nss_status
lookup (const char *name, int family, answer out[MAX_ANSWERS], size_t *count, int *errnop, int *h_errnop)
{
  portable_map_entry entry;
  if (!find_entry (name, &entry))
    {
      *errnop = ENOENT;
      *h_errnop = HOST_NOT_FOUND;
      return NSS_STATUS_NOTFOUND;
    }
  *count = resolve_portable (&entry, family, out);
  OPENSSL_cleanse (&entry, sizeof entry);
  if (*count == 0)
    {
      *errnop = ENOENT;
      *h_errnop = HOST_NOT_FOUND;
      return NSS_STATUS_NOTFOUND;
    }
  return NSS_STATUS_SUCCESS;
}

/* ---- filling glibc's buffers ---- */

/* `size` bytes of `buffer`, aligned; NULL when it does not fit. */
static void *
take (char **buffer, size_t *left, size_t size)
{
  uintptr_t at = (uintptr_t) *buffer;
  size_t pad = (alignof (max_align_t) - at % alignof (max_align_t)) % alignof (max_align_t);
  if (*left < pad || *left - pad < size)
    return NULL;
  void *p = *buffer + pad;
  *buffer += pad + size;
  *left -= pad + size;
  return p;
}

static enum nss_status
too_small (int *errnop, int *h_errnop)
{
  *errnop = ERANGE;
  *h_errnop = NETDB_INTERNAL;
  return NSS_STATUS_TRYAGAIN;
}

SETTLE_NSS_EXPORT enum nss_status
_nss_settle_gethostbyname4_r (const char *name, struct gaih_addrtuple **pat, char *buffer, size_t buflen,
                              int *errnop, int *h_errnop, int32_t *ttlp)
{
  answer found[MAX_ANSWERS];
  size_t count = 0;
  enum nss_status status = lookup (name, AF_UNSPEC, found, &count, errnop, h_errnop);
  if (status != NSS_STATUS_SUCCESS)
    return status;
  size_t name_len = strlen (name) + 1;
  char *copy = take (&buffer, &buflen, name_len);
  if (copy == NULL)
    return too_small (errnop, h_errnop);
  memcpy (copy, name, name_len);
  struct gaih_addrtuple *first = NULL, **next = &first;
  for (size_t i = 0; i < count; i++)
    {
      struct gaih_addrtuple *t = take (&buffer, &buflen, sizeof *t);
      if (t == NULL)
        return too_small (errnop, h_errnop);
      memset (t, 0, sizeof *t);
      t->name = i == 0 ? copy : NULL;
      t->family = found[i].family;
      memcpy (t->addr, found[i].address, found[i].family == AF_INET ? 4 : 16);
      *next = t;
      next = &t->next;
    }
  *pat = first;
  if (ttlp != NULL)
    *ttlp = TTL_S;
  return NSS_STATUS_SUCCESS;
}

SETTLE_NSS_EXPORT enum nss_status
_nss_settle_gethostbyname3_r (const char *name, int af, struct hostent *host, char *buffer, size_t buflen,
                              int *errnop, int *h_errnop, int32_t *ttlp, char **canonp)
{
  answer found[MAX_ANSWERS];
  size_t count = 0, used = 0;
  if (af != AF_INET && af != AF_INET6)
    {
      *errnop = EAFNOSUPPORT;
      *h_errnop = NO_DATA;
      return NSS_STATUS_UNAVAIL;
    }
  enum nss_status status = lookup (name, af, found, &count, errnop, h_errnop);
  if (status != NSS_STATUS_SUCCESS)
    return status;
  size_t alen = af == AF_INET ? 4 : 16, name_len = strlen (name) + 1;
  char *copy = take (&buffer, &buflen, name_len);
  char **aliases = take (&buffer, &buflen, sizeof (char *));
  char **list = take (&buffer, &buflen, (count + 1) * sizeof (char *));
  char *addresses = take (&buffer, &buflen, count * alen + 1);
  if (copy == NULL || aliases == NULL || list == NULL || addresses == NULL)
    return too_small (errnop, h_errnop);
  memcpy (copy, name, name_len);
  aliases[0] = NULL;
  for (size_t i = 0; i < count; i++)
    if (found[i].family == af)
      {
        memcpy (addresses + used * alen, found[i].address, alen);
        list[used] = addresses + used * alen;
        used++;
      }
  list[used] = NULL;
  host->h_name = copy;
  host->h_aliases = aliases;
  host->h_addrtype = af;
  host->h_length = (int) alen;
  host->h_addr_list = list;
  if (ttlp != NULL)
    *ttlp = TTL_S;
  if (canonp != NULL)
    *canonp = copy;
  return NSS_STATUS_SUCCESS;
}

SETTLE_NSS_EXPORT enum nss_status
_nss_settle_gethostbyname2_r (const char *name, int af, struct hostent *host, char *buffer, size_t buflen,
                              int *errnop, int *h_errnop)
{
  return _nss_settle_gethostbyname3_r (name, af, host, buffer, buflen, errnop, h_errnop, NULL, NULL);
}

SETTLE_NSS_EXPORT enum nss_status
_nss_settle_gethostbyname_r (const char *name, struct hostent *host, char *buffer, size_t buflen, int *errnop,
                             int *h_errnop)
{
  return _nss_settle_gethostbyname3_r (name, AF_INET, host, buffer, buflen, errnop, h_errnop, NULL, NULL);
}
