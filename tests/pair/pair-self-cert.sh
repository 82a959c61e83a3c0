#!/usr/bin/env bash
# Self-certifying device names (REQ-NAME-01, schema/self-certifying-names.md):
# `settle-device serve --self-certifying-name printer` names itself
# printer-<hash of its CA key>.local and puts that name in the QR code;
# `settle pair` checks the CA the device presents against the name and
# pairs; `settle list` says the name is self-certifying.  A device whose
# name carries the hash of another key is refused with nothing stored on
# either side, and after `settle-device rotate` `settle refresh` refuses
# the new CA (the name no longer matches it).  Loopback only, no avahi.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_device
records() { ls "$STORE_DIR"/*.json 2>/dev/null | xargs -n1 basename | sed 's/\.json$//' | sort; }

# serve_sc ID PORT ARGS...: settle-device on a fixed port with its own state.
serve_sc() {
  local id=$1 port=$2; shift 2
  : >"$T_DIR/$id.log"
  "$SETTLE_DEVICE" serve --state "$T_DIR/$id" --listen "127.0.0.1:$port" --no-mdns \
    --qr-png "$T_DIR/$id.png" --qr-text "$T_DIR/$id.txt" "$@" >"$T_DIR/$id.log" 2>&1 &
  echo $! >"$T_DIR/$id.pid"
  at_exit "kill $! 2>/dev/null"
  local i
  for i in $(seq 100); do
    grep -q "listening on" "$T_DIR/$id.log" && [ -s "$T_DIR/$id.txt" ] && return 0
    sleep 0.1
  done
  echo "Bail out! settle-device $id did not start"; sed 's/^/# /' "$T_DIR/$id.log"; exit 1
}
# The self-certifying label of a PEM certificate's key, computed here
# independently of lib/names/self-cert.c.
hash_of() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | python3 -c '
import base64, hashlib, sys
print(base64.b32encode(hashlib.sha256(sys.stdin.buffer.read()).digest()[:16]).decode().lower().rstrip("="))'
}
device_enrolments() {
  python3 - "$T_DIR/$1/enrolments.json" "$2" <<'PY'
import json, os, sys
path, n = sys.argv[1], int(sys.argv[2])
entries = json.load(open(path))["enrolments"] if os.path.exists(path) else []
assert len(entries) == n, entries
PY
}

PORT=$(free_port)
serve_sc dev "$PORT" --self-certifying-name printer
name=$(sed -n 's/^settle-device: self-certifying name \([^ ]*\) .*/\1/p' "$T_DIR/dev.log")
h=$(hash_of "$T_DIR/dev/ca.pem")
check "the device printed its self-certifying name printer-<26 base32>.local" bash -c \
  "echo '$name' | grep -Eq '^printer-[a-z2-7]{26}\.local$'"
check "the name is printer-<first 128 bits of SHA-256 of its CA's SPKI, base32>.local" \
  test "$name" = "printer-$h.local"
check "the QR code carries that name" grep -q "N:$name;" "$T_DIR/dev.txt"

# A second device whose name carries the first device's key hash: its own
# CA does not match, and the pairing must stop before COMMIT.
PORT2=$(free_port)
serve_sc evil "$PORT2" --name "printer-$h.local"
check_fails "settle pair refuses a name that carries another key's hash" \
  "printer-$h\.local names a different key than the device presented" \
  "$SETTLE" pair --qr "$T_DIR/evil.png" --yes
check "nothing stored in settle's store" nothing_stored
sleep 0.5
check "nothing enrolled on the device" device_enrolments evil 0
stop_device evil

check "settle pair --qr pairs with the self-certifying device" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes
check "the device enrolled one client" device_enrolments dev 1
check "settle list says the name is self-certifying" bash -c \
  "'$SETTLE' list | grep -q '$name is self-certifying'"
"$SETTLE" list --json >"$T_DIR/list.json"
check "settle list --json: self_certifying_names is [$name]" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["anchors"][0]
assert r["self_certifying_names"] == [sys.argv[2]], r["self_certifying_names"]
assert r["names"] == [sys.argv[2]], r["names"]' "$T_DIR/list.json" "$name"
check "the list JSON is valid for schema/list.schema.json" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" list.schema.json "$T_DIR/list.json"
check "refresh before any rotation: up to date" bash -c "'$SETTLE' refresh '$name' | grep -q 'is up to date'"

before=$(records); cp "$STORE_DIR/$before.json" "$T_DIR/before.json"
stop_device dev
check "settle-device rotate warns that the name no longer matches" bash -c \
  "'$SETTLE_DEVICE' rotate --state '$T_DIR/dev' | grep -q 'self-certifying name for the old CA key'"
serve_sc dev "$PORT" --self-certifying-name printer
check "serve warns that the name is no longer self-certifying" \
  grep -q "$name is no longer self-certifying: the device CA was rotated" "$T_DIR/dev.log"
check_fails "settle refresh refuses the rotated CA: the name does not match the new key" \
  "$name is a self-certifying name: it carries the hash of the old CA's key" \
  "$SETTLE" refresh "$name"
check "the record is unchanged, byte for byte" cmp "$STORE_DIR/$before.json" "$T_DIR/before.json"
check "still one record" test "$(records)" = "$before"

check_fails "serve refuses a prefix that makes no valid name" "self-certifying-name bad_prefix: the name bad_prefix-<hash>.local contains an underscore" \
  "$SETTLE_DEVICE" serve --self-certifying-name bad_prefix --state "$T_DIR/bad" --listen 127.0.0.1:0
check_fails "serve refuses a domain outside the local namespaces" "self-certifying-name printer.example: example is outside the local namespaces" \
  "$SETTLE_DEVICE" serve --self-certifying-name printer.example --state "$T_DIR/bad" --listen 127.0.0.1:0
check_fails "serve refuses an uppercase prefix" "in lowercase" \
  "$SETTLE_DEVICE" serve --self-certifying-name Printer --state "$T_DIR/bad" --listen 127.0.0.1:0
check_fails "serve refuses --name with --self-certifying-name" "not both" \
  "$SETTLE_DEVICE" serve --name printer.local --self-certifying-name printer --state "$T_DIR/bad" \
  --listen 127.0.0.1:0
check_fails "a state directory made for another name is not reused" "belongs to the device printer-$h\.local" \
  timeout 20 "$SETTLE_DEVICE" serve --self-certifying-name scanner --state "$T_DIR/evil" --listen 127.0.0.1:0

done_testing
