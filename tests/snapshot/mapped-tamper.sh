#!/bin/bash
# The mapped snapshot (index.snap) altered outside settle, by an attacker
# careful enough to keep it self-consistent: a root swapped for an
# unconstrained CA in index.cbor (sprov-tamper) and index.snap re-encoded
# for the result (snapshot-remap), checksums and all.  The readers then
# take the mapped path, where each entry is checked against the scope rule
# when it is first served: the PKCS#11 module (through NSS's vfychain and
# certutil) and the OpenSSL provider must refuse it.  A damaged record
# must be refused too, and an untouched mapped copy keeps working.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl certutil modutil vfychain

MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
REMAP=$BUILD_ROOT/tests/snapshot/snapshot-remap
TAMPER=$BUILD_ROOT/tests/provider/sprov-tamper
export OPENSSL_MODULES="$BUILD_ROOT/provider"
preload_asan_runtime "$MODULE"
P=$T_DIR/pki
DB=$T_DIR/nssdb
mkdir -p "$P" "$DB"

mk_ca "$P" dev
mk_leaf "$P" dev printer "DNS:printer.local"
openssl x509 -in "$P/printer.pem" -outform DER -out "$P/printer.der"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -keyout "$P/rogue.key" \
  -out "$P/rogue.pem" -subj "/CN=rogue CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl x509 -in "$P/rogue.pem" -outform DER -out "$P/rogue.der"
mk_leaf "$P" rogue roguebank "DNS:bank.example"
openssl x509 -in "$P/roguebank.pem" -outform DER -out "$P/roguebank.der"

check "settle trust wraps the device CA" \
  "$SETTLE" trust --ca "$P/dev.pem" --fingerprint "$(fingerprint "$P/dev.pem")" --scope printer.local --yes
TRUST=$XDG_DATA_HOME/settle/trust
check "the generation holds index.snap beside index.cbor" test -s "$TRUST/index.snap" -a -s "$TRUST/index.cbor"
check "readers use index.snap" test "$("$REMAP" --kind "$TRUST")" = mapped

certutil -N -d "sql:$DB" --empty-password
modutil -dbdir "sql:$DB" -add "SETTLE Local Trust" -libfile "$MODULE" -force >/dev/null 2>&1
provider_verify() { # DIR LEAF.pem HOST
  openssl verify -provider settle -provider default -no-CAfile -no-CApath -CAstore "settle://?dir=$1" \
    -purpose sslserver -verify_hostname "$3" "$2"
}

# Control: an untouched copy, re-bound to its copied index.cbor, is mapped and serves.
CLEAN=$T_DIR/clean
cp -rL "$TRUST" "$CLEAN"
check "a copy (new mtimes) falls back to index.cbor" test "$("$REMAP" --kind "$CLEAN")" = cbor
check "snapshot-remap binds index.snap to the copy" "$REMAP" "$CLEAN"
check "the copy is read mapped" test "$("$REMAP" --kind "$CLEAN")" = mapped
check "vfychain accepts printer.local through the mapped copy" \
  env SETTLE_TRUST_DIR="$CLEAN" vfychain -d "sql:$DB" -pp -u 1 "$P/printer.der"
check "the provider accepts printer.local through the mapped copy" provider_verify "$CLEAN" "$P/printer.pem" printer.local

# The careful attacker.
TAMPERED=$T_DIR/tampered
cp -rL "$TRUST" "$TAMPERED"
check "the tamper tool swaps the wrapper root for an unconstrained CA" \
  "$TAMPER" "$TAMPERED/index.cbor" 0 "$P/rogue.der"
check "snapshot-remap re-encodes index.snap for the tampered index" "$REMAP" "$TAMPERED"
check "the tampered snapshot is read mapped" test "$("$REMAP" --kind "$TAMPERED")" = mapped
check_fails "vfychain refuses the rogue CA's bank.example through the tampered mapped token" \
  "Chain is bad|not trusted|Issuer|issuer" \
  env SETTLE_TRUST_DIR="$TAMPERED" vfychain -d "sql:$DB" -pp -u 1 "$P/roguebank.der"
check "the module says why it serves no more" bash -c \
  "SETTLE_TRUST_DIR='$TAMPERED' certutil -L -d 'sql:$DB' -h all 2>&1 >/dev/null | grep -q 'altered outside settle.*nameConstraints'"
check "and the tampered token lists no certificate" bash -c \
  "! SETTLE_TRUST_DIR='$TAMPERED' certutil -L -d 'sql:$DB' -h all 2>/dev/null | grep -q 'SETTLE Local Trust:'"
check_fails "the provider refuses the swapped root" "snapshot entry refused.*nameConstraints" \
  provider_verify "$TAMPERED" "$P/roguebank.pem" bank.example

