#!/bin/bash
# make-escapes.sh OUTDIR: the escape matrix's adversarial PKI, made with the
# openssl CLI (python3 only to patch a NUL byte into a name before the
# certificate is signed again, and to encode raw SAN bytes as hex).
#
# Writes OUTDIR/pki/*.{pem,key,der} and two tables the drivers read:
#
#   OUTDIR/anchors.tsv  anchor | kind (ca, referee, peer) | scope | ingest (ok, refuse)
#   OUTDIR/rows.tsv     id | expect | anchor | purpose | host | flags | leaf | intermediates | served chain | how | tries
#
# expect: accept (a control) or refuse (an escape).  purpose: srv (TLS
# server), cli (TLS client), smime (S/MIME signing), code (code signing).
# host: the name or address a client would check the leaf against.
# flags: hn = the leaf escapes only through host-name matching (a verifier
# that checks the chain alone cannot tell, so it is n.a. there); nob = the
# host is no name a browser can be pointed at (n.a. in the browsers); "-"
# none.  intermediates: what an offline verifier is given besides the
# leaf; served chain: what the live servers send after the leaf.
#
# The table of rows is ROWS below, one line each: read it as the matrix's
# legend (docs/escape-matrix.md repeats it).
set -euo pipefail
OUT=${1:?usage: make-escapes.sh OUTDIR}
P=$OUT/pki
mkdir -p "$P"
cd "$P"

CNF=$P/req.cnf   # no default extensions from the system openssl.cnf
printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = x\n' >"$CNF"

newkey() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }
csr() { # csr NAME SUBJ [-utf8]
  newkey "$1"
  openssl req -new -config "$CNF" ${3:-} -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
}
# sign NAME ISSUER EXTTEXT: NAME.csr signed by ISSUER (or self when ISSUER
# is "self"); EXTTEXT "" makes a v1 certificate (no extensions at all).
sign() {
  local name=$1 issuer=$2 ext=$3 args=()
  if [ "$issuer" = self ]; then args=(-signkey "$name.key"); else
    args=(-CA "$issuer.pem" -CAkey "$issuer.key" -set_serial "0x$(openssl rand -hex 12)"); fi
  [ -n "$ext" ] && { printf '%b\n' "$ext" >"$name.ext"; args+=(-extfile "$name.ext"); }
  openssl x509 -req -in "$name.csr" "${args[@]}" -days 60 -out "$name.pem" 2>/dev/null
  openssl x509 -in "$name.pem" -outform DER -out "$name.der"
}
# cert NAME ISSUER SUBJ EXTTEXT
cert() { csr "$1" "$3"; sign "$1" "$2" "$4"; }
CA_EXT='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign'
SRV='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth'
srv() { # srv NAME ISSUER SAN [SUBJ]: a TLS server leaf
  cert "$1" "$2" "${4:-/CN=$1}" "$SRV\nsubjectAltName=$3"
}
# der_san TEXT: a subjectAltName extension holding one dNSName whose bytes
# are TEXT with \xNN escapes (NUL, UTF-8) as given, in DER: form.
der_san() {
  python3 - "$1" <<'EOF'
import sys
name = sys.argv[1].encode().decode('unicode_escape').encode('latin-1')
gn = b'\x82' + bytes([len(name)]) + name
print('subjectAltName=DER:' + (b'\x30' + bytes([len(gn)]) + gn).hex())
EOF
}
# nul_cn NAME ISSUER TEXT: a CN-only leaf whose CN is TEXT with its "~"
# turned into a NUL byte: a certificate made with "~" is patched, turned
# back into a request (openssl x509 -x509toreq, signed again by the leaf's
# key) and signed by ISSUER.
nul_cn() {
  local name=$1 issuer=$2 text=$3
  cert "$name-pre" "$issuer" "/CN=$text" ""
  python3 - "$name-pre.der" "$text" <<'EOF2'
import sys
path, text = sys.argv[1], sys.argv[2].encode()
data = open(path, 'rb').read()
assert data.count(text) == 1
open(path, 'wb').write(data.replace(text, text.replace(b'~', b'\0')))
EOF2
  openssl x509 -x509toreq -inform DER -in "$name-pre.der" -signkey "$name-pre.key" -out "$name.csr" 2>/dev/null
  cp "$name-pre.key" "$name.key"
  sign "$name" "$issuer" "$SRV"
}

