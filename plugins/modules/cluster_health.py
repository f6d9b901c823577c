#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: cluster_health
short_description: Report a Kafka cluster's health over TLS and wait until health gates hold
version_added: 0.1.0
description:
  - Runs where the client view is wanted, normally the control node (C(delegate_to=localhost)). Uses
    confluent-kafka's AdminClient with C(security.protocol=SSL), the client certificate O(cert_path) and host
    name verification (C(ssl.endpoint.identification.algorithm=https)).
  - Reports the brokers registered in the cluster metadata, the controller id DescribeCluster returns, and the
    partitions that are under-replicated, below their topic's C(min.insync.replicas), or offline (no leader).
  - With O(wait_for), polls until every named gate holds or O(timeout) passes, then fails naming the gates that
    did not hold - C(brokers) (every id of O(expected_brokers) registered), C(controller) (a controller is
    reported), C(under_replicated) (no under-replicated partition), C(full_isr) (every partition that has one
    of O(expected_brokers) as a replica has it back in its ISR; without O(expected_brokers), every ISR equals
    its replica set), C(min_isr) (no ISR below C(min.insync.replicas)) and C(offline) (every partition has a
    leader). The polling is bounded and answers as soon as the gates hold.
  - Changes nothing (C(changed) is false), except that with O(clear_pending_restart) it removes that
    pending-restart record once every gate holds (then C(changed) is true).
