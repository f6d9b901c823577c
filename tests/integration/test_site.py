# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml on the real lab: PLAINTEXT KRaft cluster in, TLS everywhere out.

Checked from the outside: a produce/consume round trip over SSL with a client certificate,
openssl s_client with and without a client certificate and with TLSv1.1, a second run that
changes and restarts nothing, and bad input that stops the run before any file changes.
"""

from __future__ import annotations

import struct
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import SSL_PORT, s_client  # noqa: E402,F401  pylint: disable=wrong-import-position

pytestmark = pytest.mark.lab

KAFKA_TIMEOUT = 60  # seconds for a produce/consume round trip


# -- the tests ---------------------------------------------------------------------------------

def test_advertised_name_outside_the_sans_stops_before_any_change(site, tmp_path):
    # On the untouched PLAINTEXT lab (before the rollout), so that a leak past the validation
    # would show as a created CA, key or store, or an edited server.properties.
    hosts = site.kafka_hosts()
    bad = hosts[1]
    short, domain = bad['name'].split('.', 1)
    alias = '%s-alias.%s' % (short, domain)
    override = tmp_path / 'bad-advertised-name.yml'
    override.write_text(yaml.safe_dump({'all': {'hosts': {bad['name']: {'kafkasec_broker_advertised_host': alias}}}}))
    before_files = site.digest()
    before_procs = site.processes()
    run = site.run(inventories=(override,))
    assert run.rc != 0, run.describe()
    assert '%s: kafkasec_broker_advertised_host %s is not among' % (bad['name'], alias) in run.output, run.describe()
    assert all(r['changed'] == 0 for r in run.recap.values()), run.describe()
    # No play after the validation play ran, on any host.
    assert 'PLAY [Certificate authority]' not in run.output, run.describe()
    assert site.digest() == before_files
    assert site.processes() == before_procs


def test_controller_switch_refuses_a_partial_run(site):
    # Still the PLAINTEXT lab: moving the controller listener to TLS on one node only would split the quorum.
    first = site.kafka_hosts()[0]
    if 'CONTROLLER:PLAINTEXT' not in (Path(first['root']) / 'etc' / 'server.properties').read_text():
        pytest.skip('a reused lab (KAFKASEC_LAB_REUSE=1) that is already on TLS: no controller switch to refuse')
    one = first['name']
    before = site.digest()
    run = site.run('--limit', '%s,%s' % (one, site.ca_host()['name']))
    assert run.rc != 0, run.describe()
    assert 'which the whole KRaft quorum must do together' in run.output, run.describe()
    assert 'Run without --limit' in run.output, run.describe()
    assert site.digest() == before


def test_site_rolls_tls_out(rollout):
    site = rollout
    first = site.first
    assert first.rc == 0, first.describe()
    recap = first.recap
    assert set(h['name'] for h in site.status['hosts']) <= set(recap), recap
    assert all(r['failed'] == 0 and r['unreachable'] == 0 for r in recap.values()), recap
    # The controller listener moved from PLAINTEXT to SSL: the play says the quorum restarts as a whole.
    assert 'A KRaft quorum cannot mix protocols' in first.output, first.describe()
    for h in site.kafka_hosts():
        assert h['kafka']['pid'], 'Kafka is not running on %s after site.yml' % h['name']
        assert recap[h['name']]['changed'] > 0
        props = Path(h['root']) / 'etc' / 'server.properties'
        text = props.read_text()
        assert 'listener.security.protocol.map=CONTROLLER:SSL,SSL:SSL\n' in text
        assert 'inter.broker.listener.name=SSL\n' in text
        assert 'advertised.listeners=SSL://%s:%d,CONTROLLER://%s:9094\n' % (h['name'], SSL_PORT, h['name']) in text
        assert 'ssl.client.auth=required\n' in text
        assert 'PLAINTEXT://' not in text
        assert oct(props.stat().st_mode & 0o777) == '0o640'
        # The operator's comments are still there.
        assert '# Brokers talk to each other on this listener.' in text
        assert not (props.parent / (props.name + '.kafkasec-restart-pending')).exists()
    print('site.yml first run: %.1fs; per host %s' % (first.seconds, recap))


def test_produce_consume_over_ssl_with_client_certificate(tls):
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    site = tls
    conf = {'bootstrap.servers': ','.join('%s:%d' % (h['name'], SSL_PORT) for h in site.kafka_hosts()),
            'security.protocol': 'SSL',
            'ssl.ca.location': str(site.ca_pem),
            'ssl.certificate.location': str(site.client_cert[0]),
            'ssl.key.location': str(site.client_cert[1])}
    topic = 'kafkasec-site-%s' % uuid.uuid4().hex[:8]
    admin = AdminClient(conf)
    for fut in admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3)],
                                   request_timeout=KAFKA_TIMEOUT).values():
        fut.result(timeout=KAFKA_TIMEOUT)
    marker = uuid.uuid4().hex
    errors = []
    producer = Producer(dict(conf, acks='all', **{'message.timeout.ms': KAFKA_TIMEOUT * 1000}))
    for i in range(20):
        producer.produce(topic, key=str(i), value='%s-%d' % (marker, i),
                         on_delivery=lambda err, _msg: err and errors.append(err))
    assert producer.flush(KAFKA_TIMEOUT) == 0, 'messages still in flight'
    assert not errors, errors
    consumer = Consumer(dict(conf, **{'group.id': 'kafkasec-site-' + marker, 'auto.offset.reset': 'earliest',
                                      'enable.auto.commit': False}))
    got = set()
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + KAFKA_TIMEOUT
        while len(got) < 20 and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            got.add(msg.value().decode())
    finally:
        consumer.close()
    assert got == {'%s-%d' % (marker, i) for i in range(20)}


def test_s_client_needs_a_client_certificate(tls):
    site = tls
    host = site.kafka_hosts()[0]
    rc, data, err = s_client(site, host)
    assert rc not in (None, 0) and not data, 'the broker answered a client without a certificate:\n%s' % err
    assert 'alert' in err and ('certificate required' in err or 'bad certificate' in err), err
    rc, data, err = s_client(site, host, cert=site.client_cert)
    assert 'verify error' not in err, err
    assert len(data) >= 8 and struct.unpack('>i', data[4:8])[0] == 4242, (
        'no ApiVersions answer with a client certificate (rc=%s):\n%s' % (rc, err))


def test_old_protocols_are_refused(tls):
    site = tls
    host = site.kafka_hosts()[0]
    # SECLEVEL=0 lets this OpenSSL offer TLSv1.1 at all: the refusal must come from the broker.
    rc, data, err = s_client(site, host, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', cert=site.client_cert)
    assert rc not in (None, 0) and not data, err
    assert 'alert protocol version' in err, err
    rc, data, err = s_client(site, host, '-tls1_2', cert=site.client_cert)
    assert len(data) >= 8, 'TLSv1.2 with a client certificate should work:\n%s' % err


def test_second_run_changes_and_restarts_nothing(rollout):
    site = rollout
    before = site.processes()
    second = site.run()
    assert second.rc == 0, second.describe()
    recap = second.recap
    assert recap and all(r['changed'] == 0 for r in recap.values()), second.describe()
    assert 'A KRaft quorum cannot mix protocols' not in second.output
    after = site.processes()
    assert after == before, 'Kafka was restarted by a run that changed nothing: %s -> %s' % (before, after)
    print('site.yml second run: %.1fs; per host %s' % (second.seconds, recap))
