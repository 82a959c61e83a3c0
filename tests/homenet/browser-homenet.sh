#!/usr/bin/env bash
# tests/homenet/browser-homenet.sh (issue 15): the product, no overrides.
# In the simulated home network (scripts/homenet):
#
#   - settle-device serves in the device host on port 443 and advertises
#     printer.local through avahi; its QR code carries no address;
#   - before pairing, headless Chromium and Firefox ESR started inside ua
#     refuse https://printer.local/ (no trust on first use);
#   - in ua, `settle pair --qr PNG --yes` pairs by name (mDNS/DNS-SD),
#     `settle install --chromium --firefox` registers the module with no
#     path option (Firefox made its own profile first);
#   - the same browsers, started inside ua with NO --host-resolver-rules,
#     NO network.dns.localDomains and NO --ignore-certificate-errors (the
#     test checks their command lines and prefs), open https://printer.local/
#     (resolved by getaddrinfo through libnss-mdns) and show the device's
#     page with no certificate error;
#   - a rogue host publishes other.local and serves a certificate for it
#     issued by the paired device's own CA key: both browsers refuse it
#     (name constraints: the scope is printer.local only); the rogue cannot
#     take printer.local while the device holds it; a rogue server with a
#     self-signed certificate for printer.local is refused too.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
: "${SETTLE_DEVICE:?run through meson test}"
homenet_need
# The npm driver is installed here, outside the namespaces: ua has no
# route to the npm registry.
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
homenet_up

NAME=printer.local
ROGUE_NAME=other.local
PORT=443
P=$T_DIR/pki; mkdir -p "$P"

# node runs inside ua: start_browser finds `node` first in this PATH (only
# while it starts a browser), a wrapper that enters ua.  The driver gets
# --map '' (no names mapped): no --host-resolver-rules, no localDomains.
NODE=$(command -v node)
mkdir -p "$T_DIR/ua-bin"
printf '#!/bin/sh\nexec "%s" exec ua "%s" "$@"\n' "$HOMENET" "$NODE" >"$T_DIR/ua-bin/node"
chmod +x "$T_DIR/ua-bin/node"
ua_browser() { PATH="$T_DIR/ua-bin:$PATH" start_browser "$@"; }

UA_NETNS=$(readlink "/proc/$(cat "$HOMENET_DIR/ua/holder.pid")/ns/net")
# The browser processes (not the driver) whose command line holds STRING.
browser_pids() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -e "$2" || continue
    tr '\0' '\n' <"$p/cmdline" 2>/dev/null | head -n 1 | grep -q "$1" || continue
    echo "${p#/proc/}"
  done
}
# no_overrides B MARK: B's processes (found by MARK, an argument of
# theirs) all run in ua's network namespace, and none was given a resolver
# rule or told to ignore certificate errors; Firefox's prefs name no
# localDomains.
no_overrides() {
  local b=$1 mark=$2 pids p n=0 bad=0 ns args
  pids=$(browser_pids "$b" "$mark")
  for p in $pids; do
    # (a helper process may end meanwhile: it is not counted)
    ns=$(readlink "/proc/$p/ns/net" 2>/dev/null) && args=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline") &&
      [ -n "$ns" ] || continue
    n=$((n + 1))
    [ "$ns" = "$UA_NETNS" ] || { echo "pid $p not in ua: $ns"; bad=1; }
    if grep -E -- '^--(host-resolver-rules|ignore-certificate-errors|host-rules|proxy-server)' <<<"$args"; then
      echo "pid $p has an override"; bad=1
    fi
  done
  echo "$n $b processes in ua ($UA_NETNS)"
  [ "$n" -gt 0 ] && [ "$bad" = 0 ]
}
ff_no_local_domains() {
  ls "$1"/user.js "$1"/prefs.js
  ! grep -H 'network\.dns\.localDomains\|network\.dns\.forceResolve\|network\.trr\.mode' "$1"/user.js "$1"/prefs.js
}

resolves_to() { [ "$(in_ua getent hosts "$1" | awk '{ print $1 }')" = "$2" ]; }

# --- the device, advertising printer.local, on 443 -------------------------
homenet_bg device "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/dev" \
  --listen "0.0.0.0:$PORT" --qr-png "$T_DIR/dev.png" --qr-text "$T_DIR/dev.txt"
