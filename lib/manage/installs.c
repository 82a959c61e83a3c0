/* installs.c: the remembered module registrations (installs.h), kept in
 * settle.conf's [install] nssdbs (settle-conf.h). */
#include "settle-installs.h"
#include "settle-conf.h"

#define INSTALL_GROUP "install"
#define INSTALL_KEY "nssdbs"

char **
settle_installs_list (void)
{
  return settle_conf_list (INSTALL_GROUP, INSTALL_KEY);
}

gboolean
settle_installs_remember (const char *nssdb_dir, GError **error)
{
  return settle_conf_list_add (INSTALL_GROUP, INSTALL_KEY, nssdb_dir, error);
}

gboolean
settle_installs_forget (const char *nssdb_dir, GError **error)
{
  return settle_conf_list_remove (INSTALL_GROUP, INSTALL_KEY, nssdb_dir, NULL, error);
}
