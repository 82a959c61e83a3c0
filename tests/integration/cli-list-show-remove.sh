#!/usr/bin/env bash
# settle list / show / remove: lookups by label, name and fingerprint
# prefix; removal regenerates the snapshot; refusals change nothing.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3

pki=$T_DIR/pki; mkdir -p "$pki"
mk_ca "$pki" printer
mk_ca "$pki" referee
fp_p=$(fingerprint "$pki/printer.pem"); fp_p_hex=$(echo "$fp_p" | tr -d : | tr A-F a-f)
fp_r=$(fingerprint "$pki/referee.pem")

check "list on an empty store says so" bash -c "'$SETTLE' list | grep -q 'Nothing is trusted'"
"$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp_p" --scope printer.local --yes >/dev/null 2>&1
"$SETTLE" trust --ca "$pki/referee.pem" --fingerprint "$fp_r" --scope lab.home.arpa --referee \
  --label "Lab referee" --yes >/dev/null 2>&1

"$SETTLE" list >"$T_DIR/list.txt" 2>/dev/null
check "list shows both bindings" bash -c "grep -q printer.local '$T_DIR/list.txt' && grep -q 'Lab referee' '$T_DIR/list.txt'"
check "list shows the referee kind" grep -q referee-ca "$T_DIR/list.txt"
check "show by name" bash -c "'$SETTLE' show printer.local | grep -q 'Trusted for:  printer.local'"
check "show by label" bash -c "'$SETTLE' show 'Lab referee' | grep -q 'lab.home.arpa'"
check "show by fingerprint prefix" bash -c "'$SETTLE' show ${fp_p_hex:0:12} | grep -q printer.local"
check "show --json is the record" bash -c "'$SETTLE' show --json printer.local | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"fingerprint\"]==\"$fp_p_hex\"'"
check_fails "show of an unknown name says so" "bank.example" "$SETTLE" show bank.example
check_fails "remove without a terminal or --yes is refused" "no terminal" \
  setsid "$SETTLE" remove printer.local </dev/null
check "the record is still there" bash -c "'$SETTLE' show printer.local >/dev/null"

check "the snapshot holds 4 certificates (2 roots, 2 crosses)" \
  test "$(grep -c 'BEGIN TRUSTED CERTIFICATE' "$XDG_DATA_HOME/settle/trust/bundle.pem")" -eq 4

check "remove by name" "$SETTLE" remove printer.local --yes
check_fails "it is gone" "printer.local" "$SETTLE" show printer.local
check_fails "removing it again is refused" "printer.local" "$SETTLE" remove printer.local --yes
check "the referee is still trusted" bash -c "'$SETTLE' show 'Lab referee' >/dev/null"
"$SETTLE" export --pem "$T_DIR/bundle.pem" >/dev/null
check "the snapshot now holds only the referee's 2 certificates" \
  test "$(grep -c 'BEGIN TRUSTED CERTIFICATE' "$T_DIR/bundle.pem")" -eq 2
check_fails "an unknown command is a usage error" "unknown command" "$SETTLE" frobnicate
check "every command has --help, whose usage line names it" \
  bash -c "for c in trust list show remove export pair audit; do '$SETTLE' \$c --help | grep -q \"settle \$c \\[OPTION\" || exit 1; done"
check "settle list --json writes nothing on stderr (no store notice)" \
  bash -c "'$SETTLE' list --json 2>'$T_DIR/list.err' >/dev/null && test ! -s '$T_DIR/list.err'"
check "settle list -v names the store" bash -c "'$SETTLE' list -v 2>&1 >/dev/null | grep -q 'using the file store'"
check "settle help pair is settle pair --help" bash -c "'$SETTLE' help pair | grep -q 'settle pair \\[OPTION'"
set +e; "$SETTLE" help frobnicate >/dev/null 2>&1; rc=$?; set -e
check "settle help of an unknown command is a usage error" test "$rc" -eq 2

done_testing
