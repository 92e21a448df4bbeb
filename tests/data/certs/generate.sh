#!/bin/sh
# Regenerates the ValidateCert test certificates (see README.md). Needs
# OpenSSL 3. Private keys live in a temporary directory and are deleted:
# only the certificates (DER, base64 on one line) are kept.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > ca.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[smime]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[crl]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
extendedKeyUsage = emailProtection
crlDistributionPoints = URI:http://crl.eastest.invalid/root.crl
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
touch index.txt
echo 1000 > serial

key() { openssl genrsa -out "$1.key" 2048 2>/dev/null; }
csr() { openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"; }
# sign NAME ISSUER EXTENSIONS START END
sign() {
  openssl ca -batch -config ca.cnf -cert "$2.pem" -keyfile "$2.key" \
    -extensions "$3" -startdate "$4" -enddate "$5" -notext \
    -in "$1.csr" -out "$1.pem" 2>/dev/null
}
save() { openssl x509 -in "$1.pem" -outform DER | openssl base64 -A > "$out/$1.b64"; echo >> "$out/$1.b64"; }

# The root the mock trusts (its DER is embedded in src/mock/validatecert.rs).
# Everything is valid from 2020 to 2120 unless said otherwise (openssl ca
# takes the dates as given).
start=20200101000000Z
end=21200101000000Z
# selfsign NAME SUBJECT EXTENSIONS
selfsign() {
  key "$1"; csr "$1" "$2"
  openssl ca -batch -config ca.cnf -selfsign -keyfile "$1.key" \
    -extensions "$3" -startdate $start -enddate $end -notext \
    -in "$1.csr" -out "$1.pem" 2>/dev/null
}
selfsign root "eastest Test Root CA" root

key intermediate; csr intermediate "eastest Test Intermediate CA"
sign intermediate root intermediate $start $end
key valid; csr valid "alice@example.test"
sign valid root smime $start $end
key expired; csr expired "expired@example.test"
sign expired root smime 20000101000000Z 20010101000000Z
key future; csr future "future@example.test"
sign future root smime 21000101000000Z 21200101000000Z
key server; csr server "mail.example.test"
sign server root server $start $end
key via-intermediate; csr via-intermediate "bob@example.test"
sign via-intermediate intermediate smime $start $end
# An end-entity certificate (CA:FALSE) used to issue another one.
key under-end-entity; csr under-end-entity "carol@example.test"
sign under-end-entity valid smime $start $end
key with-crl; csr with-crl "dave@example.test"
sign with-crl root crl $start $end
# Self-signed, not the trusted root.
selfsign self-signed "self-signed@example.test" smime

for c in root intermediate valid expired future server via-intermediate \
         under-end-entity with-crl self-signed; do
  save $c
done
