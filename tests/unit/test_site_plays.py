# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/common/tags.py: the --tags / --skip-tags rule site.yml's plays use to know whether a later
task of the run does its work, checked against Ansible's own Taggable.evaluate_tags on the same table; and
plugins/module_utils/kafka/config_steps.py, which nodes need the broker role's steps around its merge (site.yml's
plays name only those)."""

from __future__ import annotations

import pytest

from ansible.playbook.task import Task

from ansible_collections.kafkasec.tls.plugins.filter.kafkasec import FilterModule
from ansible_collections.kafkasec.tls.plugins.module_utils.common.tags import tags_selected

PKI = ['certificates', 'csr', 'sign', 'keystore', 'truststore']

CASES = [
    # (case, task tags, --tags (ansible_run_tags), --skip-tags, runs)
    ("no --tags: every task but 'never'", PKI, ['all'], [], True),
    ("--tags config does not run the PKI request", PKI, ['config'], [], False),
    ("--tags csr runs it", PKI, ['csr'], [], True),
    ("--tags config,sign runs it", PKI, ['config', 'sign'], [], True),
    ("--skip-tags restart leaves it", PKI, ['all'], ['restart'], True),
    ("--skip-tags certificates skips it", PKI, ['all'], ['certificates'], False),
    ("--skip-tags truststore skips it (one of its tags)", PKI, ['all'], ['truststore'], False),
    ("--tags tagged runs a tagged task", PKI, ['tagged'], [], True),
    ("--tags untagged does not", PKI, ['untagged'], [], False),
    ("--skip-tags tagged skips it", PKI, ['all'], ['tagged'], False),
    ("--skip-tags all skips it", PKI, ['all'], ['all'], False),
    ("an always task runs under --tags", ['always'], ['config'], [], True),
    ("an always task runs under --skip-tags all", ['always'], ['all'], ['all'], True),
    ("... unless always is skipped too", ['always'], ['all'], ['all', 'always'], False),
    ("a never task needs its own tag", ['never', 'debug'], ['all'], [], False),
    ("... which runs it", ['never', 'debug'], ['debug'], [], True),
    ("an untagged task runs without --tags", [], ['all'], [], True),
    ("... and under --tags untagged", [], ['untagged'], [], True),
    ("... not under --tags config", [], ['config'], [], False),
    ("the merge under --tags config", ['config'], ['config'], [], True),
    ("the merge under --tags restart", ['config'], ['restart'], [], False),
    ("the merge under --skip-tags config", ['config'], ['all'], ['config'], False),
    ("empty run tags mean all", ['config'], [], [], True),
]


@pytest.mark.parametrize('case, task_tags, run_tags, skip_tags, runs', CASES)
def test_tags_selected(case, task_tags, run_tags, skip_tags, runs):
    assert tags_selected(task_tags, run_tags, skip_tags) is runs, case
    assert FilterModule().filters()['tags_selected'](task_tags, run_tags, skip_tags) is runs, case


@pytest.mark.parametrize('case, task_tags, run_tags, skip_tags, runs', CASES)
def test_ansible_agrees(case, task_tags, run_tags, skip_tags, runs):
    # The rule is Ansible's: its own Taggable gives the same answer on the same table.
    task = Task.load({'name': 'x', 'debug': {'msg': 'x'}, 'tags': task_tags})
    assert task.evaluate_tags(set(run_tags), set(skip_tags), {}) is runs, case


# -- site.yml's plays around the merge: the nodes that need the broker role's steps before and after it --------

CONTRACT = {"keystore_path": "/pki/keystore.p12"}


@pytest.mark.parametrize("case, variables, before, after", [
    ("a KRaft node with this run's contract, no reload, no JAAS: neither", {"kafkasec_pki": CONTRACT}, False, False),
    ("--tags config: no contract registered", {}, True, False),
    ("a skipped install registers no contract", {"kafkasec_pki": {"skipped": True, "changed": False}}, True, False),
    ("ZooKeeper mode: the login", {"kafkasec_pki": CONTRACT, "kafkasec_broker_metadata_mode": "zookeeper"},
     True, False),
    ("KRaft named explicitly", {"kafkasec_pki": CONTRACT, "kafkasec_broker_metadata_mode": "kraft"}, False, False),
    ("a live reload decided by the merge",
     {"kafkasec_pki": CONTRACT, "kafkasec_broker__config": {"restart": {"live_reload": True}}}, False, True),
    ("a live reload as a string", {"kafkasec_pki": CONTRACT, "kafkasec_broker__config": {"restart": {"live_reload": "True"}}},
     False, True),
    ("no live reload", {"kafkasec_pki": CONTRACT, "kafkasec_broker__config": {"restart": {"live_reload": False}}},
     False, False),
    ("a merge decided on the controller", {"kafkasec_pki": CONTRACT, "kafkasec_broker__config": {"changed": False}},
     False, False),
    ("the tools' JAAS file", {"kafkasec_pki": CONTRACT, "kafkasec_broker_client_jaas_username": "admin",
                              "kafkasec_broker_client_jaas_password": "x"}, False, True),
    ("a JAAS user without a password: none (the role's condition wants both)",
     {"kafkasec_pki": CONTRACT, "kafkasec_broker_client_jaas_username": "admin"}, False, False),
])
def test_broker_config_hosts(case, variables, before, after):
    select = FilterModule().filters()["broker_config_hosts"]
    hostvars = {"k1": variables, "k2": {"kafkasec_pki": CONTRACT}}
    assert select(["k1", "k2"], hostvars, "before") == (["k1"] if before else []), case
    assert select(["k1", "k2"], hostvars, "after") == (["k1"] if after else []), case


def test_broker_config_hosts_names_a_bad_step():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="before' or 'after"):
        FilterModule().filters()["broker_config_hosts"](["k1"], {}, "during")


def test_the_role_keeps_the_same_conditions():
    # tasks/config.yml (the role used alone) guards the two steps with the conditions the filter applies.
    import os
    import yaml
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "roles", "broker", "tasks", "config.yml")) as handle:
        tasks = yaml.safe_load(handle)
    conditions = {task.get("ansible.builtin.include_tasks"): " ".join(str(task.get("when")).split())
                  for task in tasks if "ansible.builtin.include_tasks" in task}
    assert conditions["config_before.yml"] == (
        "kafkasec_pki.keystore_path is not defined or kafkasec_broker__zookeeper_mode | bool")
    assert conditions["config_after.yml"] == (
        "kafkasec_broker__config.restart.live_reload | default(false) | bool or (kafkasec_broker_client_jaas_username "
        "is defined and kafkasec_broker_client_jaas_password is defined)")
