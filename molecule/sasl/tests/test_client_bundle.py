# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SASL_SSL client bundles made by playbooks/client_bundle.yml (converge.yml; vars.yml: billing with a password
holding a quote, a backslash, ;, =, a space and non-ASCII; ledger with a generated one), used for real: Kafka's
Java console producer and consumer with client.properties, and confluent-kafka (librdkafka) with the settings
of librdkafka.properties read the way kcat -F reads them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

import kafkalab

sys.path.insert(0, str(kafkalab.REPO / '.build' / 'collections'))
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import client_bundle  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load  # noqa: E402  pylint: disable=wrong-import-position

from conftest import VARS  # noqa: E402  pylint: disable=wrong-import-position

CLIENTS = {c['name']: c for c in VARS['kafkasec_client_bundle_clients']}


@pytest.fixture(scope='session')
def bundles(lab) -> Path:
    return Path(lab.vars['kafkasec_lab_home']) / 'client-bundles'


def _password(bundles: Path, name: str) -> str:
    client = CLIENTS[name]
    if 'sasl_password' in client:
        return client['sasl_password']
    return (bundles / name / 'sasl.password').read_text().strip()


@pytest.mark.parametrize('name', sorted(CLIENTS))
def test_sasl_bundle_files(bundles, sasl, broker, ca, name):
    directory = bundles / name
    expected = {'ca.crt': 0o644, 'truststore.p12': 0o600, 'truststore.password': 0o600, 'client.properties': 0o600,
                'librdkafka.properties': 0o600}
    if 'sasl_password' not in CLIENTS[name]:
        expected['sasl.password'] = 0o600
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()} == expected   # no key, no certificate
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert (directory / 'ca.crt').read_bytes().strip() == Path(ca.certificate_path).read_bytes().strip()
    password = _password(bundles, name)
    mechanism = CLIENTS[name]['sasl_mechanism']
    java = load((directory / 'client.properties').read_bytes().decode('latin-1'))
    assert java['security.protocol'] == 'SASL_SSL' and java['sasl.mechanism'] == mechanism
    assert java['bootstrap.servers'] == '%s:%d' % (broker, sasl.port)
    assert java['sasl.jaas.config'] == client_bundle.sasl_jaas_config(mechanism, name, password)
    assert not [k for k in java if k.startswith('ssl.keystore')]
    assert java['ssl.cipher.suites'] == ','.join(client_bundle.BROKER_TLS_DEFAULTS['cipher_suites'])
    rd = client_bundle.parse_librdkafka_text((directory / 'librdkafka.properties').read_text(encoding='utf-8'))
    assert rd['sasl.password'] == password and rd['sasl.username'] == name and rd['sasl.mechanisms'] == mechanism
    assert rd['security.protocol'] == 'sasl_ssl' and 'ssl.key.location' not in rd
    assert rd['ssl.cipher.suites'] == client_bundle.openssl_cipher_list(client_bundle.BROKER_TLS_DEFAULTS['cipher_suites'])


def test_billing_password_is_awkward():
    password = CLIENTS['billing']['sasl_password']
    assert '"' in password and '\\' in password and not password.isascii()


@pytest.mark.parametrize('name', sorted(CLIENTS))
def test_librdkafka_file_produces_and_consumes(bundles, name):
    conf = client_bundle.parse_librdkafka_text((bundles / name / 'librdkafka.properties').read_text(encoding='utf-8'))
    topic = 'bundle-rd-%s-%s' % (name, uuid.uuid4().hex[:8])
    sent = ['%s librdkafka %d' % (name, i) for i in range(10)]
    errors: list = []
    producer = Producer(dict(conf, acks='all', error_cb=lambda e: errors.append(str(e))))
    delivered: list = []
    for value in sent:
        producer.produce(topic, value.encode(), on_delivery=lambda err, msg: delivered.append(err))
    assert producer.flush(60) == 0, errors[-5:]
    assert delivered == [None] * len(sent), (delivered, errors[-5:])
    consumer = Consumer(dict(conf, **{'group.id': 'molecule-bundle-rd-%s' % name, 'auto.offset.reset': 'earliest',
                                      'error_cb': lambda e: errors.append(str(e))}))
    consumer.subscribe([topic])
    got: list = []
    deadline = time.monotonic() + 90
    try:
        while len(got) < len(sent) and time.monotonic() < deadline:
            msg = consumer.poll(1)
            if msg is not None and msg.error() is None:
                got.append(msg.value().decode())
    finally:
        consumer.close()
    assert sorted(got) == sorted(sent), errors[-5:]   # every message once (the topic's partitions mix the order)


def _java(lab, tool: str, *args: str, stdin: str = '') -> subprocess.CompletedProcess:
    hv = lab.hostvars[lab.brokers[0]]
    return subprocess.run([hv['kafka_java'], '-Xmx128m', '-XX:TieredStopAtLevel=1', '-cp', '%s/*' % hv['kafka_lib_dir'],
                           tool] + list(args), input=stdin, capture_output=True, text=True, timeout=180, check=False,
                          env=dict(os.environ, KAFKA_HEAP_OPTS='-Xmx128m'))


def test_java_console_tools_with_client_properties(lab, bundles, broker, sasl):
    """billing (the awkward password): kafka-console-producer, then kafka-console-consumer, SASL_SSL."""
    config = str(bundles / 'billing' / 'client.properties')
    server = '%s:%d' % (broker, sasl.port)
    topic = 'bundle-java-%s' % uuid.uuid4().hex[:8]
    sent = ['java %d %s' % (i, uuid.uuid4().hex) for i in range(5)]
    made = _java(lab, 'org.apache.kafka.tools.ConsoleProducer', '--bootstrap-server', server, '--topic', topic,
                 '--command-config', config, stdin=''.join(v + '\n' for v in sent))
    assert made.returncode == 0, made.stderr[-3000:]
    read = _java(lab, 'org.apache.kafka.tools.consumer.ConsoleConsumer', '--bootstrap-server', server, '--topic', topic,
                 '--from-beginning', '--max-messages', str(len(sent)), '--timeout-ms', '60000',
                 '--group', 'molecule-bundle-java', '--command-config', config)
    assert read.returncode == 0, read.stderr[-3000:]
    assert read.stdout.splitlines() == sent, read.stdout[-2000:] + read.stderr[-2000:]
