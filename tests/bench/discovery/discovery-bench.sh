#!/usr/bin/env bash
# tests/bench/discovery/discovery-bench.sh: in the simulated home network
# (tests/homenet), a settle-device advertising on port 8443; in ua, the
# time settle discover takes to its first answer and settle pair to a
# discovered endpoint, against avahi-browse -rpt in the same run
# (discovery-bench.py).  Figures: docs/performance.md, "Discovery".
#   meson test -C build --benchmark --suite discovery -v
# Argument: SAMPLES (default 10).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
: "${SETTLE_DEVICE:?run through meson test}"

homenet_need
need_tool python3
homenet_up

NAME=printer.local PORT=8443
homenet_bg device "$SETTLE_DEVICE" serve --name "$NAME" --state "$T_DIR/dev" --listen "0.0.0.0:$PORT" \
  --qr-text "$T_DIR/dev.txt"
DEV_LOG=$HOMENET_BG_LOG
advertised() { grep -q "^settle-device: advertising $NAME" "$DEV_LOG" && [ -s "$T_DIR/dev.txt" ]; }
browsed() { in_ua avahi-browse -rpt _settle._tcp | grep -q "^=;.*;$PORT;"; }
if ! homenet_wait advertised || ! homenet_wait browsed; then
  echo "Bail out! settle-device did not advertise:"; sed 's/^/# /' "$DEV_LOG"; exit 1
fi
in_ua python3 "$SOURCE_ROOT/tests/bench/discovery/discovery-bench.py" "$SETTLE" "$NAME" "$PORT" \
  "$T_DIR/dev.txt" "${1:-10}" "$T_DIR"
