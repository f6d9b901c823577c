#!/usr/bin/env bash
# make demo: a three-broker Kafka cluster on PLAINTEXT, moved to TLS by ansible-playbook, then proven.
#
#   1. make deps          Debian packages (JDK, Maven, OpenSSH, openssl), .venv, the collection link
#   2. lab/labctl up      three KRaft nodes kafka-1..3.lab.test + CA host ca.lab.test, PLAINTEXT
#                         (an existing lab is destroyed first, so the demo always starts from PLAINTEXT)
#   3. PLAINTEXT          a produce/consume in clear text on port 9092: anyone may connect
#   4. site.yml           ansible-playbook -i lab/run/inventory.yml playbooks/site.yml
#   5. acls.yml           ansible-playbook -i lab/run/inventory.yml playbooks/acls.yml -e @demo/acls.yml: the ACLs
#                         (site.yml turned the authorizer on, deny when no ACL matches) of secure_user,
#                         insecure_user (none), User:*, the demo client and verify.yml's client, and the client
#                         bundles of secure_user and insecure_user in .build/demo/clients/<name>/
#   6. jmx.yml            ansible-playbook -i lab/run/inventory.yml playbooks/jmx.yml -e @demo/jmx.yml: remote JMX
#                         on every broker (port 9999, TLS on the connector and the registry, generated passwords
#                         for viewer and admin), the rolling restart, and the monitoring bundle in .build/demo/jmx/
#                         (truststore.p12, truststore.password, viewer.properties, admin.properties,
#                         service-urls.txt, jmxtool.sh, jconsole.sh)
#   7. verify.yml         ansible-playbook -i lab/run/inventory.yml playbooks/verify.yml (a table per host; the
#                         JMX ports too)
#   8. TLS client         a client certificate made with the collection's modules (key on the control
#                         node, signed on the CA host); produce/consume over TLS; no certificate and
#                         PLAINTEXT refused
#   9. authorisation      with each bundle's librdkafka.properties: secure_user produces to and consumes
#                         test_secure_topic in its group, insecure_user is refused (TOPIC_AUTHORIZATION_FAILED)
#  10. JMX                with the bundle: the viewer reads a broker metric with Kafka's JmxTool and is refused
#                         an operation (the JDK's readonly level)
#  11. summary            wall time of each step, the verify table, the clients' results
#
# Run as root (the lab adds Unix users, /etc/hosts entries and one sshd per host). Exits non-zero at
# the first failure. The lab keeps running afterwards: `lab/labctl stop` stops it, `lab/labctl destroy`
# removes it (make lab-stop / make lab-destroy). Logs: .build/demo/.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
logs="$repo/.build/demo"
client_dir="$logs/client"
bundle_dir="$logs/clients"
jmx_dir="$logs/jmx"
inventory=lab/run/inventory.yml

if [ "$(id -u)" != 0 ]; then
  echo "make demo must run as root (sudo make demo): the lab adds users, /etc/hosts entries and sshd." >&2
  exit 1
fi

bold=; normal=
if [ -t 1 ]; then bold=$(tput bold 2>/dev/null || true); normal=$(tput sgr0 2>/dev/null || true); fi
steps=(); times=()
t_demo=$(date +%s%N)

secs() { local ns=$(( $(date +%s%N) - $1 )); printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10)); }

# step NAME COMMAND...: run, time, record; stop the demo at the first failure.
step() {
  local name=$1; shift
  local t0 rc=0
  printf '\n%s==> %s%s\n' "$bold" "$name" "$normal"
  t0=$(date +%s%N)
  "$@" || rc=$?
  local dt
  dt=$(secs "$t0")
  steps+=("$name"); times+=("$dt")
  if [ "$rc" != 0 ]; then
    printf '\n%sFAILED%s: %s (exit %d after %.1fs); logs in %s\n' "$bold" "$normal" "$name" "$rc" "$dt" "$logs" >&2
    exit "$rc"
  fi
  printf '%s(%.1fs)%s\n' "$bold" "$dt" "$normal"
}

