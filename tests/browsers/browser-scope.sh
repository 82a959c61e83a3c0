#!/bin/bash
# Issue 6 part 2, one table: a device CA trusted for printer.local issues
# leaves for names it may not vouch for; both browsers must refuse each one
# with a name-constraint error, and accept the in-scope control.
#
# The IP rows need the browser to connect to that address, so when it can
# the test runs in a private network namespace (unshare -n) whose loopback
# also carries 8.8.8.8 (public) and 192.168.1.20 (private): the URL's host
# then matches the leaf's iPAddress SAN, and only the wrapper's excluded
# iPAddress subtrees (0.0.0.0/0, ::/0) make the browser refuse.  The
# "printer.local + IP" row shows the same exclusion without any routing:
# the name matches, and the IP SAN alone spoils the certificate.
if [ -z "${SETTLE_IN_NETNS:-}" ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  exec env SETTLE_IN_NETNS=1 unshare -n bash "$0" "$@"
fi
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"

BIND=127.0.0.1
if [ -n "${SETTLE_IN_NETNS:-}" ]; then
  ip link set lo up && ip addr add 8.8.8.8/32 dev lo && ip addr add 192.168.1.20/32 dev lo && BIND=0.0.0.0
  echo "# private network namespace: lo carries $(ip -br -4 addr show lo | cut -c34- | tr -s ' ')"
else
  echo "# no private network namespace (unshare -n refused): the public and private IP rows are skipped"
fi

P=$T_DIR/pki; mkdir -p "$P"
mk_ca "$P" dev

# id | subjectAltName of the leaf | host in the URL | expected
# The host is resolved to 127.0.0.1 by the browser (names) or reached over
# the namespace's loopback (addresses).
TABLE="
control       | DNS:printer.local                 | printer.local | accept
bank          | DNS:bank.example                  | bank.example  | refuse
sibling-local | DNS:scanner.local                 | scanner.local | refuse
public-ip     | IP:8.8.8.8                        | 8.8.8.8       | refuse
private-ip    | IP:192.168.1.20                   | 192.168.1.20  | refuse
loopback-ip   | IP:127.0.0.1                      | 127.0.0.1     | refuse
local+ip      | DNS:printer.local,IP:8.8.8.8      | printer.local | refuse
mixed         | DNS:printer.local,DNS:bank.example | printer.local | refuse
mixed-as-bank | DNS:printer.local,DNS:bank.example | bank.example  | refuse
"

check "settle trust wraps the device CA for printer.local" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes
setup_chromium_nssdb
setup_firefox_profile

ROWS=()
while IFS='|' read -r id san host expect; do
  id=$(echo $id) san=$(echo $san) host=$(echo $host) expect=$(echo $expect)
  [ -z "$id" ] && continue
  if [[ $host =~ ^(8\.8\.8\.8|192\.168\.1\.20)$ ]] && [ -z "${SETTLE_IN_NETNS:-}" ]; then
    if [ "${CI:-}" = true ]; then
      fail "$id: both browsers (no private network namespace: unshare -n was refused)"
    else
      T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT - $id: both browsers # SKIP needs a network namespace"
    fi
    continue
  fi
  leaf=leaf-${id//+/-}
  mk_leaf "$P" dev "$leaf" "$san"
  TITLE=$id start_server "$id" "$P/$leaf.pem" "$P/$leaf.key" "$P/dev.pem" "$BIND"
  ROWS+=("$id|$san|$host|$expect|$PORT")
done <<<"$TABLE"

start_browser chromium printer.local,bank.example,scanner.local
start_browser firefox printer.local,bank.example,scanner.local
for row in "${ROWS[@]}"; do
  IFS='|' read -r id san host expect port <<<"$row"
  url="https://$host:$port/"
  if [ "$expect" = accept ]; then
    expect_loaded "chromium firefox" "$url" "$id" "$id: accepts $san at $url"
  else
    expect_refused "chromium firefox" "$url" "$id: refuses $san at $url" NC
  fi
done

for row in "${ROWS[@]}"; do
  IFS='|' read -r id san host expect port <<<"$row"
  if [ "$expect" = accept ]; then
    check "$id: the server answered requests" grep -q '^GET /$' "$T_DIR/srv-$id.log"
  else
    check "$id: no request ever got past the TLS handshake" \
      bash -c "! grep -q '^GET' '$T_DIR/srv-$id.log' && grep -q '^handshake-failed' '$T_DIR/srv-$id.log'"
  fi
done
done_testing
