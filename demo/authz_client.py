#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo's authorisation check: a client bundle's librdkafka.properties (confluent-kafka), one line per check.

    authz_client.py --bundle .build/demo/clients/secure_user --topic test_secure_topic --group secure_group
    authz_client.py --bundle .build/demo/clients/insecure_user --topic test_secure_topic --group secure_group --expect-refused

Allowed: the topic is created when missing (the principal's Create), N messages produced and consumed back in
the group. Refused: a produce and a group consume both end in TOPIC_AUTHORIZATION_FAILED (the topic exists and
User:* may describe it, so the refusal is an authorisation error, not UNKNOWN_TOPIC_OR_PARTITION).
Exit status 0 when what was asked happened, 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


class _Quiet(logging.Logger):
    """librdkafka's log lines (e.g. a refused topic's partition count) kept off the demo's output."""

    def __init__(self) -> None:
        super().__init__('kafkasec.demo.authz', logging.CRITICAL)

    def log(self, level, msg, *args, **kwargs):  # pylint: disable=arguments-differ
        return None


def bundle_conf(bundle: Path) -> dict:
    """librdkafka.properties as librdkafka reads it (key=value, # comments)."""
    conf = {}
    for line in (bundle / 'librdkafka.properties').read_text().splitlines():
        line = line.strip()
        if line and not line.startswith('#') and '=' in line:
            key, value = line.split('=', 1)
            conf[key.strip()] = value.strip()
    return conf


def principal(bundle: Path) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    cert = x509.load_pem_x509_certificate((bundle / ('%s.crt' % bundle.name)).read_bytes())
    return 'CN=%s' % cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def allowed(conf: dict, topic: str, group: str, count: int) -> str:
    admin = AdminClient(conf)
    md = admin.list_topics(timeout=15)
    if topic not in md.topics or md.topics[topic].error is not None:
        try:
            admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=min(3, len(md.brokers)))])[
                topic].result(60)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    run = uuid.uuid4().hex[:8]
    sent = ['%s message %d' % (run, i) for i in range(count)]
    errors = []
    producer = Producer(dict(conf, acks='all'))
    for value in sent:
        producer.produce(topic, value.encode(), on_delivery=lambda err, _m: err and errors.append(err))
    if producer.flush(60) or errors:
        raise RuntimeError('produce failed: %s' % (errors or 'undelivered'))
    consumer = Consumer(dict(conf, **{'group.id': group, 'auto.offset.reset': 'earliest'}))
    consumer.subscribe([topic])
    got, deadline = [], time.monotonic() + 60
    while len(got) < count and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            raise RuntimeError('consume failed: %s' % msg.error())
        if msg.value().decode().startswith(run):
            got.append(msg.value().decode())
    consumer.commit(asynchronous=False)
    consumer.close()
    if sorted(got) != sorted(sent):
        raise RuntimeError('consumed %d of %d' % (len(got), count))
    return 'produced %d and consumed them in group %s' % (count, group)


def refused(conf: dict, topic: str, group: str) -> str:
    errors = []
    producer = Producer(dict(conf, **{'message.timeout.ms': 15000}))
    producer.produce(topic, b'must not arrive', on_delivery=lambda err, _m: errors.append(err))
    producer.flush(30)
    produce = errors[0].name() if errors and errors[0] else 'delivered'
    # A fetch from the beginning of partition 0 (the group's Read, which the principal lacks as well, is
    # reported on its own: librdkafka still looks the group up).
    consumer = Consumer(dict(conf, **{'group.id': group, 'enable.auto.commit': False}))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    seen, deadline = [], time.monotonic() + 30
    while 'TOPIC_AUTHORIZATION_FAILED' not in seen and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is not None:
            seen.append(msg.error().name() if msg.error() else 'read a message')
            if seen[-1] == 'read a message':
                break
    consumer.close()
    consume = 'TOPIC_AUTHORIZATION_FAILED' if 'TOPIC_AUTHORIZATION_FAILED' in seen else (seen or ['nothing'])[-1]
    others = sorted(set(seen) - {consume})
    if others:
        consume += ' (and %s)' % ', '.join(others)
    if produce != 'TOPIC_AUTHORIZATION_FAILED' or not consume.startswith('TOPIC_AUTHORIZATION_FAILED'):
        raise RuntimeError('not refused as expected: produce %s, fetch %s' % (produce, consume))
    return 'produce %s, fetch %s' % (produce, consume)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bundle', required=True, type=Path, help='the client bundle directory (<dir>/<name>)')
    ap.add_argument('--topic', required=True)
    ap.add_argument('--group', required=True)
    ap.add_argument('--messages', type=int, default=10)
    ap.add_argument('--expect-refused', action='store_true')
    args = ap.parse_args()
    conf = dict(bundle_conf(args.bundle), **{'client.id': 'kafkasec-demo-authz', 'logger': _Quiet()})
    who = '%s (%s, librdkafka.properties)' % (args.bundle.name, principal(args.bundle))
    try:
        if args.expect_refused:
            print('  %s refused on %s as expected: %s' % (who, args.topic, refused(conf, args.topic, args.group)))
        else:
            print('  %s allowed on %s: %s' % (who, args.topic, allowed(conf, args.topic, args.group, args.messages)))
    except (KafkaException, RuntimeError) as exc:
        print('  FAILED: %s on %s: %s' % (who, args.topic, exc), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
