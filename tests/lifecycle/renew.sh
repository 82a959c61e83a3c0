#!/usr/bin/env bash
# `settle renew`: over mutual TLS with the current client certificate the
# device issues one for a fresh key with the same role; the helper stores
# it and the new key, the device's whoami accepts the new certificate and
# refuses the old one (the device retires it).  The device refuses a
# renewal for the current key, without a certificate, or with a bad CSR,
# and takes PEM as well as DER.
# After a rotation and `settle refresh`, renew brings a certificate from
# the new CA.  A factory-reset device and a record without a client
# certificate fail clearly and change nothing.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool curl
need_device

RENEW_URL_PATH=/.well-known/settle/renew
fp() { ls "$STORE_DIR"/*.json | xargs -n1 basename | sed 's/\.json$//'; }
# client_files TAG: the stored client certificate and key as
# $T_DIR/TAG.pem and $T_DIR/TAG.key (as tests/pair/pair-device.sh does).
client_files() {
  local f; f=$(fp)
  python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["client_cert_der"]))' \
    "$STORE_DIR/$f.json" | openssl x509 -inform der -out "$T_DIR/$1.pem"
  cp "$STORE_DIR/keys/$f.pem" "$T_DIR/$1.key"
}
serial() { openssl x509 -in "$T_DIR/$1.pem" -noout -serial; }
pubkey() { openssl pkey -in "$T_DIR/$1.key" -pubout; }
whoami() { curl -sk --cert "$T_DIR/$1.pem" --key "$T_DIR/$1.key" "https://127.0.0.1:$PORT/.well-known/settle/whoami"; }
# post_csr TAG FILE: POSTs FILE to the renewal endpoint with TAG's
# certificate (TAG "none": without one); prints the HTTP status.
post_csr() {
  local auth=(); [ "$1" = none ] || auth=(--cert "$T_DIR/$1.pem" --key "$T_DIR/$1.key")
  curl -sk "${auth[@]}" -o "$T_DIR/post.out" -w '%{http_code}' --data-binary "@$2" \
    -H 'Content-Type: application/pkcs10' "https://127.0.0.1:$PORT$RENEW_URL_PATH"
}

PORT=$(free_port)
serve dev printer.local "$PORT"
check "pair with the device" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes
client_files first
check "whoami accepts the first certificate as admin" bash -c "$(declare -f whoami); T_DIR=$T_DIR PORT=$PORT; whoami first | grep -q '\"role\":\"admin\"'"

check "renew without --force: not due yet, nothing changed" bash -c \
  "'$SETTLE' renew printer.local | grep -q 'renewed in its last 30 days' && cmp <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"client_cert_der\"])' '$STORE_DIR/$(fp).json') <(openssl x509 -in '$T_DIR/first.pem' -outform der | base64 -w0; echo)"
check "settle renew NAME --force renews (address from the record, no prompt)" bash -c \
  "'$SETTLE' renew printer.local --force </dev/null | grep -q 'renewed the client certificate for a fresh key (role admin'"
client_files second
check "the new certificate has another serial" bash -c "[ \"\$(openssl x509 -in '$T_DIR/second.pem' -noout -serial)\" != \"\$(openssl x509 -in '$T_DIR/first.pem' -noout -serial)\" ]"
check "the stored key is new" bash -c "[ \"\$(openssl pkey -in '$T_DIR/second.key' -pubout)\" != \"\$(openssl pkey -in '$T_DIR/first.key' -pubout)\" ]"
check "the new certificate carries the stored key" bash -c \
  "[ \"\$(openssl x509 -in '$T_DIR/second.pem' -noout -pubkey)\" = \"\$(openssl pkey -in '$T_DIR/second.key' -pubout)\" ]"
check "same role (OU) and issuer" bash -c \
  "[ \"\$(openssl x509 -in '$T_DIR/second.pem' -noout -subject -issuer)\" = \"\$(openssl x509 -in '$T_DIR/first.pem' -noout -subject -issuer)\" ] && openssl x509 -in '$T_DIR/second.pem' -noout -subject | grep -q 'OU = admin'"
# in_snapshot TAG: the certificate is in the trust snapshot's index (the
# module's identity slot serves client certificates from there).
in_snapshot() {
  python3 -c 'import sys; sys.exit(0 if open(sys.argv[2], "rb").read().find(open(sys.argv[1], "rb").read()) >= 0 else 1)' \
    <(openssl x509 -in "$T_DIR/$1.pem" -outform der) "$XDG_DATA_HOME/settle/trust/index.cbor"
}
check "the trust snapshot holds the new client certificate, not the old one" bash -c \
  "$(declare -f in_snapshot); T_DIR=$T_DIR XDG_DATA_HOME=$XDG_DATA_HOME; in_snapshot second && ! in_snapshot first"
check "the key file keeps mode 0600" bash -c "[ \"\$(stat -c %a '$STORE_DIR/keys/$(fp).pem')\" = 600 ]"
check "whoami accepts the new certificate as admin" bash -c "$(declare -f whoami); T_DIR=$T_DIR PORT=$PORT; whoami second | grep -q '\"role\":\"admin\"'"
check "whoami refuses the old certificate: the device retired it" bash -c \
  "$(declare -f whoami); T_DIR=$T_DIR PORT=$PORT; whoami first | grep -q 'not issued to a client paired'"
check "the device logged the renewal" grep -q "renewed the client certificate" "$T_DIR/dev.log"

openssl req -new -key "$T_DIR/second.key" -subj "/CN=settle client" -outform der -out "$T_DIR/same-key.csr"
check "the device refuses a renewal for the current key (400)" bash -c \
  "$(declare -f post_csr); T_DIR=$T_DIR PORT=$PORT RENEW_URL_PATH=$RENEW_URL_PATH; [ \"\$(post_csr second '$T_DIR/same-key.csr')\" = 400 ] && grep -q 'already enrolled' '$T_DIR/post.out'"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_DIR/other.key" \
  -subj "/CN=settle client" -out "$T_DIR/fresh.csr" 2>/dev/null
check "the device refuses a renewal without a client certificate (401)" bash -c \
  "$(declare -f post_csr); T_DIR=$T_DIR PORT=$PORT RENEW_URL_PATH=$RENEW_URL_PATH; [ \"\$(post_csr none '$T_DIR/fresh.csr')\" = 401 ]"
check "and with the retired certificate (403)" bash -c \
  "$(declare -f post_csr); T_DIR=$T_DIR PORT=$PORT RENEW_URL_PATH=$RENEW_URL_PATH; [ \"\$(post_csr first '$T_DIR/fresh.csr')\" = 403 ]"
printf 'not a certificate request' >"$T_DIR/garbage.csr"
check "and a body that is no CSR (400)" bash -c \
  "$(declare -f post_csr); T_DIR=$T_DIR PORT=$PORT RENEW_URL_PATH=$RENEW_URL_PATH; [ \"\$(post_csr second '$T_DIR/garbage.csr')\" = 400 ] && grep -q 'PKCS#10' '$T_DIR/post.out'"
check "GET on the renewal endpoint is 405" bash -c \
  "[ \"\$(curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:$PORT$RENEW_URL_PATH)\" = 405 ]"
check "whoami still accepts the current certificate after the refusals" bash -c \
  "$(declare -f whoami); T_DIR=$T_DIR PORT=$PORT; whoami second | grep -q '\"role\":\"admin\"'"

stop_device dev
check "settle-device rotate" "$SETTLE_DEVICE" rotate --state "$T_DIR/dev"
serve dev printer.local "$PORT"
check "refresh follows the rotation" bash -c "'$SETTLE' refresh printer.local | grep -q 'rotated its CA'"
check "renew --all --force renews through the refreshed anchor" bash -c "'$SETTLE' renew --all --force | grep -q 'renewed the client certificate'"
client_files third
check "the renewed certificate is issued by the new CA" bash -c \
  "openssl x509 -in '$T_DIR/third.pem' -noout -issuer | grep -q 'printer.local device CA 2'"
check "whoami accepts it as admin" bash -c "$(declare -f whoami); T_DIR=$T_DIR PORT=$PORT; whoami third | grep -q '\"role\":\"admin\"'"
check "renew --all without --force: nothing due, success" bash -c "'$SETTLE' renew --all | grep -q 'renewed in its last 30 days'"

check "a PEM request for a fresh key, with the current certificate, gets 200 and a DER certificate" bash -c \
  "$(declare -f post_csr); T_DIR=$T_DIR PORT=$PORT RENEW_URL_PATH=$RENEW_URL_PATH; [ \"\$(post_csr third '$T_DIR/fresh.csr')\" = 200 ] && openssl x509 -inform der -in '$T_DIR/post.out' -out '$T_DIR/other.pem'"
check "for that key, with the same role" bash -c \
  "[ \"\$(openssl x509 -in '$T_DIR/other.pem' -noout -pubkey)\" = \"\$(openssl pkey -in '$T_DIR/other.key' -pubout)\" ] && openssl x509 -in '$T_DIR/other.pem' -noout -subject | grep -q 'OU = admin'"
check "whoami accepts it" bash -c "$(declare -f whoami); T_DIR=$T_DIR PORT=$PORT; whoami other | grep -q '\"role\":\"admin\"'"

f=$(fp); cp "$STORE_DIR/$f.json" "$T_DIR/before.json"; cp "$STORE_DIR/keys/$f.pem" "$T_DIR/before.key"
stop_device dev
check "settle-device reset (factory reset)" "$SETTLE_DEVICE" reset --state "$T_DIR/dev"
serve dev printer.local "$PORT"
check_fails "renew refuses the factory-reset device" \
  "does not prove that it is printer.local with the CA you trust.*pair with it again" \
  "$SETTLE" renew printer.local --force
check "it says nothing was changed" grep -q "nothing was changed" "$T_DIR/last.out"
check "the record is unchanged, byte for byte" cmp "$STORE_DIR/$f.json" "$T_DIR/before.json"
check "the client key is unchanged" cmp "$STORE_DIR/keys/$f.pem" "$T_DIR/before.key"

mk_ca "$T_DIR" lab
"$SETTLE" trust --ca "$T_DIR/lab.pem" --fingerprint "$(fingerprint "$T_DIR/lab.pem")" --scope lab.home.arpa \
  --referee --label lab --yes >/dev/null
check_fails "renew of a record without a client certificate fails clearly" \
  "\"lab\" holds no client certificate to renew" "$SETTLE" renew lab --force
check_fails "renew without a name" "give one NAME" "$SETTLE" renew
check_fails "--all with a name" "--all goes without NAME" "$SETTLE" renew --all printer.local
check_fails "a bad address" "HOST:PORT" "$SETTLE" renew printer.local --force --address nowhere
check_fails "no device there" "No device answered" "$SETTLE" renew printer.local --force --address "127.0.0.1:1" --timeout 2
check "after all refusals the record is still unchanged" cmp "$STORE_DIR/$f.json" "$T_DIR/before.json"

done_testing
