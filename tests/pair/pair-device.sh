#!/usr/bin/env bash
# End to end with the reference device: `settle pair --qr PNG --yes`
# stores a scoped anchor and a client key; `openssl s_client -CAstore
# settle:` then verifies the device, and the device's whoami resource
# accepts the client certificate.  The QR code is single use.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool curl zbarimg
need_device
export OPENSSL_MODULES="$BUILD_ROOT/provider"

start_device dev printer.local
first_qr=$(cat "$T_DIR/dev.txt")
check "zbarimg reads the device's PNG as its QR text" \
  bash -c "[ \"\$(zbarimg -q --raw '$T_DIR/dev.png' 2>/dev/null)\" = '$first_qr' ]"
check "settle pair --qr PNG --yes pairs" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --role admin
check "it showed the steps, the key matching the QR code" bash -c \
  "grep -q 'the key matches the QR code' '$T_DIR/last.out' && grep -q '\[5/6\] checking the device' '$T_DIR/last.out'"
check "one device-ca record, scoped to printer.local, consent flag, role admin" bash -c "'$SETTLE' list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)[\"anchors\"]
assert len(a) == 1, a
r = a[0]
assert r[\"kind\"] == \"device-ca\" and r[\"scope\"] == [\"printer.local\"], r
assert r[\"consent\"] == \"flag\" and r[\"role\"] == \"admin\", r
'"
fp=$(python3 -c 'import glob,os,sys; print(os.path.basename(glob.glob(sys.argv[1]+"/*.json")[0])[:-5])' "$STORE_DIR")
key="$STORE_DIR/keys/$fp.pem"
check "the client key is stored with mode 0600" bash -c "[ \"\$(stat -c %a '$key')\" = 600 ]"
python3 - "$STORE_DIR/$fp.json" "$T_DIR/client.pem" <<'PY'
import base64, json, subprocess, sys
der = base64.b64decode(json.load(open(sys.argv[1]))["client_cert_der"])
pem = subprocess.run(["openssl", "x509", "-inform", "der"], input=der, capture_output=True, check=True).stdout
open(sys.argv[2], "wb").write(pem)
PY
check "the client certificate carries the stored key" bash -c \
  "[ \"\$(openssl x509 -in '$T_DIR/client.pem' -noout -pubkey)\" = \"\$(openssl pkey -in '$key' -pubout)\" ]"

# openssl loads settle.so: under ASan it needs the runtime preloaded.
s_client() { echo | with_asan_runtime "$OPENSSL_MODULES/settle.so" \
  openssl s_client -provider settle -provider default -CAstore settle: \
  -verify_return_error -connect "127.0.0.1:$dev_port" -alpn http/1.1 "$@" 2>&1; }
S_CLIENT_FUNCS=$(declare -f s_client with_asan_runtime asan_runtime_of)
check "openssl s_client -CAstore settle: verifies printer.local" bash -c \
  "$S_CLIENT_FUNCS; dev_port=$dev_port; s_client -verify_hostname printer.local | grep -q 'Verify return code: 0 (ok)'"
check_fails "but not for another name" "Verify return code: [1-9]|verify error" \
  bash -c "$S_CLIENT_FUNCS; dev_port=$dev_port; s_client -verify_hostname other.local"
check "the settle: store serves the root and cross only, never the client certificate" bash -c \
  "$S_CLIENT_FUNCS; [ \"\$(with_asan_runtime '$OPENSSL_MODULES/settle.so' openssl storeutl -provider settle -provider default -certs settle: 2>&1 |
     sed -n 's/^Total found: //p')\" = 2 ] &&
   ! grep -q \"\$(sed -n 2p '$T_DIR/client.pem')\" \"\$XDG_DATA_HOME\"/settle/trust/bundle.pem"
check "whoami accepts the client certificate and says admin" bash -c \
  "curl -sk --cert '$T_DIR/client.pem' --key '$key' https://127.0.0.1:$dev_port/.well-known/settle/whoami | grep -q '\"role\":\"admin\"'"
check "whoami refuses a client without it" bash -c \
  "curl -sk https://127.0.0.1:$dev_port/.well-known/settle/whoami | grep -v '\"role\"' | grep -q 'client certificate'"

check "the device shows a new code after the pairing" wait_new_qr dev "$first_qr"
check_fails "the old code no longer works" "did not prove|pairing code does not match" \
  "$SETTLE" pair --payload "$first_qr" --yes --timeout 5
check "still one record" bash -c "'$SETTLE' list --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin)[\"anchors\"]) == 1'"

done_testing
