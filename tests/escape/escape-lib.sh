# tests/escape/escape-lib.sh: what the escape drivers share.  Source after
# tests/lib.sh.  Gives the generated PKI and rows (make-escapes.sh), the
# anchors stored through `settle trust`, the live servers, and the cell
# bookkeeping: each verifier's column goes to $E_RES/VERIFIER.tsv, and
# matrix-md.py merges every column present into $E_BUILD/escape-matrix.md.

E_SRC=$SOURCE_ROOT/tests/escape
E_BUILD=$BUILD_ROOT/tests/escape
E_RES=$E_BUILD/results
E=$T_DIR/esc
P=$E/pki
TRUST=$XDG_DATA_HOME/settle/trust
STORE_DIR=$XDG_DATA_HOME/settle/store
mkdir -p "$E_RES"

ROW_IDS=()
declare -A R_EXPECT R_ANCHOR R_PURPOSE R_HOST R_FLAGS R_LEAF R_INTS R_CHAIN INGEST ANCHOR_KIND

escape_make() {
  if ! bash "$E_SRC/make-escapes.sh" "$E" >"$T_DIR/make.out" 2>&1; then
    echo "Bail out! make-escapes.sh failed"; sed 's/^/#   /' "$T_DIR/make.out"; exit 1
  fi
  sed 's/^/# /' "$T_DIR/make.out"
  cp "$E/rows.tsv" "$E_BUILD/rows.tsv"
  local id expect anchor purpose host flags leaf ints chain how tries
  while IFS=$'\t' read -r id expect anchor purpose host flags leaf ints chain how tries; do
    ROW_IDS+=("$id")
    R_EXPECT[$id]=$expect R_ANCHOR[$id]=$anchor R_PURPOSE[$id]=$purpose R_HOST[$id]=$host
    R_FLAGS[$id]=$flags R_LEAF[$id]=$leaf R_INTS[$id]=$ints R_CHAIN[$id]=$chain
  done <"$E/rows.tsv"
  # One PEM per row for the verifiers that read a chain from a file: the
  # leaf, then the intermediates an offline verifier is given.
  for id in "${ROW_IDS[@]}"; do
    cat "$P/${R_LEAF[$id]}.pem" >"$P/$id.chain.pem"
    for c in $(ints_of "$id"); do cat "$P/$c.pem" >>"$P/$id.chain.pem"; done
  done
}
ints_of() { [ "${R_INTS[$1]}" = - ] || echo "${R_INTS[$1]}"; }
chain_of() { [ "${R_CHAIN[$1]}" = - ] || echo "${R_CHAIN[$1]}"; }

