/* avahi-query.c: avahi-daemon's simple socket protocol (avahi-query.h). */
#include "avahi-query.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>

#define LINE_MAX_BYTES 512

typedef struct {
  int fd;
  size_t used;
  char line[LINE_MAX_BYTES];
} pending;

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ask (const avahi_question *q)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  char request[AVAHI_QUERY_NAME_MAX + 32];
  int fd, n;

  if (strlen (q->host) > AVAHI_QUERY_NAME_MAX || strpbrk (q->host, " \n\r") != NULL)
    return -1;
  n = snprintf (request, sizeof request, "RESOLVE-HOSTNAME-%s %s\n", q->family == AF_INET6 ? "IPV6" : "IPV4",
                q->host);
  if (n < 0 || (size_t) n >= sizeof request)
    return -1;
  memcpy (sa.sun_path, AVAHI_QUERY_SOCKET, sizeof AVAHI_QUERY_SOCKET);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  /* The request is tiny: a blocking connect and send to a local socket
   * return at once (or fail). */
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0
      || send (fd, request, (size_t) n, MSG_NOSIGNAL) != n)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* "+ IFACE PROTO NAME ADDRESS": the address, when it is of the family. */
static bool
parse_answer (const char *line, avahi_question *q)
{
  char name[AVAHI_QUERY_NAME_MAX + 1], address[64];
  int iface, proto;
  if (line[0] != '+' || sscanf (line, "+ %d %d %255s %63s", &iface, &proto, name, address) != 4)
    return false;
  return inet_pton (q->family, address, q->address) == 1;
}

/* Reads what is there; true when the line is complete (answered or not). */
static bool
read_some (pending *p, avahi_question *q)
{
  ssize_t got = recv (p->fd, p->line + p->used, sizeof p->line - 1 - p->used, MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EINTR))
    return false;
  if (got <= 0)
    return true;   /* closed or failed: no answer */
  p->used += (size_t) got;
  p->line[p->used] = '\0';
  char *nl = strchr (p->line, '\n');
  if (nl == NULL && p->used < sizeof p->line - 1)
    return false;
  if (nl != NULL)
    *nl = '\0';
  q->answered = parse_answer (p->line, q);
  return true;
}

bool
avahi_query_resolve (avahi_question *questions, size_t n, int timeout_ms, int grace_ms)
{
  pending waiting[AVAHI_QUERY_MAX];
  struct pollfd fds[AVAHI_QUERY_MAX];
  size_t open = 0, reached = 0;

  if (n > AVAHI_QUERY_MAX)
    n = AVAHI_QUERY_MAX;
  for (size_t i = 0; i < n; i++)
    {
      questions[i].answered = false;
      waiting[i].fd = ask (&questions[i]);
      waiting[i].used = 0;
      if (waiting[i].fd >= 0)
        reached++, open++;
    }
  int64_t deadline = now_ms () + timeout_ms;
  bool grace = false;
  while (open > 0)
    {
      int64_t left = deadline - now_ms ();
      if (left <= 0)
        break;
      for (size_t i = 0; i < n; i++)
        fds[i] = (struct pollfd) { .fd = waiting[i].fd, .events = POLLIN };
      int r = poll (fds, (nfds_t) n, (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      for (size_t i = 0; i < n; i++)
        if (waiting[i].fd >= 0 && fds[i].revents != 0 && read_some (&waiting[i], &questions[i]))
          {
            close (waiting[i].fd);
            waiting[i].fd = -1;
            open--;
            if (questions[i].answered && !grace)
              {
                grace = true;
                if (now_ms () + grace_ms < deadline)
                  deadline = now_ms () + grace_ms;
              }
          }
    }
  for (size_t i = 0; i < n; i++)
    if (waiting[i].fd >= 0)
      close (waiting[i].fd);
  return reached > 0;
}
