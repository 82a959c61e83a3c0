#!/usr/bin/env bash
# More hostile devices (issue 8, "Hostile peers"), each ending in its own
# error within the timeout and with nothing stored: a device that answers
# one byte at a time, one that closes mid-message or mid-handshake, one
# that replays an earlier session's SERVER_SHARE in a new TLS session, and
# one with the right name and the wrong key.  pair-hostile.sh has the
# others (silence, truncated/oversized/garbage frames, relays, evil twins),
# pair-evil.sh the lies told after a successful proof.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
: "${EVIL_DEVICE:?run through meson test}"
FAKE="$SOURCE_ROOT/tests/pair/fake-server.py"
TIMEOUT=3
# What a run may take beyond --timeout: process start, key generation,
# the TLS handshake on a loaded 2-core machine.
MARGIN=2

# pair_fails DESC PATTERN PAYLOAD: `settle pair` fails with PATTERN within
# --timeout plus the margin, and nothing is stored.
pair_fails() {
  local desc=$1 pattern=$2 payload=$3 start elapsed
  start=$(date +%s%N)
  check_fails "$desc" "$pattern" "$SETTLE" pair --payload "$payload" --yes --timeout "$TIMEOUT"
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  check "it ended within --timeout $TIMEOUT plus ${MARGIN}s (took ${elapsed} ms)" \
    test "$elapsed" -le $(( (TIMEOUT + MARGIN) * 1000 ))
  check "nothing stored ($desc)" nothing_stored
}

mk_self_signed right printer.local
mk_self_signed wrong printer.local
pin=$(spki_pin "$T_DIR/right.pem")

# Slow: every byte arrives in time for a single read, the whole frame
# long after --timeout (one deadline per message, lib/ceremony-tls.c).
start_fake "$FAKE" frames "$T_DIR/right.pem" "$T_DIR/right.key" trickle
pair_fails "a device that answers byte by byte times out" \
  "did not send its next message within ${TIMEOUT}000 ms" \
  "$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$pin")"

# Closing in the middle of a frame's 4-byte header.
start_fake "$FAKE" frames "$T_DIR/right.pem" "$T_DIR/right.key" midheader
pair_fails "a device that closes mid-header is reported as a truncated message" \
  "truncated: the connection closed inside it" \
  "$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$pin")"

# Closing in the middle of the TLS handshake.
start_fake "$FAKE" hangup
pair_fails "a device that hangs up mid-handshake is named as such" \
  "closed the connection|TLS handshake|handshake" \
  "$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$pin")"

# The right name, the wrong key: the pin refuses before anything is sent.
start_fake "$FAKE" frames "$T_DIR/wrong.pem" "$T_DIR/wrong.key" garbage
pair_fails "a certificate for printer.local with another key fails the pin" \
  "does not have the key named in the QR code" \
  "$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$pin")"
check "the wrong certificate really names printer.local" \
  bash -c "openssl x509 -in '$T_DIR/wrong.pem' -noout -ext subjectAltName | grep -q 'DNS:printer.local'"

# Replay: the first session records the device's SERVER_SHARE (and ends
# before the enrolment), the second gets it replayed in a new TLS
# session, where the exporter, and so the confirmation, differ.
evil_out="$T_DIR/evil-replay.out"
"$EVIL_DEVICE" replay "$T_DIR/replay.payload" >"$evil_out" 2>&1 &
at_exit "kill $!"
for _ in $(seq 100); do
  grep -q '^PORT ' "$evil_out" && [ -s "$T_DIR/replay.payload" ] && break
  sleep 0.1
done
replay_payload=$(cat "$T_DIR/replay.payload")
pair_fails "the recording session ends before the enrolment" \
  "closed the connection" "$replay_payload"
check "the device recorded its SERVER_SHARE" grep -q "recorded SERVER_SHARE" "$evil_out"
pair_fails "a SERVER_SHARE replayed into a new TLS session fails the confirmation" \
  "did not prove that it knows the pairing code" "$replay_payload"
check "the device did replay it" grep -q "replayed the recorded SERVER_SHARE" "$evil_out"
check "and the helper told it the confirmation failed (error 4)" \
  grep -q "answered the replay with error 4" "$evil_out"

done_testing
