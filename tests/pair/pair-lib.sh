# pair-lib.sh: what the pairing tests share.  Source after tests/lib.sh.

need_tool openssl python3
: "${SETTLE_DEVICE:?run through meson test}"
STORE_DIR="$XDG_DATA_HOME/settle/store"

need_device() {
  if [ ! -x "$SETTLE_DEVICE" ]; then
    echo "Bail out! $SETTLE_DEVICE was not built"
    exit 1
  fi
}

# start_device ID NAME [ARGS...]: settle-device with its own state in
# $T_DIR/ID; sets ID_port, and leaves $T_DIR/ID.png and $T_DIR/ID.txt
# (its current QR code, rewritten when the secret changes).
start_device() {
  local id=$1 name=$2; shift 2
  local log="$T_DIR/$id.log"
  # Made here: the device's own redirection happens after the fork, and a
  # first look at a log that does not exist yet would end the test.
  : >"$log"
  "$SETTLE_DEVICE" serve --name "$name" --state "$T_DIR/$id" --listen 127.0.0.1:0 \
    --qr-png "$T_DIR/$id.png" --qr-text "$T_DIR/$id.txt" "$@" >"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$T_DIR/$id.pid"   # for stop_device
  at_exit "kill $pid"
  local i port=
  for i in $(seq 100); do
    port=$(sed -n 's/^settle-device: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log" 2>/dev/null || true)
    [ -n "$port" ] && [ -s "$T_DIR/$id.txt" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "Bail out! settle-device $id did not start:"; sed 's/^/# /' "$log"; exit 1
  fi
  printf -v "${id}_port" '%s' "$port"
}

# serve ID NAME PORT: settle-device on a fixed port, so that the address
# the helper knows stays right across restarts (rotate, factory reset).
serve() {
  # Not a previous run's log or QR code: the redirection happens after the
  # fork, and the device writes its QR text before it says it listens.
  : >"$T_DIR/$1.log"
  rm -f "$T_DIR/$1.txt"
  "$SETTLE_DEVICE" serve --name "$2" --state "$T_DIR/$1" --listen "127.0.0.1:$3" \
    --qr-png "$T_DIR/$1.png" --qr-text "$T_DIR/$1.txt" >"$T_DIR/$1.log" 2>&1 &
  echo $! >"$T_DIR/$1.pid"
  at_exit "kill $! 2>/dev/null"
  local i
  for i in $(seq 100); do
    grep -q "listening on" "$T_DIR/$1.log" && [ -s "$T_DIR/$1.txt" ] && return 0
    sleep 0.1
  done
  echo "Bail out! settle-device did not start"; sed 's/^/# /' "$T_DIR/$1.log"; exit 1
}
stop_device() { kill "$(cat "$T_DIR/$1.pid")"; wait "$(cat "$T_DIR/$1.pid")" 2>/dev/null || true; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_new_qr ID OLD_TEXT: waits until the device shows a new code.
wait_new_qr() {
  local i
  for i in $(seq 100); do
    [ "$(cat "$T_DIR/$1.txt")" != "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# A tiny self-signed TLS identity for fake servers: $T_DIR/NAME.{key,pem},
# and its SPKI pin in the QR code's form (base64url SHA-256, no padding).
mk_self_signed() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T_DIR/$1.key" -out "$T_DIR/$1.pem" -days 30 -subj "/CN=$2" \
    -addext "subjectAltName=DNS:$2" 2>/dev/null
}
spki_pin() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER \
    | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n'
}

# payload_for NAME HOST:PORT PIN: a well-formed payload with a fresh secret.
payload_for() {
  local secret
  secret=$(python3 -c 'import base64,os; print(base64.b32encode(os.urandom(20)).decode())')
  printf 'SETTLE:V:1;G:p256;N:%s;A:%s;H:%s;S:%s;;' "$1" "$2" "$3" "$secret"
}

# The store holds no record and no client key.
nothing_stored() {
  "$SETTLE" list --json | python3 -c 'import json,sys; a=json.load(sys.stdin)["anchors"]; assert a == [], a' \
    && [ -z "$(ls -A "$STORE_DIR/keys" 2>/dev/null)" ]
}

# Runs a fake server script in the background; waits for "PORT n" on its
# stdout and sets FAKE_PORT.
start_fake() {
  local out="$T_DIR/fake.$RANDOM.out"
  python3 "$@" >"$out" 2>&1 &
  local pid=$!
  at_exit "kill $pid"
  local i
  FAKE_PORT=
  for i in $(seq 100); do
    FAKE_PORT=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$out" 2>/dev/null || true)
    [ -n "$FAKE_PORT" ] && return 0
    sleep 0.1
  done
  echo "Bail out! fake server $* did not start:"; sed 's/^/# /' "$out"; exit 1
}
