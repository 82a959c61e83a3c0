#!/usr/bin/env bash
# tests/homenet/discovery.sh: the user agent's side of DNS-SD discovery
# (lib/discovery/, docs/discovery.md) in the simulated home network:
#
#   - settle-device on a port other than 443 advertises; `settle discover
#     --json` in ua lists it as offering pairing (schema-valid);
#   - an impostor (another settle-device, its own key, same name) behind a
#     rogue's _settle._tcp for host printer.local is tried first and
#     skipped with the pin mismatch told; `settle pair --qr` of the
#     address-less QR code pairs with the real device on the SRV port;
#   - discover then lists it as paired, with the record's label;
#   - refresh and renew find the device after it restarts on another port;
#   - with the real device gone and only the rogue advertising (and holding
#     the name): the pin error, nothing stored here, no enrolment there;
#   - a malformed and an oversized TXT record are left out with a note, the
#     rest listed; 200 advertisements are listed within the timeout;
#   - no avahi-daemon in ua: discover says so (exit 3), pair falls back to
#     the name and says why.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
: "${SETTLE_DEVICE:?run through meson test}"

homenet_need
need_tool python3
homenet_up

NAME=printer.local
PORT=8443
MOVED_PORT=8444
ROGUE_PORT=9443
LABEL="Office printer"
UA_AVAHI_CONF=$HOMENET_DIR/ua/avahi-daemon.conf
validate() { python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" discover.schema.json "$1"; }

# start_device ROLE ID PORT [ARGS...]: settle-device serve in ROLE on
# 0.0.0.0:PORT with its state in $T_DIR/ID; DEV_PID, DEV_LOG.
start_device() {
  local role=$1 id=$2 port=$3; shift 3
  rm -f "$T_DIR/$id.txt"
  homenet_bg "$role" "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/$id" \
    --listen "0.0.0.0:$port" --qr-png "$T_DIR/$id.png" --qr-text "$T_DIR/$id.txt" "$@"
  DEV_PID=$HOMENET_BG_PID DEV_LOG=$HOMENET_BG_LOG
  if ! homenet_wait listening "$id" "$port"; then
    echo "Bail out! settle-device $id did not start:"; sed 's/^/# /' "$DEV_LOG"; exit 1
  fi
}
listening() { grep -q "^settle-device: listening on 0\.0\.0\.0:$2$" "$DEV_LOG" && [ -s "$T_DIR/$1.txt" ]; }
stop_pid() {
  kill -TERM "$1"
  local i
  for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$1" 2>/dev/null
}

# discover_json FILE [ARGS]: settle discover --json in ua into FILE.
discover_json() { local out=$1; shift; in_ua "$SETTLE" discover --json "$@" >"$out"; }
# device_state FILE HOST PORT: "state label" of that device in FILE.
device_state() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [x for x in d["devices"] if x["host"] == sys.argv[2] and x["port"] == int(sys.argv[3])]
print(" ".join("%s %s" % (x["state"], x["label"]) for x in m))' "$@"
}
# listed_as STATE [LABEL] PORT: discover --json lists printer.local:PORT so.
listed_as() {
  local want=$1 port=$2
  discover_json "$T_DIR/discover.json" --timeout 5 || return 1
  validate "$T_DIR/discover.json" || return 1
  [ "$(device_state "$T_DIR/discover.json" "$NAME" "$port")" = "$want" ]
}
anchors() { in_ua "$SETTLE" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["anchors"]))'; }

# --- the device on a port other than 443 -------------------------------------
start_device device dev "$PORT"
DEVICE_PID=$DEV_PID DEVICE_LOG=$DEV_LOG
check "the device advertises $NAME" homenet_wait grep -q "^settle-device: advertising $NAME" "$DEVICE_LOG"
check "its QR code has no address" bash -c "grep -q '^SETTLE:' '$T_DIR/dev.txt' && ! grep -q ';A:' '$T_DIR/dev.txt'"
check "settle discover --json in ua lists $NAME:$PORT as offering pairing (schema-valid)" \
  homenet_wait listed_as "offers-pairing None" "$PORT"
check "with its address and suites" python3 -c '
import json, sys
d = [x for x in json.load(open(sys.argv[1]))["devices"] if x["port"] == 8443][0]
assert d["addresses"][0] == sys.argv[2] and d["suites"] == ["p256"] and d["instance"] == "printer", d
' "$T_DIR/discover.json" "$HOMENET_DEVICE_ADDR"
check "settle discover (table) shows it offering pairing" bash -c \
  "'$HOMENET' exec ua '$SETTLE' discover | grep -E '^$NAME +$PORT +offers pairing +$HOMENET_DEVICE_ADDR'"

