#!/usr/bin/env bash
# `settle reset`: with the keyring store, after a real pairing (so there is
# a client key) and a trusted CA, the module installed in an NSS database
# and two kept exports, one typed yes removes everything; each place is
# checked on its own: settle list, secret-tool, the snapshot files, the
# export paths, modutil -list, and openssl verifying the device.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool certutil modutil secret-tool
need_device
start_keyring
# Foreign programs (modutil, certutil, openssl) load our modules: in a
# sanitized build they need the ASan runtime first (tests/lib.sh).  Only
# after the keyring started: dbus-daemon and gnome-keyring-daemon must not
# run with it.
preload_asan_runtime "$BUILD_ROOT/nss-module/libsettle-pkcs11.so"
preload_asan_runtime "$BUILD_ROOT/provider/settle.so"
MODULE="$BUILD_ROOT/nss-module/libsettle-pkcs11.so"
PTY="$SOURCE_ROOT/tests/pty-answer.py"
TRUST_LINK="$XDG_DATA_HOME/settle/trust"
SNAPSHOTS="$XDG_DATA_HOME/settle/snapshots"
# secret-tool hangs with the ASan runtime preloaded (as curl does): it
# loads none of our code, so it runs without it.
keyring_items() { env -u LD_PRELOAD secret-tool search --all xdg:schema "$1" 2>&1 | grep -c '^attribute.fingerprint' || true; }
anchors() { "$SETTLE" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["anchors"]))'; }
registered() { modutil -list -dbdir "sql:$T_DIR/db" </dev/null 2>&1 | grep -q 'SETTLE Local Trust'; }
s_client() { echo | openssl s_client -provider settle -provider default -CAstore settle: \
  -verify_return_error -connect "127.0.0.1:$dev_port" -alpn http/1.1 -verify_hostname printer.local 2>&1; }

start_device dev printer.local
check "pair with the device (keyring store)" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes
mk_ca "$T_DIR" nas
check "trust a CA too" "$SETTLE" trust --ca "$T_DIR/nas.pem" --fingerprint "$(fingerprint "$T_DIR/nas.pem")" \
  --scope nas.home.arpa --yes
mkdir -p "$T_DIR/db" && certutil -N -d "sql:$T_DIR/db" --empty-password
check "install the module into an NSS database" "$SETTLE" install --nssdb "$T_DIR/db" --module "$MODULE"
check "keep a hash directory and a PEM bundle" bash -c \
  "'$SETTLE' export --dir '$T_DIR/capath' --keep && '$SETTLE' export --pem '$T_DIR/bundle.pem' --keep"
check "before: two anchors and one client key in the keyring" bash -c \
  "[ \"\$($(declare -f keyring_items); keyring_items org.settle.Anchor)\" = 2 ] && [ \"\$($(declare -f keyring_items); keyring_items org.settle.ClientKey)\" = 1 ]"
check "before: the device verifies through the provider" bash -c \
  "$(declare -f s_client); dev_port=$dev_port; s_client | grep -q 'Verify return code: 0 (ok)'"
check "before: modutil lists the module" registered

check_fails "without a terminal reset refuses" "no terminal" "$SETTLE" reset </dev/null
check_fails "answering no changes nothing" "did not answer yes" \
  python3 "$PTY" 'Type yes to confirm: \[yes/no\]' no "$SETTLE" reset
check "the prompt said what goes and that nothing is trusted after" bash -c \
  "grep -q '2 trusted device' '$T_DIR/last.out' && grep -q 'no local device is trusted' '$T_DIR/last.out'"
check "after no: still two anchors" bash -c "[ \"\$($(declare -f anchors); anchors)\" = 2 ]"
check "after no: still registered, exports still there" bash -c "$(declare -f registered); T_DIR='$T_DIR'; registered && [ -f '$T_DIR/bundle.pem' ]"

check "reset, answering yes" python3 "$PTY" 'Type yes to confirm: \[yes/no\]' yes "$SETTLE" reset
check "it reported the database it cleaned" grep -q "Removed from sql:$T_DIR/db" "$T_DIR/last.out"
check "no record: settle list is empty" bash -c "[ \"\$($(declare -f anchors); anchors)\" = 0 ]"
check "no anchor item in the keyring (secret-tool)" bash -c \
  "[ \"\$($(declare -f keyring_items); keyring_items org.settle.Anchor)\" = 0 ]"
check "no client key item in the keyring (secret-tool)" bash -c \
  "[ \"\$($(declare -f keyring_items); keyring_items org.settle.ClientKey)\" = 0 ]"
check "no snapshot: no trust link, no generations" bash -c "[ ! -e '$TRUST_LINK' ] && [ ! -L '$TRUST_LINK' ] && [ ! -e '$SNAPSHOTS' ]"
check "no kept export: the directory and the bundle are gone" bash -c "[ ! -e '$T_DIR/capath' ] && [ ! -e '$T_DIR/bundle.pem' ]"
check "no kept export remembered" bash -c "! grep -q '$T_DIR' '$XDG_CONFIG_HOME/settle/settle.conf'"
check "no NSS registration: modutil -list does not show the module" bash -c \
  "modutil -list -dbdir 'sql:$T_DIR/db' </dev/null >'$T_DIR/modutil.out' 2>&1 && ! grep -q 'SETTLE Local Trust' '$T_DIR/modutil.out'"
check_fails "the device no longer verifies through the provider" "Verify return code: [1-9]|verify error" \
  bash -c "$(declare -f s_client); dev_port=$dev_port; s_client"
check "audit afterwards: nothing, and no inconsistency" bash -c \
  "'$SETTLE' audit --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[\"bindings\"] == [] and d[\"inconsistencies\"] == [] and d[\"exports\"] == [], d'"
check "a second reset has nothing to do and succeeds" "$SETTLE" reset --yes
check_fails "reset takes no arguments" "unexpected argument" "$SETTLE" reset everything

done_testing
