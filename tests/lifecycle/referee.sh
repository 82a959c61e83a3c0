#!/usr/bin/env bash
# Referees (Track B): `settle trust --referee` asks for consent saying
# plainly that a referee vouches for many devices under its subtree; once
# trusted for lab.home.arpa, a leaf it issues for host.lab.home.arpa (or
# deeper) verifies, while sibling.home.arpa, lab.home.arpa.evil and an IP
# address are refused, through the provider and through an exported PEM
# bundle.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3
# Foreign programs (modutil, certutil, openssl) load our modules: in a
# sanitized build they need the ASan runtime first (tests/lib.sh).
preload_asan_runtime "$BUILD_ROOT/nss-module/libsettle-pkcs11.so"
preload_asan_runtime "$BUILD_ROOT/provider/settle.so"
export OPENSSL_MODULES="$BUILD_ROOT/provider"
PTY="$SOURCE_ROOT/tests/pty-answer.py"
PROMPT='Trust it\? \[yes/no\]'

mk_ca "$T_DIR" lab
fp=$(fingerprint "$T_DIR/lab.pem")
mk_leaf "$T_DIR" lab host "DNS:host.lab.home.arpa"
mk_leaf "$T_DIR" lab deep "DNS:printer.floor2.lab.home.arpa"
mk_leaf "$T_DIR" lab sibling "DNS:sibling.home.arpa"
mk_leaf "$T_DIR" lab evil "DNS:lab.home.arpa.evil"
mk_leaf "$T_DIR" lab apex "DNS:home.arpa"
mk_leaf "$T_DIR" lab ip "DNS:cam.lab.home.arpa,IP:192.168.1.5"

check_fails "answering no trusts nothing" "did not answer yes" \
  python3 "$PTY" "$PROMPT" no "$SETTLE" trust --ca "$T_DIR/lab.pem" --fingerprint "$fp" --scope lab.home.arpa --referee
check "the prompt says a referee vouches for many devices under its subtree" bash -c \
  "grep -q 'A referee vouches for many devices' '$T_DIR/last.out' && grep -q 'every device it certifies under' '$T_DIR/last.out' \
   && grep -A1 'every device it certifies under' '$T_DIR/last.out' | grep -q 'lab.home.arpa will be trusted'"
check "nothing was stored" bash -c "'$SETTLE' list --json | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"anchors\"] == []'"
check "a device CA's prompt does not call it a referee" bash -c \
  "mkdir -p '$T_DIR/dev' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '$T_DIR/dev/p.key' \
     -out '$T_DIR/dev/p.pem' -days 30 -subj /CN=p -addext basicConstraints=critical,CA:TRUE 2>/dev/null;
   python3 '$PTY' '$PROMPT' no '$SETTLE' trust --ca '$T_DIR/dev/p.pem' --fingerprint \$(openssl x509 -in '$T_DIR/dev/p.pem' -noout -fingerprint -sha256 | cut -d= -f2) --scope p.local >'$T_DIR/dev.out' 2>&1;
   grep -q 'a device.s own certificate authority' '$T_DIR/dev.out' && ! grep -q 'referee' '$T_DIR/dev.out'"
check "answering yes trusts the referee for lab.home.arpa" \
  python3 "$PTY" "$PROMPT" yes "$SETTLE" trust --ca "$T_DIR/lab.pem" --fingerprint "$fp" --scope lab.home.arpa --referee --label lab
check "the record is a referee-ca, consent by prompt" bash -c "'$SETTLE' list --json | python3 -c '
import json, sys
r = json.load(sys.stdin)[\"anchors\"][0]
assert r[\"kind\"] == \"referee-ca\" and r[\"scope\"] == [\"lab.home.arpa\"] and r[\"consent\"] == \"prompt\", r'"

verify() { openssl verify -purpose sslserver -provider settle -provider default -CAstore settle: "$T_DIR/$1.pem"; }
check "provider: host.lab.home.arpa verifies" verify host
check "provider: a deeper name under the subtree verifies" verify deep
check_fails "provider: sibling.home.arpa is refused" "permitted subtree violation" verify sibling
check_fails "provider: lab.home.arpa.evil is refused" "permitted subtree violation" verify evil
check_fails "provider: the namespace home.arpa itself is refused" "permitted subtree violation" verify apex
check_fails "provider: an IP address is refused" "excluded subtree violation" verify ip

check "export --pem" "$SETTLE" export --pem "$T_DIR/bundle.pem"
bundle() { openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$T_DIR/$1.pem"; }
check "bundle: host.lab.home.arpa verifies" bundle host
check_fails "bundle: sibling.home.arpa is refused" "permitted subtree violation" bundle sibling
check_fails "bundle: lab.home.arpa.evil is refused" "permitted subtree violation" bundle evil
check "audit lists it as a referee" bash -c "'$SETTLE' audit | grep -A1 '^  lab$' | grep -q 'kind referee-ca, names lab.home.arpa, trusted for lab.home.arpa'"

done_testing
