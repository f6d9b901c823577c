# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the sasl scenario's verify step: the lab (molecule/shared/tests/kafkalab.py), its CA,
the SASL_SSL listener of each broker and the users of vars.yml (the passwords the converge set).

Standalone, as root, after a converge of the scenario:

    KAFKASEC_LAB_INVENTORY=lab/run-N/inventory.yml .venv/bin/python -m pytest -p no:cacheprovider molecule/sasl/tests
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'tests'
sys.path.insert(0, str(SHARED))
import kafkalab  # noqa: E402  pylint: disable=wrong-import-position

# The shared verifier's lab and CA fixtures (and its standalone inventory set-up), without its
# per-host parametrisation: loaded under another module name, since this file is a conftest too.
_shared = kafkalab.shared_conftest()
lab = _shared.lab
ca = _shared.ca
pytest_configure = _shared.pytest_configure

VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / 'vars.yml').read_text())


@pytest.fixture(scope='session')
def broker(lab) -> str:
    assert lab.brokers, 'the lab inventory %s has no brokers' % lab.path
    return lab.brokers[0]


@pytest.fixture(scope='session')
def sasl(lab, broker) -> kafkalab.Listener:
    """The broker's advertised SASL_SSL listener."""
    found = [lsn for lsn in lab.listeners(broker) if lsn.protocol == 'SASL_SSL']
    assert len(found) == 1, 'advertised listeners of %s: %s' % (broker, lab.listeners(broker))
    return found[0]


@pytest.fixture(scope='session')
def scram_users():
    return {u['name']: u for u in VARS['kafkasec_broker_scram_users']}


@pytest.fixture(scope='session')
def plain_users():
    return dict(VARS['kafkasec_broker_sasl_plain_users'])
