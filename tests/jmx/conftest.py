# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JMX suite: kafkasec.tls.jmx (playbooks/jmx.yml) on a real KRaft node, checked from outside with real JMX
clients - Kafka's own org.apache.kafka.tools.JmxTool (--jmx-ssl-enable, --jmx-auth-prop, through the client
bundle's jmxtool.sh) and roles/jmx/files/JmxCheck.java (compiled once here). Run as root, on a lab instance of
its own:

    KAFKASEC_TEST_LAB_INSTANCE=N tests/lab_suites.sh jmx

One combined KRaft node and the CA host. The `jmx` fixture rolls TLS out with site.yml, then runs jmx.yml with a
viewer (role viewer), a manager (group operators: viewer and manager) and an admin (group admins), all with
generated passwords, the JMX guard on (the role's default) with two rules for the manager (GUARD: a wildcard rule
and an argument rule; users and groups derived from kafkasec_jmx_users/_groups), and the client bundle in the
test's directory; the node restarts once, through the rolling restart engine.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import REPO, Site, lab_session  # noqa: E402  pylint: disable=wrong-import-position

JMX_PLAYBOOK = REPO / 'playbooks' / 'jmx.yml'
JMX_CHECK = REPO / 'roles' / 'jmx' / 'files' / 'JmxCheck.java'
PORT = 9999
USERS = [{'name': 'viewer', 'roles': ['viewer']}, {'name': 'manager', 'groups': ['operators']},
         {'name': 'admin', 'groups': ['admins']}]
GROUPS = {'admins': ['admin'], 'viewers': ['viewer'], 'operators': ['viewer', 'manager']}
THREADING = 'java.lang:type=Threading'
LOG4J = 'kafka:type=kafka.Log4jController'
# The manager's grants: a wildcard rule (reset* on Threading) and an argument rule (setLogLevel of a kafka.*
# logger to INFO or WARN); everything else is the guard's defaults (viewer reads, admin the rest).
GUARD = {'rules': [{'mbean': THREADING, 'operations': {'reset*': ['manager']}},
                   {'mbean': LOG4J, 'operations': {'setLogLevel(/kafka\\..*/, /INFO|WARN/)': ['manager']}}]}


@dataclass
class JmxLab:
    site: Site
    node: dict
    bundle: Path
    classes: Path
    pid_before: int
    first: object

    @property
    def url(self) -> str:
        return 'service:jmx:rmi:///jndi/rmi://%s:%d/jmxrmi' % (self.node['name'], PORT)

    @property
    def ca(self) -> Path:
        return Path(self.node['root']) / 'pki' / 'ca-chain.crt'

    @property
    def jmx_dir(self) -> Path:
        return Path(self.node['root']) / 'etc' / 'jmx'

    @property
    def kafka_home(self) -> Path:
        return Path(self.site.status['root']) / 'kafka'

    def args(self, **extra) -> List[str]:
        import json
        values = {'kafkasec_jmx_users': USERS, 'kafkasec_jmx_groups': GROUPS, 'kafkasec_jmx_guard': GUARD,
                  'kafkasec_jmx_bundle_dir': str(self.bundle)}
        values.update(extra)
        return ['-e', json.dumps(values)]

    def run_jmx(self, **extra):
        return self.site.run(*self.args(**extra), playbook=JMX_PLAYBOOK)

    def pid(self) -> int:
        return self.site.processes()[self.node['name']][0]

    def check(self, *args: str, credentials: str = None, timeout: float = 120,
              input: str = None) -> subprocess.CompletedProcess:  # pylint: disable=redefined-builtin
        """JmxCheck against the node (compiled class; --ca with the CA PEM, never a password argument)."""
        cmd = ['java', '-Xmx64m', '-XX:TieredStopAtLevel=1', '-cp', str(self.classes), 'JmxCheck', '--ca',
               str(self.ca), '--url', self.url]
        if credentials:
            cmd += ['--credentials', str(self.bundle / ('%s.properties' % credentials))]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                              input=input if input is not None else '')

    def session(self, user: str, *calls: tuple, timeout: float = 120) -> List[tuple]:
        """One JmxCheck login as `user` and one JMX call per tuple (JmxCheck's session protocol: get, invoke, can);
        returns (status, text) per call, status OK, DENIED (a SecurityException) or ERROR."""
        lines = ''.join('\t'.join(c) + '\n' for c in calls)
        p = self.check('session', credentials=user, timeout=timeout, input=lines)
        answers = [tuple(line.split(' ', 1) + [''])[:2] for line in p.stdout.splitlines()]
        assert p.returncode == 0 and len(answers) == len(calls), p.stdout + p.stderr
        return answers

    def jmxtool(self, user: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bundle / 'jmxtool.sh'), user, self.url, *args], capture_output=True,
                              text=True, timeout=timeout, env={'PATH': '/usr/bin:/bin', 'KAFKA_HOME': str(self.kafka_home)})

    def credentials(self, user: str) -> Dict[str, str]:
        lines = (self.bundle / ('%s.properties' % user)).read_text().splitlines()
        return dict(line.split('=', 1) for line in lines if '=' in line)


@pytest.fixture(scope='session')
def lab():
    yield from lab_session(brokers=1)


@pytest.fixture(scope='session')
def jmx(lab, tmp_path_factory) -> JmxLab:
    work = tmp_path_factory.mktemp('jmx')
    classes = work / 'classes'
    subprocess.run(['javac', '-nowarn', '-d', str(classes), str(JMX_CHECK)], check=True, capture_output=True,
                   timeout=300)
    site = Site(lab, work)
    rollout = site.run()
    assert rollout.rc == 0, rollout.describe()
    site.refresh()
    node = site.kafka_hosts()[0]
    pid_before = site.processes()[node['name']][0]
    jl = JmxLab(site, node, work / 'bundle', classes, pid_before, None)
    jl.first = jl.run_jmx()
    assert jl.first.rc == 0, jl.first.describe()
    return jl
