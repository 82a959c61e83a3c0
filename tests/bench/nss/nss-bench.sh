#!/bin/bash
# Benchmark: NSS start + one chain verification, and 10,000 lookups by
# subject, with N wrapped anchors served by libsettle-pkcs11.so and, in the
# same run, by p11-kit's trust module reading the very same certificates.
# Prints figures and ratios; not a pass/fail test.  BENCH_SIZES overrides
# the list of N (default "10 1000 10000").
. "$SOURCE_ROOT/tests/lib.sh"
need_tool certutil

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
P11KIT=${P11KIT_TRUST:-/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so}
MAKE=$BUILD_ROOT/tests/bench/nss/bench-make
RUN=$BUILD_ROOT/tests/bench/nss/nss-bench
LOOKUPS=10000
[ -f "$P11KIT" ] || { echo "Bail out! p11-kit-trust.so not found (install p11-kit-modules)"; exit 1; }

declare -A rss
calc() { awk "BEGIN { print $1 }"; }
echo "# N  module  start+verify_ms  ${LOOKUPS}_lookups_ms  us/lookup  VmRSS_kB"
for n in ${BENCH_SIZES:-10 1000 10000}; do
  out=$T_DIR/n$n
  mkdir -p "$out/db"
  t=$(date +%s.%N)
  "$MAKE" "$n" "$out"
  echo "# made $n wrapped anchors in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
  certutil -N -d "sql:$out/db" --empty-password
  ours=$(SETTLE_TRUST_DIR=$out/trust "$RUN" "$out/db" "$MODULE" "" "$out/leaf.der" "$out/subjects.bin" $LOOKUPS)
  theirs=$("$RUN" "$out/db" "$P11KIT" "paths=$out/p11kit" \
    "$out/leaf.der" "$out/subjects.bin" $LOOKUPS)
  read -r os ol of orss <<<"$ours"
  read -r ts tl tf trss <<<"$theirs"
  calc() { awk "BEGIN { print $1 }"; }
  printf '# %6d  settle   %10.1f  %10.1f  %8.2f  %8d\n' "$n" "$os" "$ol" "$(calc "$ol * 1000 / $LOOKUPS")" "$orss"
  printf '# %6d  p11-kit  %10.1f  %10.1f  %8.2f  %8d\n' "$n" "$ts" "$tl" "$(calc "$tl * 1000 / $LOOKUPS")" "$trss"
  printf '#  ratio settle/p11-kit (target <= 1.0): start+verify %.3f, lookups %.5f (found %d vs %d)\n' \
    "$(calc "$os / $ts")" "$(calc "$ol / $tl")" "$of" "$tf"
  rss[settle,$n]=$orss; rss[p11kit,$n]=$trss
  rm -rf "$out"
done
first=$(echo ${BENCH_SIZES:-10 1000 10000} | cut -d' ' -f1)
for n in ${BENCH_SIZES:-10 1000 10000}; do
  [ "$n" = "$first" ] && continue
  printf '# VmRSS per 1000 anchors (N=%d vs N=%d): settle %.0f kB, p11-kit %.0f kB\n' "$n" "$first" \
    "$(calc "(${rss[settle,$n]} - ${rss[settle,$first]}) * 1000 / ($n - $first)")" \
    "$(calc "(${rss[p11kit,$n]} - ${rss[p11kit,$first]}) * 1000 / ($n - $first)")"
done
pass "benchmark ran"
done_testing
