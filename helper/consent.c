/* consent.c: the consent prompt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "consent.h"
#include "settle-error.h"
#include "ui.h"

#define ANSWER_MAX 64

char *
settle_consent_describe (const SettleRecord *record, const char *sas)
{
  GString *text = g_string_new (NULL);
  g_autofree char *fingerprint = settle_fingerprint_pretty (record->fingerprint);
  g_autofree char *names = settle_ui_join (record->names);
  g_autofree char *scope = settle_ui_join (record->scope);
  g_autofree char *expires = settle_ui_format_time (record->expires);

  g_string_append_printf (text, "\n  Trust \"%s\"?\n\n", record->label);
  switch (record->kind)
    {
    case SETTLE_KIND_DEVICE_CA:
      g_string_append (text, "  Kind:        a device's own certificate authority\n");
      break;
    case SETTLE_KIND_REFEREE_CA:
      g_string_append (text, "  Kind:        a REFEREE: it vouches for MANY devices in its scope\n");
      break;
    case SETTLE_KIND_PINNED_PEER:
      g_string_append (text, "  Kind:        one exact device certificate (pinned)\n");
      break;
    }
  g_string_append_printf (text, "  Names:       %s\n", names);
  g_string_append_printf (text, "  Trusted for: %s (and nothing outside it)\n", scope);
  g_string_append_printf (text, "  Fingerprint: %s\n", fingerprint);
  g_string_append_printf (text, "  Expires:     %s\n", expires);
  if (sas != NULL)
    g_string_append_printf (text, "  Check code:  %s  (the device must show the same)\n", sas);
  if (record->kind == SETTLE_KIND_REFEREE_CA)
    g_string_append_printf (text,
                            "\n  A referee vouches for many devices: every device it certifies under\n"
                            "  %s will be trusted, including ones added later that you never\n"
                            "  see here.  Say yes only if you trust whoever runs this referee.\n",
                            scope);
  g_string_append (text,
                   "\n  Your browser and other programs will accept this device's certificates\n"
                   "  for the names above.  If someone asked you to scan a code or type a\n"
                   "  fingerprint over the phone or in a message, say no: they may be trying\n"
                   "  to take over your browser.\n\n");
  return g_string_free (text, FALSE);
}

static gboolean
read_answer (int tty, char *answer, gsize size)
{
  gsize used = 0;

  while (used + 1 < size)
    {
      char c;
      ssize_t n = read (tty, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return used > 0;
      if (c == '\n' || c == '\r')
        break;
      answer[used++] = c;
    }
  answer[used] = '\0';
  return TRUE;
}

gboolean
settle_consent_obtain (const char *prompt, const char *question, gboolean yes_flag,
                       SettleConsent *how, GError **error)
{
  char answer[ANSWER_MAX];
  int tty;
  gboolean answered;

  if (yes_flag)
    {
      *how = SETTLE_CONSENT_FLAG;
      return TRUE;
    }
  tty = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                   "there is no terminal to ask for your consent, so nothing was changed "
                   "(a script that has checked what it trusts may pass --yes)");
      return FALSE;
    }
  if (prompt != NULL)
    (void) !write (tty, prompt, strlen (prompt));
  (void) !write (tty, question, strlen (question));
  (void) !write (tty, " [yes/no] ", 10);
  answered = read_answer (tty, answer, sizeof answer);
  close (tty);

  g_strstrip (answer);
  if (answered && g_ascii_strcasecmp (answer, "yes") == 0)
    {
      *how = SETTLE_CONSENT_PROMPT;
      return TRUE;
    }
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
               "you did not answer yes, so nothing was changed");
  return FALSE;
}
