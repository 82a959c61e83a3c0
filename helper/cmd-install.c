/* cmd-install.c: `settle install` and `settle uninstall`: register the
 * PKCS#11 module with NSS databases (an explicit one, Chromium's, every
 * Firefox profile), or remove the registration again.  Both are
 * idempotent: running them twice changes nothing the second time. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "install.h"
#include "settle-installs.h"
#include "settle-nssdb.h"
#include "settle-openssl-paths.h"
#include "settle-profiles.h"
#include "settle-config.h"
#include "settle-error.h"
#include "settle-paths.h"
#include "ui.h"

typedef struct {
  char **nssdbs;      /* --nssdb, owned */
  gboolean chromium;
  gboolean firefox;
  gboolean openssl;   /* --openssl: environment.d for OpenSSL default paths */
  char *module;       /* --module, owned */
} SettleInstallOptions;

typedef struct {
  GPtrArray *dirs;    /* owned strings: the databases to act on */
  GPtrArray *create;  /* owned strings: those to create first (Chromium default) */
  int failures;
} SettleTargets;

static void
settle_install_options_clear (SettleInstallOptions *o)
{
  g_strfreev (o->nssdbs);
  g_free (o->module);
}

static gboolean
settle_install_parse (const char *cmd, gboolean installing, int *argc, char ***argv, SettleInstallOptions *o)
{
  GOptionEntry entries[] = {
    { "nssdb", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->nssdbs,
      "An NSS database directory (DIR or sql:DIR; repeatable)", "DIR" },
    { "chromium", 0, 0, G_OPTION_ARG_NONE, &o->chromium,
      "Chromium's and Chrome's databases ($XDG_DATA_HOME/pki/nssdb, ~/.pki/nssdb, snap, flatpak)", NULL },
    { "firefox", 0, 0, G_OPTION_ARG_NONE, &o->firefox,
      "Every Firefox profile listed in profiles.ini", NULL },
    { "openssl", 0, 0, G_OPTION_ARG_NONE, &o->openssl,
      "OpenSSL's default paths in this user's systemd sessions (~/.config/environment.d/60-settle.conf)", NULL },
    { "module", 0, 0, G_OPTION_ARG_FILENAME, &o->module,
      "The module to register (default: $SETTLE_PKCS11_MODULE, else " SETTLE_PKCS11_MODULE_PATH ")", "PATH" },
    { NULL },
  };
  if (!installing)
    entries[4].long_name = NULL; /* uninstall removes by name, whatever the path */
  g_autoptr (GOptionContext) context = g_option_context_new (
    installing ? "- register the SETTLE trust module with NSS databases"
               : "- remove the SETTLE trust module from NSS databases");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, installing
    ? "Registers the module \"" SETTLE_NSS_MODULE_NAME "\" with modutil. Browsers load it at their\n"
      "next start; from then on, anchors added or removed with settle take effect\n"
      "in the running browser. Firefox must be closed (its profile is locked while\n"
      "it runs). Running it again changes nothing.\n"
      "Exit status: 0 done, 1 a database could not be changed, 2 usage error."
    : "Removes the module registration; databases without it are left as they are.\n"
      "Exit status: 0 done, 1 a database could not be changed, 2 usage error.");
  if (!settle_ui_parse (context, cmd, argc, argv))
    return FALSE;
  if (*argc != 1)
    {
      settle_ui_failf (cmd, "unexpected argument '%s'; run 'settle %s --help'", (*argv)[1], cmd);
      return FALSE;
    }
  if (o->nssdbs == NULL && !o->chromium && !o->firefox && !o->openssl)
    {
      settle_ui_failf (cmd, "say where: --nssdb DIR, --chromium, --firefox or --openssl; run 'settle %s --help'", cmd);
      return FALSE;
    }
  return TRUE;
}

/* The module path to register: --module, $SETTLE_PKCS11_MODULE, the build
 * tree's when this settle runs uninstalled, the installed one; absolute,
 * because NSS stores it as given. */
