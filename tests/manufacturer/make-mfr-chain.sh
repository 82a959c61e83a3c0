#!/usr/bin/env bash
# make-mfr-chain.sh DIR MAKER SERIAL: a test manufacturer's IEEE 802.1AR
# chain with the openssl CLI, the way a device maker's factory would make
# one (docs/manufacturer.md):
#
#   DIR/root.pem, root.key       the manufacturer's root (what a user trusts
#                                with `settle trust --manufacturer`)
#   DIR/issuing.pem, issuing.key the IDevID issuing CA (pathlen 0)
#   DIR/idevid.pem, idevid.key   the device's IDevID: subject O=MAKER,
#                                CN=MAKER device, serialNumber=SERIAL;
#                                digitalSignature only; valid until
#                                9999-12-31 (802.1AR's "no expiry")
#
# P-256 everywhere; subject and authority key identifiers on every
# certificate, so that X509_V_FLAG_X509_STRICT accepts the chain.
# Keys are written 0600.  A second call with another DIR and the same
# MAKER makes a look-alike manufacturer (same names, other keys): a
# rogue factory.
set -euo pipefail
dir=$1 maker=$2 serial=$3
mkdir -p "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$1.key" 2>/dev/null; }

cat >"$dir/ext.cnf" <<CNF
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[issuing]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[idevid]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

key root
openssl req -new -x509 -key "$dir/root.key" -out "$dir/root.pem" -days 7300 \
  -subj "/O=$maker/CN=$maker Root CA" -config "$dir/ext.cnf" -extensions root -set_serial 1 2>/dev/null

key issuing
openssl req -new -key "$dir/issuing.key" -subj "/O=$maker/CN=$maker IDevID CA" -out "$dir/issuing.csr" 2>/dev/null
openssl x509 -req -in "$dir/issuing.csr" -CA "$dir/root.pem" -CAkey "$dir/root.key" -set_serial 2 \
  -days 7300 -extfile "$dir/ext.cnf" -extensions issuing -out "$dir/issuing.pem" 2>/dev/null

key idevid
openssl req -new -key "$dir/idevid.key" -subj "/O=$maker/CN=$maker device/serialNumber=$serial" \
  -out "$dir/idevid.csr" 2>/dev/null
# 802.1AR: an IDevID that should not expire carries 99991231235959Z.
openssl x509 -req -in "$dir/idevid.csr" -CA "$dir/issuing.pem" -CAkey "$dir/issuing.key" \
  -set_serial "0x$(openssl rand -hex 8)" -not_after 99991231235959Z -extfile "$dir/ext.cnf" -extensions idevid \
  -out "$dir/idevid.pem" 2>/dev/null \
|| openssl x509 -req -in "$dir/idevid.csr" -CA "$dir/issuing.pem" -CAkey "$dir/issuing.key" \
  -set_serial "0x$(openssl rand -hex 8)" -days 36500 -extfile "$dir/ext.cnf" -extensions idevid \
  -out "$dir/idevid.pem" 2>/dev/null
rm -f "$dir"/*.csr "$dir/ext.cnf"
chmod 0644 "$dir"/*.pem
