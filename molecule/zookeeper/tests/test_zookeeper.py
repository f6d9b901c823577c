# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zookeeper scenario, checked from outside with real processes.

ZooKeeper's own client (org.apache.zookeeper.ZooKeeperMain, from the lab's Kafka 3.9 class path)
connects over TLS with a client certificate from the lab CA, with or without a SASL digest login;
openssl probes the ports; confluent-kafka does a produce/consume round trip over TLS.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import List, Optional

import pytest
from confluent_kafka import Consumer, Producer

import kafkalab

ZK_GROUP = 'zookeeper'


@pytest.fixture(scope='session')
def zk_host(lab) -> str:
    """The first server of the ensemble (the scenario's lab has three; the checks of one hold for each)."""
    return lab.group(ZK_GROUP)[0]


@pytest.fixture(scope='session')
def zoo_cfg(lab, zk_host) -> dict:
    return kafkalab.parse_properties(Path(lab.hostvars[zk_host]['kafkasec_zookeeper_config_path']).read_text())


@pytest.fixture(scope='session')
def zk_client(lab, zk_host, client, tmp_path_factory):
    """Runs zkCli commands over TLS (PEM key store of the test's client certificate); sasl_user picks the
    digest account of the JAAS Client section (None: no JAAS file, no SASL)."""
    work = tmp_path_factory.mktemp('zkcli')
    keystore = work / 'client-keystore.pem'
    keystore.write_bytes(client.key_file.read_bytes() + client.cert_file.read_bytes())
    os.chmod(keystore, 0o600)
    zoo_cfg = kafkalab.parse_properties(Path(lab.hostvars[zk_host]['kafkasec_zookeeper_config_path']).read_text())
    users = {'auditor': 'auditor-secret', 'nobody': 'wrong-password'}
    server = '%s:%s' % (zk_host, zoo_cfg['secureClientPort'])
    java = lab.vars['kafka_java']
    libs = os.path.join(lab.vars['kafka_lib_dir'], '*')

    def run(args: List[str], sasl_user: Optional[str]) -> subprocess.CompletedProcess:
        props = ['-Dzookeeper.client.secure=true',
                 '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
                 '-Dzookeeper.ssl.keyStore.location=%s' % keystore, '-Dzookeeper.ssl.keyStore.type=PEM',
                 '-Dzookeeper.ssl.trustStore.location=%s' % client.ca_file, '-Dzookeeper.ssl.trustStore.type=PEM',
                 '-Dzookeeper.request.timeout=15000', '-Dlog4j.configuration=file:/dev/null']
        if sasl_user is None:
            props.append('-Dzookeeper.sasl.client=false')
        else:
            jaas = work / ('%s.jaas' % sasl_user)
            jaas.write_text('Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required '
                            'username="%s" password="%s";\n};\n' % (sasl_user, users[sasl_user]))
            props.append('-Djava.security.auth.login.config=%s' % jaas)
        argv = [java, '-Xmx96m'] + props + ['-cp', libs, 'org.apache.zookeeper.ZooKeeperMain',
                                            '-server', server, '-timeout', '10000'] + args
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return run


def test_zookeeper_serves_only_the_secure_port(lab, zk_host, zoo_cfg):
    address = lab.address(zk_host)
    assert 'clientPort' not in zoo_cfg, 'zoo.cfg still has a plain clientPort: %s' % zoo_cfg.get('clientPort')
    assert zoo_cfg['serverCnxnFactory'] == 'org.apache.zookeeper.server.NettyServerCnxnFactory'
    assert not kafkalab.port_open(address, 2181), 'the plain ZooKeeper port 2181 still accepts connections'
    assert kafkalab.port_open(address, int(zoo_cfg['secureClientPort']))


def test_secure_port_verifies_and_requires_a_client_certificate(lab, zk_host, zoo_cfg, client):
    address, port = lab.address(zk_host), int(zoo_cfg['secureClientPort'])
    ok = kafkalab.s_client(address, port, zk_host, client.ca_file, client, '-tls1_2')
    assert 'Verify return code: 0 (ok)' in ok.stdout, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert kafkalab.peer_chain(ok.stdout)[0].subject.rfc4514_string() == 'CN=%s' % zk_host
    # TLS 1.2: ZooKeeper (ssl.clientAuth=need) refuses the handshake of a client without a certificate.
    refused = kafkalab.s_client(address, port, zk_host, client.ca_file, None, '-tls1_2')
    assert refused.returncode != 0, 'a client without a certificate completed the TLS handshake'
    old = kafkalab.s_client(address, port, zk_host, client.ca_file, client, '-tls1_1')
    assert old.returncode != 0, 'ZooKeeper accepted TLS 1.1'


def test_brokers_are_registered_over_tls_with_sasl(lab, zk_client):
    out = zk_client(['ls', '/brokers/ids'], 'auditor')
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ids = sorted(lab.node_id(h) for h in lab.brokers)
    assert '[%s]' % ', '.join(str(i) for i in ids) in out.stdout, out.stdout[-3000:]


def test_broker_sessions_authenticated_with_sasl_digest(lab, zk_host):
    log = Path(lab.hostvars[zk_host]['zookeeper_log_dir'], 'zookeeper.log').read_text(errors='replace')
    for broker in lab.brokers:
        # The subject of the broker's own certificate (the nodes share the CN kafkasec_cert_node_common_name).
        cert = kafkalab.x509.load_pem_x509_certificate((lab.pki_dir(broker) / ('%s.crt' % broker)).read_bytes())
        common_name = cert.subject.get_attributes_for_oid(kafkalab.NameOID.COMMON_NAME)[0].value
        assert "Authenticated Id 'CN=%s' for Scheme 'x509'" % common_name in log
    assert 'Successfully authenticated client: authenticationID=kafka;' in log


