# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retiring principals (module_utils/kafka/acls.py, retire): the marker that records on the cluster which principals
the collection keeps, and the plan that deletes every binding of a marked principal the inventory no longer names,
table by table. The real cluster side runs in tests/acls/test_acl_retirement.py."""

from __future__ import annotations

from typing import List

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import acls as A

ALICE, BOB, CAROL = "User:alice", "User:bob", "User:carol"


def b(principal: str, name: str = "orders", operation: str = "Read", permission: str = "allow") -> A.Binding:
    return A.Binding(principal, "topic", name, "literal", operation, "*", permission)


def entries(*principals: str, exclusive: bool = False) -> List[A.PrincipalAcls]:
    return [A.PrincipalAcls(p, frozenset({b(p)}), exclusive) for p in principals]


M = A.managed_marker


def test_the_marker_is_a_deny_on_a_topic_name_kafka_refuses():
    marker = M(ALICE)
    assert (marker.resource_type, marker.pattern_type, marker.operation, marker.host, marker.permission) == (
        "topic", "literal", "Describe", "*", "deny")
    # Kafka's Topic.validate: [a-zA-Z0-9._-]+ - the marker's name is not a legal topic name, so it can never match a
    # real topic; and it holds no '/' (ZooKeeper mode keeps ACLs in znodes named after the resource).
    assert ":" in A.MANAGED_MARKER_NAME and "/" not in A.MANAGED_MARKER_NAME


@pytest.mark.parametrize("bindings, managed", [
    ([], set()),
    ([M(ALICE), M(BOB)], {ALICE, BOB}),
    # bindings on the marker's topic that are not the marker (allow, another operation, prefixed) do not count
    ([b(ALICE, A.MANAGED_MARKER_NAME, "Describe", "allow"), b(BOB, A.MANAGED_MARKER_NAME, "Read", "deny"),
      A.Binding(CAROL, "topic", A.MANAGED_MARKER_NAME, "prefixed", "Describe", "*", "deny")], set()),
    ([M(ALICE), b(ALICE), b(BOB)], {ALICE}),
])
def test_managed_principals(bindings, managed):
    assert A.managed_principals(bindings) == frozenset(managed)


# (declared, state, current, managed) -> (to_create, to_delete, retired)
CASES = [
    ("first run: the declared bindings and one marker per principal",
     entries(ALICE, BOB), "present", [], [],
     [b(ALICE), M(ALICE), b(BOB), M(BOB)], [], []),
    ("rerun: nothing",
     entries(ALICE, BOB), "present", [b(ALICE), M(ALICE), b(BOB), M(BOB)], [ALICE, BOB],
     [], [], []),
    ("an existing cluster before markers: only the markers are added",
     entries(ALICE), "present", [b(ALICE)], [],
     [M(ALICE)], [], []),
    ("bob left the inventory: every binding of his goes, hand-made ones and his marker included",
     entries(ALICE), "present", [b(ALICE), M(ALICE), b(BOB), b(BOB, "payments", "Write"), M(BOB)], [ALICE, BOB],
     [], [b(BOB), b(BOB, "payments", "Write"), M(BOB)], [BOB]),
    ("retired and its bindings already gone but the marker (an interrupted run): the marker goes",
     entries(ALICE), "present", [b(ALICE), M(ALICE), M(BOB)], [ALICE, BOB],
     [], [M(BOB)], [BOB]),
    ("carol has ACLs but no marker (made by hand): never touched",
     entries(ALICE), "present", [b(ALICE), M(ALICE)], [ALICE],
     [], [], []),
    ("an inventory that names nobody retires every marked principal",
     [], "present", [b(ALICE), M(ALICE)], [ALICE],
     [], [b(ALICE), M(ALICE)], [ALICE]),
    ("state absent: the declared bindings and the marker go, the principal is not retired (it is named)",
     entries(ALICE), "absent", [b(ALICE), M(ALICE), b(ALICE, "other")], [ALICE],
     [], [b(ALICE), M(ALICE)], []),
    ("exclusive keeps the marker and deletes the undeclared binding",
     entries(ALICE, exclusive=True), "present", [b(ALICE), M(ALICE), b(ALICE, "other")], [ALICE],
     [], [b(ALICE, "other")], []),
    ("a principal back in the inventory gets its bindings and marker again",
     entries(ALICE, BOB), "present", [b(ALICE), M(ALICE)], [ALICE],
     [b(BOB), M(BOB)], [], []),
]


@pytest.mark.parametrize("declared, state, current, managed, to_create, to_delete, retired", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_plan_with_retirement(declared, state, current, managed, to_create, to_delete, retired):
    assert A.plan_with_retirement(declared, current, state, managed) == (sorted(to_create), sorted(to_delete), retired)


def test_the_rerun_after_a_retirement_plans_nothing():
    current = [b(ALICE), M(ALICE), b(BOB), M(BOB)]
    to_create, to_delete, retired = A.plan_with_retirement(entries(ALICE), current, "present", [ALICE, BOB])
    after = sorted((set(current) | set(to_create)) - set(to_delete))
    assert retired == [BOB]
    assert A.plan_with_retirement(entries(ALICE), after, "present", A.managed_principals(after)) == ([], [], [])


def test_the_diff_shows_the_retired_principal_leaving():
    current = [b(ALICE), M(ALICE), b(BOB), M(BOB)]
    to_create, to_delete, retired = A.plan_with_retirement(entries(ALICE), current, "present", [ALICE, BOB])
    outcome = A.AclOutcome(current, to_create, to_delete, [ALICE], retired)
    diff = outcome.diff()
    assert "User:bob allow Read on topic orders" in diff["before"]
    assert "User:bob" not in diff["after"]
    assert "User:alice allow Read on topic orders" in diff["after"]
