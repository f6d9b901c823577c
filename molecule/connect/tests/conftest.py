# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the connect scenario's verify step: the lab (molecule/shared/tests/kafkalab.py), the
Connect worker on the lab's client host, and the client bundle written on the control node.

Standalone, as root, against a converged lab: .venv/bin/python -m pytest -p no:cacheprovider molecule/connect/tests
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'tests'
sys.path.insert(0, str(SHARED))

import kafkalab  # noqa: E402  pylint: disable=wrong-import-position

SCENARIO_INVENTORY = Path(__file__).resolve().parents[1] / 'inventory.yml'

# The shared checks' conftest, under a name of its own: its inventory hook and its lab fixture.
_shared = kafkalab.shared_conftest()
pytest_configure = _shared.pytest_configure
lab = _shared.lab


@dataclass
class Worker:
    host: str
    address: str
    user: str
    root: Path
    rest_port: int

    @property
    def properties(self) -> dict:
        return kafkalab.parse_properties((self.root / 'etc' / 'connect-distributed.properties').read_text())

    @property
    def rest_url(self) -> str:
        return 'https://%s:%d' % (self.host, self.rest_port)

    def pid(self) -> int:
        pid = int((self.root / 'run' / 'connect.pid').read_text().strip())
        assert Path('/proc/%d' % pid).exists(), 'the worker (pid %d) is not running' % pid
        return pid


@pytest.fixture(scope='session')
def worker(lab) -> Worker:
    """The lab's client host that prepare.yml made the Connect worker (group kafka_connect of inventory.yml)."""
    (host,) = lab.group('kafka_client')
    return Worker(host, lab.address(host), lab.user(host), lab.root(host), 8443)


@pytest.fixture(scope='session')
def bundle(lab) -> kafkalab.Bundle:
    """The client bundle of inventory.yml's kafkasec_client_bundle_clients, on the control node."""
    (client,) = yaml.safe_load(SCENARIO_INVENTORY.read_text())['all']['vars']['kafkasec_client_bundle_clients']
    return kafkalab.Bundle(Path(lab.vars['kafkasec_lab_home']) / 'client-bundles' / client['name'], client['name'])
