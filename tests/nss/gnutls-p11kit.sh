#!/bin/bash
# GnuTLS through p11-kit: the module as p11-kit's trust-policy module, with
# the shipped packaging/p11-kit/settle.module (its module: line made
# absolute for the build tree), must let GnuTLS trust printer.local from a
# scoped device CA for TLS server authentication and for nothing else, and
# must stay out of p11-kit's `trust` tool.
#
# Each GnuTLS command runs with a p11-kit module directory of its own
# (with_p11kit_modules, tests/lib.sh).  This is the uninstalled kind;
# tests/installed runs the packaged file for a fresh user.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl certtool gnutls-cli p11tool trust unshare mount timeout

MODULE=${TEST_TRUST_POLICY_MODULE:-$BUILD_ROOT/nss-module/libsettle-trust-policy.so}
NSS_MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
preload_asan_runtime "$MODULE"
P=$T_DIR/pki
CONF=$T_DIR/p11-kit-modules
mkdir -p "$P"
# The shipped file, pointing at the build tree's module; and the same file
# with the build NSS loads, whose crosses are no anchors.
p11kit_modules_dir "$CONF" "$MODULE"
p11kit_modules_dir "$CONF-plain" "$NSS_MODULE"
with_modules() { with_p11kit_modules "$@"; }

mk_ca "$P" dev
mk_leaf "$P" dev printer "DNS:printer.local"
mk_leaf "$P" dev bank "DNS:bank.example"
mk_leaf "$P" dev ip "DNS:printer.local,IP:127.0.0.1"
# The same names, other purposes (mk_leaf makes serverAuth leaves).
mk_purpose_leaf() { # NAME EKU
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$P/$1.csr" -CA "$P/dev.pem" -CAkey "$P/dev.key" -CAcreateserial -days 30 \
    -out "$P/$1.pem" -extfile <(printf 'subjectAltName=DNS:printer.local\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=%s\nkeyUsage=critical,digitalSignature\n' "$2") 2>/dev/null
}
mk_purpose_leaf client clientAuth
mk_purpose_leaf code codeSigning
mk_purpose_leaf anyeku anyExtendedKeyUsage
for c in printer bank ip client code anyeku; do cat "$P/$c.pem" "$P/dev.pem" >"$P/$c.chain.pem"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/nas.key" -out "$P/nas.pem" \
  -days 30 -subj "/CN=nas.local" -addext basicConstraints=critical,CA:FALSE \
  -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth \
  -addext subjectAltName=DNS:nas.local 2>/dev/null

check "settle trust wraps the device CA for printer.local" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes
check "settle trust pins nas.local" \
  "$SETTLE" trust --peer "$P/nas.pem" --fingerprint "$(fingerprint "$P/nas.pem")" --yes

SERVER_AUTH=1.3.6.1.5.5.7.3.1 CLIENT_AUTH=1.3.6.1.5.5.7.3.2 CODE_SIGNING=1.3.6.1.5.5.7.3.3
EMAIL=1.3.6.1.5.5.7.3.4
# verified DIR CHAIN PURPOSE [HOST]: certtool's chain verification through
# "pkcs11:" as the trust store, the way GnuTLS uses p11-kit trust.
verified() {
  local host=${4:+--verify-hostname=$4}
  with_modules "$1" certtool --verify --load-ca-certificate 'pkcs11:' --infile "$P/$2.chain.pem" \
    --verify-purpose "$3" $host >"$T_DIR/certtool.out" 2>&1
  grep -q 'Chain verification output: Verified' "$T_DIR/certtool.out"
}
refused() { ! verified "$@"; }

check "p11-kit lists the token as a trust-policy module" bash -c \
  "$(declare -f with_modules with_p11kit_modules; declare -p P11KIT_RUN); with_modules '$CONF' p11-kit list-modules | grep -q 'token: SETTLE Local Trust'"
check "in this role the cross certificate is an anchor (CKA_TRUSTED)" bash -c \
  "$(declare -f with_modules with_p11kit_modules; declare -p P11KIT_RUN); with_modules '$CONF' p11tool --list-all-trusted 'pkcs11:token=SETTLE%20Local%20Trust' | grep -q 'object=printer.local%20%28cross%29'"
check "in the build NSS loads, the cross is no anchor" bash -c \
  "$(declare -f with_modules with_p11kit_modules; declare -p P11KIT_RUN); ! with_modules '$CONF-plain' p11tool --list-all-trusted 'pkcs11:token=SETTLE%20Local%20Trust' | grep -q 'cross'"