deps() {
  make --no-print-directory deps
}

lab_up() {
  if lab/labctl status >/dev/null 2>&1; then
    echo "a lab exists already: destroying it, so the demo starts from PLAINTEXT"
    lab/labctl destroy
  fi
  lab/labctl up
  lab/labctl status
}

export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
python=$repo/.venv/bin/python

bootstrap() {  # bootstrap PORT: every broker of the inventory at PORT
  "$python" - "$1" <<'EOF'
import sys, yaml
inv = yaml.safe_load(open('lab/run/inventory.yml'))['all']
brokers = sorted((inv['children']['kafka_broker'] or {}).get('hosts') or {})
print(','.join('%s:%s' % (b, sys.argv[1]) for b in brokers))
EOF
}

plaintext() {
  echo "  the cluster as labctl built it: PLAINTEXT on 9092, nothing on 9093"
  "$python" demo/kafka_client.py --bootstrap "$(bootstrap 9092)" | tee "$logs/plaintext.txt"
  local hp
  for hp in $(bootstrap 9093 | tr , ' '); do
    if (exec 3<>"/dev/tcp/${hp%:*}/${hp#*:}") 2>/dev/null; then echo "  unexpected: $hp is open" >&2; return 1; fi
  done
  echo "  port 9093 (TLS) is closed on every broker" | tee -a "$logs/plaintext.txt"
}

playbook() {  # playbook LOG PLAYBOOK [ARGS...]
  local log=$1; shift
  ansible-playbook -i "$inventory" "$@" 2>&1 | tee "$logs/$log"
  return "${PIPESTATUS[0]}"
}

tls_client() {
  : > "$logs/tls-client.txt"
  playbook client-cert.log demo/client_cert.yml -e "kafkasec_demo_dir=$client_dir" >/dev/null
  echo "  client key $client_dir/client.key (made here), certificate signed on the CA host:" | tee -a "$logs/tls-client.txt"
  openssl x509 -in "$client_dir/client.crt" -noout -subject -issuer -enddate | sed 's/^/    /' | tee -a "$logs/tls-client.txt"
  local tls
  tls=$(bootstrap 9093)
  "$python" demo/kafka_client.py --bootstrap "$tls" --ca "$client_dir/ca.pem" \
    --cert "$client_dir/client.crt" --key "$client_dir/client.key" | tee -a "$logs/tls-client.txt"
  "$python" demo/kafka_client.py --bootstrap "$tls" --ca "$client_dir/ca.pem" --expect-refused | tee -a "$logs/tls-client.txt"
  "$python" demo/kafka_client.py --bootstrap "$(bootstrap 9092)" --expect-refused | tee -a "$logs/tls-client.txt"
}

authz() {
  : > "$logs/authz.txt"
  local name
  for name in secure_user insecure_user; do
    echo "  ${bundle_dir#"$repo"/}/$name/: $(cd "$bundle_dir/$name" && ls ca.crt "$name.crt" "$name.key" client.properties librdkafka.properties | tr '\n' ' ')" | tee -a "$logs/authz.txt"
  done
  "$python" demo/authz_client.py --bundle "$bundle_dir/secure_user" --topic test_secure_topic --group secure_group \
    | tee -a "$logs/authz.txt"
  "$python" demo/authz_client.py --bundle "$bundle_dir/insecure_user" --topic test_secure_topic --group secure_group \
    --expect-refused | tee -a "$logs/authz.txt"
}

