# tests/lib.sh: shared helpers for the integration and browser scripts.
# Source it first thing:  . "$SOURCE_ROOT/tests/lib.sh"
#
# Gives every test a private world: its own HOME, XDG dirs and settle data
# dir under a temporary directory removed on exit, so that nothing touches
# the developer's keyring, NSS databases or browser profiles.

set -euo pipefail

: "${SOURCE_ROOT:?run through meson test}"
: "${BUILD_ROOT:?run through meson test}"
: "${SETTLE:=$BUILD_ROOT/helper/settle}"

T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/settle-$T_NAME.XXXXXX")
T_FAILED=0
T_COUNT=0
T_CLEANUPS=()

t_cleanup() {
  local c
  for c in "${T_CLEANUPS[@]}"; do eval "$c" || true; done
  if [ "${KEEP_TEST_DIR:-}" = 1 ]; then echo "# kept $T_DIR"; else rm -rf "$T_DIR"; fi
}
trap t_cleanup EXIT

# Run `cmd` when the test exits (servers, daemons).
at_exit() { T_CLEANUPS+=("$1"); }

export HOME="$T_DIR/home"
export XDG_DATA_HOME="$HOME/.local/share"
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_RUNTIME_DIR="$T_DIR/run"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 0700 "$XDG_RUNTIME_DIR"
# No keyring unless a test starts one: the file store is the default then.
unset DBUS_SESSION_BUS_ADDRESS
export SETTLE_STORE="file:$XDG_DATA_HOME/settle/store"

# A tool the test cannot do without: a skip on a developer's machine (a TAP
# plan of 0 with exit status 0, which meson's TAP parser counts as SKIP; 77
# would be an ERROR under the TAP protocol), a failure under CI, where
# everything must be installed.
need_tool() {
  local t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      if [ "${CI:-}" = true ]; then
        echo "Bail out! required tool '$t' is missing (CI must install it)"
        exit 1
      fi
      echo "1..0 # SKIP missing tool $t"
      exit 0
    fi
  done
}