# --- an impostor behind a rogue advertisement ---------------------------------
# Another settle-device (its own key) answering to the same name, on the
# device host's address (the only address printer.local resolves to while
# the device holds the name), advertised by the rogue for host printer.local.
start_device device impostor "$ROGUE_PORT" --no-mdns
IMPOSTOR_PID=$DEV_PID IMPOSTOR_LOG=$DEV_LOG
homenet_bg rogue avahi-publish -s -H "$NAME" Settle-Rogue _settle._tcp "$ROGUE_PORT" v=1 g=p256 pair=1
ROGUE_PUB_PID=$HOMENET_BG_PID
check "ua lists the rogue's service for host $NAME too" homenet_wait listed_as "offers-pairing None" "$ROGUE_PORT"

# --- pairing from the address-less QR code through DNS-SD ---------------------
check "settle pair --qr in ua pairs through DNS-SD" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --label "$LABEL" --timeout 10
cp "$T_DIR/last.out" "$T_DIR/pair.out"
check "the device answered on the SRV port $PORT (found by DNS-SD, not 443)" \
  grep -q "connecting to the device (TLS 1.3): $NAME on the local network \.\.\. $NAME:$PORT$" "$T_DIR/pair.out"
check "the impostor's endpoint was tried and skipped for its key (told, not fatal)" \
  grep -q "Skipped $HOMENET_DEVICE_ADDR:$ROGUE_PORT, found by DNS-SD: it does not have the key named in the QR code" "$T_DIR/pair.out"
check "the key matched the QR code" grep -q "the key matches the QR code" "$T_DIR/pair.out"
check "the impostor enrolled nobody (no proof, no enrolments.json)" bash -c \
  "! grep -q '^settle-device: check code' '$IMPOSTOR_LOG' && ! test -e '$T_DIR/impostor/enrolments.json'"
check "the real device stored the enrolment" test -s "$T_DIR/dev/enrolments.json"
check "one anchor is stored" test "$(anchors)" = 1
check "the record remembers $NAME:$PORT" bash -c \
  "'$HOMENET' exec ua '$SETTLE' list --json | grep -q '\"address\" *: *\"$NAME:$PORT\"'"
check "discover lists $NAME:$PORT as paired, with its label" \
  homenet_wait listed_as "paired $LABEL" "$PORT"
rogue_listed_paired() { [ "$(device_state "$T_DIR/discover.json" "$NAME" "$ROGUE_PORT")" = "paired $LABEL" ]; }
check "the rogue's service naming $NAME is listed by host too (listing decides nothing)" rogue_listed_paired
stop_pid "$IMPOSTOR_PID"

# --- the device moves to another port: refresh and renew find it --------------
check "SIGTERM stops the device" stop_pid "$DEVICE_PID"
start_device device dev "$MOVED_PORT"
DEVICE_PID=$DEV_PID DEVICE_LOG=$DEV_LOG
check "ua lists it on $MOVED_PORT" homenet_wait listed_as "paired $LABEL" "$MOVED_PORT"
check "settle refresh finds it on its new port through DNS-SD" in_ua "$SETTLE" refresh "$LABEL" --timeout 10
check "it says where it found it, and that it is up to date" bash -c \
  "grep -q 'did not answer where it was recorded; found it at $NAME:$MOVED_PORT' '$T_DIR/last.out' &&
   grep -q '\"$LABEL\" is up to date' '$T_DIR/last.out'"
check "settle renew --force finds it too" in_ua "$SETTLE" renew "$LABEL" --force --timeout 10
check "and renews" grep -qi "renewed" "$T_DIR/last.out"

