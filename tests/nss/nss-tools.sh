#!/bin/bash
# The module seen through real NSS tools: a device CA trusted with
# `settle trust --scope printer.local` must verify printer.local and nothing
# else, in certutil, vfychain (classic and PKIX), tstclnt against a real TLS
# server, and pkcs11-tool.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl certutil modutil vfychain tstclnt pkcs11-tool

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
# The NSS tools load the module: under ASan they need its runtime.
preload_asan_runtime "$MODULE"
P=$T_DIR/pki
DB=$T_DIR/nssdb
mkdir -p "$P" "$DB"

mk_ca "$P" dev
mk_leaf "$P" dev printer "DNS:printer.local"
mk_leaf "$P" dev bank "DNS:bank.example"
mk_leaf "$P" dev ip "IP:127.0.0.1"
mk_leaf "$P" dev mixed "DNS:printer.local,DNS:bank.example"
for c in printer bank ip mixed; do openssl x509 -in "$P/$c.pem" -outform DER -out "$P/$c.der"; done

check "settle trust wraps the device CA" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes

certutil -N -d "sql:$DB" --empty-password
check "modutil adds the module" \
  modutil -dbdir "sql:$DB" -add "SETTLE Local Trust" -libfile "$MODULE" -force
check "modutil lists the token" bash -c "modutil -dbdir 'sql:$DB' -list | grep -q 'token: SETTLE Local Trust'"

certutil -L -d "sql:$DB" -h all >"$T_DIR/list.txt"
check "certutil shows the wrapper root trusted C,," \
  grep -Eq '^SETTLE Local Trust:printer\.local \(root\) +C,, *$' "$T_DIR/list.txt"
check "certutil shows the cross certificate without trust" \
  grep -Eq '^SETTLE Local Trust:printer\.local \(cross\) +,, *$' "$T_DIR/list.txt"
check "certutil shows exactly those two certificates" \
  test "$(grep -Evc '^(Certificate Nickname| |$)' "$T_DIR/list.txt")" -eq 2

for mode in "" "-pp"; do
  name=${mode:-classic}
  check "vfychain $name accepts the printer.local leaf" vfychain -d "sql:$DB" $mode -u 1 "$P/printer.der"
  check_fails "vfychain $name rejects bank.example" "not permitted to issue|Chain is bad" \
    vfychain -d "sql:$DB" $mode -u 1 "$P/bank.der"
  check_fails "vfychain $name rejects an IP address leaf" "not permitted to issue|Chain is bad" \
    vfychain -d "sql:$DB" $mode -u 1 "$P/ip.der"
  check_fails "vfychain $name rejects a leaf mixing in-scope and outside names" "not permitted to issue|Chain is bad" \
    vfychain -d "sql:$DB" $mode -u 1 "$P/mixed.der"
done
# The cross certificate has no trust of its own (must verify): libpkix
# chains through it to the wrapper root, which is the anchor.  Were the
# cross trusted, the chain would end at it and its issuer would not show.
check "vfychain -pp ends the printer.local chain at the wrapper root, not at the cross" \
  bash -c "vfychain -d 'sql:$DB' -pp -v -u 1 '$P/printer.der' 2>&1 | grep -q '^Root Certificate Subject:: .*CN=SETTLE scoped root'"

# TLS: openssl s_server presents the leaf (and the device CA, as a device
# would); tstclnt validates through NSS with the module's trust.
serve() { # serve CERT KEY -> sets PORT
  local cert=$1 key=$2 try
  for try in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 20000))
    openssl s_server -accept "127.0.0.1:$PORT" -cert "$cert" -key "$key" -cert_chain "$P/dev.pem" \
      -www -naccept 1 >"$T_DIR/server-$PORT.log" 2>&1 &
    local pid=$!
    at_exit "kill $pid 2>/dev/null"
    for _ in $(seq 50); do
      grep -q ACCEPT "$T_DIR/server-$PORT.log" 2>/dev/null && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  return 1
}
fetch() { # fetch SNI: prints the page, exit status of the handshake
  printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 tstclnt -h 127.0.0.1 -p "$PORT" -a "$1" -d "sql:$DB" 2>&1 || true
}
serve "$P/printer.pem" "$P/printer.key"
fetch printer.local >"$T_DIR/tls-ok.txt"
check "tstclnt completes TLS with printer.local" grep -q '</HTML>' "$T_DIR/tls-ok.txt"
serve "$P/bank.pem" "$P/bank.key"
fetch bank.example >"$T_DIR/tls-bad.txt"
check "tstclnt refuses bank.example (name constraints)" grep -q 'SEC_ERROR_CERT_NOT_IN_NAME_SPACE' "$T_DIR/tls-bad.txt"

pkcs11-tool --module "$MODULE" -O >"$T_DIR/objects.txt" 2>&1 || true
check "pkcs11-tool lists the root certificate" grep -q 'label:.*printer.local (root)' "$T_DIR/objects.txt"
check "pkcs11-tool lists the cross certificate" grep -q 'label:.*printer.local (cross)' "$T_DIR/objects.txt"
check "pkcs11-tool sees no private objects or keys" bash -c "! grep -Eq 'Private Key Object|Secret Key Object' '$T_DIR/objects.txt'"
check_fails "the token refuses writes" "CKR_TOKEN_WRITE_PROTECTED|read-only|CKR_SESSION_READ_ONLY|WRITE_PROTECTED" \
  pkcs11-tool --module "$MODULE" --write-object "$P/printer.der" --type cert --label x

# Defence in depth: the module applies the scope rule to every snapshot it
# loads.  A root swapped for an unconstrained CA inside the snapshot (as
# someone who can write the user's data directory would do) makes the
# token serve nothing, with the reason on stderr.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -keyout "$P/rogue.key" \
  -out "$P/rogue.pem" -subj "/CN=rogue CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl x509 -in "$P/rogue.pem" -outform DER -out "$P/rogue.der"
mk_leaf "$P" rogue roguebank "DNS:bank.example"
openssl x509 -in "$P/roguebank.pem" -outform DER -out "$P/roguebank.der"
TAMPERED=$T_DIR/tampered
cp -rL "$XDG_DATA_HOME/settle/trust" "$TAMPERED"
check "the tamper tool swaps the wrapper root for an unconstrained CA" \
  "$BUILD_ROOT/tests/provider/sprov-tamper" "$TAMPERED/index.cbor" 0 "$P/rogue.der"
check_fails "vfychain refuses the rogue CA's bank.example through the tampered token" "Chain is bad|not trusted|Issuer|issuer" \
  env SETTLE_TRUST_DIR="$TAMPERED" vfychain -d "sql:$DB" -pp -u 1 "$P/roguebank.der"
check "the module says why it serves nothing" bash -c \
  "SETTLE_TRUST_DIR='$TAMPERED' certutil -L -d 'sql:$DB' -h all 2>&1 >/dev/null | grep -q 'altered outside settle.*nameConstraints'"
check "and the tampered token holds no certificate at all" bash -c \
  "! SETTLE_TRUST_DIR='$TAMPERED' certutil -L -d 'sql:$DB' -h all 2>/dev/null | grep -q 'SETTLE Local Trust:'"

done_testing
