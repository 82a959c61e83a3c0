#!/usr/bin/env bash
# Concurrent writers: 16 `settle trust` processes at once must not lose a
# record, and the snapshot must end up with every one of them.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl

n=16
pki=$T_DIR/pki; mkdir -p "$pki"
for i in $(seq 1 $n); do mk_ca "$pki" "dev$i"; done
pids=()
for i in $(seq 1 $n); do
  "$SETTLE" trust --ca "$pki/dev$i.pem" --fingerprint "$(fingerprint "$pki/dev$i.pem")" \
    --scope "dev$i.local" --yes >"$T_DIR/out.$i" 2>&1 &
  pids+=($!)
done
failures=0
for p in "${pids[@]}"; do wait "$p" || failures=$((failures + 1)); done
check "all $n concurrent trust commands succeeded" test "$failures" -eq 0
check "all $n records are in the store" test "$(ls "$XDG_DATA_HOME"/settle/store/*.json | wc -l)" -eq $n
check "the snapshot holds all $((2 * n)) certificates" \
  test "$(grep -c 'BEGIN TRUSTED CERTIFICATE' "$XDG_DATA_HOME/settle/trust/bundle.pem")" -eq $((2 * n))
check "no temporary files were left in the store" \
  test "$(find "$XDG_DATA_HOME/settle/store" -maxdepth 1 -type f ! -name '*.json' ! -name catalogue | wc -l)" -eq 0
check "at most two snapshot generations are kept" \
  test "$(ls -d "$XDG_DATA_HOME"/settle/snapshots/gen-* | wc -l)" -le 2

done_testing
