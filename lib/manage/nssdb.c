/* nssdb.c: modutil and certutil, run as child processes. */
#include "settle-nssdb.h"

#include <errno.h>
#include <string.h>

#include "settle-error.h"

static char *
settle_nss_tool (const char *name, GError **error)
{
  char *path = g_find_program_in_path (name);
  if (path == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                 "%s is not installed; install the NSS tools (Debian: apt install libnss3-tools).", name);
  return path;
}

/* The first line a tool printed on stderr (or stdout), for error messages. */
static char *
settle_first_line (const char *err, const char *out)
{
  const char *text = (err != NULL && *err != '\0') ? err : (out != NULL ? out : "");
  while (*text == '\n' || *text == ' ')
    text++;
  return g_strndup (text, strcspn (text, "\n"));
}

/* Runs an NSS tool with stdin closed and captured output; `out` (owned,
 * may be NULL) gets stdout.  Fails with the tool's own first line. */
static gboolean
settle_run_nss_tool (const char *tool, const char *const *args, char **out, GError **error)
{
  g_autofree char *path = settle_nss_tool (tool, error);
  if (path == NULL)
    return FALSE;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, path);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_autofree char *child_out = NULL;
  g_autofree char *child_err = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL,
                     &child_out, &child_err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *why = settle_first_line (child_err, child_out);
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "%s failed: %s", tool, why);
      return FALSE;
    }
  if (out != NULL)
    *out = g_steal_pointer (&child_out);
  return TRUE;
}

char *
settle_nssdb_dir_from_arg (const char *arg, GError **error)
{
  if (g_str_has_prefix (arg, "dbm:"))
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
                   "'%s' is a legacy dbm database; only sql: databases are supported.", arg);
      return NULL;
    }
  const char *dir = g_str_has_prefix (arg, "sql:") ? arg + 4 : arg;
  if (*dir == '\0')
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "the NSS database directory is empty.");
      return NULL;
    }
  return g_canonicalize_filename (dir, NULL);
}

gboolean
settle_nssdb_exists (const char *dir)
{
  g_autofree char *cert9 = g_build_filename (dir, "cert9.db", NULL);
  return g_file_test (cert9, G_FILE_TEST_IS_REGULAR);
}

static char *
settle_db_spec (const char *dir)
{
  return g_strconcat ("sql:", dir, NULL);
}

gboolean
settle_nssdb_create (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED, "cannot create %s: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  g_autofree char *spec = settle_db_spec (dir);
  const char *args[] = { "-N", "-d", spec, "--empty-password", NULL };
  return settle_run_nss_tool ("certutil", args, NULL, error);
}

/* modutil -rawlist prints one line per module with name="...". */
gboolean
settle_nssdb_has_module (const char *dir, gboolean *has, GError **error)
{
  g_autofree char *spec = settle_db_spec (dir);
  g_autofree char *out = NULL;
  const char *args[] = { "-rawlist", "-dbdir", spec, NULL };
  if (!settle_run_nss_tool ("modutil", args, &out, error))
    return FALSE;
  *has = strstr (out, "name=\"" SETTLE_NSS_MODULE_NAME "\"") != NULL;
  return TRUE;
}

static gboolean
settle_nssdb_registered_path (const char *dir, const char *module_path, gboolean *same, GError **error)
{
  g_autofree char *spec = settle_db_spec (dir);
  g_autofree char *out = NULL;
  const char *args[] = { "-rawlist", "-dbdir", spec, NULL };
  if (!settle_run_nss_tool ("modutil", args, &out, error))
    return FALSE;
  g_autofree char *expected = g_strdup_printf ("library=\"%s\" name=\"%s\"", module_path,
                                               SETTLE_NSS_MODULE_NAME);
  *same = strstr (out, expected) != NULL;
  return TRUE;
}

static gboolean
settle_nssdb_check_exists (const char *dir, GError **error)
{
  if (settle_nssdb_exists (dir))
    return TRUE;
  g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_FAILED,
               "%s holds no NSS database (no cert9.db); create one with 'certutil -N -d sql:%s' "
               "or start the browser once.", dir, dir);
  return FALSE;
}

gboolean
settle_nssdb_add_module (const char *dir, const char *module_path, gboolean *changed, GError **error)
{
  gboolean has = FALSE, same = FALSE;
  *changed = FALSE;
  if (!settle_nssdb_check_exists (dir, error) || !settle_nssdb_has_module (dir, &has, error))
    return FALSE;
  if (has && !settle_nssdb_registered_path (dir, module_path, &same, error))
    return FALSE;
  if (has && same)
    return TRUE;
  g_autofree char *spec = settle_db_spec (dir);
  if (has)
    {
      const char *del[] = { "-delete", SETTLE_NSS_MODULE_NAME, "-dbdir", spec, "-force", NULL };
      if (!settle_run_nss_tool ("modutil", del, NULL, error))
        return FALSE;
    }
  /* -force: modutil would otherwise stop to ask whether a browser is running. */
  const char *add[] = { "-add", SETTLE_NSS_MODULE_NAME, "-libfile", module_path, "-dbdir", spec,
                        "-force", NULL };
  if (!settle_run_nss_tool ("modutil", add, NULL, error))
    return FALSE;
  *changed = TRUE;
  return TRUE;
}

gboolean
settle_nssdb_remove_module (const char *dir, gboolean *changed, GError **error)
{
  gboolean has = FALSE;
  *changed = FALSE;
  if (!settle_nssdb_check_exists (dir, error) || !settle_nssdb_has_module (dir, &has, error))
    return FALSE;
  if (!has)
    return TRUE;
  g_autofree char *spec = settle_db_spec (dir);
  const char *del[] = { "-delete", SETTLE_NSS_MODULE_NAME, "-dbdir", spec, "-force", NULL };
  if (!settle_run_nss_tool ("modutil", del, NULL, error))
    return FALSE;
  *changed = TRUE;
  return TRUE;
}
