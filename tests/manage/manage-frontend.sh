#!/usr/bin/env bash
# The manager API through a second front-end (scripted-frontend.c, which
# links lib/ only): a whole pairing with the reference device, consent
# answered by arguments.  A decline leaves nothing on either side (no
# record, no key, no snapshot entry here; no enrolment on the device);
# a yes stores a record whose snapshot serves the device to OpenSSL
# (the provider's settle: store, and an exported hash directory for
# curl --capath); an unverified extra name answered no stays out of the
# scope.  Then list, audit and remove, all through the API.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
: "${SCRIPTED_FRONTEND:?run through meson test}"
: "${EVIL_DEVICE:?run through meson test}"
need_tool curl
need_device
export OPENSSL_MODULES="$BUILD_ROOT/provider"
FE=$SCRIPTED_FRONTEND
TRUST_DIR="$XDG_DATA_HOME/settle/trust"

# The device's enrolments.json holds exactly N entries (none when absent).
device_enrolments() {
  python3 - "$T_DIR/dev/enrolments.json" "$1" <<'PY'
import json, os, sys
path, n = sys.argv[1], int(sys.argv[2])
entries = json.load(open(path))["enrolments"] if os.path.exists(path) else []
assert len(entries) == n, entries
PY
}
# How many certificates the provider's settle: store serves.
served_certs() {
  with_asan_runtime "$OPENSSL_MODULES/settle.so" openssl storeutl -provider settle -provider default \
    -certs settle: 2>&1 | sed -n 's/^Total found: //p'
}
# The front-end's store is empty: no record, no key, no snapshot entry.
nothing_here() {
  "$FE" list | grep -qx 'records 0' && [ -z "$(ls -A "$STORE_DIR/keys" 2>/dev/null)" ] \
    && [ "$(served_certs)" = 0 ]
}
s_client() { echo | with_asan_runtime "$OPENSSL_MODULES/settle.so" \
  openssl s_client -provider settle -provider default -CAstore settle: \
  -verify_return_error -connect "127.0.0.1:$dev_port" -alpn http/1.1 "$@" 2>&1; }

start_device dev printer.local
qr=$(cat "$T_DIR/dev.txt")

# ---- a decline ----
check_fails "declining the pairing fails with the manager's refusal" "error: you did not answer yes" \
  bash -c "'$FE' pair --trust no <'$T_DIR/dev.txt'"
cp "$T_DIR/last.out" "$T_DIR/no.out"
check "the consent callback was asked about printer.local, with the check code and the role" \
  grep -Eq '^question trust label=printer.local names=printer.local pairing=1 check-code=[0-9]{3} [0-9]{3} role=admin refused=: no$' \
  "$T_DIR/no.out"
helper_code=$(sed -n 's/^question trust .*check-code=\([0-9]* [0-9]*\) .*/\1/p' "$T_DIR/no.out")
check "the device showed the same check code ($helper_code)" \
  grep -q "^settle-device: check code $helper_code for the pairing" "$T_DIR/dev.log"
check "progress came through the callback, steps 1 to 5, never 6" bash -c \
  "grep -q '^step 1 begin' '$T_DIR/no.out' && grep -q '^step 5 end' '$T_DIR/no.out' && ! grep -q '^step 6' '$T_DIR/no.out'"
check "after the decline nothing is stored here" nothing_here
check "and nothing is enrolled on the device" device_enrolments 0
check "the device says why" grep -q "not committed: No consent" "$T_DIR/dev.log"
check "the device shows a new code" wait_new_qr dev "$qr"

# ---- yes ----
check "yes pairs through the API" bash -c "'$FE' pair --trust yes <'$T_DIR/dev.txt'"
cp "$T_DIR/last.out" "$T_DIR/yes.out"
check "the outcome is a device-ca scoped to printer.local, role admin, consent prompt" \
  grep -Eq '^paired printer.local kind=device-ca scope=printer.local role=admin consent=prompt fingerprint=[0-9a-f]{64}$' \
  "$T_DIR/yes.out"
