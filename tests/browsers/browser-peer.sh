#!/bin/bash
# Issue 6 part 3 and issue 12: a device with only a self-signed leaf,
# pinned with `settle trust --peer`.  The module serves it as a trusted peer
# (certutil "P,,": a trusted leaf, never a CA, for TLS servers only) in the
# NSS trust object that Chromium's system NSS reads, and as a trust anchor
# in the PKCS#11 3.2 trust object that Firefox's newer NSS reads first
# (mozilla::pkix takes a leaf only as an anchor; docs/browsers.md, "Pinned
# peers").  Both browsers open it through the module, refuse a second
# self-signed leaf with the same name and another key, and refuse a leaf
# signed with the peer's key.  The same checks against NSS's own database
# with "CP,," (the earlier peer trust) are kept for comparison.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/browsers/browser-lib.sh"

P=$T_DIR/pki; mkdir -p "$P"
mk_self nas "DNS:nas.local"
mk_self impostor "DNS:nas.local"
# A leaf for other names signed with the pinned device's key, as if the
# device's key tried to act as a CA.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/minted.key" \
  -out "$P/minted.csr" -subj /CN=minted 2>/dev/null
openssl x509 -req -in "$P/minted.csr" -CA "$P/nas.pem" -CAkey "$P/nas.key" -CAcreateserial -days 5 \
  -out "$P/minted.pem" -extfile <(printf 'subjectAltName=DNS:other.local,DNS:bank.example\nextendedKeyUsage=serverAuth\n') 2>/dev/null

check "settle trust --peer pins the self-signed leaf" \
  "$SETTLE" trust --peer "$P/nas.pem" --fingerprint "$(fingerprint "$P/nas.pem")" --yes
setup_chromium_nssdb
setup_firefox_profile
certutil -L -d "sql:$FF_PROFILE" -h all >"$T_DIR/list.txt" 2>&1 || true
PEER_TRUST=$(sed -n 's/^SETTLE Local Trust:nas\.local  *\([A-Za-z]*,[A-Za-z]*,[A-Za-z]*\) *$/\1/p' "$T_DIR/list.txt")
check "NSS sees the pinned peer through the module (trust '$PEER_TRUST')" test -n "$PEER_TRUST"

TITLE=nas.local start_server nas "$P/nas.pem" "$P/nas.key" -; NAS=$PORT
TITLE=nas.local start_server impostor "$P/impostor.pem" "$P/impostor.key" -; IMP=$PORT
TITLE=minted start_server minted "$P/minted.pem" "$P/minted.key" "$P/nas.pem"; MINT=$PORT

MAP=nas.local,other.local
start_browser chromium "$MAP"
start_browser firefox "$MAP"
expect_loaded chromium "https://nas.local:$NAS/" nas.local "opens the pinned peer nas.local"
check "the module serves the peer as certutil's P,, (a trusted leaf for TLS servers, never a CA)" \
  test "$PEER_TRUST" = "P,,"
expect_loaded firefox "https://nas.local:$NAS/" nas.local "opens the pinned peer nas.local"
expect_refused "chromium firefox" "https://nas.local:$IMP/" \
  "refuses another self-signed nas.local with another key" UNTRUSTED
expect_refused "chromium firefox" "https://other.local:$MINT/" \
  "refuses a leaf signed with the pinned peer's key"
stop_browser chromium
stop_browser firefox

# The design that works in both browsers, through NSS's own database.
HOME_CP=$T_DIR/home-cp
mkdir -p "$HOME_CP/.pki/nssdb" "$T_DIR/firefox-cp"
for db in "$HOME_CP/.pki/nssdb" "$T_DIR/firefox-cp"; do
  certutil -N -d "sql:$db" --empty-password
  certutil -A -d "sql:$db" -n nas.local -t "CP,," -i "$P/nas.pem"
done
check "NSS shows the leaf with SSL trust CP" \
  bash -c "certutil -L -d 'sql:$T_DIR/firefox-cp' | grep -Eq '^nas\.local +CP,, *$'"
start_browser chromium_cp "$MAP" "$T_DIR/chromium-cp" HOME="$HOME_CP"
start_browser firefox_cp "$MAP" "$T_DIR/firefox-cp"
expect_loaded "chromium_cp firefox_cp" "https://nas.local:$NAS/" nas.local \
  "opens a self-signed leaf trusted CP,, (the proposed peer trust)"
expect_refused "chromium_cp firefox_cp" "https://nas.local:$IMP/" \
  "still refuses the impostor with the same name" UNTRUSTED
expect_refused "chromium_cp firefox_cp" "https://other.local:$MINT/" \
  "does not let the CP,, leaf's key issue certificates"
stop_browser chromium_cp
stop_browser firefox_cp
check "the impostor and the minted leaf never got a request through" \
  bash -c "! grep -q '^GET' '$T_DIR/srv-impostor.log' && ! grep -q '^GET' '$T_DIR/srv-minted.log'"
done_testing
