#!/bin/bash
# settle-device under load (device/device-limits.c): the per-source
# connection limit closes the excess at once, a flood of handshakes that
# never finish from one source leaves an enrolled client's whoami fast,
# wrong pairing codes from one source earn a backoff with a log line, and
# failures from all sources together block every source.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool curl python3

DEV=${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}
PAIR=$BUILD_ROOT/tests/device/device-pair-client
FLOOD="python3 $SOURCE_ROOT/tests/device/device-flood.py"
STATE=$T_DIR/state
QR_TXT=$T_DIR/qr.txt
PER_SOURCE=8        # SETTLE_DEVICE_LIMIT_CONNECTIONS_PER_SOURCE
FAILURES=4          # SETTLE_DEVICE_LIMIT_FAILURES
FAILURES_TOTAL=10   # SETTLE_DEVICE_LIMIT_FAILURES_TOTAL

start_loopback_device "$STATE" --qr-text "$QR_TXT" || true
if [ -z "$PORT" ]; then
  echo "Bail out! settle-device did not start"; sed 's/^/# /' "$T_DIR/dev.err"; exit 1
fi
URL=https://127.0.0.1:$PORT

check "a client pairs (the enrolled client of this test)" \
  "$PAIR" "$QR_TXT" admin "$T_DIR/c1.key" "$T_DIR/c1.pem"

# whoami_fast SECONDS: the enrolled client's whoami answers 200 with its
# role within SECONDS (curl's --max-time fails it otherwise).
whoami_fast() {
  curl -sk --max-time "$1" --cert "$T_DIR/c1.pem" --key "$T_DIR/c1.key" \
    -w '\n%{http_code} %{time_total}\n' "$URL/.well-known/settle/whoami" >"$T_DIR/whoami.out"
  cat "$T_DIR/whoami.out"
  grep -q '"role":"admin"' "$T_DIR/whoami.out" && grep -q '^200 ' "$T_DIR/whoami.out"
}

# ---- the per-source concurrency limit ----
HOLD=$((PER_SOURCE + 8))
$FLOOD hold 127.0.0.2 "$PORT" "$HOLD" >"$T_DIR/hold.out"
read -r _ CLOSED _ OPEN <"$T_DIR/hold.out"
echo "# $HOLD silent connections from 127.0.0.2: $CLOSED closed at once, $OPEN kept"
check "connections beyond $PER_SOURCE from one source are closed at once (8 of $HOLD)" test "$CLOSED" -eq 8
check "the first $PER_SOURCE are kept for their handshake" test "$OPEN" -eq "$PER_SOURCE"

# ---- a flood from one source does not starve the enrolled client ----
$FLOOD flood 127.0.0.3 "$PORT" 8 >"$T_DIR/flood.out" &
FLOOD_PID=$!
at_exit "kill $FLOOD_PID 2>/dev/null"
sleep 1
for n in 1 2 3 4 5; do
  check "whoami answers within 3 s during the flood ($n of 5)" whoami_fast 3
done
wait "$FLOOD_PID"
echo "# flood from 127.0.0.3: $(cat "$T_DIR/flood.out")"
read -r _ OPENED _ FLOOD_CLOSED _ HELD <"$T_DIR/flood.out"
check "the flood opened many connections (at least 200)" test "$OPENED" -ge 200
check "the device held at most $PER_SOURCE of them" test "$HELD" -le "$PER_SOURCE"
check "and closed the rest" test "$FLOOD_CLOSED" -ge $((OPENED - PER_SOURCE))
check "the device is still running" kill -0 "$DEV_PID"

# ---- backoff after wrong pairing codes ----
python3 - "$QR_TXT" >"$T_DIR/wrong.txt" <<'EOF'
import base64, os, re, sys
text = open(sys.argv[1]).read().strip()
wrong = base64.b32encode(os.urandom(20)).decode()
print(re.sub(r";S:[A-Z2-7]+;", ";S:" + wrong + ";", text))
EOF
check "the wrong payload differs from the right one" bash -c "! cmp -s '$QR_TXT' '$T_DIR/wrong.txt'"
for n in $(seq "$FAILURES"); do
  check_fails "wrong code attempt $n of $FAILURES fails on the confirmation" "error 4|confirmation|auth" \
    "$PAIR" "$T_DIR/wrong.txt" admin "$T_DIR/x.key" "$T_DIR/x.pem"
done
check "the device logs that the source is cut off" \
  grep -q "^settle-device: $FAILURES failed pairing attempts from 127.0.0.1 within [0-9]* s; refusing its pairing attempts for [0-9]* s$" "$T_DIR/dev.err"
check_fails "the next attempt is refused as busy before any guess" "too many failed pairing attempts" \
  "$PAIR" "$T_DIR/wrong.txt" admin "$T_DIR/x.key" "$T_DIR/x.pem"
check_fails "even with the right code" "too many failed pairing attempts" \
  "$PAIR" "$QR_TXT" admin "$T_DIR/x.key" "$T_DIR/x.pem"
check "the refusals are logged" grep -q "^settle-device: refused pairing from 127.0.0.1: blocked" "$T_DIR/dev.err"
check "refused attempts do not count against the code (no attempt $((FAILURES + 1)) of 5)" \
  bash -c "! grep -q '($((FAILURES + 1)) of 5 failed attempts' '$T_DIR/dev.err'"
check "the blocked source's enrolled client still gets whoami" whoami_fast 3
check "nothing was enrolled by the wrong codes" \
  test "$(grep -c '"serial"' "$STATE/enrolments.json")" -eq 1

# ---- every source together: many addresses do not multiply the guesses ----
# 127.0.0.1 has spent $FAILURES; each further source makes one failed
# attempt (SERVER_SHARE, then a hang-up) until all of them together reach
# $FAILURES_TOTAL within the window.
for n in $(seq $((FAILURES + 1)) $FAILURES_TOTAL); do
  check "failed attempt $n of $FAILURES_TOTAL, from a new source 127.0.0.$((20 + n)), is served" \
    bash -c "$FLOOD guess 127.0.0.$((20 + n)) $PORT 1 | grep -qx share"
done
check "the fifth failure against one code is logged as such, not as 0 of 5" bash -c \
  "grep -q '(5 of 5 failed attempts for this code: the code is retired)' '$T_DIR/dev.err' &&
   ! grep -q '(0 of 5 failed attempts' '$T_DIR/dev.err'"
check "the device logs that every source is cut off" \
  grep -q "^settle-device: $FAILURES_TOTAL failed pairing attempts from all sources within [0-9]* s; refusing every pairing attempt for [0-9]* s$" "$T_DIR/dev.err"
check "a source that never failed is refused now too" bash -c \
  "$FLOOD guess 127.0.0.99 $PORT 1 | grep -q '^error.*too many failed pairing attempts on this device'"
check_fails "even with the right code" "too many failed pairing attempts on this device" \
  "$PAIR" "$QR_TXT" admin "$T_DIR/x.key" "$T_DIR/x.pem"
check "the enrolled client still gets whoami" whoami_fast 3

check "SIGTERM stops the device" bash -c "kill -TERM $DEV_PID; for i in \$(seq 100); do kill -0 $DEV_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
check "it says so" grep -q 'settle-device: stopped' "$T_DIR/dev.err"
done_testing
