#!/bin/bash
# settle-device on loopback: the QR code (PNG read back by zbarimg), the
# HTTPS page on the ceremony port (openssl s_client, curl), whoami for
# strangers and for paired clients, single-use secrets.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl curl zbarimg

DEV=${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}
PAIR=$BUILD_ROOT/tests/device/device-pair-client
STATE=$T_DIR/state
QR_PNG=$T_DIR/qr.png
QR_TXT=$T_DIR/qr.txt

start_loopback_device "$STATE" --qr-png "$QR_PNG" --qr-text "$QR_TXT" || true
check "the device prints the port it picked" test -n "$PORT" -a "${PORT:-0}" -gt 0
URL=https://127.0.0.1:$PORT

check "the QR PNG reads back as the payload text" \
  bash -c "test \"\$(zbarimg --raw -q '$QR_PNG')\" = \"\$(cat '$QR_TXT')\""
check "the payload names the device and its port" grep -q "^SETTLE:V:1;G:p256;N:printer.local;A:127.0.0.1:$PORT;H:" "$QR_TXT"
check "the QR code is drawn on the terminal" grep -q '▀' "$T_DIR/dev.out"
SPKI_B64=$(openssl x509 -in "$STATE/tls.pem" -noout -pubkey | openssl pkey -pubin -outform DER \
  | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
check "the payload pins the TLS key" grep -q ";H:$SPKI_B64;" "$QR_TXT"

check "s_client with ALPN http/1.1 gets the page" \
  bash -c "printf 'GET / HTTP/1.1\r\nHost: printer.local\r\nConnection: close\r\n\r\n' | openssl s_client -quiet -tls1_3 -alpn http/1.1 -connect 127.0.0.1:$PORT -servername printer.local 2>/dev/null | grep -q '<h1>printer.local</h1>'"
check "s_client sees ALPN settle/1 when it asks for it" \
  bash -c "openssl s_client -alpn settle/1 -connect 127.0.0.1:$PORT </dev/null 2>/dev/null | grep -q 'ALPN protocol: settle/1'"
check_fails "TLS 1.2 is refused" "alert|error|handshake failure" \
  openssl s_client -tls1_2 -connect 127.0.0.1:$PORT </dev/null
check "curl (no ALPN preference) gets the page naming the device" \
  bash -c "curl -sk '$URL/' | grep -q 'printer.local'"
check "curl verifies the device through its CA" \
  bash -c "curl -s --cacert '$STATE/ca.pem' --resolve printer.local:$PORT:127.0.0.1 https://printer.local:$PORT/ | grep -q printer.local"
check "unknown paths are 404" test "$(curl -sk -o /dev/null -w '%{http_code}' "$URL/nope")" = 404
check "POST is 405" test "$(curl -sk -o /dev/null -w '%{http_code}' -X POST "$URL/")" = 405
check "whoami without a client certificate is 401" \
  test "$(curl -sk -o /dev/null -w '%{http_code}' "$URL/.well-known/settle/whoami")" = 401

mkdir -p "$T_DIR/pki"
mk_ca "$T_DIR/pki" stranger-ca
mk_leaf "$T_DIR/pki" stranger-ca stranger "DNS:stranger.local"
check "whoami with a certificate from another CA is 403" \
  test "$(curl -sk -o /dev/null -w '%{http_code}' --cert "$T_DIR/pki/stranger.pem" --key "$T_DIR/pki/stranger.key" "$URL/.well-known/settle/whoami")" = 403
check "nothing was enrolled by strangers" test ! -e "$STATE/enrolments.json"

OLD_QR=$(cat "$QR_TXT")
check "a client pairs and is granted admin (first client)" \
  bash -c "test \"\$('$PAIR' '$QR_TXT' admin '$T_DIR/c1.key' '$T_DIR/c1.pem')\" = admin"
check "the enrolment is recorded with role and serial" \
  bash -c "grep -q '\"role\" : \"admin\"' '$STATE/enrolments.json' && grep -q \"\$(openssl x509 -in '$T_DIR/c1.pem' -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')\" '$STATE/enrolments.json'"
check "the client certificate chains to the device CA" openssl verify -CAfile "$STATE/ca.pem" "$T_DIR/c1.pem"
check "whoami answers the paired client with its role" \
  bash -c "curl -sk --cert '$T_DIR/c1.pem' --key '$T_DIR/c1.key' '$URL/.well-known/settle/whoami' | grep -q '\"role\":\"admin\"'"

for i in $(seq 50); do [ "$(cat "$QR_TXT")" != "$OLD_QR" ] && break; sleep 0.1; done
check "a new QR code replaces the used one" test "$(cat "$QR_TXT")" != "$OLD_QR"
check "the new PNG matches the new text" \
  bash -c "test \"\$(zbarimg --raw -q '$QR_PNG')\" = \"\$(cat '$QR_TXT')\""
printf '%s\n' "$OLD_QR" >"$T_DIR/old-qr.txt"
check_fails "the used secret no longer pairs" "error 4|confirmation" \
  "$PAIR" "$T_DIR/old-qr.txt" admin "$T_DIR/x.key" "$T_DIR/x.pem"
check "a second client asking for admin gets guest" \
  bash -c "test \"\$('$PAIR' '$QR_TXT' admin '$T_DIR/c2.key' '$T_DIR/c2.pem')\" = guest"

check "SIGINT stops the device" bash -c "kill -INT $DEV_PID; for i in \$(seq 50); do kill -0 $DEV_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
check "the log never shows the secret" \
  bash -c "! grep -q \"\$(sed -n 's/.*;S:\([A-Z2-7]*\);.*/\1/p' '$QR_TXT')\" '$T_DIR/dev.err'"
done_testing
