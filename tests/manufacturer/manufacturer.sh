#!/usr/bin/env bash
# Manufacturer anchors and vouchers (docs/manufacturer.md, schema/voucher.md),
# end to end with real programs: the openssl CLI makes the manufacturer
# chains (make-mfr-chain.sh), the reference device presents its IDevID and
# signs a voucher at pairing, `settle pair` checks it; NSS's certutil, the
# OpenSSL provider (openssl storeutl/verify -CAstore settle:) and `settle
# export` are asked whether a manufacturer anchor ever serves TLS.
#
# Adversarial devices: the reference device with --test-voucher (a
# test-only option) breaks one binding each, and a rogue factory's chain
# copies the genuine manufacturer's names with other keys.  Every refusal
# must say what was wrong and leave nothing on either side: no record, no
# client key, no enrolment on the device.
#
# Kind: product test (no SETTLE_* or OPENSSL_* variable changes what is
# checked; OPENSSL_MODULES only says where the built provider is).
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool certutil modutil
need_device
export OPENSSL_MODULES="$BUILD_ROOT/provider"
MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
PTY="$SOURCE_ROOT/tests/pty-answer.py"
MK="$SOURCE_ROOT/tests/manufacturer/make-mfr-chain.sh"

"$MK" "$T_DIR/chain-maker" "Test Maker" TP-0001
"$MK" "$T_DIR/chain-rogue" "Test Maker" TP-0001     # same names, other keys
"$MK" "$T_DIR/chain-other" "Other Maker" OM-0042    # a maker the user does not trust

# mfr_device ID NAME CHAIN-DIR [ARGS...]: the reference device with that IDevID.
mfr_device() {
  local id=$1 name=$2 chain=$3; shift 3
  start_device "$id" "$name" --no-mdns --idevid-key "$chain/idevid.key" --idevid-cert "$chain/idevid.pem" \
    --idevid-chain "$chain/issuing.pem" "$@"
}
# Only manufacturer records, no client key: nothing of a pairing was stored.
only_manufacturers() {
  "$SETTLE" list --json | python3 -c '
import json, sys
a = json.load(sys.stdin)["anchors"]
assert a and all(r["kind"] == "manufacturer-ca" for r in a), a' \
    && [ -z "$(ls -A "$STORE_DIR/keys" 2>/dev/null)" ]
}
# The device enrolled nobody (its enrolments.json is absent or empty).
no_enrolment() {
  python3 - "$T_DIR/$1/enrolments.json" <<'PY'
import json, os, sys
p = sys.argv[1]
assert not os.path.exists(p) or json.load(open(p))["enrolments"] == [], open(p).read()
PY
}
# wait_for_log ID TEXT: the device's log says TEXT (it writes after the helper returned).
wait_for_log() {
  local i
  for i in $(seq 50); do grep -q "$2" "$T_DIR/$1.log" && return 0; sleep 0.1; done
  sed 's/^/# /' "$T_DIR/$1.log"; return 1
}
pair_yes() { "$SETTLE" pair --payload "$(cat "$T_DIR/$1.txt")" --yes --timeout 10; }

# ---- the anchor: its own kind, never a TLS anchor ----

check_fails "at the prompt, the manufacturer is described as vouching, never for connections" "did not answer yes" \
  python3 "$PTY" 'Trust it\? \[yes/no\]' no "$SETTLE" trust --manufacturer --ca "$T_DIR/chain-maker/root.pem" \
  --fingerprint "$(fingerprint "$T_DIR/chain-maker/root.pem")" --scope printer.local
check "  ... its prompt" bash -c "grep -q 'a MANUFACTURER' '$T_DIR/last.out' &&
  grep -q 'Vouches for: devices named printer.local' '$T_DIR/last.out' && ! grep -q 'Your browser' '$T_DIR/last.out'"
check_fails "a manufacturer is never trusted for a whole namespace" "is a whole namespace" \
  "$SETTLE" trust --manufacturer --ca "$T_DIR/chain-maker/root.pem" --fingerprint "$(fingerprint "$T_DIR/chain-maker/root.pem")" \
  --scope local --yes
check "settle trust --manufacturer keeps the maker's root, scoped to printer.local" \
  "$SETTLE" trust --manufacturer --ca "$T_DIR/chain-maker/root.pem" --fingerprint "$(fingerprint "$T_DIR/chain-maker/root.pem")" \
  --scope printer.local --yes
check "it says manufacturer-ca" grep -q '(manufacturer-ca)' "$T_DIR/last.out"
check_fails "a manufacturer anchor needs a CA file, not a peer" "--manufacturer takes" \
  "$SETTLE" trust --manufacturer --peer "$T_DIR/chain-maker/idevid.pem" --fingerprint 00 --yes
