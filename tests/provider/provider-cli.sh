#!/bin/bash
# The settle:// store through the openssl CLI: what it yields, what
# verifies against it, what it refuses.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/provider/provider-lib.sh"

make_device_pki
check "settle trust wraps the printer CA for printer.local" trust_ca printer printer.local

check "storeutl lists the wrapper root and the cross certificate" \
  expect_count 2 settle://
check "the name filter keeps both for printer.local" expect_count 2 'settle://?name=printer.local'
check "the name filter keeps nothing for scanner.local" expect_count 0 'settle://?name=scanner.local'
check "a search by subject finds only the cross certificate" \
  expect_count 1 -subject "/CN=printer device CA" settle://

# SETTLE_DATA_DIR moves the whole state for the writer and every reader.
mk_ca "$T_DIR" moved
check "with SETTLE_DATA_DIR, settle trust and the settle: store agree" \
  bash -c 'export SETTLE_DATA_DIR="$1/moved-state" SETTLE_STORE="file:$1/moved-state/store" &&
    "$SETTLE" trust --ca "$1/moved.pem" --fingerprint "$2" --scope moved.local --yes &&
    test -e "$1/moved-state/trust/index.cbor" &&
    openssl storeutl -provider settle -provider default -certs "settle://?name=moved.local" 2>&1 | grep -x "Total found: 2"' \
  _ "$T_DIR" "$(fingerprint "$T_DIR/moved.pem")"

verify() { openssl verify -purpose sslserver "${PROV[@]}" -CAstore "$@"; }
check "printer.local verifies against settle://" verify settle:// "$T_DIR/leaf.pem"
check "printer.local verifies against the authority-less settle:" verify settle: "$T_DIR/leaf.pem"
check "printer.local verifies against settle://?name=printer.local" \
  verify 'settle://?name=printer.local' "$T_DIR/leaf.pem"
check_fails "settle://?name=scanner.local holds no chain for printer.local" \
  "unable to get local issuer" verify 'settle://?name=scanner.local' "$T_DIR/leaf.pem"
check_fails "bank.example from the device CA is refused" "permitted subtree violation" \
  verify settle:// "$T_DIR/bank.pem"
check_fails "an IP address from the device CA is refused" "excluded subtree violation" \
  verify settle:// "$T_DIR/ip.pem"
check_fails "a leaf mixing printer.local and bank.example is refused" \
  "permitted subtree violation" verify settle:// "$T_DIR/mixed.pem"

# A pinned peer: a device with only a self-signed leaf.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -keyout "$T_DIR/nas.key" -out "$T_DIR/nas.pem" -subj "/CN=nas" \
  -addext subjectAltName=DNS:nas.local -addext basicConstraints=critical,CA:FALSE \
  -addext extendedKeyUsage=serverAuth 2>/dev/null
check "settle trust pins the NAS's self-signed leaf" "$SETTLE" trust --peer "$T_DIR/nas.pem" \
  --fingerprint "$(fingerprint "$T_DIR/nas.pem")" --yes
check "storeutl now lists three certificates" expect_count 3 settle://
check "the name filter yields only the peer for nas.local" expect_count 1 'settle://?name=nas.local'
check "the pinned peer verifies against settle://" verify settle:// "$T_DIR/nas.pem"
# The store serves OpenSSL trust for TLS servers only, on every
# certificate (what makes S/MIME and client authentication fail).
trusted_uses() {
  openssl storeutl "${PROV[@]}" -certs -text settle:// 2>/dev/null |
    python3 -c 'import re, sys
text = sys.stdin.read()
total = int(re.search(r"Total found: (\d+)", text).group(1))
uses = re.findall(r"Trusted Uses:\n((?:  .*\n)+)No Rejected Uses\.", text)
sys.exit(0 if total > 0 and len(uses) == total and all(u == "  TLS Web Server Authentication\n" for u in uses) else 1)'
}
check "every certificate settle: serves is trusted for TLS Web Server Authentication alone" trusted_uses
# A peer whose certificate also allows S/MIME is not pinned at all.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_DIR/mailer.key" -out "$T_DIR/mailer.pem" \
  -days 30 -subj /CN=mailer.local -addext subjectAltName=DNS:mailer.local -addext basicConstraints=critical,CA:FALSE \
  -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth,emailProtection 2>/dev/null
check_fails "settle trust --peer refuses a certificate that also allows S/MIME" "other than serverAuth alone" \
  "$SETTLE" trust --peer "$T_DIR/mailer.pem" --fingerprint "$(fingerprint "$T_DIR/mailer.pem")" --yes

