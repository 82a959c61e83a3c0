#!/usr/bin/env bash
# tests/homenet/portable-mode.sh: private advertisements of a portable
# device (REQ-NAME-05, docs/portable.md) in the simulated home network,
# with real avahi-daemons (a product test: no SETTLE_* override):
#
#   - settle-device serve --portable --rotation 8 in `device`;
#   - `rogue` is a passive observer: avahi-browse -arpt (every service
#     type, resolved) in the middle of each period, 3 periods before and 3
#     after the pairing: no instance name, host name, address record name
#     or TXT string repeats across periods, TXT is v=1 only, and nothing
#     contains the settle name, the device CA's fingerprint or SPKI hash,
#     or the QR code's key hash;
#   - ua pairs from the address-less QR code (found by its pairing label);
#     after a rotation `settle discover --json` lists it as paired under
#     its settle name, and `settle refresh` finds it through the rotating
#     name;
#   - libnss_settle (hosts: files settle mdns4_minimal ...): getent hosts
#     printer.local in ua resolves to the device through its rotating name,
#     curl --capath TRUST opens https://printer.local:PORT/ with no
#     --resolve; a malformed or world-readable map is not used (NOTFOUND,
#     no crash); after settle remove the map is gone and the name no longer
#     resolves;
#   - a rogue advertising an old period's name, or a guessed name, is not
#     taken for the device, and a rogue answering for printer.local at its
#     own address is refused by the trust store.
# The module is loaded from the build tree through LD_LIBRARY_PATH (meson
# sets it for a test that depends on the module, with_nss says so again;
# glibc dlopens libnss_settle.so.2 by name); tests/installed checks the
# installed one.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
: "${SETTLE_DEVICE:?run through meson test}"

homenet_need
need_tool python3 openssl curl
: "${NSS_SETTLE_DIR:?run through meson test}"
export HOMENET_NSS_HOSTS="files settle mdns4_minimal [NOTFOUND=return] dns"
homenet_up
TRUST_DIR=$XDG_DATA_HOME/settle/trust
MAP=$XDG_DATA_HOME/settle/portable-hosts
# (a sanitized module needs the ASan runtime in getent and curl: lib.sh)
with_nss() { with_asan_runtime "$NSS_SETTLE_DIR/libnss_settle.so.2" in_ua env LD_LIBRARY_PATH="$NSS_SETTLE_DIR" "$@"; }
resolves_to_device() { [ "$(with_nss getent hosts "$NAME" | awk '{ print $1 }')" = "$HOMENET_DEVICE_ADDR" ]; }

