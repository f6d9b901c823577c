#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo's Kafka client (confluent-kafka): produce N messages, consume them back, or show a refusal.

    kafka_client.py --bootstrap kafka-1.lab.test:9092                      # PLAINTEXT
    kafka_client.py --bootstrap kafka-1.lab.test:9093 --ca ca.pem --cert client.crt --key client.key
    kafka_client.py --bootstrap kafka-1.lab.test:9093 --ca ca.pem --expect-refused   # no client certificate

Exit status 0 when what was asked happened (round trip done, or connection refused), 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic


class _Sink(logging.Logger):
    """librdkafka's log lines into a list instead of stderr."""

    def __init__(self, lines: list) -> None:
        super().__init__('kafkasec.demo', logging.DEBUG)
        self.lines = lines

    def log(self, level, msg, *args, **kwargs):  # pylint: disable=arguments-differ
        self.lines.append(msg % args if args else str(msg))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bootstrap', required=True)
    ap.add_argument('--ca', help='CA certificate (PEM): use SSL')
    ap.add_argument('--cert', help='client certificate (PEM)')
    ap.add_argument('--key', help='client key (PEM)')
    ap.add_argument('--messages', type=int, default=10)
    ap.add_argument('--expect-refused', action='store_true', help='succeed only if the cluster refuses the client')
    args = ap.parse_args()

    log: list = []
    conf = {'bootstrap.servers': args.bootstrap, 'client.id': 'kafkasec-demo', 'logger': _Sink(log),
            'error_cb': lambda e: log.append(str(e)), 'socket.timeout.ms': 10000}
    if args.ca:
        conf.update({'security.protocol': 'SSL', 'ssl.ca.location': args.ca,
                     'ssl.endpoint.identification.algorithm': 'https'})
        if args.cert:
            conf.update({'ssl.certificate.location': args.cert, 'ssl.key.location': args.key})
    proto = conf.get('security.protocol', 'PLAINTEXT')
    who = ('client certificate %s' % args.cert) if args.cert else 'no client certificate'

    admin = AdminClient(conf)
    try:
        # A refusal shows in the first second (TLS alert, connection refused); a working cluster answers at once.
        md = admin.list_topics(timeout=4 if args.expect_refused else 15)
    except KafkaException as e:
        admin.poll(0.5)
        reason = next((line for line in log if 'alert' in line or 'refused' in line.lower()), str(e))
        if args.expect_refused:
            print('  refused as expected (%s, %s): %s' % (proto, who, reason.split('/bootstrap: ')[-1][:160]))
            return 0
        print('  FAILED to connect (%s, %s): %s' % (proto, who, reason), file=sys.stderr)
        return 1
    if args.expect_refused:
        print('  NOT refused: %s with %s got metadata from brokers %s' % (proto, who, sorted(md.brokers)),
              file=sys.stderr)
        return 1
    brokers = ', '.join('%d=%s:%d' % (b.id, b.host, b.port) for b in sorted(md.brokers.values(), key=lambda b: b.id))
    print('  %s, %s: cluster %s, brokers %s' % (proto, who, md.cluster_id, brokers))

    topic = 'kafkasec-demo-%s' % uuid.uuid4().hex[:8]
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=min(3, len(md.brokers)))])[topic].result(60)
    t0 = time.monotonic()
    sent = ['demo message %d over %s' % (i, proto) for i in range(args.messages)]
    errors = []
    producer = Producer(dict(conf, acks='all'))
    for value in sent:
        producer.produce(topic, value.encode(), on_delivery=lambda err, _msg: err and errors.append(err))
    left = producer.flush(60)
    if left or errors:
        print('  FAILED to produce: %d undelivered, errors %s' % (left, errors), file=sys.stderr)
        return 1
    consumer = Consumer(dict(conf, **{'group.id': topic, 'auto.offset.reset': 'earliest',
                                      'enable.auto.commit': False}))
    consumer.subscribe([topic])
    got = []
    deadline = time.monotonic() + 60
    while len(got) < len(sent) and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            got.append(msg.value().decode())
    consumer.close()
    admin.delete_topics([topic])[topic].result(60)
    ok = sorted(got) == sorted(sent)
    print('  %s %d messages through topic %s and read them back in %.1fs: %s (e.g. %r)' % (
        'produced' if ok else 'FAILED: produced', len(sent), topic, time.monotonic() - t0,
        'all there' if ok else 'got %d' % len(got), got[0] if got else None))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
