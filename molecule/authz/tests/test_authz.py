# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authorisation from outside, with real clients: Java console clients and confluent-kafka with the bundles
acls.yml wrote, the admin API as a principal without ACLs, client_bundle.yml asked for a broker's name, and
acls.yml's exclusive mode against an ACL the inventory does not declare."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from cryptography import x509
from cryptography.x509.oid import NameOID
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                   AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic, ResourcePatternType,
                                   ResourceType)

from conftest import GROUP, SCENARIO_INVENTORY, TOPIC

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
PRODUCER = 'org.apache.kafka.tools.ConsoleProducer'
CONSUMER = 'org.apache.kafka.tools.consumer.ConsoleConsumer'


def _authz_client(bundle, *extra, topic=TOPIC):
    return subprocess.run([sys.executable, str(REPO / 'demo' / 'authz_client.py'), '--bundle', str(bundle.directory),
                           '--topic', topic, '--group', GROUP] + list(extra),
                          capture_output=True, text=True, timeout=240, check=False)


def _java(lab, bundle, tool, *args, stdin=None, topic=TOPIC):
    """One of Kafka's console clients (ConsoleProducer, ConsoleConsumer) with the bundle's client.properties."""
    return subprocess.run(['java', '-Xmx128m', '-XX:TieredStopAtLevel=1', '-cp', '%s/*' % lab.vars['kafka_lib_dir'],
                           tool, '--bootstrap-server',
                           bundle.rdkafka_conf()['bootstrap.servers'], '--topic', topic,
                           '--command-config', str(bundle.directory / 'client.properties')] + list(args),
                          input=stdin, capture_output=True, text=True, timeout=240, check=False)