static char *
settle_install_module_path (const SettleInstallOptions *o, GError **error)
{
  const char *chosen = o->module ? o->module : g_getenv ("SETTLE_PKCS11_MODULE");
  g_autofree char *uninstalled = settle_build_tree_file ("nss-module/libsettle-pkcs11.so");
  if (chosen == NULL)
    chosen = uninstalled != NULL ? uninstalled : SETTLE_PKCS11_MODULE_PATH;
  g_autofree char *path = g_canonicalize_filename (chosen, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "the module %s does not exist; install settle or pass --module PATH.", path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static void
settle_targets_add (SettleTargets *t, const char *dir)
{
  for (guint i = 0; i < t->dirs->len; i++)
    if (strcmp (g_ptr_array_index (t->dirs, i), dir) == 0)
      return;
  g_ptr_array_add (t->dirs, g_strdup (dir));
}

static void
settle_collect_explicit (const char *cmd, const SettleInstallOptions *o, SettleTargets *t)
{
  for (gsize i = 0; o->nssdbs != NULL && o->nssdbs[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = settle_nssdb_dir_from_arg (o->nssdbs[i], &error);
      if (dir == NULL)
        {
          settle_ui_fail (cmd, error);
          t->failures++;
        }
      else
        settle_targets_add (t, dir);
    }
}

/* A sandboxed browser's database gets a clear word instead of a module
 * path it could never load; uninstall still cleans it (an older settle
 * may have registered there).  TRUE when `dir` is to be skipped. */
static gboolean
settle_skip_sandboxed (const char *cmd, gboolean installing, const char *dir)
{
  const char *sandbox = settle_profile_sandbox (dir);
  if (sandbox == NULL || !installing)
    return FALSE;
  fprintf (stderr, "settle %s: not registering in %s: the %s browser there runs in its sandbox and "
                   "cannot load a module from this system's /usr; use the browser from the distribution's "
                   "packages (docs/nss-module.md, \"Registration\").\n", cmd, dir, sandbox);
  return TRUE;
}

static void
settle_collect_chromium (const char *cmd, gboolean installing, SettleTargets *t)
{
  gboolean to_create = FALSE;
  g_auto (GStrv) dirs = settle_chromium_nssdbs (&to_create);
  if (to_create && !installing)
    return; /* nothing was ever installed for Chromium */
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      if (settle_skip_sandboxed (cmd, installing, dirs[i]))
        continue;
      settle_targets_add (t, dirs[i]);
      if (to_create)
        g_ptr_array_add (t->create, g_strdup (dirs[i]));
    }
}

static void
settle_collect_firefox (const char *cmd, gboolean installing, SettleTargets *t)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) profiles = g_ptr_array_new_with_free_func (g_free);
  if (!settle_firefox_profiles (profiles, &error))
    {
      settle_ui_fail (cmd, error);
      t->failures++;
      return;
    }
  if (profiles->len == 0 && installing)
    {
      /* Asked for Firefox and found none: that is a failure, not a success
       * that registers nothing. */
      settle_ui_failf (cmd, "no Firefox profile found (no profiles.ini in ~/.config/mozilla/firefox, "
                            "~/.mozilla/firefox, snap or flatpak); start Firefox once, then run this again.");
      t->failures++;
    }
  for (guint i = 0; i < profiles->len; i++)
    {
      const char *dir = g_ptr_array_index (profiles, i);
      /* Both ways: a running Firefox rewrites pkcs11.txt on exit and would
       * silently undo a removal just as it would an addition. */
      if (settle_skip_sandboxed (cmd, installing, dir))
        continue;
      if (settle_firefox_profile_in_use (dir))
        {
          settle_ui_failf (cmd, "Firefox is running with the profile %s; close it and run this again.", dir);
          t->failures++;
        }
      else if (!settle_nssdb_exists (dir))
        fprintf (stderr, "settle %s: skipping the profile %s: it has no certificate database yet "
                         "(start Firefox once).\n", cmd, dir);
      else
        settle_targets_add (t, dir);
    }
}

static gboolean
settle_is_to_create (const SettleTargets *t, const char *dir)
{
  for (guint i = 0; i < t->create->len; i++)
    if (strcmp (g_ptr_array_index (t->create, i), dir) == 0)
      return TRUE;
  return FALSE;
}

static void settle_remember_registration (const char *cmd, gboolean installed, const char *dir);

