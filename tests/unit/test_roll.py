# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/roll.py and its filters: listeners, the active controller, the restart order."""

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkasec.tls.plugins.filter.kafkasec import FilterModule
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import roll
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import (
    RollError, parse_listeners, quorum_leader, roll_order)

FILTERS = FilterModule().filters()


def test_parse_listeners_keeps_names_hosts_and_ports():
    got = parse_listeners('SSL://:9093, PLAINTEXT://127.0.1.1:9092,controller_ssl://[::1]:9095')
    assert got == {'SSL': {'host': '', 'port': 9093}, 'PLAINTEXT': {'host': '127.0.1.1', 'port': 9092},
                   'CONTROLLER_SSL': {'host': '::1', 'port': 9095}}
    assert parse_listeners('') == {}


@pytest.mark.parametrize('bad', ['SSL:9093', 'SSL://host', 'SSL://h:0', 'SSL://h:70000', 'SSL://:1,SSL://:2'])
def test_parse_listeners_refuses_malformed_entries(bad):
    with pytest.raises(RollError):
        parse_listeners(bad)
    with pytest.raises(AnsibleFilterError, match='kafka_listeners'):
        FILTERS['kafka_listeners'](bad)


def test_quorum_leader_takes_the_newest_epoch():
    states = [json.dumps({'leaderId': 1, 'leaderEpoch': 4}), None, {'leaderId': 3, 'leaderEpoch': 7},
              '{"leaderId": -1, "leaderEpoch": 9}', 'not json', {'leaderId': 'x'}]
    assert quorum_leader(states) == 3
    assert quorum_leader([None, '', '{"leaderId": -1, "leaderEpoch": 2}']) is None


def test_roll_order_puts_broker_only_nodes_first_and_the_leader_last():
    hosts = ['k1', 'k2', 'k3', 'k4', 'k2']
    assert roll_order(hosts, ['k1', 'k2', 'k3'], 'k2') == ['k4', 'k1', 'k3', 'k2']
    assert roll_order(hosts, ['k1', 'k2', 'k3']) == ['k4', 'k1', 'k2', 'k3']
    assert FILTERS['kafka_roll_order'](['a', 'b'], ['a', 'b'], 'a') == ['b', 'a']


def test_java_properties_parse_reads_continuations_and_last_wins():
    text = 'node.id=1\nlisteners=SSL://:9093,\\\n  CONTROLLER://:9094\n# c\nnode.id = 2\n'
    got = FILTERS['java_properties_parse'](text)
    assert got['node.id'] == '2' and got['listeners'] == 'SSL://:9093,CONTROLLER://:9094'


def test_node_facts_of_a_combined_node_in_the_middle_of_a_migration():
    props = {'node.id': '2', 'process.roles': 'broker,controller',
             'listeners': 'PLAINTEXT://:9092,SSL://:9093,CONTROLLER://:9094,CONTROLLER_SSL://:9095',
             'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,CONTROLLER_SSL:SSL,SSL:SSL,PLAINTEXT:PLAINTEXT',
             'controller.listener.names': 'CONTROLLER_SSL,CONTROLLER', 'log.dirs': '/d/a,/d/b'}
    node = FILTERS['kafka_node_facts'](props)
    assert node['node_id'] == 2 and node['is_controller'] and node['is_broker']
    assert [x['name'] for x in node['tls_listeners']] == ['SSL', 'CONTROLLER_SSL']
    assert [x['name'] for x in node['listeners'] if x['controller']] == ['CONTROLLER', 'CONTROLLER_SSL']
    assert node['health_listener']['name'] == 'SSL' and node['plaintext_listener']['port'] == 9092
    # In the first phase inter-broker traffic is still on PLAINTEXT, the one listener every broker has.
    phase1 = FILTERS['kafka_node_facts'](dict(props, **{'inter.broker.listener.name': 'PLAINTEXT'}))
    assert phase1['health_listener']['name'] == 'PLAINTEXT'
    assert FILTERS['kafka_node_facts'](dict(props, **{'inter.broker.listener.name': 'SSL'}))['health_listener']['name'] == 'SSL'
    assert node['metadata_dir'] == '/d/a'


