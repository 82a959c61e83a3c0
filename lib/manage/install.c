/* install.c: settle_manager_install and settle_manager_uninstall
 * (settle-install.h): the module in NSS databases (settle-nssdb.h),
 * found where browsers keep them (settle-profiles.h), remembered
 * (settle-installs.h); OpenSSL's default paths (settle-openssl-paths.h). */
#include <string.h>

#include "settle-config.h"
#include "settle-error.h"
#include "settle-install.h"
#include "settle-installs.h"
#include "settle-nssdb.h"
#include "settle-openssl-paths.h"
#include "settle-paths.h"
#include "settle-profiles.h"

typedef struct {
  SettleManager *manager;
  gboolean installing;
  GPtrArray *dirs;    /* owned strings: the databases to act on */
  GPtrArray *create;  /* owned strings: those to create first (Chromium default) */
  guint failures;
} Targets;

static void
targets_init (Targets *t, SettleManager *manager, gboolean installing)
{
  t->manager = manager;
  t->installing = installing;
  t->dirs = g_ptr_array_new_with_free_func (g_free);
  t->create = g_ptr_array_new_with_free_func (g_free);
  t->failures = 0;
}

static void
targets_clear (Targets *t)
{
  g_ptr_array_unref (t->dirs);
  g_ptr_array_unref (t->create);
}

/* One place that could not be changed: said, counted, and the others go on. */
static void
failed (Targets *t, const char *message)
{
  settle_manager_note (t->manager, SETTLE_NOTE_NOTICE, "%s", message);
  t->failures++;
}

/* The module path to register: the request's, $SETTLE_PKCS11_MODULE, the
 * build tree's when this settle runs uninstalled, the installed one;
 * absolute, because NSS stores it as given. */
static char *
module_path (const SettleInstallPlaces *places, GError **error)
{
  const char *chosen = places->module ? places->module : g_getenv ("SETTLE_PKCS11_MODULE");
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
targets_add (Targets *t, const char *dir)
{
  for (guint i = 0; i < t->dirs->len; i++)
    if (strcmp (g_ptr_array_index (t->dirs, i), dir) == 0)
      return;
  g_ptr_array_add (t->dirs, g_strdup (dir));
}

static void
collect_explicit (const SettleInstallPlaces *places, Targets *t)
{
  for (gsize i = 0; places->nssdbs != NULL && places->nssdbs[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = settle_nssdb_dir_from_arg (places->nssdbs[i], &error);
      if (dir == NULL)
        failed (t, error->message);
      else
        targets_add (t, dir);
    }
}

/* A sandboxed browser's database gets a clear word instead of a module
 * path it could never load; uninstall still cleans it (an older settle
 * may have registered there).  TRUE when `dir` is to be skipped. */
static gboolean
skip_sandboxed (Targets *t, const char *dir)
{
  const char *sandbox = settle_profile_sandbox (dir);

  if (sandbox == NULL || !t->installing)
    return FALSE;
  settle_manager_note (t->manager, SETTLE_NOTE_NOTICE,
                       "not registering in %s: the %s browser there runs in its sandbox and "
                       "cannot load a module from this system's /usr; use the browser from the distribution's "
                       "packages (docs/nss-module.md, \"Registration\").", dir, sandbox);
  return TRUE;
}

static void
collect_chromium (Targets *t)
{
  gboolean to_create = FALSE;
  g_auto (GStrv) dirs = settle_chromium_nssdbs (&to_create);

  if (to_create && !t->installing)
    return; /* nothing was ever installed for Chromium */
  for (gsize i = 0; dirs[i] != NULL; i++)
    {
      if (skip_sandboxed (t, dirs[i]))
        continue;
      targets_add (t, dirs[i]);
      if (to_create)
        g_ptr_array_add (t->create, g_strdup (dirs[i]));
    }
}

static void
collect_firefox (Targets *t)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) profiles = g_ptr_array_new_with_free_func (g_free);

  if (!settle_firefox_profiles (profiles, &error))
    {
      failed (t, error->message);
      return;
    }
  if (profiles->len == 0 && t->installing)
    /* Asked for Firefox and found none: that is a failure, not a success
     * that registers nothing. */
    failed (t, "no Firefox profile found (no profiles.ini in ~/.config/mozilla/firefox, "
               "~/.mozilla/firefox, snap or flatpak); start Firefox once, then run this again.");
  for (guint i = 0; i < profiles->len; i++)
    {
      const char *dir = g_ptr_array_index (profiles, i);
      /* Both ways: a running Firefox rewrites pkcs11.txt on exit and would
       * silently undo a removal just as it would an addition. */
      if (skip_sandboxed (t, dir))
        continue;
      if (settle_firefox_profile_in_use (dir))
        {
          g_autofree char *message = g_strdup_printf (
            "Firefox is running with the profile %s; close it and run this again.", dir);
          failed (t, message);
        }
      else if (!settle_nssdb_exists (dir))
        settle_manager_note (t->manager, SETTLE_NOTE_NOTICE,
                             "skipping the profile %s: it has no certificate database yet (start Firefox once).",
                             dir);
      else
        targets_add (t, dir);
    }
}

