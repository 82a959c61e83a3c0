#!/bin/bash
# Runs device-bench against a fresh settle-device on loopback with one
# enrolled client (device-bench.c says what is measured).
#   meson test -C build --benchmark --suite device -v
# Arguments pass through: HANDSHAKES THREADS SAMPLES.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool python3

"$SETTLE_DEVICE" serve --name printer.local --state "$T_DIR/state" --listen 127.0.0.1:0 \
  --qr-text "$T_DIR/qr.txt" >"$T_DIR/dev.out" 2>"$T_DIR/dev.err" &
DEV_PID=$!
at_exit "kill $DEV_PID 2>/dev/null"
for i in $(seq 100); do
  grep -q 'listening on' "$T_DIR/dev.out" 2>/dev/null && break
  sleep 0.1
done
PORT=$(sed -n 's/^settle-device: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T_DIR/dev.out")
if [ -z "$PORT" ] || ! "$DEVICE_PAIR_CLIENT" "$T_DIR/qr.txt" admin "$T_DIR/c.key" "$T_DIR/c.pem" >/dev/null; then
  echo "Bail out! settle-device did not start or pair"; sed 's/^/# /' "$T_DIR/dev.err"; exit 1
fi
"$DEVICE_BENCH" "$PORT" "$T_DIR/c.pem" "$T_DIR/c.key" "$@"
