#!/usr/bin/env bash
# Records that this settle cannot fully read never lock the user out: one
# written by a newer major format (or corrupt) among ten is set aside, the
# nine others keep working, `settle audit` reports it and `settle remove
# --fingerprint` deletes it; members a newer minor version added are kept.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3

pki=$T_DIR/pki; mkdir -p "$pki"
store=$XDG_DATA_HOME/settle/store
mk_ca "$pki" dev10
for i in $(seq 0 9); do
  mk_ca "$pki" "dev$i"
  "$SETTLE" trust --ca "$pki/dev$i.pem" --fingerprint "$(fingerprint "$pki/dev$i.pem")" \
    --scope "dev$i.local" --yes >/dev/null 2>&1
done
fp_of() { fingerprint "$1" | tr -d : | tr 'A-F' 'a-f'; }
victim=$(fp_of "$pki/dev4.pem")
newer=$(fp_of "$pki/dev7.pem")
check "ten records were stored" test "$(ls "$store"/*.json | wc -l)" -eq 10

# dev7: a newer minor version's member; dev4: a newer major version.
python3 - "$store/$newer.json" "$store/$victim.json" <<'PY'
import json, sys
minor, major = sys.argv[1], sys.argv[2]
r = json.load(open(minor)); r["format_minor"] = 4; r["voucher"] = {"serial": "X1"}
json.dump(r, open(minor, "w"))
r = json.load(open(major)); r["format"] = 2
json.dump(r, open(major, "w"))
PY

check "settle list still works and shows the nine readable records" \
  bash -c "'$SETTLE' list --json | python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)[\"anchors\"]) == 9 else 1)'"
check "the record with a newer minor version is listed" bash -c "'$SETTLE' show dev7.local >/dev/null"
check "its unknown member shows in --json" bash -c "'$SETTLE' show dev7.local --json | grep -q '\"voucher\"'"
check "settle trust still works beside the unreadable record" \
  "$SETTLE" trust --ca "$pki/dev10.pem" --fingerprint "$(fingerprint "$pki/dev10.pem")" --scope dev10.local --yes
check "settle remove still works beside it" "$SETTLE" remove dev1.local --yes
check "the newer minor member survived the snapshot rewrites" grep -q '"voucher"' "$store/$newer.json"
"$SETTLE" audit --json >"$T_DIR/audit.json" 2>"$T_DIR/audit.err"
check "settle audit reports the unreadable record by fingerprint" \
  python3 - "$T_DIR/audit.json" "$victim" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
hits = [p for p in report["inconsistencies"] if p["kind"] == "unreadable-record" and p["subject"] == sys.argv[2]]
assert hits and "format 2" in hits[0]["message"] and "--fingerprint" in hits[0]["message"], report["inconsistencies"]
PY
check "the audit JSON still matches schema/audit.schema.json" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" audit.schema.json "$T_DIR/audit.json"
"$SETTLE" list --json >"$T_DIR/list.json"
check "the list JSON with a newer minor's member matches schema/list.schema.json" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" list.schema.json "$T_DIR/list.json"
check_fails "remove by name cannot find it" "No trusted record" "$SETTLE" remove dev4.local --yes
check "remove --fingerprint deletes the unreadable record" "$SETTLE" remove --fingerprint "$victim" --yes
check "its file is gone" test ! -e "$store/$victim.json"
check "audit no longer reports it" bash -c "! '$SETTLE' audit --json | grep -q unreadable-record"
mk_leaf "$pki" dev2 leaf2 "DNS:dev2.local"
check "the snapshot still trusts a readable device" \
  openssl verify -purpose sslserver -CApath "$XDG_DATA_HOME/settle/trust" "$pki/leaf2.pem"

done_testing
