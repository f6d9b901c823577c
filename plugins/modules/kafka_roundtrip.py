#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: kafka_roundtrip
short_description: Produce messages to Kafka over TLS with a client certificate and consume them back
version_added: 0.1.0
description:
  - Runs where the client view is wanted, normally the control node (C(delegate_to=localhost), C(run_once)).
    Uses confluent-kafka (librdkafka) with C(security.protocol=SSL), the client certificate O(cert_path) and
    host name verification (C(ssl.endpoint.identification.algorithm=https)).
  - Reads the cluster metadata, creates O(topic) when it is missing (O(partitions), default one per broker;
    O(replication_factor), default min(3, brokers)), produces O(messages) messages tagged with a fresh run id
    spread over every partition (so every partition leader takes writes, C(acks=all)), and reads exactly those
    messages back from the offsets the producer got, without joining a consumer group and without committing.
  - Reports produced and consumed counts, delivery and end-to-end latencies. Fails, with the client's own error
    messages (for example a failed TLS handshake or an authorization error), when a step fails or not every
    message comes back within O(timeout), unless O(fail_on_error=false).
  - With an authorizer, the principal of O(cert_path) needs WRITE, READ and DESCRIBE on O(topic) (and CREATE,
    when the module creates it).
  - C(changed) is true only when the topic was created.
extends_documentation_fragment:
  - kafkasec.tls.kafka_client
options:
  topic:
    description: Topic for the round trip, created when missing and O(create_topic=true).
    type: str
    default: kafkasec-verify
  key_passphrase:
    description: Passphrase of O(key_path).
    type: str
  messages:
    description: Number of messages to produce and read back.
    type: int
    default: 10
  create_topic:
    description: Create O(topic) when it does not exist; otherwise a missing topic fails the task.
    type: bool
    default: true
  partitions:
    description: Partitions of a created topic. Default one per broker.
    type: int
  replication_factor:
    description: Replication factor of a created topic. Default min(3, number of brokers).
    type: int
  client_id:
    description: C(client.id) of the clients (visible in broker logs and quotas).
    type: str
    default: kafkasec-verify
  group_id:
    description: C(group.id) the consumer carries. The consumer assigns partitions itself, so it never joins
      the group nor commits offsets.
    type: str
    default: kafkasec-verify
  timeout:
    description: Seconds the whole round trip (metadata, topic creation, produce, consume) may take.
    type: float
    default: 60
  fail_on_error:
    description: Fail the task when the round trip does not complete. With V(false) the result carries RV(ok).
    type: bool
    default: true
attributes:
  check_mode:
    support: partial
    details:
      - The topic is not created in check mode. When it exists, the round trip runs as usual - the test
        messages in the verification topic are the probe itself, not a change of the estate.
    description: See details.
  diff_mode:
    support: none
    description: Nothing to show.
  platform:
    support: full
    platforms: posix
    description: Runs where confluent-kafka is installed, normally the control node.
requirements:
  - confluent-kafka (the Python client of librdkafka) on the host the module runs on
seealso:
  - module: kafkasec.tls.tls_probe
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Round trip through every broker, from the control node
  kafkasec.tls.kafka_roundtrip:
    bootstrap_servers:
      - kafka-1.example.com:9093
      - kafka-2.example.com:9093
      - kafka-3.example.com:9093
    topic: kafkasec-verify
    ca_path: ~/.cache/kafkasec/verify/prod/ca.pem
    cert_path: ~/.cache/kafkasec/verify/prod/client.crt
    key_path: ~/.cache/kafkasec/verify/prod/client.key
    messages: 20
  delegate_to: localhost
  run_once: true
  register: roundtrip
'''

RETURN = r'''
ok:
  description: Whether every message was produced and consumed back (or, in check mode, the topic is missing).
  returned: always
  type: bool
run_id:
  description: The run's id, the key of every message it produced.
  returned: always
  type: str
topic:
  description: O(topic).
  returned: always
  type: str
topic_created:
  description: Whether this run created the topic (in check mode - would create).
  returned: always
  type: bool
performed:
  description: Whether the round trip ran; false in check mode when the topic is missing (nothing is sent then).
  returned: always
  type: bool
brokers:
  description: Brokers of the cluster metadata, as C(<id> <host>:<port>).
  returned: always
  type: list
  elements: str
partitions:
  description: Partitions of the topic.
  returned: always
  type: int
replication_factor:
  description: Replication factor of the topic.
  returned: always
  type: int
messages:
  description: O(messages).
  returned: always
  type: int
produced:
  description: Messages acknowledged by the brokers.
  returned: always
  type: int
consumed:
  description: Messages of this run read back.
  returned: always
  type: int
missing:
  description: Sequence numbers (0-based) that were not acknowledged or not read back.
  returned: always
  type: list
  elements: int
produce_latency_ms:
  description: Delivery latency (produce call to acknowledgement, C(acks=all)) - min, avg, p50, max. The first messages include the connection set-up.
  returned: always
  type: dict
  sample: {"min": 4.1, "avg": 7.9, "p50": 6.0, "max": 21.4}
end_to_end_latency_ms:
  description: Produce call to consumption - min, avg, p50, max.
  returned: always
  type: dict
duration_ms:
  description: Wall time of the round trip.
  returned: always
  type: float
client_log:
  description: Warnings and errors librdkafka reported during the run (at most 20, deduplicated).
  returned: always
  type: list
  elements: str
summary:
  description: One line - counts, topic, partitions, brokers and time, or where the round trip stopped and why.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_options import KAFKA_CLIENT_OPTIONS
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roundtrip import (
    RoundtripError, RoundtripRequest, confluent_kafka_problem, roundtrip)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            topic=dict(type='str', default='kafkasec-verify'),
            key_passphrase=dict(type='str', no_log=True),
            messages=dict(type='int', default=10),
            create_topic=dict(type='bool', default=True),
            partitions=dict(type='int'),
            replication_factor=dict(type='int'),
            client_id=dict(type='str', default='kafkasec-verify'),
            group_id=dict(type='str', default='kafkasec-verify'),
            timeout=dict(type='float', default=60),
            fail_on_error=dict(type='bool', default=True),
            **KAFKA_CLIENT_OPTIONS
        ),
        supports_check_mode=True,
    )
    problem = confluent_kafka_problem()
    if problem:
        module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=problem)
    try:
        outcome = roundtrip(RoundtripRequest.from_params(module.params, check_mode=module.check_mode))
    except RoundtripError as exc:
        if exc.outcome is None or module.params['fail_on_error']:
            result = exc.outcome.result if exc.outcome is not None else {}
            module.fail_json(msg=str(exc), changed=bool(exc.outcome and exc.outcome.changed), **result)
        module.exit_json(changed=exc.outcome.changed, **exc.outcome.result)
    module.exit_json(changed=outcome.changed, **outcome.result)


if __name__ == '__main__':
    main()
