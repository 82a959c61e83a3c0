#!/usr/bin/env bash
# The file store's catalogue (lib/store/store-catalogue.c) is a cache, never
# the authority: `settle list` prints byte for byte what it prints from the
# records alone, for every kind of record, and whatever happened to the
# catalogue or to the records behind settle's back (deleted, truncated,
# garbage, oversized, a bad checksum, rows swapped; records added, removed
# or edited by hand).  A product test: the real `settle`, a real file store,
# no test variables but the store's place.  Argument: catalogue-fill.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool python3 openssl
FILL=$1
store=$XDG_DATA_HOME/settle/store
cat=$store/catalogue
good=$T_DIR/catalogue.good

"$FILL" "$store" || { fail "fill the store"; done_testing; exit 1; }
"$FILL" "$T_DIR/side" "Added by hand" || { fail "fill the side store"; done_testing; exit 1; }
# Rows are written only for record files older than 3 s (the freshness
# rule, schema/store.md); then one change rewrites the catalogue as any
# change does.
sleep 3.5
check "a change through the store" "$FILL" "$store" --change
check "the catalogue is mode 0600" test "$(stat -c %a "$cat")" = 600
check "the catalogue has a row for each of the ten records" \
  bash -c "tail -n 1 '$cat' | cut -f 2 | grep -qx 10"
cp -p "$cat" "$good"

# truth: what settle lists from the records alone (no catalogue).
truth() {
  local kept=no
  if [ -e "$cat" ]; then mv "$cat" "$T_DIR/catalogue.aside"; kept=yes; fi
  "$SETTLE" list >"$T_DIR/truth.txt" 2>&1 || true
  "$SETTLE" list --json >"$T_DIR/truth.json" 2>&1 || true
  if [ $kept = yes ]; then mv "$T_DIR/catalogue.aside" "$cat"; fi
}
# same_as_truth WHAT: settle list, text and --json, as from the records.
same_as_truth() {
  truth
  "$SETTLE" list >"$T_DIR/out.txt" 2>&1 || true
  "$SETTLE" list --json >"$T_DIR/out.json" 2>&1 || true
  check "$1: settle list is byte for byte the records' list" cmp "$T_DIR/truth.txt" "$T_DIR/out.txt"
  check "$1: settle list --json is byte for byte the records' list" cmp "$T_DIR/truth.json" "$T_DIR/out.json"
}
restore() { cp -p "$good" "$cat"; }
# rewrite_rows PYTHON: edits `rows` (lists of 12 fields) of the catalogue
# and writes it back with a correct count and checksum, as settle would.
rewrite_rows() {
  python3 - "$cat" "$1" <<'PY'
import hashlib, sys
path, code = sys.argv[1], sys.argv[2]
lines = open(path, "rb").read().split(b"\n")
header, rows = lines[0], [l.split(b"\t") for l in lines[1:-2]]
exec(code)
body = header + b"\n" + b"".join(b"\t".join(r) + b"\n" for r in rows)
open(path, "wb").write(body + b"end\t%d\t%s\n" % (len(rows), hashlib.sha256(body).hexdigest().encode()))
PY
}
row_of() { python3 -c "import sys; print(sys.argv[1])" "$1"; }
# relabel_in_place FILE OLD NEW: the record's label OLD becomes NEW (same
# length) by a write into the file, its mtime put back: same size, same
# inode, same mtime, so only the ctime tells.
relabel_in_place() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
path, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
assert len(old) == len(new)
st = os.stat(path)
data = open(path, "rb").read().replace(b'"label":"' + old + b'"', b'"label":"' + new + b'"')
with open(path, "r+b") as f:
    f.write(data)
os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
}
# catalogue_has_label LABEL: a row of the catalogue has exactly that label.
catalogue_has_label() { grep -q "$(printf '\t')$1$(printf '\t')" "$cat"; }

same_as_truth "every kind of record, catalogue present"
for word in Acme 'Büro, \\\\share' Hashed 'does not match' referee 'pinned-peer' expired Twin; do
  check "the list shows $word" grep -q -- "$word" "$T_DIR/out.txt"
done

check_fails "a label two records have is ambiguous" "matches 2 records" "$SETTLE" show Twin

# Control: a row that matches its file is used (else every test below
# would pass without the catalogue ever being read).
rewrite_rows 'rows = [r[:7] + [b"NAS from the catalogue"] + r[8:] if r[7] == b"NAS" else r for r in rows]'
check "a fresh row is what settle list shows (the catalogue is read)" \
  bash -c "'$SETTLE' list | grep -q 'NAS from the catalogue'"
restore

