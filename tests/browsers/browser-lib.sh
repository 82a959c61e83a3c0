# tests/browsers/browser-lib.sh: shared helpers of the browser tests.
# Source it after tests/lib.sh:
#   . "$SOURCE_ROOT/tests/lib.sh"; . "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
#
# Gives: the npm driver installed once in the build tree (npm ci, offline
# when the lock file has not changed), throwaway HTTPS servers that log what
# the browser did (https-server.py), and long-running headless browsers
# driven line by line (driver.mjs), so that a test can change the trust
# store between page loads while the same browser process keeps running.

need_tool node npm python3 openssl certutil modutil chromium firefox-esr flock

B_SRC=$SOURCE_ROOT/tests/browsers
B_BUILD=$BUILD_ROOT/tests/browsers
B_NPM=$B_BUILD/npm
B_ART=$B_BUILD/artefacts/$T_NAME
MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
B_TIMEOUT=${BROWSER_TIMEOUT:-60}
mkdir -p "$B_NPM" "$B_ART"
rm -f "$B_ART"/*.png "$B_ART"/*.log

# puppeteer-core from package-lock.json, never a browser download.  npm ci
# runs only when the lock file differs from the one last installed, so a
# machine without network reuses node_modules; its cache lives in the build
# tree, not in the test's private HOME.
npm_ready() {
  (
    flock -w 600 9 || { echo "# npm lock busy"; exit 1; }
    cp "$B_SRC/driver.mjs" "$B_NPM/driver.mjs"
    if [ -d "$B_NPM/node_modules/puppeteer-core" ] &&
       cmp -s "$B_SRC/package-lock.json" "$B_NPM/installed-lock.json"; then
      exit 0
    fi
    cp "$B_SRC/package.json" "$B_SRC/package-lock.json" "$B_NPM/"
    echo "# npm ci in $B_NPM"
    if ! (cd "$B_NPM" && PUPPETEER_SKIP_DOWNLOAD=1 npm_config_cache="$B_BUILD/npm-cache" \
          npm_config_update_notifier=false timeout 600 npm ci --no-audit --no-fund) \
          >"$B_BUILD/npm-ci.log" 2>&1; then
      sed 's/^/#   /' "$B_BUILD/npm-ci.log"
      exit 1
    fi
    cp "$B_SRC/package-lock.json" "$B_NPM/installed-lock.json"
  ) 9>"$B_BUILD/npm.lock"
}
if ! npm_ready; then
  echo "Bail out! npm ci failed (see $B_BUILD/npm-ci.log)"
  exit 1
fi

# wait_for FILE PATTERN [TENTHS]: polls until FILE holds PATTERN (ERE).
wait_for() {
  local file=$1 pattern=$2 n=${3:-100} i
  for ((i = 0; i < n; i++)); do
    grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start_server ID CERT KEY CHAIN|- [BIND]: an HTTPS server presenting CERT
# (and CHAIN after it) on a fresh port; sets PORT and logs to
# $T_DIR/srv-ID.log (handshake-ok / handshake-failed / GET lines).
start_server() {
  local id=$1 cert=$2 key=$3 chain=$4 bind=${5:-127.0.0.1}
  local log=$T_DIR/srv-$id.log
  local args=(--cert "$cert" --key "$key" --bind "$bind" --title "${TITLE:-$id}")
  [ "$chain" != - ] && args+=(--chain "$chain")
  python3 "$B_SRC/https-server.py" "${args[@]}" >"$log" 2>&1 &
  local pid=$!
  at_exit "kill $pid 2>/dev/null"
  if ! wait_for "$log" '^listening on ' 100; then
    echo "Bail out! the HTTPS server $id did not start"; cat "$log"; exit 1
  fi
  PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$log")
}
# served ID: the server got a request past the TLS handshake.
served() { grep -q '^GET /$' "$T_DIR/srv-$1.log"; }

# Browser profiles.  Chromium reads the NSS database in $HOME (the legacy
# ~/.pki/nssdb, which it uses when it exists); Firefox one per profile,
# found by `settle install --firefox` through profiles.ini.
setup_chromium_nssdb() {
  mkdir -p "$HOME/.pki/nssdb"
  certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password
  "$SETTLE" install --nssdb "sql:$HOME/.pki/nssdb" >"$T_DIR/install-chromium.out"
}
setup_firefox_profile() {
  FF_PROFILE=$HOME/.mozilla/firefox/settle-test.default
  mkdir -p "$FF_PROFILE"
  certutil -N -d "sql:$FF_PROFILE" --empty-password
  printf '[Profile0]\nName=settle-test\nIsRelative=1\nPath=settle-test.default\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n' \
    >"$HOME/.mozilla/firefox/profiles.ini"
  "$SETTLE" install --firefox >"$T_DIR/install-firefox.out"
}

# start_browser B MAP [PROFILE] [ENV...]: starts the driver for B
# (chromium|firefox, or chromium_SUFFIX|firefox_SUFFIX for a second one) with the comma-separated names MAP resolved to
# 127.0.0.1.  Requests go through the fifo fd B_IN_<B>, answers come
# back on B_OUT_<B>.
start_browser() {
  local b=$1 map=$2 profile=${3:-}
  shift $(($# < 3 ? $# : 3))
  if [ -z "$profile" ]; then
    if [ "${b%%_*}" = firefox ]; then profile=$FF_PROFILE; else profile=$T_DIR/chromium-profile; fi
  fi
  mkdir -p "$profile"
  local in=$T_DIR/$b.in out=$T_DIR/$b.out
  rm -f "$in" "$out"; mkfifo "$in" "$out"
  env "$@" node "$B_NPM/driver.mjs" --browser "${b%%_*}" --profile "$profile" --map "$map" \
    <"$in" >"$out" 2>"$B_ART/$b-driver.log" &
  local pid=$!
  # SIGTERM makes puppeteer kill the browser's process group, then the
  # driver exits; wait for that, so no browser outlives the test.
  at_exit "kill $pid 2>/dev/null; for _ in \$(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done"
  eval "exec {B_IN_$b}>\"$in\"; exec {B_OUT_$b}<\"$out\""
  local fd_out line
  eval "fd_out=\$B_OUT_$b"
  if ! read -r -t 90 -u "$fd_out" line || [ "${line%%$'\t'*}" != ready ]; then
    echo "Bail out! $b did not start: ${line:-no answer}"; sed 's/^/#   /' "$B_ART/$b-driver.log"; exit 1
  fi
  echo "# $b: ${line#*$'\t'}"
}
stop_browser() {
  local b=$1 fd_in
  eval "fd_in=\$B_IN_$b"
  printf '{"op":"quit"}\n' >&"$fd_in" 2>/dev/null || true
  eval "exec {B_IN_$b}>&-; exec {B_OUT_$b}<&-"
}

# browse_send B URL [SHOT] then browse_recv B: loads URL in a new tab of
# the running browser B; browse_recv sets R_OUTCOME (loaded, cert-error,
# net-error, timeout, error), R_DETAIL (error code, or what the browser says
# about the connection) and R_TEXT (the page's heading).  Sending to both
# browsers before reading lets them work at the same time.
browse_send() {
  local b=$1 url=$2 shot=${3:-} fd_in req
  eval "fd_in=\$B_IN_$b"
  req=$(printf '{"op":"open","url":"%s"' "$url")
  [ -n "$shot" ] && req+=$(printf ',"shot":"%s"' "$shot")
  printf '%s}\n' "$req" >&"$fd_in"
  eval "B_URL_$b=\$url"
}
browse_recv() {
  local b=$1 fd_out line url
  eval "fd_out=\$B_OUT_$b; url=\$B_URL_$b"
  if ! read -r -t "$B_TIMEOUT" -u "$fd_out" line; then
    R_OUTCOME=timeout R_DETAIL="no answer in ${B_TIMEOUT}s" R_TEXT=-
  else
    IFS=$'\t' read -r _ R_OUTCOME R_DETAIL R_TEXT <<<"$line"
  fi
  echo "$(date +%T.%N | cut -c1-12) $b $url -> $R_OUTCOME ${R_DETAIL} ${R_TEXT}" >>"$B_ART/browse.log"
}
browse() { browse_send "$@"; browse_recv "$1"; }

# expect_loaded "B..." URL HEADING DESC [SHOT_PREFIX]: every browser in the
# list loads URL with no certificate error and shows HEADING (screenshot
# SHOT_PREFIX-B.png if given).  expect_refused "B..." URL DESC [CODEVAR]:
# every browser refuses the certificate; with CODEVAR, only with the code
# in ${CODEVAR}_B (an ERE).
expect_loaded() {
  local bs=$1 url=$2 heading=$3 desc=$4 shot=${5:-} b
  for b in $bs; do browse_send "$b" "$url" "${shot:+$shot-$b.png}"; done
  for b in $bs; do
    browse_recv "$b"
    if [ "$R_OUTCOME" = loaded ] && [ "$R_TEXT" = "$heading" ]; then
      pass "$b: $desc"
      echo "#   $R_DETAIL"
    else
      fail "$b: $desc (got $R_OUTCOME: $R_DETAIL; heading '$R_TEXT')"
    fi
  done
}
expect_refused() {
  local bs=$1 url=$2 desc=$3 codevar=${4:-} b codes
  for b in $bs; do browse_send "$b" "$url"; done
  for b in $bs; do
    browse_recv "$b"
    codes='.*'
    [ -n "$codevar" ] && eval "codes=\${${codevar}_${b%%_*}}"
    if [ "$R_OUTCOME" = cert-error ] && [[ $R_DETAIL =~ ^($codes)$ ]]; then
      pass "$b: $desc ($R_DETAIL)"
    else
      fail "$b: $desc (expected a certificate error${codevar:+ $codes}, got $R_OUTCOME: $R_DETAIL)"
    fi
  done
}
# The error each browser gives for a name outside the constraints.
NC_chromium=ERR_CERT_INVALID
NC_firefox=SEC_ERROR_CERT_NOT_IN_NAME_SPACE
# ... and for a certificate no trusted anchor vouches for.
UNTRUSTED_chromium=ERR_CERT_AUTHORITY_INVALID
UNTRUSTED_firefox='SEC_ERROR_UNKNOWN_ISSUER|MOZILLA_PKIX_ERROR_SELF_SIGNED_CERT|SEC_ERROR_UNTRUSTED_ISSUER'

# mk_self NAME SAN: a self-signed end-entity certificate (a device without
# a CA): $P/NAME.{key,pem}.
mk_self() {
  local name=$1 san=$2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$P/$name.key" -out "$P/$name.pem" -days 30 -subj "/CN=${san#DNS:}" \
    -addext "subjectAltName=$san" -addext basicConstraints=critical,CA:FALSE \
    -addext extendedKeyUsage=serverAuth -addext keyUsage=critical,digitalSignature 2>/dev/null
}

# Client identities.  A paired device asks every client for the
# certificate its client CA issued; with the module's identity slot the
# browsers then hold one, and would show a selection dialog that headless
# browsers cannot answer.  allow_client_auth PORT ISSUER_CN writes
# Chromium's AutoSelectCertificateForUrls policy for
# https://printer.local:PORT (root: Chromium reads policies only from
# /etc/chromium/policies/managed; removed at exit); start the browsers
# with SETTLE_DRIVER_CLIENT_AUTH=1 so that Firefox selects by itself.
allow_client_auth() {
  local port=$1 issuer=$2 dir=/etc/chromium/policies/managed
  local policy=$dir/settle-test-$$.json
  if ! mkdir -p "$dir" 2>/dev/null || ! touch "$policy" 2>/dev/null; then
    if [ "${CI:-}" = true ]; then echo "Bail out! cannot write $policy (CI runs as root)"; exit 1; fi
    echo "1..0 # SKIP writing a Chromium policy needs root"; exit 0
  fi
  at_exit "rm -f '$policy'"
  printf '{"AutoSelectCertificateForUrls": ["{\\"pattern\\":\\"https://printer.local:%s\\",\\"filter\\":{\\"ISSUER\\":{\\"CN\\":\\"%s\\"}}}"]}\n' \
    "$port" "$issuer" >"$policy"
  sed 's/^/# policy: /' "$policy"
}
# identity_issuer_cn: the issuer CN of printer.local's client certificate
# in the module's identity slot, as Chromium sees it: through whichever of
# Chromium's NSS databases settle registered the module in (Chromium 156
# reads $XDG_DATA_HOME/pki/nssdb when it exists, older ones ~/.pki/nssdb).
identity_issuer_cn() {
  local db
  for db in "${XDG_DATA_HOME:-$HOME/.local/share}/pki/nssdb" "$HOME/.pki/nssdb"; do
    [ -f "$db/pkcs11.txt" ] || continue
    certutil -L -d "sql:$db" -h "SETTLE Device Identities" \
      -n "SETTLE Device Identities:printer.local (client)" 2>/dev/null |
      sed -n 's/^ *Issuer: "CN=\([^,]*\),.*/\1/p'
  done | head -1
}