# A second device CA, seen by the next process without any restart.
mk_ca "$T_DIR" lab
mk_leaf "$T_DIR" lab labhost "DNS:scope.lab.home.arpa"
check "settle trust wraps a referee for lab.home.arpa" trust_ca lab lab.home.arpa
check "a new process sees five certificates" expect_count 5 settle://
check "the name filter yields the lab pair for scope.lab.home.arpa" \
  expect_count 2 'settle://?name=scope.lab.home.arpa'
check "the lab leaf verifies" verify settle:// "$T_DIR/labhost.pem"
check "settle remove drops the printer" "$SETTLE" remove printer.local --yes
check "a new process sees three certificates" expect_count 3 settle://
check_fails "printer.local no longer verifies" "unable to get local issuer" \
  verify settle:// "$T_DIR/leaf.pem"

# Another snapshot directory, named in the URI.
check "settle://?dir= reads the snapshot named" \
  expect_count 3 "settle://?dir=$(readlink -f "$TRUST_DIR")"
check "settle://?dir= of a missing directory is an empty store" \
  expect_count 0 "settle://?dir=$T_DIR/nothing-here"

# Malformed URIs are refused, each with its own reason.
refused() { openssl storeutl "${PROV[@]}" -certs "$1"; }
long=$(printf 'a%.0s' {1..63}); long="$long.$long.$long.$long.local"
check_fails "an empty name is refused" "empty host name" refused 'settle://?name='
check_fails "a name over 253 octets is refused" "is too long.*has 261 octets" refused "settle://?name=$long"
check_fails "an unknown parameter is refused" "unknown settle: URI parameter.*\"nmae\"" \
  refused 'settle://?nmae=printer.local'
check_fails "a name outside the namespaces is refused" "outside local, home.arpa and alt" \
  refused 'settle://?name=bank.example'
check_fails "a namespace alone is refused" "is a namespace, not a host name" \
  refused 'settle://?name=local'
check_fails "bad percent-encoding is refused" "bad percent-encoding" refused 'settle://?name=a%zz.local'
check_fails "an encoded NUL is refused" "bad percent-encoding" refused 'settle://?name=a%00.local'
check_fails "a repeated parameter is refused" "repeated settle: URI parameter" \
  refused 'settle://?name=a.local&name=b.local'
check_fails "a relative dir is refused" "invalid snapshot directory" refused 'settle://?dir=settle'
check_fails "a host in the URI is refused" "malformed settle: URI" refused 'settle://printer.local'
check_fails "a label starting with a hyphen is refused" "invalid host name" refused 'settle://?name=-x.local'
check "a percent-encoded name is decoded" expect_count 2 'settle://?name=scope.lab%2Ehome.arpa'

# OpenSSL tries a URI as a local file first unless it has an authority: a
# `settle:` file in the working directory hijacks `settle:` but not
# `settle://` (docs/openssl.md).
mkdir -p "$T_DIR/cwd"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3 -keyout "$T_DIR/rogue.key" \
  -out "$T_DIR/rogue.pem" -subj "/CN=rogue CA" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
mk_leaf "$T_DIR" rogue roguebank "DNS:bank.example"
cp "$T_DIR/rogue.pem" "$T_DIR/cwd/settle:"
in_cwd() { (cd "$T_DIR/cwd" && "$@"); }
check "OpenSSL 3.0 loads a settle: file in the working directory instead (the hazard)" \
  in_cwd verify settle: "$T_DIR/roguebank.pem"
check_fails "settle:// is not hijacked by that file" "unable to get local issuer" \
  in_cwd verify settle:// "$T_DIR/roguebank.pem"

# Defence in depth: a root swapped inside the snapshot is never served.
cp -rL "$TRUST_DIR" "$T_DIR/tampered"
openssl x509 -in "$T_DIR/rogue.pem" -outform DER -out "$T_DIR/rogue.der"
root_index=$(openssl storeutl "${PROV[@]}" -noout -text -certs settle:// 2>/dev/null |
  awk '/^[0-9]+: Certificate/ { n = $1 + 0 } /Subject:.*SETTLE scoped root/ { print n; exit }')
check "the tamper tool swaps the first root for an unconstrained CA" \
  "$BUILD_ROOT/tests/provider/sprov-tamper" "$T_DIR/tampered/index.cbor" "$root_index" "$T_DIR/rogue.der"
check_fails "the provider refuses to serve the swapped root" \
  "settle trust snapshot entry refused.*has no .*nameConstraints" \
  verify "settle://?dir=$T_DIR/tampered" "$T_DIR/roguebank.pem"
# storeutl reports a failed load on stderr but still exits 0.
listing_reports() { openssl storeutl "${PROV[@]}" -certs "$2" 2>&1 | grep -E "$1"; }
check "storeutl stops at the swapped root with the same reason" \
  listing_reports "snapshot entry refused.*altered outside settle" "settle://?dir=$T_DIR/tampered"

done_testing
