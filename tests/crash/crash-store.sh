#!/usr/bin/env bash
# Crash safety (issue 8; docs/security.md, "Crash safety"): several
# processes run 1,000 `settle trust` / `settle remove` commands in total
# against the file store while a killer sends SIGKILL to random running
# settle processes at random moments (tests/crash/crash-driver.py).
# Afterwards every record parses, no temporary file is left that the
# commands would not ignore, the trust snapshot is readable and lists
# exactly the store's records, and every trust that reported success and
# was not removed later is present.
#
# SIGKILL, not power loss, is the crash here, so the world lives on tmpfs
# when there is one: fsync then costs nothing, and 1,000 commands fit in
# about a minute on two shared cores.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl python3
STORE_DIR="$XDG_DATA_HOME/settle/store"
DATA_DIR="$XDG_DATA_HOME/settle"
: "${CRASH_OPERATIONS:=1000}"   # set it lower only by hand, for a quick try
: "${CRASH_WORKERS:=4}"
: "${CRASH_SLOTS:=16}"

mkdir "$T_DIR/pki"
for n in $(seq 0 $((CRASH_SLOTS - 1))); do
  mk_ca "$T_DIR/pki" "slot-$n"
  fingerprint "$T_DIR/pki/slot-$n.pem" >"$T_DIR/pki/slot-$n.fp"
  rm "$T_DIR/pki/slot-$n.key"
done
check "$CRASH_SLOTS test CAs made" test "$(ls "$T_DIR"/pki/*.pem | wc -l)" = "$CRASH_SLOTS"

log="$T_DIR/ops.jsonl"
check "$CRASH_OPERATIONS commands from $CRASH_WORKERS processes under random SIGKILLs" \
  python3 "$SOURCE_ROOT/tests/crash/crash-driver.py" "$SETTLE" "$T_DIR/pki" "$CRASH_WORKERS" \
  "$CRASH_OPERATIONS" "$log"
sed 's/^/# /' "$T_DIR/last.out"
python3 - "$log" <<'PY'
import collections, json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
c = collections.Counter((o["op"], {0: "ok", 1: "refused", -9: "killed"}.get(o["rc"], "other")) for o in ops)
print("# " + ", ".join(f"{op} {res}: {n}" for (op, res), n in sorted(c.items())))
PY
check "every command finished: done, refused (already there, not there) or killed" python3 - "$log" <<'PY'
import json, sys
odd = [o for o in map(json.loads, open(sys.argv[1])) if o["rc"] not in (0, 1, -9)]
assert not odd, odd
PY
check "all $CRASH_OPERATIONS commands ran, a twentieth or more killed, a tenth or more done" \
  python3 - "$log" "$CRASH_OPERATIONS" <<'PY'
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
assert len(ops) == int(sys.argv[2]), len(ops)
assert sum(o["rc"] == -9 for o in ops) >= len(ops) // 20, "too few kills"
assert sum(o["rc"] == 0 for o in ops) >= len(ops) // 10, "too few successes"
PY

# What is left on disk, before any further command could tidy up.
if [ -e "$DATA_DIR/commit-pending" ]; then
  echo "# a kill left a change half done (commit-pending): the next command must finish it"
fi
find "$DATA_DIR" -name '.*' ! -path "$DATA_DIR" | sed "s|$DATA_DIR/|# left: |" | head -20
check "no temporary file outside the names the store ignores (.tmp-*) and its catalogue" bash -c \
  "! find '$STORE_DIR' -mindepth 1 ! -name '*.json' ! -name '.tmp-*' ! -name catalogue ! -name keys ! -path '*/keys/*' | grep -q ."
check "every record file parses (settle list --json)" bash -c "'$SETTLE' list --json >'$T_DIR/list.json'"
check "the first command finished any change a kill interrupted (no commit-pending mark)" \
  test ! -e "$DATA_DIR/commit-pending"
check "the list validates against schema/list.schema.json" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" list.schema.json "$T_DIR/list.json"
check "each record file is whole JSON with its fingerprint as its name" python3 - "$STORE_DIR" <<'PY'
import glob, json, os, sys
for path in glob.glob(os.path.join(sys.argv[1], "*.json")):
    record = json.load(open(path))
    assert os.path.basename(path) == record["fingerprint"].replace(":", "").lower() + ".json" \
        or os.path.basename(path).startswith(record["fingerprint"].replace(":", "").lower()), path
PY
check "the trust snapshot is readable (settle audit --json)" bash -c "'$SETTLE' audit --json >'$T_DIR/audit.json'"
check "and lists exactly the store's records (no inconsistency)" python3 - "$T_DIR/audit.json" <<'PY'
import json, sys
problems = [p for p in json.load(open(sys.argv[1]))["inconsistencies"]
            if p["kind"] not in ("expired-anchor",)]
assert problems == [], problems
PY

# Lost nothing: when the last successful command on a slot was a trust
# and no remove was even attempted after it, the slot must be there; when
# it was a remove and no trust was attempted after it (not even a killed
# one), it must have stayed away.
check "every trust reported done and not removed later is present" python3 - "$log" "$T_DIR/list.json" <<'PY'
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
present = {a["label"] for a in json.load(open(sys.argv[2]))["anchors"]}
last_ok = {}
attempted_after = {}   # slot -> ops attempted after its last success
for o in sorted(ops, key=lambda o: (o["worker"], o["seq"])):
    slot = f"slot-{o['slot']}"
    if o["rc"] == 0:
        last_ok[slot] = o["op"]
        attempted_after[slot] = set()
    elif slot in attempted_after:
        attempted_after[slot].add(o["op"])
must_be_there = [s for s, op in last_ok.items() if op == "trust" and "remove" not in attempted_after[s]]
must_be_gone = [s for s, op in last_ok.items() if op == "remove" and "trust" not in attempted_after[s]]
lost = [s for s in must_be_there if s not in present]
revived = [s for s in must_be_gone if s in present]
print(f"# {len(must_be_there)} slots must be there, {len(must_be_gone)} must be gone, "
      f"{len(present)} present")
assert not lost, f"lost: {lost}"
assert not revived, f"removed but back: {revived}"
PY

# Temporary files of killed writers are ignored at once and removed by a
# later write once they are a minute old: age them rather than wait.
find "$STORE_DIR" -name '.tmp-*' -exec touch -d '2 minutes ago' {} +
check "the next command works normally (trust one more)" bash -c \
  "'$SETTLE' trust --ca '$T_DIR/pki/slot-0.pem' --fingerprint \$(cat '$T_DIR/pki/slot-0.fp') --scope dev0.local --label slot-0 --yes || '$SETTLE' remove slot-0 --yes"
check "after it, no temporary file is left in the store or the snapshots" bash -c \
  "! find '$DATA_DIR' -name '.tmp-*' -o -name '.gen-*' -o -name '.trust.tmp' | grep -q ."
check "and the audit is still clean" bash -c \
  "'$SETTLE' audit --json | python3 -c 'import json,sys; p=[x for x in json.load(sys.stdin)[\"inconsistencies\"] if x[\"kind\"]!=\"expired-anchor\"]; assert p==[], p'"

done_testing
