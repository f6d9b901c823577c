# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SASL_SSL listener from outside, with real clients (confluent-kafka, openssl, a Java tool)."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import List, Tuple

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

import kafkalab

sys.path.insert(0, str(kafkalab.REPO / '.build' / 'collections'))
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import scram  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import ClusterRequest  # noqa: E402  pylint: disable=wrong-import-position


def sasl_conf(listener: kafkalab.Listener, ca_file: Path, user: str, password: str, mechanism: str,
              errors: list, protocol: str = 'SASL_SSL') -> dict:
    conf = {
        'bootstrap.servers': '%s:%d' % (listener.host, listener.port),
        'security.protocol': protocol,
        'sasl.mechanism': mechanism,
        'sasl.username': user,
        'sasl.password': password,
        'client.id': 'molecule-sasl-%s' % uuid.uuid4().hex[:8],
        'socket.timeout.ms': 10000,
        'error_cb': lambda err: errors.append(str(err)),
        'logger': kafkalab._ListLogger(errors),  # pylint: disable=protected-access
    }
    if protocol == 'SASL_SSL':
        conf.update({'ssl.ca.location': str(ca_file), 'ssl.endpoint.identification.algorithm': 'https'})
    return conf


def metadata(conf: dict, errors: list, timeout: float = 20.0) -> Tuple[bool, List[str]]:
    """(True, brokers) when a metadata request answers within timeout; (False, []) once it is refused."""
    admin = AdminClient(conf)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            md = admin.list_topics(timeout=1)
            return True, sorted('%s:%d' % (b.host, b.port) for b in md.brokers.values())
        except KafkaException:
            pass
        admin.poll(0)
        if any('Authentication failed' in e or 'certificate verify failed' in e for e in errors):
            return False, []
    return False, []


def test_server_properties_sasl_ssl_only(lab, broker, sasl, scram_users):
    props = lab.server_properties(broker)
    assert sasl.name == 'SASL_SSL' and sasl.port == 9096
    assert props['listener.name.sasl_ssl.sasl.enabled.mechanisms'] == 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN'
    assert props['inter.broker.listener.name'] == 'SSL'
    assert 'SASL_PLAINTEXT' not in Path(lab.hostvars[broker]['kafka_server_properties']).read_text()
    text = Path(lab.hostvars[broker]['kafka_server_properties']).read_text()
    for user in scram_users.values():   # SCRAM passwords live hashed in the metadata only
        assert user['password'] not in text


def test_scram_user_produces_and_consumes(sasl, ca, scram_users):
    alice = scram_users['alice']
    errors: list = []
    conf = sasl_conf(sasl, ca.certificate_path, 'alice', alice['password'], 'SCRAM-SHA-512', errors)
    topic = 'sasl-%s' % uuid.uuid4().hex[:8]
    admin = AdminClient(conf)
    for future in admin.create_topics([NewTopic(topic, 1, 1)], request_timeout=30).values():
        future.result(timeout=60)
    sent = ['message %d from alice' % i for i in range(20)]
    delivered: list = []
    producer = Producer(dict(conf, acks='all'))
    for value in sent:
        producer.produce(topic, value.encode(), on_delivery=lambda err, msg: delivered.append(err))
    assert producer.flush(60) == 0, errors
    assert delivered == [None] * len(sent), delivered
    consumer = Consumer(dict(conf, **{'group.id': 'molecule-sasl', 'auto.offset.reset': 'earliest'}))
    consumer.subscribe([topic])
    got: list = []
    deadline = time.monotonic() + 90
    while len(got) < len(sent) and time.monotonic() < deadline:
        msg = consumer.poll(1)
        if msg is not None and msg.error() is None:
            got.append(msg.value().decode())
    consumer.close()
    assert got == sent, errors[-5:]


def test_every_mechanism_logs_in(broker, sasl, ca, scram_users, plain_users):
    logins = [(name, u['password'], u.get('mechanism', 'SCRAM-SHA-512')) for name, u in scram_users.items()]
    # carol's password has ", \, ;, = and a space: it reached Kafka through the inline JAAS entry.
    logins += [(name, password, 'PLAIN') for name, password in plain_users.items()]
    assert {m for _n, _p, m in logins} == {'SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'}
    for name, password, mechanism in logins:
        errors: list = []
        ok, brokers = metadata(sasl_conf(sasl, ca.certificate_path, name, password, mechanism, errors), errors)
        assert ok, '%s (%s) could not log in: %s' % (name, mechanism, errors[-3:])
        assert brokers == ['%s:%d' % (broker, sasl.port)]   # the brokers as this listener advertises them


