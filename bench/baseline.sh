#!/usr/bin/env bash
# The seed procedure as a shell script, for the rollout benchmark's baseline (bench/README.md):
# one host after another, over SSH, with openssl and keytool - the way the seed playbooks'
# steps (brokers-generate, brokers-sign, ca-copy-to-brokers, brokers-upload-signed) are done by hand.
#
#   baseline.sh SSH_CONFIG CA_HOST CA_DIR HOST:PKI_DIR:PROPERTIES_PATH...
#
# Per run: a CA (RSA 3072, on CA_HOST in CA_DIR). Per host: an RSA 3072 key and a CSR on the host,
# the CSR signed on the CA host (SAN = the host name, serverAuth + clientAuth), the certificate and
# the CA certificate copied back, a PKCS12 keystore (openssl pkcs12) and a PKCS12 truststore
# (keytool -importcert), random store passwords in 0600 files, and the ssl.* keys appended to
# server.properties. The collection does the same work with its modules; this script is not part of
# it and is only run by bench/run.py.
set -euo pipefail
ssh_config=$1 ca_host=$2 ca_dir=$3
shift 3
on() { local h=$1; shift; ssh -F "$ssh_config" "$h" "$@"; }

on "$ca_host" "set -e; umask 077; mkdir -p '$ca_dir'; cd '$ca_dir'
  openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj '/CN=baseline CA' -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' \
    -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null"
ca_cert=$(on "$ca_host" "cat '$ca_dir/ca.crt'")

for spec in "$@"; do
  IFS=: read -r host pki props <<<"$spec"
  # brokers-generate: key and CSR on the host
  csr=$(on "$host" "set -e; umask 077; mkdir -p '$pki'; cd '$pki'
    openssl req -new -newkey rsa:3072 -nodes -keyout '$host.key' -out '$host.csr' -subj '/CN=$host' 2>/dev/null
    cat '$host.csr'")
  # brokers-sign: the CSR goes to the CA host, the certificate comes back
  cert=$(printf '%s\n' "$csr" | on "$ca_host" "set -e; cd '$ca_dir'; umask 077
    cat > '$host.csr'
    printf 'subjectAltName=DNS:$host\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n' > '$host.ext'
    openssl x509 -req -in '$host.csr' -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 \
      -extfile '$host.ext' -out '$host.crt' 2>/dev/null
    cat '$host.crt'")
  # ca-copy-to-brokers + brokers-upload-signed: certificate and CA certificate onto the host,
  # keystore and truststore built there, ssl.* keys written into server.properties
  printf '%s\n%s\n' "$cert" "$ca_cert" | on "$host" "set -e; umask 077; cd '$pki'
    awk '/BEGIN CERT/{n++} {print > (n==1 ? \"$host.crt\" : \"ca.crt\")}'
    ks=\$(openssl rand -hex 16); ts=\$(openssl rand -hex 16)
    printf '%s' \"\$ks\" > keystore.password; printf '%s' \"\$ts\" > truststore.password
    cat '$host.crt' ca.crt > chain.crt
    openssl pkcs12 -export -in chain.crt -inkey '$host.key' -name kafka -out keystore.p12 -passout \"pass:\$ks\"
    rm -f truststore.p12
    keytool -importcert -noprompt -alias ca -file ca.crt -keystore truststore.p12 -storetype PKCS12 -storepass \"\$ts\" >/dev/null 2>&1
    cat >> '$props' <<PROPS
ssl.keystore.type=PKCS12
ssl.keystore.location=$pki/keystore.p12
ssl.keystore.password=\$ks
ssl.key.password=\$ks
ssl.truststore.type=PKCS12
ssl.truststore.location=$pki/truststore.p12
ssl.truststore.password=\$ts
ssl.client.auth=required
ssl.enabled.protocols=TLSv1.3,TLSv1.2
ssl.protocol=TLSv1.3
ssl.endpoint.identification.algorithm=https
PROPS"
done
