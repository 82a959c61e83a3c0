# shellcheck shell=bash disable=SC2034
# tests/homenet/homenet-lib.sh: a private simulated home network for a test
# (scripts/homenet; README.md here).  Source it after tests/lib.sh:
#
#   . "$SOURCE_ROOT/tests/lib.sh"
#   . "$SOURCE_ROOT/tests/homenet/homenet-lib.sh"
#   homenet_up                      # taken down again when the test exits
#   homenet_bg device avahi-publish -a -R printer.local 192.168.77.3
#   check "ua resolves printer.local" homenet_wait ua_sees_printer
#
# Each test gets its own homenet: state in $T_DIR/homenet, processes named
# after HOMENET_NAME=t<pid>, so that runs in parallel never meet.

HOMENET=$SOURCE_ROOT/scripts/homenet
export HOMENET_NAME="t$$"
export HOMENET_DIR="$T_DIR/homenet"
# Seconds a wait may take (scripts/homenet's own waits and homenet_wait).
export HOMENET_TIMEOUT=${HOMENET_TIMEOUT:-20}
HOMENET_BG=0

# The addresses scripts/homenet gives each host.
HOMENET_UA_ADDR=192.168.77.2
HOMENET_DEVICE_ADDR=192.168.77.3
HOMENET_ROGUE_ADDR=192.168.77.4

# A timeout of meson's (SIGTERM) still runs the exit cleanups, so that no
# namespace or daemon outlives the test.
trap 'exit 143' TERM
trap 'exit 130' INT

# Everything the homenet needs, or a skip (a failure under CI=true).
homenet_need() {
  need_tool unshare nsenter setsid ip dbus-daemon dbus-send avahi-daemon \
    avahi-publish avahi-browse avahi-resolve getent lsns
  # (no `grep -q` in a pipe: under pipefail ldconfig's SIGPIPE would fail it)
  if [ -z "$(ldconfig -p 2>/dev/null | grep 'libnss_mdns4_minimal\.so\.2')" ]; then
    if [ "${CI:-}" = true ]; then
      echo "Bail out! libnss-mdns is missing (CI must install it)"; exit 1
    fi
    echo "1..0 # SKIP libnss-mdns is not installed"; exit 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    if [ "${CI:-}" = true ]; then
      echo "Bail out! the homenet needs root (network and mount namespaces)"; exit 1
    fi
    echo "1..0 # SKIP the homenet needs root (network and mount namespaces)"; exit 0
  fi
}

# homenet_up: the homenet, up and its three avahi-daemons running; a bail
# out (with scripts/homenet's complaint) when it cannot be made.
homenet_up() {
  homenet_need
  at_exit homenet_down
  if ! "$HOMENET" up >"$T_DIR/homenet-up.log" 2>&1; then
    echo "Bail out! scripts/homenet up failed:"
    sed 's/^/#   /' "$T_DIR/homenet-up.log"
    exit 1
  fi
}
homenet_down() { "$HOMENET" down >>"$T_DIR/homenet-down.log" 2>&1; }

# CMD in one host's network and mount namespaces (its own system bus,
# avahi-daemon and nsswitch.conf).
in_ua() { "$HOMENET" exec ua "$@"; }
in_device() { "$HOMENET" exec device "$@"; }
in_rogue() { "$HOMENET" exec rogue "$@"; }

# homenet_bg ROLE CMD...: CMD in ROLE in the background (a publisher, a
# server), killed when the test exits; its PID in HOMENET_BG_PID and its
# output in HOMENET_BG_LOG.
homenet_bg() {
  local role=$1; shift
  HOMENET_BG=$((HOMENET_BG + 1))
  HOMENET_BG_LOG=$T_DIR/bg-$HOMENET_BG-$role.log
  "$HOMENET" exec "$role" "$@" </dev/null >"$HOMENET_BG_LOG" 2>&1 &
  HOMENET_BG_PID=$!
  at_exit "kill $HOMENET_BG_PID 2>/dev/null"
}

# homenet_wait CMD...: polls CMD every 0.2 s until it succeeds; after
# HOMENET_TIMEOUT seconds it fails, showing the last attempt's output.
# Never a fixed sleep: under load an answer may take seconds.
homenet_wait() {
  local deadline=$((SECONDS + HOMENET_TIMEOUT))
  until "$@" >"$T_DIR/wait.out" 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "timed out after ${HOMENET_TIMEOUT}s waiting for: $*"
      cat "$T_DIR/wait.out"
      return 1
    fi
    sleep 0.2
  done
}
