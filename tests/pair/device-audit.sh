#!/usr/bin/env bash
# `settle audit --device` and `settle device revoke-client | role` end to
# end with the reference device (docs/device.md, "Binding audit and
# roles"): this computer pairs as admin through `settle pair`, a second
# client pairs as guest (device-pair-client); the audit lists both and
# flags a foreign admin (unless --expect-admin names it), a client that
# survived a factory reset, and a device CA that is not the pinned one
# (after a rotation, until settle refresh); role changes and revocation
# with consent, the last admin kept, a guest refused.  Product test: no
# SETTLE_* switch.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool curl
need_device
PAIR_CLIENT=$BUILD_ROOT/tests/device/device-pair-client
W=/.well-known/settle

port=$(free_port)
serve dev printer.local "$port"
check "settle pair --yes pairs this computer as admin" "$SETTLE" pair --qr "$T_DIR/dev.png" --yes --role admin
fp=$(python3 -c 'import glob,os,sys; print(os.path.basename(glob.glob(sys.argv[1]+"/*.json")[0])[:-5])' "$STORE_DIR")
key="$STORE_DIR/keys/$fp.pem"
python3 - "$STORE_DIR/$fp.json" "$T_DIR/me.pem" <<'PY'
import base64, json, subprocess, sys
der = base64.b64decode(json.load(open(sys.argv[1]))["client_cert_der"])
open(sys.argv[2], "wb").write(subprocess.run(["openssl", "x509", "-inform", "der"], input=der, capture_output=True, check=True).stdout)
PY
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1; }
ME=$(spki "$T_DIR/me.pem")
audit() { "$SETTLE" audit --device printer.local "$@"; }
audit_json() { "$SETTLE" audit --device printer.local --json "$@" >"$T_DIR/audit.json"; }
jq_() { python3 -c "import json; d=json.load(open('$T_DIR/audit.json')); print($1)"; }

check "settle audit --device: nothing to look at (exit 0)" audit
check "it lists this computer as admin" bash -c "grep -q '$ME  admin.*(this computer)' '$T_DIR/last.out'"

wait_new_qr dev "" || true
check "a second client pairs as guest" \
  bash -c "test \"\$('$PAIR_CLIENT' '$T_DIR/dev.txt' admin '$T_DIR/g.key' '$T_DIR/g.pem')\" = guest"
G=$(spki "$T_DIR/g.pem")
check "a guest is no reason to look (exit 0), and is listed" \
  bash -c "'$SETTLE' audit --device printer.local >'$T_DIR/a' && grep -q '$G  guest' '$T_DIR/a'"
check "--json is valid against schema/device-audit.schema.json, nothing flagged" \
  bash -c "'$SETTLE' audit --device printer.local --json >'$T_DIR/audit.json' && python3 '$SOURCE_ROOT/tests/lifecycle/check-json.py' '$SOURCE_ROOT/schema' device-audit.schema.json '$T_DIR/audit.json' && python3 -c \"import json; d=json.load(open('$T_DIR/audit.json')); assert d['flags'] == [] and d['pinned_ca_key'] == d['device_ca_key']\""

# ---- allowed web origins: settle device origins ----

preflight() {
  curl -sk -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: $1" -H 'Access-Control-Request-Method: PUT' \
    "https://127.0.0.1:$port$W/bindings"
}
# preflight_is CODE ORIGIN...: the device answers each origin's preflight with CODE.
preflight_is() { local want=$1 o; shift; for o; do test "$(preflight "$o")" = "$want" || return 1; done; }
origins_file_unchanged() { test "$(cat "$T_DIR/dev/origins.json" 2>/dev/null)" = "$1"; }
check "settle device origins NAME: none allowed yet (empty list, says so)" \
  bash -c "'$SETTLE' device origins printer.local >'$T_DIR/o' 2>'$T_DIR/e' && test ! -s '$T_DIR/o' && grep -q 'No web origin' '$T_DIR/e'"
for bad in "app.example" "ftp://app.example" "https://app.example/" "https://app.example/app" \
           "https://app.example:99999" "https://app example" "null" "https://me@app.example"; do
  check "a bad origin ($bad) is a usage error (exit 2) with the reason, before the network" \
    bash -c "'$SETTLE' device origins printer.local --allow https://good.example --allow '$bad' --yes --address 127.0.0.1:1 >'$T_DIR/o' 2>&1; test \$? = 2 && grep -q 'is not a web origin' '$T_DIR/o' && ! grep -qi 'connect\|reach\|answer' '$T_DIR/o'"