static void
settle_apply (const char *cmd, gboolean installing, const char *module, SettleTargets *t)
{
  for (guint i = 0; i < t->dirs->len; i++)
    {
      const char *dir = g_ptr_array_index (t->dirs, i);
      g_autoptr (GError) error = NULL;
      gboolean changed = FALSE, ok;
      if (installing && settle_is_to_create (t, dir) && !settle_nssdb_create (dir, &error))
        ok = FALSE;
      else if (installing)
        ok = settle_nssdb_add_module (dir, module, &changed, &error);
      else
        ok = settle_nssdb_remove_module (dir, &changed, &error);
      if (!ok)
        {
          settle_ui_fail (cmd, error);
          t->failures++;
        }
      else if (installing)
        printf ("%s sql:%s\n", changed ? "Registered in" : "Already registered in", dir);
      else
        printf ("%s sql:%s\n", changed ? "Removed from" : "Not registered in", dir);
      if (ok)
        settle_remember_registration (cmd, installing, dir);
    }
}

/* Remembers every database the module is in (installs.h); a failure to
 * remember is a warning, the registration itself stands. */
static void
settle_remember_registration (const char *cmd, gboolean installed, const char *dir)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = installed ? settle_installs_remember (dir, &error) : settle_installs_forget (dir, &error);
  if (!ok)
    fprintf (stderr, "settle %s: warning: %s\n", cmd, error->message);
}

/* --openssl (openssl-paths.c): one file, reported like a database. */
static void
settle_apply_openssl (const char *cmd, gboolean installing, gboolean quiet_absent, SettleTargets *t)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean changed = FALSE;
  if (!(installing ? settle_openssl_paths_install (&path, &changed, &error)
                   : settle_openssl_paths_uninstall (&path, &changed, &error)))
    {
      settle_ui_fail (cmd, error);
      t->failures++;
    }
  else if (installing)
    printf ("%s %s (OpenSSL default paths; from the next login)\n", changed ? "Wrote" : "Already written:", path);
  else if (changed || !quiet_absent)
    printf ("%s %s\n", changed ? "Removed" : "Not there:", path);
}

static int
settle_install_run (const char *cmd, gboolean installing, int argc, char **argv)
{
  SettleInstallOptions o = { 0 };
  SettleTargets t = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free), 0 };
  g_autofree char *module = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!settle_install_parse (cmd, installing, &argc, &argv, &o))
    status = SETTLE_EXIT_USAGE;
  else if (installing && (o.nssdbs != NULL || o.chromium || o.firefox)
           && (module = settle_install_module_path (&o, &error)) == NULL)
    {
      settle_ui_fail (cmd, error);
      status = SETTLE_EXIT_FAILED;
    }
  else
    {
      settle_collect_explicit (cmd, &o, &t);
      if (o.chromium)
        settle_collect_chromium (cmd, installing, &t);
      if (o.firefox)
        settle_collect_firefox (cmd, installing, &t);
      settle_apply (cmd, installing, module, &t);
      if (o.openssl)
        settle_apply_openssl (cmd, installing, FALSE, &t);
      status = t.failures ? SETTLE_EXIT_FAILED : SETTLE_EXIT_OK;
    }
  g_ptr_array_unref (t.dirs);
  g_ptr_array_unref (t.create);
  settle_install_options_clear (&o);
  return status;
}

/* Remembered databases that still exist (a deleted one only needs
 * forgetting), Chromium's and every Firefox profile's. */
static void
settle_collect_everywhere (const char *cmd, SettleTargets *t)
{
  g_auto (GStrv) remembered = settle_installs_list ();
  for (gsize i = 0; remembered[i] != NULL; i++)
    if (settle_nssdb_exists (remembered[i]))
      settle_targets_add (t, remembered[i]);
    else
      settle_remember_registration (cmd, FALSE, remembered[i]);
  settle_collect_chromium (cmd, FALSE, t);
  settle_collect_firefox (cmd, FALSE, t);
}

int
settle_uninstall_everywhere (const char *cmd)
{
  SettleTargets t = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free), 0 };
  int failures;

  settle_collect_everywhere (cmd, &t);
  settle_apply (cmd, FALSE, NULL, &t);
  settle_apply_openssl (cmd, FALSE, TRUE, &t);
  failures = t.failures;
  g_ptr_array_unref (t.dirs);
  g_ptr_array_unref (t.create);
  return failures;
}

int
settle_cmd_install (int argc, char **argv)
{
  return settle_install_run ("install", TRUE, argc, argv);
}

int
settle_cmd_uninstall (int argc, char **argv)
{
  return settle_install_run ("uninstall", FALSE, argc, argv);
}
