#!/bin/bash
# The escape matrix in the browsers (suite `browsers`): every TLS-server row
# of make-escapes.sh served on its own port, loaded in ONE headless Chromium
# and ONE Firefox ESR that see settle's anchors only through the PKCS#11
# module (settle install).  Escapes must end in a certificate error with no
# request past the handshake; controls must load.
#
# The IP rows need the browser to connect to that address, so the test
# runs in a private network namespace (unshare -n) whose loopback also
# carries 8.8.8.8, 192.168.1.20 and 2001:db8::1, as browser-scope.sh does.
# npm ci needs the network: browser-lib.sh installs the driver first, in a
# throwaway subshell outside the namespace (inside, it finds it installed).
if [ -z "${SETTLE_IN_NETNS:-}" ]; then
  ( . "$SOURCE_ROOT/tests/lib.sh"; . "$SOURCE_ROOT/tests/browsers/browser-lib.sh" ) >/dev/null 2>&1 || true
fi
if [ -z "${SETTLE_IN_NETNS:-}" ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
  exec env SETTLE_IN_NETNS=1 unshare -n bash "$0" "$@"
fi
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"
. "$SOURCE_ROOT/tests/escape/escape-lib.sh"
STARTED=$(date +%s)

BIND=127.0.0.1
if [ -n "${SETTLE_IN_NETNS:-}" ]; then
  ip link set lo up && ip addr add 8.8.8.8/32 dev lo && ip addr add 192.168.1.20/32 dev lo &&
    ip -6 addr add 2001:db8::1/128 dev lo nodad && BIND=::
  echo "# private network namespace: lo carries $(ip -br addr show lo | cut -c34- | tr -s ' ')"
elif [ "${CI:-}" = true ]; then
  echo "Bail out! no private network namespace (unshare -n was refused): the IP rows cannot run"
  exit 1
else
  echo "# no private network namespace: the IP rows are n.a."
fi

escape_make
escape_ingest
setup_chromium_nssdb
setup_firefox_profile
start_rows "$BIND"

# The names the browsers resolve to loopback; addresses are reached as they are.
names=()
for id in "${ROW_IDS[@]}"; do
  [ "${R_PURPOSE[$id]}" = srv ] && [ "${R_FLAGS[$id]}" != nob ] &&
    [ "$(host_kind "${R_HOST[$id]}")" = name ] && names+=("${R_HOST[$id]}")
done
TAMPERED=(nobc v3bare ca kcs nc v1 ns)
for p in "${TAMPERED[@]}"; do names+=("tamper-$p.local" "tgood-$p.local"); done
names+=(tgood-clean.local)
MAP=$(printf '%s\n' "${names[@]}" | sort -u | paste -sd, -)
start_browser chromium "$MAP"
start_browser firefox "$MAP"

for id in "${ROW_IDS[@]}"; do
  why=
  [ "${R_PURPOSE[$id]}" = srv ] || why="not a TLS server"
  [ "${R_FLAGS[$id]}" = nob ] && why="no URL reaches host ${R_HOST[$id]}"
  if [ "$BIND" != :: ] && [ "$(host_kind "${R_HOST[$id]}")" != name ]; then why="needs a network namespace"; fi
  if [ -n "$why" ]; then
    for b in chromium firefox; do cell "$b" "$id" n.a. "$why"; done
    continue
  fi
  url=$(url_of "$id")
  for b in chromium firefox; do browse_send "$b" "$url"; done
  for b in chromium firefox; do
    browse_recv "$b"
    case $R_OUTCOME in
      loaded) if [ "$R_TEXT" = "$id" ]; then cell "$b" "$id" accepted "$R_DETAIL"; else
                cell "$b" "$id" error "loaded another page: '$R_TEXT'"; fi ;;
      cert-error) cell "$b" "$id" refused "$R_DETAIL" ;;
      *) cell "$b" "$id" error "$R_OUTCOME: $R_DETAIL" ;;
    esac
  done
done
# Issue 12 finding 1 in the browsers, past ingest: an attacker who can
# write the snapshot swaps the proper peer's entry for one that could issue
# (sprov-tamper: every derived field made to match) and moves the `trust`
# link to it while the browsers run.  First a swap with nothing bad in it
# (the second peer entry becomes a fresh proper peer, which must load)
# shows that the running browsers do read a moved `trust` link.  In each
# tampered snapshot that second entry is swapped too: whether it loads then
# says whether the module served the tampered snapshot or no anchors at all
# (both fail closed; the leaf minted with the bad peer's key must not load).
export OPENSSL_MODULES="$BUILD_ROOT/provider"
preload_asan_runtime "$OPENSSL_MODULES/settle.so"
entry_of() { # entry_of CN: index of the snapshot entry with that subject CN
  openssl storeutl -provider settle -provider default -noout -text -certs settle:// 2>/dev/null |
    awk -v cn="$1" '/^[0-9]+: Certificate/ { n = $1 + 0 } $0 ~ "Subject:.*CN *= *" cn "$" { print n; exit }'
}
BAD_AT=$(entry_of 'nas\\.local') GOOD_AT=$(entry_of 'ok2\\.local')
check "tamper: the two peer entries are found (nas.local at '$BAD_AT', ok2.local at '$GOOD_AT')" \
  test -n "$BAD_AT" -a -n "$GOOD_AT"