check "... and GnuTLS then finds no issuer for printer.local" refused "$CONF-plain" printer "$SERVER_AUTH" printer.local
check "p11-kit's trust tool does not see settle's anchors (disable-in: trust)" bash -c \
  "$(declare -f with_modules with_p11kit_modules; declare -p P11KIT_RUN); ! with_modules '$CONF' trust list | grep -qi 'printer.local'"

check "GnuTLS verifies printer.local for TLS server authentication" verified "$CONF" printer "$SERVER_AUTH" printer.local
check "bank.example from the same device CA is refused" refused "$CONF" bank "$SERVER_AUTH" bank.example
check "... with the name constraint as the reason" grep -q "violates the signer's constraints" "$T_DIR/certtool.out"
check "a leaf with an IP address is refused" refused "$CONF" ip "$SERVER_AUTH" printer.local
check "printer.local is refused for client authentication" refused "$CONF" printer "$CLIENT_AUTH"
check "a clientAuth leaf for printer.local is refused for client authentication" refused "$CONF" client "$CLIENT_AUTH"
check "a codeSigning leaf is refused for code signing" refused "$CONF" code "$CODE_SIGNING"
check "an anyExtendedKeyUsage leaf is refused for e-mail" refused "$CONF" anyeku "$EMAIL"
check "... and for client authentication" refused "$CONF" anyeku "$CLIENT_AUTH"

# The TLS path: gnutls-cli against real servers.
# start_server NAME [chain]: an openssl s_server with NAME's key (and the
# device CA after it); its port in SERVER_PORT.
start_server() {
  openssl s_server -accept 0 -cert "$P/$1.pem" -key "$P/$1.key" \
    ${2:+-cert_chain "$P/dev.pem"} -www >"$T_DIR/$1.server.log" 2>&1 &
  at_exit "kill $! 2>/dev/null"
  local i
  for i in $(seq 100); do grep -q '^ACCEPT' "$T_DIR/$1.server.log" 2>/dev/null && break; sleep 0.1; done
  SERVER_PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$T_DIR/$1.server.log" | head -1)
}
# gnutls_opens DIR PORT HOST [system]: gnutls-cli with "pkcs11:" as its
# trust store, or with GnuTLS's default system trust.
gnutls_opens() {
  local trust=--x509cafile=pkcs11:
  [ "${4:-}" = system ] && trust=
  with_modules "$1" timeout 20 gnutls-cli $trust --verify-hostname "$3" -p "$2" 127.0.0.1 \
    </dev/null >"$T_DIR/gnutls.out" 2>&1
  grep -q 'Status: The certificate is trusted' "$T_DIR/gnutls.out"
}
start_server printer chain; PRINTER_PORT=$SERVER_PORT
start_server bank chain; BANK_PORT=$SERVER_PORT
start_server nas; NAS_PORT=$SERVER_PORT
check "gnutls-cli opens https://printer.local" gnutls_opens "$CONF" "$PRINTER_PORT" printer.local
check "gnutls-cli refuses bank.example from the same device" bash -c \
  "$(declare -f with_modules with_p11kit_modules gnutls_opens; declare -p P11KIT_RUN); T_DIR='$T_DIR'; ! gnutls_opens '$CONF' '$BANK_PORT' bank.example"
check "gnutls-cli opens the pinned peer nas.local" gnutls_opens "$CONF" "$NAS_PORT" nas.local
check "the pinned peer is refused for client authentication" bash -c \
  "$(declare -f with_modules with_p11kit_modules; declare -p P11KIT_RUN); with_modules '$CONF' certtool --verify --load-ca-certificate pkcs11: --infile '$P/nas.pem' --verify-purpose $CLIENT_AUTH | grep -q 'Not verified'"
# Debian builds GnuTLS with one trust file (/etc/ssl/certs/ca-certificates.crt):
# its default trust never asks p11-kit, so programs that do not name
# "pkcs11:" do not see paired devices (docs/install.md, the limit).
check "GnuTLS's default trust on this system does not consult p11-kit" bash -c \
  "$(declare -f with_modules with_p11kit_modules gnutls_opens; declare -p P11KIT_RUN); T_DIR='$T_DIR'; ! gnutls_opens '$CONF' '$PRINTER_PORT' printer.local system"

done_testing
