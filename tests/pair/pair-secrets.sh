#!/usr/bin/env bash
# Secrets (docs/security.md, "Secrets"): while `settle pair` holds the
# pairing secret it cannot dump core (RLIMIT_CORE 0, seen in
# /proc/PID/limits) and is not dumpable (PR_SET_DUMPABLE 0: a process of
# the same user without CAP_SYS_PTRACE may not read its /proc/PID/environ,
# which it may for an ordinary process, the control).  The secret never
# appears in what the helper prints or in what it stores.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_device
FAKE="$SOURCE_ROOT/tests/pair/fake-server.py"

# The observable of PR_SET_DUMPABLE 0 is the kernel's own: the files in
# /proc/PID of a non-dumpable process belong to root instead of to the
# process's user, and that user may no longer read its environ (or
# memory).  Both are invisible when the process runs as root, as tests
# often do (containers, CI), so `settle pair` and the reader then run as
# an unprivileged user; `sleep` as the same user is the control.
if [ "$(id -u)" = 0 ]; then
  need_tool setpriv
  RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod 0711 "$T_DIR"
  mkdir -m 0700 "$T_DIR/user"
  chown 65534:65534 "$T_DIR/user"
else
  RUN_AS=()
  mkdir -m 0700 "$T_DIR/user"
fi
# An array, not a function: `"${AS_USER[@]}" cmd &` must leave $! the
# command's own PID (setpriv and env exec), not a subshell's.
AS_USER=("${RUN_AS[@]}" env HOME="$T_DIR/user" XDG_DATA_HOME="$T_DIR/user/share"
  XDG_CONFIG_HOME="$T_DIR/user/config" SETTLE_STORE="file:$T_DIR/user/store")
owner_of_proc() { stat -c %u "/proc/$1/status"; }

# A device that accepts TCP and never answers keeps `settle pair` waiting
# in its first network step, with the secret already parsed.
start_fake "$FAKE" silent
mk_self_signed silent printer.local
payload=$(payload_for printer.local "127.0.0.1:$FAKE_PORT" "$(spki_pin "$T_DIR/silent.pem")")
"${AS_USER[@]}" "$SETTLE" pair --payload "$payload" --yes --timeout 8 >"$T_DIR/waiting.out" 2>&1 &
pair_pid=$!
at_exit "kill $pair_pid 2>/dev/null"
for _ in $(seq 50); do
  grep -q "connecting to the device" "$T_DIR/waiting.out" 2>/dev/null && break
  sleep 0.1
done
check "settle pair is waiting for the silent device" grep -q "connecting to the device" "$T_DIR/waiting.out"
check "its core file size limit is 0, soft and hard" \
  grep -Eq '^Max core file size +0 +0 ' "/proc/$pair_pid/limits"
"${AS_USER[@]}" sleep 30 &
control_pid=$!
at_exit "kill $control_pid 2>/dev/null"
sleep 0.2
user_uid=$(owner_of_proc "$control_pid")
check "control: an ordinary process's /proc/PID belongs to its user ($user_uid)" \
  test "$user_uid" = "$("${AS_USER[@]}" id -u)"
check "control: its user can read its /proc/PID/environ" "${AS_USER[@]}" cat "/proc/$control_pid/environ"
check "settle pair's /proc/PID belongs to root instead (PR_SET_DUMPABLE 0)" \
  test "$(owner_of_proc "$pair_pid")" = 0
check_fails "and its own user cannot read its /proc/PID/environ" "Permission denied" \
  "${AS_USER[@]}" cat "/proc/$pair_pid/environ"
wait "$pair_pid" && pair_rc=0 || pair_rc=$?
check "and it then gave up with a timeout" bash -c \
  "[ $pair_rc = 1 ] && grep -Eq 'timed out|did not .* within' '$T_DIR/waiting.out'"

secret=$(sed -n 's/.*;S:\([A-Z2-7]*\);.*/\1/p' <<<"$payload")
check "the failed run did not print the secret" bash -c "! grep -qi '$secret' '$T_DIR/waiting.out'"