DEV_LOG=$HOMENET_BG_LOG
device_up() { grep -q "^settle-device: listening on 0\.0\.0\.0:$PORT$" "$DEV_LOG" && [ -s "$T_DIR/dev.txt" ]; }
if ! homenet_wait device_up; then
  echo "Bail out! settle-device did not start:"; sed 's/^/# /' "$DEV_LOG"; exit 1
fi
check "the device advertises $NAME (mDNS)" \
  homenet_wait grep -q "^settle-device: advertising $NAME on the local network" "$DEV_LOG"
check "ua resolves $NAME to the device through the system resolver (getent, libnss-mdns)" \
  homenet_wait resolves_to "$NAME" "$HOMENET_DEVICE_ADDR"
check "the device's QR payload carries no address" \
  bash -c "grep -q '^SETTLE:' '$T_DIR/dev.txt' && ! grep -q ';A:' '$T_DIR/dev.txt'"

# --- Firefox makes its own profile (in ua) ------------------------------------
in_ua timeout 120 firefox-esr --headless --screenshot "$T_DIR/first-start.png" about:blank \
  >"$T_DIR/first-start.log" 2>&1 || true
INI=$(firefox_profiles_ini)
check "Firefox made its own profiles.ini" test -n "$INI"
FF_PROFILE=$(firefox_default_profile "$INI")
check "its default profile has a certificate database" test -f "$FF_PROFILE/cert9.db"
CR_PROFILE=$T_DIR/chromium-profile

# --- before pairing: no trust on first use ------------------------------------
ua_browser chromium_before "" "$T_DIR/chromium-before"
ua_browser firefox_before "" "$FF_PROFILE"
check "chromium (before pairing) runs in ua with no resolver rule and no ignore-certificate-errors" \
  no_overrides chromium "--user-data-dir=$T_DIR/chromium-before"
check "firefox (before pairing) runs in ua" no_overrides firefox "$FF_PROFILE"
check "firefox's profile names no network.dns.localDomains" ff_no_local_domains "$FF_PROFILE"
expect_refused "chromium_before firefox_before" "https://$NAME/" \
  "before pairing, refuses https://$NAME/ (no trust on first use)" UNTRUSTED
stop_browser chromium_before
stop_browser firefox_before
ff_gone() { [ -z "$(browser_pids firefox "$FF_PROFILE")" ]; }
homenet_wait ff_gone || true
# Chromium 146 and later keep their NSS database in $XDG_DATA_HOME/pki/nssdb
# (docs/nss-module.md), and make it on their first start.
CR_DB=$XDG_DATA_HOME/pki/nssdb
check "Chromium made its own database $CR_DB on its first start" test -f "$CR_DB/cert9.db"
check "which does not hold the module before settle install" bash -c \
  "modutil -dbdir 'sql:$CR_DB' -list && ! modutil -dbdir 'sql:$CR_DB' -list | grep -q 'SETTLE'"

# --- pairing by name, then settle install with no path -------------------------
check "settle pair --qr PNG --yes in ua pairs with the address-less QR code" \
  in_ua "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --timeout 10
check "it found $NAME on the local network by its name (mDNS/DNS-SD), on port $PORT" \
  grep -q "connecting to the device (TLS 1.3): $NAME on the local network ... $NAME:$PORT" "$T_DIR/last.out"
check "the pairing stored a device CA scoped to $NAME only" bash -c \
  "'$SETTLE' list | grep -E '^printer\.local +device-ca +printer\.local '"
check "settle install --chromium --firefox (no path option)" \
  in_ua "$SETTLE" install --chromium --firefox
check "Chromium's database lists the SETTLE token" \
  bash -c "modutil -dbdir 'sql:$CR_DB' -list | grep -q 'token: SETTLE Local Trust'"
check "the profile Firefox made lists the SETTLE token" \
  bash -c "modutil -dbdir 'sql:$FF_PROFILE' -list | grep -q 'token: SETTLE Local Trust'"

# The device asks every client for the identity the pairing gave us: both
# browsers present it instead of opening a dialog (as browser-pair does).
ISSUER_CN=$(certutil -L -d "sql:$CR_DB" -h "SETTLE Device Identities" \
  -n "SETTLE Device Identities:$NAME (client)" 2>/dev/null |
  sed -n 's/^ *Issuer: "CN=\([^,]*\),.*/\1/p' | head -1 || true)
