#!/bin/bash
# settle-device's state directory: identity created on first run with
# private permissions, reused on the next, rotation cross-signed by the old
# CA, factory reset removing every key.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl stat

DEV=${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}
STATE=$T_DIR/state

# Starts settle-device in the background (ARGS added), waits for its
# "listening" line and its QR text.  The log and the QR text of a previous
# run go first: the device's redirection happens after the fork, and a
# first look at the old files would take the previous run for this one.
start_device() {
  : >"$T_DIR/dev.out"
  rm -f "$T_DIR/qr.txt"
  "$DEV" serve --name printer.local --state "$STATE" --listen 127.0.0.1:0 \
    --qr-text "$T_DIR/qr.txt" "$@" >"$T_DIR/dev.out" 2>"$T_DIR/dev.err" &
  DEV_PID=$!
  at_exit "kill $DEV_PID 2>/dev/null"
  local i
  for i in $(seq 100); do
    grep -q 'listening on' "$T_DIR/dev.out" 2>/dev/null && [ -s "$T_DIR/qr.txt" ] && return 0
    kill -0 "$DEV_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$T_DIR/dev.err"
  return 1
}
stop_device() { kill -TERM "$DEV_PID"; wait "$DEV_PID"; }
mode_of() { stat -c %a "$1"; }

# A directory made with a plain mkdir (0755) and still empty is taken and
# made private; the identity is created in it.
(umask 022 && mkdir "$STATE")
check "first run starts in an empty directory made by mkdir and creates the identity" start_device
check "state directory is 0700" test "$(mode_of "$STATE")" = 700
check "CA key is 0600" test "$(mode_of "$STATE/ca.key")" = 600
check "TLS key is 0600" test "$(mode_of "$STATE/tls.key")" = 600
check "device CA is a P-256 CA" bash -c "openssl x509 -in '$STATE/ca.pem' -noout -text | grep -q 'CA:TRUE' && openssl x509 -in '$STATE/ca.pem' -noout -text | grep -q 'prime256v1'"
check "TLS leaf names the device and chains to the CA" \
  bash -c "openssl x509 -in '$STATE/tls.pem' -noout -ext subjectAltName | grep -q 'DNS:printer.local' && openssl verify -CAfile '$STATE/ca.pem' '$STATE/tls.pem'"
check "SIGTERM stops the device cleanly" stop_device
check "stop is logged" grep -q 'settle-device: stopped' "$T_DIR/dev.err"

fp_before=$(fingerprint "$STATE/ca.pem")
check "second run reuses the identity" start_device
check "same CA after restart" test "$(fingerprint "$STATE/ca.pem")" = "$fp_before"
# Loopback is never advertised on the network (docs/device.md, "On the
# local network"), so the QR code carries the address.
check "on loopback it says it does not advertise" \
  grep -qx 'settle-device: listening on loopback only: not advertising printer.local on the local network' "$T_DIR/dev.err"
check "and the QR code carries the address" grep -q '^SETTLE:V:1;G:p256;N:printer.local;A:127\.0\.0\.1:[0-9]*;H:' "$T_DIR/qr.txt"
stop_device
check "--qr-address no: the QR code has no address" start_device --qr-address no
check "its payload has no A field" bash -c "grep -q '^SETTLE:V:1;G:p256;N:printer.local;H:' '$T_DIR/qr.txt' && ! grep -q ';A:' '$T_DIR/qr.txt'"
check "and the hint for a typed code names the device" grep -q 'settle pair --code - --address printer.local:' "$T_DIR/dev.out"
stop_device
check "--no-mdns: the device starts" start_device --no-mdns
check "--no-mdns says nothing about advertising" bash -c "! grep -qi 'advertis\|avahi' '$T_DIR/dev.err'"
stop_device

check_fails "another name for the same state is refused" "belongs to the device printer.local" \
  "$DEV" serve --name scanner.local --state "$STATE" --listen 127.0.0.1:0
check_fails "a name outside the local namespaces is refused" "local|home.arpa|alt" \
  "$DEV" serve --name bank.example --state "$T_DIR/other" --listen 127.0.0.1:0
chmod 0644 "$STATE/ca.key"
check_fails "a key readable by others is refused" "chmod 600" \
  "$DEV" serve --name printer.local --state "$STATE" --listen 127.0.0.1:0
chmod 0600 "$STATE/ca.key"
chmod 0755 "$STATE"
check_fails "a state directory that holds keys and is open to others is refused, not tightened" "chmod 700" \
  "$DEV" serve --name printer.local --state "$STATE" --listen 127.0.0.1:0
check "and its mode was left as it was" test "$(mode_of "$STATE")" = 755
chmod 0700 "$STATE"
check_fails "a bad --listen is refused" "ADDRESS:PORT" \
  "$DEV" serve --name printer.local --state "$STATE" --listen localhost
check_fails "an unknown --grant is refused" "admin, user or guest" \
  "$DEV" serve --name printer.local --state "$STATE" --listen 127.0.0.1:0 --grant root
check_fails "an unknown --qr-address is refused" "yes, no or auto" \
  "$DEV" serve --name printer.local --state "$STATE" --listen 127.0.0.1:0 --qr-address maybe

cp "$STATE/ca.pem" "$T_DIR/old-ca.pem"
check "rotate succeeds" "$DEV" rotate --state "$STATE"
check "rotate made a new CA" test "$(fingerprint "$STATE/ca.pem")" != "$fp_before"
check "the new CA chains to the old one" openssl verify -CAfile "$T_DIR/old-ca.pem" "$STATE/ca-cross.pem"
check "the new TLS leaf chains to the old CA through the cross certificate" \
  openssl verify -CAfile "$T_DIR/old-ca.pem" -untrusted "$STATE/ca-cross.pem" "$STATE/tls.pem"
check "the new TLS leaf chains to the new CA" openssl verify -CAfile "$STATE/ca.pem" "$STATE/tls.pem"
check "the old CA key is gone" bash -c "! openssl pkey -in '$STATE/ca.key' -pubout | cmp -s - <(openssl x509 -in '$T_DIR/old-ca.pem' -noout -pubkey)"
check "new keys are 0600 too" test "$(mode_of "$STATE/ca.key")$(mode_of "$STATE/tls.key")" = 600600
check "the device starts after rotation" start_device
stop_device

check "reset succeeds" "$DEV" reset --state "$STATE"
check "reset removed every key" test ! -e "$STATE/ca.key" -a ! -e "$STATE/tls.key"
check "reset removed the state directory" test ! -e "$STATE"
check_fails "reset refuses a directory that is not a device's" "not a settle-device state directory" \
  "$DEV" reset --state "$T_DIR"
check_fails "rotate without state fails clearly" "not a settle-device state directory" \
  "$DEV" rotate --state "$STATE"
done_testing
