# referee-lib.sh: a referee on loopback (Track B, docs/referee.md): Debian's
# pebble as its ACME CA, settle-device as its pairing front, and devices
# that get their certificates from it with lego.  Source after
# tests/lib.sh and pair-lib.sh.
#
# Loopback with a name mapping (curl --resolve, the browsers' host maps):
# names under lab.home.arpa are unicast DNS names, which mDNS (and so the
# simulated home network of tests/homenet) does not resolve; nothing here
# depends on how a name is found.

need_tool pebble lego curl

# start_pebble VALIDITY_S: pebble with a fresh root (it makes one at every
# start), its HTTPS certificate from a CA made here ($T_DIR/pebble-tls-ca.pem,
# what the devices' lego is told to trust for the ACME server), deliberately
# permissive: PEBBLE_VA_ALWAYS_VALID issues for any name, so that every
# scope escape below is a certificate the referee's CA really signed.
# Sets ACME_DIR (the directory URL) and writes $T_DIR/referee-root.pem.
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
  acme_port=$(free_port); mgmt_port=$(free_port)
  printf '{"pebble":{"listenAddress":"127.0.0.1:%s","managementListenAddress":"127.0.0.1:%s",
    "certificate":"%s","privateKey":"%s","httpPort":%s,"tlsPort":%s,"ocspResponderURL":"",
    "externalAccountBindingRequired":false,"certificateValidityPeriod":%s}}\n' \
    "$acme_port" "$mgmt_port" "$p/tls.pem" "$p/tls.key" "$(free_port)" "$(free_port)" "$validity" >"$p/config.json"
  : >"$p/log"
  PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$p/config.json" \
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

# start_acme_device ID NAME [ARGS...]: settle-device serving NAME with a
# certificate from pebble (renewal checked every 2 s); sets ID_port.
start_acme_device() {
  local id=$1 name=$2; shift 2
  local log="$T_DIR/$id.log" i port=
  : >"$log"
  "$SETTLE_DEVICE" serve --name "$name" --state "$T_DIR/$id" --listen 127.0.0.1:0 --no-mdns \
    --acme-directory "$ACME_DIR" --acme-ca "$T_DIR/pebble-tls-ca.pem" --acme-http 127.0.0.1:0 \
    --acme-check-seconds 2 "$@" >"$log" 2>&1 &
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
    --path "$T_DIR/rogue" --http --http.port 127.0.0.1:0 --domains "$1" run >"$T_DIR/rogue-$1.log" 2>&1
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
