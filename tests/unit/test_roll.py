# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/roll.py and its filters: listeners, the active controller, the restart order."""

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkasec.tls.plugins.filter.kafkasec import FilterModule
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
