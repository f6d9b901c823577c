# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the restart order step reads of a node, and who reads it: kafkasec.tls.pending_restart's query,
or (one host call less per converged node) broker_config's plan call, handed on by a merge that left the
host untouched (plugins/module_utils/kafka/roll.py node_reading, known_query_result; the action plugins).
Also: the pending-restart record sits next to the path the operator names, symlink or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.kafkasec.tls.plugins.action import pending_restart as pending_action
from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.config import known_state as K
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import known_query_result, node_facts, node_reading

from ansible_runner import run_module
from test_action_plugins import action
from test_broker_plan import GOLDEN, settings_params

STATE = {"leaderId": 2, "leaderEpoch": 7, "votedId": -1, "appliedOffset": 0, "currentVoters": [], "data_version": 0}


def properties(metadata_dir: Path, roles: str = "broker,controller") -> Dict[str, str]:
    return {"node.id": "1", "process.roles": roles, "log.dirs": str(metadata_dir),
            "listeners": "SSL://127.0.1.1:9093,CONTROLLER://127.0.1.1:9094", "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:SSL,SSL:SSL", "inter.broker.listener.name": "SSL"}


@pytest.mark.parametrize("roles, state_file, quorum_state", [
    ("broker,controller", True, json.dumps(STATE)),   # a controller: its quorum-state, as the file says it
    ("broker,controller", False, ""),                 # a controller that never started: no file yet
    ("broker", True, ""),                             # broker-only: not read, even where a file lies
])
def test_node_reading_takes_a_controllers_quorum_state(tmp_path: Path, roles, state_file, quorum_state) -> None:
    if state_file:
        (tmp_path / "__cluster_metadata-0").mkdir()
        (tmp_path / "__cluster_metadata-0" / "quorum-state").write_text(json.dumps(STATE))
    pending = dict(reasons=["keystore changed"], controller_switch=False)
    reading = node_reading(node_facts(properties(tmp_path, roles)), pending)
    assert reading["quorum_state"] == quorum_state
    assert reading["pending"] == pending and reading["reasons"] == ["keystore changed"]
    assert reading["node"]["node_id"] == 1 and reading["node"]["is_controller"] is ("controller" in roles)


READING = dict(pending={}, reasons=[], node=dict(node_id=1), quorum_state="")


@pytest.mark.parametrize("case, args, known, answered", [
    ("query with a reading", dict(path="/m", properties_path="/p"), READING, True),
    ("state=query named", dict(path="/m", properties_path="/p", state="query"), READING, True),
    ("no reading", dict(path="/m", properties_path="/p"), None, False),
    ("empty reading", dict(path="/m", properties_path="/p"), {}, False),
    ("a write", dict(path="/m", properties_path="/p", state="present", reasons=["x"]), READING, False),
    ("a clear", dict(path="/m", properties_path="/p", state="absent"), READING, False),
    ("no properties_path", dict(path="/m"), READING, False),
    ("incomplete reading", dict(path="/m", properties_path="/p"), dict(READING, quorum_state=None), False),
    ("node missing", dict(path="/m", properties_path="/p"), {k: v for k, v in READING.items() if k != "node"}, False),
])
def test_only_a_plain_query_with_a_whole_reading_is_answered_on_the_controller(case, args, known, answered) -> None:
    answer = known_query_result(args, known)
    assert (answer is not None) is answered, case
    plugin, calls = action(pending_action, dict(args, **({"known_reading": known} if known is not None else {})),
                           dict(changed=False, pending={}, reasons=[]))
    result = plugin.run(task_vars={})
    assert len(calls) == (0 if answered else 1), case
    assert all("known_reading" not in call for call in calls), "the option never reaches the host"
    if answered:
        assert result["changed"] is False and result["node"] == READING["node"] and result["reasons"] == []


def test_a_merge_decided_on_the_controller_hands_on_the_plan_calls_reading(tmp_path: Path) -> None:
    path = tmp_path / "server.properties"
    text = "node.id=1\nprocess.roles=broker\nlisteners=SSL://127.0.1.1:9093\n"
    path.write_text(text)
    reading = node_reading(node_facts(load(text)), {})
    known = dict(K.state_of(str(path), load(text), "key"), remove=[], node_reading=reading)
    assert K.unchanged_merge_result(known)["node_reading"] == reading
    assert "node_reading" not in K.unchanged_merge_result(dict(known, node_reading=None))


def test_the_plan_call_reads_the_node_as_the_query_does_and_the_record_sits_by_the_named_path(tmp_path: Path) -> None:
    """Real module runs on a server.properties that is a symlink (as packaged installs often have):
    the plan call's reading is the query's result, and a merge that needs a restart writes the record
    where the restart plays look for it - next to the path the inventory names, not the link's target."""
    case = GOLDEN["combined-converged__defaults"]
    target = tmp_path / "opt" / "server.properties"
    target.parent.mkdir()
    target.write_text(case["current"], encoding="latin-1")
    link = tmp_path / "server.properties"
    link.symlink_to(target)
    common = dict(path=str(link), settings=settings_params(case), digest_key="per-run-key")

    plan = run_module("kafkasec.tls.broker_config", dict(common, step="plan"))
    assert not plan.get("failed"), plan.get("msg")
    query = run_module("kafkasec.tls.pending_restart", dict(path=pending_record.marker_path(str(link)),
                                                            properties_path=str(link)))
    assert plan["known_state"]["node_reading"] == {key: query[key] for key in ("pending", "reasons", "node", "quorum_state")}

    merge = run_module("kafkasec.tls.broker_config", dict(common, step="apply", content="ssl.client.auth=requested\n",
                                                          mode="0640", known_state=plan["known_state"]))
    assert merge["changed"] and merge["restart"]["reasons"] and "node_reading" not in merge, merge
    assert Path(pending_record.marker_path(str(link))).exists()
    assert not Path(pending_record.marker_path(str(target))).exists()
    after = run_module("kafkasec.tls.pending_restart", dict(path=pending_record.marker_path(str(link)),
                                                            properties_path=str(link)))
    assert after["reasons"] == merge["restart"]["reasons"]
    assert link.is_symlink() and "ssl.client.auth=requested" in target.read_text()
