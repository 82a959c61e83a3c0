#!/usr/bin/env bash
# `settle audit [--json]`: bindings with their details, module
# registrations found with modutil, kept exports, and each kind of
# inconsistency, made on purpose behind settle's back.  The JSON of audit
# and of `settle list` is validated against schema/audit.schema.json and
# schema/list.schema.json, and the schemas must refuse broken documents.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl certutil modutil python3
# Foreign programs (modutil, certutil, openssl) load our modules: in a
# sanitized build they need the ASan runtime first (tests/lib.sh).
preload_asan_runtime "$BUILD_ROOT/nss-module/libsettle-pkcs11.so"
preload_asan_runtime "$BUILD_ROOT/provider/settle.so"
MODULE="$BUILD_ROOT/nss-module/libsettle-pkcs11.so"
STORE_DIR="$XDG_DATA_HOME/settle/store"
validate() { python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" "$@"; }
audit_json() { "$SETTLE" audit --json >"$T_DIR/audit.json"; }
# has_problem KIND SUBJECT: the audit JSON lists that inconsistency.
has_problem() {
  python3 - "$T_DIR/audit.json" "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [p for p in doc["inconsistencies"] if p["kind"] == sys.argv[2] and p["subject"] == sys.argv[3]]
assert hits, doc["inconsistencies"]
PY
}

mk_ca "$T_DIR" printer
mk_ca "$T_DIR" nas
mk_ca "$T_DIR" lab
check "trust a device CA" "$SETTLE" trust --ca "$T_DIR/printer.pem" --fingerprint "$(fingerprint "$T_DIR/printer.pem")" \
  --scope printer.local --yes
check "trust a second one" "$SETTLE" trust --ca "$T_DIR/nas.pem" --fingerprint "$(fingerprint "$T_DIR/nas.pem")" \
  --scope nas.home.arpa --label nas --yes
check "trust a referee" "$SETTLE" trust --ca "$T_DIR/lab.pem" --fingerprint "$(fingerprint "$T_DIR/lab.pem")" \
  --scope lab.home.arpa --referee --label lab --yes
mkdir -p "$T_DIR/db" && certutil -N -d "sql:$T_DIR/db" --empty-password
mkdir -p "$T_DIR/db2" && certutil -N -d "sql:$T_DIR/db2" --empty-password
check "install into two NSS databases" "$SETTLE" install --nssdb "$T_DIR/db" --nssdb "$T_DIR/db2" --module "$MODULE"
check "keep a hash directory and a PEM bundle" bash -c \
  "'$SETTLE' export --dir '$T_DIR/capath' --keep && '$SETTLE' export --pem '$T_DIR/bundle.pem' --keep"

check "a consistent audit: exit 0 and 'No inconsistencies.'" bash -c "'$SETTLE' audit | grep -q '^No inconsistencies.'"
check "text audit names each binding, its kind and consent" bash -c \
  "'$SETTLE' audit | grep -A3 '^  lab$' | grep -q 'kind referee-ca, names lab.home.arpa' && '$SETTLE' audit | grep -q 'consent --yes flag'"
check "audit --json runs" audit_json
check "audit JSON is valid against schema/audit.schema.json" validate audit.schema.json "$T_DIR/audit.json"
check "three bindings with fingerprint, scope, consent; no inconsistency" python3 - "$T_DIR/audit.json" \
  "$(fingerprint "$T_DIR/lab.pem" | tr -d : | tr A-F a-f)" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 1 and doc["inconsistencies"] == [], doc["inconsistencies"]
b = {x["label"]: x for x in doc["bindings"]}
assert sorted(b) == ["lab", "nas", "printer.local"], b
assert b["lab"]["kind"] == "referee-ca" and b["lab"]["scope"] == ["lab.home.arpa"], b["lab"]
assert b["lab"]["fingerprint"] == sys.argv[2] and b["lab"]["consent"] == "flag", b["lab"]
assert b["lab"]["expired"] is False and b["lab"]["role"] is None, b["lab"]
assert doc["snapshot"]["generation"] >= 3, doc["snapshot"]
PY
check "modutil registrations are reported for both databases" python3 - "$T_DIR/audit.json" "$T_DIR" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
dbs = {i["path"]: i for i in doc["installations"] if i["place"] == "nssdb"}
for d in ("db", "db2"):
    i = dbs[sys.argv[2] + "/" + d]
    assert i["found_by"] == "settle install" and i["exists"] and i["registered"], i
kinds = sorted((e["kind"], e["present"]) for e in doc["exports"])
assert kinds == [("dir", True), ("pem", True)], kinds
PY
check "after uninstall, settle no longer remembers db2" bash -c \
  "'$SETTLE' uninstall --nssdb '$T_DIR/db2' >/dev/null && '$SETTLE' audit --json | python3 -c '
import json, sys
i = [i for i in json.load(sys.stdin)[\"installations\"] if i[\"path\"].endswith(\"/db2\")]
assert i == [], i'"
mkdir -p "$HOME/.pki/nssdb" && certutil -N -d "sql:$HOME/.pki/nssdb" --empty-password
check "Chromium's database is found, and modutil says the module is not there" bash -c \
  "'$SETTLE' audit --json | python3 -c '
import json, sys
i = [i for i in json.load(sys.stdin)[\"installations\"] if i[\"found_by\"] == \"chromium\"]
assert len(i) == 1 and i[0][\"path\"].endswith(\"/.pki/nssdb\"), i
assert i[0][\"exists\"] and not i[0][\"registered\"], i'"

"$SETTLE" list --json >"$T_DIR/list.json"
check "list JSON is valid against schema/list.schema.json" validate list.schema.json "$T_DIR/list.json"

# Now break things behind settle's back, one of each kind.
"$SETTLE" install --nssdb "$T_DIR/db2" --module "$MODULE" >/dev/null
rm -rf "$T_DIR/db2"
rm -f "$T_DIR/bundle.pem"
nas_fp=$(fingerprint "$T_DIR/nas.pem" | tr -d : | tr A-F a-f)
rm "$STORE_DIR/$nas_fp.json"
printer_fp=$(fingerprint "$T_DIR/printer.pem" | tr -d : | tr A-F a-f)
python3 - "$STORE_DIR/$printer_fp.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["expires"] = "2020-01-01T00:00:00Z"
json.dump(r, open(sys.argv[1], "w"))
PY
check "audit --json still runs" audit_json
check "the broken audit is still valid JSON for the schema" validate audit.schema.json "$T_DIR/audit.json"
check "a snapshot entry without a record" has_problem snapshot-entry-without-record "$nas_fp"
check "an expired anchor" has_problem expired-anchor "$printer_fp"
check "a registration in a database that no longer exists" has_problem registration-in-missing-database "$T_DIR/db2"
check "a kept export that is missing" has_problem kept-export-missing "$T_DIR/bundle.pem"
check "text audit shows the count" bash -c "'$SETTLE' audit | grep -q '^Inconsistencies (4):'"
check "audit changed nothing: the snapshot still has the orphan" has_problem snapshot-entry-without-record "$nas_fp"

# The schemas must be able to fail.
mutate() {
  python3 - "$T_DIR/audit.json" "$T_DIR/bad.json" "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"))
PY
}
for m in 'doc["version"] = 2' 'doc["bindings"][0]["kind"] = "root-ca"' \
         'doc["inconsistencies"][0]["kind"] = "fine"' 'del doc["bindings"][0]["consent"]' \
         'doc["installations"][0]["place"] = "registry"' 'doc["extra"] = 1' \
         'doc["bindings"][0]["expires"] = 1700000000'; do
  mutate "$m"
  check_fails "audit schema refuses: $m" "" validate audit.schema.json "$T_DIR/bad.json"
done
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["anchors"][0]["kind"] = "root-ca"; json.dump(d, open(sys.argv[2], "w"))' \
  "$T_DIR/list.json" "$T_DIR/bad-list.json"
check_fails "list schema refuses a record the record schema refuses" "" validate list.schema.json "$T_DIR/bad-list.json"
check_fails "audit refuses extra arguments" "unexpected argument" "$SETTLE" audit extra

done_testing
