# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller side of host_pki and broker_config (plugins/action): which calls reach the host.
The module runs are replaced by a recorder, so each test sees exactly which calls would go out."""

from __future__ import annotations

from typing import Any, Dict, List
from unittest import mock

import pytest

from ansible.playbook.play_context import PlayContext
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader

from ansible_collections.kafkasec.tls.plugins.action import broker_config as broker_action
from ansible_collections.kafkasec.tls.plugins.action import host_pki as host_pki_action
from ansible_collections.kafkasec.tls.plugins.module_utils.config import known_state as K
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load

NODES = ["kafka-1.lab.test", "kafka-2.lab.test"]


def action(module: Any, args: Dict[str, Any], answer: Dict[str, Any]):
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    loader = DataLoader()
    plugin = module.ActionModule(task, mock.MagicMock(), PlayContext(), loader, Templar(loader), mock.MagicMock())
    calls: List[Dict[str, Any]] = []

    def execute(module_name, module_args, task_vars):
        calls.append(dict(module_args))
        return dict(answer)
    plugin._execute_module = execute
    return plugin, calls


def task_vars(host: str) -> Dict[str, Any]:
    return dict(inventory_hostname=host, groups=dict(kafka_broker=NODES, kafka_controller=NODES),
                hostvars={h: {} for h in NODES + [host]})


def test_an_install_the_request_step_did_never_reaches_the_host() -> None:
    contract = dict(keystore_path="/pki/keystore.p12", keystore_password="secret", keystore_changed=False)
    plugin, calls = action(host_pki_action, dict(step="install", host="kafka-1.lab.test", installed=contract), {})
    result = plugin.run(task_vars=task_vars("kafka-1.lab.test"))
    assert calls == [] and result["keystore_path"] == "/pki/keystore.p12" and result["changed"] is False


@pytest.mark.parametrize("host, common_name, refused", [
    ("kafka-2.lab.test", "kafka-node", False),        # a node with the nodes' shared CN
    ("connect-1.lab.test", "connect-1.lab.test", False),
    ("connect-1.lab.test", "kafka-node", True),       # a worker asking for the nodes' principal
])
def test_a_request_that_would_impersonate_fails_before_the_host_makes_a_key(host, common_name, refused) -> None:
    args = dict(step="request", host=host, common_name=common_name, subject={}, dns_names=[host], ip_addresses=[])
    plugin, calls = action(host_pki_action, args, dict(changed=False, csr="CSR", current_certificate=None))
    result = plugin.run(task_vars=task_vars(host))
    if refused:
        assert calls == [] and result["failed"], result
        assert "User:kafka-node" in result["msg"] and "kafkasec_cert_common_name" in result["msg"], result["msg"]
    else:
        assert len(calls) == 1 and not result.get("failed"), result
        assert result["sign_request"]["refused_principals"] == ({} if host.startswith("kafka") else
                                                                 {"User:kafka-node": mock.ANY})


def test_a_merge_that_would_change_nothing_never_reaches_the_host(tmp_path) -> None:
    path = tmp_path / "server.properties"
    path.write_text("ssl.client.auth=required\n")
    known = dict(K.state_of(str(path), load(path.read_text()), "key"), remove=[])
    args = dict(step="apply", content="ssl.client.auth=required\n", digest_key="key", known_state=known)
    plugin, calls = action(broker_action, dict(args), dict(changed=True))
    assert plugin.run(task_vars={})["changed"] is False and calls == []
    plugin, calls = action(broker_action, dict(args, content="ssl.client.auth=requested\n"), dict(changed=True))
    result = plugin.run(task_vars={})
    assert result["changed"] is True and result["merge_check"] == ["ssl.client.auth updated"]
    assert len(calls) == 1 and "known_state" not in calls[0] and "digest_key" not in calls[0]