done
check_fails "so is a bad --disallow" "no path" "$SETTLE" device origins printer.local --disallow https://x.example/p --yes
check_fails "--allow goes with origins only" "go with 'settle device origins" \
  "$SETTLE" device role printer.local "$G" guest --allow https://app.example --yes
check "and nothing was changed on the device" test ! -e "$T_DIR/dev/origins.json"
check "(its preflight is still refused)" preflight_is 403 https://good.example
check_fails "without a terminal and without --yes, allowing is refused" "nothing was changed|terminal|yes" \
  "$SETTLE" device origins printer.local --allow https://app.example
check "and nothing was changed" test ! -e "$T_DIR/dev/origins.json"
PTY="$SOURCE_ROOT/tests/pty-answer.py"
check_fails "on a terminal it asks, with the warning; no changes nothing" "did not answer yes" \
  python3 "$PTY" 'Change the web origins printer.local allows\? \[yes/no\]' no \
  "$SETTLE" device origins printer.local --allow https://app.example
check "  ... the question named the origin and warned plainly" bash -c \
  "grep -q 'allow      https://app.example' '$T_DIR/last.out' && grep -q 'WARNING: every page on an allowed web origin can act on printer.local' '$T_DIR/last.out'"
check "  ... and nothing was changed" test ! -e "$T_DIR/dev/origins.json"
check "--allow (canonicalised: case, default port) --allow --yes allows two origins" \
  "$SETTLE" device origins printer.local --allow HTTPS://App.Example:443 --allow http://localhost:8080 --yes
check "it prints the list the device holds now" grep -q "allowed now: https://app.example http://localhost:8080" "$T_DIR/last.out"
check "settle device origins NAME lists them, one a line" \
  bash -c "test \"\$('$SETTLE' device origins printer.local)\" = \"\$(printf 'https://app.example\nhttp://localhost:8080')\""
check "the device answers their preflights now" preflight_is 204 https://app.example http://localhost:8080
check "and no other's" preflight_is 403 https://evil.example https://app.example:8443
check "settle audit --device shows them" \
  bash -c "'$SETTLE' audit --device printer.local | grep -q 'web origins allowed: https://app.example, http://localhost:8080'"
check "allowing one again changes nothing (exit 0, said so)" \
  bash -c "'$SETTLE' device origins printer.local --allow https://app.example --yes >'$T_DIR/o' 2>&1 && grep -q 'already allowed' '$T_DIR/o' && grep -q 'nothing to change' '$T_DIR/o'"
check_fails "an origin both allowed and disallowed is refused" "both" \
  "$SETTLE" device origins printer.local --allow https://b.example --disallow https://b.example --yes
check "--disallow takes one off" "$SETTLE" device origins printer.local --disallow https://app.example --yes
check "the device holds the rest" bash -c "test \"\$('$SETTLE' device origins printer.local)\" = http://localhost:8080"
check "and refuses the disallowed origin's preflight" preflight_is 403 https://app.example
check "but not the other's" preflight_is 204 http://localhost:8080
saved_origins=$(cat "$T_DIR/dev/origins.json")
check_fails "33 origins are refused before anything is sent" "at most 32" \
  "$SETTLE" device origins printer.local --yes $(for i in $(seq 32); do printf -- '--allow https://h%d.example ' "$i"; done)
check "and the device's list is unchanged" origins_file_unchanged "$saved_origins"

# ---- roles, with consent ----

check_fails "without a terminal and without --yes, a role change is refused" "nothing was changed|terminal|yes" \
  "$SETTLE" device role printer.local "$G" admin
check "the guest is still a guest" bash -c "curl -sk --cert '$T_DIR/g.pem' --key '$T_DIR/g.key' https://127.0.0.1:$port$W/whoami | grep -q '\"role\":\"guest\"'"
check "settle device role NAME FP admin --yes makes it admin" "$SETTLE" device role printer.local "$G" admin --yes
check "now the audit flags a foreign admin and exits 4" \
  bash -c "'$SETTLE' audit --device printer.local >'$T_DIR/a'; test \$? = 4 && grep -q 'foreign-admin' '$T_DIR/a'"
check "the JSON names it (and is valid)" \
  bash -c "'$SETTLE' audit --device printer.local --json >'$T_DIR/audit.json'; test \$? = 4 && python3 '$SOURCE_ROOT/tests/lifecycle/check-json.py' '$SOURCE_ROOT/schema' device-audit.schema.json '$T_DIR/audit.json' && python3 -c \"import json; f=json.load(open('$T_DIR/audit.json'))['flags']; assert [(x['kind'], x['subject']) for x in f] == [('foreign-admin', '$G')], f\""