check "the pairing gave the browsers a client identity for the device" test -n "$ISSUER_CN"
allow_client_auth "$PORT" "$ISSUER_CN"

# --- the rogue: other.local with a leaf from the device's own CA key ----------
# (device/device-identity.c: ca.key and ca.pem in the state directory)
cp "$T_DIR/dev/ca.pem" "$P/devca.pem"; cp "$T_DIR/dev/ca.key" "$P/devca.key"
mk_leaf "$P" devca rogue "DNS:$ROGUE_NAME"
check "the rogue's leaf for $ROGUE_NAME is issued by the paired device's CA" \
  openssl verify -partial_chain -CAfile "$P/devca.pem" "$P/rogue.pem"
mk_self imposter "DNS:$NAME"
homenet_bg rogue avahi-publish -a -R "$ROGUE_NAME" "$HOMENET_ROGUE_ADDR"
homenet_bg rogue python3 "$B_SRC/https-server.py" --cert "$P/rogue.pem" --key "$P/rogue.key" \
  --chain "$P/devca.pem" --bind 0.0.0.0 --port "$PORT" --title "$ROGUE_NAME"
ROGUE_LOG=$HOMENET_BG_LOG
homenet_bg rogue python3 "$B_SRC/https-server.py" --cert "$P/imposter.pem" --key "$P/imposter.key" \
  --bind 0.0.0.0 --port 8443 --title "$NAME"
IMPOSTER_LOG=$HOMENET_BG_LOG
check "the rogue's two HTTPS servers listen" homenet_wait bash -c \
  "grep -q '^listening on' '$ROGUE_LOG' && grep -q '^listening on' '$IMPOSTER_LOG'"
check "ua resolves $ROGUE_NAME to the rogue" homenet_wait resolves_to "$ROGUE_NAME" "$HOMENET_ROGUE_ADDR"
check_fails "the rogue cannot publish $NAME while the device holds it (avahi: name collision)" \
  "Name collision" in_rogue timeout 20 avahi-publish -a -R "$NAME" "$HOMENET_ROGUE_ADDR"
check "ua still resolves $NAME to the device only" resolves_to "$NAME" "$HOMENET_DEVICE_ADDR"

# --- after pairing: the device's page, trusted; the rogue, refused -------------
ua_browser chromium "" "$CR_PROFILE" SETTLE_DRIVER_CLIENT_AUTH=1
ua_browser firefox "" "$FF_PROFILE" SETTLE_DRIVER_CLIENT_AUTH=1
check "chromium runs in ua with no resolver rule and no ignore-certificate-errors" \
  no_overrides chromium "--user-data-dir=$CR_PROFILE"
check "firefox runs in ua" no_overrides firefox "$FF_PROFILE"
check "firefox's profile names no network.dns.localDomains" ff_no_local_domains "$FF_PROFILE"
expect_loaded "chromium firefox" "https://$NAME/" "$NAME" \
  "opens https://$NAME/ (port 443, system resolver) with a trusted connection: the device's page" \
  "$B_ART/homenet"
check "Chromium saw TLS 1.3 and the device's CA as issuer" \
  grep -Eq "chromium https://$NAME/ -> loaded .*protocol=TLS 1.3 issuer=$NAME device CA" "$B_ART/browse.log"
expect_refused "chromium firefox" "https://$ROGUE_NAME/" \
  "refuses $ROGUE_NAME from the rogue, though the device's CA issued it (scope: $NAME only)" NC
expect_refused "chromium firefox" "https://$ROGUE_NAME:8443/" \
  "refuses the rogue's self-signed certificate for $NAME" UNTRUSTED
check "no request ever got past the rogue's TLS handshakes" bash -c \
  "! grep -q '^GET' '$ROGUE_LOG' '$IMPOSTER_LOG' && grep -q '^handshake-failed' '$ROGUE_LOG' &&
   grep -q '^handshake-failed' '$IMPOSTER_LOG'"
expect_loaded "chromium firefox" "https://$NAME/" "$NAME" "still opens the device's page afterwards"
stop_browser chromium
stop_browser firefox
done_testing