# browse_json B JSON: sends one request of driver.mjs (fetch, form, grant)
# to the running browser B and reads its answer into R_OUTCOME, R_DETAIL,
# R_TEXT.
browse_json() {
  local b=$1 fd_in fd_out line
  eval "fd_in=\$B_IN_$b; fd_out=\$B_OUT_$b"
  printf '%s\n' "$2" >&"$fd_in"
  if ! read -r -t "$B_TIMEOUT" -u "$fd_out" line; then
    R_OUTCOME=timeout R_DETAIL="no answer in ${B_TIMEOUT}s" R_TEXT=-
  else
    IFS=$'\t' read -r _ R_OUTCOME R_DETAIL R_TEXT <<<"$line"
  fi
  echo "$(date +%T.%N | cut -c1-12) $b $2 -> $R_OUTCOME ${R_DETAIL} ${R_TEXT}" >>"$B_ART/browse.log"
}

# firefox_profiles_ini: the profiles.ini Firefox made on its first start
# (Firefox ESR 153 makes it under $XDG_CONFIG_HOME, older ones under
# ~/.mozilla), or nothing.
firefox_profiles_ini() {
  ls "${XDG_CONFIG_HOME:-$HOME/.config}/mozilla/firefox/profiles.ini" "$HOME/.mozilla/firefox/profiles.ini" \
    2>/dev/null | head -n 1 || true
}
# firefox_default_profile INI: the profile directory this installation
# uses, the [Install...] group's Default (Firefox also lists an unused
# "default" profile with Default=1), or nothing.
firefox_default_profile() {
  python3 - "$1" <<'PY'
import configparser, os, sys
ini = configparser.ConfigParser()
ini.read(sys.argv[1])
base = os.path.dirname(sys.argv[1])
installs = [s for s in ini.sections() if s.startswith("Install") and ini[s].get("Default")]
if installs:
    print(os.path.join(base, ini[installs[0]]["Default"]))
PY
}
