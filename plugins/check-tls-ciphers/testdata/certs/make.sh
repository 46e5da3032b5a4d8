#!/bin/sh
# Regenerates the certificate and OCSP fixtures of src/cert.rs's unit tests
# (run here: sh make.sh). Valid for 100 years from when they were made, so
# webpki verifies the chains without a fixed clock.
set -eu
cd "$(dirname "$0")"
days=36500
ext() { printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$1" > leaf.ext; }
ca_ext='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign'
printf '%s\n' "$ca_ext" > ca.ext

openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.crt -days $days \
    -subj "/CN=fixture root" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
# The intermediate: SHA-256 (for chains webpki accepts) and its SHA-1 twin.
openssl req -new -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr -subj "/CN=fixture intermediate" 2>/dev/null
openssl x509 -req -in inter.csr -CA root.crt -CAkey root.key -set_serial 0x10 -days $days -sha256 -extfile ca.ext -out inter.crt 2>/dev/null
openssl x509 -req -in inter.csr -CA root.crt -CAkey root.key -set_serial 0x11 -days $days -sha1 -extfile ca.ext -out inter-sha1.crt 2>/dev/null

leaf() { # name key-spec digest san
    openssl req -new $2 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=fixture $1" 2>/dev/null
    ext "$4"
    openssl x509 -req -in "$1.csr" -CA inter.crt -CAkey inter.key -set_serial "$5" -days $days $3 -extfile leaf.ext -out "$1.crt" 2>/dev/null
    rm -f "$1.csr" "$1.key"
}
leaf leaf "-newkey rsa:2048" -sha256 "DNS:localhost,DNS:*.example.org,IP:127.0.0.1,IP:::1" 0x0100
leaf sha1 "-newkey rsa:2048" -sha1 "DNS:localhost" 0x0101
leaf md5 "-newkey rsa:2048" -md5 "DNS:localhost" 0x0102
leaf pss "-newkey rsa:2048" "-sha384 -sigopt rsa_padding_mode:pss" "DNS:localhost" 0x0103
leaf p384 "-newkey ec -pkeyopt ec_paramgen_curve:P-384" -sha256 "DNS:localhost" 0x0104
leaf ed25519 "-newkey ed25519" "" "DNS:localhost" 0x0105
openssl dsaparam -out dsa.param 2048 2>/dev/null
leaf dsa "-newkey dsa:dsa.param" -sha256 "DNS:localhost" 0x0106
rm -f dsa.param

# OCSP responses about leaf.crt (serial 0x0100), signed by its issuer.
printf 'V\t491231235959Z\t\t0100\tunknown\t/CN=fixture leaf\n' > good.index
printf 'R\t491231235959Z\t250101000000Z,keyCompromise\t0100\tunknown\t/CN=fixture leaf\n' > revoked.index
openssl ocsp -issuer inter.crt -cert leaf.crt -no_nonce -reqout ocsp.req 2>/dev/null
for status in good revoked; do
    openssl ocsp -index $status.index -rsigner inter.crt -rkey inter.key -CA inter.crt \
        -reqin ocsp.req -respout ocsp-$status.der -ndays 7 2>/dev/null
done
rm -f ocsp.req good.index revoked.index inter.csr leaf.ext ca.ext root.key inter.key root.srl inter.srl