count_store() { local n=0 f; for f in "$STORE_DIR"/*.json; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }
# escape_ingest: every anchor of anchors.tsv through `settle trust`, as a
# user would; an anchor the rule forbids must be refused with a message and
# nothing stored.  INGEST[anchor] = ok | refused; ANCHOR_KIND[anchor] =
# ca | referee | peer.
escape_ingest() {
  local a kind scope want f args before after
  while IFS=$'\t' read -r a kind scope want; do
    f=$P/$a.pem
    ANCHOR_KIND[$a]=$kind
    case $kind in
      ca) args=(--ca "$f" --scope "$scope") ;;
      referee) args=(--ca "$f" --referee --scope "$scope") ;;
      peer) args=(--peer "$f") ;;
    esac
    before=$(count_store)
    if "$SETTLE" trust "${args[@]}" --fingerprint "$(fingerprint "$f")" --yes >"$T_DIR/ingest-$a.out" 2>&1; then
      INGEST[$a]=ok
    else
      INGEST[$a]=refused
    fi
    after=$(count_store)
    if [ "$want" = ok ]; then
      if [ "${INGEST[$a]}" = ok ]; then pass "ingest: settle trust stores $a ($kind)"; else
        fail "ingest: settle trust stores $a ($kind)"; sed 's/^/#   /' "$T_DIR/ingest-$a.out"; fi
    elif [ "${INGEST[$a]}" = refused ] && [ "$before" = "$after" ] && [ -s "$T_DIR/ingest-$a.out" ]; then
      pass "ingest: settle trust refuses $a and stores nothing: $(tail -1 "$T_DIR/ingest-$a.out")"
    else
      fail "ingest: settle trust must refuse $a (${INGEST[$a]}, store $before -> $after files)"
      sed 's/^/#   /' "$T_DIR/ingest-$a.out"
    fi
  done <"$E/anchors.tsv"
}

# start_rows BIND: one escape-server.py listening for every srv row (the
# leaf, then the chain a device would send); PORT_OF[row].
declare -A PORT_OF
start_rows() {
  local bind=$1 id specs=() chainfile c
  for id in "${ROW_IDS[@]}"; do
    [ "${R_PURPOSE[$id]}" = srv ] || continue
    chainfile=-
    if [ -n "$(chain_of "$id")" ]; then
      chainfile=$P/$id.served-chain.pem; : >"$chainfile"
      for c in $(chain_of "$id"); do cat "$P/$c.pem" >>"$chainfile"; done
    fi
    specs+=("$id:$P/${R_LEAF[$id]}.pem:$P/${R_LEAF[$id]}.key:${chainfile#-}")
  done
  python3 "$E_SRC/escape-server.py" --bind "$bind" "${specs[@]}" >"$T_DIR/servers.log" 2>&1 &
  local pid=$! i
  at_exit "kill $pid 2>/dev/null"
  for i in $(seq 200); do grep -q '^ready$' "$T_DIR/servers.log" && break; sleep 0.1; done
  if ! grep -q '^ready$' "$T_DIR/servers.log"; then
    echo "Bail out! escape-server.py did not start"; sed 's/^/#   /' "$T_DIR/servers.log"; exit 1
  fi
  while read -r _ id port; do PORT_OF[$id]=$port; done < <(grep '^listening ' "$T_DIR/servers.log")
}

host_kind() { # name | ip | ip6 | email
  case $1 in
    *@*) echo email ;;
    *:*) echo ip6 ;;
    *[!0-9.]*) echo name ;;
    *) echo ip ;;
  esac
}
url_of() { # url_of ROW: https URL for the row's host and port
  local h=${R_HOST[$1]}
  [ "$(host_kind "$h")" = ip6 ] && h="[$h]"
  echo "https://$h:${PORT_OF[$1]}/"
}

# Cells.  cell V ROW OUTCOME DETAIL with OUTCOME accepted | refused | n.a.
cell() { printf '%s\t%s\t%s\n' "$2" "$3" "$(echo "$4" | tr '\t\n' '  ' | cut -c1-200)" >>"$T_DIR/cells-$1.tsv"; }
# try V ROW CMD...: runs CMD (20 s at most); exit 0 = accepted.
try() {
  local v=$1 row=$2; shift 2
  if timeout 20 "$@" >"$T_DIR/try.out" 2>&1; then
    cell "$v" "$row" accepted "$(grep -v '^ *$' "$T_DIR/try.out" | tail -1)"
  else
    cell "$v" "$row" refused "$(grep -Ev '^ *$|^[0-9A-F]{16}:error:' "$T_DIR/try.out" | tail -2)"
  fi
}

# judge V: turns the column into TAP lines and $E_RES/V.tsv.  An escape
# must not be accepted; a control must be.  A refusal of a row whose
# anchor `settle trust` refused is recorded as ingest-refused, except in
# the columns that bypass ingest (judge V past-ingest).
judge() {
  local v=$1 past=${2:-} id outcome detail shown
  : >"$E_RES/$v.tsv"
  declare -A got=() why=()
  while IFS=$'\t' read -r id outcome detail; do got[$id]=$outcome why[$id]=$detail; done <"$T_DIR/cells-$v.tsv"
  for id in "${ROW_IDS[@]}"; do
    outcome=${got[$id]:-missing} detail=${why[$id]:-}
    shown=$outcome
    case $outcome in refused:*) shown=${outcome#refused:} outcome=refused ;; esac
    if [ -z "$past" ] && [ "$shown" = refused ] && [ "${INGEST[${R_ANCHOR[$id]}]:-}" = refused ]; then shown=ingest-refused; fi
    printf '%s\t%s\n' "$id" "$shown" >>"$E_RES/$v.tsv"
    case ${R_EXPECT[$id]}/$outcome in
      */n.a.) ;;
      */missing) fail "$v: $id: no result recorded" ;;
      */error) fail "$v: $id: no verdict ($detail)" ;;
      accept/accepted) pass "$v: $id control accepted" ;;
      refuse/refused) pass "$v: $id $shown${detail:+ ($detail)}" ;;
      refuse/accepted) fail "$v: $id ESCAPED: the escape was accepted ($detail)" ;;
      *) fail "$v: $id control not accepted ($outcome: $detail)" ;;
    esac
  done
}
write_matrix() {
  python3 "$E_SRC/matrix-md.py" "$E_BUILD/rows.tsv" "$E_RES" "$E_BUILD/escape-matrix.md" \
    && echo "# matrix: $E_BUILD/escape-matrix.md"
}