# --- only the rogue: pin error, nothing stored, no enrolment ------------------
check "SIGTERM stops the device" stop_pid "$DEVICE_PID"
not_resolved() { ! in_ua getent hosts "$NAME"; }
check "ua forgets $NAME" homenet_wait not_resolved
kill "$ROGUE_PUB_PID" 2>/dev/null
start_device rogue rogue "$ROGUE_PORT" --no-mdns
ROGUE_DEV_LOG=$DEV_LOG
homenet_bg rogue avahi-publish -a -R "$NAME" "$HOMENET_ROGUE_ADDR"
homenet_bg rogue avahi-publish -s -H "$NAME" Settle-Rogue _settle._tcp "$ROGUE_PORT" v=1 g=p256 pair=1
# (listed as paired: a record names its host; the listing decides nothing)
check "ua lists the rogue's service for $NAME" homenet_wait listed_as "paired $LABEL" "$ROGUE_PORT"
check_fails "settle pair --qr of the device's QR code: the pin error, naming what was tried" \
  "does not have the key named in the QR code, so nothing was sent to it.*tried $HOMENET_ROGUE_ADDR:$ROGUE_PORT \(DNS-SD\)" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --timeout 10
check "nothing more is stored" test "$(anchors)" = 1
check "the rogue enrolled nobody (no proof, no enrolments.json)" bash -c \
  "! grep -q '^settle-device: check code' '$ROGUE_DEV_LOG' && ! test -e '$T_DIR/rogue/enrolments.json'"

# --- malformed and oversized TXT records, 200 advertisements ------------------
big=$(printf 'a%.0s' $(seq 240))
homenet_bg rogue avahi-publish -s Bad-Txt _settle._tcp 9998 v=1 novalue
homenet_bg rogue avahi-publish -s Big-Txt _settle._tcp 9999 v=1 "x=$big" "y=$big"
homenet_bg rogue bash -c 'for i in $(seq 200); do avahi-publish -s "bulk-$i" _settle._tcp $((20000 + i)) v=1 g=p256 pair=1 & done; wait'
browse_count() { [ "$(in_ua avahi-browse -rpt _settle._tcp | grep -c '^=;hn0;IPv4;bulk-')" -ge 200 ]; }
HOMENET_TIMEOUT=120 homenet_wait browse_count
check "avahi-browse in ua sees the 200 advertisements" browse_count
count_bulk() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = len([x for x in d["devices"] if x["instance"].startswith("bulk-")])
assert n == 200 and d["complete"], (n, d["complete"])' "$1"
}
check "settle discover --json --timeout 10 lists all 200, complete, within the timeout" \
  bash -c "start=\$SECONDS; '$HOMENET' exec ua '$SETTLE' discover --json --timeout 10 >'$T_DIR/bulk.json' && [ \$((SECONDS - start)) -le 11 ]"
check "the output is schema-valid" validate "$T_DIR/bulk.json"
check "200 bulk services, complete" count_bulk "$T_DIR/bulk.json"
check "the malformed TXT is left out with a note" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert not [x for x in d["devices"] if x["instance"] in ("Bad-Txt", "Big-Txt")], d
n = " ".join(d["notes"])
assert "\"Bad-Txt\"" in n and "not key=value" in n, n
assert "\"Big-Txt\"" in n and "bytes (at most 400)" in n, n' "$T_DIR/bulk.json"
check "the table says so on stderr" bash -c \
  "'$HOMENET' exec ua '$SETTLE' discover --timeout 10 2>&1 >/dev/null | grep -q 'Left out the service \"Bad-Txt\"'"

# --- no avahi-daemon in ua ----------------------------------------------------
avahi_gone() {
  in_ua dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Avahi | grep -qw false
}
check "avahi-daemon -k stops ua's daemon" in_ua avahi-daemon -k
check "it is gone from ua's bus" homenet_wait avahi_gone
discover_rc() { in_ua "$SETTLE" discover; echo "rc=$?"; }
check "settle discover without avahi-daemon: exit 3, saying so" bash -c \
  "out=\$('$HOMENET' exec ua '$SETTLE' discover 2>&1); rc=\$?; echo \"\$out\"; [ \$rc -eq 3 ] &&
   echo \"\$out\" | grep -q '^settle discover: No avahi-daemon is running on this computer'"
check_fails "settle pair of an address-less QR code falls back to the name, and says why" \
  "$NAME was not found on the local network: .*tried $NAME:443.*No avahi-daemon is running" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --timeout 5
check "nothing more is stored" test "$(anchors)" = 1
homenet_bg ua avahi-daemon -f "$UA_AVAHI_CONF" --no-drop-root --no-chroot --no-rlimits --no-proc-title

no_sanitizer_report() {
  ! grep -El '^==[0-9]+==ERROR: (Address|Leak)Sanitizer|: runtime error: ' "$T_DIR"/bg-*-device.log "$T_DIR"/bg-*-rogue.log
}
check "no sanitizer report from any settle-device" no_sanitizer_report

done_testing