options:
  bootstrap_servers:
    description:
      - Brokers to bootstrap from, as C(host:port) of their TLS listener. Host names, not addresses - librdkafka
        verifies host names against DNS SANs only.
    type: list
    elements: str
    required: true
  security_protocol:
    description:
      - V(SSL) connects over TLS with a client certificate and host name verification.
      - V(PLAINTEXT) only for a cluster that has no TLS listener yet (the first phase of
        C(playbooks/migrate_to_tls.yml)); O(ca_path), O(cert_path) and O(key_path) are then not used.
    type: str
    choices: [SSL, PLAINTEXT]
    default: SSL
  ca_path:
    description: CA certificate(s) the brokers' chains lead to (PEM). Required with O(security_protocol=SSL).
    type: path
  cert_path:
    description: Client certificate (PEM, leaf first). With an authorizer, its principal needs DESCRIBE on the
      cluster and DESCRIBE_CONFIGS on the topics. Required with O(security_protocol=SSL).
    type: path
  key_path:
    description: Private key of O(cert_path) (PEM). Required with O(security_protocol=SSL).
    type: path
  key_passphrase:
    description: Passphrase of O(key_path).
    type: str
  wait_for:
    description: Gates to wait for. Empty - read one snapshot and report.
    type: list
    elements: str
    choices: [brokers, controller, under_replicated, full_isr, min_isr, offline, batch_safe]
    default: []
  expected_brokers:
    description: Broker ids (C(node.id)) that must be registered (gate C(brokers)) and back in the ISRs of
      their partitions (gate C(full_isr)).
    type: list
    elements: int
    default: []
  restarting_brokers:
    description:
      - Broker ids about to restart together (gate C(batch_safe)) - the gate holds when every partition's ISR
        without them is still at or above its topic's C(min.insync.replicas).
    type: list
    elements: int
    default: []
  timeout:
    description: Seconds to wait for the gates of O(wait_for).
    type: float
    default: 300
  poll_interval:
    description: Seconds between two snapshots while a gate does not hold.
    type: float
    default: 1
  request_timeout:
    description: Seconds for each request to the cluster.
    type: float
    default: 10
  fail_on_error:
    description: Fail the task when a gate does not hold within O(timeout). With V(false) the result carries
      RV(ok) and RV(failed_gates).
    type: bool
    default: true
  tls_check_first:
    description:
      - With O(security_protocol=SSL), first try one TLS handshake (and a Kafka ApiVersions exchange) with the first
        of O(bootstrap_servers), with the client certificate and host name verification, for at most 5 s. When it
        fails, the module reads the cluster through O(plaintext_bootstrap_servers) over PLAINTEXT instead, or,
        without them, waits for nothing and returns RV(ok) with an empty RV(connection).
      - For a node about to restart (M(kafkasec.tls.rolling_restart)'s precheck) - its TLS listener may exist only
        in its file until the restart brings it up, and a node that is down has no listener to read through and
        can always restart. One call instead of a probe and a wait.
    type: bool
    default: false
  plaintext_bootstrap_servers:
    description: With O(tls_check_first), the PLAINTEXT listeners to read through when the TLS handshake fails.
    type: list
    elements: str
    default: []
  clear_pending_restart:
    description:
      - A node's pending-restart record (C(<server.properties>.kafkasec-restart-pending), M(kafkasec.tls.pending_restart))
        to remove once every gate of O(wait_for) holds - the node passed its last gate - in the same call. Not in
        check mode. The record is kept when a gate fails, so a rerun restarts the node again.
    type: path
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to show; the module changes nothing.
  platform:
    support: full
    platforms: posix
    description: Runs where confluent-kafka is installed, normally the control node.
notes:
  - In KRaft mode a broker answers DescribeCluster with the id of a live broker, not the active controller of
    the quorum, so RV(controller_id) names a controller only on ZooKeeper-mode clusters. The
    C(kafkasec.tls.rolling_restart) role finds the quorum leader from the controllers' C(quorum-state) files.
requirements:
  - confluent-kafka (the Python client of librdkafka) on the host the module runs on
  - cryptography >= 45.0 on the host the module runs on, with O(tls_check_first)
seealso:
  - module: kafkasec.tls.kafka_roundtrip
  - module: kafkasec.tls.tls_probe
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Report the cluster's health
  kafkasec.tls.cluster_health:
    bootstrap_servers: [kafka-1.example.com:9093, kafka-2.example.com:9093]
    ca_path: ~/.cache/kafkasec/verify/prod/ca.pem
    cert_path: ~/.cache/kafkasec/verify/prod/client.crt
    key_path: ~/.cache/kafkasec/verify/prod/client.key
  delegate_to: localhost
  run_once: true
  register: health

- name: Wait until broker 2 is back and in sync after its restart
  kafkasec.tls.cluster_health:
    bootstrap_servers: [kafka-1.example.com:9093, kafka-3.example.com:9093]
    ca_path: ~/.cache/kafkasec/verify/prod/ca.pem
    cert_path: ~/.cache/kafkasec/verify/prod/client.crt
    key_path: ~/.cache/kafkasec/verify/prod/client.key
    expected_brokers: [2]
    wait_for: [brokers, full_isr, under_replicated, offline]
    timeout: 600
  delegate_to: localhost
'''

RETURN = r'''
ok:
  description: Whether every gate of O(wait_for) holds.
  returned: always
  type: bool
cluster_id:
  description: The cluster id.
  returned: success
  type: str
controller_id:
  description: The controller id DescribeCluster reports (see the notes for KRaft).
  returned: success
  type: int
brokers:
  description: Registered brokers, as C(id) and C(endpoint) (C(host:port)).
  returned: success
  type: list
  elements: dict
broker_ids:
  description: Ids of the registered brokers.
  returned: success
  type: list
  elements: int
partition_count:
  description: Partitions in the cluster (every topic, internal ones included).
  returned: success
  type: int
under_replicated_count:
  description: Partitions whose ISR is smaller than their replica set.
  returned: success
  type: int
under_replicated:
  description: Those partitions as C(topic-partition) (at most 50).
  returned: success
  type: list
  elements: str
below_min_isr_count:
  description: Partitions whose ISR is below their topic's C(min.insync.replicas) (capped at the replication factor).
  returned: success
  type: int
below_min_isr:
  description: Those partitions (at most 50).
  returned: success
  type: list
  elements: str
offline_count:
  description: Partitions without a leader.
  returned: success
  type: int
offline:
  description: Those partitions (at most 50).
  returned: success
  type: list
  elements: str
gates:
  description: Each gate of O(wait_for) with C(ok) and C(detail), from the last snapshot.
  returned: success
  type: dict
  sample: {"under_replicated": {"ok": false, "detail": "1 under-replicated partition(s): orders-0"}}
failed_gates:
  description: Gates that did not hold.
  returned: always
  type: list
  elements: str
polls:
  description: Snapshots read.
  returned: success
  type: int
elapsed:
  description: Seconds spent polling.
  returned: success
  type: float
last_error:
  description: The last error reading a snapshot, if the last poll could not read one.
  returned: success
  type: str
pending_cleared:
  description: With O(clear_pending_restart), whether the gates held and the record is gone (removed now, or absent).
  returned: when clear_pending_restart is given and the gates held
  type: bool
connection:
  description:
    - The C(bootstrap_servers) and C(security_protocol) the module read the cluster through; with O(tls_check_first),
      empty when neither the TLS listener nor a PLAINTEXT one answered (nothing was read or waited for).
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import (
    GATES, ClusterRequest, HealthError, check, confluent_kafka_problem, connection_after_tls_check)


def _tls_answers(params, host, port):
    """One handshake with the client certificate, and a Kafka answer (kafka/probe.py), at most 5 s."""
    # Imported here: the probe loads cryptography, which only a call with tls_check_first needs.
    from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.probe import ProbeError, ProbeRequest, probe
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import PkiError
    request = ProbeRequest(host=host, port=port, ca_path=params['ca_path'], client_cert_path=params['cert_path'],
                           client_key_path=params['key_path'], client_key_passphrase=params['key_passphrase'] or None,
                           timeout=min(5.0, float(params['request_timeout'])))
    try:
        return probe(request).ok
    except (ProbeError, PkiError, OSError, ValueError):
        return False


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            bootstrap_servers=dict(type='list', elements='str', required=True),
            security_protocol=dict(type='str', choices=['SSL', 'PLAINTEXT'], default='SSL'),
            ca_path=dict(type='path'),
            cert_path=dict(type='path'),
            key_path=dict(type='path'),
            key_passphrase=dict(type='str', no_log=True),
            wait_for=dict(type='list', elements='str', choices=list(GATES), default=[]),
            expected_brokers=dict(type='list', elements='int', default=[]),
            restarting_brokers=dict(type='list', elements='int', default=[]),
            timeout=dict(type='float', default=300),
            poll_interval=dict(type='float', default=1),
            request_timeout=dict(type='float', default=10),
            fail_on_error=dict(type='bool', default=True),
            tls_check_first=dict(type='bool', default=False),
            plaintext_bootstrap_servers=dict(type='list', elements='str', default=[]),
            clear_pending_restart=dict(type='path'),
        ),
        required_if=[('security_protocol', 'SSL', ('ca_path', 'cert_path', 'key_path'))],
        supports_check_mode=True,
    )
    problem = confluent_kafka_problem()
    if problem:
        module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=problem)
    params = module.params
    if params['timeout'] <= 0 or params['poll_interval'] <= 0:
        module.fail_json(msg='timeout and poll_interval must be positive')
    connection = connection_after_tls_check(params, lambda host, port: _tls_answers(params, host, port))
    if connection is None:
        module.exit_json(changed=False, ok=True, failed_gates=[], connection={}, msg=(
            'no TLS handshake with %s and no PLAINTEXT listener to read through: nothing to wait for'
            % params['bootstrap_servers'][0]))
    params = dict(params, **connection)
    shown = dict(bootstrap_servers=connection['bootstrap_servers'], security_protocol=connection['security_protocol'])
    try:
        outcome = check(ClusterRequest.from_params(params), params['wait_for'], params['expected_brokers'],
                        params['timeout'], params['poll_interval'], params['restarting_brokers'])
    except HealthError as exc:
        result = exc.outcome.result if exc.outcome is not None else dict(ok=False, failed_gates=exc.failed_gates)
        result['ok'] = False
        result['failed_gates'] = exc.failed_gates
        result['connection'] = shown
        if exc.outcome is None or params['fail_on_error']:
            module.fail_json(msg=str(exc), changed=False, **result)
        module.exit_json(changed=False, msg=str(exc), **result)
    result = outcome.result
    changed = False
    if params['clear_pending_restart'] and result['ok']:
        # The node passed its gates: its restart is done (the one record format: module_utils/common/pending.py).
        changed = os.path.exists(params['clear_pending_restart'])
        if changed and not module.check_mode:
            pending.clear(params['clear_pending_restart'])
        result['pending_cleared'] = True
    module.exit_json(changed=changed, connection=shown, **result)


if __name__ == '__main__':
    main()
