#!/bin/bash
# Issue 14, Firefox where it keeps profiles today: a fresh home, Firefox ESR
# makes its own profile (no profiles.ini written by the test), `settle
# install --firefox` finds it through Firefox's own profiles.ini, and that
# profile then opens a trusted device and refuses one nobody trusted.
# (Name resolution still comes from the driver's network.dns.localDomains:
# a lab setting, see docs/browsers.md.)
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"

P=$T_DIR/pki; mkdir -p "$P"
mk_ca "$P" dev
mk_leaf "$P" dev printer "DNS:printer.local"
mk_ca "$P" stranger
mk_leaf "$P" stranger fake "DNS:printer.local"

check "no Firefox profile exists before Firefox runs" \
  bash -c "! ls '$HOME/.mozilla/firefox/profiles.ini' '${XDG_CONFIG_HOME:-$HOME/.config}/mozilla/firefox/profiles.ini' 2>/dev/null"
check_fails "settle install --firefox without a profile fails" "no Firefox profile found" \
  "$SETTLE" install --firefox
# Firefox makes its default profile on its first start.
timeout 120 firefox-esr --headless --screenshot "$T_DIR/first-start.png" about:blank >"$T_DIR/first-start.log" 2>&1
INI=$(firefox_profiles_ini)
echo "# Firefox $(firefox-esr --version 2>/dev/null) made ${INI:-no profiles.ini}"
check "Firefox made its own profiles.ini" test -n "$INI"
# The profile this installation uses (firefox_default_profile).
PROFILE=$(firefox_default_profile "$INI")
check "Firefox left a stale lock behind (its process is gone)" test -L "$PROFILE/lock"
check "the default profile has a certificate database" test -f "$PROFILE/cert9.db"

check "settle trust wraps the device CA for printer.local" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes
check "settle install --firefox finds the profile Firefox made" "$SETTLE" install --firefox
check "that profile lists the SETTLE token" \
  bash -c "modutil -dbdir 'sql:$PROFILE' -list | grep -q 'token: SETTLE Local Trust'"

TITLE=printer.local start_server printer "$P/printer.pem" "$P/printer.key" "$P/dev.pem"; OK_PORT=$PORT
TITLE=printer.local start_server fake "$P/fake.pem" "$P/fake.key" "$P/stranger.pem"; FAKE_PORT=$PORT
start_browser firefox printer.local "$PROFILE"
expect_loaded firefox "https://printer.local:$OK_PORT/" printer.local \
  "the profile Firefox made opens the trusted device"
expect_refused firefox "https://printer.local:$FAKE_PORT/" \
  "the profile Firefox made refuses printer.local from a CA nobody trusted" UNTRUSTED
done_testing
