# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the jmx scenario's verify step: the converged lab (molecule/shared/tests/kafkalab.py and
tests/labkit.py's playbook runner), the scenario's users and guard rules (inventory.yml), the monitoring bundle
jmx.yml wrote below the lab's root, and real JMX clients: Kafka's own org.apache.kafka.tools.JmxTool (--jmx-ssl-enable,
--jmx-auth-prop, through the bundle's jmxtool.sh) and roles/jmx/files/JmxCheck.java (tests/jmxclient.py).

Standalone, as root, after a converge of the scenario (the last test leaves need.client.auth on: converge again
before another standalone run):

    KAFKASEC_LAB_INSTANCE=N KAFKASEC_LAB_INVENTORY=lab/run-N/inventory.yml \\
        .venv/bin/python -m pytest -p no:cacheprovider molecule/jmx/tests
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'tests'
TESTS = Path(__file__).resolve().parents[3] / 'tests'
sys.path.insert(0, str(SHARED))
sys.path.insert(0, str(TESTS))
import kafkalab  # noqa: E402  pylint: disable=wrong-import-position
import labkit  # noqa: E402  pylint: disable=wrong-import-position
from jmxclient import GUARD_REFUSAL, JmxClient  # noqa: E402,F401  pylint: disable=wrong-import-position

_shared = kafkalab.shared_conftest()
lab = _shared.lab
ca = _shared.ca
pytest_configure = _shared.pytest_configure

SCENARIO_INVENTORY = Path(__file__).resolve().parents[1] / 'inventory.yml'
SCENARIO_VARS = yaml.safe_load(SCENARIO_INVENTORY.read_text())['all']['vars']
USERS = SCENARIO_VARS['kafkasec_jmx_users']
GUARD = SCENARIO_VARS['kafkasec_jmx_guard']
JMX_PLAYBOOK = labkit.REPO / 'playbooks' / 'jmx.yml'
PORT = 9999


@dataclass
class JmxLab:
    """The converged node's JMX port, the monitoring bundle, and jmx.yml runs with the scenario's inventory."""
    site: labkit.Site
    node: dict
    bundle: Path
    client: JmxClient

    @property
    def url(self) -> str:
        return self.client.url

    @property
    def jmx_dir(self) -> Path:
        return Path(self.node['root']) / 'etc' / 'jmx'

    @property
    def kafka_home(self) -> Path:
        return Path(self.site.status['root']) / 'kafka'

    def run(self, *extra: str, playbook: Path = JMX_PLAYBOOK) -> labkit.PlaybookRun:
        return self.site.run(*extra, inventories=(SCENARIO_INVENTORY,), playbook=playbook)

    def run_jmx(self, **extra) -> labkit.PlaybookRun:
        """jmx.yml as converge ran it, with `extra` as extra vars (JSON) on top of inventory.yml."""
        return self.run(*(['-e', json.dumps(extra)] if extra else []))

    def pid(self) -> int:
        return self.site.processes()[self.node['name']][0]

    def check(self, *args: str, credentials: str = None, **kw) -> subprocess.CompletedProcess:
        """JmxCheck against the node, logged in as a user of the bundle (<user>.properties) when given."""
        path = self.bundle / ('%s.properties' % credentials) if credentials else None
        return self.client.run(*args, credentials=path, **kw)

    def session(self, user: str, *calls: Tuple[str, ...]) -> List[Tuple[str, str]]:
        """One JmxCheck login as `user`, one JMX call per tuple (get, invoke, can); (status, text) per call,
        status OK, DENIED (a SecurityException) or ERROR."""
        return self.client.session(self.bundle / ('%s.properties' % user), *calls)

    def jmxtool(self, user: str, *args: str, bundle: Path = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Kafka's JmxTool through the bundle's jmxtool.sh (the lab's Kafka as KAFKA_HOME)."""
        return subprocess.run([str((bundle or self.bundle) / 'jmxtool.sh'), user, self.url, *args],
                              capture_output=True, text=True, timeout=timeout,
                              env={'PATH': '/usr/bin:/bin', 'KAFKA_HOME': str(self.kafka_home)})

    def credentials(self, user: str) -> Dict[str, str]:
        lines = (self.bundle / ('%s.properties' % user)).read_text().splitlines()
        return dict(line.split('=', 1) for line in lines if '=' in line)


@pytest.fixture(scope='session')
def jmx(lab, tmp_path_factory) -> JmxLab:
    status = labkit.lab_status()
    assert status, 'no lab (labctl status): converge the scenario first'
    work = tmp_path_factory.mktemp('jmx')
    site = labkit.Site(status, work)
    node = site.kafka_hosts()[0]
    client = JmxClient(work, Path(node['root']) / 'pki' / 'ca-chain.crt', node['name'], PORT)
    return JmxLab(site, node, Path(lab.vars['kafkasec_lab_home']) / 'jmx-bundle', client)
