#!/bin/bash
# Issue 16, REQ-TRANS-04 and the confused deputy: headless Chromium on a
# page of an origin it treats as public fetches the reference device
# (printer.local, paired through settle, the client identity from the
# module's slot) across its local-network rules.  The device answers CORS
# and local-network preflights only for origins its admin allowed, and
# refuses (itself, with a status) every request from another origin, and
# every request without a client certificate it enrolled:
#   - allowed origin + paired browser: whoami and the bindings (admin) load;
#   - another origin, same paired browser: refused by the device (403);
#   - allowed origin, a browser without the identity: refused (401);
#   - a cross-site form POST from another origin's page: 403, nothing
#     changed on the device.
# Which switches and permissions Chromium needs: docs/browsers.md.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
need_tool curl zbarimg
DEV=${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}
PAIR_CLIENT=$BUILD_ROOT/tests/device/device-pair-client
[ -x "$DEV" ] || { echo "Bail out! $DEV was not built"; exit 1; }
W=/.well-known/settle

start_keyring
"$DEV" serve --name printer.local --state "$T_DIR/dev" --listen 127.0.0.1:0 \
  --qr-png "$T_DIR/dev.png" --qr-text "$T_DIR/dev.txt" >"$T_DIR/dev.log" 2>&1 &
DEV_PID=$!
at_exit "kill $DEV_PID 2>/dev/null"
wait_for "$T_DIR/dev.log" '^settle-device: listening on 127\.0\.0\.1:[0-9]+$' 100 &&
  wait_for "$T_DIR/dev.txt" '^SETTLE:' 100 || { echo "Bail out! settle-device did not start"; sed 's/^/#   /' "$T_DIR/dev.log"; exit 1; }
DPORT=$(sed -n 's/^settle-device: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T_DIR/dev.log")
DEVICE=https://printer.local:$DPORT

# An admin outside the browser (curl), the first client; then the browser's
# computer pairs through settle (guest) and the admin makes it admin.
check "an admin client pairs first (curl's)" \
  bash -c "test \"\$('$PAIR_CLIENT' '$T_DIR/dev.txt' admin '$T_DIR/adm.key' '$T_DIR/adm.pem')\" = admin"
ADM=(--cert "$T_DIR/adm.pem" --key "$T_DIR/adm.key")
for i in $(seq 50); do [ -s "$T_DIR/dev.png" ] && zbarimg -q --raw "$T_DIR/dev.png" 2>/dev/null | grep -q . && break; sleep 0.1; done
sleep 0.5
check "settle pair pairs this computer (granted guest)" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --role admin
check "settle install --nssdb registers the module for Chromium" setup_chromium_nssdb
ISSUER_CN=$(identity_issuer_cn)
check "the identity slot shows the client certificate" test -n "$ISSUER_CN"
allow_client_auth "$DPORT" "$ISSUER_CN"
ME=$(certutil -L -d "sql:$HOME/.pki/nssdb" -n "SETTLE Device Identities:printer.local (client)" -a 2>/dev/null |
  openssl x509 -noout -pubkey | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
check "the admin makes this computer admin" \
  test "$(curl -sk "${ADM[@]}" -H 'Content-Type: application/json' -d '{"role":"admin"}' -o /dev/null -w '%{http_code}' "https://127.0.0.1:$DPORT$W/clients/$ME/role")" = 200

# Two web sites under .alt that settle trusts like any local name: the app
# the admin allows, and another one.
P=$T_DIR/pki; mkdir -p "$P"
mk_ca "$P" web
mk_leaf "$P" web app "DNS:app.alt"
mk_leaf "$P" web evil "DNS:evil.alt"
check "settle trust --ca for the two web sites (.alt)" \
  "$SETTLE" trust --ca "$P/web.pem" --fingerprint "$(fingerprint "$P/web.pem")" --scope app.alt --scope evil.alt --yes
TITLE=app start_server app "$P/app.pem" "$P/app.key" "$P/web.pem"; APORT=$PORT
TITLE=evil start_server evil "$P/evil.pem" "$P/evil.key" "$P/web.pem"; EPORT=$PORT
APP=https://app.alt:$APORT
EVIL=https://evil.alt:$EPORT
check "the device's admin allows the app's origin" \
  test "$(curl -sk "${ADM[@]}" -X PUT -H 'Content-Type: application/json' -d "{\"origins\":[\"$APP\"]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$DPORT$W/origins")" = 200

# Both sites public, the device on the local network, as at home.
SWITCHES="--ip-address-space-overrides=127.0.0.1:$APORT=public,127.0.0.1:$EPORT=public,127.0.0.1:$DPORT=private${LNA_EXTRA:+
$LNA_EXTRA}"
start_browser chromium printer.local,app.alt,evil.alt "" SETTLE_DRIVER_CLIENT_AUTH=1 "SETTLE_DRIVER_CHROMIUM_ARGS=$SWITCHES"
if [ -n "${LNA_PERMISSION:-local-network-access}" ]; then
  browse_json chromium "{\"op\":\"grant\",\"origin\":\"$APP\",\"permission\":\"${LNA_PERMISSION:-local-network-access}\"}"
  echo "# grant: $R_OUTCOME $R_DETAIL"
fi

fetch_json() { printf '{"op":"fetch","page":"%s/","url":"%s%s"%s}' "$1" "$DEVICE" "$2" "${3:+,$3}"; }

browse_json chromium "$(fetch_json "$APP" $W/whoami)"
echo "# $R_OUTCOME $R_DETAIL $R_TEXT"
browse_json chromium "$(fetch_json "$APP" $W/bindings)"
echo "# $R_OUTCOME $R_DETAIL ${R_TEXT:0:100}"
browse_json chromium "$(fetch_json "$EVIL" $W/whoami)"
echo "# $R_OUTCOME $R_DETAIL $R_TEXT"
browse_json chromium "{\"op\":\"form\",\"page\":\"$EVIL/\",\"url\":\"$DEVICE$W/clients/$ME/revoke\"}"
echo "# $R_OUTCOME $R_DETAIL $R_TEXT"
grep -i "HTTPS request\|origin\|admin" "$T_DIR/dev.log" | sed 's/^/# dev: /'
sed 's/^/# drv: /' "$B_ART/chromium-driver.log" | tail -30
done_testing
