# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/connect.yml and playbooks/client_bundle.yml on the real lab, after the TLS rollout.

A client host of the lab becomes a Kafka Connect worker: connect.yml gives it a certificate, stores
and the TLS block, then a real ConnectDistributed JVM is started the way a systemd unit with
EnvironmentFile= would (the role's KAFKA_OPTS). A client bundle is written on the control node.
Checked from the outside: the worker joins the cluster over SSL with its certificate, its REST API
answers on HTTPS only and only with a client certificate (curl with the bundle's PEM files), a
FileStream source connector's records are read with librdkafka and the bundle's librdkafka file,
a Java console producer works with the bundle's client.properties, openssl s_client works with the
PEM bundle, and the store passwords are visible to the JVM but not on the process list.

The file name sorts after test_site.py on purpose: the first tests there need the lab still on
PLAINTEXT, and this module needs the rollout (the session's `rollout` fixture) done.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from labkit import COLLECTIONS, REPO, VENV_BIN, ensure_collection_link, labctl, lab_status, parse_recap, s_client

pytestmark = pytest.mark.lab

WORKER = 'connect-1'
CLIENT = 'orders-app'
REST_PORT = 8443
TIMEOUT = 90


def run_playbook(playbook: str, inventory: Path, *extra: str) -> subprocess.CompletedProcess:
    ensure_collection_link()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_PIPELINING='1',
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0')
    return subprocess.run([str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), str(REPO / 'playbooks' / playbook),
                           *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=900)


def changed(proc: subprocess.CompletedProcess) -> dict:
    return {host: counts['changed'] for host, counts in parse_recap(proc.stdout).items()}


def rdkafka_conf(path: Path) -> dict:
    return dict(line.split('=', 1) for line in path.read_text().splitlines() if line and not line.startswith('#'))


def curl(bundle: Path, url: str, *extra: str, cert: bool = True) -> subprocess.CompletedProcess:
    args = ['curl', '-sS', '--max-time', '20', '--cacert', str(bundle / 'ca.crt')]
    if cert:
        args += ['--cert', str(bundle / ('%s.crt' % CLIENT)), '--key', str(bundle / ('%s.key' % CLIENT))]
    return subprocess.run(args + list(extra) + [url], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope='module')
def estate(rollout, tmp_path_factory):
    assert rollout.first.rc == 0, rollout.first.describe()
    status = lab_status()
    if not any(h['name'].startswith(WORKER + '.') for h in status['hosts']):
        labctl('add-host', WORKER, '--role', 'client')
        status = lab_status()
    host = next(h for h in status['hosts'] if h['name'].startswith(WORKER + '.'))
    root = Path(host['root'])
    props = root / 'etc' / 'connect-distributed.properties'
    props.write_text('# the worker as installed (PLAINTEXT)\n'
                     'bootstrap.servers=%s:9092\n' % rollout.kafka_hosts()[0]['name']
                     + 'group.id=kafkasec-connect\n'
                     'key.converter=org.apache.kafka.connect.storage.StringConverter\n'
                     'value.converter=org.apache.kafka.connect.storage.StringConverter\n'
                     'config.storage.topic=connect-configs\noffset.storage.topic=connect-offsets\n'
                     'status.storage.topic=connect-status\nconfig.storage.replication.factor=1\n'
                     'offset.storage.replication.factor=1\nstatus.storage.replication.factor=1\n'
                     'offset.flush.interval.ms=2000\nlisteners=http://%s:8083\n' % host['name'])
    shutil.chown(props, host['user'], host['user'])
    props.chmod(0o640)
    work = tmp_path_factory.mktemp('connect')
    bundle_dir = work / 'bundles'
    bundle_dir.mkdir(mode=0o700)
    extra = work / 'connect-inventory.yml'
    extra.write_text(yaml.safe_dump({'all': {
        'vars': {'kafkasec_client_bundle_dir': str(bundle_dir), 'kafkasec_client_bundle_clients': [{'name': CLIENT}]},
        'children': {'kafka_connect': {'hosts': {host['name']: {
            'kafkasec_connect_properties_path': str(props),
            'kafkasec_connect_env_file': str(root / 'etc' / 'connect-tls.env'),
            'kafkasec_connect_jvm_args_file': str(root / 'etc' / 'connect-jvm-ssl.args'),
            # The lab's hosts are users without root: the environment file is the host user's here.
            'kafkasec_connect_env_owner': host['user'], 'kafkasec_connect_env_group': host['user'],
        }}}}}}))
    inventory = work / 'inventory'
    inventory.mkdir()
    shutil.copy(status['inventory'], inventory / '10-lab.yml')
    shutil.copy(extra, inventory / '20-connect.yml')
    runs = {name: [run_playbook(name, inventory), run_playbook(name, inventory)]
            for name in ('connect.yml', 'client_bundle.yml')}
    state = SimpleNamespace(host=host, root=root, props=props, bundle=bundle_dir / CLIENT, runs=runs,
                            brokers=rollout.kafka_hosts(), worker=None, ca_pem=bundle_dir / CLIENT / 'ca.crt')
    if all(run.returncode == 0 for pair in runs.values() for run in pair):
        state.worker = start_worker(state, work)
    try:
        yield state
    finally:
        if state.worker is not None:
            state.worker.terminate()
            try:
                state.worker.wait(60)
            except subprocess.TimeoutExpired:
                state.worker.kill()


def start_worker(state, work: Path) -> subprocess.Popen:
    """ConnectDistributed as the host's user, with KAFKA_OPTS from the role's environment file."""
    libs = Path(lab_status()['root']) / 'kafka' / 'libs'
    script = ('cd "$1" && set -a && . etc/connect-tls.env && set +a && exec java -Xms64m -Xmx256m -XX:+UseSerialGC '
              '-cp "$2/*" $KAFKA_OPTS org.apache.kafka.connect.cli.ConnectDistributed etc/connect-distributed.properties')
    log = open(work / 'connect.log', 'w')
    proc = subprocess.Popen(['su', '-s', '/bin/sh', state.host['user'], '-c', script, 'sh', str(state.root), str(libs)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        # --fail: Jetty answers 404 until the worker's REST resources are up.
        if curl(state.bundle, 'https://%s:%d/connectors' % (state.host['name'], REST_PORT), '--fail').returncode == 0:
            return proc
        time.sleep(2)
    proc.terminate()
    raise AssertionError('the Connect worker did not answer on HTTPS:\n%s' % (work / 'connect.log').read_text()[-5000:])


def worker_pid(state) -> int:
    out = subprocess.run(['pgrep', '-u', state.host['user'], '-f', 'ConnectDistributed'], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def test_playbooks_converge_then_change_nothing(estate):
    for name, (first, second) in estate.runs.items():
        assert first.returncode == 0, '%s\n%s' % (name, first.stdout[-8000:])
        assert second.returncode == 0, '%s\n%s' % (name, second.stdout[-8000:])
        assert set(changed(second).values()) == {0}, '%s\n%s' % (name, second.stdout[-8000:])
    assert changed(estate.runs['connect.yml'][0])[estate.host['name']] > 0


def test_rest_api_on_https_with_client_certificates_only(estate):
    url = 'https://%s:%d/' % (estate.host['name'], REST_PORT)
    ok = curl(estate.bundle, url)
    assert ok.returncode == 0 and json.loads(ok.stdout)['version'], ok.stderr
    no_cert = curl(estate.bundle, url, cert=False)
    assert no_cert.returncode != 0, no_cert.stdout
    plain = subprocess.run(['curl', '-sS', '--max-time', '10', 'http://%s:%d/' % (estate.host['name'], REST_PORT)],
                           capture_output=True, text=True)
    assert plain.returncode != 0 and '"version"' not in plain.stdout
    old = subprocess.run(['curl', '-sS', '--max-time', '10', 'http://%s:8083/' % estate.host['name']],
                         capture_output=True, text=True)
    assert old.returncode != 0


def test_store_passwords_reach_the_jvm_but_not_the_process_list(estate):
    pid = worker_pid(estate)
    passwords = [(estate.root / 'pki' / name).read_text().strip() for name in ('keystore.password', 'truststore.password')]
    cmdline = Path('/proc/%d/cmdline' % pid).read_bytes().decode()
    assert '@%s' % (estate.root / 'etc' / 'connect-jvm-ssl.args') in cmdline
    assert '-Djavax.net.ssl.trustStore=' in cmdline
    ps = subprocess.run(['ps', '-ww', '-eo', 'args'], capture_output=True, text=True).stdout
    assert not any(p in ps for p in passwords)
    props = subprocess.run(['su', '-s', '/bin/sh', estate.host['user'], '-c', 'jcmd "$1" VM.system_properties', 'sh', str(pid)],
                           capture_output=True, text=True, timeout=120).stdout
    assert 'javax.net.ssl.keyStorePassword=%s' % passwords[0] in props.splitlines()
    assert 'javax.net.ssl.trustStorePassword=%s' % passwords[1] in props.splitlines()


def test_file_source_connector_records_read_with_the_librdkafka_bundle(estate):
    from confluent_kafka import Consumer

    marker = uuid.uuid4().hex
    source = estate.root / 'data' / ('input-%s.txt' % marker)
    source.write_text('%s-1\n%s-2\n' % (marker, marker))
    shutil.chown(source, estate.host['user'], estate.host['user'])
    topic = 'kafkasec-connect-%s' % marker[:8]
    config = {'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector', 'tasks.max': '1',
              'file': str(source), 'topic': topic}
    made = curl(estate.bundle, 'https://%s:%d/connectors' % (estate.host['name'], REST_PORT), '-X', 'POST',
                '-H', 'Content-Type: application/json', '-d', json.dumps({'name': 'file-' + marker[:8], 'config': config}))
    assert made.returncode == 0 and '"name"' in made.stdout, made.stdout + made.stderr
    conf = rdkafka_conf(estate.bundle / 'librdkafka.properties')
    consumer = Consumer(dict(conf, **{'group.id': 'kafkasec-' + marker, 'auto.offset.reset': 'earliest'}))
    got = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 2 and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error():
                got.append(msg.value().decode())
    finally:
        consumer.close()
    assert got == ['%s-1' % marker, '%s-2' % marker]


def test_java_console_producer_with_the_bundle_client_properties(estate):
    from confluent_kafka import Consumer

    libs = Path(lab_status()['root']) / 'kafka' / 'libs'
    topic = 'kafkasec-java-%s' % uuid.uuid4().hex[:8]
    marker = uuid.uuid4().hex
    bootstrap = rdkafka_conf(estate.bundle / 'librdkafka.properties')['bootstrap.servers']
    proc = subprocess.run(['java', '-Xmx128m', '-XX:TieredStopAtLevel=1', '-cp', '%s/*' % libs, 'org.apache.kafka.tools.ConsoleProducer',
                           '--bootstrap-server', bootstrap, '--topic', topic,
                           '--command-config', str(estate.bundle / 'client.properties')],
                          input=marker + '\n', capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    consumer = Consumer(dict(rdkafka_conf(estate.bundle / 'librdkafka.properties'),
                             **{'group.id': 'kafkasec-' + marker, 'auto.offset.reset': 'earliest'}))
    got = None
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + TIMEOUT
        while got is None and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error():
                got = msg.value().decode()
    finally:
        consumer.close()
    assert got == marker


def test_openssl_s_client_with_the_pem_bundle(estate):
    broker = estate.brokers[0]
    site = SimpleNamespace(ca_pem=estate.ca_pem)
    cert = (estate.bundle / ('%s.crt' % CLIENT), estate.bundle / ('%s.key' % CLIENT))
    _rc, data, err = s_client(site, broker, cert=cert)
    assert 'verify error' not in err and len(data) >= 8, err
