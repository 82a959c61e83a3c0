/* settle-endpoint.h: where a device is reached, and how settle learned it.
 *
 * One type and one parser for every HOST:PORT settle reads: the QR code's
 * address hint, `--address` on the command line, the address a record
 * remembers, and (to come) what discovery finds.  A host is an IPv4
 * address, an IPv6 address (written in [brackets], stored without), or a
 * device name below a local namespace (canonical); a port is 1..65535.
 *
 * Ownership: a SettleEndpoint owns `host`; settle_endpoint_free(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A device reached by its name alone is asked on the HTTPS port. */
#define SETTLE_ENDPOINT_DEFAULT_PORT 443

typedef enum {
  SETTLE_ENDPOINT_QR = 1,     /* the address hint in the QR code or typed code */
  SETTLE_ENDPOINT_TYPED,      /* --address on the command line */
  SETTLE_ENDPOINT_RECORDED,   /* where the device was paired, from its record */
  SETTLE_ENDPOINT_NAME,       /* the device's own name, at the default port */
  SETTLE_ENDPOINT_DISCOVERED, /* found on the network (DNS-SD) */
} SettleEndpointSource;

typedef struct {
  char *host;                 /* owned: IP address (no brackets) or canonical local name */
  guint16 port;
  SettleEndpointSource source;
} SettleEndpoint;

/* Parses "HOST:PORT" or "[IPv6]:PORT".  `what` names the input in error
 * sentences ("The pairing code's address (A)", "--address"): SETTLE_ERROR_FORMAT,
 * "<what> has no ':port'." and the like. */
SettleEndpoint *settle_endpoint_parse (const char *text, SettleEndpointSource source, const char *what,
                                       GError **error);
/* An endpoint from parts already checked (owned copy of `host`). */
SettleEndpoint *settle_endpoint_new (const char *host, guint16 port, SettleEndpointSource source);
/* "host:port", "[v6]:port" (owned). */
char *settle_endpoint_to_string (const SettleEndpoint *endpoint);
/* The same for a bare host and port (owned). */
char *settle_endpoint_format (const char *host, guint16 port);
void settle_endpoint_free (SettleEndpoint *endpoint);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SettleEndpoint, settle_endpoint_free)

G_END_DECLS
