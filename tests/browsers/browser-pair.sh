#!/bin/bash
# Issue 6 part 1 with the real ceremony: the reference device
# (settle-device) shows a QR code, `settle pair --qr PNG --yes` pairs with
# it, and both browsers open the device's own HTTPS page (same port as the
# ceremony) through the module, without a certificate error.  The
# screenshots of this page are the ones docs/browsers.md shows.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
need_tool zbarimg
start_loopback_device "$T_DIR/dev" --qr-png "$T_DIR/dev.png" --qr-text "$T_DIR/dev.txt" &&
  wait_for "$T_DIR/dev.txt" '^SETTLE:' 100 || { echo "Bail out! settle-device did not start"; exit 1; }
DPORT=$PORT

check "settle pair --qr PNG --yes pairs with the device" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes
check "the pairing stored a device CA scoped to printer.local" bash -c \
  "'$SETTLE' list | grep -E '^printer\.local +device-ca +printer\.local '"
check "settle install --nssdb registers the module for Chromium" setup_chromium_nssdb
check "settle install --firefox registers the module in the Firefox profile" setup_firefox_profile

# The device also asks for the client identity the pairing gave us: let
# both browsers present it instead of opening a dialog.
ISSUER_CN=$(identity_issuer_cn)
check "the pairing gave the browsers a client identity for the device" test -n "$ISSUER_CN"
allow_client_auth "$DPORT" "$ISSUER_CN"
start_browser chromium printer.local "" SETTLE_DRIVER_CLIENT_AUTH=1
start_browser firefox printer.local "" SETTLE_DRIVER_CLIENT_AUTH=1
expect_loaded "chromium firefox" "https://printer.local:$DPORT/" printer.local \
  "opens the paired device's page with no certificate error" "$B_ART/device"
check "Chromium saw the device's CA as the issuer" \
  grep -Eq "chromium https://printer.local:$DPORT/ -> loaded .*issuer=" "$B_ART/browse.log"
check "a browser without the pairing refuses the same page" bash -c '
  export HOME=$1/other; mkdir -p "$HOME/.pki/nssdb"; certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password
  out=$(printf "%s\n" "{\"op\":\"open\",\"url\":\"https://printer.local:$2/\"}" "{\"op\":\"quit\"}" |
        timeout 90 node "$3/driver.mjs" --browser chromium --profile "$1/other/profile" --map printer.local 2>/dev/null)
  echo "$out"; grep -q "^result	cert-error	ERR_CERT_AUTHORITY_INVALID" <<<"$out"' _ "$T_DIR" "$DPORT" "$B_NPM"
done_testing
