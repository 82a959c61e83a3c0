#!/bin/bash
# Issue 16, REQ-TRANS-04 and the confused deputy: headless Chromium 156
# and Firefox ESR 153 (each across its own Local Network Access rules), on
# a page of an origin treated as public, fetch the reference device
# (printer.local, paired through settle, the client identity from the
# module's slot) across its local-network rules.  The device answers CORS
# and local-network preflights only for origins its admin allowed, and
# refuses (itself, with a status) every request from another origin, and
# every request without a client certificate it enrolled:
#   - allowed origin + paired browser: whoami and the bindings (admin) load;
#   - another origin, same paired browser: refused by the device (403);
#   - allowed origin, a browser without the identity: refused (401,
#     Chromium);
#   - a cross-site form POST from another origin's page: 403, nothing
#     changed on the device.
# Which switches, prefs and permissions the browsers need: docs/browsers.md.
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
FIRST_QR=$(cat "$T_DIR/dev.txt")
check "an admin client pairs first (curl's)" \
  bash -c "test \"\$('$PAIR_CLIENT' '$T_DIR/dev.txt' admin '$T_DIR/adm.key' '$T_DIR/adm.pem')\" = admin"
ADM=(--cert "$T_DIR/adm.pem" --key "$T_DIR/adm.key")
# The device shows a new code (text, then PNG) after each pairing.
for i in $(seq 100); do
  [ "$(cat "$T_DIR/dev.txt")" != "$FIRST_QR" ] && [ "$(zbarimg -q --raw "$T_DIR/dev.png" 2>/dev/null)" = "$(cat "$T_DIR/dev.txt")" ] && break
  sleep 0.1
done
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
# Chromium 156: --ip-address-space-overrides; Firefox ESR 153:
# network.lna.address_space.*.override (docs/browsers.md).
CHROMIUM_SWITCHES="--ip-address-space-overrides=127.0.0.1:$APORT=public,127.0.0.1:$EPORT=public,127.0.0.1:$DPORT=private"
FIREFOX_PREFS="{\"network.lna.prompt.timeout\":3000,\"network.lna.address_space.public.override\":\"127.0.0.1:$APORT,127.0.0.1:$EPORT\",\"network.lna.address_space.private.override\":\"127.0.0.1:$DPORT\"}"
check "settle install --firefox registers the module in the Firefox profile" setup_firefox_profile

fetch_json() { printf '{"op":"fetch","page":"%s/","url":"%s%s"%s}' "$1" "$DEVICE" "$2" "${3:+,$3}"; }
bindings() { curl -sk "${ADM[@]}" "https://127.0.0.1:$DPORT$W/bindings"; }
# What the device logged since line $MARK.
dev_log_has() { sed -n "$((MARK + 1)),\$p" "$T_DIR/dev.log" | grep -Fq -- "$1"; }
device_state() {
  bindings | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((c["fingerprint"], c["role"]) for c in d["clients"]), d["allowed_origins"])'
}

