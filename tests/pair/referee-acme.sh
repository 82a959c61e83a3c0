#!/bin/bash
# referee-acme (issue 17): Track B with a real referee.  A referee runs
# Debian's pebble (RFC 8555 ACME server) as its CA and settle-device as its
# pairing front; `settle pair` with the front's QR code trusts pebble's
# root as a referee anchor scoped to lab.home.arpa.  Three devices then get
# their certificates from pebble with lego (run by settle-device) and are
# trusted with no pairing of their own; certificates the same pebble issues
# for other.home.arpa and bank.example are refused; the renewal timer
# replaces a short-lived certificate before it expires; `settle remove`
# of the referee ends trust in all of them at once.
#
# Challenges are validated for real (http-01, no PEBBLE_VA_ALWAYS_VALID):
# pebble's VA resolves each name through a private /etc/hosts to its own
# loopback address and fetches the token from that device's lego
# (referee-lib.sh); an impostor answering from another address and a
# squatter answering wrongly get no certificate, and their devices refuse
# to start.  A device stopped while lego runs ends lego at once.
#
# Product test: nothing here sets a SETTLE_* or OPENSSL_* variable that the
# product reads, except the file store every test uses (tests/lib.sh) and
# OPENSSL_MODULES pointing at the built provider.  Loopback with a name
# mapping (referee-lib.sh says why).  The browsers' side: browser-referee.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
. "$SOURCE_ROOT/tests/pair/referee-lib.sh"
need_tool gnutls-cli unshare zbarimg
PTY="$SOURCE_ROOT/tests/pty-answer.py"
need_device
TRUST=$XDG_DATA_HOME/settle/trust
TP_MODULE=${TEST_TRUST_POLICY_MODULE:-$BUILD_ROOT/nss-module/libsettle-trust-policy.so}
P11KIT=$T_DIR/p11-kit-modules
p11kit_modules_dir "$P11KIT" "$TP_MODULE"
mkdir -p "$T_DIR/cwd"; cd "$T_DIR/cwd"   # no `settle:` file here can stand in for the store

# Certificates live 45 s: the devices' timer (every 2 s) renews after 30 s.
start_pebble 45
pass "pebble runs with a fresh root: $(openssl x509 -in "$T_DIR/referee-root.pem" -noout -subject)"

# --- verifiers: NAME PORT -> exit status 0 when trusted ---------------------
by_curl() { curl -sSf -o /dev/null --max-time 10 --capath "$TRUST" --resolve "$1:$2:127.0.0.1" "https://$1:$2/"; }
# Foreign programs that load our modules get the ASan runtime in a
# sanitized build (tests/lib.sh); our own programs keep leak detection.
by_openssl() {
  with_asan_runtime "$OPENSSL_MODULES/settle.so" openssl s_client -provider settle -provider default -no-CAfile -no-CApath -CAstore settle: \
    -connect "127.0.0.1:$2" -servername "$1" -verify_hostname "$1" -verify_return_error -brief </dev/null
}
# GnuTLS through p11-kit.  In a sanitized build libp11-kit's destructor
# deadlocks in freelocale() at exit under the ASan runtime (seen here with
# gdb, after the verdict is printed), so the verdict is read from what
# gnutls-cli prints, and the process is ended once it is there (its
# buffered "NOT trusted" may then be lost; "Error in the certificate" on
# standard error is its refusal too).
by_gnutls() {
  local out=$T_DIR/gnutls.out rt pid
  rt=$(asan_runtime_of "$TP_MODULE")
  (
    [ -z "$rt" ] || export LD_PRELOAD=$rt ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    exec "${P11KIT_RUN[@]}" "$P11KIT" gnutls-cli --x509cafile=pkcs11: --verify-hostname "$1" --sni-hostname "$1" \
      -p "$2" 127.0.0.1 </dev/null >"$out" 2>&1
  ) &
  pid=$!
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    grep -Eq 'Handshake was completed|NOT trusted|Fatal error|Could not connect' "$out" && break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  cat "$out"
  grep -q 'Handshake was completed' "$out" && ! grep -q 'NOT trusted' "$out"
}
VERIFIERS="by_curl by_openssl by_gnutls"
trusted_everywhere() { local v; for v in $VERIFIERS; do check "$3: $v trusts $1" "$v" "$1" "$2"; done; }
refused_everywhere() {
  local v
  for v in $VERIFIERS; do
    if t_run "$v" "$1" "$2"; then fail "$3: $v refuses $1 (it was trusted)"; sed 's/^/#   /' "$T_DIR/last.out"
    else
      # A refusal for a reason a verifier gives, never a crash.
      why=$(grep -Eio -m1 'subtree violation|unable to get local issuer[^.]*|certificate problem[^.]*|is NOT trusted[^.]*|Error in the certificate' "$T_DIR/last.out" || true)
      why=${why%%$'\n'*}
      if [ -n "$why" ] && ! t_sanitizer_report; then pass "$3: $v refuses $1: $why"
      else fail "$3: $v refuses $1 (no verifier's reason)"; sed 's/^/#   /' "$T_DIR/last.out"; fi
    fi
  done
}

