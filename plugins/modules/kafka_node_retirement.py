#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: kafka_node_retirement
short_description: Refuse to retire Kafka nodes that still take part in the cluster
version_added: 0.4.0
description:
  - Checks, before a node's principal leaves C(super.users) and its ACLs are retired (C(playbooks/retire_host.yml)),
    that each node of O(node_ids) is out of the cluster - no host of the inventory is that node any more
    (O(inventory_nodes)), it is not alive in the cluster's metadata, no partition has a replica on it, and it is not
    a voter of the controller quorum (a static C(controller.quorum.voters) read from O(properties_path); a dynamic
    quorum's voters cannot be read through the admin API, so O(voters_checked) says the operator checked them).
  - Fails with every reason, each naming the host, the variable, the node and what to do (reassign its partitions,
    stop and unregister it, remove it from the quorum). Reads only; changes nothing.
  - Connects over mutual TLS like M(kafkasec.tls.kafka_acls); the logic lives in
    C(plugins/module_utils/kafka/retire.py) (pure Python, unit-tested).
extends_documentation_fragment:
  - kafkasec.tls.kafka_client
options:
  node_ids:
    description: The node ids (C(node.id), C(broker.id) in ZooKeeper mode) of the nodes to retire.
    type: list
    elements: int
    required: true
  inventory_nodes:
    description: The Kafka nodes the inventory still lists, each C(name) (the inventory host) and C(node_id).
    type: list
    elements: dict
    default: []
  properties_path:
    description:
      - The server.properties of the node the module runs on, read for C(controller.quorum.voters) (its voters, on a
        static quorum) and C(zookeeper.connect) (ZooKeeper mode has no controller quorum). Unset - the quorum is
        treated as dynamic.
    type: path
  voters_checked:
    description: On a dynamic quorum, the operator checked that no node of O(node_ids) is a voter.
    type: bool
    default: false
  hostname:
    description: The inventory name of the host the task runs for; failure messages start with it.
    type: str
  variable:
    description: The inventory variable O(node_ids) came from; messages name it.
    type: str
    default: kafkasec_retire_node_ids
  key_passphrase:
    description: Passphrase of O(key_path).
    type: str
  request_timeout:
    description: Seconds for each request to the cluster.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Runs where confluent-kafka is installed (a Kafka node, or the control node).
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Refuse to retire node 4 while it still takes part in the cluster
  kafkasec.tls.kafka_node_retirement:
    node_ids: [4]
    inventory_nodes: [{name: kafka-1.example.com, node_id: 1}, {name: kafka-2.example.com, node_id: 2}]
    properties_path: /etc/kafka/server.properties
    bootstrap_servers: ["kafka-1.example.com:9093"]
    ca_path: /etc/kafka/pki/ca-chain.crt
    cert_path: /etc/kafka/pki/kafka-1.example.com.crt
    key_path: /etc/kafka/pki/kafka-1.example.com.key
    hostname: "{{ inventory_hostname }}"
'''

RETURN = r'''
ok:
  description: Whether every node of O(node_ids) may be retired.
  returned: always
  type: bool
problems:
  description: Why not, one message per reason (with what to do).
  returned: always
  type: list
  elements: str
alive:
  description: The broker ids the cluster's metadata lists.
  returned: when the cluster was read
  type: list
  elements: int
voters:
  description: The static quorum's voter ids; null for a dynamic quorum or ZooKeeper mode.
  returned: when the cluster was read
  type: list
  elements: int
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load as load_properties
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import retire
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_options import KAFKA_CLIENT_OPTIONS
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import (ClusterReader, ClusterRequest,
                                                                                 HealthError, confluent_kafka_problem)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            node_ids=dict(type='list', elements='int', required=True),
            inventory_nodes=dict(type='list', elements='dict', default=[]),
            properties_path=dict(type='path'),
            voters_checked=dict(type='bool', default=False),
            hostname=dict(type='str'),
            variable=dict(type='str', default='kafkasec_retire_node_ids'),
            key_passphrase=dict(type='str', no_log=True),
            request_timeout=dict(type='float', default=30),
            **KAFKA_CLIENT_OPTIONS
        ),
        supports_check_mode=True,
    )
    params = module.params
    host = params['hostname'] or 'kafka_node_retirement'
    result = dict(changed=False, ok=False, problems=[])
    inventory = {}
    for item in params['inventory_nodes']:
        try:
            inventory[int(item['node_id'])] = str(item['name'])
        except (KeyError, TypeError, ValueError):
            module.fail_json(msg='%s: inventory_nodes: %r is not {name, node_id}' % (host, item), **result)
    voters_text = None
    voters_checked = params['voters_checked']
    path = params['properties_path']
    if path:
        try:
            with open(path, encoding='utf-8') as handle:
                props = load_properties(handle.read())
        except (OSError, ValueError) as exc:
            module.fail_json(msg='%s: cannot read %s: %s' % (host, path, exc), **result)
        voters_text = props.get('controller.quorum.voters') or None
        if not str(props.get('process.roles', '')).strip() and str(props.get('zookeeper.connect', '')).strip():
            voters_checked = True  # ZooKeeper mode: no controller quorum
    problem = confluent_kafka_problem()
    if problem:
        module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=problem, **result)
    try:
        snapshot = ClusterReader(ClusterRequest.from_params(params)).snapshot()
    except HealthError as exc:
        module.fail_json(msg='%s: %s' % (host, exc), **result)
    replicas = {p.name: list(p.replicas) for p in snapshot.partitions}
    outcome = retire.plan(params['node_ids'], inventory, sorted(snapshot.brokers), replicas, voters_text,
                          voters_checked, host, params['variable'])
    try:
        voters = retire.parse_voters(voters_text)
    except ValueError:
        voters = None
    result.update(ok=outcome.ok, problems=list(outcome.problems), alive=sorted(snapshot.brokers),
                  voters=list(voters) if voters is not None else None)
    if not outcome.ok:
        module.fail_json(msg='; '.join(outcome.problems), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
