# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/kafka/retire.py: whether Kafka nodes may be retired (playbooks/retire_host.yml refuses before
anything changes), table by table."""

from __future__ import annotations

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import retire as R

INVENTORY = {1: "kafka-1", 2: "kafka-2", 3: "kafka-3"}
REPLICAS = {"orders-0": [1, 2, 3], "orders-1": [2, 3, 1], "audit-0": [1, 2]}
VOTERS = "1@kafka-1:9094,2@kafka-2:9094,3@kafka-3:9094"

# (id, node_ids, inventory, alive, replicas, voters text, voters_checked) -> the words each problem must hold
CASES = [
    ("a node that has left: no problem", [4], INVENTORY, [1, 2, 3], REPLICAS, VOTERS, False, []),
    ("still in the inventory", [3], INVENTORY, [1, 2], {"orders-0": [1, 2]}, "1@a:9094,2@b:9094", False,
     [["still a Kafka node of the inventory (kafka-3)", "super.users"]]),
    ("still hosts replicas", [4], INVENTORY, [1, 2, 3], {"orders-0": [1, 4], "audit-0": [4, 2], "x-0": [1]}, VOTERS,
     False, [["replicas of 2 partition(s) (audit-0, orders-0)", "kafka-reassign-partitions.sh"]]),
    ("still alive", [4], INVENTORY, [1, 2, 3, 4], REPLICAS, VOTERS, False,
     [["still alive in the cluster's metadata", "kafka-cluster.sh unregister", "--id 4"]]),
    ("a voter of the static quorum", [4], INVENTORY, [1, 2, 3], REPLICAS, VOTERS + ",4@kafka-4:9094", False,
     [["voter of the static controller quorum", "controller.quorum.voters"]]),
    ("a KIP-853 voter entry with its directory id", [4], INVENTORY, [1, 2, 3], REPLICAS,
     "1-AAAAAAAAAAAAAAAAAAAAAA@kafka-1:9094,4-BBBBBBBBBBBBBBBBBBBBBB@kafka-4:9094", False,
     [["voter of the static controller quorum"]]),
    ("a dynamic quorum, not checked", [4], INVENTORY, [1, 2, 3], REPLICAS, "", False,
     [["dynamic", "kafka-metadata-quorum.sh", "remove-controller --controller-id 4", "kafkasec_retire_voters_checked"]]),
    ("a dynamic quorum, checked", [4], INVENTORY, [1, 2, 3], REPLICAS, None, True, []),
    ("everything at once, each reason said",
     [1], INVENTORY, [1, 2, 3], REPLICAS, VOTERS, False,
     [["inventory (kafka-1)"], ["replicas of 3 partition(s)"], ["still alive"], ["voter"]]),
    ("two nodes, one problem each", [3, 5], {1: "kafka-1", 3: "kafka-3"}, [1], {"a-0": [1, 5]}, "1@a:1", False,
     [["node 3 is still a Kafka node"], ["node 5 still holds replicas of 1 partition(s) (a-0)"]]),
    ("the same id twice counts once", [4, "4"], INVENTORY, [1, 2, 3], REPLICAS, VOTERS, False, []),
    ("not a list", "4", INVENTORY, [], {}, VOTERS, False, [["kafkasec_retire_node_ids ('4') must be a non-empty list"]]),
    ("empty", [], INVENTORY, [], {}, VOTERS, False, [["must be a non-empty list"]]),
    ("not a number", [4, "kafka-4", True], INVENTORY, [], {}, VOTERS, False,
     [["'kafka-4' is not a node id"], ["True is not a node id"]]),
]


@pytest.mark.parametrize("node_ids, inventory, alive, replicas, voters, checked, expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_plan(node_ids, inventory, alive, replicas, voters, checked, expected):
    outcome = R.plan(node_ids, inventory, alive, replicas, voters, checked, hostname="kafka-1")
    assert len(outcome.problems) == len(expected), outcome.problems
    for problem, words in zip(outcome.problems, expected):
        assert problem.startswith("kafka-1: kafkasec_retire_node_ids"), problem
        for word in words:
            assert word in problem, (word, problem)
    assert outcome.ok == (not expected)


def test_many_partitions_are_counted_and_the_list_is_cut():
    replicas = {"t-%02d" % i: [4] for i in range(25)}
    (problem,) = R.plan([4], {}, [], replicas, None, True).problems
    assert "25 partition(s) (t-00, t-01" in problem and "t-09 and 15 more" in problem and "t-10" not in problem


@pytest.mark.parametrize("text, voters", [
    (None, None), ("", None), ("  ", None),
    ("1@a:9094", (1,)), ("1@a:9094, 2@b:9094,3@[::1]:9094", (1, 2, 3)),
    ("7-AbC_d-e@h:1", (7,)),
])
def test_parse_voters(text, voters):
    assert R.parse_voters(text) == voters


@pytest.mark.parametrize("text", ["a@b:1", "1:b:1", "1@", ",", "1@a:1,,2@b:2"])
def test_parse_voters_refuses(text):
    with pytest.raises(ValueError, match="is not id@host:port"):
        R.parse_voters(text)
    assert "is not id@host:port" in R.plan([4], {}, [], {}, text, hostname="kafka-1").problems[0]
