#!/usr/bin/env bash
# settle export: `openssl verify` with the exported bundle (and hash
# directory) accepts the in-scope leaf and rejects every escape; a kept
# export follows later changes.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl

pki=$T_DIR/pki; mkdir -p "$pki"
mk_ca "$pki" printer
fp=$(fingerprint "$pki/printer.pem")
"$SETTLE" trust --ca "$pki/printer.pem" --fingerprint "$fp" --scope printer.local --yes >/dev/null 2>&1

mk_leaf "$pki" printer ok "DNS:printer.local"
mk_leaf "$pki" printer bank "DNS:bank.example"
mk_leaf "$pki" printer public_ip "IP:8.8.8.8"
mk_leaf "$pki" printer private_ip "IP:192.168.1.10"
mk_leaf "$pki" printer ipv6 "IP:::1"
mk_leaf "$pki" printer mixed "DNS:printer.local,DNS:bank.example"
mk_leaf "$pki" printer sibling "DNS:scanner.local"
# A CN-only leaf: no subjectAltName at all.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/cn.key" \
  -out "$pki/cn.csr" -subj "/CN=bank.example" 2>/dev/null
openssl x509 -req -in "$pki/cn.csr" -CA "$pki/printer.pem" -CAkey "$pki/printer.key" \
  -CAcreateserial -days 30 -out "$pki/cn_only.pem" 2>/dev/null

# In-scope names, no extendedKeyUsage: only the anchor's purpose can
# refuse these for S/MIME or client authentication.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/any.key" \
  -out "$pki/any.csr" -subj "/CN=printer.local" 2>/dev/null
openssl x509 -req -in "$pki/any.csr" -CA "$pki/printer.pem" -CAkey "$pki/printer.key" \
  -CAcreateserial -days 30 -out "$pki/any_purpose.pem" \
  -extfile <(printf 'subjectAltName=DNS:printer.local\nbasicConstraints=critical,CA:FALSE\n') 2>/dev/null

check "export --pem writes a bundle" "$SETTLE" export --pem "$T_DIR/bundle.pem"
check "the bundle holds the wrapper root and the cross certificate" \
  test "$(grep -c 'BEGIN TRUSTED CERTIFICATE' "$T_DIR/bundle.pem")" -eq 2
check "the device CA itself is not in the bundle" \
  bash -c "! grep -qF \"\$(sed -n 2p '$pki/printer.pem')\" '$T_DIR/bundle.pem'"

check "openssl verify -CAfile accepts printer.local" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/ok.pem"
check_fails "bank.example is rejected (permitted subtree)" "permitted subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/bank.pem"
check_fails "a public IP is rejected (excluded subtree)" "excluded subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/public_ip.pem"
check_fails "a private IP is rejected (excluded subtree)" "excluded subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/private_ip.pem"
check_fails "an IPv6 address is rejected" "excluded subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/ipv6.pem"
check_fails "mixed names are rejected" "permitted subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/mixed.pem"
check_fails "a sibling name outside the exact scope is rejected" "permitted subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/sibling.pem"
check_fails "a CN-only bank.example leaf is rejected" "permitted subtree violation" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/cn_only.pem"
check_fails "without settle the device CA alone is not trusted" "unable to get local issuer" \
  openssl verify -no-CAfile -no-CApath -no-CAstore "$pki/ok.pem"

# The anchors are trusted for TLS servers only (settle-anchor-rule.h).
for purpose in smimesign smimeencrypt sslclient; do
  check_fails "the bundle refuses a device leaf for -purpose $purpose" "rejected" \
    openssl verify -purpose $purpose -CAfile "$T_DIR/bundle.pem" "$pki/any_purpose.pem"
done
check "the same leaf verifies for -purpose sslserver" \
  openssl verify -purpose sslserver -CAfile "$T_DIR/bundle.pem" "$pki/any_purpose.pem"

# Every certificate OpenSSL reads from the hash directory and the bundle
# carries trust for TLS servers alone (what makes S/MIME fail even where a
# certificate's own extendedKeyUsage would allow it).
only_server_trust() {
  local f n=0
  for f in "$XDG_DATA_HOME/settle/trust/"[0-9a-f]*.[0-9]; do
    openssl x509 -in "$f" -noout -text | grep -A1 '^Trusted Uses:' | tail -1 |
      grep -qx '  TLS Web Server Authentication' || return 1
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}
check "every hash-directory certificate is trusted for TLS Web Server Authentication alone" only_server_trust
check "bundle.pem is TRUSTED CERTIFICATE throughout" \
  bash -c "! grep -q 'BEGIN CERTIFICATE' '$T_DIR/bundle.pem' && grep -q 'BEGIN TRUSTED CERTIFICATE' '$T_DIR/bundle.pem'"

check "export --dir writes a hash directory and is kept" \
  "$SETTLE" export --dir "$T_DIR/capath" --keep
check "openssl verify -CApath accepts printer.local" \
  openssl verify -purpose sslserver -CApath "$T_DIR/capath" "$pki/ok.pem"
check_fails "openssl verify -CApath rejects bank.example" "permitted subtree violation" \
  openssl verify -purpose sslserver -CApath "$T_DIR/capath" "$pki/bank.pem"
mkdir -p "$T_DIR/foreign"; echo x >"$T_DIR/foreign/keep-me"
check_fails "export refuses a directory it did not make" "not empty" \
  "$SETTLE" export --dir "$T_DIR/foreign"
check "the foreign directory is untouched" test -f "$T_DIR/foreign/keep-me"

"$SETTLE" remove "$fp" --yes >/dev/null 2>&1
check_fails "after remove, the kept directory no longer trusts the device" "unable to get local issuer" \
  openssl verify -purpose sslserver -CApath "$T_DIR/capath" "$pki/ok.pem"
check "export --forget stops keeping it" "$SETTLE" export --forget "$T_DIR/capath"
check_fails "export --forget of an unknown path is refused" "not kept" \
  "$SETTLE" export --forget "$T_DIR/capath"
set +e; "$SETTLE" export >/dev/null 2>&1; rc=$?; set -e
check "export without a target is a usage error" test "$rc" -eq 2

# Modes are explicit, whatever the umask.
modes() { stat -c %a "$@" | sort -u | tr '\n' ' '; }
(umask 077 && "$SETTLE" export --pem "$T_DIR/private-umask.pem" && "$SETTLE" export --dir "$T_DIR/private-umask") >/dev/null 2>&1
check "under umask 077 the exported bundle is 0644" test "$(modes "$T_DIR/private-umask.pem")" = "644 "
check "under umask 077 the export directory is 0755, its files 0644" \
  test "$(modes "$T_DIR/private-umask")" = "755 " -a "$(modes "$T_DIR/private-umask"/.settle-export)" = "644 "
(umask 000 && "$SETTLE" export --dir "$T_DIR/open-umask") >/dev/null 2>&1
check "under umask 000 the marker and directory are not writable by others" \
  test "$(modes "$T_DIR/open-umask")" = "755 " -a "$(modes "$T_DIR/open-umask"/.settle-export)" = "644 "

done_testing
