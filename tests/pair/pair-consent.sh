#!/usr/bin/env bash
# The consent prompt of `settle pair`, driven through a pseudo-terminal.
# Consent comes before anything changes on either side: "no", end of
# input or no terminal store nothing here and nothing on the device (its
# enrolments.json), and the next accepted pairing gets the role it asked
# for.  An unclear answer asks again; "yes" stores the record marked as
# prompted.  The device shows the same check code as the prompt.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_device
PTY="$SOURCE_ROOT/tests/pty-answer.py"

start_device dev printer.local
qr=$(cat "$T_DIR/dev.txt")
answer() { python3 "$PTY" 'Pair with it\? \[yes/no\]' "$1" "$SETTLE" pair --qr "$T_DIR/dev.png"; }
# The device's enrolments.json holds exactly N entries (none when absent).
device_enrolments() {
  python3 - "$T_DIR/dev/enrolments.json" "$1" "${2:-}" <<'PY'
import json, os, sys
path, n, role = sys.argv[1], int(sys.argv[2]), sys.argv[3]
entries = json.load(open(path))["enrolments"] if os.path.exists(path) else []
assert len(entries) == n, entries
assert not role or all(e["role"] == role for e in entries), entries
PY
}
check_code_of() { sed -n 's/^ *Check code: *\([0-9]\{3\} [0-9]\{3\}\) .*/\1/p' "$1" | tail -1; }

check_fails "answering no stores nothing" "did not answer yes" answer no
cp "$T_DIR/last.out" "$T_DIR/no.out"
check "the prompt named the device, its scope, the check code and the phone-scam warning" bash -c "
  grep -q 'Trust \"printer.local\"' '$T_DIR/no.out' && grep -q 'Trusted for: printer.local' '$T_DIR/no.out' &&
  grep -q 'Check code:' '$T_DIR/no.out' && grep -qi 'over the phone' '$T_DIR/no.out'"
helper_code=$(check_code_of "$T_DIR/no.out")
device_code=$(check_code_of "$T_DIR/dev.log")
check "the device showed the same check code as the prompt ($helper_code)" \
  bash -c "[ -n '$helper_code' ] && [ '$helper_code' = '$device_code' ]"
check "the device logged the check code too" grep -q "^settle-device: check code $helper_code for the pairing with 127.0.0.1$" "$T_DIR/dev.log"
check "nothing stored after no" nothing_stored
check "and nothing enrolled on the device" device_enrolments 0
check "the device says why" grep -q "^settle-device: pairing with 127.0.0.1 not committed: No consent" "$T_DIR/dev.log"
check "the device shows a new code" wait_new_qr dev "$qr"
qr=$(cat "$T_DIR/dev.txt")
check_fails "without a terminal and without --yes nothing is stored" "no terminal" \
  bash -c "setsid '$SETTLE' pair --qr '$T_DIR/dev.png' </dev/null"
check "nothing stored without a terminal" nothing_stored
check "nor on the device" device_enrolments 0
check "a new code is shown again" wait_new_qr dev "$qr"
qr=$(cat "$T_DIR/dev.txt")
check_fails "\"yes\" then end of input (Ctrl-D twice) is a no" "end of input at the prompt counts as no" \
  answer 'yes^D^D'
check "nothing stored after end of input" nothing_stored
check "nor on the device" device_enrolments 0
check "a new code is shown" wait_new_qr dev "$qr"
check "an unclear answer asks again, and yes then pairs" \
  python3 "$PTY" 'Pair with it\? \[yes/no\]' maybe 'Please type yes or no\.\s+Pair with it\? \[yes/no\]' yes \
  -- "$SETTLE" pair --qr "$T_DIR/dev.png" --role admin
check "the record says consent was given at the prompt, role admin" bash -c "'$SETTLE' list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)[\"anchors\"]
assert len(a) == 1 and a[0][\"consent\"] == \"prompt\" and a[0][\"role\"] == \"admin\", a
'"
check "the device holds exactly this one enrolment, as admin (the refusals left none behind)" \
  device_enrolments 1 admin

done_testing
