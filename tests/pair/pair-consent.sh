#!/usr/bin/env bash
# The consent prompt of `settle pair`, driven through a pseudo-terminal:
# "no" stores nothing; "yes" stores the record marked as prompted.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_device

start_device dev printer.local
qr=$(cat "$T_DIR/dev.txt")
answer() { python3 "$SOURCE_ROOT/tests/pty-answer.py" 'Pair with it\? \[yes/no\]' "$1" \
  "$SETTLE" pair --qr "$T_DIR/dev.png"; }

check_fails "answering no stores nothing" "did not answer yes" answer no
check "the prompt named the device, its scope, the check code and the phone-scam warning" bash -c "
  grep -q 'Trust \"printer.local\"' '$T_DIR/last.out' && grep -q 'Trusted for: printer.local' '$T_DIR/last.out' &&
  grep -q 'Check code:' '$T_DIR/last.out' && grep -qi 'over the phone' '$T_DIR/last.out'"
check "nothing stored after no" nothing_stored
check "the device shows a new code" wait_new_qr dev "$qr"
qr=$(cat "$T_DIR/dev.txt")
check_fails "without a terminal and without --yes nothing is stored" "no terminal" \
  bash -c "setsid '$SETTLE' pair --qr '$T_DIR/dev.png' </dev/null"
check "nothing stored without a terminal" nothing_stored
check "a new code is shown again" wait_new_qr dev "$qr"
check "answering yes pairs" answer yes
check "the record says consent was given at the prompt" bash -c "'$SETTLE' list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)[\"anchors\"]
assert len(a) == 1 and a[0][\"consent\"] == \"prompt\", a
'"

done_testing