def test_client_without_sasl_is_refused(zk_client):
    out = zk_client(['ls', '/brokers/ids'], None)
    text = out.stdout + out.stderr
    assert '[1' not in out.stdout, 'a TLS client without SASL read /brokers/ids: %s' % out.stdout[-2000:]
    assert 'AuthFailed' in text or 'failed to authenticate' in text or 'ConnectionLoss' in text, text[-3000:]


def test_wrong_digest_password_is_refused(zk_client):
    out = zk_client(['ls', '/brokers/ids'], 'nobody')
    assert '[1' not in out.stdout, 'an unknown SASL account read /brokers/ids: %s' % out.stdout[-2000:]


def test_broker_znodes_are_protected_by_acls(lab, zk_client):
    broker_id = lab.node_id(lab.brokers[0])
    acl = zk_client(['getAcl', '/brokers/ids/%d' % broker_id], 'auditor')
    assert acl.returncode == 0, acl.stdout[-3000:] + acl.stderr[-3000:]
    assert "'sasl,'kafka" in acl.stdout and ': cdrwa' in acl.stdout, acl.stdout[-2000:]
    assert "'world,'anyone\n: cdrwa" not in acl.stdout, acl.stdout[-2000:]
    # Another authenticated account can read, but cannot change, what the brokers created. (Deleting a
    # znode is checked against its parent's ACL: the parents created before the rollout stay open until
    # Kafka's zookeeper-security-migration tool secures them, see docs/zookeeper.md.)
    for cmd in (['set', '/brokers/ids/%d' % broker_id, 'x'], ['set', '/controller', 'x']):
        out = zk_client(cmd, 'auditor')
        assert 'Insufficient permission' in out.stdout + out.stderr or 'NoAuth' in out.stdout + out.stderr, \
            '%s was not refused: %s' % (' '.join(cmd), (out.stdout + out.stderr)[-2000:])
    still = zk_client(['get', '/controller'], 'auditor')
    assert '"brokerid":' in still.stdout, still.stdout[-2000:]


def test_jaas_files_are_owner_only(lab, zk_host):
    paths = [(Path(lab.hostvars[zk_host]['kafkasec_zookeeper_config_path']).parent / 'zookeeper-server.jaas', zk_host)]
    paths += [(Path(lab.hostvars[b]['kafka_config_dir']) / 'kafka-zookeeper-client.jaas', b) for b in lab.brokers]
    for path, host in paths:
        st = path.stat()
        assert st.st_mode & 0o777 == 0o600, '%s has mode %o' % (path, st.st_mode & 0o777)
        assert st.st_uid == int(subprocess.check_output(['id', '-u', lab.user(host)]).strip())


def _round_trip(conf: dict, topic: str, group: str, count: int = 20) -> List[bytes]:
    """Produce count messages (acks=all) and read them back in the group; the values read."""
    producer = Producer(dict(conf, acks='all'))
    values = [('zk-%d' % i).encode() for i in range(count)]
    for v in values:
        producer.produce(topic, v)
    assert producer.flush(60) == 0
    consumer = Consumer(dict(conf, **{'group.id': group, 'auto.offset.reset': 'earliest'}))
    consumer.subscribe([topic])
    got = []
    try:
        for _ in range(120):
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error():
                got.append(msg.value())
            if len(got) == len(values):
                break
    finally:
        consumer.close()
    assert sorted(got) == sorted(values)
    return got


def test_produce_consume_over_tls(lab, node_client):
    # AclAuthorizer is on (the default): the round trip runs as the nodes' principal, a super user, as the
    # collection's tools do (node_client checks it is in super.users).
    topic = 'molecule-zk-%s' % uuid.uuid4().hex[:8]
    _round_trip(kafkalab.kafka_conf(lab, node_client, node_client.ca_file), topic, topic)


ACL_TOPIC, ACL_GROUP = 'molecule-zk-acl-topic', 'molecule-zk-acl-group'  # vars.yml's kafkasec_acls_principals


def test_authorizer_is_acl_authorizer_with_the_node_as_super_user(lab, node_client):
    for host in lab.kafka_hosts:
        props = lab.server_properties(host)
        assert props.get('authorizer.class.name') == 'kafka.security.authorizer.AclAuthorizer', props
        assert props.get('allow.everyone.if.no.acl.found', 'false') == 'false', props
        assert props.get('zookeeper.set.acl') == 'true', props


def test_client_with_acls_from_acls_yml_produces_and_consumes(lab, client):
    _round_trip(kafkalab.kafka_conf(lab, client, client.ca_file), ACL_TOPIC, ACL_GROUP)


def test_client_without_acls_is_refused(lab, ca, tmp_path):
    pem = ca.certificate.public_bytes(kafkalab.serialization.Encoding.PEM)
    stranger = kafkalab.issue_client(tmp_path, ca.certificate, ca.privatekey, pem, 'molecule-no-acl')
    errors: list = []
    producer = Producer(dict(kafkalab.kafka_conf(lab, stranger, stranger.ca_file),
                             **{'message.timeout.ms': 15000, 'enable.idempotence': False}))
    producer.produce(ACL_TOPIC, b'must not arrive', on_delivery=lambda err, _m: errors.append(err))
    producer.flush(30)
    assert errors and errors[0] is not None and errors[0].name() == 'TOPIC_AUTHORIZATION_FAILED', errors