check "--expect-admin FP (colons and case do not matter) clears it (exit 0)" \
  audit --expect-admin "$(echo "$G" | tr a-f A-F | sed 's/../&:/g; s/:$//')"
check_fails "--expect-admin with a bad fingerprint is a usage error" "64 hex digits" audit --expect-admin abc
check_fails "an unknown role is a usage error" "unknown role" "$SETTLE" device role printer.local "$G" root --yes
check_fails "a bad fingerprint is a usage error" "64 hex digits" "$SETTLE" device revoke-client printer.local 1234 --yes

# ---- this computer as guest: the device refuses it ----

check "this computer demotes itself while another admin exists" "$SETTLE" device role printer.local "$ME" guest --yes
check_fails "as a guest, settle audit --device is refused (exit 1)" "refused this computer: HTTP 403" audit
check_fails "as a guest, settle device origins cannot list" "HTTP 403" "$SETTLE" device origins printer.local
check_fails "nor allow an origin" "HTTP 403" "$SETTLE" device origins printer.local --allow https://guest.example --yes
check "and the device's list is unchanged" origins_file_unchanged "$saved_origins"
check "the other admin makes this computer admin again" \
  bash -c "test \"\$(curl -sk --cert '$T_DIR/g.pem' --key '$T_DIR/g.key' -H 'Content-Type: application/json' -d '{\"role\":\"admin\"}' -o /dev/null -w '%{http_code}' https://127.0.0.1:$port$W/clients/$ME/role)\" = 200"

# ---- revocation and the last admin ----

check "settle device revoke-client NAME FP --yes revokes the other client" \
  "$SETTLE" device revoke-client printer.local "$G" --yes
check "the device refuses it at once" \
  bash -c "test \"\$(curl -sk --cert '$T_DIR/g.pem' --key '$T_DIR/g.key' -o /dev/null -w '%{http_code}' https://127.0.0.1:$port$W/whoami)\" = 403"
check_fails "revoking this computer, the last admin, is refused with the reason" "last admin" \
  "$SETTLE" device revoke-client printer.local "$ME" --yes
check_fails "so is demoting it" "HTTP 409" "$SETTLE" device role printer.local "$ME" guest --yes
check "and the audit is clean again (exit 0)" audit

# ---- a client that survived a factory reset ----

stop_device dev
python3 - "$T_DIR/dev/enrolments.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
e = dict(d["enrolments"][0])
e["spki_sha256"] = "ab" * 32; e["serial"] = "0abc"; e["role"] = "admin"; e["epoch"] = "00" * 16
e["issued"] = "2020-01-01T00:00:00Z"
d["enrolments"].append(e)
json.dump(d, open(p, "w"))
PY
serve dev printer.local "$port"
check "a client from another factory-reset epoch is flagged (exit 4)" \
  bash -c "'$SETTLE' audit --device printer.local --json --expect-admin $(printf 'ab%.0s' $(seq 32)) >'$T_DIR/audit.json'; test \$? = 4 && python3 -c \"import json; f=json.load(open('$T_DIR/audit.json'))['flags']; assert [x['kind'] for x in f] == ['enrolled-before-reset'], f\""

# ---- a device CA that is not the pinned one ----

stop_device dev
check "the device rotates its CA" "$SETTLE_DEVICE" rotate --state "$T_DIR/dev"
serve dev printer.local "$port"
check "before settle refresh, the audit flags the CA (exit 4)" \
  bash -c "'$SETTLE' audit --device printer.local --json --expect-admin $(printf 'ab%.0s' $(seq 32)) >'$T_DIR/audit.json'; test \$? = 4 && python3 -c \"import json; f=json.load(open('$T_DIR/audit.json'))['flags']; assert 'ca-mismatch' in [x['kind'] for x in f], f\""
check "settle refresh follows the rotation" "$SETTLE" refresh printer.local
check "after it, the CA is the pinned one" \
  bash -c "'$SETTLE' audit --device printer.local --json >'$T_DIR/audit.json'; python3 -c \"import json; f=json.load(open('$T_DIR/audit.json'))['flags']; assert 'ca-mismatch' not in [x['kind'] for x in f], f\""
check "a device that is not there is a failure (exit 1), not a flag" \
  bash -c "'$SETTLE' audit --device printer.local --address 127.0.0.1:1 --timeout 2; test \$? = 1"
check_fails "a name that was never paired is a failure" "printer2|no record|not found|No " \
  "$SETTLE" audit --device printer2.local
stop_device dev
check "no sanitizer report in the device log (leaks are reported at exit)" \
  bash -c "if grep -Eq 'Sanitizer|runtime error' '$T_DIR/dev.log'; then cat '$T_DIR/dev.log'; exit 1; fi"
done_testing
