#!/bin/bash
# Part 1 and 6 of issue 6: a device CA trusted with `settle trust --scope
# printer.local`, the module registered with `settle install`, then headless
# Chromium and Firefox ESR open https://printer.local:PORT/ without a
# certificate error, the page in the DOM; a screenshot of each is kept.
# Control: a leaf from a CA nobody trusted is refused by both.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"

P=$T_DIR/pki; mkdir -p "$P"
mk_ca "$P" dev
mk_leaf "$P" dev printer "DNS:printer.local"
mk_ca "$P" stranger
mk_leaf "$P" stranger fake "DNS:printer.local"

check "settle trust wraps the device CA for printer.local" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes
check "settle install --nssdb registers the module for Chromium" setup_chromium_nssdb
check "settle install --firefox registers the module in the Firefox profile" setup_firefox_profile
check "the Firefox profile lists the SETTLE token" \
  bash -c "modutil -dbdir 'sql:$FF_PROFILE' -list | grep -q 'token: SETTLE Local Trust'"

TITLE=printer.local start_server printer "$P/printer.pem" "$P/printer.key" "$P/dev.pem"; OK_PORT=$PORT
TITLE=printer.local start_server fake "$P/fake.pem" "$P/fake.key" "$P/stranger.pem"; FAKE_PORT=$PORT

start_browser chromium printer.local
start_browser firefox printer.local
expect_loaded "chromium firefox" "https://printer.local:$OK_PORT/" printer.local \
  "opens https://printer.local with no certificate error, the page in the DOM" "$B_ART/printer"
for b in chromium firefox; do
  check "$b: the screenshot was kept ($B_ART/printer-$b.png)" \
    bash -c "[ \"\$(head -c 8 '$B_ART/printer-$b.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ]"
done
expect_refused "chromium firefox" "https://printer.local:$FAKE_PORT/" \
  "refuses printer.local from a CA nobody trusted" UNTRUSTED
check "Chromium reported TLS 1.3 with the device CA as issuer" \
  grep -q 'chromium https://printer.local:.* loaded .*protocol=TLS 1.3 issuer=dev device CA' "$B_ART/browse.log"
check "the trusted server saw both browsers' requests" test "$(grep -c '^GET /$' "$T_DIR/srv-printer.log")" -ge 2
check "the untrusted server saw only aborted handshakes" \
  bash -c "! grep -q '^GET' '$T_DIR/srv-fake.log' && grep -q '^handshake-failed' '$T_DIR/srv-fake.log'"
done_testing