def test_node_facts_before_tls_and_of_a_controller_only_node():
    plain = FILTERS['kafka_node_facts']({'node.id': '4', 'process.roles': 'broker', 'listeners': 'PLAINTEXT://h:9092',
                                         'metadata.log.dir': '/m', 'log.dirs': '/d'})
    assert plain['health_listener']['protocol'] == 'PLAINTEXT' and plain['tls_listeners'] == []
    assert plain['metadata_dir'] == '/m'
    ctl = FILTERS['kafka_node_facts']({'node.id': '9', 'process.roles': 'controller', 'listeners': 'CONTROLLER://:9094',
                                       'listener.security.protocol.map': 'CONTROLLER:SSL',
                                       'controller.listener.names': 'CONTROLLER'})
    assert ctl['health_listener'] is None and ctl['tls_listeners'][0]['port'] == 9094


def test_node_facts_of_a_zookeeper_mode_broker():
    # Kafka 3.x with ZooKeeper: broker.id, no process.roles, no controller listener.
    props = {'broker.id': '3', 'zookeeper.connect': 'zk-1:2182', 'listeners': 'SSL://h:9093',
             'listener.security.protocol.map': 'SSL:SSL', 'inter.broker.listener.name': 'SSL', 'log.dirs': '/d'}
    node = FILTERS['kafka_node_facts'](props)
    assert node['node_id'] == 3 and node['roles'] == ['broker']
    assert node['is_broker'] and not node['is_controller']
    assert node['health_listener']['port'] == 9093 and [x['name'] for x in node['tls_listeners']] == ['SSL']
    assert not any(x['controller'] for x in node['listeners'])


@pytest.mark.parametrize('props, error', [
    ({'process.roles': 'broker'}, 'node.id'),
    ({'broker.id': '1', 'zookeeper.connect': ' '}, 'zookeeper.connect'),
    ({'node.id': '1'}, 'process.roles'),
    ({'node.id': '1', 'process.roles': 'broker', 'listeners': 'INTERNAL://:9092'}, 'INTERNAL has no protocol'),
])
def test_node_facts_names_what_is_wrong(props, error):
    with pytest.raises(AnsibleFilterError, match=error):
        FILTERS['kafka_node_facts'](props)


# ----------------------------------------------------------------- restart_plan: who, in which order, how

def _query(node_id, controller, reasons=(), switch=False, leader=None, epoch=1, zookeeper=False):
    state = None if leader is None else '{"leaderId": %d, "leaderEpoch": %d}' % (leader, epoch)
    node = dict(node_id=node_id, is_controller=controller, zookeeper_mode=zookeeper)
    return dict(node=node, quorum_state=state, reasons=list(reasons),
                pending=dict(reasons=list(reasons), controller_switch=switch) if reasons else {})


PLAN_CASES = [
    # (case, queries by host, zookeeper controller id, force, order, leader, strategy, hosts, voter ids: the
    # controllers read, whose voter records the quorum gate keeps; none in ZooKeeper mode)
    ("nothing pending", {"c1": _query(1, True, leader=2), "c2": _query(2, True), "b3": _query(3, False)},
     None, False, ["b3", "c1", "c2"], "c2", "rolling", [], [1, 2]),
    ("one broker pending", {"c1": _query(1, True, leader=2), "c2": _query(2, True), "b3": _query(3, False, ["stores"])},
     None, False, ["b3", "c1", "c2"], "c2", "rolling", ["b3"], [1, 2]),
    ("forced roll: everyone, leader last", {"c1": _query(1, True, leader=1), "c2": _query(2, True), "b3": _query(3, False)},
     None, True, ["b3", "c2", "c1"], "c1", "rolling", ["b3", "c2", "c1"], [1, 2]),
    ("newest epoch names the leader", {"c1": _query(1, True, leader=1, epoch=3), "c2": _query(2, True, leader=2, epoch=4)},
     None, False, ["c1", "c2"], "c2", "rolling", [], [1, 2]),
    ("controller listener moves: every node together",
     {"c1": _query(1, True, ["listeners"], switch=True, leader=1), "c2": _query(2, True), "b3": _query(3, False)},
     None, False, ["b3", "c2", "c1"], "c1", "together", ["b3", "c2", "c1"], [1, 2]),
    ("ZooKeeper mode: sorted by id, the reported controller last",
     {"z3": _query(3, False, ["x"], zookeeper=True), "z1": _query(1, False, ["x"], zookeeper=True),
      "z2": _query(2, False, ["x"], zookeeper=True)},
     2, False, ["z1", "z3", "z2"], "z2", "rolling", ["z1", "z3", "z2"], []),
    ("ZooKeeper mode, inter-broker listener moves: every broker together",
     {"z1": _query(1, False, ["listeners"], switch=True, zookeeper=True), "z2": _query(2, False, zookeeper=True)},
     2, False, ["z1", "z2"], "z2", "together", ["z1", "z2"], []),
    ("no quorum-state read: no leader", {"c1": _query(1, True, ["x"]), "c2": _query(2, True, ["x"])},
     None, False, ["c1", "c2"], "", "rolling", ["c1", "c2"], [1, 2]),
    ("a host without node facts is no voter", {"c3": _query(3, True, leader=3), "x": dict(reasons=[])},
     None, False, ["x", "c3"], "c3", "rolling", [], [3]),
]