static gboolean
is_to_create (const Targets *t, const char *dir)
{
  for (guint i = 0; i < t->create->len; i++)
    if (strcmp (g_ptr_array_index (t->create, i), dir) == 0)
      return TRUE;
  return FALSE;
}

/* Remembers every database the module is in (settle-installs.h); a
 * failure to remember is a warning, the registration itself stands. */
static void
remember_registration (Targets *t, gboolean installed, const char *dir)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = installed ? settle_installs_remember (dir, &error) : settle_installs_forget (dir, &error);

  if (!ok)
    settle_manager_note (t->manager, SETTLE_NOTE_NOTICE, "warning: %s", error->message);
}

static void
apply (const char *module, Targets *t)
{
  for (guint i = 0; i < t->dirs->len; i++)
    {
      const char *dir = g_ptr_array_index (t->dirs, i);
      g_autoptr (GError) error = NULL;
      gboolean changed = FALSE, ok;
      if (t->installing && is_to_create (t, dir) && !settle_nssdb_create (dir, &error))
        ok = FALSE;
      else if (t->installing)
        ok = settle_nssdb_add_module (dir, module, &changed, &error);
      else
        ok = settle_nssdb_remove_module (dir, &changed, &error);
      if (!ok)
        failed (t, error->message);
      else if (t->installing)
        settle_manager_note (t->manager, SETTLE_NOTE_RESULT, "%s sql:%s",
                             changed ? "Registered in" : "Already registered in", dir);
      else
        settle_manager_note (t->manager, SETTLE_NOTE_RESULT, "%s sql:%s",
                             changed ? "Removed from" : "Not registered in", dir);
      if (ok)
        remember_registration (t, t->installing, dir);
    }
}

/* OpenSSL's default paths (settle-openssl-paths.h): one file, reported
 * like a database. */
static void
apply_openssl (Targets *t, gboolean quiet_absent)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean changed = FALSE;

  if (!(t->installing ? settle_openssl_paths_install (&path, &changed, &error)
                      : settle_openssl_paths_uninstall (&path, &changed, &error)))
    failed (t, error->message);
  else if (t->installing)
    settle_manager_note (t->manager, SETTLE_NOTE_RESULT, "%s %s (OpenSSL default paths; from the next login)",
                         changed ? "Wrote" : "Already written:", path);
  else if (changed || !quiet_absent)
    settle_manager_note (t->manager, SETTLE_NOTE_RESULT, "%s %s", changed ? "Removed" : "Not there:", path);
}

static gboolean
run (SettleManager *manager, gboolean installing, const SettleInstallPlaces *places, guint *failures,
     GError **error)
{
  Targets t;
  g_autofree char *module = NULL;

  *failures = 0;
  if (installing && (places->nssdbs != NULL || places->chromium || places->firefox)
      && (module = module_path (places, error)) == NULL)
    return FALSE;
  targets_init (&t, manager, installing);
  collect_explicit (places, &t);
  if (places->chromium)
    collect_chromium (&t);
  if (places->firefox)
    collect_firefox (&t);
  apply (module, &t);
  if (places->openssl)
    apply_openssl (&t, FALSE);
  *failures = t.failures;
  targets_clear (&t);
  return TRUE;
}

gboolean
settle_manager_install (SettleManager *manager, const SettleInstallPlaces *places, guint *failures,
                        GError **error)
{
  return run (manager, TRUE, places, failures, error);
}

gboolean
settle_manager_uninstall (SettleManager *manager, const SettleInstallPlaces *places, guint *failures,
                          GError **error)
{
  return run (manager, FALSE, places, failures, error);
}

guint
settle_manager_uninstall_everywhere (SettleManager *manager)
{
  Targets t;
  g_auto (GStrv) remembered = settle_installs_list ();
  guint failures;

  targets_init (&t, manager, FALSE);
  /* Remembered databases that still exist (a deleted one only needs
   * forgetting), Chromium's and every Firefox profile's. */
  for (gsize i = 0; remembered[i] != NULL; i++)
    if (settle_nssdb_exists (remembered[i]))
      targets_add (&t, remembered[i]);
    else
      remember_registration (&t, FALSE, remembered[i]);
  collect_chromium (&t);
  collect_firefox (&t);
  apply (NULL, &t);
  apply_openssl (&t, TRUE);
  failures = t.failures;
  targets_clear (&t);
  return failures;
}
