# provider-lib.sh: what both provider tests share.  Source after lib.sh.

need_tool openssl
# settle.so is found by name in OPENSSL_MODULES (as settle.cnf documents).
export OPENSSL_MODULES="$BUILD_ROOT/provider"
PROV=(-provider settle -provider default)
# Under -Db_sanitize=address the module needs the sanitizer runtime loaded
# first in the (uninstrumented) openssl and python3 processes
# (tests/lib.sh: preload_asan_runtime).  Leaks are those of the host
# programs (python3 keeps its objects at exit).
preload_asan_runtime "$OPENSSL_MODULES/settle.so"
TRUST_DIR="$XDG_DATA_HOME/settle/trust"

# The device PKI: a device CA and leaves in and out of its scope.
make_device_pki() {
  mk_ca "$T_DIR" printer
  mk_leaf "$T_DIR" printer leaf "DNS:printer.local"
  mk_leaf "$T_DIR" printer bank "DNS:bank.example"
  mk_leaf "$T_DIR" printer ip "IP:127.0.0.1"
  mk_leaf "$T_DIR" printer mixed "DNS:printer.local,DNS:bank.example"
}

# trust_ca NAME SCOPE: `settle trust` with the out-of-band fingerprint.
trust_ca() {
  "$SETTLE" trust --ca "$T_DIR/$1.pem" --fingerprint "$(fingerprint "$T_DIR/$1.pem")" \
    --scope "$2" --yes
}

# found_count URI: the number storeutl reports for the store.
found_count() {
  openssl storeutl "${PROV[@]}" -certs "$@" 2>&1 | sed -n 's/^Total found: //p'
}
# expect_count N ARGS...: storeutl finds exactly N certificates.
expect_count() {
  local want=$1; shift
  local got
  got=$(found_count "$@")
  echo "storeutl $*: found '$got', expected $want"
  [ "$got" = "$want" ]
}
