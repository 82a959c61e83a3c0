#!/usr/bin/env bash
# tests/homenet/homenet-smoke.sh: the simulated home network itself
# (scripts/homenet, README.md here): three hosts with their own system bus
# and avahi-daemon, names published in one resolved by the system resolver
# (libnss-mdns) in the user agent, DNS-SD browsing, what avahi does when a
# rogue claims a taken name, the host left untouched, and `down` leaving
# nothing behind, also after a crash.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"

homenet_need

# What the host has before: nothing of it may change.
host_snapshot() {
  echo "# /etc/nsswitch.conf"; sha256sum /etc/nsswitch.conf
  stat -c '%i %Y %s %a' /etc/nsswitch.conf
  echo "# /run/dbus"; ls -lA --time-style=full-iso /run/dbus 2>&1
}
# /run/avahi-daemon: `up` creates it as an empty mount point when missing.
host_avahi_dir() { [ ! -d /run/avahi-daemon ] || ls -lA --time-style=full-iso /run/avahi-daemon | grep -v '^total ' || true; }
# The host's own mounts and links that would betray a leak.
host_leaks() {
  grep -E 'homenet-|/etc/nsswitch\.conf|/etc/avahi| /run/dbus | /run/avahi-daemon ' /proc/self/mountinfo || true
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -Ex 'hn0|br0|ua|device|rogue' || true
}
before=$(host_snapshot)
before_avahi_dir=$(host_avahi_dir)

started=$SECONDS
homenet_up
pass "scripts/homenet up ($((SECONDS - started)) s)"
check "scripts/homenet status: every avahi-daemon running" "$HOMENET" status
cp "$T_DIR/last.out" "$T_DIR/status.out"

# --- each host: its own system bus with its own avahi-daemon on it -------
bus_id() { "$HOMENET" exec "$1" dbus-send --system --print-reply=literal \
  --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId | tr -d ' '; }
avahi_owner_pid() { "$HOMENET" exec "$1" dbus-send --system --print-reply=literal \
  --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetConnectionUnixProcessID \
  string:org.freedesktop.Avahi | awk '{ print $2 }'; }
avahi_host_name() { "$HOMENET" exec "$1" dbus-send --system --print-reply=literal \
  --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetHostName | tr -d ' '; }
holder() { cat "$HOMENET_DIR/$1/holder.pid"; }
# ROLE: the process owning org.freedesktop.Avahi on ROLE's bus is an
# avahi-daemon living in ROLE's network namespace.
avahi_on_own_bus() {
  local role=$1 pid
  pid=$(avahi_owner_pid "$role")
  echo "owner of org.freedesktop.Avahi: ${pid:-none} ($(cat "/proc/$pid/comm" 2>/dev/null))"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm")" = avahi-daemon ] &&
    [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink "/proc/$(holder "$role")/ns/net")" ] &&
    [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}
declare -A want_name=([ua]=settle-ua [device]=settle-device-host [rogue]=settle-rogue)
ids=$(readlink /proc/self/ns/net)
for role in ua device rogue; do
  check "$role: avahi-daemon is registered on $role's own system bus" avahi_on_own_bus "$role"
  check "$role: avahi host name is ${want_name[$role]}" test "$(avahi_host_name "$role")" = "${want_name[$role]}"
  id=$(bus_id "$role" || true)
  check "$role: a system bus of its own (id ${id:-none})" test -n "$id" -a "${ids/$id/}" = "$ids"
  ids="$ids $id"
  check "$role: IPv4 and IPv6 link-local addresses on hn0" \
    grep -Eq "^  $role: .* 192\.168\.77\.[234]/24 fe80:" "$T_DIR/status.out"
done
# The host's bus, if it has one, is none of them.
if [ -S /run/dbus/system_bus_socket ]; then
  host_id=$(dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.GetId 2>/dev/null | tr -d ' ' || true)
  check "the host's system bus is not one of the homenet's" test "${ids/$host_id/}" = "$ids" -o -z "$host_id"
fi
check "ua: the private nsswitch.conf asks mdns4_minimal" \
  grep -qx 'hosts: *files mdns4_minimal \[NOTFOUND=return\] dns' <(in_ua cat /etc/nsswitch.conf)

# --- a name published in device, resolved by the system resolver in ua ---
homenet_bg device avahi-publish -a -R printer.local "$HOMENET_DEVICE_ADDR"
printer_log=$HOMENET_BG_LOG printer_pid=$HOMENET_BG_PID
probe_name="$HOMENET_NAME-probe.local"
homenet_bg device avahi-publish -a -R "$probe_name" "$HOMENET_DEVICE_ADDR"
# getent goes through NSS (nsswitch.conf -> libnss_mdns4_minimal -> the
# ua's avahi-daemon socket), not through avahi-resolve.
ua_getent_is() { # NAME WANT: `getent hosts NAME` in ua prints exactly WANT
  local got; got=$(in_ua getent hosts "$1" | awk '{ print $1, $2 }')
  echo "getent hosts $1: $got"; [ "$got" = "$2" ]
}
check "ua: getent hosts printer.local answers $HOMENET_DEVICE_ADDR (published in device)" \
  homenet_wait ua_getent_is printer.local "$HOMENET_DEVICE_ADDR printer.local"
