# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retiring principals and nodes on the ACL suite's node (after test_kafka_acls.py, whose principals have ACLs the
collection's playbooks never made): playbooks/acls.yml as an operator runs it, then again with a principal removed
from the inventory, checked from outside with a plain AdminClient; playbooks/retire_host.yml refusing a node that is
still part of the cluster, and going through for one that has left.

The tests are the steps of one story and run in file order.
"""

from __future__ import annotations

import json
import time
from typing import Set

import pytest

from labkit import ACLS, REPO

pytestmark = pytest.mark.lab

RETIRE_HOST = REPO / 'playbooks' / 'retire_host.yml'
MARKER = 'kafkasec.tls:managed'
RETIREE = 'User:kafkasec-retiree'
KEEPER = 'User:kafkasec-keeper'
HANDMADE = 'User:kafkasec-handmade'  # ACLs made by hand (not by the collection): never touched
TOPIC = 'acl-orders'
WAIT = 30
ADMIN_CN = 'kafkasec-acl-admin'  # conftest.ADMIN_CN: the suite's site.yml run put it in super.users


def principal_rows(cluster, principal: str) -> Set[tuple]:
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
    flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, principal, None, AclOperation.ANY,
                           AclPermissionType.ANY)
    acls = cluster.admin_client().describe_acls(flt, request_timeout=15).result(timeout=20)
    return {(a.restype.name, a.name, a.operation.name, a.permission_type.name) for a in acls}


def all_rows(cluster) -> Set[tuple]:
    from confluent_kafka.admin import AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
    flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                           AclPermissionType.ANY)
    acls = cluster.admin_client().describe_acls(flt, request_timeout=15).result(timeout=20)
    return {(a.principal, a.restype.name, a.name, a.operation.name, a.permission_type.name) for a in acls}


def wait_rows(cluster, principal: str, expected: Set[tuple]) -> Set[tuple]:
    deadline = time.monotonic() + WAIT
    while True:
        found = principal_rows(cluster, principal)
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def inventory(tmp_path, *principals: str) -> str:
    """The -e file an operator's inventory would hold: the principals' ACLs (no bundles), and the admin principal in
    super.users as the suite's site.yml run had it (so site.yml in retire_host.yml changes nothing)."""
    entries = [dict(principal=p, bundle=False, acls=[dict(resource=dict(type='topic', name=TOPIC),
                                                          operations=['Read', 'Describe'])]) for p in principals]
    path = tmp_path / ('inventory-%d.json' % len(principals))
    path.write_text(json.dumps(dict(kafkasec_acls_principals=entries, kafkasec_super_users=['User:%s' % ADMIN_CN])))
    return '@%s' % path


@pytest.fixture(scope='module')
def handmade(cluster):
    """A principal with an ACL made by hand, before any acls.yml run."""
    from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType, ResourceType
    binding = AclBinding(ResourceType.TOPIC, TOPIC, ResourcePatternType.LITERAL, HANDMADE, '*', AclOperation.READ,
                         AclPermissionType.ALLOW)
    cluster.admin_client().create_acls([binding])[binding].result(timeout=30)
    assert wait_rows(cluster, HANDMADE, {('TOPIC', TOPIC, 'READ', 'ALLOW')}) == {('TOPIC', TOPIC, 'READ', 'ALLOW')}
    return binding


@pytest.fixture(scope='module')
def before(cluster, handmade, tmp_path_factory):
    """acls.yml naming the retiree and the keeper: each gets its ACLs and its marker."""
    run = cluster.site.run('-e', inventory(tmp_path_factory.mktemp('retire'), RETIREE, KEEPER), playbook=ACLS)
    assert run.rc == 0, run.describe()
    expected = {('TOPIC', TOPIC, 'READ', 'ALLOW'), ('TOPIC', TOPIC, 'DESCRIBE', 'ALLOW'),
                ('TOPIC', MARKER, 'DESCRIBE', 'DENY')}
    for principal in (RETIREE, KEEPER):
        assert wait_rows(cluster, principal, expected) == expected, principal
    return all_rows(cluster)


def test_a_principal_removed_from_the_inventory_loses_its_acls_and_the_run_says_so(cluster, before, tmp_path):
    keeper = principal_rows(cluster, KEEPER)
    run = cluster.site.run('-e', inventory(tmp_path, KEEPER), playbook=ACLS)
    assert run.rc == 0, run.describe()
    assert 'retired principals: %s (3 ACL binding(s) deleted)' % RETIREE in run.output, run.describe()
    assert wait_rows(cluster, RETIREE, set()) == set()
    assert principal_rows(cluster, KEEPER) == keeper
    # Every other binding is as it was: the hand-made one, and test_kafka_acls.py's principals (the module run
    # directly, without retire: no marker), whose ACLs the playbooks never made.
    assert all_rows(cluster) == {row for row in before if row[0] != RETIREE}
    assert (HANDMADE, 'TOPIC', TOPIC, 'READ', 'ALLOW') in before


def test_the_rerun_changes_nothing(cluster, before, tmp_path):
    run = cluster.site.run('-e', inventory(tmp_path, KEEPER), playbook=ACLS)
    assert run.rc == 0, run.describe()
    assert run.recap and all(r['changed'] == 0 for r in run.recap.values()), run.describe()
    assert 'retired principals' not in run.output


def test_retire_host_refuses_a_node_that_is_still_part_of_the_cluster(cluster, before, tmp_path):
    """Node 1 is the suite's only node: in the inventory, alive, holding every replica, the quorum's one voter."""
    rows = all_rows(cluster)
    digest = cluster.site.digest()
    run = cluster.site.run('-e', inventory(tmp_path, KEEPER), '-e', '{"kafkasec_retire_node_ids": [1]}',
                           playbook=RETIRE_HOST)
    assert run.rc != 0, run.describe()
    node = cluster.site.kafka_hosts()[0]['name']
    for words in ('kafkasec_retire_node_ids: node 1 is still a Kafka node of the inventory (%s)' % node,
                  'node 1 still holds replicas of', 'kafka-reassign-partitions.sh',
                  'node 1 is still alive in the cluster', 'kafka-cluster.sh unregister',
                  'node 1 is a voter of the static controller quorum'):
        assert words in run.output, words + '\n' + run.describe()
    assert 'Refuse to retire a node that still takes part in the cluster' in run.output
    assert 'Validate every Kafka node before anything changes' not in run.output  # site.yml's first play never ran
    assert all_rows(cluster) == rows and cluster.site.digest() == digest


def test_retire_host_lets_a_node_that_has_left_go(cluster, before, tmp_path):
    """Node 7 never was (as a node that has left the inventory and the cluster): the check passes, site.yml and
    acls.yml run with the inventory as it is and change nothing."""
    processes = cluster.site.processes()
    run = cluster.site.run('-e', inventory(tmp_path, KEEPER), '-e', '{"kafkasec_retire_node_ids": [7]}',
                           playbook=RETIRE_HOST)
    assert run.rc == 0, run.describe()
    assert 'node(s) 7 may retire' in run.output, run.describe()
    assert 'Validate every Kafka node before anything changes' in run.output  # then site.yml and acls.yml ran
    # The lab's nodes share the certificates role's default node CN: the play says what that means.
    assert "WARNING: the Kafka nodes' certificates share CN kafka-node" in run.output, run.describe()
    assert run.recap and all(r['changed'] == 0 for r in run.recap.values()), run.describe()
    assert cluster.site.processes() == processes  # no restart
