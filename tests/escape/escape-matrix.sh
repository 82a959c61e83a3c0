#!/bin/bash
# The escape matrix without browsers (suite `escape`): every certificate of
# make-escapes.sh against every non-browser verifier settle feeds, after the
# anchors went in through `settle trust` as a user would put them in.
# Escapes must be refused (by the verifier, or by settle at ingest), controls
# accepted.  Then the pinned-peer classes past ingest: a record planted in
# the file store must stop the snapshot writer, and a peer swapped into a
# snapshot must not issue through the provider or the module.
# Columns: $BUILD_ROOT/tests/escape/results/*.tsv; the table:
# $BUILD_ROOT/tests/escape/escape-matrix.md (docs/escape-matrix.md).
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3 certutil modutil vfychain tstclnt curl certtool gnutls-cli timeout unshare
. "$SOURCE_ROOT/tests/escape/escape-lib.sh"

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
TP_MODULE=${TEST_TRUST_POLICY_MODULE:-$BUILD_ROOT/nss-module/libsettle-trust-policy.so}
export OPENSSL_MODULES="$BUILD_ROOT/provider"
preload_asan_runtime "$MODULE"
preload_asan_runtime "$OPENSSL_MODULES/settle.so"
PROV=(-provider settle -provider default)
STARTED=$(date +%s)

escape_make
escape_ingest

BUNDLE=$TRUST/bundle.pem
check "the snapshot has bundle.pem" test -s "$BUNDLE"
# GnuTLS ignores an anchor's purposes in a file, so settle gives it no
# file (docs/security.md); its columns are GnuTLS through p11-kit, with
# settle's trust-policy module as packaging/p11-kit/settle.module
# registers it ("pkcs11:" as the trust store).
check "the snapshot holds no plain-PEM bundle that GnuTLS could read" \
  bash -c "! ls '$TRUST'/*.pem | grep -v '/bundle.pem$' | xargs -r grep -l -- '-----BEGIN CERTIFICATE-----' | grep -q ."
P11KIT=$T_DIR/p11-kit-modules
p11kit_modules_dir "$P11KIT" "$TP_MODULE"
TRUST_REAL=$(readlink -f "$TRUST")

# NSS: a database with the module, as tests/nss does.
DBT=$T_DIR/nssdb
mkdir -p "$DBT"
certutil -N -d "sql:$DBT" --empty-password
check "modutil adds the module" modutil -dbdir "sql:$DBT" -add "SETTLE Local Trust" -libfile "$MODULE" -force

mkdir -p "$T_DIR/cwd"   # openssl runs here: no `settle:` file can hijack the store
cd "$T_DIR/cwd"

# What each purpose is called by each verifier.
declare -A VFY_U=([srv]=1 [cli]=0 [smime]=4 [code]=6)
declare -A CU_U=([srv]=V [cli]=C [smime]=S [code]=J)
# OpenSSL 3.0 has no code-signing purpose: "any" is what a program that
# names no purpose gets, and settle's anchors must not be trusted for it.
declare -A OSSL_P=([srv]=sslserver [cli]=sslclient [smime]=smimesign [code]=any)
declare -A GNUTLS_P=([srv]=1.3.6.1.5.5.7.3.1 [cli]=1.3.6.1.5.5.7.3.2 [smime]=1.3.6.1.5.5.7.3.4 [code]=1.3.6.1.5.5.7.3.3)

ossl_host_args() { # for openssl verify / s_client: the row's host check
  local id=$1 h=${R_HOST[$1]}
  case ${R_PURPOSE[$id]} in cli|code) return ;; esac
  case $(host_kind "$h") in
    email) echo "-verify_email $h" ;;
    ip|ip6) echo "-verify_ip $h" ;;
    *) echo "-verify_hostname $h" ;;
  esac
}
untrusted_args() { local c; for c in $(ints_of "$1"); do echo "-untrusted $P/$c.pem"; done; }