check "step 6 (commit) ended" grep -q '^step 6 end' "$T_DIR/yes.out"
check "every line (stdout and stderr) is the front-end's own: the library printed nothing" bash -c \
  "! grep -Ev '^(note [a-z]+: |step [0-9] (begin|end): |question |paired )' '$T_DIR/yes.out'"
check "the device holds one enrolment" device_enrolments 1
check "list shows one record" grep -qx 'records 1' <("$FE" list)
check "the settle: store serves the wrapped root and cross" test "$(served_certs)" = 2
S_CLIENT_FUNCS=$(declare -f s_client with_asan_runtime asan_runtime_of)
check "openssl s_client -CAstore settle: verifies printer.local" bash -c \
  "$S_CLIENT_FUNCS; dev_port=$dev_port; s_client -verify_hostname printer.local | grep -q 'Verify return code: 0 (ok)'"
check "an exported hash directory (through the API) lets curl --capath reach printer.local" bash -c \
  "'$FE' export-dir '$T_DIR/capath' && curl -sS --max-time 10 -o /dev/null --capath '$T_DIR/capath' \
     --resolve printer.local:$dev_port:127.0.0.1 https://printer.local:$dev_port/.well-known/settle/whoami"
check_fails "but curl --capath refuses another name for the same device" "curl: \((51|60)\)" \
  curl -sS --max-time 10 -o /dev/null --capath "$T_DIR/capath" --resolve "other.local:$dev_port:127.0.0.1" \
     "https://other.local:$dev_port/.well-known/settle/whoami"
check "audit through the API: one record, no problems" grep -Eq '^audit records=1 problems=0 generation=[1-9]' \
  <("$FE" audit)

# ---- remove ----
check_fails "remove answered no keeps the record" "error: you did not answer yes" "$FE" remove printer.local --answer no
check "still one record" grep -qx 'records 1' <("$FE" list)
check "remove answered yes" "$FE" remove printer.local --answer yes
check "the question named the record" grep -qx 'question remove printer.local: yes' "$T_DIR/last.out"
check "nothing is trusted any more, and the snapshot serves nothing" nothing_here
check_fails "s_client no longer verifies printer.local" "Verify return code: [1-9]|verify error" \
  bash -c "$S_CLIENT_FUNCS; dev_port=$dev_port; s_client -verify_hostname printer.local"
check "audit: no record, no problem" grep -Eq '^audit records=0 problems=0' <("$FE" audit)

# ---- an extra name nothing vouched for ----
evil_out="$T_DIR/evil.out"
"$EVIL_DEVICE" local-extra "$T_DIR/evil.payload" >"$evil_out" 2>&1 &
at_exit "kill $!"
for i in $(seq 100); do
  grep -q '^PORT ' "$evil_out" 2>/dev/null && [ -s "$T_DIR/evil.payload" ] && break
  sleep 0.1
done
check "yes to the authenticated name, no to the extra names" bash -c \
  "'$FE' pair --trust yes --extra nas.local=no --extra router.home.arpa=no --timeout 5 <'$T_DIR/evil.payload'"
cp "$T_DIR/last.out" "$T_DIR/extra.out"
check "each extra name was asked about" bash -c \
  "grep -qx 'question extra-name nas.local: no' '$T_DIR/extra.out' && grep -qx 'question extra-name router.home.arpa: no' '$T_DIR/extra.out'"
check "the trust question listed them as refused" \
  grep -q '^question trust label=printer.local .* refused=nas.local,router.home.arpa: yes$' "$T_DIR/extra.out"
check "the record is scoped to printer.local alone" \
  grep -Eq '^record printer.local kind=device-ca scope=printer.local fingerprint=' <("$FE" list)
check "an unforeseen question is a no, and the run says so (exit 3)" bash -c \
  "'$FE' remove printer.local; [ \$? = 3 ]"
check "so the record stays" grep -qx 'records 1' <("$FE" list)

done_testing