jmx_client() {
  : > "$logs/jmx.txt"
  local kafka_home url rc=0
  kafka_home=$("$python" -c "import yaml; print(yaml.safe_load(open('$inventory'))['all']['vars']['kafka_home'])")
  url=$(head -n 1 "$jmx_dir/service-urls.txt")
  echo "  ${jmx_dir#"$repo"/}/: $(cd "$jmx_dir" && ls | tr '\n' ' ')" | tee -a "$logs/jmx.txt"
  echo "  the viewer reads a broker metric with Kafka's JmxTool (TLS connector and registry, password):" | tee -a "$logs/jmx.txt"
  KAFKA_HOME=$kafka_home "$jmx_dir/jmxtool.sh" viewer "$url" \
    --object-name 'kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec' --attributes Count --one-time true \
    > "$logs/jmxtool.out" 2>&1 || rc=$?
  sed 's/^/    /' "$logs/jmxtool.out" | tee -a "$logs/jmx.txt"
  [ "$rc" = 0 ] || return "$rc"
  echo "  the viewer invokes java.lang:type=Memory gc (the JMX guard: refused):" | tee -a "$logs/jmx.txt"
  java roles/jmx/files/JmxCheck.java --ca "$client_dir/ca.pem" --url "$url" --credentials "$jmx_dir/viewer.properties" \
    refused-invoke java.lang:type=Memory gc > "$logs/jmxcheck.out" 2>&1 || rc=$?
  sed 's/^/    /' "$logs/jmxcheck.out" | tee -a "$logs/jmx.txt"
  return "$rc"
}

mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.txt
# The lab (and its CA) is new each time: so are the bundles.
rm -rf "$bundle_dir" "$jmx_dir"
step "make deps (Debian packages, .venv, collection link)" deps
step "lab/labctl up (3 KRaft brokers + CA host, PLAINTEXT)" lab_up
step "PLAINTEXT produce/consume on 9092" plaintext
step "ansible-playbook -i $inventory playbooks/site.yml" playbook site.log playbooks/site.yml
step "ansible-playbook -i $inventory playbooks/acls.yml -e @demo/acls.yml" \
  playbook acls.log playbooks/acls.yml -e @demo/acls.yml -e "kafkasec_client_bundle_dir=$bundle_dir" --diff
step "ansible-playbook -i $inventory playbooks/jmx.yml -e @demo/jmx.yml" \
  playbook jmx.log playbooks/jmx.yml -e @demo/jmx.yml -e "kafkasec_jmx_bundle_dir=$jmx_dir"
step "ansible-playbook -i $inventory playbooks/verify.yml" playbook verify.log playbooks/verify.yml -e @demo/jmx.yml
step "TLS client: certificate from the CA host, produce/consume on 9093, refusals" tls_client
step "authorisation: secure_user allowed on test_secure_topic, insecure_user refused" authz
step "JMX: the viewer reads a metric with JmxTool and is refused an operation" jmx_client

total=$(secs "$t_demo")
printf '\n%s==> Summary%s\n\n' "$bold" "$normal"
printf '  %-78s %8s\n' "step" "seconds"
for i in "${!steps[@]}"; do printf '  %-78s %8.1f\n' "${steps[$i]}" "${times[$i]}"; done
printf '  %-78s %8.1f\n\n' "total" "$total"
echo "  site.yml PLAY RECAP:"
sed -n '/^PLAY RECAP/,/^$/p' "$logs/site.log" | sed '1d;/^$/d;s/^/    /'
echo
echo "  verify.yml, one table per host:"
"$python" demo/verify_table.py "$logs/verify.log" | sed 's/^/    /'
echo
echo "  before (PLAINTEXT):"; sed 's/^/  /' "$logs/plaintext.txt"
echo "  after (TLS):"; sed 's/^/  /' "$logs/tls-client.txt"
echo "  authorisation (acls.yml; the client bundles of secure_user and insecure_user):"
sed 's/^/  /' "$logs/authz.txt"
echo "  JMX (jmx.yml; the monitoring bundle in ${jmx_dir#"$repo"/}/):"
sed 's/^/  /' "$logs/jmx.txt"
echo
echo "The lab keeps running. lab/labctl status | stop | destroy (make lab-stop, make lab-destroy)."
echo "Logs: $logs"
