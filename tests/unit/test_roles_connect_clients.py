# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connect and client_bundle roles through playbooks/connect.yml and playbooks/client_bundle.yml,
for real, on local "hosts" (tests/unit/roles_lab.py): a CA host, two brokers that are only inventory
(their listeners are what the bootstrap defaults and checks read), a Connect worker and a client host.

Each playbook converges, then a second run must report changed=0 and leave every file as it was.
What the roles wrote is read back by Java (java.util.Properties, KeyStore, the JDK's default
SSLContext started with the worker's KAFKA_OPTS), openssl, keytool and librdkafka.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shlex
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roles_lab import CA_HOST, REPO, Lab, snapshot_diff, tool  # noqa: E402  pylint: disable=wrong-import-position
from test_properties import java_load_text  # noqa: E402  pylint: disable=wrong-import-position

CONNECT_PLAYBOOK = REPO / 'playbooks' / 'connect.yml'
CLIENT_PLAYBOOK = REPO / 'playbooks' / 'client_bundle.yml'
WORKER = 'connect-1.lab.test'
CLIENT_HOST = 'client-1.lab.test'
# A DNS-like name (its own DNS SAN), one with declared DNS names, and a principal that is no DNS name (no SAN).
CLIENTS = [{'name': 'orders-app'}, {'name': 'analytics', 'dns_names': ['analytics.lab.test']}, {'name': 'secure_user'}]
CA_PASSPHRASE = 'connect-lab-CA-passphrase-91b2'
PREFIXES = ['', 'producer.', 'consumer.', 'admin.']


def _current_user_group():
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


@pytest.fixture(scope='module')
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab = Lab(tmp_path_factory.mktemp('connect-lab'))
    lab.ca.vars['kafkasec_ca_privatekey_passphrase'] = CA_PASSPHRASE
    # No cipher suites on the brokers (the first broker's count): the worker's and the bundles' files are exactly
    # what they were before the clients followed the brokers' kafkasec_broker_ssl_cipher_suites (no new key).
    lab.add_broker(1, kafkasec_broker_ssl_cipher_suites=[])
    lab.add_broker(2, kafkasec_broker_keep_plaintext=True, kafkasec_broker_ssl_port=19093)
    inventory = lab.inventory()
    worker_root = lab.hosts_root / WORKER
    etc = worker_root / 'etc' / 'kafka'
    etc.mkdir(parents=True)
    (etc / 'connect-distributed.properties').write_text(
        '# The worker as it was installed\nbootstrap.servers=kafka-1.lab.test:9092\ngroup.id=connect-cluster\n'
        'config.storage.topic=connect-configs\nlisteners=http://:8083\n')
    user, group = _current_user_group()
    lab.worker_etc = etc
    inventory['all']['children']['kafka_connect'] = {'hosts': {WORKER: {
        'kafkasec_pki_dir': str(etc / 'pki'),
        'kafkasec_connect_properties_path': str(etc / 'connect-distributed.properties'),
        'kafkasec_connect_env_file': str(etc / 'connect-tls.env'),
        'kafkasec_connect_jvm_args_file': str(etc / 'connect-jvm-ssl.args'),
        'kafkasec_connect_env_owner': user,
        'kafkasec_connect_env_group': group,
    }}}
    client_root = lab.hosts_root / CLIENT_HOST
    client_root.mkdir()
    lab.bundle_dir = client_root / 'bundles'
    inventory['all']['children']['kafka_client'] = {'hosts': {CLIENT_HOST: {}}}
    inventory['all']['vars'].update({
        'kafkasec_client_bundle_host': CLIENT_HOST,
        'kafkasec_client_bundle_dir': str(lab.bundle_dir),
        'kafkasec_client_bundle_clients': CLIENTS,
        # No Kafka runs in this lab: connect.yml's play that keeps the workers' ACLs has none to keep (Molecule's
        # connect scenario runs it against real brokers).
        'kafkasec_acls_connect': None,
    })
    lab.inventory_path = lab.write_inventory(inventory)
    lab.connect_first = lab.run(playbook=CONNECT_PLAYBOOK, inventory=lab.inventory_path)
    before = lab.snapshot()
    lab.connect_second = lab.run(playbook=CONNECT_PLAYBOOK, inventory=lab.inventory_path)
    lab.connect_moved = snapshot_diff(before, lab.snapshot())
    lab.client_first = lab.run(playbook=CLIENT_PLAYBOOK, inventory=lab.inventory_path)
    before = lab.snapshot()
    lab.client_second = lab.run(playbook=CLIENT_PLAYBOOK, inventory=lab.inventory_path)
    lab.client_moved = snapshot_diff(before, lab.snapshot())
    return lab


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def worker_password(lab: Lab, kind: str) -> str:
    return (lab.worker_etc / 'pki' / ('%s.password' % kind)).read_text().strip()


# --- connect -------------------------------------------------------------------------------------

def test_connect_converges_then_changes_nothing(lab: Lab) -> None:
    first, second = lab.connect_first, lab.connect_second
    assert first.rc == 0, first.describe()
    assert first.changed(WORKER) > 0, first.describe()
    # No kafkasec_connect_restart_command: the first run says the worker needs a restart and why; the second does not.
    assert ('%s: RESTART NEEDED - the running worker keeps its old settings until it restarts (properties: ' % WORKER
            in first.output and 'keystore changed; truststore changed' in first.output), first.describe()
    assert second.rc == 0, second.describe()
    # Every host of the run changed nothing (the brokers too: connect.yml's ACL play runs on them).
    changed = {host: counts['changed'] for host, counts in second.recap.items()}
    assert {CA_HOST, WORKER} <= set(changed) and set(changed.values()) == {0}, second.describe()
    assert 'RESTART NEEDED' not in second.output
    # The one addition: the worker's request memo (bookkeeping, plugins/module_utils/pki/request_memo.py), kept after
    # its first request call that changed nothing, and with it its directory's mtime.
    memo = lab.worker_etc / 'pki' / '.kafkasec-request.memo'
    assert lab.connect_moved == sorted([str(memo.parent), str(memo)])


def test_connect_worker_properties_as_java_reads_them(lab: Lab) -> None:
    path = lab.worker_etc / 'connect-distributed.properties'
    assert mode(path) == 0o640
    seen = java_load_text(Path(tempfile.mkdtemp()), path.read_text(encoding='latin-1'))
    pki = lab.worker_etc / 'pki'
    block = {
        'security.protocol': 'SSL',
        'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': str(pki / 'keystore.p12'),
        'ssl.keystore.password': worker_password(lab, 'keystore'),
        'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': str(pki / 'truststore.p12'),
        'ssl.truststore.password': worker_password(lab, 'truststore'),
        'ssl.enabled.protocols': 'TLSv1.3,TLSv1.2', 'ssl.protocol': 'TLSv1.3',
        'ssl.endpoint.identification.algorithm': 'https',
    }
    expected = {
        # From the inventory: each broker's advertised name (its inventory name) and TLS port.
        'bootstrap.servers': 'kafka-1.lab.test:9093,kafka-2.lab.test:19093',
        'group.id': 'connect-cluster', 'config.storage.topic': 'connect-configs',
        'listeners': 'https://%s:8443' % WORKER, 'rest.advertised.listener': 'https',
        'rest.advertised.host.name': WORKER, 'rest.advertised.port': '8443',
        'listeners.https.ssl.client.auth': 'required',
    }
    for prefix in PREFIXES:
        expected.update((prefix + key, value) for key, value in block.items())
    expected.update(('listeners.https.' + key, value) for key, value in block.items() if key.startswith('ssl.')
                    and key != 'ssl.endpoint.identification.algorithm')
    assert seen == expected


def test_connect_jvm_files_keep_passwords_off_kafka_opts(lab: Lab, jvm_ssl_dump: str) -> None:
    env_file = lab.worker_etc / 'connect-tls.env'
    args_file = lab.worker_etc / 'connect-jvm-ssl.args'
    assert mode(env_file) == 0o600 and mode(args_file) == 0o600
    assert env_file.stat().st_uid == os.getuid()
    env_text = env_file.read_text()
    passwords = [worker_password(lab, 'keystore'), worker_password(lab, 'truststore')]
    assert not any(p in env_text for p in passwords)
    shell = subprocess.run(['sh', '-c', 'set -a; . "$1"; printf %s "$KAFKA_OPTS"', 'sh', str(env_file)],
                           capture_output=True, text=True, check=True).stdout
    kafka_opts = shlex.split(shell)
    pki = lab.worker_etc / 'pki'
    assert kafka_opts == ['-Djavax.net.ssl.trustStore=%s' % (pki / 'truststore.p12'), '-Djavax.net.ssl.trustStoreType=PKCS12',
                          '-Djavax.net.ssl.keyStore=%s' % (pki / 'keystore.p12'), '-Djavax.net.ssl.keyStoreType=PKCS12',
                          '@%s' % args_file]
    proc = subprocess.run(['java', '-cp', jvm_ssl_dump, *kafka_opts, 'JvmSslDump',
                           'javax.net.ssl.keyStorePassword', 'javax.net.ssl.trustStorePassword'],
                          capture_output=True, text=True, timeout=300, check=True)
    seen = json.loads(proc.stdout)
    assert seen['properties'] == {'javax.net.ssl.keyStorePassword': passwords[0],
                                  'javax.net.ssl.trustStorePassword': passwords[1]}
    assert seen['keystore_aliases'] == ['kafka'] and len(seen['truststore_aliases']) == 1
    assert seen['default_context'] == 'ok'


def test_connect_certificate_covers_the_rest_name(lab: Lab) -> None:
    cert = x509.load_pem_x509_certificate((lab.worker_etc / 'pki' / ('%s.crt' % WORKER)).read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert WORKER in sans.get_values_for_type(x509.DNSName)
    proc = tool('openssl', 'verify', '-purpose', 'sslserver', '-CAfile', str(lab.hosts_root / CA_HOST / 'ca' / 'ca.crt'),
                str(lab.worker_etc / 'pki' / ('%s.crt' % WORKER)))
    assert proc.returncode == 0, proc.stdout


def test_connect_refuses_a_plaintext_bootstrap_port(lab: Lab) -> None:
    before = lab.snapshot()
    run = lab.run('-e', 'kafkasec_connect_bootstrap_servers=kafka-1.lab.test:9092,kafka-2.lab.test:9094,elsewhere:9092,'
                  'PLAINTEXT://other.example.com:9093', playbook=CONNECT_PLAYBOOK, inventory=lab.inventory_path)
    assert run.rc != 0, run.describe()
    assert ("PLAINTEXT://other.example.com:9093 names security protocol PLAINTEXT, which is not TLS") in run.output, run.describe()
    assert ("%s: kafkasec_connect_bootstrap_servers: kafka-1.lab.test:9092 is broker kafka-1.lab.test's PLAINTEXT port"
            % WORKER) in run.output, run.describe()
    assert "kafka-2.lab.test:9094 is broker kafka-2.lab.test's controller listener" in run.output, run.describe()
    assert "kafkasec_connect_bootstrap_servers: PLAINTEXT://other.example.com:9093" in run.output, run.describe()
    # One plan call per worker in the validation play; it names only the wrong endpoints.
    plan_task = run.output.split('TASK [kafkasec.tls.connect : Plan the worker and check its inputs (read-only)]')[1]
    assert 'elsewhere' not in plan_task.split('TASK')[0]
    assert snapshot_diff(before, lab.snapshot()) == []


# --- client bundles --------------------------------------------------------------------------------

def test_client_bundles_converge_then_change_nothing(lab: Lab) -> None:
    first, second = lab.client_first, lab.client_second
    assert first.rc == 0, first.describe()
    assert second.rc == 0, second.describe()
    assert all(counts['changed'] == 0 for counts in second.recap.values()), second.describe()
    assert lab.client_moved == []


@pytest.mark.parametrize('client', CLIENTS, ids=[c['name'] for c in CLIENTS])
def test_client_bundle_files(lab: Lab, client: Dict) -> None:
    name = client['name']
    bundle = lab.bundle_dir / name
    assert mode(bundle) == 0o700
    assert {p.name: mode(p) for p in bundle.iterdir()} == {
        '%s.key' % name: 0o600, '%s.crt' % name: 0o644, 'ca.crt': 0o644,
        'keystore.p12': 0o600, 'truststore.p12': 0o600, 'keystore.password': 0o600, 'truststore.password': 0o600,
        'client.properties': 0o600, 'librdkafka.properties': 0o600}
    ca_crt = lab.hosts_root / CA_HOST / 'ca' / 'ca.crt'
    assert (bundle / 'ca.crt').read_bytes().strip() == ca_crt.read_bytes().strip()
    proc = tool('openssl', 'verify', '-purpose', 'sslclient', '-CAfile', str(bundle / 'ca.crt'), str(bundle / ('%s.crt' % name)))
    assert proc.returncode == 0, proc.stdout
    cert = x509.load_pem_x509_certificate((bundle / ('%s.crt' % name)).read_bytes())
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [name]
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    key = serialization.load_pem_private_key((bundle / ('%s.key' % name)).read_bytes(), None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    if client['name'] == 'secure_user':
        with pytest.raises(x509.ExtensionNotFound):
            cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    else:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == client.get('dns_names', [name])
    keystore_password = (bundle / 'keystore.password').read_text().strip()
    truststore_password = (bundle / 'truststore.password').read_text().strip()
    env = dict(os.environ, KAFKASEC_TEST_STOREPASS=keystore_password)
    listing = tool('keytool', '-J-XX:TieredStopAtLevel=1', '-list', '-v', '-storetype', 'PKCS12',
                   '-keystore', str(bundle / 'keystore.p12'), '-storepass:env', 'KAFKASEC_TEST_STOREPASS', env=env).stdout
    assert 'Entry type: PrivateKeyEntry' in listing and 'Certificate chain length: 2' in listing, listing
    seen = java_load_text(Path(tempfile.mkdtemp()), (bundle / 'client.properties').read_text(encoding='latin-1'))
    assert seen == {
        'bootstrap.servers': 'kafka-1.lab.test:9093,kafka-2.lab.test:19093', 'security.protocol': 'SSL',
        'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': str(bundle / 'keystore.p12'),
        'ssl.keystore.password': keystore_password,
        'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': str(bundle / 'truststore.p12'),
        'ssl.truststore.password': truststore_password,
        'ssl.enabled.protocols': 'TLSv1.3,TLSv1.2', 'ssl.protocol': 'TLSv1.3',
        'ssl.endpoint.identification.algorithm': 'https'}
    rdkafka = dict(line.split('=', 1) for line in (bundle / 'librdkafka.properties').read_text().splitlines()
                   if line and not line.startswith('#'))
    assert rdkafka == {
        'bootstrap.servers': 'kafka-1.lab.test:9093,kafka-2.lab.test:19093', 'security.protocol': 'ssl',
        'ssl.ca.location': str(bundle / 'ca.crt'), 'ssl.certificate.location': str(bundle / ('%s.crt' % name)),
        'ssl.key.location': str(bundle / ('%s.key' % name)), 'ssl.endpoint.identification.algorithm': 'https'}


def test_librdkafka_loads_the_bundle(lab: Lab) -> None:
    """librdkafka (confluent-kafka) reads the key, certificate and CA when the client is created."""
    confluent_kafka = pytest.importorskip('confluent_kafka')
    bundle = lab.bundle_dir / 'orders-app'
    conf = dict(line.split('=', 1) for line in (bundle / 'librdkafka.properties').read_text().splitlines()
                if line and not line.startswith('#'))
    producer = confluent_kafka.Producer(conf)
    producer.flush(0)
    bad = dict(conf, **{'ssl.key.location': str(bundle / 'ca.crt')})
    with pytest.raises(confluent_kafka.KafkaException):
        confluent_kafka.Producer(bad)


def test_client_keys_stay_on_the_client_host(lab: Lab) -> None:
    for client in CLIENTS:
        key_file = '%s.key' % client['name']
        found = [p for p in lab.hosts_root.rglob(key_file)]
        assert found == [lab.bundle_dir / client['name'] / key_file]


def test_no_secret_in_any_output(lab: Lab) -> None:
    secrets = [CA_PASSPHRASE] + [p.read_text().strip() for p in lab.hosts_root.rglob('*.password')]
    assert len(secrets) == 1 + 2 + 2 * len(CLIENTS)
    for run in lab.runs:
        for secret in secrets:
            assert secret not in run.output, run.args


@pytest.mark.parametrize('extra, message', [
    ({'kafkasec_client_bundle_clients': [{'name': 'bad/name'}]}, 'kafkasec_client_bundle_clients must be a list'),
    ({'kafkasec_client_bundle_clients': [{'name': 'x' * 65}]}, 'longer than 64 characters'),
    # The Kafka nodes' certificates share the CN kafka-node (kafkasec_cert_node_common_name): their principal.
    ({'kafkasec_client_bundle_clients': [{'name': 'kafka-node'}]},
     'maps to the principal User:kafka-node under ssl.principal.mapping.rules'),
    ({'kafkasec_client_bundle_dir': '/tmp/with space'}, 'kafkasec_client_bundle_dir must be an absolute path'),
    ({'kafkasec_client_bundle_bootstrap_servers': 'kafka-2.lab.test:9092'},
     "kafkasec_client_bundle_bootstrap_servers: kafka-2.lab.test:9092 is broker kafka-2.lab.test's PLAINTEXT listener"),
], ids=['name', 'long-name', 'impersonation', 'dir', 'bootstrap'])
def test_client_bundle_bad_input_fails_before_any_change(lab: Lab, extra: Dict, message: str) -> None:
    before = lab.snapshot()
    run = lab.run('-e', json.dumps(extra), playbook=CLIENT_PLAYBOOK, inventory=lab.inventory_path)
    assert run.rc != 0 and message in run.output, run.describe()
    assert snapshot_diff(before, lab.snapshot()) == []


def test_a_worker_certificate_with_a_brokers_principal_is_refused(lab: Lab) -> None:
    """No impersonation: a Connect worker whose inventory names its certificate after a broker (CN kafka-1.lab.test,
    so User:kafka-1.lab.test, a super user) is refused by the CA, naming the principal and whose it is."""
    before = lab.snapshot()
    run = lab.run('-e', json.dumps({'kafkasec_cert_common_name': 'kafka-1.lab.test'}), playbook=CONNECT_PLAYBOOK,
                  inventory=lab.inventory_path)
    assert run.rc != 0, run.describe()
    assert ('maps to the principal User:kafka-1.lab.test under ssl.principal.mapping.rules' in run.output
            and 'the principal of Kafka node kafka-1.lab.test' in run.output
            and 'kafkasec_shared_principals' in run.output), run.describe()
    assert [path for path in snapshot_diff(before, lab.snapshot()) if 'connect-1' in str(path) and '.crt' in str(path)] == []