# --- the anchors -----------------------------------------------------------
cert dev self "/CN=printer device CA" "$CA_EXT"        # device CA, scope printer.local
cert lab self "/CN=lab referee CA" "$CA_EXT"           # referee, scope lab.home.arpa
# Pinned peers: one proper, then one per way a "peer" could act as a CA.
cert peer-ok self "/CN=nas.local" "$SRV\nsubjectAltName=DNS:nas.local"
# A second proper peer: escape-browsers swaps its snapshot entry.
cert peer-ok2 self "/CN=ok2.local" "$SRV\nsubjectAltName=DNS:ok2.local"
cert peer-nobc self "/CN=nobc.local" 'keyUsage=critical,digitalSignature\nsubjectAltName=DNS:nobc.local'
cert peer-ca self "/CN=ca.local" 'basicConstraints=critical,CA:TRUE\nsubjectAltName=DNS:ca.local'
cert peer-kcs self "/CN=kcs.local" 'keyUsage=critical,digitalSignature,keyCertSign\nsubjectAltName=DNS:kcs.local'
cert peer-nc self "/CN=nc.local" 'basicConstraints=critical,CA:FALSE\nnameConstraints=critical,permitted;DNS:bank.example\nsubjectAltName=DNS:nc.local'
cert peer-v1 self "/CN=v1.local" ""
cert peer-ns self "/CN=ns.local" 'nsCertType=server,sslCA\nsubjectAltName=DNS:ns.local'
cert peer-ip self "/CN=192.168.1.20" "$SRV\nsubjectAltName=IP:192.168.1.20"
cert peer-bank self "/CN=bank.example" "$SRV\nsubjectAltName=DNS:bank.example"
cert peer-v3bare self "/CN=bare.local" 'subjectAltName=DNS:bare.local'
# A peer without extendedKeyUsage: NSS keeps one trust flag for both
# directions of SSL, so pinned it would be a trusted TLS client too; settle
# refuses to pin it (its certificate must say serverAuth alone).
cert peer-noeku self "/CN=noeku.local" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:noeku.local'

cat >"$OUT/anchors.tsv" <<'EOF'
dev	ca	printer.local	ok
lab	referee	lab.home.arpa	ok
peer-ok	peer	-	ok
peer-ok2	peer	-	ok
peer-nobc	peer	-	refuse
peer-ca	peer	-	refuse
peer-kcs	peer	-	refuse
peer-nc	peer	-	refuse
peer-v1	peer	-	refuse
peer-ns	peer	-	refuse
peer-ip	peer	-	refuse
peer-bank	peer	-	refuse
peer-v3bare	peer	-	refuse
peer-noeku	peer	-	refuse
EOF

