/* device-limits.h: what settle-device allows one source address, so that
 * a flood from one host cannot crowd out enrolled clients and a guesser
 * cannot try pairing codes at full speed (docs/device.md, "Limits";
 * docs/security.md, "Rate limiting").
 *
 * A source is an IPv4 address, or an IPv6 /64 (one host usually owns a
 * whole /64, so single IPv6 addresses would cost an attacker nothing).
 * The table of sources has a fixed size; when it is full the entry seen
 * longest ago that holds no connection and no block is dropped, and only
 * when there is none, the oldest block.  All functions are thread safe. */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

#define SETTLE_DEVICE_LIMIT_CONNECTIONS_PER_SOURCE 8
#define SETTLE_DEVICE_LIMIT_CONNECTIONS_TOTAL 64
#define SETTLE_DEVICE_LIMIT_SOURCES 1024
/* Failed pairing attempts from one source within the window that block it. */
#define SETTLE_DEVICE_LIMIT_FAILURES 4
#define SETTLE_DEVICE_LIMIT_FAILURE_WINDOW_S 600
#define SETTLE_DEVICE_LIMIT_BLOCK_S 300
/* Failed pairing attempts from all sources together within the window
 * that block every source: many addresses (127.0.0.2, a /48 of IPv6)
 * must not multiply the guesses.  Per code, the ceremony server retires
 * a code after SETTLE_CEREMONY_SERVER_MAX_FAILURES. */
#define SETTLE_DEVICE_LIMIT_FAILURES_TOTAL 10

typedef struct _SettleDeviceLimits SettleDeviceLimits;

/* A source in compact form, filled by settle_device_limits_source_of. */
typedef struct {
  guint8 bytes[16];   /* IPv4 as ::ffff:a.b.c.d; IPv6 with the last 64 bits zero */
  char text[48];      /* for log lines: "192.0.2.7", "2001:db8:1:2::/64" */
} SettleDeviceSource;

typedef enum {
  SETTLE_DEVICE_ADMIT_OK,
  SETTLE_DEVICE_ADMIT_SOURCE_FULL,  /* this source has its share of connections */
  SETTLE_DEVICE_ADMIT_TOTAL_FULL,   /* the device has all the connections it serves */
} SettleDeviceAdmission;

SettleDeviceLimits *settle_device_limits_new (void);
void settle_device_limits_free (SettleDeviceLimits *limits);

/* Fills `source` from an accepted peer address; FALSE for a family other
 * than IPv4 and IPv6. */
gboolean settle_device_source_of (const struct sockaddr *addr, socklen_t len, SettleDeviceSource *source);

/* Takes one connection slot for `source`, or says why not.  Every
 * SETTLE_DEVICE_ADMIT_OK is paired with one settle_device_limits_release. */
SettleDeviceAdmission settle_device_limits_admit (SettleDeviceLimits *limits, const SettleDeviceSource *source);
void settle_device_limits_release (SettleDeviceLimits *limits, const SettleDeviceSource *source);

typedef enum {
  SETTLE_DEVICE_BLOCK_NONE = 0,
  SETTLE_DEVICE_BLOCK_SOURCE = 1 << 0,  /* the source reached SETTLE_DEVICE_LIMIT_FAILURES */
  SETTLE_DEVICE_BLOCK_ALL = 1 << 1,     /* all sources reached SETTLE_DEVICE_LIMIT_FAILURES_TOTAL */
} SettleDeviceBlock;

/* Counts one failed pairing attempt; says which blocks this one started
 * (each when its count just reached its limit within the window). */
SettleDeviceBlock settle_device_limits_record_failure (SettleDeviceLimits *limits,
                                                      const SettleDeviceSource *source);
/* Seconds for which `source` may not start a ceremony, 0 when it may;
 * *everyone (optional) tells whether the device-wide block is the reason. */
guint settle_device_limits_blocked_for (SettleDeviceLimits *limits, const SettleDeviceSource *source,
                                        gboolean *everyone);

G_END_DECLS
