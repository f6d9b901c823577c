# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify step of Molecule rotate_ca: the lab Molecule made (one combined node, one broker-only node,
the CA host) after converge, driven with tests/labkit.py (playbook runs with their PLAY RECAP, client
certificates, openssl s_client). Standalone, as root, on such a lab after site.yml:

    KAFKASEC_LAB_INSTANCE=N .venv/bin/python -m pytest -s -p no:cacheprovider molecule/rotate_ca/tests
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'tests'))

from labkit import Site, lab_status  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def site(tmp_path_factory):
    status = lab_status()
    assert status, 'no lab: Molecule create and converge make it (or lab/labctl up --brokers 1; add-host kafka-2)'
    names = sorted(h['name'].split('.')[0] for h in status['hosts'] if 'kafka' in h)
    assert names == ['kafka-1', 'kafka-2'], names
    return Site(status, tmp_path_factory.mktemp('site'))
