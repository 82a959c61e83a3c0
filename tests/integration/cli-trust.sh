#!/usr/bin/env bash
# settle trust: the right fingerprint stores a scoped anchor; a wrong
# fingerprint, a public scope, a non-CA, an expired CA and a usage error
# are refused with a clear sentence and change nothing.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3

pki=$T_DIR/pki; mkdir -p "$pki"
mk_ca "$pki" printer
mk_leaf "$pki" printer leaf "DNS:printer.local"
fp=$(fingerprint "$pki/printer.pem")
store=$XDG_DATA_HOME/settle/store

record_count() { ls "$store"/*.json 2>/dev/null | wc -l; }

check_fails "a wrong fingerprint is refused" "does not have the fingerprint" \
  "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$(fingerprint "$pki/leaf.pem")" --scope printer.local --yes
check_fails "a malformed fingerprint is refused" "fingerprint" \
  "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint 12:34 --scope printer.local --yes
check_fails "a public scope is refused" "bank.example" \
  "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" --scope bank.example --yes
check_fails "a wildcard scope is refused" "wildcard|\\*" \
  "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" --scope '*.local' --yes
for ns in local home.arpa alt; do
  check_fails "a whole namespace ($ns) without --referee is refused" "whole namespace.*--referee" \
    "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" --scope printer.local --scope $ns --yes
done
# Pinned peers must not be able to issue (settle-anchor-rule.h).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/nobc.key" \
  -out "$pki/nobc.pem" -days 30 -subj /CN=nas.local -addext subjectAltName=DNS:nas.local \
  -addext basicConstraints=critical,CA:FALSE 2>/dev/null
openssl x509 -in "$pki/nobc.pem" -signkey "$pki/nobc.key" -days 30 -clrext \
  -extfile <(printf 'subjectAltName=DNS:nas.local\nkeyUsage=digitalSignature,keyCertSign\n') \
  -out "$pki/peer-kcs.pem" 2>/dev/null
openssl x509 -in "$pki/nobc.pem" -signkey "$pki/nobc.key" -days 30 -clrext \
  -extfile <(printf 'subjectAltName=DNS:nas.local\n') -out "$pki/peer-nobc.pem" 2>/dev/null
check_fails "a peer without basicConstraints is not pinned" "no basicConstraints" \
  "$SETTLE" trust --peer "$pki/peer-nobc.pem" --fingerprint "$(fingerprint "$pki/peer-nobc.pem")" --yes
check_fails "a peer with keyCertSign is not pinned" "basicConstraints|keyUsage" \
  "$SETTLE" trust --peer "$pki/peer-kcs.pem" --fingerprint "$(fingerprint "$pki/peer-kcs.pem")" --yes
check_fails "a CA is not pinned as a peer" "is a CA" \
  "$SETTLE" trust --peer "$pki/printer.pem" --fingerprint "$fp" --yes
check_fails "a non-CA certificate is refused" "not a CA|CA:TRUE|certificate authority" \
  "$SETTLE" trust --ca "$pki/leaf.pem" --fingerprint "$(fingerprint "$pki/leaf.pem")" --scope printer.local --yes
check_fails "a missing file is refused" "nope.pem" \
  "$SETTLE" trust --ca "$pki/nope.pem" --fingerprint "$fp" --scope printer.local --yes
check_fails "no terminal and no --yes is refused" "no terminal" \
  setsid "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" --scope printer.local </dev/null

set +e
"$SETTLE" trust --ca "$pki/printer.pem" --scope printer.local --yes >/dev/null 2>&1; rc=$?
set -e
check "missing --fingerprint is a usage error (exit 2)" test "$rc" -eq 2
check "nothing was stored by the refusals" test "$(record_count)" -eq 0
check "no snapshot was written by the refusals" test ! -e "$XDG_DATA_HOME/settle/trust/index.cbor"

# Under a private umask: the snapshot is public data all the same.
check "the right fingerprint (with colons) is trusted" \
  bash -c "umask 077 && exec \"\$0\" \"\$@\"" "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" \
  --scope printer.local --label "Office printer" --yes
snap=$(readlink -f "$XDG_DATA_HOME/settle/trust")
check "under umask 077 the snapshot directory is 0755 and its files 0644" \
  test "$(stat -c %a "$snap" "$(dirname "$snap")")" = "$(printf '755\n755')" \
  -a "$(stat -c %a "$snap"/* | sort -u)" = 644
check "exactly one record was stored" test "$(record_count)" -eq 1
check "the record file is private (0600)" test "$(stat -c %a "$store"/*.json)" = 600
check "the store directory is private (0700)" test "$(stat -c %a "$store")" = 700
check "the snapshot index exists" test -s "$XDG_DATA_HOME/settle/trust/index.cbor"
fp_plain=$(echo "$fp" | tr -d : | tr A-F a-f)
check_fails "trusting the same CA twice is refused" "already" \
  "$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp_plain" --scope printer.local --yes
check "still exactly one record" test "$(record_count)" -eq 1

"$SETTLE" list --json >"$T_DIR/list.json"
check "list --json shows the record with its scope, kind and consent" python3 - "$T_DIR/list.json" "$fp_plain" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 1, doc
(a,) = doc["anchors"]
assert a["fingerprint"] == sys.argv[2], a["fingerprint"]
assert a["scope"] == ["printer.local"], a["scope"]
assert a["kind"] == "device-ca", a["kind"]
assert a["label"] == "Office printer"
assert a["consent"] == "flag"
PY

done_testing