# ok / not ok lines; `check DESC cmd...` runs cmd and records the result.
pass() { T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT - $*"; }
fail() { T_COUNT=$((T_COUNT + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_COUNT - $*"; }
# The command's output lands in $T_DIR/last.out once it has finished, so
# that a following check can inspect what the previous command printed.
t_run() { "$@" >"$T_DIR/cur.out" 2>&1; local rc=$?; mv -f "$T_DIR/cur.out" "$T_DIR/last.out"; return $rc; }
# In a sanitized build a report (leak, overflow, UB) fails the check even
# when the command was meant to fail: a leak on an error path still prints
# the expected message and exits non-zero.
t_sanitizer_report() {
  grep -Eq '^==[0-9]+==ERROR: (Address|Leak)Sanitizer|: runtime error: ' "$T_DIR/last.out"
}
check() {
  local desc=$1; shift
  if t_run "$@" && ! t_sanitizer_report; then pass "$desc"; else
    fail "$desc"; sed 's/^/#   /' "$T_DIR/last.out"; fi
}
# check_fails DESC PATTERN cmd...: cmd must fail and print PATTERN (ERE).
check_fails() {
  local desc=$1 pattern=$2; shift 2
  if t_run "$@"; then
    fail "$desc (succeeded, should have failed)"; sed 's/^/#   /' "$T_DIR/last.out"
  elif t_sanitizer_report; then
    fail "$desc (sanitizer report)"; sed 's/^/#   /' "$T_DIR/last.out"
  elif grep -Eq -- "$pattern" "$T_DIR/last.out"; then pass "$desc"; else
    fail "$desc (no '$pattern' in output)"; sed 's/^/#   /' "$T_DIR/last.out"; fi
}
# skip DESC REASON: a sub-check that cannot run here, said so in TAP.
skip() { T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT - $1 # SKIP $2"; }
# Call last: prints the plan and exits with the verdict.
done_testing() {
  echo "1..$T_COUNT"
  [ "$T_FAILED" -eq 0 ]
}

# Starts a private D-Bus session with an unlocked gnome-keyring whose
# login collection lives in $HOME; exports DBUS_SESSION_BUS_ADDRESS.
start_keyring() {
  need_tool dbus-daemon gnome-keyring-daemon gdbus
  local out
  out=$(dbus-daemon --session --fork --print-address=1 --print-pid=1)
  export DBUS_SESSION_BUS_ADDRESS=$(echo "$out" | sed -n 1p)
  local bus_pid=$(echo "$out" | sed -n 2p)
  at_exit "kill $bus_pid"
  # The password on stdin creates and unlocks the login keyring.
  printf 'test-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # The forked daemon prints no PID (and `kill 0` would end this whole
  # process group), so ask the private bus who owns the Secret Service.
  local i keyring_pid=
  for i in $(seq 50); do
    keyring_pid=$(gdbus call --session --dest org.freedesktop.DBus \
      --object-path /org/freedesktop/DBus \
      --method org.freedesktop.DBus.GetConnectionUnixProcessID org.freedesktop.secrets \
      2>/dev/null | sed -n 's/^(uint32 \([0-9]*\),)$/\1/p') || true
    [ -n "$keyring_pid" ] && break
    sleep 0.1
  done
  if [ -z "$keyring_pid" ]; then
    echo "Bail out! gnome-keyring-daemon did not appear on the private session bus"
    exit 1
  fi
  at_exit "kill $keyring_pid 2>/dev/null"
  unset SETTLE_STORE
}

# Test PKI made with the openssl CLI: mk_ca DIR NAME makes DIR/NAME.{key,pem}
# (a P-256 CA); mk_leaf DIR CA NAME SAN makes DIR/NAME.{key,pem} signed by
# CA with the given subjectAltName (e.g. "DNS:printer.local,IP:10.0.0.1").
mk_ca() {
  local dir=$1 name=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.pem" -days 365 \
    -subj "/CN=$name device CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mk_leaf() {
  local dir=$1 ca=$2 name=$3 san=$4
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
    -CAcreateserial -days 30 -out "$dir/$name.pem" \
    -extfile <(printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$san") 2>/dev/null
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

# start_loopback_device STATE [ARGS...]: settle-device ($SETTLE_DEVICE, else
# the build's) serving printer.local on 127.0.0.1 at a port it picks, with
# state directory STATE and ARGS (e.g. --qr-text FILE); output in
# $T_DIR/dev.out and $T_DIR/dev.err.  Sets DEV_PID (stopped at exit) and
# PORT; returns 1, with the device's stderr, when it did not start.
start_loopback_device() {
  local state=$1 i; shift
  : >"$T_DIR/dev.out"   # not a previous run's "listening" line (the redirection is after the fork)
  "${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}" serve --name printer.local --state "$state" \
    --listen 127.0.0.1:0 "$@" >"$T_DIR/dev.out" 2>"$T_DIR/dev.err" &
  DEV_PID=$!
  at_exit "kill $DEV_PID 2>/dev/null"
  PORT=
  for i in $(seq 100); do
    PORT=$(sed -n 's/^settle-device: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T_DIR/dev.out" 2>/dev/null)
    [ -n "$PORT" ] && return 0
    kill -0 "$DEV_PID" 2>/dev/null || break
    sleep 0.1
  done
  sed 's/^/# /' "$T_DIR/dev.err"
  return 1
}

# GnuTLS through p11-kit.  p11-kit reads module files from fixed
# directories only (and ignores per-user ones for root), so tests give it
# a directory of their own in a private mount namespace: the host's
# configuration is never touched.
# p11kit_modules_dir DIR MODULE: DIR gets the shipped
# packaging/p11-kit/settle.module pointing at MODULE, and p11-kit-trust's
# file as on the system.
p11kit_modules_dir() {
  mkdir -p "$1"
  sed "s|^module: .*|module: $2|" "$SOURCE_ROOT/packaging/p11-kit/settle.module" >"$1/settle.module"
  [ ! -f /usr/share/p11-kit/modules/p11-kit-trust.module ] ||
    cp /usr/share/p11-kit/modules/p11-kit-trust.module "$1/"
}
# with_p11kit_modules DIR CMD...: CMD with DIR as p11-kit's module
# directory; "${P11KIT_RUN[@]}" DIR CMD... is the same as a plain command
# (for `timeout` and other wrappers).
P11KIT_RUN=(unshare --mount -- bash -c 'mount --bind "$1" /usr/share/p11-kit/modules && shift && exec "$@"' p11kit)
with_p11kit_modules() { "${P11KIT_RUN[@]}" "$@"; }

# Sanitized builds (-Db_sanitize=address): a module of ours (the PKCS#11
# module, the OpenSSL provider) loaded into a program that was not built
# with ASan (openssl, certutil, modutil, python3) needs the ASan runtime
# loaded first.  asan_runtime_of SO prints that runtime, or nothing when
# SO is not sanitized.
asan_runtime_of() { ldd "$1" 2>/dev/null | awk '/libasan/ { print $3; exit }'; }
# preload_asan_runtime SO: every program this script runs from now on gets
# the runtime SO needs.  Leak detection is off for them, as their leaks at
# exit are the host programs' own; the module's frees are checked by our
# own C programs (sp11-check, nss-live, sprov-connect) in other tests.
preload_asan_runtime() {
  local runtime
  runtime=$(asan_runtime_of "$1")
  [ -n "$runtime" ] || return 0
  export LD_PRELOAD="$runtime${LD_PRELOAD:+:$LD_PRELOAD}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}
# with_asan_runtime SO CMD...: the same for one command only.
with_asan_runtime() {
  local runtime
  runtime=$(asan_runtime_of "$1"); shift
  if [ -z "$runtime" ]; then "$@"; return; fi
  LD_PRELOAD="$runtime${LD_PRELOAD:+:$LD_PRELOAD}" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
}