# --- leaves from the device CA (scope printer.local) ------------------------
srv c-printer dev DNS:printer.local
srv c-sub dev DNS:ipp.printer.local
srv c-wild-sub dev 'DNS:*.printer.local'
srv e-bank dev DNS:bank.example
srv e-sibling dev DNS:scanner.local
srv e-evilprinter dev DNS:evilprinter.local
srv e-suffix dev DNS:printer.local.bank.example
srv e-localhost dev DNS:printer.localhost
srv e-namespace dev DNS:local
srv e-upper dev DNS:BANK.EXAMPLE
srv e-wild-local dev 'DNS:*.local'
srv e-wild-all dev 'DNS:*'
srv e-wild-example dev 'DNS:*.example'
srv e-wild-partial dev 'DNS:*printer.local'
cert e-cn-bank dev "/CN=bank.example" "$SRV"
srv e-cn-behind-san dev DNS:printer.local "/CN=bank.example"
cert e-cn-unicode dev "/CN=bаnk.example" "$SRV"          # Cyrillic a (U+0430)
csr e-cn-unicode-utf8 "/CN=bаnk.example" -utf8; sign e-cn-unicode-utf8 dev "$SRV"
srv e-idn-sibling dev DNS:xn--prnter-4va.local            # printér.local
srv e-idn-bank dev DNS:xn--bnk-8cd.example                # bаnk.example
cert e-raw-utf8 dev "/CN=raw" "$SRV\n$(der_san 'b\xd0\xb0nk.example')"
cert e-raw-utf8-local dev "/CN=raw" "$SRV\n$(der_san 'printer.l\xd0\xbecal')"
srv e-dot-bank dev DNS:bank.example.
srv e-dot-sibling dev DNS:scanner.local.
srv e-dot-suffix dev DNS:printer.local.bank.example.
srv e-ip-in-dns dev DNS:8.8.8.8
srv e-ip-in-dns-private dev DNS:192.168.1.20
cert e-ip-in-cn dev "/CN=8.8.8.8" "$SRV"
srv e-ip-public dev IP:8.8.8.8
srv e-ip-private dev IP:192.168.1.20
srv e-ip-loopback dev IP:127.0.0.1
srv e-ip6-loopback dev IP:::1
srv e-ip6-global dev IP:2001:db8::1
srv e-mixed-ip dev DNS:printer.local,IP:8.8.8.8
srv e-mixed-bank dev DNS:printer.local,DNS:bank.example
cert e-nul-san-in dev "/CN=nul" "$SRV\n$(der_san 'bank.example\x00.printer.local')"
cert e-nul-san-out dev "/CN=nul" "$SRV\n$(der_san 'printer.local\x00.bank.example')"
nul_cn e-nul-cn dev "bank.example~.printer.local"
# Sub-CAs under the device CA.
cert sub-plain dev "/CN=sub plain CA" "$CA_EXT"
srv c-subca sub-plain DNS:scan.printer.local
srv e-subca-bank sub-plain DNS:bank.example
cert sub-nc-bank dev "/CN=sub nc bank CA" "$CA_EXT\nnameConstraints=critical,permitted;DNS:bank.example"
srv e-subca-nc-bank sub-nc-bank DNS:bank.example
cert sub-widen dev "/CN=sub widen CA" "$CA_EXT\nnameConstraints=critical,permitted;DNS:local,permitted;DNS:example"
srv e-subca-widen sub-widen DNS:scanner.local
cert sub-ip dev "/CN=sub ip CA" "$CA_EXT\nnameConstraints=critical,permitted;IP:8.8.8.0/255.255.255.0"
srv e-subca-ip sub-ip IP:8.8.8.8
# Self-issued: a second "printer device CA" (same name, new key) signed by
# the device CA, which RFC 5280 exempts from name constraints as an
# intermediate; and a leaf whose subject is the CA's own name.
cert selfiss dev "/CN=printer device CA" "$CA_EXT"
srv e-selfissued-ca selfiss DNS:bank.example
srv e-selfissued-leaf dev DNS:bank.example "/CN=printer device CA"
cert e-selfsigned self "/CN=bank.example" "$SRV\nsubjectAltName=DNS:bank.example"
# Other purposes from the device CA.
cert e-smime-bank dev "/CN=ceo" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:ceo@bank.example'
cert e-smime-local dev "/CN=admin" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:admin@printer.local'
cert e-smime-noeku dev "/CN=ceo" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:printer.local,email:ceo@bank.example'
cert e-client dev "/CN=client" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:printer.local'
cert e-client-noeku dev "/CN=client" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:printer.local'
cert e-codesign dev "/CN=code" 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=DNS:printer.local'
# The referee (scope lab.home.arpa).
srv c-ref-apex lab DNS:lab.home.arpa
srv c-ref-host lab DNS:nas.lab.home.arpa
srv e-ref-parent lab DNS:home.arpa
srv e-ref-sibling lab DNS:xlab.home.arpa
srv e-ref-suffix lab DNS:lab.home.arpa.evil
srv e-ref-other lab DNS:router.home.arpa
srv e-ref-bank lab DNS:bank.example
srv e-ref-wild lab 'DNS:*.home.arpa'
# Leaves minted with the key of each pinned peer, for names outside it.
for p in ok nobc ca kcs nc v1 ns v3bare; do
  srv e-minted-$p peer-$p DNS:bank.example,DNS:other.local
