#!/usr/bin/env bash
# A device that knows the pairing code and holds the pinned key (so the
# pin and both SPAKE2 confirmations succeed) and then lies in its
# enrolment: names outside the local namespaces, a TLS leaf for another
# name, a "CA" that is not one.  Each is refused with its own message and
# nothing is stored.  tests/pair/evil-device.c plays the device.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
: "${EVIL_DEVICE:?run through meson test}"

# start_evil MODE: runs evil-device in MODE; sets EVIL_PAYLOAD to the
# SETTLE: text it wrote.
start_evil() {
  local mode=$1 out="$T_DIR/evil-$1.out" payload_file="$T_DIR/evil-$1.payload"
  "$EVIL_DEVICE" "$mode" "$payload_file" >"$out" 2>&1 &
  local pid=$!
  at_exit "kill $pid"
  local i port=
  for i in $(seq 100); do
    port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$out" 2>/dev/null || true)
    [ -n "$port" ] && [ -s "$payload_file" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "Bail out! evil-device $mode did not start:"; sed 's/^/# /' "$out"; exit 1
  fi
  EVIL_PAYLOAD=$(cat "$payload_file")
}

# pair_with_evil MODE PATTERN DESC: settle pair must fail with PATTERN,
# after the device's proof succeeded, and store nothing.
pair_with_evil() {
  local mode=$1 pattern=$2 desc=$3
  start_evil "$mode"
  check_fails "$desc" "$pattern" "$SETTLE" pair --payload "$EVIL_PAYLOAD" --yes --timeout 5
  check "the device did prove the code first ($mode)" \
    grep -q "sent the enrolment" "$T_DIR/evil-$mode.out"
  check "nothing stored ($mode)" nothing_stored
  check "and the device was never told to commit ($mode)" bash -c \
    "grep -q 'evil-device: no commit' '$T_DIR/evil-$mode.out' && ! grep -q 'evil-device: committed' '$T_DIR/evil-$mode.out'"
}

pair_with_evil foreign-name "claims a name outside .local, home.arpa and .alt" \
  "a device that claims only bank.example is refused"
pair_with_evil extra-name "claims a name outside .local, home.arpa and .alt" \
  "a device that claims printer.local and bank.example is refused"
pair_with_evil foreign-leaf "TLS certificate is not valid for its name printer.local" \
  "a device whose pinned TLS leaf names only bank.example is refused"
pair_with_evil chain-not-ca "returned a CA certificate that cannot be used: The certificate is not a CA" \
  "a device whose returned CA certificate is not a CA is refused"
# Issue 12 finding 1 through a normal pairing: a TLS leaf that does not
# chain to the device's CA falls back to a pinned peer, and one without
# basicConstraints (keyCertSign even) could then issue for any name.
pair_with_evil unchained-leaf "no basicConstraints extension .*cannot issue others" \
  "a device whose unchained TLS leaf could act as a CA is not pinned"

# A device that claims local names beyond the one the QR code vouches
# for (printer.local): nas.local and router.home.arpa are nobody's word
# but its own.  --yes refuses them and still pairs printer.local alone;
# at a terminal each one needs a yes of its own.
PTY="$SOURCE_ROOT/tests/pty-answer.py"
record_names() {
  "$SETTLE" list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)["anchors"]
assert len(a) == 1, a
want = sys.argv[1].split(",")
assert a[0]["names"] == want and a[0]["scope"] == want, (a[0]["names"], a[0]["scope"], want)
' "$1"
}
start_evil local-extra
check "--yes pairs a device that also claims nas.local and router.home.arpa" \
  "$SETTLE" pair --payload "$EVIL_PAYLOAD" --yes --timeout 5
check "and says that it refused the unverified names" \
  grep -q "also claims nas.local, router.home.arpa, which nothing vouched for; --yes never accepts" "$T_DIR/last.out"
check "the record is scoped to printer.local alone" record_names printer.local
check "the device was told to commit" grep -q "evil-device: committed" "$T_DIR/evil-local-extra.out"
check "removing it for the next try" "$SETTLE" remove printer.local --yes
check "at a terminal: yes for nas.local, no for router.home.arpa, yes to pair" \
  python3 "$PTY" 'Also trust it for nas\.local \(UNVERIFIED\)\? \[yes/no\]' yes \
  'Also trust it for router\.home\.arpa \(UNVERIFIED\)\? \[yes/no\]' no \
  'Pair with it\? \[yes/no\]' yes -- "$SETTLE" pair --payload "$EVIL_PAYLOAD" --timeout 5
check "the prompt showed the refused name as not trusted" \
  grep -q "Not trusted for: router.home.arpa" "$T_DIR/last.out"
check "the record holds printer.local and the accepted nas.local only" record_names printer.local,nas.local
check "removing it again" "$SETTLE" remove printer.local --yes
check_fails "at a terminal, no to the pairing after yes to a name stores nothing" "did not answer yes" \
  python3 "$PTY" 'nas\.local \(UNVERIFIED\)\? \[yes/no\]' yes 'router\.home\.arpa \(UNVERIFIED\)\? \[yes/no\]' yes \
  'Pair with it\? \[yes/no\]' no -- "$SETTLE" pair --payload "$EVIL_PAYLOAD" --timeout 5
check "nothing stored after no" nothing_stored
check "and the device was told so, not to commit" grep -q "evil-device: no commit: error 10" "$T_DIR/evil-local-extra.out"

done_testing
