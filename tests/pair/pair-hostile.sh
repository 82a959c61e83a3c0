#!/usr/bin/env bash
# Hostile cases, each a clear error with nothing stored: a wrong secret, an
# evil twin (another device answering with the first one's QR code), a
# relayed exchange, a device that never answers, truncated, oversized and
# garbage frames, a name outside the local namespaces.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_device
FAKE="$SOURCE_ROOT/tests/pair/fake-server.py"

start_device dev printer.local
qr=$(cat "$T_DIR/dev.txt")
secret=$(sed -n 's/.*;S:\([A-Z2-7]*\);.*/\1/p' <<<"$qr")

# Wrong secret: one base32 character changed (still canonical base32).
first=${secret:0:1}; other=$([ "$first" = A ] && echo B || echo A)
check_fails "a tampered secret fails the device's proof" "did not prove that it knows the pairing code" \
  "$SETTLE" pair --payload "${qr/S:$secret/S:$other${secret:1}}" --yes --timeout 5
check "nothing stored (wrong secret)" nothing_stored

# Evil twin: a second device with its own keys, same name, reached with
# the first one's QR code (as poisoned mDNS or a swapped address would).
start_device twin printer.local
check_fails "an evil twin is caught by the key pin before anything is sent" \
  "does not have the key named in the QR code" \
  "$SETTLE" pair --payload "${qr/A:127.0.0.1:$dev_port/A:127.0.0.1:$twin_port}" --yes --timeout 5
check "nothing stored (evil twin)" nothing_stored
check_fails "a tampered key hash is refused the same way" "does not have the key named in the QR code" \
  "$SETTLE" pair --payload "$(sed 's/;H:[A-Za-z0-9_-]*;/;H:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8;/' <<<"$qr")" --yes --timeout 5

# Relay: a machine in the middle terminating TLS with its own key.
mk_self_signed relay printer.local
start_fake "$FAKE" relay "$T_DIR/relay.pem" "$T_DIR/relay.key" "$dev_port"
check_fails "a relay with the QR code fails the pin" "does not have the key named in the QR code" \
  "$SETTLE" pair --payload "${qr/A:127.0.0.1:$dev_port/A:127.0.0.1:$FAKE_PORT}" --yes --timeout 5
relay_pin=$(spki_pin "$T_DIR/relay.pem")
check_fails "a relay that even had its key in the code fails the confirmation (exporter binding)" \
  "did not prove that it knows the pairing code|pairing code does not match" \
  "$SETTLE" pair --payload "$(sed "s/;H:[A-Za-z0-9_-]*;/;H:$relay_pin;/; s/A:127.0.0.1:$dev_port/A:127.0.0.1:$FAKE_PORT/" <<<"$qr")" \
  --yes --timeout 5
code=$(sed -n 's/^  Pairing code: \([0-9A-Z-]*\)$/\1/p' "$T_DIR/dev.log" | tail -1)
check_fails "a typed code through the relay fails the confirmation too" \
  "did not prove that it knows the pairing code|pairing code does not match" \
  "$SETTLE" pair --code "$code" --address "127.0.0.1:$FAKE_PORT" --name printer.local --yes --timeout 5
check "nothing stored (relay)" nothing_stored

# A device that accepts TCP and never speaks: bounded by --timeout.
start_fake "$FAKE" silent
start=$(date +%s)
check_fails "a device that never answers times out" "timed out" \
  "$SETTLE" pair --payload "$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$relay_pin")" --yes --timeout 2
elapsed=$(( $(date +%s) - start ))
check "it gave up within the timeout (took ${elapsed}s for --timeout 2)" test "$elapsed" -le 4
check_fails "a closed port is named as such" "refused the connection" \
  "$SETTLE" pair --payload "$(payload_for printer.local 127.0.0.1:9 "$relay_pin")" --yes --timeout 2
check "nothing stored (no answer)" nothing_stored

# Broken frames from a server with the right key and ALPN.
mk_self_signed fake printer.local
pin=$(spki_pin "$T_DIR/fake.pem")
for kind in truncated oversized garbage; do
  start_fake "$FAKE" frames "$T_DIR/fake.pem" "$T_DIR/fake.key" "$kind"
  case $kind in
    truncated) want="truncated" ;;
    oversized) want="65536|too large|oversized|larger" ;;
    garbage) want="broken message" ;;
  esac
  check_fails "a $kind frame is refused clearly" "$want" \
    "$SETTLE" pair --payload "$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$pin")" --yes --timeout 5
done
check "nothing stored (bad frames)" nothing_stored

# Names outside the namespaces: refused before any connection.
check_fails "a code naming bank.example is refused" "outside|local namespaces" \
  "$SETTLE" pair --payload "${qr/N:printer.local/N:bank.example}" --yes
check_fails "a typed code with --name bank.example is refused" "outside|local namespaces" \
  "$SETTLE" pair --code "$code" --address "127.0.0.1:$dev_port" --name bank.example --yes
mk_self_signed bank bank.example
start_fake "$FAKE" frames "$T_DIR/bank.pem" "$T_DIR/bank.key" garbage
check_fails "a device whose certificate names nothing local (typed code, no name) is refused" \
  "names no host below" "$SETTLE" pair --code "$code" --address "127.0.0.1:$FAKE_PORT" --yes --timeout 5
check "nothing stored at the end" nothing_stored
check "and the real device still pairs with its current code" \
  "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --timeout 5

done_testing