# --- the referee's pairing front ---------------------------------------------
start_device front referee.lab.home.arpa --no-mdns --referee-ca "$T_DIR/referee-root.pem" --subtree lab.home.arpa
start_device wide referee.home.arpa --no-mdns --referee-ca "$T_DIR/referee-root.pem" --subtree home.arpa
start_device plain printer.local --no-mdns

start_acme_device printer printer.lab.home.arpa
start_acme_device nas nas.lab.home.arpa
start_acme_device cam cam.lab.home.arpa
refused_everywhere printer.lab.home.arpa "$printer_port" "before pairing (no trust on first use)"

# Scope rules on the way in (each refusal stores nothing).
old=$(cat "$T_DIR/front.txt")
check_fails "--yes alone never trusts a referee" "--yes alone never trusts a referee" \
  "$SETTLE" pair --payload - --yes <"$T_DIR/front.txt"
check "nothing stored" nothing_stored
wait_new_qr front "$old"; old=$(cat "$T_DIR/front.txt")
check_fails "a referee is never trusted for more than it declares" "never for more" \
  "$SETTLE" pair --payload - --yes --referee --scope home.arpa <"$T_DIR/front.txt"
check "nothing stored" nothing_stored
wait_new_qr front "$old"
check_fails "a referee declaring a whole namespace is refused unless the user types it" \
  "whole namespace 'home.arpa'.*--scope home.arpa" \
  "$SETTLE" pair --payload - --yes --referee <"$T_DIR/wide.txt"
check "nothing stored" nothing_stored
check_fails "--scope is for a referee: an ordinary device is trusted for the names it proved" \
  "is a device, not a referee" "$SETTLE" pair --payload - --yes --scope printer.local <"$T_DIR/plain.txt"
check "nothing stored" nothing_stored
old=$(cat "$T_DIR/front.txt")
check_fails "answering no at the referee's prompt stores nothing" "did not answer yes" \
  python3 "$PTY" 'Pair with it\? \[yes/no\]' no "$SETTLE" pair --qr "$T_DIR/front.png"
check "the prompt says it is a referee, for which subtree, and what that means" bash -c "
  grep -q 'a REFEREE: it vouches for MANY devices' '$T_DIR/last.out' &&
  grep -q 'Trusted for: lab.home.arpa (and nothing outside it)' '$T_DIR/last.out' &&
  grep -q 'every device it certifies under' '$T_DIR/last.out'"
check "nothing stored" nothing_stored
wait_new_qr front "$old"

# --- pair once -----------------------------------------------------------------
check "settle pair with the referee's front" "$SETTLE" pair --payload - --yes --referee <"$T_DIR/front.txt"
check "the record is a referee anchor for pebble's root, scoped to lab.home.arpa" python3 - \
  "$(fingerprint "$T_DIR/referee-root.pem")" <<EOF
