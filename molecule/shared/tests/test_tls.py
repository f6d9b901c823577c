# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab after playbooks/site.yml, checked from outside the brokers.

Per host: real TLS handshakes (chain, host name, protocol), the stores' contents as keytool lists
them, file modes and owners as the host's own user sees them (testinfra over SSH), and the CA key
nowhere but on the CA host. Cluster: metadata, a produce/consume round trip with a client
certificate, and the refusals (no client certificate, another CA's certificate, TLS 1.1).
"""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

import kafkalab


# --- TLS handshakes, from the control node, as a client would connect.

def test_ssl_listener_handshake(lab, ca, client, kafka_host):
    """Chain to the lab CA and host name verified; the server sends its full chain (leaf + CA)."""
    port = lab.ssl_port(kafka_host)
    p = kafkalab.s_client(lab.address(kafka_host), port, kafka_host, ca.certificate_path, client)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'Verify return code: 0 (ok)' in p.stdout, p.stdout
    chain = kafkalab.peer_chain(p.stdout)
    assert len(chain) == 2, 'expected leaf + CA from %s:%d, got %d certificates' % (kafka_host, port, len(chain))
    leaf = chain[0]
    assert chain[1].fingerprint(kafkalab.hashes.SHA256()) == ca.certificate.fingerprint(kafkalab.hashes.SHA256())
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert kafka_host in sans.get_values_for_type(x509.DNSName)
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku


def test_controller_listener_handshake(lab, ca, client, controller_host):
    """The KRaft quorum's own listener is on TLS too."""
    props = lab.server_properties(controller_host)
    names = props.get('controller.listener.names', 'CONTROLLER').split(',')
    pmap = dict(i.split(':', 1) for i in props['listener.security.protocol.map'].split(',') if ':' in i)
    assert all(pmap.get(n) == 'SSL' for n in names), props['listener.security.protocol.map']
    ports = [int(lsn.rsplit(':', 1)[1]) for lsn in props['listeners'].split(',') if lsn.split('://')[0] in names]
    assert ports, props['listeners']
    for port in ports:
        p = kafkalab.s_client(lab.address(controller_host), port, controller_host, ca.certificate_path, client)
        assert p.returncode == 0 and 'Verify return code: 0 (ok)' in p.stdout, p.stdout + p.stderr


def test_no_plaintext_listener(lab, kafka_host):
    """Every listener speaks TLS: nothing answers on the old PLAINTEXT port any more."""
    assert all(lsn.protocol == 'SSL' for lsn in lab.listeners(kafka_host)), lab.listeners(kafka_host)
    assert not kafkalab.port_open(lab.address(kafka_host), 9092), '%s:9092 still accepts connections' % kafka_host


def test_tls11_refused(lab, ca, client, kafka_host):
    """A TLS 1.1 client is refused by the broker.

    OpenSSL 3 refuses TLS 1.1 on the client side at its default security level; SECLEVEL=0 lets
    the client offer it, so the refusal is the server's. The same client at TLS 1.2 gets in."""
    addr, port = lab.address(kafka_host), lab.ssl_port(kafka_host)
    old = kafkalab.s_client(addr, port, kafka_host, ca.certificate_path, client,
                            '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')
    out = old.stdout + old.stderr
    assert old.returncode != 0, out
    assert 'no protocols available' not in out, 'the client did not offer TLS 1.1:\n' + out
    tls12 = kafkalab.s_client(addr, port, kafka_host, ca.certificate_path, client,
                              '-tls1_2', '-cipher', 'DEFAULT@SECLEVEL=0')
    assert tls12.returncode == 0 and 'Verify return code: 0 (ok)' in tls12.stdout, tls12.stdout + tls12.stderr


def test_handshake_without_client_certificate_refused(lab, ca, kafka_host):
    """ssl.client.auth=required: a TLS 1.2 handshake without a client certificate fails."""
    p = kafkalab.s_client(lab.address(kafka_host), lab.ssl_port(kafka_host), kafka_host, ca.certificate_path,
                          None, '-tls1_2')
    assert p.returncode != 0, p.stdout + p.stderr


def test_handshake_with_foreign_client_certificate_refused(lab, ca, foreign_client, kafka_host):
    p = kafkalab.s_client(lab.address(kafka_host), lab.ssl_port(kafka_host), kafka_host, ca.certificate_path,
                          foreign_client, '-tls1_2')
    assert p.returncode != 0, p.stdout + p.stderr


# --- The stores, as keytool reads them (with the paths and passwords Kafka itself is given).

def test_keystore(lab, ca, kafka_host):
    props = lab.server_properties(kafka_host)
    entries = kafkalab.keytool_list(props['ssl.keystore.location'], props.get('ssl.keystore.type', 'JKS'),
                                    props['ssl.keystore.password'])
    assert len(entries) == 1, entries
    (entry,) = entries
    assert entry.entry_type == 'PrivateKeyEntry', entry
    assert entry.chain_length == 2, entry
    # The nodes share one CN by default (kafkasec_cert_node_common_name, kafka-node: one super-user principal);
    # the SANs name each host (the handshake tests verify the host name).
    variables = lab.hostvars[kafka_host]
    common_name = (variables.get('kafkasec_cert_common_name') or variables.get('kafkasec_cert_node_common_name')
                   or 'kafka-node')
    assert entry.owners[0] == 'CN=%s' % common_name, entry.owners
    assert entry.sha256[1] == ca.fingerprint_sha256, (entry.sha256, ca.fingerprint_sha256)


def test_truststore(lab, ca, kafka_host):
    props = lab.server_properties(kafka_host)
    entries = kafkalab.keytool_list(props['ssl.truststore.location'], props.get('ssl.truststore.type', 'JKS'),
                                    props['ssl.truststore.password'])
    assert entries and all(e.entry_type == 'trustedCertEntry' for e in entries), entries
    assert ca.fingerprint_sha256 in [e.sha256[0] for e in entries], (entries, ca.fingerprint_sha256)


# --- Files on the hosts, seen by the host's own user over SSH (testinfra).

def test_private_files_owner_only(lab, kafka_host):
    host = lab.testinfra_host(kafka_host)
    user = lab.user(kafka_host)
    assert host.user().name == user
    props = lab.server_properties(kafka_host)
    pki = str(lab.pki_dir(kafka_host))
    keys = [pki + '/' + f for f in host.file(pki).listdir()
            if host.file(pki + '/' + f).is_file and b'PRIVATE KEY' in host.file(pki + '/' + f).content]
    assert keys, 'no private key under %s' % pki
    for path in keys:
        f = host.file(path)
        assert (f.mode, f.user) == (0o600, user), '%s: %o %s' % (path, f.mode, f.user)
    keystore = host.file(props['ssl.keystore.location'])
    assert (keystore.mode, keystore.user) == (0o600, user), '%o %s' % (keystore.mode, keystore.user)
    for name in host.file(pki).listdir():
        if name.endswith('password'):
            f = host.file(pki + '/' + name)
            assert f.mode & 0o077 == 0 and f.user == user, '%s: %o %s' % (name, f.mode, f.user)
    conf = host.file(lab.hostvars[kafka_host]['kafka_server_properties'])
    # It holds the store passwords now.
    assert conf.mode & 0o007 == 0 and conf.user == user, '%o %s' % (conf.mode, conf.user)


def test_ca_key_on_ca_host_only_owner(lab, ca):
    host = lab.testinfra_host(lab.ca_host)
    f = host.file(str(ca.privatekey_path))
    assert (f.mode, f.user) == (0o600, lab.user(lab.ca_host)), '%s: %o %s' % (ca.privatekey_path, f.mode, f.user)


def test_ca_key_absent_from_host(lab, ca, kafka_host):
    """No file under the host's root holds the CA key: not the same bytes, nor the same key re-encoded."""
    root = lab.root(kafka_host)
    seen = 0
    for path in kafkalab.walk_files(root):
        seen += 1
        if path.stat().st_size == len(ca.key_bytes):
            assert path.read_bytes() != ca.key_bytes, '%s is a copy of the CA key %s' % (path, ca.privatekey_path)
        if path.stat().st_size <= 1024 * 1024:
            data = path.read_bytes()
            if b'PRIVATE KEY' in data:
                for key in kafkalab.private_keys_in(data):
                    assert not kafkalab.same_key(key, ca.privatekey), '%s holds the CA key' % path
    assert seen > 0, 'nothing under %s' % root


def test_host_key_absent_from_ca_host(lab, kafka_host):
    """The host key stays on its host: the CA host has no copy of it."""
    pki = lab.pki_dir(kafka_host)
    host_keys = [p.read_bytes() for p in kafkalab.walk_files(pki, 1024 * 1024) if b'PRIVATE KEY' in p.read_bytes()]
    assert host_keys
    for path in kafkalab.walk_files(lab.root(lab.ca_host), 1024 * 1024):
        assert path.read_bytes() not in host_keys, '%s is a copy of a key of %s' % (path, kafka_host)


# --- The cluster, through confluent-kafka over SSL.

def test_metadata_over_ssl(lab, ca, client, broker_host):
    """Each broker alone, bootstrapped over SSL, knows every broker of the inventory by name and SSL port."""
    admin = AdminClient(kafkalab.kafka_conf(lab, client, ca.certificate_path,
                                            bootstrap='%s:%d' % (broker_host, lab.ssl_port(broker_host))))
    md = admin.list_topics(timeout=30)
    seen = {b.id: (b.host, b.port) for b in md.brokers.values()}
    want = {lab.node_id(h): (h, lab.ssl_port(h)) for h in lab.brokers}
    assert seen == want


def test_produce_consume_roundtrip(lab, ca, node_client):
    """A round trip as a super user (the authorizer is on by default; an ordinary client needs ACLs)."""
    conf = kafkalab.kafka_conf(lab, node_client, ca.certificate_path)
    topic = 'molecule-%s' % uuid.uuid4().hex[:12]
    admin = AdminClient(conf)
    rf = min(3, len(lab.brokers))
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=rf)])[topic].result(60)
    try:
        sent = ['tls message %d' % i for i in range(20)]
        delivered = []
        producer = Producer(dict(conf, acks='all'))
        for value in sent:
            producer.produce(topic, value.encode(), on_delivery=lambda err, msg: delivered.append(err))
        assert producer.flush(60) == 0
        assert delivered == [None] * len(sent), delivered
        consumer = Consumer(dict(conf, **{'group.id': topic, 'auto.offset.reset': 'earliest',
                                          'enable.auto.commit': False}))
        consumer.subscribe([topic])
        got = []
        deadline = time.monotonic() + 60
        try:
            while len(got) < len(sent) and time.monotonic() < deadline:
                msg = consumer.poll(1.0)
                if msg is None:
                    continue
                assert msg.error() is None, msg.error()
                got.append(msg.value().decode())
        finally:
            consumer.close()
        assert sorted(got) == sorted(sent)
    finally:
        admin.delete_topics([topic])[topic].result(60)


