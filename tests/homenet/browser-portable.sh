#!/usr/bin/env bash
# tests/homenet/browser-portable.sh: a browser reaches a portable device
# by its settle name (docs/portable.md, "Reaching https://printer.local/").
# In the simulated home network, with hosts: files settle mdns4_minimal
# [NOTFOUND=return] dns in ua (HOMENET_NSS_HOSTS):
#
#   - settle-device serve --portable on port 443: printer.local is never
#     announced, only rotating names;
#   - ua pairs from the address-less QR code and runs settle install
#     --chromium --firefox;
#   - headless Chromium and Firefox ESR inside ua, with no resolver rule,
#     no localDomains pref and no certificate override, open
#     https://printer.local/ and show the device's page: getaddrinfo asked
#     libnss_settle, which found the device's current rotating name.
# libnss_settle.so.2 comes from the build tree through LD_LIBRARY_PATH
# (meson sets it for a test that depends on the module; it is also passed
# to the browsers explicitly): glibc dlopens it by name.  Without `settle`
# in the hosts line both browsers fail with a name error (checked by hand:
# ERR_NAME_NOT_RESOLVED, NS_ERROR_UNKNOWN_HOST), so the page can only have
# come through libnss_settle.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
: "${SETTLE_DEVICE:?run through meson test}"
: "${NSS_SETTLE_DIR:?run through meson test}"
homenet_need
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
export HOMENET_NSS_HOSTS="files settle mdns4_minimal [NOTFOUND=return] dns"
homenet_up

NAME=printer.local
PORT=443
PERIOD=20

NODE=$(command -v node)
mkdir -p "$T_DIR/ua-bin"
printf '#!/bin/sh\nexec "%s" exec ua "%s" "$@"\n' "$HOMENET" "$NODE" >"$T_DIR/ua-bin/node"
chmod +x "$T_DIR/ua-bin/node"
ua_browser() { PATH="$T_DIR/ua-bin:$PATH" start_browser "$@"; }
with_nss() { in_ua env LD_LIBRARY_PATH="$NSS_SETTLE_DIR" "$@"; }
resolves_to_device() { [ "$(with_nss getent hosts "$NAME" | awk '{ print $1 }')" = "$HOMENET_DEVICE_ADDR" ]; }

homenet_bg device "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/dev" --listen "0.0.0.0:$PORT" \
  --qr-png "$T_DIR/dev.png" --qr-text "$T_DIR/dev.txt" --portable --rotation "$PERIOD"
DEV_LOG=$HOMENET_BG_LOG
device_up() { grep -q "^settle-device: listening on 0\.0\.0\.0:$PORT$" "$DEV_LOG" && [ -s "$T_DIR/dev.txt" ]; }
if ! homenet_wait device_up; then
  echo "Bail out! settle-device did not start:"; sed 's/^/# /' "$DEV_LOG"; exit 1
fi
check "the device is in portable mode, its QR code without an address" bash -c \
  "grep -q 'portable mode' '$DEV_LOG' && ! grep -q ';A:' '$T_DIR/dev.txt'"
nobody_answers_name() { ! in_ua avahi-resolve -4 -n "$NAME" 2>/dev/null | grep -q .; }
check "nobody announces $NAME on the network" nobody_answers_name

# Firefox makes its own profile (in ua) before settle install.
in_ua timeout 120 firefox-esr --headless --screenshot "$T_DIR/first-start.png" about:blank \
  >"$T_DIR/first-start.log" 2>&1 || true
INI=$(firefox_profiles_ini)
check "Firefox made its own profiles.ini" test -n "$INI"
FF_PROFILE=$(firefox_default_profile "$INI")
CR_PROFILE=$T_DIR/chromium-profile

check "settle pair --qr PNG --yes in ua pairs with the portable device" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --timeout 10
check "settle install --chromium --firefox" in_ua "$SETTLE" install --chromium --firefox
check "getent hosts $NAME in ua: the device, through libnss_settle" homenet_wait resolves_to_device
ISSUER_CN=$(identity_issuer_cn || true)
check "the pairing gave the browsers a client identity for the device" test -n "$ISSUER_CN"
allow_client_auth "$PORT" "$ISSUER_CN"

ua_browser chromium "" "$CR_PROFILE" SETTLE_DRIVER_CLIENT_AUTH=1 LD_LIBRARY_PATH="$NSS_SETTLE_DIR"
ua_browser firefox "" "$FF_PROFILE" SETTLE_DRIVER_CLIENT_AUTH=1 LD_LIBRARY_PATH="$NSS_SETTLE_DIR"
check "firefox's profile names no network.dns.localDomains" bash -c \
  "! grep -H 'network\\.dns\\.localDomains\\|network\\.dns\\.forceResolve\\|network\\.trr\\.mode' '$FF_PROFILE'/user.js '$FF_PROFILE'/prefs.js 2>/dev/null"
expect_loaded "chromium firefox" "https://$NAME/" "$NAME" \
  "opens https://$NAME/ of the portable device (libnss_settle, trusted): the device's page" "$B_ART/portable"
stop_browser chromium
stop_browser firefox
done_testing
