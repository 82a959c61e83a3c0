/* consent.c: the consent prompt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "consent.h"
#include "settle-error.h"
#include "settle-fingerprint.h"
#include "ui.h"

#define ANSWER_MAX 64
#define ASK_TRIES 3

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
    case SETTLE_KIND_MANUFACTURER_CA:
      g_string_append (text, "  Kind:        a MANUFACTURER: it only vouches that devices are genuine,\n"
                             "               never for a secure connection by itself\n");
      break;
    }
  if (record->kind == SETTLE_KIND_MANUFACTURER_CA)
    g_string_append_printf (text, "  Vouches for: devices named %s (and nothing outside it)\n", scope);
  else
    {
      g_string_append_printf (text, "  Names:       %s\n", names);
      g_string_append_printf (text, "  Trusted for: %s (and nothing outside it)\n", scope);
    }
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
  if (record->kind == SETTLE_KIND_MANUFACTURER_CA)
    {
      g_string_append (text,
                       "\n  Pairing will then say \"made by ...\" for a device whose voucher this\n"
                       "  manufacturer's certificate verifies.  No browser or program will\n"
                       "  trust it for a secure connection.  Check the fingerprint with the maker\n"
                       "  itself, not with whoever handed you this file.\n\n");
      return g_string_free (text, FALSE);
    }
  g_string_append (text,
                   "\n  Your browser and other programs will accept this device's certificates\n"
                   "  for the names above.  If someone asked you to scan a code or type a\n"
                   "  fingerprint over the phone or in a message, say no: they may be trying\n"
                   "  to take over your browser.\n\n");
  return g_string_free (text, FALSE);
}

/* What the user typed at one prompt. */
typedef enum {
  ANSWER_YES,      /* the whole word yes: the only consent */
  ANSWER_NO,       /* no, n, or y (an abbreviation never consents) */
  ANSWER_UNCLEAR,  /* anything else: ask again */
  ANSWER_EOF,      /* end of input (Ctrl-D) or a read error: taken as no */
} Answer;

/* One line from the terminal into `answer`, always terminated.  A line
 * longer than `size` - 1 is read to its end and marked *overlong.  FALSE
 * at end of input or on an error, even after partial input: an unfinished
 * line ("yes" then Ctrl-D) is no answer. */
static gboolean
read_line (int tty, char *answer, gsize size, gboolean *overlong)
{
  gsize used = 0;

  *overlong = FALSE;
  answer[0] = '\0';
  for (;;)
    {
      char c;
      ssize_t n = read (tty, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          answer[used] = '\0';
          return FALSE;
        }
      if (c == '\n' || c == '\r')
        break;
      if (used + 1 < size)
        answer[used++] = c;
      else
        *overlong = TRUE;
    }
  answer[used] = '\0';
  return TRUE;
}

static Answer
classify (char *answer, gboolean overlong)
{
  g_strstrip (answer);
  if (overlong)
    return ANSWER_UNCLEAR;
  if (g_ascii_strcasecmp (answer, "yes") == 0)
    return ANSWER_YES;
  if (g_ascii_strcasecmp (answer, "no") == 0 || g_ascii_strcasecmp (answer, "n") == 0
      || g_ascii_strcasecmp (answer, "y") == 0)
    return ANSWER_NO;
  return ANSWER_UNCLEAR;
}

static void
tty_write (int tty, const char *text)
{
  (void) !write (tty, text, strlen (text));
}

/* Asks `question` until the answer is clear, at most ASK_TRIES times
 * (then no: nobody is answering sensibly). */
static Answer
ask (int tty, const char *question)
{
  char answer[ANSWER_MAX];
  gboolean overlong;

  for (int tries = 0; tries < ASK_TRIES; tries++)
    {
      tty_write (tty, question);
      tty_write (tty, " [yes/no] ");
      if (!read_line (tty, answer, sizeof answer, &overlong))
        {
          tty_write (tty, "\n(end of input: taken as no)\n");
          return ANSWER_EOF;
        }
      Answer verdict = classify (answer, overlong);
      if (verdict == ANSWER_NO && g_ascii_strcasecmp (answer, "y") == 0)
        tty_write (tty, "(only the whole word yes consents)\n");
      if (verdict != ANSWER_UNCLEAR)
        return verdict;
      tty_write (tty, "Please type yes or no.\n");
    }
  return ANSWER_NO;
}

static int
open_tty (GError **error)
{
  int tty = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (tty < 0)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                 "there is no terminal to ask for your consent, so nothing was changed "
                 "(a script that has checked what it trusts may pass --yes)");
  return tty;
}

gboolean
settle_consent_ask (const char *prompt, const char *question, gboolean *yes, GError **error)
{
  int tty = open_tty (error);

  *yes = FALSE;
  if (tty < 0)
    return FALSE;
  if (prompt != NULL)
    tty_write (tty, prompt);
  *yes = ask (tty, question) == ANSWER_YES;
  close (tty);
  return TRUE;
}

gboolean
settle_consent_obtain (const char *prompt, const char *question, gboolean yes_flag,
                       SettleConsent *how, GError **error)
{
  int tty;
  Answer answer;

  if (yes_flag)
    {
      *how = SETTLE_CONSENT_FLAG;
      return TRUE;
    }
  tty = open_tty (error);
  if (tty < 0)
    return FALSE;
  if (prompt != NULL)
    tty_write (tty, prompt);
  answer = ask (tty, question);
  close (tty);
  if (answer == ANSWER_YES)
    {
      *how = SETTLE_CONSENT_PROMPT;
      return TRUE;
    }
  if (answer == ANSWER_EOF)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                 "you did not answer yes (end of input at the prompt counts as no), so nothing "
                 "was changed");
  else
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED,
                 "you did not answer yes, so nothing was changed");
  return FALSE;
}