import json, subprocess, sys
a = json.loads(subprocess.run(["$SETTLE", "list", "--json"], capture_output=True, check=True).stdout)["anchors"]
assert len(a) == 1, a
r = a[0]
assert r["kind"] == "referee-ca" and r["scope"] == ["lab.home.arpa"], r
assert r["fingerprint"].replace(":", "").lower() == sys.argv[1].replace(":", "").lower(), (r, sys.argv[1])
EOF
check "the wrapper root and cross certificate permit DNS lab.home.arpa only and exclude every IP address" bash -c \
  "for f in '$TRUST'/*.0; do openssl x509 -in \"\$f\" -noout -ext nameConstraints; done | tr -d ' \n' |
   grep -o 'Permitted:DNS:lab.home.arpaemail:.invalidURI:.invalidExcluded:IP:0.0.0.0/0.0.0.0,*IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0' |
   wc -l | grep -qx 2"

# --- three devices, no further pairing ------------------------------------------
for d in printer nas cam; do
  port_var=${d}_port
  trusted_everywhere "$d.lab.home.arpa" "${!port_var}" "referee-issued"
done
check "the device serves pebble's chain (leaf, pebble intermediate)" bash -c \
  "openssl s_client -connect 127.0.0.1:$printer_port -servername printer.lab.home.arpa -showcerts </dev/null 2>/dev/null |
   grep -q 'i:CN = Pebble Intermediate CA'"

# --- escapes: the same permissive pebble, names outside the subtree -----------
start_acme_device other other.home.arpa
refused_everywhere other.home.arpa "$other_port" "other.home.arpa from the referee's CA"
check "a rogue host gets a certificate for bank.example from the same pebble" rogue_cert bank.example
BANK_PORT=$(free_port)
openssl s_server -accept "127.0.0.1:$BANK_PORT" -cert "$T_DIR/rogue/certificates/bank.example.crt" \
  -key "$T_DIR/rogue/certificates/bank.example.key" \
  -cert_chain "$T_DIR/rogue/certificates/bank.example.issuer.crt" -www -quiet >/dev/null 2>&1 &
at_exit "kill $!"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$BANK_PORT") 2>/dev/null && break; sleep 0.1; done
refused_everywhere bank.example "$BANK_PORT" "bank.example from the referee's CA"
check_fails "openssl says why: the name is outside the referee's subtree" "permitted subtree violation" \
  by_openssl bank.example "$BANK_PORT"

# --- challenges are validated: whoever cannot answer for a name gets nothing ---
# acme_device_refused ID NAME WHY: settle-device for NAME (with
# $ANSWER_FROM) must fail to start, saying so, with no certificate on disk
# and nothing served.
acme_device_refused() {
  local id=$1 name=$2 why=$3 status=0
  acme_device_args "$name"
  timeout 60 "$SETTLE_DEVICE" "${ACME_DEVICE_ARGS[@]}" --state "$T_DIR/$id" >"$T_DIR/$id.log" 2>&1 || status=$?
  check "$why: the device refuses to start (status $status) and says why" bash -c "
    [ $status -ne 0 ] && [ $status -ne 124 ] &&
    grep -q 'settle-device: The ACME client could not obtain a certificate for $name from $ACME_DIR' '$T_DIR/$id.log' &&
    ! grep -q 'listening on' '$T_DIR/$id.log'"
  check "$why: no certificate or key on disk" bash -c "! ls '$T_DIR/$id/acme/certificates/' 2>/dev/null | grep -q ."
}
# An impostor on its own address asks for cam's name: pebble fetches the
# token from cam's address, where it is not (cam's lego runs only while
# cam renews, and then serves cam's own tokens).
ANSWER_FROM=127.0.0.8 acme_device_refused impostor cam.lab.home.arpa "an impostor asking for cam.lab.home.arpa"
check "pebble refused the impostor's challenge after fetching it from cam's address" \
  grep -Eq "127\.0\.0\.4:$ACME_HTTP_PORT|cam\.lab\.home\.arpa" "$T_DIR/impostor.log"
