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
    port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$out")
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
}

pair_with_evil foreign-name "claims a name outside .local, home.arpa and .alt" \
  "a device that claims only bank.example is refused"
pair_with_evil extra-name "claims a name outside .local, home.arpa and .alt" \
  "a device that claims printer.local and bank.example is refused"
pair_with_evil foreign-leaf "TLS certificate is not valid for its name printer.local" \
  "a device whose pinned TLS leaf names only bank.example is refused"
pair_with_evil chain-not-ca "returned a CA certificate that cannot be used: The certificate is not a CA" \
  "a device whose returned CA certificate is not a CA is refused"

done_testing
