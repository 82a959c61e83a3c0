#!/bin/bash
# Runs device-bench against a fresh settle-device on loopback with one
# enrolled client (device-bench.c says what is measured).
#   meson test -C build --benchmark --suite device -v
# Arguments pass through: HANDSHAKES THREADS SAMPLES.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool python3

start_loopback_device "$T_DIR/state" --qr-text "$T_DIR/qr.txt" || true
if [ -z "$PORT" ] || ! "$DEVICE_PAIR_CLIENT" "$T_DIR/qr.txt" admin "$T_DIR/c.key" "$T_DIR/c.pem" >/dev/null; then
  echo "Bail out! settle-device did not start or pair"; sed 's/^/# /' "$T_DIR/dev.err"; exit 1
fi
"$DEVICE_BENCH" "$PORT" "$T_DIR/c.pem" "$T_DIR/c.key" "$@"