done
# For the browsers' tampered snapshots (escape-browsers.sh): certificates
# no browser has seen before, so no verification cache answers for them: a
# leaf minted with each peer's key, and a proper peer to swap in beside it
# (that it loads shows the browser reads the tampered snapshot).
cert t-good-clean self "/CN=tgood-clean.local" "$SRV\nsubjectAltName=DNS:tgood-clean.local"
for p in nobc ca kcs nc v1 ns v3bare; do
  srv t-minted-$p peer-$p DNS:tamper-$p.local,DNS:bank.example
  cert t-good-$p self "/CN=tgood-$p.local" "$SRV\nsubjectAltName=DNS:tgood-$p.local"
done

# id | expect | anchor | purpose | host | flags | leaf | intermediates | served chain | how | tries
TAB=$'\t'
cat >"$OUT/rows.txt" <<'EOF'
c-printer        | accept | dev | srv | printer.local | - | c-printer | - | dev | device CA leaf, SAN printer.local | control: the device's own name
c-sub            | accept | dev | srv | ipp.printer.local | - | c-sub | - | dev | device CA leaf, SAN ipp.printer.local | control: a name below the scope
c-wild-sub       | accept | dev | srv | ipp.printer.local | - | c-wild-sub | - | dev | device CA leaf, SAN *.printer.local | control: a wildcard below the scope is inside it (RFC 6125 6.4.3, one label)
c-subca          | accept | dev | srv | scan.printer.local | - | c-subca | sub-plain | sub-plain dev | sub-CA (no constraints of its own) under the device CA, leaf scan.printer.local | control: a sub-CA issuing inside the scope
c-ref-apex       | accept | lab | srv | lab.home.arpa | - | c-ref-apex | - | lab | referee leaf, SAN lab.home.arpa | control: the referee's scope itself
c-ref-host       | accept | lab | srv | nas.lab.home.arpa | - | c-ref-host | - | lab | referee leaf, SAN nas.lab.home.arpa | control: a device under the referee
c-peer           | accept | peer-ok | srv | nas.local | - | peer-ok | - | - | pinned peer, v3, CA:FALSE, SAN nas.local, served alone | control: a proper pinned peer
e-peer-noeku     | refuse | peer-noeku | srv | noeku.local | - | peer-noeku | - | - | pinned peer, CA:FALSE, no extendedKeyUsage, served alone | a peer whose certificate allows every purpose (NSS would trust it as a TLS client too)
e-bank           | refuse | dev | srv | bank.example | - | e-bank | - | dev | device CA leaf, SAN bank.example | a foreign name
e-sibling        | refuse | dev | srv | scanner.local | - | e-sibling | - | dev | device CA leaf, SAN scanner.local | a sibling .local name
e-evilprinter    | refuse | dev | srv | evilprinter.local | - | e-evilprinter | - | dev | device CA leaf, SAN evilprinter.local | suffix match without a label boundary
e-suffix         | refuse | dev | srv | printer.local.bank.example | - | e-suffix | - | dev | device CA leaf, SAN printer.local.bank.example | scope as a prefix of a foreign name
e-localhost      | refuse | dev | srv | printer.localhost | - | e-localhost | - | dev | device CA leaf, SAN printer.localhost | look-alike TLD
e-namespace      | refuse | dev | srv | local | nob | e-namespace | - | dev | device CA leaf, SAN local | the whole namespace
e-upper          | refuse | dev | srv | bank.example | - | e-upper | - | dev | device CA leaf, SAN BANK.EXAMPLE | case tricks in a foreign name
e-wild-local     | refuse | dev | srv | scanner.local | - | e-wild-local | - | dev | device CA leaf, SAN *.local | wildcard over every .local name
e-wild-all       | refuse | dev | srv | bank.example | nob | e-wild-all | - | dev | device CA leaf, SAN * | bare wildcard
e-wild-example   | refuse | dev | srv | bank.example | - | e-wild-example | - | dev | device CA leaf, SAN *.example | wildcard over a foreign domain
e-wild-partial   | refuse | dev | srv | evilprinter.local | - | e-wild-partial | - | dev | device CA leaf, SAN *printer.local | partial-label wildcard reaching siblings
e-cn-bank        | refuse | dev | srv | bank.example | - | e-cn-bank | - | dev | device CA leaf, no SAN, CN=bank.example | CN-only foreign name (CN fallback)
e-cn-behind-san  | refuse | dev | srv | bank.example | hn | e-cn-behind-san | - | dev | device CA leaf, SAN printer.local, CN=bank.example | foreign CN hidden behind an in-scope SAN
e-cn-unicode     | refuse | dev | srv | bank.example | hn | e-cn-unicode | - | dev | device CA leaf, no SAN, CN=bаnk.example (Cyrillic a, default string type) | Unicode look-alike in CN
e-cn-unicode-utf8 | refuse | dev | srv | bank.example | hn | e-cn-unicode-utf8 | - | dev | as e-cn-unicode, CN as UTF8String (-utf8) | Unicode look-alike in CN
e-idn-sibling    | refuse | dev | srv | xn--prnter-4va.local | - | e-idn-sibling | - | dev | device CA leaf, SAN xn--prnter-4va.local (printér.local) | IDN look-alike of the scope
e-idn-bank       | refuse | dev | srv | xn--bnk-8cd.example | - | e-idn-bank | - | dev | device CA leaf, SAN xn--bnk-8cd.example (bаnk.example) | IDN look-alike abroad
e-raw-utf8       | refuse | dev | srv | bank.example | hn | e-raw-utf8 | - | dev | device CA leaf, dNSName with raw UTF-8 bytes b\xd0\xb0nk.example | raw Unicode in an IA5String
e-raw-utf8-local | refuse | dev | srv | printer.local | hn | e-raw-utf8-local | - | dev | device CA leaf, dNSName printer.l\xd0\xbecal (Cyrillic o) | raw Unicode look-alike of the scope
e-dot-bank       | refuse | dev | srv | bank.example | - | e-dot-bank | - | dev | device CA leaf, SAN bank.example. | trailing dot, foreign name
e-dot-sibling    | refuse | dev | srv | scanner.local | - | e-dot-sibling | - | dev | device CA leaf, SAN scanner.local. | trailing dot, sibling
e-dot-suffix     | refuse | dev | srv | printer.local.bank.example | - | e-dot-suffix | - | dev | device CA leaf, SAN printer.local.bank.example. | trailing dot and scope as prefix
e-ip-in-dns      | refuse | dev | srv | 8.8.8.8 | - | e-ip-in-dns | - | dev | device CA leaf, dNSName 8.8.8.8 | an address written as a DNS name
e-ip-in-dns-private | refuse | dev | srv | 192.168.1.20 | - | e-ip-in-dns-private | - | dev | device CA leaf, dNSName 192.168.1.20 | a private address as a DNS name
e-ip-in-cn       | refuse | dev | srv | 8.8.8.8 | - | e-ip-in-cn | - | dev | device CA leaf, no SAN, CN=8.8.8.8 | an address in CN
e-ip-public      | refuse | dev | srv | 8.8.8.8 | - | e-ip-public | - | dev | device CA leaf, IP SAN 8.8.8.8 | public IPv4
e-ip-private     | refuse | dev | srv | 192.168.1.20 | - | e-ip-private | - | dev | device CA leaf, IP SAN 192.168.1.20 | private IPv4
e-ip-loopback    | refuse | dev | srv | 127.0.0.1 | - | e-ip-loopback | - | dev | device CA leaf, IP SAN 127.0.0.1 | loopback
e-ip6-loopback   | refuse | dev | srv | ::1 | - | e-ip6-loopback | - | dev | device CA leaf, IP SAN ::1 | IPv6 loopback
e-ip6-global     | refuse | dev | srv | 2001:db8::1 | - | e-ip6-global | - | dev | device CA leaf, IP SAN 2001:db8::1 | global IPv6
e-mixed-ip       | refuse | dev | srv | printer.local | - | e-mixed-ip | - | dev | device CA leaf, SAN printer.local + IP 8.8.8.8 | an address riding along an in-scope name
e-mixed-bank     | refuse | dev | srv | bank.example | - | e-mixed-bank | - | dev | device CA leaf, SAN printer.local + bank.example | a foreign name riding along
e-nul-san-in     | refuse | dev | srv | bank.example | hn | e-nul-san-in | - | dev | device CA leaf, dNSName bank.example\0.printer.local (DER: patched) | NUL: C-string host match sees bank.example, suffix match sees the scope
e-nul-san-out    | refuse | dev | srv | printer.local | - | e-nul-san-out | - | dev | device CA leaf, dNSName printer.local\0.bank.example | NUL: C-string match sees the scope, the name is foreign
e-nul-cn         | refuse | dev | srv | bank.example | hn | e-nul-cn | - | dev | device CA leaf, no SAN, CN bank.example\0.printer.local (patched, re-signed) | NUL in CN
e-subca-bank     | refuse | dev | srv | bank.example | - | e-subca-bank | sub-plain | sub-plain dev | sub-CA without constraints, leaf bank.example | constraints must reach through a sub-CA
e-subca-nc-bank  | refuse | dev | srv | bank.example | - | e-subca-nc-bank | sub-nc-bank | sub-nc-bank dev | sub-CA with its own permitted bank.example, leaf bank.example | a sub-CA granting itself a foreign subtree
e-subca-widen    | refuse | dev | srv | scanner.local | - | e-subca-widen | sub-widen | sub-widen dev | sub-CA permitting local and example, leaf scanner.local | a sub-CA widening the scope
e-subca-ip       | refuse | dev | srv | 8.8.8.8 | - | e-subca-ip | sub-ip | sub-ip dev | sub-CA permitting IP 8.8.8.0/24, leaf IP 8.8.8.8 | a sub-CA granting addresses
e-selfissued-ca  | refuse | dev | srv | bank.example | - | e-selfissued-ca | selfiss | selfiss dev | self-issued CA (same name, new key) under the device CA, leaf bank.example | self-issued intermediates skip constraints (RFC 5280 4.2.1.10)
e-selfissued-leaf | refuse | dev | srv | bank.example | - | e-selfissued-leaf | - | dev | leaf with subject = the device CA's name, SAN bank.example | a self-issued leaf
e-selfsigned     | refuse | - | srv | bank.example | - | e-selfsigned | - | - | self-signed leaf bank.example, never trusted | no trust on first use
e-smime-bank     | refuse | dev | smime | ceo@bank.example | - | e-smime-bank | - | dev | device CA leaf, emailProtection, rfc822Name ceo@bank.example | S/MIME for a foreign mailbox
e-smime-local    | refuse | dev | smime | admin@printer.local | - | e-smime-local | - | dev | device CA leaf, emailProtection, rfc822Name admin@printer.local | S/MIME at all
e-smime-noeku    | refuse | dev | smime | ceo@bank.example | - | e-smime-noeku | - | dev | device CA leaf, no extendedKeyUsage, SAN printer.local + ceo@bank.example | S/MIME through a leaf without EKU
e-client         | refuse | dev | cli | printer.local | - | e-client | - | dev | device CA leaf, clientAuth, SAN printer.local | TLS client authentication
e-client-noeku   | refuse | dev | cli | printer.local | - | e-client-noeku | - | dev | device CA leaf, no extendedKeyUsage | client authentication through a leaf without EKU
e-codesign       | refuse | dev | code | printer.local | - | e-codesign | - | dev | device CA leaf, codeSigning | code signing
e-ref-parent     | refuse | lab | srv | home.arpa | - | e-ref-parent | - | lab | referee leaf, SAN home.arpa | the referee's parent
e-ref-sibling    | refuse | lab | srv | xlab.home.arpa | - | e-ref-sibling | - | lab | referee leaf, SAN xlab.home.arpa | suffix without a label boundary
e-ref-suffix     | refuse | lab | srv | lab.home.arpa.evil | - | e-ref-suffix | - | lab | referee leaf, SAN lab.home.arpa.evil | scope as a prefix
e-ref-other      | refuse | lab | srv | router.home.arpa | - | e-ref-other | - | lab | referee leaf, SAN router.home.arpa | a sibling in home.arpa
e-ref-bank       | refuse | lab | srv | bank.example | - | e-ref-bank | - | lab | referee leaf, SAN bank.example | a foreign name
e-ref-wild       | refuse | lab | srv | router.home.arpa | - | e-ref-wild | - | lab | referee leaf, SAN *.home.arpa | wildcard over the namespace
e-minted-ok      | refuse | peer-ok | srv | bank.example | - | e-minted-ok | - | peer-ok | leaf for bank.example + other.local signed with the proper peer's key | a pinned peer as an issuer
e-peer-nobc      | refuse | peer-nobc | srv | bank.example | - | e-minted-nobc | - | peer-nobc | peer v3 without basicConstraints (keyUsage digitalSignature); leaf minted with its key | peer as issuer: no basicConstraints
e-peer-v3bare    | refuse | peer-v3bare | srv | bank.example | - | e-minted-v3bare | - | peer-v3bare | peer v3 with only a SAN; leaf minted with its key | peer as issuer: nothing but a SAN
e-peer-ca        | refuse | peer-ca | srv | bank.example | - | e-minted-ca | - | peer-ca | peer with CA:TRUE; leaf minted with its key | peer as issuer: CA:TRUE
e-peer-kcs       | refuse | peer-kcs | srv | bank.example | - | e-minted-kcs | - | peer-kcs | peer with keyUsage keyCertSign, no basicConstraints; leaf minted | peer as issuer: keyCertSign
e-peer-nc        | refuse | peer-nc | srv | bank.example | - | e-minted-nc | - | peer-nc | peer CA:FALSE with nameConstraints permitted bank.example; leaf minted | peer as issuer: nameConstraints
e-peer-v1        | refuse | peer-v1 | srv | bank.example | - | e-minted-v1 | - | peer-v1 | peer X.509 v1 (no extensions); leaf minted | peer as issuer: v1 (a CA for mozilla::pkix)
e-peer-ns        | refuse | peer-ns | srv | bank.example | - | e-minted-ns | - | peer-ns | peer with nsCertType sslCA, no basicConstraints; leaf minted | peer as issuer: Netscape CA type
e-peer-smime     | refuse | peer-noeku | smime | noeku.local | - | peer-noeku | - | - | the pinned peer without EKU signs S/MIME as itself | a peer trusted for S/MIME
e-peer-client    | refuse | peer-noeku | cli | noeku.local | - | peer-noeku | - | - | the pinned peer without EKU as a TLS client certificate | a peer trusted for client authentication
e-peer-ip        | refuse | peer-ip | srv | 192.168.1.20 | - | peer-ip | - | - | self-signed peer CA:FALSE with IP SAN 192.168.1.20 | a peer for an address
e-peer-bank      | refuse | peer-bank | srv | bank.example | - | peer-bank | - | - | self-signed peer CA:FALSE for bank.example | a peer for a foreign name
EOF
sed -e 's/ *| */\t/g' -e 's/^ *//' "$OUT/rows.txt" >"$OUT/rows.tsv"
echo "made $(wc -l <"$OUT/rows.tsv") rows and $(wc -l <"$OUT/anchors.tsv") anchors in $OUT"
