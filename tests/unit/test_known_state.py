# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/config/known_state.py: the controller's decision that broker_config's merge
would change nothing (so the host is not asked), as a table against what the merge itself does on
the same file, and the digests that let it decide without any value leaving the host."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.config import known_state as K
from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import block_to_changes
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load, merge

FILE = """# server.properties
node.id=1
listeners=SSL://127.0.1.1:9093
ssl.keystore.password=s3cret-pass
ssl.client.auth=required
"""
BLOCK = "listeners=SSL://127.0.1.1:9093\nssl.keystore.password=s3cret-pass\nssl.client.auth=required\n"
KEY = "per-run-digest-key"
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def known(tmp_path: Path, text: str = FILE, pending: Dict[str, Any] = None, marker_mode: int = None,
          remove=()) -> Dict[str, Any]:
    path = tmp_path / "server.properties"
    path.write_text(text, encoding="latin-1")
    os.chmod(path, 0o640)
    store = tmp_path / "keystore.p12"
    store.write_bytes(b"store")
    marker = str(path) + ".kafkasec-restart-pending"
    if marker_mode is not None:
        Path(marker).write_text("{}")
        os.chmod(marker, marker_mode)
    state = K.state_of(str(path), load(text), KEY, [str(store), str(tmp_path / "truststore.p12")], pending, marker)
    return dict(state, remove=list(remove))


def args(tmp_path: Path, **overrides: Any) -> Dict[str, Any]:
    values = dict(content=BLOCK, digest_key=KEY, mode="0640", owner=ME, group=MY_GROUP, keystore_changed=False,
                  truststore_changed=False, other_reasons=[], require_files=[str(tmp_path / "keystore.p12")])
    values.update(overrides)
    return values


PENDING = dict(reasons=["server.properties: listeners"], controller_switch=False)

CASES = [
    # (case, args overrides, known() overrides, the host must be asked)
    ("converged", {}, {}, False),
    ("a value differs", dict(content=BLOCK.replace("required", "requested")), {}, True),
    ("a secret differs", dict(content=BLOCK.replace("s3cret-pass", "other-pass")), {}, True),
    ("a key to add", dict(content=BLOCK + "ssl.protocol=TLSv1.3\n"), {}, True),
    ("an empty value removes a present key", dict(content=BLOCK + "ssl.client.auth=\n".replace("ssl.client.auth",
                                                                                              "node.id")), {}, True),
    ("an empty value for an absent key", dict(content=BLOCK + "ssl.truststore.password=\n"), {}, False),
    ("the plan removes a present key", {}, dict(remove=["node.id"]), True),
    ("the plan removes an absent key", {}, dict(remove=["sasl.enabled.mechanisms"]), False),
    ("mode to settle", dict(mode="0600"), {}, True),
    ("symbolic mode: the module settles it", dict(mode="u=rw,g=r"), {}, True),
    ("owner to settle", dict(owner="nobody"), {}, True),
    ("keystore changed", dict(keystore_changed=True), {}, True),
    ("truststore changed (templated text)", dict(truststore_changed="True"), {}, True),
    ("another restart reason", dict(other_reasons=["kafka-jaas.conf changed"]), {}, True),
    ("a store missing", dict(require_files=["/nonexistent/truststore.p12"]), {}, True),
    ("a restart pending, record kept as it is", {}, dict(pending=PENDING, marker_mode=0o640), False),
    ("a restart pending, record's file to settle", dict(), dict(pending=PENDING, marker_mode=0o600), True),
    ("a restart pending, record would be rewritten",
     {}, dict(pending=dict(reasons=["a", "a"], controller_switch=False), marker_mode=0o640), True),
]


@pytest.mark.parametrize("case,arg_overrides,state_overrides,must_run", CASES, ids=[c[0] for c in CASES])
def test_the_host_is_asked_exactly_when_the_merge_would_change_something(tmp_path: Path, case, arg_overrides,
                                                                        state_overrides, must_run) -> None:
    state = known(tmp_path, **state_overrides)
    task = args(tmp_path, **arg_overrides)
    reasons = K.merge_check(task, state)
    assert bool(reasons) == must_run, (case, reasons)
    if not must_run:
        # What the merge itself finds on the same file: nothing to change.
        set_values, empty = block_to_changes(task["content"])
        remove = [key for key in list(empty) + list(state["remove"]) if key not in set_values]
        assert merge(FILE, set_values, remove).changed_keys == []
        result = K.unchanged_merge_result(state)
        assert result["changed"] is False and result["pending"] == (state["pending"] or {})
        assert result["restart"]["reasons"] == list(state["pending"].get("reasons", []))


def test_no_value_leaves_the_host_and_another_key_cannot_match(tmp_path: Path) -> None:
    state = known(tmp_path)
    assert "s3cret-pass" not in repr(state)
    assert K.merge_check(args(tmp_path), state) == []
    assert K.merge_check(args(tmp_path, digest_key="another run's key"), state) == [
        "listeners updated", "ssl.keystore.password updated", "ssl.client.auth updated"]


def test_without_a_known_state_the_host_is_asked(tmp_path: Path) -> None:
    assert K.merge_check(args(tmp_path), {}) == ["no known state"]


@pytest.mark.parametrize("pending", [{}, PENDING, dict(reasons=["x", "y"], controller_switch=True)])
def test_the_kept_record_is_what_the_restart_decision_keeps(pending) -> None:
    from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.broker_plan import BrokerSettings, decide_restart, plan_node
    plan = plan_node({"process.roles": "broker,controller", "node.id": "1"},
                     BrokerSettings(hostname="kafka-1", advertised_host="kafka-1"))
    decision = decide_restart([], [], pending, plan, True, True, [])
    expected = dict(reasons=decision.reasons, controller_switch=decision.controller_switch) if decision.reasons else {}
    assert K.kept_record(pending) == expected
