#!/bin/bash
# The module through its PKCS#11 interface (sp11-check, GLib tests): token
# and slot info, attribute semantics, refusals, fork, live swap, C_GetInterface,
# and 8 reader threads against a snapshot rewritten underneath them, the
# latter also under valgrind's helgrind.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl valgrind

CHECK=$BUILD_ROOT/tests/nss/sp11-check
export TEST_PKCS11_MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
P=$T_DIR/pki
mkdir -p "$P"
mk_ca "$P" one
mk_ca "$P" two
snapshot() { # snapshot NAME CA SCOPE: a snapshot generation of its own
  SETTLE_DATA_DIR=$T_DIR/$1 SETTLE_STORE=file:$T_DIR/$1/store \
    "$SETTLE" trust --ca "$P/$2.pem" --fingerprint "$(fingerprint "$P/$2.pem")" --scope "$3" --label "$3" --yes >/dev/null
  readlink -f "$T_DIR/$1/trust"
}
export SP11_GEN_A SP11_GEN_B
SP11_GEN_A=$(snapshot a one printer.local 2>/dev/null)
SP11_GEN_B=$(snapshot b two router.home.arpa 2>/dev/null)
check "two snapshot generations made by settle trust" test -f "$SP11_GEN_A/index.cbor" -a -f "$SP11_GEN_B/index.cbor"
export SETTLE_TRUST_DIR=$T_DIR/trust
ln -s "$SP11_GEN_A" "$SETTLE_TRUST_DIR"

if "$CHECK" --tap >"$T_DIR/check.txt" 2>&1; then pass "sp11-check: all PKCS#11 interface tests"; else
  fail "sp11-check: all PKCS#11 interface tests"; fi
sed 's/^/# /' "$T_DIR/check.txt"

# --fair-sched=yes: valgrind runs one thread at a time, and its default
# lock is unfair; eight busy readers could then starve the main thread,
# which must get its turn to stop them (a CI run hung here once).
run_helgrind() {
  SP11_THREAD_SECONDS=4 valgrind --tool=helgrind --fair-sched=yes --error-exitcode=99 \
    "$CHECK" -p /threads >"$T_DIR/helgrind.txt" 2>&1 && rc=0 || rc=$?
  grep -E 'ERROR SUMMARY|snapshot swaps' "$T_DIR/helgrind.txt" | sed 's/^/# /'
  check "helgrind: 8 readers and snapshot swaps, no data race" test "$rc" -eq 0
  check "helgrind reports 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$T_DIR/helgrind.txt"
  [ "$rc" -eq 0 ] || sed -n '1,80p' "$T_DIR/helgrind.txt" | sed 's/^/#   /'
}
# valgrind cannot run a program built with ASan (both own the address
# space): the thread checks ran above under ASan instead.
if [ -n "$(asan_runtime_of "$CHECK")" ]; then
  why="sp11-check is built with AddressSanitizer, which valgrind cannot run"
  skip "helgrind: 8 readers and snapshot swaps, no data race" "$why"
  skip "helgrind reports 0 errors" "$why"
else
  run_helgrind
fi
done_testing
