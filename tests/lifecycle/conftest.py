# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lifecycle suite: certificate lifecycle playbooks on a real lab. Run as root, on a lab instance of
its own:

    KAFKASEC_TEST_LAB_INSTANCE=N tests/lab_suites.sh lifecycle

The lab is one combined node (broker and the only controller) plus one broker-only node and the CA host:
the smallest estate with both kinds of node, so a test sees a node that rolls and one that reloads live.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import Site, lab_session, lab_status, labctl  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def lab():
    for status in lab_session(brokers=1):
        if not any(h['name'].startswith('kafka-2.') for h in status['hosts']):
            labctl('add-host', 'kafka-2')  # broker-only
            status = lab_status()
        yield status


@pytest.fixture(scope='session')
def site(lab, tmp_path_factory):
    site = Site(lab, tmp_path_factory.mktemp('site'))
    run = site.run()
    assert run.rc == 0, run.describe()
    site.refresh()
    return site
