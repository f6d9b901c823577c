# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the authz scenario's verify step: the lab (molecule/shared/tests/kafkalab.py), the client bundles
acls.yml wrote (inventory.yml), and an admin client as the broker itself (its own principal is a super user).

Standalone, as root, after a converge of the scenario:

    KAFKASEC_LAB_INVENTORY=lab/run-N/inventory.yml .venv/bin/python -m pytest -p no:cacheprovider molecule/authz/tests
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'tests'
sys.path.insert(0, str(SHARED))
import kafkalab  # noqa: E402  pylint: disable=wrong-import-position

_shared = kafkalab.shared_conftest()
lab = _shared.lab
pytest_configure = _shared.pytest_configure

SCENARIO_INVENTORY = Path(__file__).resolve().parents[1] / 'inventory.yml'
TOPIC = 'test_secure_topic'
GROUP = 'secure_group'


@pytest.fixture(scope='session')
def declared():
    """kafkasec_acls_principals of inventory.yml."""
    return yaml.safe_load(SCENARIO_INVENTORY.read_text())['all']['vars']['kafkasec_acls_principals']


def _bundle(lab, name: str) -> kafkalab.Bundle:
    return kafkalab.Bundle(Path(lab.vars['kafkasec_lab_home']) / 'client-bundles' / name, name)


@pytest.fixture(scope='session')
def secure(lab) -> kafkalab.Bundle:
    return _bundle(lab, 'secure_user')


@pytest.fixture(scope='session')
def insecure(lab) -> kafkalab.Bundle:
    return _bundle(lab, 'insecure_user')


@pytest.fixture(scope='session')
def node_admin(lab):
    """confluent-kafka AdminClient as the broker (its certificate from its PKI directory, read as root)."""
    from confluent_kafka.admin import AdminClient
    broker = lab.brokers[0]
    pki = lab.pki_dir(broker)
    return AdminClient({'bootstrap.servers': lab.bootstrap([broker]), 'security.protocol': 'SSL',
                        'ssl.ca.location': str(pki / 'ca-chain.crt'),
                        'ssl.certificate.location': str(pki / ('%s.crt' % broker)),
                        'ssl.key.location': str(pki / ('%s.key' % broker)),
                        'ssl.endpoint.identification.algorithm': 'https'})