@pytest.mark.parametrize("case,queries,zk_id,force,order,leader,strategy,hosts,voter_ids", PLAN_CASES,
                         ids=[c[0] for c in PLAN_CASES])
def test_restart_plan(case, queries, zk_id, force, order, leader, strategy, hosts, voter_ids):
    plan = roll.restart_plan(list(queries), queries, zookeeper_controller_id=zk_id, force=force)
    assert (plan["order"], plan["leader"], plan["strategy"], plan["hosts"], plan["voter_ids"]) == (
        order, leader, strategy, hosts, voter_ids), case
    message = roll.restart_plan_message(plan)
    assert message.startswith("Restart order (nodes without a pending restart are passed over): %s;"
                              % " -> ".join(order))
    for host in order:
        assert ("%s: no restart needed" % host in message) == (host not in hosts), message
    # A whole-cluster restart says why it cannot roll, in the words of the cluster's mode, naming the nodes
    # whose listener moves and how many stop.
    explained = "cannot roll host by host: all %d %s stop now" % (
        len(order), "brokers" if plan["zookeeper_mode"] else "nodes")
    assert (explained in message) == (strategy == "together"), message
    assert plan["zookeeper_mode"] == (zk_id is not None), case
    if strategy == "together":
        assert "on %s." % ", ".join(plan["switching"]) in message, message


RESTORE_CASES = [
    # (case, before, after, whole quorum)
    ("controller PLAINTEXT -> SSL back", {"process.roles": "controller", "controller.listener.names": "CONTROLLER",
                                          "listener.security.protocol.map": "CONTROLLER:SSL"},
     {"process.roles": "controller", "controller.listener.names": "CONTROLLER",
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT"}, True),
    ("broker-only node", {"process.roles": "broker", "controller.quorum.voters": "1@a:9094"},
     {"process.roles": "broker", "controller.quorum.voters": "1@a:9093"}, False),
    ("migration phase keeps both listeners", {"process.roles": "controller",
                                              "controller.listener.names": "CONTROLLER,CONTROLLER_SSL"},
     {"process.roles": "controller", "controller.listener.names": "CONTROLLER"}, False),
    ("only TLS protocols changed", {"process.roles": "broker,controller", "ssl.enabled.protocols": "TLSv1.3"},
     {"process.roles": "broker,controller", "ssl.enabled.protocols": "TLSv1.2,TLSv1.3"}, False),
    ("a key the old file did not set", {"process.roles": "controller"},
     {"process.roles": "controller", "controller.quorum.bootstrap.servers": "a:9093"}, True),
]


@pytest.mark.parametrize("case,before,after,switch", RESTORE_CASES, ids=[c[0] for c in RESTORE_CASES])
def test_restore_moves_quorum(case, before, after, switch):
    assert roll.restore_moves_quorum(before, after) is switch, case