# --- offline chain verifiers ------------------------------------------------
for id in "${ROW_IDS[@]}"; do
  pur=${R_PURPOSE[$id]} leaf=${R_LEAF[$id]}
  ders=("$P/$leaf.der"); for c in $(ints_of "$id"); do ders+=("$P/$c.der"); done
  # NSS verifies the chain, not the host name: rows that escape only
  # through host-name matching are n.a. there.
  if [ "${R_FLAGS[$id]}" = hn ]; then
    for v in nss-classic nss-pkix certutil-V; do cell "$v" "$id" n.a. "checks no host name"; done
  else
    try nss-classic "$id" vfychain -d "sql:$DBT" -u "${VFY_U[$pur]}" "${ders[@]}"
    try nss-pkix "$id" vfychain -d "sql:$DBT" -pp -u "${VFY_U[$pur]}" "${ders[@]}"
    db=$T_DIR/db-$id; cp -a "$DBT" "$db"
    certutil -A -d "sql:$db" -n leaf -t ,, -i "$P/$leaf.pem"
    for c in $(ints_of "$id"); do certutil -A -d "sql:$db" -n "int-$c" -t ,, -i "$P/$c.pem"; done
    try certutil-V "$id" certutil -V -d "sql:$db" -n leaf -u "${CU_U[$pur]}"
    rm -rf "$db"
  fi
  # shellcheck disable=SC2046
  try prov-verify "$id" openssl verify "${PROV[@]}" -no-CAfile -no-CApath -CAstore settle: \
    -purpose "${OSSL_P[$pur]}" $(ossl_host_args "$id") $(untrusted_args "$id") "$P/$leaf.pem"
  try capath-verify "$id" openssl verify -no-CAfile -no-CAstore -CApath "$TRUST_REAL" \
    -purpose "${OSSL_P[$pur]}" $(ossl_host_args "$id") $(untrusted_args "$id") "$P/$leaf.pem"
  try cafile-verify "$id" openssl verify -no-CApath -no-CAstore -CAfile "$BUNDLE" \
    -purpose "${OSSL_P[$pur]}" $(ossl_host_args "$id") $(untrusted_args "$id") "$P/$leaf.pem"
  h=${R_HOST[$id]} gargs=(--verify-purpose "${GNUTLS_P[$pur]}")
  case $pur/$(host_kind "$h") in
    smime/email) gargs+=(--verify-email "$h") ;;
    srv/*) gargs+=(--verify-hostname "$h") ;;
  esac
  # certtool --verify wants the chain to end at a CA: a pinned peer given
  # alone is "issuer is not a CA" there, while gnutls-cli (the TLS path)
  # accepts it; certtool has no say on a peer as itself.
  if [ "${R_EXPECT[$id]}" = accept ] && [ "${ANCHOR_KIND[${R_ANCHOR[$id]}]:-}" = peer ]; then
    cell certtool "$id" n.a. "certtool verifies chains to a CA; a pinned peer is checked by gnutls-cli"
  else
    try certtool "$id" "${P11KIT_RUN[@]}" "$P11KIT" certtool --verify --load-ca-certificate pkcs11: \
      --infile "$P/$id.chain.pem" "${gargs[@]}"
  fi
  # S/MIME: a message signed with the leaf, verified by `openssl cms`.
  if [ "$pur" = smime ]; then
    printf 'Wire 1,000,000 to the usual account.\n' >"$T_DIR/msg.txt"
    openssl cms -sign -nodetach -binary -in "$T_DIR/msg.txt" -signer "$P/$leaf.pem" -inkey "$P/$leaf.key" \
      -outform DER -out "$T_DIR/$id.p7m" 2>/dev/null
    try prov-cms "$id" openssl cms -verify "${PROV[@]}" -inform DER -in "$T_DIR/$id.p7m" -out /dev/null \
      -no-CAfile -no-CApath -CAstore settle:
    try capath-cms "$id" openssl cms -verify -inform DER -in "$T_DIR/$id.p7m" -out /dev/null \
      -no-CAfile -no-CAstore -CApath "$TRUST_REAL"
    try cafile-cms "$id" openssl cms -verify -inform DER -in "$T_DIR/$id.p7m" -out /dev/null \
      -no-CApath -no-CAstore -CAfile "$BUNDLE"
  else
    for v in prov-cms capath-cms cafile-cms; do cell "$v" "$id" n.a. "not S/MIME"; done
  fi
done

# --- live TLS: one server per row on 127.0.0.1, the client told the host --
start_rows 127.0.0.1
for id in "${ROW_IDS[@]}"; do
  if [ "${R_PURPOSE[$id]}" != srv ]; then
    for v in nss-tstclnt prov-s_client capath-curl cafile-curl gnutls-cli; do cell "$v" "$id" n.a. "not a TLS server"; done
    continue
  fi
  h=${R_HOST[$id]} port=${PORT_OF[$id]} kind=$(host_kind "${R_HOST[$id]}")
  # NSS with its host-name check (CERT_VerifyCertName) through the module:
  # accepted when the page came through.
  # tstclnt spins after the server closes a connection it got a page on,
  # so it is stopped as soon as the page is there (or after 15 s).
  (printf 'GET / HTTP/1.0\r\n\r\n' | exec timeout 15 tstclnt -h 127.0.0.1 -p "$port" -a "$h" -d "sql:$DBT") \
    >"$T_DIR/tstclnt.out" 2>&1 &
  tpid=$!
  for _ in $(seq 150); do
    kill -0 "$tpid" 2>/dev/null || break
    grep -q '</h1>' "$T_DIR/tstclnt.out" && break
    sleep 0.1
  done
  kill "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true
  if grep -q ">$id</h1>" "$T_DIR/tstclnt.out"; then cell nss-tstclnt "$id" accepted "page received"; else
    cell nss-tstclnt "$id" refused "$(grep -Eo '[A-Z_]*ERROR[A-Z_]*' "$T_DIR/tstclnt.out" | head -1)"; fi
  sni=(); [ "$kind" = name ] && sni=(-servername "$h")
  # shellcheck disable=SC2046
  try prov-s_client "$id" openssl s_client "${PROV[@]}" -no-CAfile -no-CApath -CAstore settle: \
    -connect "127.0.0.1:$port" "${sni[@]}" $(ossl_host_args "$id") -verify_return_error -brief </dev/null
  if [ "$kind" = ip6 ]; then to="[$h]:$port:127.0.0.1:$port"; else to="$h:$port:127.0.0.1:$port"; fi
  try capath-curl "$id" curl -sS -o /dev/null --max-time 15 --capath "$TRUST_REAL" --connect-to "$to" "$(url_of "$id")"
  try cafile-curl "$id" curl -sS -o /dev/null --max-time 15 --cacert "$BUNDLE" --capath /nonexistent \
    --connect-to "$to" "$(url_of "$id")"
  gsni=(); [ "$kind" = name ] && gsni=(--sni-hostname "$h")
  try gnutls-cli "$id" "${P11KIT_RUN[@]}" "$P11KIT" gnutls-cli --x509cafile=pkcs11: --verify-hostname "$h" \
    "${gsni[@]}" -p "$port" 127.0.0.1 </dev/null
done

# --- pinned peers past ingest ---------------------------------------------
PLANTED=(nobc v3bare ca kcs nc v1 ns ip bank)
declare -A PEER_ROW=([nobc]=e-peer-nobc [v3bare]=e-peer-v3bare [ca]=e-peer-ca [kcs]=e-peer-kcs
  [nc]=e-peer-nc [v1]=e-peer-v1 [ns]=e-peer-ns [ip]=e-peer-ip [bank]=e-peer-bank)
# A record file written straight into a second file store (as an older
# settle or a hand edit would leave it), then a snapshot rewrite.
PW=$T_DIR/plant
plant_env() { SETTLE_DATA_DIR=$PW SETTLE_STORE=file:$PW/store "$@"; }
mk_ca "$T_DIR" plantbase
check "plant: a second world with one device CA" plant_env "$SETTLE" trust --ca "$T_DIR/plantbase.pem" \
  --fingerprint "$(fingerprint "$T_DIR/plantbase.pem")" --scope base.local --yes
write_record() { # write_record PEM NAME: a pinned-peer record file for PEM
  python3 - "$1" "$2" "$PW/store" <<'EOF'
import base64, hashlib, json, subprocess, sys, datetime
pem, name, store = sys.argv[1:4]
der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"], capture_output=True, check=True).stdout
end = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-enddate"], capture_output=True, text=True, check=True).stdout
end = datetime.datetime.strptime(end.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
fp = hashlib.sha256(der).hexdigest()
rec = {"format": 1, "fingerprint": fp, "kind": "pinned-peer", "label": name, "names": [name],
       "scope": [], "created": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
       "expires": end.strftime("%Y-%m-%dT%H:%M:%SZ"), "consent": "flag", "role": None,
       "anchor_der": base64.b64encode(der).decode(), "wrapper_root_der": None, "cross_der": None}
path = "%s/%s.json" % (store, fp)
json.dump(rec, open(path, "w"), indent=2)
print(path)
EOF
}
for p in "${PLANTED[@]}"; do
  id=${PEER_ROW[$p]}
  name=$(openssl x509 -in "$P/peer-$p.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
  file=$(write_record "$P/peer-$p.pem" "$name")
  chmod 0600 "$file"
  link_before=$(readlink "$PW/trust") index_before=$(sha256sum <"$PW/trust/index.cbor")
  mk_ca "$T_DIR" "trig-$p"
  rc=0
  t_run plant_env "$SETTLE" trust --ca "$T_DIR/trig-$p.pem" --fingerprint "$(fingerprint "$T_DIR/trig-$p.pem")" \
    --scope "trig-$p.local" --yes || rc=$?
  published=no
  grep -qF "$(openssl x509 -in "$P/peer-$p.pem" -outform DER | base64 -w64 | sed -n 2p)" "$PW/trust/bundle.pem" 2>/dev/null && published=yes
  if [ "$rc" -ne 0 ] && grep -q "could vouch for more than its scope" "$T_DIR/last.out" &&
     [ "$(readlink "$PW/trust")" = "$link_before" ] && [ "$(sha256sum <"$PW/trust/index.cbor")" = "$index_before" ]; then
    cell plant "$id" refused:publish-refused "$(tail -1 "$T_DIR/last.out")"
  elif [ "$published" = no ] && [ "$rc" -ne 0 ] && [ "$p" != ip ] && [ "$p" != bank ]; then
    # A peer that could issue: the writer's own refusal is the expected one.
    cell plant "$id" error "not published, but not with the writer's refusal: $(tail -1 "$T_DIR/last.out")"
  elif [ "$published" = no ] && [ "$rc" -ne 0 ]; then
    cell plant "$id" refused:publish-refused "$(tail -1 "$T_DIR/last.out")"
  elif [ "$published" = no ]; then
    cell plant "$id" refused:set-aside "record set aside, snapshot written without it"
  else
    cell plant "$id" accepted "published (rc $rc): $(tail -1 "$T_DIR/last.out")"
  fi
  rm -f "$file"
done
for id in "${ROW_IDS[@]}"; do grep -q "^$id	" "$T_DIR/cells-plant.tsv" || cell plant "$id" n.a. "not a peer class"; done

# A snapshot written by settle with the proper peer, whose entry an
# attacker then swaps for a peer that could issue (sprov-tamper keeps
# the role, scope and names, and makes every derived field match the new
# certificate): the provider and the module must not let the swapped
# certificate issue the minted leaf.
TAMPER=$BUILD_ROOT/tests/provider/sprov-tamper
peer_index=$(openssl storeutl "${PROV[@]}" -noout -text -certs settle:// 2>/dev/null |
  awk '/^[0-9]+: Certificate/ { n = $1 + 0 } /Subject:.*CN *= *nas\.local/ { print n; exit }')
check "tamper: the proper peer's entry is found in the snapshot (entry '$peer_index')" test -n "$peer_index"
for p in nobc v3bare ca kcs nc v1 ns; do
  id=${PEER_ROW[$p]} td=$T_DIR/tampered-$p
  cp -rL "$TRUST_REAL" "$td"
  if ! "$TAMPER" "$td/index.cbor" "$peer_index" "$P/peer-$p.der" >"$T_DIR/tamper.out" 2>&1; then
    fail "tamper: sprov-tamper swaps peer-$p in"; sed 's/^/#   /' "$T_DIR/tamper.out"; continue
  fi
  # Fail-closed either way; said, not asserted: does the module serve the
  # rest of a snapshot with one bad entry, or nothing at all?
  if SETTLE_TRUST_DIR=$td vfychain -d "sql:$DBT" -u 1 "$P/c-printer.der" >/dev/null 2>&1; then
    nss_serves="the module serves the other anchors"
  else
    nss_serves="the module serves no anchors"
  fi
  echo "# tamper peer-$p: $nss_serves"
  # Fail-closed either way; said, not asserted: does the provider keep
  # serving the other anchors of a snapshot with one bad entry?
  if openssl verify "${PROV[@]}" -no-CAfile -no-CApath -CAstore "settle://?dir=$td" -purpose sslserver \
       "$P/c-printer.pem" >/dev/null 2>&1; then
    echo "# tamper peer-$p: the provider still serves the other anchors"
  else
    echo "# tamper peer-$p: the provider refuses the whole snapshot"
  fi
  try tamper-prov "$id" openssl verify "${PROV[@]}" -no-CAfile -no-CApath -CAstore "settle://?dir=$td" \
    -purpose sslserver -verify_hostname bank.example "$P/e-minted-$p.pem"
  # classic and libpkix: accepted if either accepts.
  if SETTLE_TRUST_DIR=$td timeout 20 vfychain -d "sql:$DBT" -u 1 "$P/e-minted-$p.der" >"$T_DIR/try.out" 2>&1 ||
     SETTLE_TRUST_DIR=$td timeout 20 vfychain -d "sql:$DBT" -pp -u 1 "$P/e-minted-$p.der" >>"$T_DIR/try.out" 2>&1; then
    cell tamper-nss "$id" accepted "$(tail -1 "$T_DIR/try.out")"
  else
    cell tamper-nss "$id" refused "$nss_serves; $(grep -v '^ *$' "$T_DIR/try.out" | grep -v '^settle-pkcs11:' | tail -1)"
  fi
done
# The control of the tamper columns: the untouched copy lets the proper
# peer verify as itself through both.
try tamper-prov c-peer openssl verify "${PROV[@]}" -no-CAfile -no-CApath -CAstore "settle://?dir=$TRUST_REAL" \
  -purpose sslserver -verify_hostname nas.local "$P/peer-ok.pem"
SETTLE_TRUST_DIR=$TRUST_REAL try tamper-nss c-peer vfychain -d "sql:$DBT" -u 1 "$P/peer-ok.der"
for v in tamper-prov tamper-nss; do
  for id in "${ROW_IDS[@]}"; do grep -q "^$id	" "$T_DIR/cells-$v.tsv" || cell "$v" "$id" n.a. "not a peer class"; done
done

for v in nss-classic nss-pkix certutil-V nss-tstclnt prov-verify prov-cms prov-s_client capath-verify capath-cms \
         capath-curl cafile-verify cafile-cms cafile-curl certtool gnutls-cli plant tamper-prov tamper-nss; do
  case $v in plant|tamper-*) judge "$v" past-ingest ;; *) judge "$v" ;; esac
done
check "the snapshot the verifiers used is still the one settle wrote" test "$(readlink -f "$TRUST")" = "$TRUST_REAL"
write_matrix
echo "# rows: ${#ROW_IDS[@]}, run time $(( $(date +%s) - STARTED )) s"
done_testing