def test_wrong_password_and_unknown_user_refused(sasl, ca, scram_users, plain_users):
    for name, password, mechanism in [('alice', scram_users['alice']['password'] + 'x', 'SCRAM-SHA-512'),
                                      ('bob', scram_users['alice']['password'], 'SCRAM-SHA-256'),
                                      ('mallory', 'guess', 'SCRAM-SHA-512'),
                                      ('carol', 'c"a', 'PLAIN')]:
        errors: list = []
        ok, _ = metadata(sasl_conf(sasl, ca.certificate_path, name, password, mechanism, errors), errors)
        assert not ok, '%s (%s) logged in with a wrong password' % (name, mechanism)
        assert any('Authentication failed' in e for e in errors), errors[-3:]


def test_sasl_plaintext_to_the_sasl_ssl_port_fails(sasl, ca, scram_users):
    errors: list = []
    conf = sasl_conf(sasl, ca.certificate_path, 'alice', scram_users['alice']['password'], 'SCRAM-SHA-512',
                     errors, protocol='SASL_PLAINTEXT')
    ok, _ = metadata(conf, errors, timeout=10)
    assert not ok, 'SASL_PLAINTEXT got metadata from the SASL_SSL listener'
    assert errors, 'the refused SASL_PLAINTEXT client logged nothing'
    assert not any('Authentication failed' in e for e in errors), errors[-3:]   # it never got as far as SASL


def test_tls_enforced_on_the_sasl_listener(lab, broker, sasl, ca, scram_users, tmp_path):
    address = lab.address(broker)
    ok = kafkalab.s_client(address, sasl.port, broker, ca.certificate_path)
    assert ok.returncode == 0 and 'Verify return code: 0 (ok)' in ok.stdout, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert 'TLSv1.3' in ok.stdout
    leaf = kafkalab.peer_chain(ok.stdout)[0]
    sans = leaf.extensions.get_extension_for_class(kafkalab.x509.SubjectAlternativeName).value
    assert broker in sans.get_values_for_type(kafkalab.x509.DNSName)
    old = kafkalab.s_client(address, sasl.port, broker, ca.certificate_path, None, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')
    assert old.returncode != 0, 'TLS 1.1 accepted on the SASL_SSL listener'
    # A client that trusts another CA refuses the broker before any SASL exchange.
    other, _key = kafkalab.make_ca(ca.certificate.subject)
    other_pem = tmp_path / 'other-ca.pem'
    other_pem.write_bytes(other.public_bytes(kafkalab.serialization.Encoding.PEM))
    errors: list = []
    ok, _ = metadata(sasl_conf(sasl, other_pem, 'alice', scram_users['alice']['password'], 'SCRAM-SHA-512', errors),
                     errors, timeout=10)
    assert not ok and any('certificate verify failed' in e for e in errors), errors[-3:]


def test_scram_logic_detects_a_changed_password(lab, broker, sasl):
    """The scram_users module's logic against the cluster: same password -> nothing; another -> an update."""
    pki = lab.pki_dir(broker)
    request = ClusterRequest(bootstrap_servers=('%s:%d' % (broker, lab.ssl_port(broker)),),
                             ca_path=str(pki / 'ca-chain.crt'), cert_path=str(pki / ('%s.crt' % broker)),
                             key_path=str(pki / ('%s.key' % broker)), request_timeout=30)
    login = scram.SaslLogin(('%s:%d' % (sasl.host, sasl.port),), str(pki / 'ca-chain.crt'), 20)
    wanted = scram.parse_users(kafkalab.yaml.safe_load(
        (Path(__file__).resolve().parents[1] / 'vars.yml').read_text())['kafkasec_broker_scram_users'])
    assert scram.ensure(request, wanted, login, check_mode=True) == []
    changed = [scram.ScramUser(u.name, u.mechanism, u.iterations, u.password + '-new') for u in wanted]
    actions = scram.ensure(request, changed, login, check_mode=True)
    assert [(a.kind, a.user.name) for a in actions] == [('update', u.name) for u in wanted], actions
    assert all('password changed' in a.reason for a in actions)
    # Still the old passwords (check mode wrote nothing).
    assert scram.ensure(request, wanted, login, check_mode=True) == []


def test_client_jaas_file_serves_a_java_tool(lab, broker, sasl, ca, tmp_path):
    hv = lab.hostvars[broker]
    jaas = Path(hv['kafka_config_dir']) / 'kafka-client.jaas'
    st = jaas.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert pwd.getpwuid(st.st_uid).pw_name == lab.user(broker)
    command_config = tmp_path / 'sasl.properties'
    command_config.write_text('security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n'
                              'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' % ca.certificate_path)
    topic = 'jaas-%s' % uuid.uuid4().hex[:8]
    argv = [hv['kafka_java'], '-Xmx128m', '-Djava.security.auth.login.config=%s' % jaas,
            '-cp', '%s/*' % hv['kafka_lib_dir'], 'org.apache.kafka.tools.TopicCommand',
            '--bootstrap-server', '%s:%d' % (sasl.host, sasl.port), '--command-config', str(command_config),
            '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1']
    run = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False,
                         env=dict(os.environ, KAFKA_HEAP_OPTS='-Xmx128m'))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert 'Created topic %s' % topic in run.stdout
