#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask the cluster, as a client certificate, to create a topic; say whether the authorizer let it.

    create_topic_as.py --bootstrap H:9093,... --ca ca.pem --cert client.crt --key client.key \
        --topic kafkasec-no-acl --expect created|refused

The topic is deleted again after a successful create (when the principal may), so reruns ask the same
question. Exit 0 when the answer is the expected one (created, or TOPIC_AUTHORIZATION_FAILED /
CLUSTER_AUTHORIZATION_FAILED for refused), 1 otherwise, with the broker's error on stderr.
"""

from __future__ import annotations

import argparse
import sys

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

REFUSALS = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED}


def create(conf: dict, topic: str) -> str:
    """'created' or the error's name."""
    admin = AdminClient(conf)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)],
                            request_timeout=30)[topic].result(60)
    except KafkaException as exc:
        error = exc.args[0]
        if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return 'created'
        return 'refused' if error.code() in REFUSALS else error.name()
    try:
        admin.delete_topics([topic], request_timeout=30)[topic].result(60)
    except KafkaException:
        pass  # left for the lab's destroy: the question was the create
    return 'created'


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--bootstrap', required=True)
    ap.add_argument('--ca', required=True)
    ap.add_argument('--cert', required=True)
    ap.add_argument('--key', required=True)
    ap.add_argument('--topic', required=True)
    ap.add_argument('--expect', required=True, choices=('created', 'refused'))
    args = ap.parse_args()
    conf = {'bootstrap.servers': args.bootstrap, 'security.protocol': 'SSL', 'ssl.ca.location': args.ca,
            'ssl.certificate.location': args.cert, 'ssl.key.location': args.key,
            'client.id': 'kafkasec-molecule-create-topic'}
    answer = create(conf, args.topic)
    line = 'create topic %s: %s (expected %s)' % (args.topic, answer, args.expect)
    print(line, file=sys.stdout if answer == args.expect else sys.stderr)
    return 0 if answer == args.expect else 1


if __name__ == '__main__':
    sys.exit(main())
