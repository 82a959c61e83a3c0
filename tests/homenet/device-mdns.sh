#!/usr/bin/env bash
# tests/homenet/device-mdns.sh: settle-device advertises itself through
# avahi-daemon (device/device-mdns.c, docs/device.md "On the local
# network") in the simulated home network, and a helper in ua pairs from
# a QR code without an address, finding printer.local by name:
#
#   - ua's system resolver (libnss-mdns) answers printer.local with the
#     device's address; avahi-browse shows _settle._tcp on the port with
#     TXT exactly v=1 g=p256 pair=1, and _https._tcp with path=/;
#   - the device's QR payload has no A field;
#   - `settle pair` in ua pairs by name; the snapshot then serves
#     printer.local to curl --capath with no --resolve (system resolver);
#     the TXT turns to pair=0;
#   - a rogue's _settle._tcp for host printer.local on its own port does
#     not get in the way (the helper connects by name; discovery versus
#     rogues is tested with lib/discovery/);
#   - SIGTERM withdraws everything (ua stops seeing it);
#   - a rogue holding the name first: the device names the collision,
#     keeps serving, and its QR code carries the address;
#   - no avahi-daemon: said once, served anyway, QR with A; when the
#     daemon comes back the device advertises again;
#   - --no-mdns publishes nothing and the QR code carries the address.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
: "${SETTLE_DEVICE:?run through meson test}"

homenet_need
need_tool curl python3
homenet_up

PORT=443   # a QR code without address: the helper finds the name by DNS-SD, else on 443
NAME=printer.local
TRUST_DIR=$XDG_DATA_HOME/settle/trust
DEVICE_AVAHI_CONF=$HOMENET_DIR/device/avahi-daemon.conf

# start_device ID [ARGS...]: settle-device serve in the device host on
# 0.0.0.0:443 with its state in $T_DIR/ID; DEV_PID, DEV_LOG; waits for
# "listening on" and the QR text ($T_DIR/ID.txt, $T_DIR/ID.png).
start_device() {
  local id=$1; shift
  rm -f "$T_DIR/$id.txt"
  homenet_bg device "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/$id" \
    --listen "0.0.0.0:$PORT" --qr-png "$T_DIR/$id.png" --qr-text "$T_DIR/$id.txt" "$@"
  DEV_PID=$HOMENET_BG_PID DEV_LOG=$HOMENET_BG_LOG
  if ! homenet_wait device_listening "$id"; then
    echo "Bail out! settle-device $id did not start:"; sed 's/^/# /' "$DEV_LOG"; exit 1
  fi
}
device_listening() { grep -q "^settle-device: listening on 0\.0\.0\.0:$PORT$" "$DEV_LOG" && [ -s "$T_DIR/$1.txt" ]; }
# stop_device: SIGTERM, and the device must stop by itself.
stop_device() {
  kill -TERM "$DEV_PID"
  local i
  for i in $(seq 100); do kill -0 "$DEV_PID" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$DEV_PID" 2>/dev/null && grep -q '^settle-device: stopped$' "$DEV_LOG"
}

# What ua's avahi-browse resolves for TYPE, as "instance;host;address;port;txt" of
# IPv4 lines, TXT keys sorted: "printer;printer.local;192.168.77.3;443;g=p256 pair=1 v=1".
browse() {
  in_ua avahi-browse -rpt "$1" | python3 -c '
import sys, shlex
seen = set()
for line in sys.stdin:
    f = line.rstrip("\n").split(";")
    if len(f) >= 10 and f[0] == "=" and f[2] == "IPv4":
        txt = " ".join(sorted(shlex.split(";".join(f[9:]))))
        seen.add(";".join(f[3:4] + f[6:9] + [txt]))
print("\n".join(sorted(seen)))'
}
# browse_has TYPE LINE: the resolved service is there, exactly so.
browse_has() { browse "$1" | tee /dev/stderr | grep -qxF -- "$2"; }
# browse_lacks TYPE INSTANCE: no service of that instance name.
browse_lacks() { ! browse "$1" | tee /dev/stderr | grep -q "^$2;"; }
resolves_to() { [ "$(in_ua getent hosts "$NAME" | awk '{ print $1 }')" = "$1" ]; }
not_resolved() { ! in_ua getent hosts "$NAME"; }
qr_has_no_address() { grep -q '^SETTLE:' "$T_DIR/$1.txt" && ! grep -q ';A:' "$T_DIR/$1.txt"; }
serves_page_by_address() {
  in_ua curl -sk --max-time 10 "https://$HOMENET_DEVICE_ADDR:$PORT/" | grep -q "<h1>$NAME</h1>"
}
qr_has_address() { grep -q "^SETTLE:V:1;G:p256;N:$NAME;A:$2;" "$T_DIR/$1.txt"; }

DEVICE_SERVICE="printer;$NAME;$HOMENET_DEVICE_ADDR;$PORT"

