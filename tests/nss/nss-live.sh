#!/bin/bash
# Live updates: one NSS process keeps running (as a browser does) while the
# helper removes a trusted device CA and adds another.  The process must stop
# trusting the removed anchor and start trusting the added one without a
# restart.  Prints how long each change took to be seen.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl certutil

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
LIVE=$BUILD_ROOT/tests/nss/nss-live
P=$T_DIR/pki
DB=$T_DIR/nssdb
mkdir -p "$P" "$DB"
mk_ca "$P" one
mk_leaf "$P" one printer "DNS:printer.local"
mk_ca "$P" two
mk_leaf "$P" two router "DNS:router.home.arpa"
for c in printer router; do openssl x509 -in "$P/$c.pem" -outform DER -out "$P/$c.der"; done
certutil -N -d "sql:$DB" --empty-password

trust() { "$SETTLE" trust --ca "$P/$1.pem" --fingerprint "$(fingerprint "$P/$1.pem")" --scope "$2" --label "$1" --yes; }
check "trust device CA one (printer.local)" trust one printer.local

coproc NSSLIVE { "$LIVE" "$DB" "$MODULE" 2>"$T_DIR/live.err"; }
# Bash unsets NSSLIVE_PID (and NSSLIVE) once the coprocess exits: keep copies.
live_pid=$NSSLIVE_PID live_in=${NSSLIVE[1]}
at_exit "kill $live_pid 2>/dev/null"
read -r -t 20 hello <&"${NSSLIVE[0]}" || hello=""
check "the NSS process starts with the module" test "$hello" = ready

ask() { # ask good|bad LEAF: prints the process's answer
  echo "$1 $P/$2.der" >&"${NSSLIVE[1]}"
  local answer=""
  read -r -t 30 answer <&"${NSSLIVE[0]}" || answer="no answer"
  echo "# $1 $2: $answer" >&2
  echo "$answer"
}

answer=$(ask good printer 2>/dev/null); echo "# printer trusted: $answer"
check "the running process trusts printer.local" test "${answer%% *}" = ok
answer=$(ask bad router 2>/dev/null); echo "# router untrusted: $answer"
check "the running process does not trust router.home.arpa yet" test "${answer%% *}" = ok

check "settle remove device CA one" "$SETTLE" remove --yes one
answer=$(ask bad printer 2>/dev/null); echo "# after remove: $answer (ms until the removal was seen)"
check "the running process stops trusting the removed anchor" test "${answer%% *}" = ok

check "trust device CA two (router.home.arpa)" trust two router.home.arpa
answer=$(ask good router 2>/dev/null); echo "# after add: $answer (ms until the new anchor was seen)"
check "the running process starts trusting the added anchor" test "${answer%% *}" = ok
answer=$(ask bad printer 2>/dev/null)
check "the removed anchor stays untrusted" test "${answer%% *}" = ok

exec {live_in}>&-
wait "$live_pid" 2>/dev/null && live_rc=0 || live_rc=$?
check "the NSS process shuts down cleanly (module finalised)" test "$live_rc" -eq 0
sed 's/^/# stderr: /' "$T_DIR/live.err"
done_testing
