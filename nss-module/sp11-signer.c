/* sp11-signer.c: one signature through settle-signer (sp11-signer.h).
 *
 * The signer runs as a child of the calling process (the browser) and
 * inherits its environment, which is what tells it where the store is
 * (SETTLE_STORE, XDG_DATA_HOME, the session bus).  Everything it is given
 * is public (record fingerprint, key identifier, digest), so it goes on
 * the command line; nothing is written to the child, so a child that dies
 * early cannot raise SIGPIPE in the browser.  Its one line of answer comes
 * back on a pipe, read with a deadline. */
#include "sp11-signer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "settle-config.h"

extern char **environ;

#define SP11_SIGNER_MAX_ANSWER 1024u

/* 1 when this module was loaded from its build tree (uninstalled). */
static int
sp11_loaded_from_build_tree (void)
{
  static const char root[] = SETTLE_BUILD_ROOT "/";
  Dl_info info;
  return dladdr ((void *) sp11_loaded_from_build_tree, &info) != 0 && info.dli_fname != NULL
         && strncmp (info.dli_fname, root, sizeof root - 1) == 0;
}

static const char *
sp11_signer_path (void)
{
  /* SETTLE_SIGNER names another signer (tests of a broken one); whoever
   * can set a browser's environment could preload code into it anyway.
   * An uninstalled module uses the signer built beside it. */
  const char *path = secure_getenv ("SETTLE_SIGNER");
  if (path != NULL && path[0] == '/')
    return path;
  return sp11_loaded_from_build_tree () ? SETTLE_BUILD_ROOT "/signer/settle-signer" : SETTLE_SIGNER_PATH;
}

static void
sp11_hex (const uint8_t *data, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 15];
    }
  out[2 * len] = '\0';
}

static int
sp11_unhex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Starts the signer with its stdout on a pipe; returns its pid, or -1
 * with errno set. */
static pid_t
sp11_signer_spawn (char *const argv[], int *read_fd)
{
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) != 0)
    return -1;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawn_file_actions_init (&actions);
  posix_spawnattr_init (&attr);
  /* stdin from /dev/null, stdout to the pipe, stderr shared (the
   * signer's messages end up where the browser's go), nothing else: a
   * browser's other descriptors are none of the signer's business. */
  posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&actions, fds[1], 1);
  posix_spawn_file_actions_addclosefrom_np (&actions, 3);
  /* The browser's signal mask and ignored signals are not the signer's. */
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int err = posix_spawn (&pid, argv[0], &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  posix_spawnattr_destroy (&attr);
  close (fds[1]);
  if (err != 0)
    {
      close (fds[0]);
      errno = err;
      return -1;
    }
  *read_fd = fds[0];
  return pid;
}

static int64_t
sp11_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until end of file, a full buffer or the deadline.  Returns the
 * length read, or -1 on timeout or error. */
static ssize_t
sp11_read_answer (int fd, char *buf, size_t cap)
{
  int64_t deadline = sp11_now_ms () + SP11_SIGNER_TIMEOUT_MS;
  size_t have = 0;
  for (;;)
    {
      int64_t left = deadline - sp11_now_ms ();
      if (left <= 0)
        return -1;
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int n = poll (&p, 1, (int) left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      ssize_t got = read (fd, buf + have, cap - have);
      if (got < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (got < 0)
        return -1;
      if (got == 0 || (have += (size_t) got) == cap)
        return (ssize_t) have;
    }
}

/* The child is ours to reap; if the application reaps every child itself
 * (SIGCHLD handlers, SIG_IGN), waitpid says ECHILD and that is fine. */
static void
sp11_reap (pid_t pid, int kill_first)
{
  if (kill_first)
    kill (pid, SIGKILL);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* "ok <hex>" with exactly sig_len bytes, or "error <kind> <message>". */
static CK_RV
sp11_parse_answer (const char *answer, uint8_t *sig, size_t sig_len)
{
  if (strncmp (answer, "ok ", 3) == 0)
    {
      const char *hex = answer + 3;
      if (strlen (hex) != 2 * sig_len + 1 || hex[2 * sig_len] != '\n')
        return CKR_FUNCTION_FAILED;
      for (size_t i = 0; i < sig_len; i++)
        {
          int hi = sp11_unhex_digit (hex[2 * i]), lo = sp11_unhex_digit (hex[2 * i + 1]);
          if (hi < 0 || lo < 0)
            return CKR_FUNCTION_FAILED;
          sig[i] = (uint8_t) (hi << 4 | lo);
        }
      return CKR_OK;
    }
  if (strncmp (answer, "error locked ", 13) == 0)
    return CKR_DEVICE_ERROR;
  if (strncmp (answer, "error missing ", 14) == 0 || strncmp (answer, "error mismatch ", 15) == 0)
    return CKR_KEY_HANDLE_INVALID;
  return CKR_FUNCTION_FAILED;
}

CK_RV
sp11_signer_sign (const char *record, const uint8_t key_id[20], const uint8_t *digest,
                  size_t digest_len, uint8_t *sig, size_t sig_len)
{
  char id_hex[41], digest_hex[2 * 64 + 1];
  if (digest_len == 0 || digest_len > 64)
    return CKR_DATA_LEN_RANGE;
  sp11_hex (key_id, 20, id_hex);
  sp11_hex (digest, digest_len, digest_hex);
  char *const argv[] = {
    (char *) sp11_signer_path (), (char *) "--record", (char *) record, (char *) "--key-id",
    id_hex, (char *) "--digest", digest_hex, NULL,
  };
  int fd = -1;
  pid_t pid = sp11_signer_spawn (argv, &fd);
  if (pid < 0)
    {
      /* The signer speaks for itself on stderr; when it cannot run at
       * all, one line here is the only clue the user gets. */
      fprintf (stderr, "libsettle-pkcs11: cannot run %s (%s); no client certificate was presented.\n",
               argv[0], strerror (errno));
      return CKR_DEVICE_ERROR;
    }
  char answer[SP11_SIGNER_MAX_ANSWER + 1];
  ssize_t len = sp11_read_answer (fd, answer, SP11_SIGNER_MAX_ANSWER);
  close (fd);
  sp11_reap (pid, len < 0);
  if (len < 0)
    {
      fprintf (stderr, "libsettle-pkcs11: %s gave no answer within %d s; no client certificate was "
               "presented.\n", argv[0], SP11_SIGNER_TIMEOUT_MS / 1000);
      return CKR_DEVICE_ERROR;
    }
  answer[len] = '\0';
  return sp11_parse_answer (answer, sig, sig_len);
}