# --- a rogue advertises _settle._tcp for host printer.local on its own port --
homenet_bg rogue avahi-publish -s -H "$NAME" Settle-Rogue _settle._tcp 9443 fp=EVIL
rogue_service_pid=$HOMENET_BG_PID

# --- the device advertises --------------------------------------------------
start_device dev
check "the device says it advertises $NAME" grep -q "^settle-device: advertising $NAME on the local network (mDNS/DNS-SD" "$DEV_LOG"
check "ua: getent hosts $NAME answers the device's address (libnss-mdns)" homenet_wait resolves_to "$HOMENET_DEVICE_ADDR"
check "ua: _settle._tcp on port $PORT with TXT exactly g=p256 pair=1 v=1" \
  homenet_wait browse_has _settle._tcp "$DEVICE_SERVICE;g=p256 pair=1 v=1"
check "ua: _https._tcp on port $PORT with path=/" homenet_wait browse_has _https._tcp "$DEVICE_SERVICE;path=/"
check "the rogue's _settle._tcp is there too (and must not matter)" \
  homenet_wait browse_has _settle._tcp "Settle-Rogue;$NAME;$HOMENET_DEVICE_ADDR;9443;fp=EVIL"
check "the device's QR payload has no address field A" qr_has_no_address dev
check "the device's hint for a typed code goes by name" grep -q "settle pair --code - --address $NAME:$PORT" "$DEV_LOG"
check_fails "before pairing, curl in ua does not trust $NAME" "curl: \((60|77)\)" \
  in_ua curl -sS --max-time 10 -o /dev/null --capath "$TRUST_DIR" "https://$NAME:$PORT/"

# --- pairing in ua from the QR code without an address -----------------------
check "settle pair --qr PNG --yes in ua pairs with the QR code without address" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --timeout 10
check "it found $NAME by name (system resolver) and the key matched the QR code" bash -c \
  "grep -q 'connecting to the device (TLS 1.3): $NAME on the local network ... $NAME:$PORT' '$T_DIR/last.out' &&
   grep -q 'the key matches the QR code' '$T_DIR/last.out'"
one_anchor_for_name() {
  in_ua "$SETTLE" list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)["anchors"]
assert len(a) == 1 and a[0]["scope"] == [sys.argv[1]], a
' "$NAME"
}
check "the snapshot has $NAME" one_anchor_for_name
check "curl --capath TRUST in ua opens https://$NAME:$PORT/ through the system resolver, no --resolve" \
  in_ua curl -sS --max-time 10 -o "$T_DIR/page.html" --capath "$TRUST_DIR" "https://$NAME:$PORT/"
check "it is the device's page" grep -q "<h1>$NAME</h1>" "$T_DIR/page.html"
check "after the pairing the TXT says pair=0 (and nothing more)" \
  homenet_wait browse_has _settle._tcp "$DEVICE_SERVICE;g=p256 pair=0 v=1"

# --- SIGTERM withdraws the advertisement --------------------------------------
check "SIGTERM stops the device" stop_device
check "it says it withdrew the advertisement" grep -q "^settle-device: withdrew the advertisement of $NAME$" "$DEV_LOG"
check "ua no longer sees the device's _settle._tcp" homenet_wait browse_lacks _settle._tcp printer
check "nor its _https._tcp" homenet_wait browse_lacks _https._tcp printer
check "nor resolves $NAME" homenet_wait not_resolved
kill "$rogue_service_pid" 2>/dev/null || true

# --- a rogue holds the name first: collision, the device keeps serving -------
homenet_bg rogue avahi-publish -a -R "$NAME" "$HOMENET_ROGUE_ADDR"
rogue_name_pid=$HOMENET_BG_PID
check "ua resolves $NAME to the rogue" homenet_wait resolves_to "$HOMENET_ROGUE_ADDR"
start_device collide
check "the device names the collision" \
  grep -q "^settle-device: another host on the network already answers to $NAME; not advertising it" "$DEV_LOG"
check "and does not claim to advertise" bash -c "! grep -q 'advertising $NAME on the local network' '$DEV_LOG'"
check "its QR code then carries the address" qr_has_address collide "$HOMENET_DEVICE_ADDR:$PORT"
check "it keeps serving (ua reaches its page by address)" \
  serves_page_by_address
check "ua still resolves $NAME to the rogue, not both" resolves_to "$HOMENET_ROGUE_ADDR"
check "the device published no service for the name it lost" browse_lacks _settle._tcp printer
check "SIGTERM stops it" stop_device
kill "$rogue_name_pid" 2>/dev/null || true
check "the rogue's name is gone" homenet_wait not_resolved

# --- no avahi-daemon: said once, served anyway; back when the daemon is ------
# Gone from the device host's bus, not just told to go.
avahi_gone() {
  in_device dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Avahi | grep -qw false
}
check "avahi-daemon -k stops the device host's daemon" in_device avahi-daemon -k
check "it is gone from the device host's system bus" homenet_wait avahi_gone
start_device nodaemon
check "the device says once that no avahi-daemon is there" \
  test "$(grep -c '^settle-device: no avahi-daemon' "$DEV_LOG")" -eq 1
