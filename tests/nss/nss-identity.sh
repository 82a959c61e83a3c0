#!/bin/bash
# The module's second slot, "SETTLE Device Identities", with real NSS tools
# and a real keyring: after `settle pair` with the reference device, the
# per-device client certificate shows up as a user certificate (u,u,u), its
# private key signs through settle-signer (pkcs11-tool, checked with
# openssl), tstclnt presents it to the device, whose whoami answers with
# the role; a locked keyring gives a clear error at once, and `settle
# remove` takes the identity away.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool certutil modutil tstclnt pkcs11-tool zbarimg gdbus
need_device

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
SIGNER=${TEST_SIGNER:?run through meson test}
preload_asan_runtime "$MODULE"
start_keyring
DB=$T_DIR/nssdb
mkdir -p "$DB"
certutil -N -d "sql:$DB" --empty-password

start_device dev printer.local
check "settle pair pairs with the device, into the keyring" \
  "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --role admin
check "the record and key went to the keyring, not to a file store" bash -c \
  "'$SETTLE' list 2>&1 | grep -q 'printer.local' && [ ! -e '$STORE_DIR' ]"
check "settle install --nssdb registers the module" "$SETTLE" install --nssdb "sql:$DB"

certutil -L -d "sql:$DB" -h "SETTLE Device Identities" >"$T_DIR/ids.txt" 2>&1 || true
sed 's/^/# /' "$T_DIR/ids.txt"
check "certutil lists the client certificate as a user certificate (u,u,u)" \
  grep -Eq '^SETTLE Device Identities:printer\.local \(client\) +u,u,u *$' "$T_DIR/ids.txt"
check "the trust slot does not list it" bash -c \
  "! certutil -L -d 'sql:$DB' -h 'SETTLE Local Trust' | grep -q '(client)'"
NICK="SETTLE Device Identities:printer.local (client)"
certutil -L -d "sql:$DB" -n "$NICK" -a >"$T_DIR/client.pem"
check "the certificate is the one the device issued for client authentication" bash -c \
  "openssl x509 -in '$T_DIR/client.pem' -noout -ext extendedKeyUsage | grep -q 'TLS Web Client Authentication'"

# The key through PKCS#11 alone: a raw ECDSA signature that openssl checks
# against the certificate's public key.
ID=$(pkcs11-tool --module "$MODULE" --slot 2 --list-objects --type privkey 2>/dev/null |
     sed -n 's/^ *ID: *//p' | head -1)
check "pkcs11-tool finds one private key in slot 2" test -n "$ID"
check "the key signs, is sensitive and never extractable, ECDSA only" bash -c \
  "pkcs11-tool --module '$MODULE' --slot 2 --list-objects --type privkey 2>/dev/null >'$T_DIR/keys.txt' &&
   grep -Eq '^ *Usage: *sign$' '$T_DIR/keys.txt' &&
   grep -Eq '^ *Access: *sensitive, always sensitive, never extractable$' '$T_DIR/keys.txt' &&
   grep -Eq '^ *Allowed mechanisms: *ECDSA$' '$T_DIR/keys.txt'"
printf 'settle identity test' | openssl dgst -sha256 -binary >"$T_DIR/digest"
check "C_Sign through the signer makes a signature" \
  pkcs11-tool --module "$MODULE" --slot 2 --sign -m ECDSA --id "$ID" \
    --signature-format openssl -i "$T_DIR/digest" -o "$T_DIR/sig.der"
check "an uninstalled module runs its build tree's signer with no SETTLE_SIGNER set" \
  env -u SETTLE_SIGNER pkcs11-tool --module "$MODULE" --slot 2 --sign -m ECDSA --id "$ID" \
    --signature-format openssl -i "$T_DIR/digest" -o "$T_DIR/sig-uninstalled.der"
openssl x509 -in "$T_DIR/client.pem" -noout -pubkey >"$T_DIR/client.pub"
check "openssl verifies it with the client certificate's key" \
  openssl pkeyutl -verify -pubin -inkey "$T_DIR/client.pub" -in "$T_DIR/digest" -sigfile "$T_DIR/sig.der"

# TLS client authentication with NSS, against the device's whoami.
# tstclnt lingers after the device's answer until its timeout: the answer
# is complete by then, and the timeout keeps each call short.
whoami() { # whoami [NICKNAME]: the device's answer through tstclnt
  printf 'GET /.well-known/settle/whoami HTTP/1.0\r\nHost: printer.local\r\n\r\n' |
    timeout 15 tstclnt -h 127.0.0.1 -p "$dev_port" -a printer.local -d "sql:$DB" -V tls1.3:tls1.3 \
      ${1:+-n "$1"} 2>&1
}
check "tstclnt presents the identity and whoami says admin" bash -c \
  "$(declare -f whoami); DB='$DB' dev_port=$dev_port; whoami '$NICK' | tee /dev/stderr | grep -q '\"role\":\"admin\"'"
check "without a nickname NSS picks the identity itself (the device's CA names match)" bash -c \
  "$(declare -f whoami); DB='$DB' dev_port=$dev_port; whoami | grep -q '\"role\":\"admin\"'"

# A locked keyring: no prompt, no hang, a message that says what to do.
LOGIN=/org/freedesktop/secrets/collection/login
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['$LOGIN']" >/dev/null
start=$(date +%s)
check_fails "with the keyring locked the handshake fails with a clear error" \
  "keyring is locked.*unlock" bash -c \
  "$(declare -f whoami); DB='$DB' dev_port=$dev_port; out=\$(whoami '$NICK'); echo \"\$out\"; grep -q '\"role\"' <<<\"\$out\""
check "and it failed at once, not after a timeout" test $(($(date +%s) - start)) -lt 8
check_fails "pkcs11-tool's C_Sign fails too, with the signer's message" "keyring is locked|unlock" \
  pkcs11-tool --module "$MODULE" --slot 2 --sign -m ECDSA --id "$ID" -i "$T_DIR/digest" -o "$T_DIR/sig2"
check_fails "a missing signer is named on stderr, and nothing is signed" "cannot run /nonexistent/settle-signer" \
  env SETTLE_SIGNER=/nonexistent/settle-signer \
  pkcs11-tool --module "$MODULE" --slot 2 --sign -m ECDSA --id "$ID" -i "$T_DIR/digest" -o "$T_DIR/sig3"
check "the signer refuses malformed requests" bash -c \
  "'$SIGNER' --record nothex --key-id 00 --digest 00 | grep -q '^error input '"
done_testing