def test_client_without_acls_is_denied(lab, ca, client, node_client):
    """The authorizer is on and allows nothing without an ACL: the CA-signed molecule-client may not create a topic,
    and may neither delete nor produce to one a super user created."""
    admin = AdminClient(kafkalab.kafka_conf(lab, node_client, ca.certificate_path))
    topic = 'molecule-acl-%s' % uuid.uuid4().hex[:12]
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=min(3, len(lab.brokers)))])[topic].result(60)
    try:
        conf = kafkalab.kafka_conf(lab, client, ca.certificate_path)
        plain = AdminClient(conf)
        other = 'molecule-denied-%s' % uuid.uuid4().hex[:12]
        with pytest.raises(KafkaException) as created:
            plain.create_topics([NewTopic(other, num_partitions=1, replication_factor=1)])[other].result(60)
        assert 'AUTHORIZATION_FAILED' in created.value.args[0].name(), created.value
        with pytest.raises(KafkaException) as deleted:
            plain.delete_topics([topic])[topic].result(60)
        assert 'AUTHORIZATION_FAILED' in deleted.value.args[0].name(), deleted.value
        producer = Producer(dict(conf, acks='all', **{'message.timeout.ms': 15000}))
        errors = []
        producer.produce(topic, b'denied', on_delivery=lambda err, msg: errors.append(err))
        producer.flush(30)
        assert errors and errors[0] is not None and 'AUTHORIZATION_FAILED' in errors[0].name(), errors
        assert topic in admin.list_topics(timeout=30).topics  # still there
    finally:
        admin.delete_topics([topic])[topic].result(60)


def _refused(lab, ca, pki):
    errors = []
    admin = AdminClient(kafkalab.kafka_conf(lab, pki, ca.certificate_path, errors=errors))
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=10)
    admin.poll(1)
    return errors


def test_client_without_certificate_refused(lab, ca):
    """The brokers end the TLS session with an alert: librdkafka sees SSL alert 42 (bad certificate)."""
    errors = _refused(lab, ca, None)
    assert any('alert' in e for e in errors), errors


def test_client_with_foreign_certificate_refused(lab, ca, foreign_client):
    errors = _refused(lab, ca, foreign_client)
    assert any('alert' in e for e in errors), errors