def _playbook(lab, playbook, *args):
    return subprocess.run([str(BIN / 'ansible-playbook'), '--inventory=%s' % lab.path,
                           '--inventory=%s' % SCENARIO_INVENTORY, str(REPO / 'playbooks' / playbook)] + list(args),
                          capture_output=True, text=True, timeout=600, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0'))


def _admin(bundle) -> AdminClient:
    return AdminClient(dict(bundle.rdkafka_conf(), **{'socket.timeout.ms': 20000}))


def _error_name(future) -> str:
    try:
        future.result(30)
    except KafkaException as exc:
        return exc.args[0].name()
    return 'done'


def test_bundles_have_the_client_bundle_layout(secure, insecure):
    for bundle in (secure, insecure):
        names = {p.name for p in bundle.directory.iterdir()}
        assert {'ca.crt', '%s.crt' % bundle.name, '%s.key' % bundle.name, 'client.properties',
                'librdkafka.properties'} <= names, names


def test_secure_user_librdkafka_produces_and_consumes_in_its_group(secure):
    proc = _authz_client(secure)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'secure_user (CN=secure_user, librdkafka.properties) allowed on test_secure_topic' in proc.stdout
    assert 'consumed them in group secure_group' in proc.stdout


def test_secure_user_java_console_clients(lab, secure):
    marker = 'java-%s' % uuid.uuid4().hex
    sent = ['%s %d' % (marker, i) for i in range(5)]
    produced = _java(lab, secure, PRODUCER, stdin='\n'.join(sent) + '\n')
    assert produced.returncode == 0 and 'Exception' not in produced.stderr, produced.stderr[-3000:]
    consumed = _java(lab, secure, CONSUMER, '--group', GROUP, '--from-beginning', '--timeout-ms', '15000')
    got = [line for line in consumed.stdout.splitlines() if line.startswith(marker)]
    assert sorted(got) == sorted(sent), consumed.stdout[-2000:] + consumed.stderr[-3000:]
    assert 'AuthorizationException' not in consumed.stderr, consumed.stderr[-3000:]


def test_insecure_user_is_refused_with_a_topic_authorisation_error(lab, insecure):
    proc = _authz_client(insecure, '--expect-refused')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'produce TOPIC_AUTHORIZATION_FAILED, fetch TOPIC_AUTHORIZATION_FAILED' in proc.stdout
    # Without idempotence: an idempotent producer asks for a producer id first, which a principal without
    # Write on any topic is refused at cluster level (ClusterAuthorizationException) before the topic is reached.
    produced = _java(lab, insecure, PRODUCER, '--producer-property', 'enable.idempotence=false',
                     '--producer-property', 'delivery.timeout.ms=20000',
                     '--producer-property', 'request.timeout.ms=10000', stdin='must not arrive\n')
    said = produced.stdout + produced.stderr  # the producer's log goes to stdout
    assert 'TopicAuthorizationException: Not authorized to access topics: [%s]' % TOPIC in said, said[-3000:]
    assert 'UNKNOWN_TOPIC_OR_PARTITION' not in said


def _refusals(bundle, topic: str, seconds: float = 15.0):
    """What librdkafka tells a principal without ACLs: the produce's delivery error, and every error a consumer
    assigned to partition 0 of the topic (in GROUP) sees within ``seconds``."""
    conf = dict(bundle.rdkafka_conf(), **{'socket.timeout.ms': 20000})
    errors = []
    producer = Producer(dict(conf, **{'message.timeout.ms': 15000, 'enable.idempotence': False}))
    producer.produce(topic, b'must not arrive', on_delivery=lambda err, _m: errors.append(err))
    producer.flush(30)
    consumer = Consumer(dict(conf, **{'group.id': GROUP, 'enable.auto.commit': False}))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    seen, deadline = set(), time.monotonic() + seconds
    while time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is not None:
            seen.add(msg.error().name() if msg.error() else 'read a message')
    consumer.close()
    return (errors[0].name() if errors and errors[0] else 'delivered'), seen


def test_describe_for_everyone_is_what_makes_a_fetch_say_topic_authorisation(lab, insecure, node_admin):
    """The seed procedure grants Describe on the topic to User:* so that a refused client is told it is not
    authorised. Both behaviours, with librdkafka and the Java producer, as insecure_user (no ACL of its own):
    - test_secure_topic (Describe for User:*): produce and fetch both end in TOPIC_AUTHORIZATION_FAILED;
    - a topic no ACL names (it exists) and a topic that does not exist: the produce is still
      TOPIC_AUTHORIZATION_FAILED (Kafka 4 answers metadata for a topic one may not describe that way, so neither
      reveals whether the topic exists), but a consumer is never told about the topic: it sees only its group's
      refusal, as for a topic that is not there.
    Nothing is written or created by the refused principal."""
    produce, fetch = _refusals(insecure, TOPIC)
    assert produce == 'TOPIC_AUTHORIZATION_FAILED' and 'TOPIC_AUTHORIZATION_FAILED' in fetch, (produce, fetch)
    hidden = 'molecule-authz-hidden-%s' % uuid.uuid4().hex[:8]
    node_admin.create_topics([NewTopic(hidden, 1, 1)], request_timeout=20)[hidden].result(30)
    missing = 'molecule-authz-missing-%s' % uuid.uuid4().hex[:8]
    for topic in (hidden, missing):
        produce, fetch = _refusals(insecure, topic)
        assert produce == 'TOPIC_AUTHORIZATION_FAILED', (topic, produce)
        assert 'TOPIC_AUTHORIZATION_FAILED' not in fetch and 'read a message' not in fetch, (topic, fetch)
        assert 'GROUP_AUTHORIZATION_FAILED' in fetch, (topic, fetch)
        produced = _java(lab, insecure, PRODUCER, '--producer-property', 'enable.idempotence=false',
                         '--producer-property', 'delivery.timeout.ms=20000',
                         '--producer-property', 'request.timeout.ms=10000', stdin='must not arrive\n', topic=topic)
        said = produced.stdout + produced.stderr
        assert 'TopicAuthorizationException: Not authorized to access topics: [%s]' % topic in said, said[-3000:]
        assert 'UNKNOWN_TOPIC_OR_PARTITION' not in said, said[-3000:]
    topics = node_admin.list_topics(timeout=20).topics
    assert hidden in topics and missing not in topics
    node_admin.delete_topics([hidden], request_timeout=20)[hidden].result(30)


def test_a_client_without_acls_cannot_create_delete_or_alter(insecure, secure):
    admin = _admin(insecure)
    name = 'molecule-authz-%s' % uuid.uuid4().hex[:8]
    created = admin.create_topics([NewTopic(name, 1, 1)], request_timeout=20)[name]
    assert _error_name(created) in ('TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED')
    deleted = admin.delete_topics([TOPIC], request_timeout=20)[TOPIC]
    assert _error_name(deleted) == 'TOPIC_AUTHORIZATION_FAILED'
    resource = ConfigResource(ConfigResource.Type.TOPIC, TOPIC, incremental_configs=[
        ConfigEntry('retention.ms', '1000', incremental_operation=AlterConfigOpType.SET)])
    (altered,) = admin.incremental_alter_configs([resource]).values()
    assert _error_name(altered) == 'TOPIC_AUTHORIZATION_FAILED'
    # Nothing happened: the topic is there, and the other is not.
    topics = _admin(secure).list_topics(timeout=20).topics
    assert TOPIC in topics and topics[TOPIC].error is None and name not in topics


def test_no_certificate_for_a_brokers_name(lab, tmp_path):
    """A client bundle named as the broker's own certificate (its CN, whose principal is a super user)."""
    broker = lab.brokers[0]
    cert = x509.load_pem_x509_certificate((lab.pki_dir(broker) / ('%s.crt' % broker)).read_bytes())
    (cn,) = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    proc = _playbook(lab, 'client_bundle.yml', '-e', '{"kafkasec_client_bundle_dir": "%s", '
                     '"kafkasec_client_bundle_clients": [{"name": "%s"}]}' % (tmp_path, cn))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'kafkasec_client_bundle_clients' in out and 'User:%s' % cn in out, out[-3000:]
    assert not (tmp_path / cn).exists()


def test_exclusive_mode_deletes_and_reports_an_undeclared_acl(lab, node_admin):
    undeclared = AclBinding(ResourceType.TOPIC, 'undeclared_topic', ResourcePatternType.LITERAL, 'User:secure_user',
                            '*', AclOperation.READ, AclPermissionType.ALLOW)
    node_admin.create_acls([undeclared])[undeclared].result(30)
    query = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, 'User:secure_user', None,
                             AclOperation.ANY, AclPermissionType.ANY)
    assert undeclared in node_admin.describe_acls(query).result(30)
    proc = _playbook(lab, 'acls.yml', '--diff')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'deleted allow User:secure_user Read on topic undeclared_topic from *' in proc.stdout, out[-3000:]
    assert '-User:secure_user allow Read on topic undeclared_topic (literal) from host *' in proc.stdout
    left = node_admin.describe_acls(query).result(30)
    assert undeclared not in left
    # the declared ones: Create, Write, Read, Describe on the topic; Read on the group; and the marker that records the
    # principal as the collection's (acls.yml retires it when the inventory no longer names it)
    assert len(left) == 6, left
    assert [a for a in left if a.name == 'kafkasec.tls:managed' and a.permission_type == AclPermissionType.DENY], left


def test_verify_shows_the_principal_of_each_client_certificate_per_listener(lab, secure, insecure):
    certificates = [str(b.directory / ('%s.crt' % b.name)) for b in (secure, insecure)]
    proc = _playbook(lab, 'verify.yml', '-e', '{"kafkasec_verify_principal_certificates": %s}'
                     % str(certificates).replace("'", '"'))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    broker = lab.brokers[0]
    for listener, port in (('SSL', 9093), ('CONTROLLER', 9094)):
        for bundle, path in zip((secure, insecure), certificates):
            line = '%s %s:%d: %s -> User:%s' % (listener, broker, port, path, bundle.name)
            assert line in proc.stdout, line + '\n' + out[-3000:]
    # the table's column: the verify client's own certificate
    assert 'client maps to' in proc.stdout and 'User:kafkasec-verify' in proc.stdout, out[-3000:]
