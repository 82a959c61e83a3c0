/* avahi-query.h: asking the system's avahi-daemon for the addresses of
 * mDNS host names over its simple socket protocol (the one nss-mdns
 * uses: /run/avahi-daemon/socket, one "RESOLVE-HOSTNAME-IPV4 NAME\n" per
 * connection, one "+ IFACE PROTO NAME ADDRESS\n" or "-ERR text\n" line
 * back).  No D-Bus, no main loop, no threads, no globals: every question
 * runs in parallel on its own socket within one deadline, in the calling
 * thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AVAHI_QUERY_SOCKET "/run/avahi-daemon/socket"
#define AVAHI_QUERY_MAX 8           /* questions at once */
#define AVAHI_QUERY_NAME_MAX 255

typedef struct {
  const char *host;                 /* "label.local" */
  int family;                       /* AF_INET or AF_INET6 */
  /* out */
  bool answered;                    /* a positive answer came */
  uint8_t address[16];              /* 4 bytes for AF_INET */
} avahi_question;

/* Asks every question at once and waits at most `timeout_ms` in total;
 * once one is answered the others get at most `grace_ms` more.  false
 * when the daemon cannot be reached at all (no socket). */
bool avahi_query_resolve (avahi_question *questions, size_t n, int timeout_ms, int grace_ms);