rm -f "$cat"
same_as_truth "catalogue deleted"
restore; truncate -s 700 "$cat"
same_as_truth "catalogue truncated"
restore; head -c 5000 /dev/urandom >"$cat"
same_as_truth "catalogue of garbage"
restore; truncate -s $((64 * 1024 * 1024 + 1)) "$cat"
same_as_truth "catalogue over 64 MiB"
rm -f "$cat"; mkfifo "$cat"
check "a FIFO for a catalogue does not hang settle list" timeout 20 "$SETTLE" list
same_as_truth "a FIFO for a catalogue"
rm -f "$cat"; ln -s "$good" "$cat"
same_as_truth "a symbolic link for a catalogue"
rm -f "$cat"
restore; sed -i 's/\tNAS\t/\tNAs\t/' "$cat"
same_as_truth "a row changed without its checksum"
restore; rewrite_rows 'rows = rows + rows[:1]'
same_as_truth "a row twice"
restore
rewrite_rows '
a, b = rows[0][0], rows[1][0]
rows[0][0], rows[1][0] = b, a'
same_as_truth "two rows with each other's fingerprints"
restore

# Records changed behind settle's back (in the last 3 s: the catalogue
# stays as it was, as the reads may not write rows for them).
added=$(ls "$T_DIR/side"/*.json)
cp "$added" "$store/"
same_as_truth "a record added by hand"
check "the added record is listed" grep -q "Added by hand" "$T_DIR/out.txt"
# A change now rewrites the catalogue, but a file changed in the last 3 s
# gets no row: a second change within the file system's clock tick would
# leave its ctime as recorded (schema/store.md, the freshness rule).
check "a change right after the record was added" "$FILL" "$store" --change
check "the record changed in the last 3 s has no row, the others have theirs" python3 - "$cat" "$added" <<'PY'
import os, sys
cat, added = sys.argv[1], os.path.basename(sys.argv[2])[:64]
written = os.stat(cat).st_mtime_ns
rows = [l.split(b"\t") for l in open(cat, "rb").read().split(b"\n")[1:-2]]
fps = [r[0].decode() for r in rows]
assert added not in fps, "a row for the record added 0 s ago"
assert len(rows) == 10, len(rows)
assert all(int(r[4]) <= written - 3 * 10**9 for r in rows), "a row for a recent file"
PY
same_as_truth "after that change"
nas=$(grep -l '"label":"NAS"' "$store"/*.json)
rm "$nas"
same_as_truth "a record removed by hand"
check "the removed record is not listed" bash -c "! grep -q '^NAS ' '$T_DIR/out.txt'"
# Same size, same inode, mtime put back: only the ctime tells.
old=$(grep -l '"label":"Old camera"' "$store"/*.json)
relabel_in_place "$old" "Old camera" "OLD camera"
same_as_truth "a record edited in place by hand, its mtime put back"
check "the edited label is listed" grep -q "OLD camera" "$T_DIR/out.txt"
# A record file holding another record: not readable, so not listed.
twin=$(grep -l '"label":"Twin"' "$store"/*.json | head -n 1)
cp "$(grep -l '"label":"Hashed names"' "$store"/*.json)" "$twin"
same_as_truth "a record file holding another record's fingerprint"

# Lookups by label or name (settle show, settle remove) go through the
# catalogue too.
check "found by the label edited by hand" "$SETTLE" show "OLD camera"
check_fails "not by the label it had" "No trusted record matches" "$SETTLE" show "Old camera"
check "found by a name" "$SETTLE" show router.local
check "found by the added record's name" "$SETTLE" show added.local
check_fails "not the removed record" "No trusted record matches" "$SETTLE" show nas.local
check "the catalogue is rewritten by the next change" "$FILL" "$store" --change
check "so that it differs" bash -c "! cmp -s '$good' '$cat'"
same_as_truth "after the next change"

# A change carries the rows of the records it did not change without
# checking them; a read that had to read a record changed 3 s or more
# before rewrites the catalogue with fresh rows only (schema/store.md,
# "Writing").
sleep 3.5
"$SETTLE" list >/dev/null 2>&1
check "a read that found rows stale rewrote the catalogue (the label edited by hand is in it)" \
  catalogue_has_label "OLD camera"
inode=$(stat -c %i "$cat")
"$SETTLE" list >/dev/null 2>&1
check "a read that found every row fresh left the catalogue alone" test "$(stat -c %i "$cat")" = "$inode"
relabel_in_place "$old" "OLD camera" "New camera"
sleep 3.5
check "a change after a record was edited by hand" "$FILL" "$store" --change
check "the change carried that record's row unchecked, stale as it is" \
  catalogue_has_label "OLD camera"
same_as_truth "a stale row carried by a change"
check "the list shows the label as edited" grep -q "New camera" "$T_DIR/out.txt"
check "the read that found it stale rewrote the catalogue with the edited label" \
  catalogue_has_label "New camera"
check "and without the stale row" bash -c "! grep -q 'OLD camera' '$cat'"
done_testing