check "ua: getent ahosts settle-device-host.local answers $HOMENET_DEVICE_ADDR (the device's host name)" \
  homenet_wait eval "in_ua getent ahosts settle-device-host.local | grep -q '^$HOMENET_DEVICE_ADDR '"
check "device: getent hosts settle-ua.local answers $HOMENET_UA_ADDR" \
  homenet_wait eval "in_device getent hosts settle-ua.local | grep -q '^$HOMENET_UA_ADDR '"
check "ua: getent hosts $probe_name (a name no other test uses) answers" \
  homenet_wait ua_getent_is "$probe_name" "$HOMENET_DEVICE_ADDR $probe_name"
check "host: getent hosts $probe_name finds nothing (the homenet is not the host's network)" \
  eval '! getent hosts "$probe_name"'

# --- DNS-SD: a service with a TXT record, browsed from ua -----------------
homenet_bg device avahi-publish -s "Settle Smoke" _settle._tcp 8443 "fp=SMOKE-$$" "v=1"
service_log=$HOMENET_BG_LOG
ua_browse_has() { # PATTERN (ERE) in `avahi-browse -rpt _settle._tcp` run in ua
  in_ua avahi-browse -rpt _settle._tcp >"$T_DIR/browse.out" 2>&1 || true
  cat "$T_DIR/browse.out"; grep -Eq -- "$1" "$T_DIR/browse.out"
}
device_row="^=;hn0;IPv4;Settle\\\\032Smoke;_settle\\._tcp;local;settle-device-host\\.local;192\\.168\\.77\\.3;8443;.*\"fp=SMOKE-$$\""
check "ua: avahi-browse -rpt _settle._tcp resolves the device's service with its TXT value" \
  homenet_wait ua_browse_has "$device_row"

# --- a rogue claims the same names ----------------------------------------
# Observed with avahi 0.8 (README.md): the second publisher of an address
# record probes, finds the name taken and gives up ("Name collision";
# avahi-publish then aborts on an assertion); the first keeps the name.
check_fails "rogue: publishing printer.local again is refused as a name collision" 'Name collision' \
  in_rogue timeout "$HOMENET_TIMEOUT" avahi-publish -a -R printer.local "$HOMENET_ROGUE_ADDR"
check "device: its publisher of printer.local still runs" kill -0 "$printer_pid"
check "device: the publisher's log shows no collision" eval "! grep -q -i collision '$printer_log'"
check "ua: printer.local still answers only $HOMENET_DEVICE_ADDR" \
  ua_getent_is printer.local "$HOMENET_DEVICE_ADDR printer.local"
check "ua: avahi-resolve -4 printer.local agrees" \
  eval "[ \"\$(in_ua avahi-resolve -4 -n printer.local | awk '{ print \$2 }')\" = $HOMENET_DEVICE_ADDR ]"
# A service name is renamed instead: both are then on the link.
homenet_bg rogue avahi-publish -s "Settle Smoke" _settle._tcp 9443 "fp=EVIL-$$"
rogue_service_log=$HOMENET_BG_LOG
check "rogue: the same service name is renamed 'Settle Smoke #2'" \
  homenet_wait grep -q "Established under name 'Settle Smoke #2'" "$rogue_service_log"
rogue_row="^=;hn0;IPv4;Settle\\\\032Smoke\\\\032\\\\0352;_settle\\._tcp;local;settle-rogue\\.local;192\\.168\\.77\\.4;9443;.*\"fp=EVIL-$$\""
check "ua: browses the rogue's renamed service" homenet_wait ua_browse_has "$rogue_row"
check "ua: the device's service keeps its name, host and TXT value" ua_browse_has "$device_row"
check "device: its service was not renamed" eval "! grep -q '#2' '$service_log'"
# Nothing stops a rogue from pointing a service at the device's host name.
homenet_bg rogue avahi-publish -s -H printer.local "Settle Rogue" _settle._tcp 9443 "fp=EVIL-$$"
check "ua: a rogue's service may name printer.local as its host (resolved to the device's address)" \
  homenet_wait ua_browse_has "^=;hn0;IPv4;Settle\\\\032Rogue;_settle\\._tcp;local;printer\\.local;192\\.168\\.77\\.3;9443;.*\"fp=EVIL-$$\""

# --- the host, while the homenet is up ------------------------------------
check "host: no homenet mount or link visible while up" eval '[ -z "$(host_leaks)" ]'
check "host: /etc/nsswitch.conf and /run/dbus unchanged while up" eval '[ "$(host_snapshot)" = "$before" ]'
check "host: /run/avahi-daemon unchanged while up" eval '[ "$(host_avahi_dir)" = "$before_avahi_dir" ]'

