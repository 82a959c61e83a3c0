# referee-lib.sh: a referee on loopback (Track B, docs/referee.md): Debian's
# pebble as its ACME CA, settle-device as its pairing front, and devices
# that get their certificates from it with lego.  Source after
# tests/lib.sh and pair-lib.sh.
#
# Loopback with a name mapping (curl --resolve, the browsers' host maps):
# names under lab.home.arpa are unicast DNS names, which mDNS (and so the
# simulated home network of tests/homenet) does not resolve; nothing here
# depends on how a name is found.
#
# Challenges are validated for real (http-01): every name has its own
# loopback address (Linux routes all of 127/8 to lo), served by a real DNS
# resolver of this test's own (dnsmasq, from a hosts file, nothing
# upstream) that pebble is pointed at (-dnsserver); pebble's VA resolves
# the name and fetches the token from ADDRESS:$ACME_HTTP_PORT, where only
# that device's lego listens (--acme-http ADDRESS:PORT).  In a real home
# the name resolves to the device and lego answers on port 80.
# Why not a private mount namespace with its own /etc/hosts: Linux drops
# a bind mount in every namespace when the file under it is replaced in
# another one, and `sed -i /etc/hosts` (tests/installed/installed-system.sh)
# does exactly that; observed here: pebble then asked the system's DNS.

need_tool pebble lego curl dnsmasq

# The names and their addresses, as pebble's VA sees them.  scanner is a
# name whose address answers http-01 wrongly (a squatter, acme_squatter).
ACME_HOSTS="127.0.0.2 printer.lab.home.arpa
127.0.0.3 nas.lab.home.arpa
127.0.0.4 cam.lab.home.arpa
127.0.0.5 other.home.arpa
127.0.0.6 bank.example
127.0.0.7 scanner.lab.home.arpa"
# acme_addr NAME: the address NAME has for pebble.
acme_addr() { awk -v n="$1" '$2 == n { print $1 }' <<<"$ACME_HOSTS"; }

# start_acme_dns DIR: dnsmasq answering the names of DIR/hosts and
# nothing else (no upstream, not the system's /etc/hosts); sets ACME_DNS_PORT.
start_acme_dns() {
  local i
  ACME_DNS_PORT=$(free_port)
  # --user: as root it would become nobody, who cannot read $T_DIR.
  dnsmasq --keep-in-foreground --conf-file=/dev/null --user="$(id -un)" --no-resolv --no-hosts --addn-hosts="$1/hosts" \
    --listen-address=127.0.0.1 --bind-interfaces --port="$ACME_DNS_PORT" --pid-file= --log-facility=- \
    --log-queries >"$1/dns.log" 2>&1 &
  at_exit "kill $!"
  for i in $(seq 50); do grep -q "read $1/hosts" "$1/dns.log" && return 0; sleep 0.1; done
  echo "Bail out! dnsmasq did not start:"; sed 's/^/# /' "$1/dns.log"; exit 1
}

# start_pebble VALIDITY_S: pebble with a fresh root (it makes one at every
# start), its HTTPS certificate from a CA made here ($T_DIR/pebble-tls-ca.pem,
# what the devices' lego is told to trust for the ACME server), permissive
# about names (it issues for any name whose http-01 challenge is answered),
# so that every scope escape below is a certificate the referee's CA really
# signed to whoever answered for the name; the challenge itself is
# validated (no PEBBLE_VA_ALWAYS_VALID).  Sets ACME_DIR (the directory
# URL) and ACME_HTTP_PORT, and writes $T_DIR/referee-root.pem.
start_pebble() {
  local validity=$1 p=$T_DIR/pebble i
  mkdir -p "$p"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/tls-ca.key" \
    -out "$T_DIR/pebble-tls-ca.pem" -days 2 -subj "/CN=pebble test TLS CA" \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/tls.key" -out "$p/tls.csr" \
    -subj "/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$p/tls.csr" -CA "$T_DIR/pebble-tls-ca.pem" -CAkey "$p/tls-ca.key" -out "$p/tls.pem" \
    -days 2 -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
  local acme_port mgmt_port
  acme_port=$(free_port); mgmt_port=$(free_port); ACME_HTTP_PORT=$(free_port)
  printf '%s\n' "$ACME_HOSTS" >"$p/hosts"
  start_acme_dns "$p"
  printf '{"pebble":{"listenAddress":"127.0.0.1:%s","managementListenAddress":"127.0.0.1:%s",
    "certificate":"%s","privateKey":"%s","httpPort":%s,"tlsPort":%s,"ocspResponderURL":"",
    "externalAccountBindingRequired":false,"certificateValidityPeriod":%s}}\n' \
    "$acme_port" "$mgmt_port" "$p/tls.pem" "$p/tls.key" "$ACME_HTTP_PORT" "$(free_port)" "$validity" \
    >"$p/config.json"
  : >"$p/log"
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$p/config.json" -dnsserver "127.0.0.1:$ACME_DNS_PORT" \
    >"$p/log" 2>&1 &
  at_exit "kill $!"
  for i in $(seq 100); do
    grep -q "ACME directory available" "$p/log" && break
    sleep 0.1
  done
  ACME_DIR=https://127.0.0.1:$acme_port/dir
  # The root pebble made at this start, over its HTTPS management port.
  if ! curl -sSf --cacert "$T_DIR/pebble-tls-ca.pem" -o "$T_DIR/referee-root.pem" \
       "https://127.0.0.1:$mgmt_port/roots/0"; then
    echo "Bail out! pebble did not start:"; sed 's/^/# /' "$p/log"; exit 1
  fi
}

