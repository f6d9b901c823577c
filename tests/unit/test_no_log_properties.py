# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kafka .properties file holds the store passwords once the collection has written them, so a task
that reads one (slurp) or keeps its parsed content (set_fact) must hide its result: with -v, Ansible
prints both (the slurp's base64 content, the fact's values). tests/security checks the same on the lab
by grepping the -vvv log of site.yml; this test names the task that would leak.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Tuple

import yaml

REPO = Path(__file__).resolve().parents[2]
TASK_FILES = sorted([*REPO.glob('roles/*/tasks/*.yml'), *REPO.glob('playbooks/*.yml')])
SLURP = ('ansible.builtin.slurp', 'slurp')
SET_FACT = ('ansible.builtin.set_fact', 'set_fact')
# Files that hold store passwords once the collection has written them: server.properties and the other
# Kafka .properties files, and ZooKeeper's zoo.cfg.
CONFIG_FILE = re.compile(r'properties|zoo\.cfg|zookeeper_config_path')
# Filters whose result keeps no secret of the file (the node's id, roles, listeners and paths).
SECRET_FREE = ('kafkasec.tls.kafka_node_facts',)


def _tasks(node) -> Iterator[dict]:
    """Every task of a task file or playbook, blocks and plays included."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if any(k in node for k in ('tasks', 'pre_tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always')):
            for key in ('tasks', 'pre_tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always'):
                yield from _tasks(node.get(key) or [])
        if 'hosts' not in node:
            yield node


def _module(task: dict, names: tuple):
    return next((task[n] for n in names if n in task), None)


def properties_reads() -> List[Tuple[str, dict, List[dict]]]:
    """(file, slurp task of a .properties file, set_fact tasks of the same file that use its result)."""
    found = []
    for path in TASK_FILES:
        tasks = list(_tasks(yaml.safe_load(path.read_text()) or []))
        for task in tasks:
            args = _module(task, SLURP)
            if not isinstance(args, dict) or not CONFIG_FILE.search(str(args.get('src', ''))):
                continue
            register = task.get('register')
            users = [t for t in tasks if _module(t, SET_FACT) is not None and register
                     and re.search(r'\b%s\b' % re.escape(register), yaml.safe_dump(_module(t, SET_FACT)))
                     and not any(f in yaml.safe_dump(_module(t, SET_FACT)) for f in SECRET_FREE)]
            found.append((str(path.relative_to(REPO)), task, users))
    return found


def test_the_roles_read_properties_files():
    # The scan finds what it is meant to find: playbooks/zookeeper.yml reads a file with slurp (a scan
    # that finds nothing would pass whatever the tasks say). The broker role, the rolling restart, the
    # rollback and the ZooKeeper role read their files inside kafkasec.tls.broker_config,
    # kafkasec.tls.pending_restart, kafkasec.tls.backup and kafkasec.tls.zookeeper_config, which return
    # no value of the file.
    files = {f for f, _task, _users in properties_reads()}
    assert {'playbooks/zookeeper.yml'} <= files, files
    assert not {'roles/broker/tasks/validate.yml', 'roles/rolling_restart/tasks/node.yml', 'playbooks/rollback.yml',
                'roles/zookeeper/tasks/validate.yml'} & files


def test_every_read_of_a_properties_file_hides_its_result():
    leaks = []
    for path, task, users in properties_reads():
        for t in [task, *users]:
            if t.get('no_log') is not True:
                leaks.append('%s: task %r' % (path, t.get('name')))
    assert not leaks, 'these tasks would print the store passwords with -v; set no_log: true:\n' + '\n'.join(leaks)