# A wrong answer: the name's address answers with something else.
acme_squatter
ANSWER_FROM=127.0.0.9 acme_device_refused scanner scanner.lab.home.arpa "a wrong answer for scanner.lab.home.arpa"
check "pebble fetched the token from scanner's address and got the squatter's answer" \
  grep -q "GET /.well-known/acme-challenge/" "$T_DIR/squatter.log"

# --- stopping while lego runs: SIGTERM ends lego, no waiting for it -------------
# A hung ACME server (it accepts connections and never answers): lego
# waits for it for tens of seconds.
HUNG_PORT=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(300)' "$HUNG_PORT" &
at_exit "kill $!"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$HUNG_PORT") 2>/dev/null && break; sleep 0.1; done
DEAD_DIR=https://127.0.0.1:$HUNG_PORT/dir
: >"$T_DIR/stopper.log"
"$SETTLE_DEVICE" serve --name nas.lab.home.arpa --listen 127.0.0.1:0 --no-mdns --state "$T_DIR/stopper" \
  --acme-directory "$DEAD_DIR" --acme-ca "$T_DIR/pebble-tls-ca.pem" --acme-http "127.0.0.10:$ACME_HTTP_PORT" \
  >"$T_DIR/stopper.log" 2>&1 &
stopper=$!
at_exit "kill $stopper"
for _ in $(seq 100); do grep -q 'asking .* for a certificate' "$T_DIR/stopper.log" && break; sleep 0.1; done
sleep 1
lego_pid=$(sed -n 's/.*(ACME client lego, pid \([0-9]*\))$/\1/p' "$T_DIR/stopper.log")
check "lego is running against the dead ACME server (pid $lego_pid)" kill -0 "${lego_pid:-0}"
t0=$(date +%s%N)
kill "$stopper" || true
for _ in $(seq 100); do kill -0 "$stopper" 2>/dev/null || break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM stops the device while lego runs in ${ms} ms (under 3 s)" bash -c "
  ! kill -0 $stopper 2>/dev/null && [ $ms -lt 3000 ] &&
  grep -q 'ended before it obtained a certificate for nas.lab.home.arpa' '$T_DIR/stopper.log'"
check "and lego with it" bash -c "! kill -0 ${lego_pid:-0} 2>/dev/null"
check "no sanitizer report from the devices that did not start (impostor, scanner, stopped)" \
  bash -c "cd '$T_DIR' && ! grep -El 'Sanitizer|runtime error' impostor.log scanner.log stopper.log"

# --- renewal before expiry --------------------------------------------------------
first=$(grep -o 'serial [0-9a-f]*' "$T_DIR/printer.log" | head -1 | sed 's/^serial 0*//')
for _ in $(seq 400); do
  [ "$(grep -c 'obtained the certificate' "$T_DIR/printer.log")" -ge 2 ] && break
  sleep 0.1
done
check "the timer renewed printer's 45-second certificate before it expired" \
  bash -c "[ \$(grep -c 'obtained the certificate' '$T_DIR/printer.log') -ge 2 ]"
served_serial=$(openssl s_client -connect "127.0.0.1:$printer_port" -servername printer.lab.home.arpa </dev/null 2>/dev/null |
  openssl x509 -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
check "the renewed certificate is served without a restart (first $first, now $served_serial)" \
  bash -c "[ -n '$served_serial' ] && [ '$served_serial' != '$first' ] && grep -Eq 'serial 0*$served_serial\\)' '$T_DIR/printer.log'"
check "curl trusts the renewed certificate" by_curl printer.lab.home.arpa "$printer_port"

# --- removing the referee ends trust in every device at once ---------------------
check "settle remove the referee" "$SETTLE" remove referee.lab.home.arpa --yes
for d in printer nas cam; do
  port_var=${d}_port
  refused_everywhere "$d.lab.home.arpa" "${!port_var}" "after removal"
done
# The front too (pair-lib's start_device keeps no pid file): it served
# the referee fields in every pairing above.
pgrep -f -- "--state $T_DIR/front " >"$T_DIR/front.pid"
stop_all_checked printer nas cam other front
done_testing