# acme_device_args NAME: settle-device serve's arguments for NAME with a
# certificate from pebble (renewal checked every 2 s); its lego answers
# http-01 on NAME's address, or on $ANSWER_FROM when set (an impostor).
acme_device_args() {
  local answer=${ANSWER_FROM:-$(acme_addr "$1")}
  [ -n "$answer" ] || { echo "Bail out! no address for $1 in ACME_HOSTS"; exit 1; }
  ACME_DEVICE_ARGS=(serve --name "$1" --listen 127.0.0.1:0 --no-mdns --acme-directory "$ACME_DIR"
    --acme-ca "$T_DIR/pebble-tls-ca.pem" --acme-http "$answer:$ACME_HTTP_PORT" --acme-check-seconds 2)
}

# start_acme_device ID NAME [ARGS...]: settle-device serving NAME with a
# certificate from pebble; sets ID_port.
start_acme_device() {
  local id=$1 name=$2; shift 2
  local log="$T_DIR/$id.log" i port=
  : >"$log"
  acme_device_args "$name"
  "$SETTLE_DEVICE" "${ACME_DEVICE_ARGS[@]}" --state "$T_DIR/$id" "$@" >"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$T_DIR/$id.pid"
  at_exit "kill $pid"
  for i in $(seq 300); do
    port=$(sed -n 's/^settle-device: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log" 2>/dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "Bail out! settle-device $id did not start:"; sed 's/^/# /' "$log"; exit 1
  fi
  printf -v "${id}_port" '%s' "$port"
}

# rogue_cert NAME: a host that is no settle device asks the same pebble for
# NAME (bank.example); $T_DIR/rogue/certificates/NAME.{crt,key}.
rogue_cert() {
  LEGO_CA_CERTIFICATES=$T_DIR/pebble-tls-ca.pem lego --server "$ACME_DIR" --accept-tos --email rogue@example.org \
    --path "$T_DIR/rogue" --http --http.port "$(acme_addr "$1"):$ACME_HTTP_PORT" --domains "$1" run \
    >"$T_DIR/rogue-$1.log" 2>&1
}

# acme_squatter: a host holding scanner.lab.home.arpa's address answers
# every http-01 request with a wrong key authorization.
acme_squatter() {
  python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"not-the-token.not-the-thumbprint"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): sys.stderr.write("squatter: " + (a[0] % a[1:]) + "\n")
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
' "$(acme_addr scanner.lab.home.arpa)" "$ACME_HTTP_PORT" 2>"$T_DIR/squatter.log" &
  at_exit "kill $!"
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/$(acme_addr scanner.lab.home.arpa)/$ACME_HTTP_PORT") 2>/dev/null && break; sleep 0.1; done
}

# stop_all_checked ID...: stops each device (SIGTERM; it exits cleanly) and
# checks its log for sanitizer reports, which leaks show only at exit.
stop_all_checked() {
  local id pid
  for id in "$@"; do
    pid=$(cat "$T_DIR/$id.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  check "no sanitizer report in the logs of $* (leaks are reported at exit)" \
    bash -c "cd '$T_DIR' && ! grep -El 'Sanitizer|runtime error' $(printf '%s.log ' "$@")"
}