DATA=$XDG_DATA_HOME/settle
ORIGINAL=$(readlink "$DATA/trust")
specs=("t-good-clean:$P/t-good-clean.pem:$P/t-good-clean.key:")
for p in "${TAMPERED[@]}"; do
  specs+=("t-minted-$p:$P/t-minted-$p.pem:$P/t-minted-$p.key:$P/peer-$p.pem" "t-good-$p:$P/t-good-$p.pem:$P/t-good-$p.key:")
done
python3 "$E_SRC/escape-server.py" --bind "$BIND" "${specs[@]}" >"$T_DIR/tamper-servers.log" 2>&1 &
at_exit "kill $! 2>/dev/null"
for _ in $(seq 200); do grep -q '^ready$' "$T_DIR/tamper-servers.log" && break; sleep 0.1; done
while read -r _ id port; do PORT_OF[$id]=$port; done < <(grep '^listening ' "$T_DIR/tamper-servers.log")
swap_to() { ln -sfn "snapshots/$1" "$DATA/.trust.tamper" && mv -T "$DATA/.trust.tamper" "$DATA/trust"; sleep 1; }
cp -rL "$DATA/$ORIGINAL" "$DATA/snapshots/swapped-clean"
if "$BUILD_ROOT/tests/provider/sprov-tamper" "$DATA/snapshots/swapped-clean/index.cbor" "$GOOD_AT" "$P/t-good-clean.der"; then
  swap_to swapped-clean
  expect_loaded "chromium firefox" "https://tgood-clean.local:${PORT_OF[t-good-clean]}/" t-good-clean \
    "tamper: the running browser reads a moved trust link (a proper peer swapped in loads)"
else
  fail "tamper: sprov-tamper rewrites swapped-clean"
fi
for p in "${TAMPERED[@]}"; do
  id=e-peer-$p gen=$DATA/snapshots/tampered-$p
  cp -rL "$DATA/$ORIGINAL" "$gen"
  if ! "$BUILD_ROOT/tests/provider/sprov-tamper" "$gen/index.cbor" "$BAD_AT" "$P/peer-$p.der" ||
     ! "$BUILD_ROOT/tests/provider/sprov-tamper" "$gen/index.cbor" "$GOOD_AT" "$P/t-good-$p.der"; then
    fail "tamper: sprov-tamper rewrites $gen"; continue
  fi
  swap_to "tampered-$p"   # the module looks for a new snapshot at most every 100 ms
  served=()
  for b in chromium firefox; do browse_send "$b" "https://tgood-$p.local:${PORT_OF[t-good-$p]}/"; done
  for b in chromium firefox; do
    browse_recv "$b"
    if [ "$R_OUTCOME" = loaded ]; then served+=("$b: the module served the tampered snapshot")
    else served+=("$b: the module served no anchors ($R_DETAIL)"); fi
  done
  echo "# tamper $p: ${served[*]}"
  for b in chromium firefox; do browse_send "$b" "https://tamper-$p.local:${PORT_OF[t-minted-$p]}/"; done
  for b in chromium firefox; do
    browse_recv "$b"
    case $R_OUTCOME in
      loaded) cell "tamper-$b" "$id" accepted "$R_DETAIL" ;;
      cert-error) cell "tamper-$b" "$id" refused "$R_DETAIL" ;;
      *) cell "tamper-$b" "$id" error "$R_OUTCOME: $R_DETAIL" ;;
    esac
  done
done
swap_to "${ORIGINAL#snapshots/}"
for b in chromium firefox; do
  for id in "${ROW_IDS[@]}"; do
    grep -q "^$id	" "$T_DIR/cells-tamper-$b.tsv" || cell "tamper-$b" "$id" n.a. "not a peer class"
  done
done
stop_browser chromium
stop_browser firefox

for b in chromium firefox; do judge "$b"; judge "tamper-$b" past-ingest; done
# The servers' own witness: no escape got a request past the handshake.
leaked=()
for id in "${ROW_IDS[@]}"; do
  [ "${R_EXPECT[$id]}" = refuse ] && grep -q "^$id GET " "$T_DIR/servers.log" && leaked+=("$id")
done
check "no escape row's server saw a request past the TLS handshake${leaked:+ (got: ${leaked[*]})}" \
  test "${#leaked[@]}" -eq 0
write_matrix
echo "# run time $(( $(date +%s) - STARTED )) s"
done_testing
