#!/usr/bin/env bash
# The keyring store through the helper: with a Secret Service on the
# (private) session bus, `settle trust` stores the record there.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl secret-tool python3
start_keyring

pki=$T_DIR/pki; mkdir -p "$pki"
mk_ca "$pki" printer
fp=$(fingerprint "$pki/printer.pem"); fp_hex=$(echo "$fp" | tr -d : | tr A-F a-f)

check "trust stores into the keyring" \
  "$SETTLE" trust -v --ca "$pki/printer.pem" --fingerprint "$fp" --scope printer.local --yes
check "the helper said (-v) it used the keyring" grep -qi keyring "$T_DIR/last.out"
check "no file store was created" test ! -e "$XDG_DATA_HOME/settle/store"
check "secret-tool finds the record by its schema attributes" \
  bash -c "secret-tool search --all xdg:schema org.settle.Anchor fingerprint $fp_hex 2>&1 | grep -q printer.local"
check "list --json shows it" \
  bash -c "'$SETTLE' list --json | python3 -c 'import json,sys; assert [a[\"fingerprint\"] for a in json.load(sys.stdin)[\"anchors\"]]==[\"$fp_hex\"]'"
check "the snapshot was written" test -s "$XDG_DATA_HOME/settle/trust/bundle.pem"
check "remove deletes it from the keyring" "$SETTLE" remove printer.local --yes
check "secret-tool no longer finds it" \
  bash -c "! secret-tool search --all xdg:schema org.settle.Anchor fingerprint $fp_hex 2>&1 | grep -q printer.local"

done_testing
