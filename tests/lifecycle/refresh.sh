#!/usr/bin/env bash
# `settle refresh`: after `settle-device rotate` the device presents a new
# CA cross-signed by the trusted one; refresh follows it without a prompt,
# keeps the client key, and openssl s_client -CAstore settle: verifies the
# device again.  After `settle-device reset` (new keys nobody vouched for)
# refresh refuses, the record stays as it was, and the old binding does
# not verify the device.
. "$SOURCE_ROOT/tests/lib.sh"
# Foreign programs (modutil, certutil, openssl) load our modules: in a
# sanitized build they need the ASan runtime first (tests/lib.sh).
preload_asan_runtime "$BUILD_ROOT/nss-module/libsettle-pkcs11.so"
preload_asan_runtime "$BUILD_ROOT/provider/settle.so"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_device
export OPENSSL_MODULES="$BUILD_ROOT/provider"
records() { ls "$STORE_DIR"/*.json 2>/dev/null | xargs -n1 basename | sed 's/\.json$//' | sort; }
s_client() { echo | openssl s_client -provider settle -provider default -CAstore settle: \
  -verify_return_error -connect "127.0.0.1:$PORT" -alpn http/1.1 -verify_hostname printer.local 2>&1; }
verifies() { s_client | grep -q 'Verify return code: 0 (ok)'; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
serve dev printer.local "$PORT"
check "pair with the device" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes
old_fp=$(records)
check "the device verifies through the provider" verifies
check "the record remembers where the device was paired" bash -c \
  "'$SETTLE' list --json | python3 -c 'import json,sys; r = json.load(sys.stdin)[\"anchors\"][0]; assert r[\"address\"] == \"127.0.0.1:$PORT\", r'"
"$SETTLE" list --json >"$T_DIR/list.json"
check "list JSON of a paired device (address, role, client certificate) is valid for schema/list.schema.json" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" list.schema.json "$T_DIR/list.json"
check "refresh before any rotation: up to date, nothing changed" bash -c \
  "'$SETTLE' refresh printer.local | grep -q 'is up to date' && [ \"\$(ls '$STORE_DIR'/*.json | xargs -n1 basename)\" = '$old_fp.json' ]"

stop_device dev
check "settle-device rotate" "$SETTLE_DEVICE" rotate --state "$T_DIR/dev"
serve dev printer.local "$PORT"
check "the device sends a cross certificate signed by the old CA" bash -c \
  "echo | openssl s_client -connect 127.0.0.1:$PORT -alpn http/1.1 -showcerts 2>/dev/null | grep -q 'printer.local device CA 2'"
check "refresh follows the rotation without a prompt (address from the record)" bash -c \
  "'$SETTLE' refresh printer.local </dev/null | grep -q 'rotated its CA'"
new_fp=$(records)
check "one record, with a new fingerprint" bash -c "[ -n '$new_fp' ] && [ '$new_fp' != '$old_fp' ] && [ \$(echo '$new_fp' | wc -w) = 1 ]"
check "same label, scope, role and consent as before" bash -c "'$SETTLE' list --json | python3 -c '
import json, sys
r = json.load(sys.stdin)[\"anchors\"][0]
assert r[\"label\"] == \"printer.local\" and r[\"scope\"] == [\"printer.local\"], r
assert r[\"role\"] == \"admin\" and r[\"consent\"] == \"flag\" and r[\"kind\"] == \"device-ca\", r'"
check "the new anchor is the new CA's key, cross-signed by the old CA" bash -c "
python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))[\"anchor_der\"]))' '$STORE_DIR/$new_fp.json' \
  | openssl x509 -inform der -noout -subject -issuer | tr '\n' ' ' | grep -q 'subject=.*CN = printer.local device CA 2 issuer=.*CN = printer.local device CA 1'"
check "the client key moved with the record" bash -c "[ -f '$STORE_DIR/keys/$new_fp.pem' ] && [ ! -e '$STORE_DIR/keys/$old_fp.pem' ]"
check "the device verifies through the provider after the refresh" verifies
check "refresh again: up to date" bash -c "'$SETTLE' refresh printer.local --address 127.0.0.1:$PORT | grep -q 'is up to date'"

stop_device dev
check "settle-device rotate a second time" "$SETTLE_DEVICE" rotate --state "$T_DIR/dev"
serve dev printer.local "$PORT"
check "refresh --all (the timer's command) follows a second rotation from the refreshed anchor" bash -c \
  "'$SETTLE' refresh --all | grep -q 'rotated its CA'"
check "and the device verifies" verifies
before=$(records); cp "$STORE_DIR/$before.json" "$T_DIR/before.json"

stop_device dev
check "settle-device reset (factory reset)" "$SETTLE_DEVICE" reset --state "$T_DIR/dev"
serve dev printer.local "$PORT"
check_fails "refresh refuses the factory-reset device" \
  "the device at 127.0.0.1:$PORT has new keys \(factory reset\?\): pair with it again" \
  "$SETTLE" refresh printer.local --address "127.0.0.1:$PORT"
check "the record is unchanged, byte for byte" cmp "$STORE_DIR/$before.json" "$T_DIR/before.json"
check_fails "the old binding no longer verifies the device" "Verify return code: [1-9]|verify error" \
  bash -c "$(declare -f s_client); PORT=$PORT; s_client"

check_fails "refresh without a name" "give one NAME" "$SETTLE" refresh
check_fails "--all with a name" "--all goes without NAME" "$SETTLE" refresh --all printer.local
check_fails "a bad address" "HOST:PORT" "$SETTLE" refresh printer.local --address nowhere
check_fails "no device there" "No device answered" "$SETTLE" refresh printer.local --address "127.0.0.1:1" --timeout 2
# A listener that completes TCP but never speaks TLS: the handshake is
# bounded by --timeout (one deadline per operation, lib/net/tls-conn.c),
# and one that hangs up at once must not kill settle with SIGPIPE.
python3 -c '
import socket, sys, time
mute = socket.socket(); mute.bind(("127.0.0.1", 0)); mute.listen(4)
rude = socket.socket(); rude.bind(("127.0.0.1", 0)); rude.listen(4)
print(mute.getsockname()[1], rude.getsockname()[1], flush=True)
rude.settimeout(0.2)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = rude.accept(); c.close()
    except socket.timeout:
        pass
' > "$T_DIR/listeners.ports" &
LISTENERS=$!
at_exit "kill $LISTENERS 2>/dev/null"
for _ in $(seq 100); do [ -s "$T_DIR/listeners.ports" ] && break; sleep 0.1; done
read -r MUTE_PORT RUDE_PORT < "$T_DIR/listeners.ports"
started=$(date +%s)
check_fails "a device that never speaks TLS: the handshake times out" "did not complete a TLS 1.3 handshake.*timed out" \
  "$SETTLE" refresh printer.local --address "127.0.0.1:$MUTE_PORT" --timeout 2
check "... within the timeout (2 s), not hung" test $(( $(date +%s) - started )) -le 8
check_fails "a device that hangs up at once: a clear error, no SIGPIPE" "did not complete a TLS 1.3 handshake" \
  "$SETTLE" refresh printer.local --address "127.0.0.1:$RUDE_PORT" --timeout 2
mk_ca "$T_DIR" lab
"$SETTLE" trust --ca "$T_DIR/lab.pem" --fingerprint "$(fingerprint "$T_DIR/lab.pem")" --scope lab.home.arpa \
  --referee --label lab --yes >/dev/null
check_fails "a referee is not refreshed" "only paired device CAs" "$SETTLE" refresh lab --address "127.0.0.1:$PORT"

done_testing