# A real pairing: the secret must not reach the output, the store or the
# snapshot, in base32 (either case) or as the typing code.
start_device dev printer.local
qr=$(cat "$T_DIR/dev.txt")
secret=$(sed -n 's/.*;S:\([A-Z2-7]*\);.*/\1/p' <<<"$qr")
code=$(sed -n 's/^  Pairing code: \([0-9A-Z-]*\)$/\1/p' "$T_DIR/dev.log" | tail -1)
check "we know the device's secret and its typing code" test -n "$secret" -a -n "$code"
check "settle pair --payload - pairs with the reference device" \
  bash -c "printf '%s\n' '$qr' | '$SETTLE' pair --payload - --yes --timeout 5"
cp "$T_DIR/last.out" "$T_DIR/paired.out"
check "the output does not hold the secret or the code" bash -c \
  "! grep -qiF -e '$secret' -e '$code' '$T_DIR/paired.out'"
check "the store and the snapshot do not hold it either" bash -c \
  "! grep -rqiF -e '$secret' -e '$code' '$XDG_DATA_HOME/settle'"
check "what was stored is one record and its client key" bash -c \
  "[ \$(ls '$STORE_DIR'/*.json | wc -l) = 1 ] && [ \$(ls '$STORE_DIR'/keys/*.pem | wc -l) = 1 ]"

# `--code -`: the code comes from standard input and never reaches argv,
# which every local user can read in /proc/PID/cmdline.  A second device,
# so that its record is new; the helper waits on its standard input while
# /proc/PID/cmdline is read.
start_device dev2 scanner.local
code2=$(sed -n 's/^  Pairing code: \([0-9A-Z-]*\)$/\1/p' "$T_DIR/dev2.log" | tail -1)
check "the second device shows a typing code" test -n "$code2"
mkfifo "$T_DIR/code.fifo"
"$SETTLE" pair --code - --address "127.0.0.1:$dev2_port" --name scanner.local --yes --timeout 5 \
  <"$T_DIR/code.fifo" >"$T_DIR/code-stdin.out" 2>&1 &
stdin_pid=$!
at_exit "kill $stdin_pid 2>/dev/null"
exec 7>"$T_DIR/code.fifo"
sleep 0.3
tr '\0' ' ' <"/proc/$stdin_pid/cmdline" >"$T_DIR/cmdline.txt"
check "settle pair --code - has '--code -' in its argv" grep -qF -- "--code -" "$T_DIR/cmdline.txt"
check "and not the code" bash -c "! grep -qiF '$code2' '$T_DIR/cmdline.txt'"
printf '%s\n' "$code2" >&7
exec 7>&-
wait "$stdin_pid" && stdin_rc=0 || stdin_rc=$?
check "settle pair --code - paired with the code read from standard input" bash -c \
  "[ $stdin_rc = 0 ] && grep -q 'Paired with \"scanner.local\"' '$T_DIR/code-stdin.out'"
check "its output does not hold the code" bash -c "! grep -qiF '$code2' '$T_DIR/code-stdin.out'"
# On a terminal, `--code -` asks for the code without echoing it.
start_device dev3 camera.local
code3=$(sed -n 's/^  Pairing code: \([0-9A-Z-]*\)$/\1/p' "$T_DIR/dev3.log" | tail -1)
check "at a terminal, --code - asks for the code and pairs" \
  python3 "$SOURCE_ROOT/tests/pty-answer.py" 'Pairing code \(not shown\): ' "$code3" \
  "$SETTLE" pair --code - --address "127.0.0.1:$dev3_port" --name camera.local --yes --timeout 5
check "the typed code was not echoed" bash -c "! grep -qiF '$code3' '$T_DIR/last.out'"
check "--help says --code CODE is visible to other users" bash -c \
  "'$SETTLE' pair --help | tr -s ' \n' ' ' | grep -q 'visible to other local users'"

done_testing