# scenario B: the whole story in browser B (chromium or firefox).
scenario() {
  local B=$1
  MARK=$(wc -l <"$T_DIR/dev.log")
  if [ "$B" = chromium ]; then
    start_browser chromium printer.local,app.alt,evil.alt "" SETTLE_DRIVER_CLIENT_AUTH=1 "SETTLE_DRIVER_CHROMIUM_ARGS=$CHROMIUM_SWITCHES"
  else
    start_browser firefox printer.local,app.alt,evil.alt "" SETTLE_DRIVER_CLIENT_AUTH=1 "SETTLE_DRIVER_FIREFOX_PREFS=$FIREFOX_PREFS"
  fi
  grant() { browse_json "$B" "{\"op\":\"grant\",\"origin\":\"$1\",\"permission\":\"local-network\"}"; [ "$R_OUTCOME" = granted ]; }
  expect_fetch() {  # DESC OUTCOME DETAIL_ERE TEXT_GLOB JSON
    browse_json "$B" "$5"
    if [ "$R_OUTCOME" = "$2" ] && [[ $R_DETAIL =~ ^($3)$ ]] && [[ $R_TEXT == $4 ]]; then
      pass "$B: $1"; echo "#   $R_DETAIL ${R_TEXT:0:120}"
    else
      fail "$B: $1 (got $R_OUTCOME: $R_DETAIL ${R_TEXT:0:200})"; tail -5 "$B_ART/$B-driver.log" | sed 's/^/#   /'
    fi
  }

  # The browser's own rule: no local-network permission, no request.
  expect_fetch "without the local-network permission the browser blocks the public page's fetch" \
    fetch-error 'TypeError: .*' '*' "$(fetch_json "$APP" $W/whoami)"
  if [ "$B" = chromium ]; then
    check "chromium: it said why: the local address space" \
      grep -q "Permission was denied for this request to access the \`local\` address space" "$B_ART/chromium-driver.log"
  else
    check "firefox: it said why: NS_ERROR_LOCAL_NETWORK_ACCESS_DENIED (the prompt timed out)" \
      grep -q "NS_ERROR_LOCAL_NETWORK_ACCESS_DENIED" "$B_ART/firefox-driver.log"
  fi
  check "$B: and the device saw nothing of it" bash -c "! sed -n '$((MARK + 1)),\$p' '$T_DIR/dev.log' | grep -q whoami"

  # Allowed origin + paired browser.
  check "$B: the local-network permission is granted to the app's origin (as the user's Allow would)" grant "$APP"
  expect_fetch "the allowed origin reads whoami with the paired client identity: admin" \
    fetched 'status=200' "*\"role\":\"admin\"*\"fingerprint\":\"$ME\"*" "$(fetch_json "$APP" $W/whoami)"
  expect_fetch "and the bindings (admin, over the browser's client certificate)" \
    fetched 'status=200' "*\"you\" : \"$ME\"*" "$(fetch_json "$APP" $W/bindings)"
  expect_fetch "a state-changing PUT with JSON from the allowed origin passes the CORS preflight and is done" \
    fetched 'status=200' '*"version" : 1*' \
    "$(fetch_json "$APP" $W/origins "\"method\":\"PUT\",\"body\":\"{\\\"origins\\\":[\\\"$APP\\\"]}\"")"
  check "$B: the device answered the preflight for the allowed origin" dev_log_has "preflight from 127.0.0.1 for origin $APP"
  sed -n "$((MARK + 1)),\$p" "$T_DIR/dev.log" | grep 'preflight' | sed "s/^/#   $B: dev: /"

  # Another origin, even with the permission: the device refuses.
  check "$B: the permission is granted to the other origin too (a user who clicked Allow)" grant "$EVIL"
  local before; before=$(device_state)
  expect_fetch "another origin's fetch with the paired identity gets nothing (the device answers 403 without CORS)" \
    fetch-error 'TypeError: .*' '*' "$(fetch_json "$EVIL" $W/whoami)"
  check "$B: the device refused it for its origin (403)" dev_log_has "refused GET $W/whoami from 127.0.0.1 for the origin $EVIL: 403"
  expect_fetch "another origin's state-changing PUT fails at the preflight" \
    fetch-error 'TypeError: .*' '*' \
    "$(fetch_json "$EVIL" $W/origins "\"method\":\"PUT\",\"body\":\"{\\\"origins\\\":[\\\"$EVIL\\\"]}\"")"
  check "$B: the device refused the preflight" dev_log_has "preflight from 127.0.0.1 for origin $EVIL"
  browse_json "$B" "{\"op\":\"form\",\"page\":\"$EVIL/\",\"url\":\"$DEVICE$W/clients/$ME/revoke\"}"
  if [ "$R_OUTCOME" = loaded ] && [ "$R_DETAIL" = status=403 ]; then
    pass "$B: a cross-site form POST (CSRF) to revoke, with the paired identity, is 403"; echo "#   $R_TEXT"
  else
    fail "$B: a cross-site form POST (CSRF) to revoke is 403 (got $R_OUTCOME $R_DETAIL $R_TEXT)"
  fi
  check "$B: the device refused it for its origin" dev_log_has "refused POST $W/clients/$ME/revoke from 127.0.0.1 for the origin $EVIL: 403"
  check "$B: nothing changed on the device: clients, roles, origins" test "$(device_state)" = "$before"
  stop_browser "$B"
}
scenario chromium
scenario firefox

# ---- allowed origin, a browser without the identity: the device refuses ----

H2=$T_DIR/home2; mkdir -p "$H2/.pki/nssdb"
certutil -N -d "sql:$H2/.pki/nssdb" --empty-password
certutil -A -d "sql:$H2/.pki/nssdb" -n device -t C,, -i "$T_DIR/dev/ca.pem"
certutil -A -d "sql:$H2/.pki/nssdb" -n web -t C,, -i "$P/web.pem"
start_browser chromium_u printer.local,app.alt,evil.alt "$T_DIR/chromium-u" HOME="$H2" XDG_DATA_HOME="$H2/.local/share" "SETTLE_DRIVER_CHROMIUM_ARGS=$CHROMIUM_SWITCHES"
browse_json chromium_u "{\"op\":\"grant\",\"origin\":\"$APP\",\"permission\":\"local-network\"}"
browse_json chromium_u "$(fetch_json "$APP" $W/whoami)"
if [ "$R_OUTCOME" = fetched ] && [ "$R_DETAIL" = status=401 ] && [[ $R_TEXT == *'client certificate'* ]]; then
  pass "a browser without the identity, on the allowed origin: the device answers 401"; echo "#   $R_TEXT"
else
  fail "a browser without the identity is refused with 401 (got $R_OUTCOME $R_DETAIL $R_TEXT)"
fi
browse_json chromium_u "$(fetch_json "$APP" $W/origins "\"method\":\"PUT\",\"body\":\"{\\\"origins\\\":[]}\"")"
if [ "$R_OUTCOME" = fetched ] && [ "$R_DETAIL" = status=401 ]; then
  pass "and cannot change anything (401)"
else
  fail "an unpaired browser cannot change anything (got $R_OUTCOME $R_DETAIL $R_TEXT)"
fi
bindings >"$T_DIR/bindings.json"
check "the origins are still the app's alone" \
  python3 -c "import json; assert json.load(open('$T_DIR/bindings.json'))['allowed_origins'] == ['$APP']"
done_testing
