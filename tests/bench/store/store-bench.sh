#!/bin/bash
# Benchmark: changes to a store of N trusted device CAs with the file
# backend: `settle trust` of one more device, `settle list`, `settle
# remove` by name and by fingerprint, `settle pair` with the reference
# device on loopback (its QR text on standard input; the ceremony, the
# record, its client key and the snapshot), each a whole process, median
# of ROUNDS (docs/performance.md,
# "Changes to the store").  The store is made by store-make (records added
# directly, the snapshot written once), not by N `settle trust` runs.
# Prints figures against the issue's targets; not a pass/fail test: it
# fails only when a command fails.  BENCH_SIZES overrides the list of N
# (default "10 1000 10000"); BENCH_BACKEND=keyring runs the same against
# a private gnome-keyring (default sizes "10 1000": gnome-keyring rewrites
# its keyring file on every item, so filling it with 10,000 takes long).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"   # wait_new_qr

MAKE=${STORE_MAKE:-$BUILD_ROOT/tests/bench/store/store-make}
ROUNDS=3
BACKEND=${BENCH_BACKEND:-file}
if [ "$BACKEND" = keyring ]; then
  start_keyring
  SIZES=${BENCH_SIZES:-10 1000}
else
  SIZES=${BENCH_SIZES:-10 1000 10000}
fi
echo "# backend: $BACKEND"

# ms COMMAND...: wall time in ms of one run (process start included).
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$T_DIR/last-error" || { cat "$T_DIR/last-error" >&2; echo failed; return 1; }
  t1=$(date +%s%N)
  awk "BEGIN { printf \"%.1f\\n\", ($t1 - $t0) / 1e6 }"
}

median() { sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }'; }
COLUMNS_TIMED=(trust list remove remove_fp pair)   # one file of times each in $T_DIR

echo "# N  trust_ms  list_ms  remove_ms  remove_fp_ms  pair_ms  (median of $ROUNDS; targets at N = 10,000: 300, 100, 300, 300, 300)"

for n in $SIZES; do
  data="$T_DIR/n$n"
  mkdir -p "$data/certs"
  export SETTLE_DATA_DIR="$data/settle"
  if [ "$BACKEND" = keyring ]; then
    export SETTLE_STORE=keyring store_arg=keyring
  else
    export SETTLE_STORE="file:$data/settle/store" store_arg="$data/settle/store"
  fi
  mkdir -p "$SETTLE_DATA_DIR"
  t0=$(date +%s)
  "$MAKE" "$n" "$store_arg" "$data/settle/trust" "$data/certs" || { fail "store-make $n"; done_testing; exit 1; }
  echo "# made a $BACKEND store of $n device CAs in $(($(date +%s) - t0)) s"
  # The catalogue vouches only for record files changed 3 s or more before
  # it was written (schema/store.md): a store just filled is read record
  # by record once more, which a user's store, older than that, is not.
  [ "$BACKEND" = file ] && sleep 4
  for c in "${COLUMNS_TIMED[@]}"; do : >"$T_DIR/$c"; done
  start_loopback_device "$data/device" --qr-text "$T_DIR/dev.txt" || { fail "settle-device at $n"; done_testing; exit 1; }
  payload=
  for ((r = 0; r < ROUNDS; r++)); do
    fp=$(cat "$data/certs/extra$r.fp")
    ms "$SETTLE" trust --ca "$data/certs/extra$r.pem" --fingerprint "$fp" --scope "extra$r.local" --yes >>"$T_DIR/trust" || { fail "trust at $n"; done_testing; exit 1; }
    ms "$SETTLE" list >>"$T_DIR/list" || { fail "list at $n"; done_testing; exit 1; }
    ms "$SETTLE" remove --yes "extra$r.local" >>"$T_DIR/remove" || { fail "remove at $n"; done_testing; exit 1; }
    # By full fingerprint: no search through every record.
    "$SETTLE" trust --ca "$data/certs/extra$r.pem" --fingerprint "$fp" --scope "extra$r.local" --yes >/dev/null ||
      { fail "trust again at $n"; done_testing; exit 1; }
    ms "$SETTLE" remove --yes "$fp" >>"$T_DIR/remove_fp" || { fail "remove by fingerprint at $n"; done_testing; exit 1; }
    # A pairing uses the code up: wait for the next one.
    wait_new_qr dev "$payload" || { fail "a fresh QR code at $n"; done_testing; exit 1; }
    payload=$(cat "$T_DIR/dev.txt")
    ms "$SETTLE" pair --payload - --yes --label "bench pair" <<<"$payload" >>"$T_DIR/pair" ||
      { fail "pair at $n"; done_testing; exit 1; }
    "$SETTLE" remove --yes "bench pair" >/dev/null || { fail "remove the paired device at $n"; done_testing; exit 1; }
  done
  kill "$DEV_PID" 2>/dev/null; wait "$DEV_PID" 2>/dev/null
  medians=() runs=
  for c in "${COLUMNS_TIMED[@]}"; do
    medians+=("$(median <"$T_DIR/$c")")
    runs+="${runs:+; }$c $(tr '\n' ' ' <"$T_DIR/$c")"
  done
  printf '# %6d  %8s  %7s  %9s  %12s  %7s   (%s)\n' "$n" "${medians[@]}" "$runs"
  # The next N starts from an empty store.
  [ "$BACKEND" = keyring ] && { "$SETTLE" reset --yes >/dev/null 2>&1 || { fail "reset at $n"; done_testing; exit 1; }; }
  rm -rf "$data"
done
pass "benchmark ran"
done_testing
