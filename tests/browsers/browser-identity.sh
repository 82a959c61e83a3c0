#!/bin/bash
# Issue 6 part 5, mutual TLS (REQ-TRUST-05): after `settle pair` with the
# reference device, both browsers present the per-device client identity
# from the module's "SETTLE Device Identities" slot when the device asks
# for a certificate issued by its client CA, without a dialog: Firefox with
# security.default_personal_cert = "Select Automatically", Chromium with
# the AutoSelectCertificateForUrls policy.  The device's whoami resource
# then answers with the role given at pairing.  The key stays in the real
# keyring; settle-signer signs.  With the keyring locked, the next
# handshake fails at once with a client-authentication error (no hang), and
# after unlocking it works again.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
need_tool zbarimg gdbus
SIGNER=${TEST_SIGNER:?run through meson test}
DEV=${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}
[ -x "$DEV" ] || { echo "Bail out! $DEV was not built"; exit 1; }

start_keyring
# start_device PORT LOG: settle-device for printer.local (0: a fresh port).
start_device() {
  "$DEV" serve --name printer.local --state "$T_DIR/dev" --listen "127.0.0.1:$1" \
    --qr-png "$T_DIR/dev.png" --qr-text "$T_DIR/dev.txt" >"$T_DIR/$2" 2>&1 &
  DEV_PID=$!
  at_exit "kill $DEV_PID 2>/dev/null"
  wait_for "$T_DIR/$2" '^settle-device: listening on 127\.0\.0\.1:[0-9]+$' 100 &&
    wait_for "$T_DIR/dev.txt" '^SETTLE:' 100 || { echo "Bail out! settle-device did not start"; sed 's/^/#   /' "$T_DIR/$2"; exit 1; }
  DPORT=$(sed -n 's/^settle-device: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T_DIR/$2")
}
start_device 0 dev.log
WHOAMI=https://printer.local:$DPORT/.well-known/settle/whoami

check "settle pair --role admin pairs with the device, key in the keyring" \
  "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --role admin
check "settle install --nssdb registers the module for Chromium" setup_chromium_nssdb
check "settle install --firefox registers the module in the Firefox profile" setup_firefox_profile
# The filter names the issuer, as an administrator would: only the
# device's own client CA is picked for it.
ISSUER_CN=$(identity_issuer_cn)
check "the identity slot shows the client certificate and its issuer" test -n "$ISSUER_CN"
allow_client_auth "$DPORT" "$ISSUER_CN"

start_browser chromium printer.local "" SETTLE_DRIVER_CLIENT_AUTH=1
start_browser firefox printer.local "" SETTLE_DRIVER_CLIENT_AUTH=1

# expect_role "B..." ROLE DESC [SHOT]: whoami loads and names ROLE.
expect_role() {
  local bs=$1 role=$2 desc=$3 shot=${4:-} b
  for b in $bs; do browse_send "$b" "$WHOAMI" "${shot:+$shot-$b.png}"; done
  for b in $bs; do
    browse_recv "$b"
    if [ "$R_OUTCOME" = loaded ] && [[ $R_TEXT == *"\"role\":\"$role\""* ]]; then
      pass "$b: $desc"; echo "#   $R_TEXT"
    else
      fail "$b: $desc (got $R_OUTCOME: $R_DETAIL; page '$R_TEXT')"
    fi
  done
}
expect_role "chromium firefox" admin \
  "presents the device identity without a dialog; whoami says admin" "$B_ART/whoami"
SERIAL=$(certutil -L -d "sql:$HOME/.pki/nssdb" -n "SETTLE Device Identities:printer.local (client)" -a 2>/dev/null |
  openssl x509 -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
check "whoami names the serial of the identity slot's certificate" bash -c \
  "[ -n '$SERIAL' ] && grep -q 'whoami .*\"serial\":\"0*$SERIAL\"' '$B_ART/browse.log'"

# A locked keyring: the signer refuses at once, the browser reports a
# client-authentication failure instead of waiting.
# A connection a browser authenticated earlier and keeps idle would be
# used without a new signature: restart the device (same port, same
# state) so that the next page needs a new handshake.
kill "$DEV_PID"; wait "$DEV_PID" 2>/dev/null || true
start_device "$DPORT" dev2.log
LOGIN=/org/freedesktop/secrets/collection/login
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['$LOGIN']" >/dev/null
for b in chromium firefox; do
  start=$(date +%s)
  browse "$b" "$WHOAMI"
  took=$(($(date +%s) - start))
  if [[ $R_TEXT == *'"role":'* ]]; then
    fail "$b: with the keyring locked the device still saw the identity ($R_TEXT)"
  elif [ "$R_OUTCOME" = timeout ] || [ "$took" -ge 30 ]; then
    fail "$b: with the keyring locked the page hung: $R_OUTCOME $R_DETAIL after ${took}s"
  else
    pass "$b: with the keyring locked no identity is presented, in ${took}s ($R_OUTCOME: $R_DETAIL)"
  fi
done
done_testing
