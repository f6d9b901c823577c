# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security suite: the collection's promises (README, "What the collection guarantees"), each
checked against a real lab. Run as root, on a lab instance of its own:

    KAFKASEC_TEST_LAB_INSTANCE=N tests/lab_suites.sh security

One combined KRaft node and the CA host are enough for every promise here (a listener refuses or
accepts the same way on one node as on three), so the session's lab is that small. The `rollout`
fixture rolls TLS out with site.yml -vvv --diff and runs it once more on the converged lab; both
logs are kept for the secret check. The modules run in the order below: the ones that only look
first, the ones that change a store by hand (and put it back) last.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import Site, client_material, grant_test_client_acls, lab_session  # noqa: E402  pylint: disable=wrong-import-position

ORDER = ['test_secrets', 'test_file_modes', 'test_check_mode', 'test_listeners', 'test_authorisation', 'test_bad_input',
         'test_verify_wrong_name', 'test_interrupted_write']


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        module = Path(str(item.fspath)).stem
        return ORDER.index(module) if module in ORDER else len(ORDER)
    items.sort(key=rank)


@pytest.fixture(scope='session')
def lab():
    yield from lab_session(brokers=1)


@pytest.fixture(scope='session')
def site(lab, tmp_path_factory):
    return Site(lab, tmp_path_factory.mktemp('site'))


@pytest.fixture(scope='session')
def rollout(site):
    """site.yml -vvv --diff on the PLAINTEXT lab (the rollout), then once more on the converged lab."""
    if site.first is None:
        site.first = site.run('-vvv', '--diff')
        assert site.first.rc == 0, site.first.describe()
        site.second = site.run('-vvv', '--diff')
        assert site.second.rc == 0, site.second.describe()
        site.refresh()
    return site


@pytest.fixture(scope='session')
def tls(rollout, tmp_path_factory):
    """The lab CA certificate and client certificates: a good one, one from another CA, an expired one."""
    workdir = tmp_path_factory.mktemp('client')
    grant_test_client_acls(rollout, workdir)  # the authorizer is on by default
    return client_material(rollout, workdir, bad=True)