check "its QR code carries the address" qr_has_address nodaemon "$HOMENET_DEVICE_ADDR:$PORT"
check "it serves (ua reaches its page by address)" \
  serves_page_by_address
homenet_bg device avahi-daemon -f "$DEVICE_AVAHI_CONF" --no-drop-root --no-chroot --no-rlimits --no-proc-title
check "when avahi-daemon is back, the device advertises" \
  homenet_wait grep -q "^settle-device: advertising $NAME on the local network" "$DEV_LOG"
check "ua resolves $NAME to the device again" homenet_wait resolves_to "$HOMENET_DEVICE_ADDR"
check "and sees its _settle._tcp (a fresh state: pair=1)" \
  homenet_wait browse_has _settle._tcp "$DEVICE_SERVICE;g=p256 pair=1 v=1"
check "avahi-daemon restarting under it: the device comes back by itself" in_device avahi-daemon -k
homenet_bg device avahi-daemon -f "$DEVICE_AVAHI_CONF" --no-drop-root --no-chroot --no-rlimits --no-proc-title
check "it says the daemon went away" homenet_wait grep -q "^settle-device: avahi-daemon went away" "$DEV_LOG"
advertised_twice() { [ "$(grep -c "^settle-device: advertising $NAME on the local network" "$DEV_LOG")" -ge 2 ]; }
check "and advertises again" homenet_wait advertised_twice
check "ua sees it again" homenet_wait browse_has _settle._tcp "$DEVICE_SERVICE;g=p256 pair=1 v=1"
check "SIGTERM stops it" stop_device
check "ua no longer sees it" homenet_wait browse_lacks _settle._tcp printer

# --- --no-mdns: nothing published, the address in the QR code ----------------
start_device quiet --no-mdns
check "--no-mdns: the QR code carries the address" qr_has_address quiet "$HOMENET_DEVICE_ADDR:$PORT"
check "--no-mdns: no word of advertising" bash -c "! grep -qi 'advertis\|avahi' '$DEV_LOG'"
# Absence needs some time to show: avahi-browse listens for 3 s.
check "--no-mdns: ua browses no _settle._tcp within 3 s" \
  bash -c "! '$HOMENET' exec ua timeout 3 avahi-browse -rp _settle._tcp | grep -q ';_settle._tcp;'"
check "--no-mdns: nor _https._tcp" \
  bash -c "! '$HOMENET' exec ua timeout 3 avahi-browse -rp _https._tcp | grep -q ';_https._tcp;'"
check "--no-mdns: ua does not resolve $NAME" not_resolved
check "--no-mdns: the device serves" \
  serves_page_by_address
check "SIGTERM stops it" stop_device

# --- --qr-address overrides ---------------------------------------------------
start_device forced --qr-address yes
check "--qr-address yes: the QR code carries the address while advertising" \
  qr_has_address forced "$HOMENET_DEVICE_ADDR:$PORT"
check "SIGTERM stops it" stop_device
check "ua forgets $NAME (the goodbye, then the cache)" homenet_wait not_resolved
start_device bare --no-mdns --qr-address no
check "--no-mdns --qr-address no: no address in the QR code" qr_has_no_address bare
check_fails "a device nobody advertises is not found by its name: settle pair says so" \
  "$NAME was not found on the local network: " in_ua "$SETTLE" pair --qr "$T_DIR/bare.png" --yes --timeout 10
check "and stored nothing more" one_anchor_for_name
check "SIGTERM stops it" stop_device

# --- no system bus at all: said once, served anyway, QR with A ----------------
# (settle-device is the program here: homenet_bg runs `env` first.)
homenet_bg device env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/settle-test-bus \
  "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/nobus" --listen "0.0.0.0:$PORT" \
  --qr-png "$T_DIR/nobus.png" --qr-text "$T_DIR/nobus.txt"
DEV_PID=$HOMENET_BG_PID DEV_LOG=$HOMENET_BG_LOG
check "no system bus: the device starts" homenet_wait device_listening nobus
check "it says once that no avahi-daemon is reachable" \
  test "$(grep -c '^settle-device: no avahi-daemon is reachable' "$DEV_LOG")" -eq 1
check "its QR code carries the address" qr_has_address nobus "$HOMENET_DEVICE_ADDR:$PORT"
check "it serves" serves_page_by_address
check "SIGTERM stops it" stop_device

# Under -Db_sanitize the devices' own reports (leaks, overflows, UB in the
# avahi thread too) are in their logs, not in any check's output.
no_device_sanitizer_report() {
  ! grep -El '^==[0-9]+==ERROR: (Address|Leak)Sanitizer|: runtime error: ' "$T_DIR"/bg-*-device.log
}
check "no sanitizer report from any settle-device" no_device_sanitizer_report

done_testing