check "settle list shows it as its own kind, labelled by the maker" bash -c \
  "'$SETTLE' list | grep -Eq '^Test Maker +manufacturer-ca +printer.local'"
check "settle show says it is never for TLS" bash -c \
  "'$SETTLE' show 'Test Maker' | grep -q 'never for TLS'"
check "settle audit --json lists it with kind manufacturer-ca" bash -c \
  "'$SETTLE' audit --json | python3 -c '
import json, sys
b = json.load(sys.stdin)[\"bindings\"]
assert [r[\"kind\"] for r in b] == [\"manufacturer-ca\"], b'"
check "settle audit finds nothing wrong: a manufacturer anchor belongs outside the snapshot" bash -c \
  "'$SETTLE' audit --json | python3 -c '
import json, sys
p = json.load(sys.stdin)[\"inconsistencies\"]
assert p == [], p'"
"$SETTLE" list --json >"$T_DIR/list.json"
"$SETTLE" audit --json >"$T_DIR/audit.json" || true
check "settle list --json validates against list.schema.json (record.schema.json for the kind)" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" list.schema.json "$T_DIR/list.json"
check "settle audit --json validates against audit.schema.json" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" audit.schema.json "$T_DIR/audit.json"

check "the trust snapshot holds no certificate of it (bundle.pem and hash links empty)" bash -c \
  "[ ! -s '$XDG_DATA_HOME/settle/trust/bundle.pem' ] && ! ls '$XDG_DATA_HOME/settle/trust/' | grep -Eq '^[0-9a-f]{8}\.[0-9]+$'"
# How many certificates the provider's settle: store serves.
provider_certs() {
  with_asan_runtime "$OPENSSL_MODULES/settle.so" openssl storeutl -provider settle -provider default -certs settle: \
    2>&1 | sed -n 's/^Total found: //p'
}
provider_serves() { [ "$(provider_certs)" = "$1" ]; }
check "the provider's settle: store serves no certificate" provider_serves 0
check_fails "openssl verify -CAstore settle: does not take the maker's root as an anchor" "error|fail" \
  with_asan_runtime "$OPENSSL_MODULES/settle.so" openssl verify -provider settle -provider default -CAstore settle: \
  -untrusted "$T_DIR/chain-maker/issuing.pem" "$T_DIR/chain-maker/idevid.pem"
check_fails "nor openssl verify -CApath on the snapshot directory" "error|fail" \
  openssl verify -CApath "$XDG_DATA_HOME/settle/trust" -untrusted "$T_DIR/chain-maker/issuing.pem" \
  "$T_DIR/chain-maker/idevid.pem"
check "settle export --pem and --dir hold nothing of it" bash -c \
  "'$SETTLE' export --pem '$T_DIR/export.pem' && '$SETTLE' export --dir '$T_DIR/export' &&
   ! grep -q BEGIN '$T_DIR/export.pem' && ! ls '$T_DIR/export' | grep -Eq '^[0-9a-f]{8}\.[0-9]+$'"
mkdir -p "$T_DIR/nssdb"
certutil -N -d "sql:$T_DIR/nssdb" --empty-password
with_asan_runtime "$MODULE" modutil -dbdir "sql:$T_DIR/nssdb" -add "SETTLE Local Trust" -libfile "$MODULE" -force >/dev/null 2>&1
# Certificates NSS sees in the module's token (certutil lists them as TOKEN:NICK).
nss_certs() { with_asan_runtime "$MODULE" certutil -L -d "sql:$T_DIR/nssdb" -h all 2>/dev/null | grep -c '^SETTLE Local Trust:' || true; }
nss_sees() { [ "$(nss_certs)" = "$1" ]; }
module_listed() { with_asan_runtime "$MODULE" modutil -dbdir "sql:$T_DIR/nssdb" -list | grep -q 'token: SETTLE Local Trust'; }
check "modutil lists the module's token" module_listed
check "NSS (certutil) sees no certificate in the module's token" nss_sees 0

# ---- refusals: one broken binding each, nothing stored on either side ----

refusal() {
  local id=$1 desc=$2 pattern=$3
  check_fails "$desc" "$pattern" pair_yes "$id"
  check "  ... and the device was told why" wait_for_log "$id" "refused this device's manufacturer voucher"
  check "  ... nothing stored here" only_manufacturers
  check "  ... and no enrolment left on the device" no_enrolment "$id"
}

mfr_device forged printer.local "$T_DIR/chain-maker" --test-voucher forged
refusal forged "a forged voucher (signed by a key the maker never certified) is refused" \
  "signature does not verify with the device's IDevID key"
mfr_device expired printer.local "$T_DIR/chain-maker" --test-voucher expired
refusal expired "an expired voucher is refused" "voucher has expired"
mfr_device serial printer.local "$T_DIR/chain-maker" --test-voucher other-serial
refusal serial "a voucher for another serial number is refused" "is for serial number TP-0001-OTHER"
mfr_device name printer.local "$T_DIR/chain-maker" --test-voucher other-name
refusal name "a voucher for another name is refused" "is for the name other-printer.local"
mfr_device key printer.local "$T_DIR/chain-maker" --test-voucher other-key
refusal key "a voucher for another device CA key is refused" "binds another key"
mfr_device rogue printer.local "$T_DIR/chain-rogue"
refusal rogue "an IDevID from a look-alike factory (not chaining to the trusted maker) is refused" \
  "does not chain to it"
# The trusted maker's issuing CA certifies an "IDevID" that is a CA whose
# key may sign certificates only: it chains, but it is no device identity.
caid=$T_DIR/chain-caid
mkdir -p "$caid" && cp "$T_DIR/chain-maker/issuing.pem" "$caid/"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$caid/idevid.key" 2>/dev/null
openssl req -new -key "$caid/idevid.key" -subj "/O=Test Maker/CN=Test Maker device/serialNumber=TP-0001" 2>/dev/null |
  openssl x509 -req -CA "$T_DIR/chain-maker/issuing.pem" -CAkey "$T_DIR/chain-maker/issuing.key" -set_serial 77 \
    -days 30 -out "$caid/idevid.pem" -extfile <(printf '%s\n' 'basicConstraints = critical, CA:TRUE, pathlen:0' \
    'keyUsage = critical, keyCertSign' 'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid:always') 2>/dev/null
mfr_device caid printer.local "$caid"
refusal caid "an IDevID that is a CA certificate (keyCertSign only) is refused" "is a CA certificate"
mfr_device scanner scanner.local "$T_DIR/chain-maker"
refusal scanner "a genuine voucher for a name outside the maker's scope is refused" \
  "vouch only for printer.local, not for scanner.local"

mfr_device replay printer.local "$T_DIR/chain-maker" --test-voucher replay
old_qr=$(cat "$T_DIR/replay.txt")
check_fails "a first pairing, declined (no terminal), makes the device remember its voucher" "consent|terminal" \
  "$SETTLE" pair --payload "$(cat "$T_DIR/replay.txt")" --timeout 10
check "the device shows its next code" wait_new_qr replay "$old_qr"
refusal replay "the previous ceremony's voucher, replayed, is refused" "nonce of this pairing"

# ---- a voucher the user has no anchor for: paired without it ----

mfr_device other printer.local "$T_DIR/chain-other"
check "a device of a maker the user does not trust pairs, without the voucher" pair_yes other
check "  ... and says so" grep -q "which you do not trust as a manufacturer" "$T_DIR/last.out"
check "  ... with no 'made by' line" bash -c "! grep -q 'made by' '$T_DIR/last.out'"
"$SETTLE" remove --yes printer.local >/dev/null

# ---- the genuine device: verified, and consent is still asked ----

mfr_device good printer.local "$T_DIR/chain-maker"
old_qr=$(cat "$T_DIR/good.txt")
check_fails "the prompt says made by Test Maker (verified); answering no stores nothing" "did not answer yes" \
  python3 "$PTY" 'Pair with it\? \[yes/no\]' no "$SETTLE" pair --payload "$(cat "$T_DIR/good.txt")"
check "  ... the prompt had the manufacturer line and the check code" bash -c \
  "grep -q 'Made by: *Test Maker (verified' '$T_DIR/last.out' && grep -q 'Check code:' '$T_DIR/last.out'"
check "  ... nothing stored" only_manufacturers
check "  ... no enrolment on the device" no_enrolment good
check "the device shows its next code" wait_new_qr good "$old_qr"
check "settle pair --yes pairs with the genuine device" pair_yes good
check "  ... saying made by Test Maker (verified)" grep -q "made by Test Maker (verified)" "$T_DIR/last.out"
check "the device CA is trusted for printer.local; the maker still is not a TLS anchor" bash -c \
  "'$SETTLE' list --json | python3 -c '
import json, sys
a = sorted((r[\"kind\"], tuple(r[\"scope\"])) for r in json.load(sys.stdin)[\"anchors\"])
assert a == [(\"device-ca\", (\"printer.local\",)), (\"manufacturer-ca\", (\"printer.local\",))], a' &&
   ! grep -q \"\$(sed -n 2p '$T_DIR/chain-maker/root.pem')\" '$XDG_DATA_HOME/settle/trust/bundle.pem'"
check "  ... the provider serves the device's root and cross only" provider_serves 2
check "  ... and NSS sees those two in the module, no more" nss_sees 2

# ---- the device's own manufacturer identity in its bindings ----

idevid_sha=$(openssl x509 -in "$T_DIR/chain-maker/idevid.pem" -outform der | sha256sum | cut -d' ' -f1)
check "settle audit --device shows the device's IDevID: serial number, issuer, fingerprint" bash -c \
  "'$SETTLE' audit --device printer.local >'$T_DIR/a'; grep -q 'manufacturer identity (IDevID): serial number TP-0001, issued by .*Test Maker.*, SHA-256 $idevid_sha' '$T_DIR/a'"
check "--json carries it with the chain (IDevID, then the issuing CA) and is valid" bash -c \
  "'$SETTLE' audit --device printer.local --json >'$T_DIR/da.json'; python3 '$SOURCE_ROOT/tests/lifecycle/check-json.py' '$SOURCE_ROOT/schema' device-audit.schema.json '$T_DIR/da.json' && python3 - '$T_DIR/da.json' '$T_DIR/chain-maker' '$idevid_sha' <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))['manufacturer_identity']
chain = open(sys.argv[2] + '/idevid.pem').read().strip() + '\n' + open(sys.argv[2] + '/issuing.pem').read().strip()
assert m['serial_number'] == 'TP-0001' and m['sha256'] == sys.argv[3], m
assert m['pem'].strip() == chain, m['pem']
assert m['pem'].count('BEGIN CERTIFICATE') == 2, 'the root is not part of it'
PY"
# The device's own document, read with this computer's identity for it.
python3 - "$STORE_DIR" "$T_DIR/me.pem" <<'PY'
import base64, glob, json, subprocess, sys
for p in glob.glob(sys.argv[1] + "/*.json"):
    r = json.load(open(p))
    if r.get("client_cert_der"):
        der = base64.b64decode(r["client_cert_der"])
        open(sys.argv[2], "wb").write(subprocess.run(["openssl", "x509", "-inform", "der"], input=der, capture_output=True, check=True).stdout)
        print(p.split("/")[-1][:-5], file=open(sys.argv[2] + ".fp", "w"))
PY
me_key="$STORE_DIR/keys/$(cat "$T_DIR/me.pem.fp").pem"
check "GET /.well-known/settle/bindings names it, valid against bindings.schema.json" bash -c \
  "curl -sk --cert '$T_DIR/me.pem' --key '$me_key' https://127.0.0.1:$good_port/.well-known/settle/bindings >'$T_DIR/b.json' && python3 '$SOURCE_ROOT/tests/lifecycle/check-json.py' '$SOURCE_ROOT/schema' bindings.schema.json '$T_DIR/b.json' && python3 -c \"import json; m=json.load(open('$T_DIR/b.json'))['manufacturer_identity']; assert m['serial_number']=='TP-0001' and m['sha256']=='$idevid_sha', m\""

# A device whose bindings name an IDevID fingerprint that is not that of
# the chain they carry: played by openssl s_server with the device's own
# TLS key (it proves the name, as the device would), serving a doctored
# copy of the document it sent above.
stop_device good
mkdir -p "$T_DIR/www/.well-known/settle"
python3 - "$T_DIR/b.json" "$T_DIR/www/.well-known/settle/bindings" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["manufacturer_identity"]["sha256"] = "00" * 32
json.dump(d, open(sys.argv[2], "w"))
PY
(cd "$T_DIR/www" && exec openssl s_server -quiet -WWW -tls1_3 -accept "127.0.0.1:$good_port" \
   -cert "$T_DIR/good/tls.pem" -key "$T_DIR/good/tls.key" </dev/null >"$T_DIR/www.log" 2>&1) &
www_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$good_port") 2>/dev/null && break; sleep 0.1; done
check_fails "bindings whose IDevID fingerprint is not that of their chain are refused (exit 1)" \
  "do not follow version 1 of schema/bindings.schema.json" "$SETTLE" audit --device printer.local
kill "$www_pid" 2>/dev/null; wait "$www_pid" 2>/dev/null || true

# ---- a device without a voucher pairs as before ----

"$SETTLE" remove --yes printer.local >/dev/null
start_device plain printer.local --no-mdns
check "a device without an IDevID pairs as before" pair_yes plain
check "  ... without a manufacturer line or note" bash -c "! grep -Eqi 'made by|manufacturer' '$T_DIR/last.out'"
check "settle audit --device says it has no manufacturer identity (null in the JSON, stated)" bash -c \
  "'$SETTLE' audit --device printer.local | grep -q 'manufacturer identity: none' && '$SETTLE' audit --device printer.local --json >'$T_DIR/da2.json'; python3 '$SOURCE_ROOT/tests/lifecycle/check-json.py' '$SOURCE_ROOT/schema' device-audit.schema.json '$T_DIR/da2.json' && python3 -c \"import json; d=json.load(open('$T_DIR/da2.json')); assert 'manufacturer_identity' in d and d['manufacturer_identity'] is None, d\""

done_testing
