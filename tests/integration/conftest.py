# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration session: a real three-node KRaft lab (lab/labctl) and playbooks/site.yml run on it.

Run as root (the lab creates users, writes /etc/hosts and starts sshd):

    .venv/bin/python -m pytest tests/integration -m lab

The `lab` fixture creates the lab and destroys it at the end (KAFKASEC_LAB_KEEP=1 keeps it).
A lab that is already there belongs to someone else: the session stops instead of changing it,
unless KAFKASEC_LAB_REUSE=1 (then it is used and left in place). The `site` fixture runs
site.yml on it; `rollout` is its first run (the TLS rollout), done once for the tests that need it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Shared with tests/security (tests/labkit.py); re-exported for the test modules of this suite.
from labkit import (  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
    CA_DIR_IN_HOST_ROOT, COLLECTIONS, client_material, grant_test_client_acls, LABCTL, REPO, SITE, SSL_PORT, VENV_BIN,
    PlaybookRun, Site,
    ensure_collection_link, kafka_processes, lab_session, lab_status, labctl, make_client_cert,
    parse_recap, tree_digest)


@pytest.fixture(scope='session')
def lab():
    yield from lab_session(brokers=3)


@pytest.fixture(scope='session')
def site(lab, tmp_path_factory):
    """Runs site.yml on the lab; nothing has run yet."""
    return Site(lab, tmp_path_factory.mktemp('site'))


@pytest.fixture(scope='session')
def rollout(site):
    """site.yml, run once on the PLAINTEXT lab: the TLS rollout the later tests look at."""
    if site.first is None:
        site.first = site.run()
        site.refresh()
    return site


@pytest.fixture(scope='session')
def tls(rollout, tmp_path_factory):
    """The CA certificate and a client certificate for talking to the brokers."""
    workdir = tmp_path_factory.mktemp('client')
    grant_test_client_acls(rollout, workdir)  # the authorizer is on by default
    return client_material(rollout, workdir)


# The rolling-restart tests restart and break brokers: they run after every other test of the session,
# whatever the file names, so the rollout tests see the cluster site.yml left.
def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: 'test_rolling_restart' in item.nodeid)
