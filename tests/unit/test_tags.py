# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/common/tags.py: the --tags / --skip-tags rule site.yml's plays use to know whether a later
task of the run does its work, checked against Ansible's own Taggable.evaluate_tags on the same table."""

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