NAME=printer.local
PORT=8443
PERIOD=8
LABEL="Travel printer"
OBS=$T_DIR/observed
mkdir -p "$OBS"
validate() { python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" discover.schema.json "$1"; }

homenet_bg device "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/dev" --listen "0.0.0.0:$PORT" \
  --qr-png "$T_DIR/dev.png" --qr-text "$T_DIR/dev.txt" --portable --rotation "$PERIOD"
DEVICE_LOG=$HOMENET_BG_LOG
listening() { grep -q "^settle-device: listening on 0\.0\.0\.0:$PORT$" "$DEVICE_LOG" && [ -s "$T_DIR/dev.txt" ]; }
if ! homenet_wait listening; then
  echo "Bail out! settle-device did not start:"; sed 's/^/# /' "$DEVICE_LOG"; exit 1
fi
check "the device says it is in portable mode" grep -q "portable mode: advertising rotating names (every $PERIOD s)" "$DEVICE_LOG"
check "its QR code has no address" bash -c "grep -q '^SETTLE:' '$T_DIR/dev.txt' && ! grep -q ';A:' '$T_DIR/dev.txt'"
check "the discovery key is kept 0600" test "$(stat -c %a "$T_DIR/dev/discovery.key")" = 600

# What must never be seen: the name, the CA's fingerprint and SPKI hash
# (hex), the self-certifying-style base32 hash of the CA key, the QR's H.
secrets_of_identity() {
  local ca=$T_DIR/dev/ca.pem
  echo "printer"
  openssl x509 -in "$ca" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
  openssl x509 -in "$ca" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -c1-64
  openssl x509 -in "$ca" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
    head -c 16 | python3 -c 'import base64,sys; print(base64.b32encode(sys.stdin.buffer.read()).decode().lower().rstrip("="))'
  sed -n 's/.*;H:\([^;]*\);.*/\1/p' "$T_DIR/dev.txt"
}
secrets_of_identity >"$T_DIR/identity-strings"

# observe TAG: in the middle of the coming period, what the rogue sees:
# every resolved service (avahi-browse -arpt) and the addresses of every
# host name it names (avahi-resolve -n), into $OBS/TAG.
observe() {
  local now wait_ms
  now=$(date +%s%N)
  wait_ms=$(( (PERIOD * 1000) - (now / 1000000) % (PERIOD * 1000) + PERIOD * 500 ))
  sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
  in_rogue avahi-browse -arpt >"$OBS/$1.browse" 2>/dev/null || true
  : >"$OBS/$1.hosts"
  local host
  for host in $(awk -F';' '$1 == "=" { print $7 }' "$OBS/$1.browse" | sort -u); do
    in_rogue avahi-resolve -4 -n "$host" >>"$OBS/$1.hosts" 2>/dev/null || true
  done
}

# private TAG...: per period at least one _settle._tcp service, TXT v=1
# only; no instance, host or TXT string seen in two periods (TXT v=1 aside:
# every portable device says it); nothing from the identity.
private() {
  python3 - "$OBS" "$T_DIR/identity-strings" "$@" <<'PY'
import sys, os
obs, ident, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
secrets = [l.strip().lower() for l in open(ident) if l.strip()]
seen = {}
for tag in tags:
    lines = [l.rstrip("\n").split(";") for l in open(os.path.join(obs, tag + ".browse"))]
    svc = [l for l in lines if l[0] == "=" and len(l) >= 10]
    settle = [l for l in svc if l[4] == "_settle._tcp"]
    assert settle, "period %s: no _settle._tcp service seen" % tag
    for l in settle:
        assert l[9] == '"v=1"', "period %s: TXT %s" % (tag, l[9])
    hosts = [l.split()[0] for l in open(os.path.join(obs, tag + ".hosts")) if l.strip()]
    ids = set()
    for l in svc:
        ids.update([("instance", l[3]), ("host", l[6])])
        ids.update(("txt", t) for t in l[9].split(" ") if t not in ('"v=1"', '"path=/"'))
    ids.update(("address record", h) for h in hosts)
    for kind, value in ids:
        low = value.lower()
        for s in secrets:
            assert s not in low, "period %s: %s %r contains %r" % (tag, kind, value, s)
        assert value not in seen, "%s %r seen in period %s and again in %s" % (kind, value, seen[value], tag)
    for kind, value in ids:
        seen[value] = tag
    print("# period %s: %s" % (tag, ", ".join(sorted(v for k, v in ids if k != "address record"))))
PY
}

observe pre1; observe pre2; observe pre3
check "passive observer, 3 periods while offering pairing: nothing repeats, nothing identifies" private pre1 pre2 pre3

# --- pairing from the address-less QR code, by the pairing label ---------------
check "settle pair --qr in ua finds the portable device and pairs" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --label "$LABEL" --timeout 10
cp "$T_DIR/last.out" "$T_DIR/pair.out"
check "the key matched the QR code" grep -q "the key matches the QR code" "$T_DIR/pair.out"
check "the device stored the enrolment" test -s "$T_DIR/dev/enrolments.json"
KEY_B64=$(python3 -c 'import base64,sys; print(base64.b64encode(open(sys.argv[1],"rb").read()).decode())' "$T_DIR/dev/discovery.key")
check "the record keeps the discovery key and period (file store, 0600)" bash -c \
  "f=\$(grep -l '\"discovery\"' '$XDG_DATA_HOME'/settle/store/*.json) && test \"\$(stat -c %a \"\$f\")\" = 600 &&
   grep -q '\"key\" *: *\"$KEY_B64\"' \"\$f\" && grep -q '\"period\" *: *$PERIOD' \"\$f\""
check "settle list --json and show --json print the period, never the key" bash -c \
  "'$HOMENET' exec ua '$SETTLE' list --json >'$T_DIR/list.json' && '$HOMENET' exec ua '$SETTLE' show '$NAME' --json >'$T_DIR/show.json' &&
   grep -q '\"period\" *: *$PERIOD' '$T_DIR/list.json' && grep -q '\"period\" *: *$PERIOD' '$T_DIR/show.json' &&
   ! grep -q '$KEY_B64' '$T_DIR/list.json' '$T_DIR/show.json'"

observe post1; observe post2; observe post3
check "passive observer, 3 more periods after the pairing: nothing repeats (before or after), nothing identifies" \
  private pre1 pre2 pre3 post1 post2 post3

# --- the paired agent still recognises it ---------------------------------------
recognised() {
  in_ua "$SETTLE" discover --json --timeout 5 >"$T_DIR/discover.json" || return 1
  validate "$T_DIR/discover.json" || return 1
  python3 -c '
import json, sys
d = [x for x in json.load(open(sys.argv[1]))["devices"] if x.get("settle_name") == "printer.local"]
assert d and d[0]["state"] == "paired" and d[0]["label"] == sys.argv[2], d
assert d[0]["host"] != "printer.local" and "printer" not in d[0]["instance"], d' "$T_DIR/discover.json" "$LABEL"
}
check "after a rotation settle discover --json lists it as paired, by its settle name (schema-valid)" \
  homenet_wait recognised
check "settle discover (table) names it printer.local" bash -c \
  "'$HOMENET' exec ua '$SETTLE' discover --timeout 5 | grep -E '^$NAME +$PORT +paired: $LABEL'"
check "settle refresh finds it through its rotating name" in_ua "$SETTLE" refresh "$LABEL" --timeout 10
check "and says where" grep -q "\"$LABEL\" is up to date" "$T_DIR/last.out"

# --- libnss_settle -----------------------------------------------------------------
check "settle wrote the name map, mode 0600, with $NAME" bash -c \
  "test \"\$(stat -c %a '$MAP')\" = 600 && grep -Eq '^$NAME $PERIOD [0-9a-f]{64}\$' '$MAP'"
check "getent hosts $NAME in ua resolves to the device through libnss_settle" homenet_wait resolves_to_device
nobody_publishes_name() { ! in_rogue avahi-resolve -4 -n "$NAME" 2>/dev/null | grep -q .; }
check "no host publishes $NAME itself (only the rotating names)" nobody_publishes_name
sleep "$PERIOD"
check "a period later it still does (the next rotating name)" homenet_wait resolves_to_device
check "curl --capath TRUST in ua opens https://$NAME:$PORT/ (system resolver, no --resolve)" \
  with_nss curl -sS --max-time 10 -o "$T_DIR/page.html" --capath "$TRUST_DIR" "https://$NAME:$PORT/"
check "and gets the device's page" grep -q "<h1>$NAME</h1>" "$T_DIR/page.html"
cp "$MAP" "$T_DIR/map.saved"
not_found_cleanly() { with_nss getent hosts "$NAME"; [ $? -eq 2 ]; }
printf 'settle-portable-hosts 1\n%s 8 zz\n' "$NAME" >"$MAP"
check "a malformed map: NOTFOUND (getent exit 2), no crash" not_found_cleanly
cp "$T_DIR/map.saved" "$MAP"; chmod 644 "$MAP"
check "a map others can read: not used" not_found_cleanly
chmod 600 "$MAP"
check "the map restored: resolves again" homenet_wait resolves_to_device

# --- a rogue with an old period's name, or a guessed one ------------------------
OLD=$(awk -F';' '$1 == "=" && $5 == "_settle._tcp" { print $4; exit }' "$OBS/post1.browse")
homenet_bg rogue avahi-publish -a -R "$OLD.local" "$HOMENET_ROGUE_ADDR"
homenet_bg rogue avahi-publish -s -H "$OLD.local" "$OLD" _settle._tcp "$PORT" v=1
homenet_bg rogue avahi-publish -a -R "abcdefghijklmnop.local" "$HOMENET_ROGUE_ADDR"
homenet_bg rogue avahi-publish -s -H "abcdefghijklmnop.local" abcdefghijklmnop _settle._tcp "$PORT" v=1
rogues_listed() {
  in_ua "$SETTLE" discover --json --timeout 5 >"$T_DIR/discover-rogue.json" &&
    python3 -c '
import json, sys
hosts = {x["host"]: x for x in json.load(open(sys.argv[1]))["devices"]}
for h in (sys.argv[2] + ".local", "abcdefghijklmnop.local"):
    assert h in hosts and hosts[h]["state"] != "paired" and "settle_name" not in hosts[h], hosts.get(h)' \
    "$T_DIR/discover-rogue.json" "$OLD"
}
check "an old period's name ($OLD) and a guessed name, advertised by the rogue, are not taken for the device" \
  homenet_wait rogues_listed
# A rogue answering for printer.local at its own address (a TLS server
# with its own key): whatever resolves the name, the trust store refuses it.
homenet_bg rogue "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/rogue" --listen "0.0.0.0:$PORT" \
  --no-mdns --qr-text "$T_DIR/rogue.txt"
ROGUE_LOG=$HOMENET_BG_LOG
rogue_up() { grep -q "^settle-device: listening" "$ROGUE_LOG"; }
check "the rogue's impostor listens" homenet_wait rogue_up
check_fails "curl in ua to the rogue's address for $NAME: refused by the trust store" "curl: \((60|35)\)" \
  in_ua curl -sS --max-time 10 -o /dev/null --capath "$TRUST_DIR" --resolve "$NAME:$PORT:$HOMENET_ROGUE_ADDR" \
  "https://$NAME:$PORT/"

# --- settle remove: nothing of the device left in the map -------------------------
check "settle remove $NAME" in_ua "$SETTLE" remove "$NAME" --yes
check "the map is gone (no portable device left)" test ! -e "$MAP"
check "getent hosts $NAME no longer resolves through libnss_settle" not_found_cleanly

# (the running device holds none of its files open)
check "a factory reset removes the discovery key" bash -c \
  "'$SETTLE_DEVICE' reset --state '$T_DIR/dev' >/dev/null && ! test -e '$T_DIR/dev/discovery.key'"

done_testing
