# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kafkasec.tls.kafka_acls on a real KRaft node with StandardAuthorizer (the module run by ansible-playbook, as
tests/unit/ansible_runner.py runs it), checked from outside: the bindings as Kafka's DescribeAcls reports them to
a plain confluent-kafka AdminClient, and what a client certificate may see because of them.

The tests are the steps of one story and run in file order: bad input, check mode, create, rerun, exclusive mode,
state absent, and a client certificate that may not describe ACLs.
"""

from __future__ import annotations

import time
from typing import Set, Tuple

import pytest

from ansible_runner import run_module

pytestmark = pytest.mark.lab

MODULE = 'kafkasec.tls.kafka_acls'
TOPIC = 'acl-orders'
CLIENT = 'User:kafkasec-acl-client'  # conftest.CLIENT_CN under the CN mapping rule
OTHER = 'User:kafkasec-acl-other'
WAIT = 30  # seconds for the broker to apply what the controller committed

Row = Tuple[str, str, str, str, str, str, str]  # principal, resource type, name, pattern, operation, host, permission


def declared():
    """What the inventory declares: Strimzi's shape, operation names in mixed case, defaults left out."""
    return [
        dict(principal=CLIENT, exclusive=True, acls=[
            dict(resource=dict(type='topic', name=TOPIC), operations=['Describe', 'read']),
            dict(resource=dict(type='group', name='acl-', patternType='prefixed'), operations=['Read']),
            dict(resource=dict(type='cluster'), operations=['IdempotentWrite']),
        ]),
        dict(principal=OTHER, acls=[
            dict(resource=dict(type='transactionalId', name='tx-1'), operations=['Write', 'DESCRIBE'], type='deny',
                 host='::1'),
        ]),
    ]


DECLARED_ROWS: Set[Row] = {
    (CLIENT, 'TOPIC', TOPIC, 'LITERAL', 'DESCRIBE', '*', 'ALLOW'),
    (CLIENT, 'TOPIC', TOPIC, 'LITERAL', 'READ', '*', 'ALLOW'),
    (CLIENT, 'GROUP', 'acl-', 'PREFIXED', 'READ', '*', 'ALLOW'),
    (CLIENT, 'BROKER', 'kafka-cluster', 'LITERAL', 'IDEMPOTENT_WRITE', '*', 'ALLOW'),
    (OTHER, 'TRANSACTIONAL_ID', 'tx-1', 'LITERAL', 'WRITE', '0:0:0:0:0:0:0:1', 'DENY'),
    (OTHER, 'TRANSACTIONAL_ID', 'tx-1', 'LITERAL', 'DESCRIBE', '0:0:0:0:0:0:0:1', 'DENY'),
}
UNDECLARED_CLIENT: Row = (CLIENT, 'TOPIC', TOPIC, 'LITERAL', 'WRITE', '*', 'ALLOW')
UNDECLARED_OTHER: Row = (OTHER, 'TOPIC', TOPIC, 'LITERAL', 'READ', '*', 'ALLOW')


def kafka_acls(cluster) -> Set[Row]:
    """Every ACL binding of the cluster, as a plain DescribeAcls (by the admin principal, a super user) reports it."""
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
    flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                           AclPermissionType.ANY)
    acls = cluster.admin_client().describe_acls(flt, request_timeout=15).result(timeout=20)
    return {(a.principal, a.restype.name, a.name, a.resource_pattern_type.name, a.operation.name, a.host,
             a.permission_type.name) for a in acls}


def wait_for_acls(cluster, expected: Set[Row]) -> Set[Row]:
    deadline = time.monotonic() + WAIT
    while True:
        found = kafka_acls(cluster)
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def client_may_describe_topic(cluster) -> bool:
    """Whether the client certificate sees TOPIC in the metadata (Describe on it), as the broker decides."""
    from confluent_kafka import KafkaError
    client = cluster.admin_client('client')
    topic = client.list_topics(topic=TOPIC, timeout=15).topics[TOPIC]
    if topic.error is None:
        return True
    assert topic.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, topic.error
    return False


def wait_client(cluster, allowed: bool) -> bool:
    deadline = time.monotonic() + WAIT
    while client_may_describe_topic(cluster) != allowed and time.monotonic() < deadline:
        time.sleep(0.5)
    return client_may_describe_topic(cluster)


def rows(result_list) -> Set[Row]:
    kinds = {'topic': 'TOPIC', 'group': 'GROUP', 'cluster': 'BROKER', 'transactional_id': 'TRANSACTIONAL_ID'}
    return {(r['principal'], kinds[r['resource_type']], r['resource_name'], r['pattern_type'].upper(),
             ''.join('_' + c if c.isupper() and i else c for i, c in enumerate(r['operation'])).upper(), r['host'],
             r['permission'].upper()) for r in result_list}


@pytest.fixture(scope='module', autouse=True)
def topic(cluster):
    from confluent_kafka.admin import NewTopic
    futures = cluster.admin_client().create_topics([NewTopic(TOPIC, 1, 1)], request_timeout=30)
    futures[TOPIC].result(timeout=40)
    assert kafka_acls(cluster) == set(), 'the lab starts without ACLs'
    return TOPIC