# --- down leaves nothing ----------------------------------------------------
# ns_of_state DIR: the namespace ids the homenet recorded.
ns_of_state() { cat "$1"/*/netns "$1"/*/mntns 2>/dev/null | sort -u; }
# ns_of_marker NAME: the namespaces of the live holders named NAME.
ns_of_marker() {
  local p a
  for p in /proc/[0-9]*; do
    while IFS= read -r -d '' a; do
      case $a in "settle-homenet:$1:"*)
        readlink "$p/ns/net"; readlink "$p/ns/mnt"; break ;; esac
    done 2>/dev/null <"$p/cmdline" || true
  done | grep -vxF -e "$(readlink /proc/self/ns/net)" -e "$(readlink /proc/self/ns/mnt)" | sort -u
}
# nothing_left NAME NSIDS...: no live process named NAME or in one of NSIDS
# (lsns and /proc agree), no mount made from the state directory anywhere.
nothing_left() {
  local name=$1 dir=$2 ok=0 id p st; shift 2
  [ "$#" -gt 0 ] || { echo "no namespace ids to check"; return 1; }
  for id in "$@"; do
    if lsns -n -o NS,TYPE,PID,COMMAND | grep -q "^ *${id//[^0-9]/} "; then
      echo "lsns still lists $id:"; lsns -n -o NS,TYPE,PID,COMMAND | grep "^ *${id//[^0-9]/} "; ok=1; fi
  done
  for p in /proc/[0-9]*; do
    st=$(awk '{ print $3 }' "$p/stat" 2>/dev/null) || continue
    [ "$st" != Z ] || continue
    for id in $(readlink "$p/ns/net" "$p/ns/mnt" 2>/dev/null); do
      case " $* " in *" $id "*) echo "alive in $id: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")"; ok=1 ;; esac
    done
    if tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -q "^settle-homenet:$name:"; then
      echo "holder alive: ${p#/proc/}"; ok=1; fi
    if grep -qF "$dir/" "$p/mountinfo" 2>/dev/null; then echo "mount of $dir in ${p#/proc/}"; ok=1; fi
  done
  ip netns list 2>/dev/null | grep -F "$name" && ok=1
  return $ok
}

mapfile -t main_ns < <(ns_of_state "$HOMENET_DIR")
check "the homenet recorded 7 namespaces (hub net; ua, device, rogue net and mnt)" test "${#main_ns[@]}" -eq 7
check "scripts/homenet down" "$HOMENET" down
check "down: no namespace, process or mount left" nothing_left "$HOMENET_NAME" "$HOMENET_DIR" "${main_ns[@]}"
check "down: the state directory is gone" test ! -e "$HOMENET_DIR"
check "down again: nothing to do, still success" "$HOMENET" down
check_fails "status after down says down (exit 3)" 'down' "$HOMENET" status
check "host: /etc/nsswitch.conf and /run/dbus as before" eval '[ "$(host_snapshot)" = "$before" ]'
check "host: /run/avahi-daemon as before" eval '[ "$(host_avahi_dir)" = "$before_avahi_dir" ]'
check "host: no homenet mount or link left" eval '[ -z "$(host_leaks)" ]'

# --- crashes ----------------------------------------------------------------
# `up` killed (SIGKILL) half way: its holders and daemons are orphans; down
# with the same state directory finds and ends them.
crash_name=${HOMENET_NAME}c crash_dir=$T_DIR/crash
at_exit "HOMENET_NAME=$crash_name HOMENET_DIR=$crash_dir $HOMENET down >/dev/null 2>&1"
HOMENET_NAME=$crash_name HOMENET_DIR=$crash_dir "$HOMENET" up >"$T_DIR/crash-up.log" 2>&1 &
up_pid=$!
homenet_wait test -s "$crash_dir/device/holder.pid" || true
kill -KILL "$up_pid" 2>/dev/null || true
wait "$up_pid" 2>/dev/null || true
mapfile -t crash_ns < <({ ns_of_state "$crash_dir"; ns_of_marker "$crash_name"; } | sort -u)
check "crash: up killed half way left namespaces behind (${#crash_ns[@]})" test "${#crash_ns[@]}" -ge 2
check "crash: down after a killed up" env HOMENET_NAME="$crash_name" HOMENET_DIR="$crash_dir" "$HOMENET" down
check "crash: nothing left" nothing_left "$crash_name" "$crash_dir" "${crash_ns[@]}"

# A whole homenet whose state directory was lost: down finds the holders
# by their names.
lost_name=${HOMENET_NAME}l lost_dir=$T_DIR/lost
at_exit "HOMENET_NAME=$lost_name HOMENET_DIR=$lost_dir $HOMENET down >/dev/null 2>&1"
check "lost state: up" env HOMENET_NAME="$lost_name" HOMENET_DIR="$lost_dir" "$HOMENET" up
mapfile -t lost_ns < <(ns_of_state "$lost_dir")
rm -rf "$lost_dir"
check "lost state: down finds the homenet by its name" \
  env HOMENET_NAME="$lost_name" HOMENET_DIR="$lost_dir" "$HOMENET" down
check "lost state: nothing left" nothing_left "$lost_name" "$lost_dir" "${lost_ns[@]}"

done_testing
