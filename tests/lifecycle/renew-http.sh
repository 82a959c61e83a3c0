#!/usr/bin/env bash
# `settle renew` speaks HTTP through libcurl: a device that answers its
# renewal with Transfer-Encoding: chunked, or in HTTP/1.0 with no
# Content-Length, is understood (renew-http-device.py stands in for the
# device, with the device's own TLS identity and CA).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool openssl python3
need_device

PORT=$(free_port)
serve dev printer.local "$PORT"
check "pair with the reference device" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes
stop_device dev
fp=$(ls "$STORE_DIR"/*.json | xargs -n1 basename | sed 's/\.json$//')
stored_serial() {
  python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["client_cert_der"]))' \
    "$STORE_DIR/$fp.json" | openssl x509 -inform der -noout -serial
}
for round in "chunked 4242 1092" "http10 4243 1093"; do
  read -r mode serial hex <<<"$round"
  python3 "$SOURCE_ROOT/tests/lifecycle/renew-http-device.py" "$T_DIR/dev" "$PORT" "$mode" "$serial" \
    >"$T_DIR/fake-$mode.log" 2>&1 &
  fake=$!
  at_exit "kill $fake 2>/dev/null"
  for _ in $(seq 50); do grep -q ready "$T_DIR/fake-$mode.log" && break; sleep 0.1; done
  check "settle renew understands a device answering $mode" "$SETTLE" renew printer.local --force
  check "the certificate from the $mode answer is stored" test "$(stored_serial)" = "serial=$hex"
  wait $fake || true
done
done_testing