def test_bad_input_fails_before_any_change(cluster):
    node = cluster.site.kafka_hosts()[0]['name']
    bad = declared()
    bad[0]['acls'][0]['operations'].append('Fly')
    result = run_module(MODULE, cluster.module_args(bad))
    assert result.get('failed'), result
    assert result['msg'].startswith(
        "%s: kafkasec_acls[0].acls[0].operations[2] ('Fly') is not a Kafka ACL operation" % node), result['msg']
    bad = declared()
    bad[1]['acls'][0]['operations'] = ['Read']
    bad[1]['principal'] = 'kafkasec-acl-other'
    result = run_module(MODULE, cluster.module_args(bad))
    assert result.get('failed'), result
    assert "kafkasec_acls[1].principal ('kafkasec-acl-other') is not a principal Kafka matches" in result['msg']
    assert "kafkasec_acls[1].acls[0].operations[0] ('Read') does not apply to a transactional_id" in result['msg']
    assert result['created'] == [] and result['deleted'] == []
    assert kafka_acls(cluster) == set()


def test_check_mode_reports_and_changes_nothing(cluster):
    result = run_module(MODULE, cluster.module_args(declared()), check=True, diff=True)
    assert result['changed'] is True, result
    assert rows(result['created']) == DECLARED_ROWS and result['deleted'] == []
    assert result['diff']['before'] == ''
    assert len(result['diff']['after'].splitlines()) == len(DECLARED_ROWS)
    assert '%s allow Read on topic %s (literal) from host *' % (CLIENT, TOPIC) in result['diff']['after']
    assert kafka_acls(cluster) == set()
    assert client_may_describe_topic(cluster) is False


def test_create_and_kafka_enforces_them(cluster):
    result = run_module(MODULE, cluster.module_args(declared()), diff=True)
    assert result['changed'] is True, result
    assert rows(result['created']) == DECLARED_ROWS and result['deleted'] == []
    assert wait_for_acls(cluster, DECLARED_ROWS) == DECLARED_ROWS
    assert wait_client(cluster, True) is True


def test_rerun_changes_nothing(cluster):
    result = run_module(MODULE, cluster.module_args(declared()), diff=True)
    assert result['changed'] is False, result
    assert result['created'] == [] and result['deleted'] == []
    assert result['diff']['before'] == result['diff']['after']
    assert kafka_acls(cluster) == DECLARED_ROWS


def test_exclusive_mode_removes_an_undeclared_binding_and_reports_it(cluster):
    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
    by_hand = [AclBinding(ResourceType.TOPIC, TOPIC, ResourcePatternType.LITERAL, principal, '*', AclOperation[op],
                          AclPermissionType.ALLOW) for principal, op in ((CLIENT, 'WRITE'), (OTHER, 'READ'))]
    for future in cluster.admin_client().create_acls(by_hand, request_timeout=15).values():
        future.result(timeout=20)
    expected = DECLARED_ROWS | {UNDECLARED_CLIENT, UNDECLARED_OTHER}
    assert wait_for_acls(cluster, expected) == expected

    checked = run_module(MODULE, cluster.module_args(declared()), check=True, diff=True)
    assert checked['changed'] is True and checked['created'] == [], checked
    assert rows(checked['deleted']) == {UNDECLARED_CLIENT}
    assert '%s allow Write on topic %s' % (CLIENT, TOPIC) in checked['diff']['before']
    assert '%s allow Write on topic %s' % (CLIENT, TOPIC) not in checked['diff']['after']
    assert kafka_acls(cluster) == expected, 'check mode deleted something'

    result = run_module(MODULE, cluster.module_args(declared()))
    assert result['changed'] is True and result['created'] == [], result
    assert rows(result['deleted']) == {UNDECLARED_CLIENT}
    # OTHER is not exclusive: its undeclared binding stays.
    expected = DECLARED_ROWS | {UNDECLARED_OTHER}
    assert wait_for_acls(cluster, expected) == expected

    again = run_module(MODULE, cluster.module_args(declared()))
    assert again['changed'] is False and again['created'] == [] and again['deleted'] == [], again


def test_state_absent_deletes_the_declared_bindings(cluster):
    # Read implies Describe on a topic: both go, and the client loses sight of the topic.
    grant = [dict(principal=CLIENT, acls=[dict(resource=dict(type='topic', name=TOPIC), operations=['Describe', 'Read'])])]
    result = run_module(MODULE, cluster.module_args(grant, state='absent'), diff=True)
    assert result['changed'] is True and result['created'] == [], result
    gone = {(CLIENT, 'TOPIC', TOPIC, 'LITERAL', op, '*', 'ALLOW') for op in ('DESCRIBE', 'READ')}
    assert rows(result['deleted']) == gone
    expected = (DECLARED_ROWS | {UNDECLARED_OTHER}) - gone
    assert wait_for_acls(cluster, expected) == expected
    assert wait_client(cluster, False) is False

    again = run_module(MODULE, cluster.module_args(grant, state='absent'))
    assert again['changed'] is False and again['deleted'] == [], again


def test_a_principal_without_describe_on_the_cluster_is_refused(cluster):
    # The client certificate is no super user and has no cluster Describe: the module must not read the refused
    # DescribeAcls as "no ACLs" (confluent-kafka returns an empty list for it) and plan from that.
    before = kafka_acls(cluster)
    crt, key = cluster.certs['client']
    result = run_module(MODULE, cluster.module_args(declared(), cert_path=str(crt), key_path=str(key)), check=True)
    assert result.get('failed'), result
    assert "no Describe on the cluster" in result['msg'], result['msg']
    assert kafka_acls(cluster) == before
