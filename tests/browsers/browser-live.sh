#!/bin/bash
# Issue 6 part 4: live changes while both browsers keep running.
#   - `settle remove` makes the next new connection with a certificate the
#     browser has not verified before fail, within a second;
#   - a new `settle trust` becomes effective without a restart;
#   - what each browser caches: the same certificate on a new port and on
#     the old port after the removal (observations, printed as evidence).
# Every attempt uses a new server port; the servers close each connection
# and send no session tickets, so nothing is resumed.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"

P=$T_DIR/pki; mkdir -p "$P"
mk_ca "$P" dev
mk_leaf "$P" dev seen "DNS:printer.local"
BOTH="chromium firefox"
now_ms() { date +%s%3N; }

check "settle trust wraps the device CA for printer.local" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes
setup_chromium_nssdb
setup_firefox_profile
TITLE=printer.local start_server before "$P/seen.pem" "$P/seen.key" "$P/dev.pem"; BEFORE=$PORT
start_browser chromium printer.local
start_browser firefox printer.local
expect_loaded "$BOTH" "https://printer.local:$BEFORE/" printer.local "opens the trusted device"

# eventually B EXPECT ID CA: up to 6 attempts, each with a leaf never seen
# before (signed by CA) on a new port, until B's outcome is EXPECT (loaded
# or cert-error); prints the attempts and milliseconds since $T0.
eventually() {
  local b=$1 want=$2 id=$3 ca=$4 i
  for i in 1 2 3 4 5 6; do
    mk_leaf "$P" "$ca" "$id-$b-$i" "DNS:printer.local"
    TITLE=printer.local start_server "$id-$b-$i" "$P/$id-$b-$i.pem" "$P/$id-$b-$i.key" "$P/$ca.pem"
    browse "$b" "https://printer.local:$PORT/"
    if [ "$R_OUTCOME" = "$want" ]; then
      pass "$b: $id: $want with a new certificate ($R_DETAIL) after $i attempt(s), $(($(now_ms) - T0)) ms after the change"
      return 0
    fi
    echo "#   $b attempt $i: $R_OUTCOME $R_DETAIL"
  done
  fail "$b: $id: still $R_OUTCOME ($R_DETAIL) after $i attempts, $(($(now_ms) - T0)) ms after the change"
}

# 1. Removal.
check "settle remove printer.local" "$SETTLE" remove printer.local --yes
T0=$(now_ms)
for b in $BOTH; do eventually "$b" cert-error removed dev; done
# Observations: the certificate both browsers verified before the removal.
TITLE=printer.local start_server again "$P/seen.pem" "$P/seen.key" "$P/dev.pem"; AGAIN=$PORT
for b in $BOTH; do
  browse "$b" "https://printer.local:$AGAIN/"
  echo "# observed: $b, the certificate verified before the removal, new port: $R_OUTCOME $R_DETAIL"
  browse "$b" "https://printer.local:$BEFORE/"
  echo "# observed: $b, the same certificate, old port (new connection): $R_OUTCOME $R_DETAIL"
  eval "SEEN_$b=\"\$R_OUTCOME \$R_DETAIL\""
done
check "Firefox refuses even the certificate it had verified before the removal" \
  bash -c "[[ '$SEEN_firefox' == cert-error* ]]"

# 2. A new trust, no restart: a new device CA for printer.local.
mk_ca "$P" dev2
check "settle trust wraps a new device CA for printer.local" \
  "$SETTLE" trust --ca "$P/dev2.pem" --fingerprint "$(fingerprint "$P/dev2.pem")" --scope printer.local --yes
T0=$(now_ms)
for b in $BOTH; do eventually "$b" loaded added dev2; done

# 3. Remove it again: the first CA's leaves stay refused, the new one's go.
check "settle remove printer.local (the new CA)" "$SETTLE" remove printer.local --yes
T0=$(now_ms)
for b in $BOTH; do eventually "$b" cert-error removed-again dev2; done
stop_browser chromium
stop_browser firefox
done_testing