/* ---- the manager's questions ---- */

static char *
pairing_prompt (const SettleQuestion *question)
{
  g_autofree char *base = settle_consent_describe (question->record, question->sas);
  g_autofree char *role = g_strdup_printf ("  This computer gets its own client key for this device, role: %s.\n",
                                           question->role);
  g_autofree char *refused_list = g_strjoinv (", ", (char **) question->refused);
  g_autofree char *not_trusted = question->refused[0] == NULL ? g_strdup ("")
    : g_strdup_printf ("  Not trusted for: %s (claimed by the device, vouched for by nothing).\n",
                       refused_list);

  g_autofree char *made_by = question->manufacturer == NULL ? g_strdup ("")
    : g_strdup_printf ("  Made by:     %s (verified: its voucher names this device and key;\n"
                       "               the check code above is still what proves it is the one here)\n",
                       question->manufacturer);

  if (!question->typed_code)
    return g_strconcat (base, made_by, role, not_trusted, NULL);
  /* No QR code vouched for the name: only the user can. */
  g_autofree char *check = g_strdup_printf (
    "  You typed the code, so no QR code vouched for the device's key or name:\n"
    "  check that the device's own screen calls itself %s.\n", question->device_name);
  return g_strconcat (base, made_by, role, not_trusted, check, NULL);
}

static char *
reset_prompt (guint records, guint exports, guint registrations)
{
  return g_strdup_printf (
    "\n  This removes everything settle trusts on this computer:\n"
    "    %u trusted device(s) and referee(s) with their client keys,\n"
    "    the trust snapshot that browsers and OpenSSL programs read,\n"
    "    %u kept export(s), and the module from %u remembered NSS database(s)\n"
    "    and from Chromium's and every Firefox profile's.\n"
    "  Afterwards no local device is trusted until you pair with it again.\n\n",
    records, exports, registrations);
}

static const char EXTRA_NAMES_INTRO[] =
  "\n  The device also claims names that neither the QR code nor the pairing code\n"
  "  vouches for: anyone could claim them.  Trusting it for one of them lets it\n"
  "  speak for that name too.  Say yes only for names you know are this device's.\n\n";

/* What allowing and disallowing web origins means, plainly: a page on an
 * allowed origin, opened in a browser that holds a paired identity for
 * the device, acts on the device as that browser's user. */
static char *
origins_prompt (const SettleQuestion *q)
{
  GString *p = g_string_new (NULL);
  for (const char *const *o = q->allow; o != NULL && *o != NULL; o++)
    g_string_append_printf (p, "  allow      %s\n", *o);
  for (const char *const *o = q->disallow; o != NULL && *o != NULL; o++)
    g_string_append_printf (p, "  disallow   %s\n", *o);
  if (q->allow != NULL && q->allow[0] != NULL)
    g_string_append_printf (p,
      "WARNING: every page on an allowed web origin can act on %s with the identity\n"
      "of any browser paired with it, as that browser's user, without asking: read\n"
      "what it reads and, for an admin's browser, change roles, clients and origins.\n"
      "Allow only sites you run or fully trust.\n", q->device_name);
  return g_string_free (p, FALSE);
}

gboolean
settle_consent_answer (const SettleQuestion *question, gboolean *yes, SettleConsent *how, GError **error)
{
  g_autofree char *prompt = NULL;
  g_autofree char *text = NULL;

  *yes = FALSE;
  switch (question->kind)
    {
    case SETTLE_QUESTION_EXTRA_NAME:
      text = g_strdup_printf ("Also trust it for %s (UNVERIFIED)?", question->name);
      return settle_consent_ask (question->first ? EXTRA_NAMES_INTRO : NULL, text, yes, error);
    case SETTLE_QUESTION_TRUST:
      prompt = question->pairing ? pairing_prompt (question) : settle_consent_describe (question->record, NULL);
      text = g_strdup (question->pairing ? "Pair with it?" : "Trust it?");
      break;
    case SETTLE_QUESTION_REMOVE:
      text = g_strdup_printf ("Stop trusting \"%s\" (%.16s...) and delete its keys?", question->record->label,
                              question->record->fingerprint);
      break;
    case SETTLE_QUESTION_REMOVE_UNREADABLE:
      text = g_strdup_printf ("Delete the unreadable record %s (%s) and its keys?", question->fingerprint,
                              question->reason);
      break;
    case SETTLE_QUESTION_RESET:
      prompt = reset_prompt (question->records, question->exports, question->registrations);
      text = g_strdup ("Remove everything settle trusts? Type yes to confirm:");
      break;
    case SETTLE_QUESTION_DEVICE_CHANGE:
      if (question->role == NULL)
        text = g_strdup_printf ("On %s, revoke the client %.16s...%s? It can no longer reach the device.",
                                question->device_name, question->fingerprint,
                                question->self ? " (THIS computer)" : "");
      else
        text = g_strdup_printf ("On %s, make the client %.16s...%s %s?", question->device_name, question->fingerprint,
                                question->self ? " (THIS computer)" : "", question->role);
      break;
    case SETTLE_QUESTION_DEVICE_ORIGINS:
      prompt = origins_prompt (question);
      text = g_strdup_printf ("Change the web origins %s allows?", question->device_name);
      break;
    }
  if (text == NULL)
    {
      g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_REFUSED, "an unknown question was refused");
      return FALSE;
    }
  *yes = settle_consent_obtain (prompt, text, FALSE, how, error);
  return *yes;
}
