#!/bin/bash
# Benchmark: NSS start + one chain verification, and 10,000 lookups by
# subject, with N wrapped anchors served by libsettle-pkcs11.so and, in the
# same run, by p11-kit's trust module reading the very same certificates.
# Prints figures and ratios: settle against p11-kit-trust at the same N,
# and settle at N against settle at the first (smallest) N; not a
# pass/fail test.
#
# Three figures for the lookups' growth with N (target: within 1.2x from
# N = 10 to N = 10,000), which measure different things:
# - warm: 10,000 searches cycling over all N subjects, right after the
#   pass that served every entry for the first time, as in earlier runs.
#   That pass's OpenSSL parses (the scope rule, ~0.1 ms per entry) evict
#   every cache, so at N = 10,000 warm fetches the snapshot's lines back
#   from memory once; at N = 10 everything stays in L1.
# - steady: the same 10,000 searches over all N subjects again, best of 5
#   passes: each subject's lines are then as far away as 10,000 other
#   searches pushed them, the case of a process that keeps searching (a
#   browser), cache footprint of the whole store included.
# - fixed10: 10,000 searches cycling over the first 10 subjects only, the
#   same working set at every N, so everything stays cached at every N:
#   its growth with N is the search's algorithmic growth alone, without
#   the cache footprint.
# BENCH_SIZES overrides the list of N (default
# "10 1000 10000"); p11-kit-trust runs up to N = P11KIT_UPTO (default
# 1000: at 10,000 it needs minutes, docs/performance.md has its figures).
. "$SOURCE_ROOT/tests/lib.sh"
need_tool certutil

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
P11KIT=${P11KIT_TRUST:-/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so}
MAKE=$BUILD_ROOT/tests/bench/nss/bench-make
RUN=$BUILD_ROOT/tests/bench/nss/nss-bench
LOOKUPS=10000
UPTO=${P11KIT_UPTO:-1000}
[ -f "$P11KIT" ] || { echo "Bail out! p11-kit-trust.so not found (install p11-kit-modules)"; exit 1; }

declare -A rss start first warm fixed
calc() { awk "BEGIN { print $1 }"; }
echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# start+verify: NSS_Initialize + module load + one verification; first: ${LOOKUPS} searches by subject,"
echo "# each subject's first (cycling over the N subjects); warm: the same again; VmRSS after start+verify;"
echo "# fixed10: ${LOOKUPS} searches again cycling over the first 10 subjects only (same working set at every N);"
echo "# steady: ${LOOKUPS} searches over all N subjects again, best of 5 passes (warm follows the pass that served"
echo "# every entry, whose parses evicted the caches; steady is a long-running process's search)"
echo "# N  module  start+verify_ms  ${LOOKUPS}_first_ms  us/first  ${LOOKUPS}_warm_ms  us/warm  VmRSS_kB  VmRSS_after_kB  ${LOOKUPS}_fixed10_ms  us/fixed10  ${LOOKUPS}_steady_ms  us/steady"
sizes=${BENCH_SIZES:-10 1000 10000}
base=$(echo $sizes | cut -d' ' -f1)
for n in $sizes; do
  out=$T_DIR/n$n
  mkdir -p "$out/db"
  t=$(date +%s.%N)
  "$MAKE" "$n" "$out"
  echo "# made $n wrapped anchors in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" \
    "(index.cbor $(($(stat -L -c %s "$out/trust/index.cbor") / 1024)) KiB, index.snap $(($(stat -L -c %s "$out/trust/index.snap") / 1024)) KiB)"
  certutil -N -d "sql:$out/db" --empty-password
  ours=$(SETTLE_TRUST_DIR=$out/trust "$RUN" "$out/db" "$MODULE" "" "$out/leaf.der" "$out/subjects.bin" $LOOKUPS)
  read -r os ol of orss ow orss2 ofx ost <<<"$ours"
  printf '# %6d  settle   %10.1f  %10.1f  %8.2f  %10.1f  %8.2f  %8d  %8d  %10.1f  %8.2f  %10.1f  %8.2f\n' "$n" "$os" "$ol" \
    "$(calc "$ol * 1000 / $LOOKUPS")" "$ow" "$(calc "$ow * 1000 / $LOOKUPS")" "$orss" "$orss2" \
    "$ofx" "$(calc "$ofx * 1000 / $LOOKUPS")" "$ost" "$(calc "$ost * 1000 / $LOOKUPS")"
  start[$n]=$os; first[$n]=$ol; warm[$n]=$ow; fixed[$n]=$ofx; steady[$n]=$ost; rss[settle,$n]=$orss
  if [ "$n" -le "$UPTO" ]; then
    theirs=$("$RUN" "$out/db" "$P11KIT" "paths=$out/p11kit" "$out/leaf.der" "$out/subjects.bin" $LOOKUPS)
    read -r ts tl tf trss tw trss2 tfx tst <<<"$theirs"
    printf '# %6d  p11-kit  %10.1f  %10.1f  %8.2f  %10.1f  %8.2f  %8d  %8d  %10.1f  %8.2f  %10.1f  %8.2f\n' "$n" "$ts" "$tl" \
      "$(calc "$tl * 1000 / $LOOKUPS")" "$tw" "$(calc "$tw * 1000 / $LOOKUPS")" "$trss" "$trss2" \
      "$tfx" "$(calc "$tfx * 1000 / $LOOKUPS")" "$tst" "$(calc "$tst * 1000 / $LOOKUPS")"
    printf '#  ratio settle/p11-kit (target <= 0.1): start+verify %.3f, first lookups %.5f, warm lookups %.5f (found %d vs %d)\n' \
      "$(calc "$os / $ts")" "$(calc "$ol / $tl")" "$(calc "$ow / $tw")" "$of" "$tf"
    rss[p11kit,$n]=$trss
  fi
  if [ "$n" != "$base" ]; then
    printf '#  ratio settle N=%d / N=%d: start+verify %.2f (target <= 1.5), first lookups %.2f, warm lookups %.2f (target <= 1.2)\n' \
      "$n" "$base" "$(calc "$os / ${start[$base]}")" "$(calc "$ol / ${first[$base]}")" "$(calc "$ow / ${warm[$base]}")"
    printf '#  ratio settle N=%d / N=%d, lookups (target <= 1.2): warm over all N subjects %.2f (cache footprint included),' \
      "$n" "$base" "$(calc "$ow / ${warm[$base]}")"
    printf ' fixed10 over the same 10 subjects %.2f (algorithmic growth alone),' "$(calc "$ofx / ${fixed[$base]}")"
    printf ' steady over all N subjects %.2f (a long-running process)\n' "$(calc "$ost / ${steady[$base]}")"
  fi
  rm -rf "$out"
done
for n in $sizes; do
  [ "$n" = "$base" ] && continue
  line=$(printf 'settle %.0f kB' "$(calc "(${rss[settle,$n]} - ${rss[settle,$base]}) * 1000 / ($n - $base)")")
  [ -n "${rss[p11kit,$n]:-}" ] &&
    line="$line, $(printf 'p11-kit %.0f kB' "$(calc "(${rss[p11kit,$n]} - ${rss[p11kit,$base]}) * 1000 / ($n - $base)")")"
  echo "# VmRSS per 1000 anchors (N=$n vs N=$base): $line"
done
pass "benchmark ran"
done_testing