# A damaged record (no attacker care): refused by the reader itself.
DAMAGED=$T_DIR/damaged
cp -rL "$CLEAN" "$DAMAGED"
"$REMAP" "$DAMAGED"
size=$(stat -c %s "$DAMAGED/index.snap")
printf '\x00' | env -u LD_PRELOAD dd of="$DAMAGED/index.snap" bs=1 seek=$((size - 300)) conv=notrunc status=none
check "the damaged snapshot is still read mapped (its header is sound)" \
  test "$("$REMAP" --kind "$DAMAGED")" = mapped
check_fails "vfychain refuses printer.local through the damaged token" "Chain is bad|not trusted|Issuer|issuer" \
  env SETTLE_TRUST_DIR="$DAMAGED" vfychain -d "sql:$DB" -pp -u 1 "$P/printer.der"
check_fails "the provider refuses it too" "checksum|refused|unable to get" \
  provider_verify "$DAMAGED" "$P/printer.pem" printer.local

# A manufacturer CA planted in index.snap alone (index.cbor untouched, the
# record re-encoded with checksums): the kind rule refuses it in the mapped
# reader as in the CBOR one, whatever its role and certificate.  Entry 0 is
# the wrapper root R, entry 1 the cross certificate C.
check "entries carry their record kind through index.snap" \
  test "$("$REMAP" --kinds "$CLEAN" | tr '\n' ' ')" = "device-ca device-ca "
for entry in 0 1; do
  PLANTED=$T_DIR/planted$entry
  cp -rL "$CLEAN" "$PLANTED"
  check "snapshot-remap plants kind manufacturer-ca in index.snap entry $entry" \
    "$REMAP" --plant-kind $entry manufacturer-ca "$PLANTED"
  check "the planted snapshot is read mapped" test "$("$REMAP" --kind "$PLANTED")" = mapped
  check "the reader refuses entry $entry and only it" \
    test "$("$REMAP" --kinds "$PLANTED" | sed -n "$((entry + 1))p;\$=")" = "refused
2"
  check_fails "vfychain refuses printer.local through the token planted in entry $entry" \
    "Chain is bad|not trusted|Issuer|issuer" \
    env SETTLE_TRUST_DIR="$PLANTED" vfychain -d "sql:$DB" -pp -u 1 "$P/printer.der"
  check "the module says entry $entry is a manufacturer anchor" bash -c \
    "SETTLE_TRUST_DIR='$PLANTED' certutil -L -d 'sql:$DB' -h all 2>&1 >/dev/null | grep -q 'manufacturer anchor'"
done
# OpenSSL takes every certificate a store returns as an anchor, the cross
# certificate C (scoped itself) included, so the provider's chain needs C:
# planted there, the provider serves neither C nor anything for the host.
check_fails "the provider refuses printer.local when the cross is planted" "unable to get local issuer" \
  provider_verify "$T_DIR/planted1" "$P/printer.pem" printer.local

# An index.snap of another format version is not used (index.cbor is), and
# the next change writes the current version, kinds kept.
OLD=$T_DIR/old
cp -rL "$CLEAN" "$OLD"
check "snapshot-remap marks the copy's index.snap as version 2 (FNV-1a hashes)" "$REMAP" --set-version 2 "$OLD"
check "an index.snap of version 2 falls back to index.cbor" test "$("$REMAP" --kind "$OLD")" = cbor
check "vfychain accepts printer.local through the fallback" \
  env SETTLE_TRUST_DIR="$OLD" vfychain -d "sql:$DB" -pp -u 1 "$P/printer.der"
check "the live generation's index.snap marked as version 1" "$REMAP" --set-version 1 "$TRUST"
check "is not used either" test "$("$REMAP" --kind "$TRUST")" = cbor
mk_ca "$P" dev2
check "settle trust of a second device CA" \
  "$SETTLE" trust --ca "$P/dev2.pem" --fingerprint "$(fingerprint "$P/dev2.pem")" --scope scanner.local --yes
check "the change wrote a current index.snap" test "$("$REMAP" --kind "$TRUST")" = mapped
mk_ca "$P" dev3
check "settle trust of a third device CA (taking the others over from index.snap)" \
  "$SETTLE" trust --ca "$P/dev3.pem" --fingerprint "$(fingerprint "$P/dev3.pem")" --scope fax.local --yes
check "every entry keeps its kind in index.cbor" \
  test "$("$REMAP" --cbor-kinds "$TRUST" | sort | uniq -c | tr -s ' ')" = " 6 device-ca"
check "and in index.snap" test "$("$REMAP" --kinds "$TRUST" | sort | uniq -c | tr -s ' ')" = " 6 device-ca"

done_testing
