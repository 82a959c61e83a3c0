#!/usr/bin/env bash
# The consent prompt, driven through a pseudo-terminal: "no" (or anything
# but "yes") stores nothing; "yes" stores the record marked as prompted.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3

pki=$T_DIR/pki; mkdir -p "$pki"
mk_ca "$pki" printer
fp=$(fingerprint "$pki/printer.pem")
answer() { python3 "$SOURCE_ROOT/tests/pty-answer.py" 'Trust it\? \[yes/no\]' "$1" \
  "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" --scope printer.local; }

check_fails "answering no stores nothing" "did not answer yes" answer no
check "the prompt named the scope and warned about phone scams" \
  bash -c "grep -q 'printer.local' '$T_DIR/last.out' && grep -qi 'over the phone' '$T_DIR/last.out'"
check_fails "answering y (not yes) stores nothing" "did not answer yes" answer y
check "the store is still empty" bash -c "'$SETTLE' list --json | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"anchors\"]==[]'"
check "answering yes stores it" answer yes
check "the record says consent was given at the prompt" \
  bash -c "'$SETTLE' show --json printer.local | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"consent\"]==\"prompt\"'"
check "remove asks too, and yes removes" python3 "$SOURCE_ROOT/tests/pty-answer.py" 'delete its keys\? \[yes/no\]' yes \
  "$SETTLE" remove printer.local
check_fails "it is gone" "printer.local" "$SETTLE" show printer.local

done_testing
