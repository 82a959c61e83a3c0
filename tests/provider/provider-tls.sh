#!/bin/bash
# Real TLS against the settle trust store: openssl s_client, an OpenSSL
# program using SSL_CTX_load_verify_store, the shipped configuration,
# Python's ssl with the default verify paths, and curl --capath.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/provider/provider-lib.sh"
need_tool python3 curl

# sprov-connect is ours and, in a sanitized build, built with ASan like the
# provider: its leak check is back on (provider-lib.sh switched it off for
# the host programs), so the provider's own frees are checked here.
CONNECT=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
         "$BUILD_ROOT/tests/provider/sprov-connect")
SETTLE_CNF="$SOURCE_ROOT/packaging/openssl/settle.cnf"

# start_server NAME: an `openssl s_server -www` with $T_DIR/NAME.{pem,key}
# on a free loopback port, stored in PORT_NAME.
start_server() {
  local name=$1 port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  openssl s_server -quiet -www -accept "127.0.0.1:$port" \
    -cert "$T_DIR/$name.pem" -key "$T_DIR/$name.key" >"$T_DIR/server-$name.log" 2>&1 &
  at_exit "kill $!"
  printf -v "PORT_$name" '%s' "$port"
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "Bail out! s_server for $name did not start"; exit 1
}

make_device_pki
check "settle trust wraps the printer CA for printer.local" trust_ca printer printer.local
start_server leaf
start_server bank
start_server ip

s_client() {
  openssl s_client "$@" -verify_return_error -brief </dev/null
}
check "s_client -CAstore settle:// accepts printer.local" \
  s_client "${PROV[@]}" -CAstore settle:// -connect "127.0.0.1:$PORT_leaf" \
  -servername printer.local -verify_hostname printer.local
check_fails "s_client refuses bank.example from the device CA" "permitted subtree violation" \
  s_client "${PROV[@]}" -CAstore settle:// -connect "127.0.0.1:$PORT_bank" \
  -servername bank.example -verify_hostname bank.example
check_fails "s_client refuses an IP address from the device CA" "excluded subtree violation" \
  s_client "${PROV[@]}" -CAstore settle:// -connect "127.0.0.1:$PORT_ip" -verify_ip 127.0.0.1
check_fails "s_client refuses the printer's leaf for another name" "hostname mismatch" \
  s_client "${PROV[@]}" -CAstore settle:// -connect "127.0.0.1:$PORT_leaf" \
  -servername scanner.local -verify_hostname scanner.local

# The shipped configuration: no -provider options anywhere.
with_cnf() { OPENSSL_CONF="$SETTLE_CNF" "$@"; }
check "settle.cnf lists the settle provider as active" \
  bash -c 'OPENSSL_CONF="$0" openssl list -providers | grep -A3 "^  settle" | grep -q "status: active"' "$SETTLE_CNF"
check "with settle.cnf, openssl verify -CAstore settle:// needs no -provider" \
  with_cnf openssl verify -purpose sslserver -CAstore settle:// "$T_DIR/leaf.pem"
check "with settle.cnf, s_client needs no -provider" \
  with_cnf s_client -CAstore settle:// -connect "127.0.0.1:$PORT_leaf" -verify_hostname printer.local
check "SSL_CTX_load_verify_store(settle://) accepts printer.local" \
  with_cnf "${CONNECT[@]}" settle:// printer.local "$PORT_leaf"
check "SSL_CTX_load_verify_store(settle://?name=printer.local) accepts printer.local" \
  with_cnf "${CONNECT[@]}" 'settle://?name=printer.local' printer.local "$PORT_leaf"
check_fails "SSL_CTX_load_verify_store(settle://) refuses bank.example" "permitted subtree violation" \
  with_cnf "${CONNECT[@]}" settle:// bank.example "$PORT_bank"
check_fails "without the configuration the scheme is unknown" "unregistered scheme" \
  env OPENSSL_CONF=/dev/null "${CONNECT[@]}" settle:// printer.local "$PORT_leaf"

# The system-wide snippet, included at the end of Debian's openssl.cnf.
{ cat /etc/ssl/openssl.cnf; echo ".include $SOURCE_ROOT/packaging/openssl/settle-system.cnf"; } \
  >"$T_DIR/system.cnf"
check "the system snippet loads settle into every program" \
  env OPENSSL_CONF="$T_DIR/system.cnf" "${CONNECT[@]}" settle:// printer.local "$PORT_leaf"
check "the system snippet keeps the default provider" \
  env OPENSSL_CONF="$T_DIR/system.cnf" openssl verify -CAfile "$T_DIR/printer.pem" "$T_DIR/leaf.pem"
check "a missing settle.so does not break OpenSSL programs (soft_load)" \
  env OPENSSL_CONF="$T_DIR/system.cnf" OPENSSL_MODULES="$T_DIR/empty" openssl verify \
  -CAfile "$T_DIR/printer.pem" "$T_DIR/leaf.pem"

# Python's ssl uses the default verify paths: the absolute hash directory
# of the snapshot after the system one.
py_connect() {
  python3 - "$@" <<'PY'
import socket, ssl, sys
host, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context()
with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
    with ctx.wrap_socket(sock, server_hostname=host) as tls:
        print("verified", host, tls.version())
PY
}
export SSL_CERT_DIR="/usr/lib/ssl/certs:$TRUST_DIR"
check "python ssl with the absolute SSL_CERT_DIR accepts printer.local" py_connect printer.local "$PORT_leaf"
check_fails "python ssl refuses bank.example from the device CA" "permitted subtree violation" \
  py_connect bank.example "$PORT_bank"
unset SSL_CERT_DIR
check_fails "python ssl without it does not know the printer" "unable to get local issuer" \
  py_connect printer.local "$PORT_leaf"

# openssl/openssl#18068: SSL_CERT_DIR=settle: splits on ':' and reads a
# relative ./settle hash directory: whoever controls the working
# directory picks the trust anchors.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -keyout "$T_DIR/rogue.key" \
  -out "$T_DIR/rogue.pem" -subj "/CN=rogue CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
mk_leaf "$T_DIR" rogue roguebank "DNS:bank.example"
start_server roguebank
mkdir -p "$T_DIR/cwd/settle"
cp "$T_DIR/rogue.pem" "$T_DIR/cwd/settle/$(openssl x509 -in "$T_DIR/rogue.pem" -noout -hash).0"
in_cwd_with_settle_dir() { (cd "$T_DIR/cwd" && SSL_CERT_DIR=settle: py_connect "$@"); }
check "SSL_CERT_DIR=settle: trusts a ./settle directory (the documented hazard)" \
  in_cwd_with_settle_dir bank.example "$PORT_roguebank"

# curl takes no store URI: it reads an exported hash directory.
check "settle export --dir writes a hash directory" "$SETTLE" export --dir "$T_DIR/exported"
# curl loads no module of ours, and with the ASan runtime preloaded it
# hangs in setlocale() (glibc's locale lock) before doing anything: it
# runs without the preload.
curl_get() { env -u LD_PRELOAD curl -sS --max-time 10 --capath "$T_DIR/exported" --resolve "$1:$2:127.0.0.1" "https://$1:$2/"; }
check "curl --capath accepts printer.local" curl_get printer.local "$PORT_leaf"
check_fails "curl --capath refuses bank.example from the device CA" "permitted subtree violation" \
  curl_get bank.example "$PORT_bank"

done_testing
