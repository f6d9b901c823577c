# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: check mode on a converged cluster changes no file and reports changed=0."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab


def test_check_mode_on_a_converged_cluster_changes_nothing(rollout):
    site = rollout
    before = site.digest()
    procs = site.processes()
    # Every managed file: server.properties, keys, certificates, stores, password files, backups, the CA.
    managed = [p for p in before if p.endswith(('server.properties', '.key', '.crt', '.p12', '.password'))]
    assert len(managed) >= 8, sorted(before)
    run = site.run('--check', '--diff')
    assert run.rc == 0, run.describe()
    recap = run.recap
    assert set(h['name'] for h in site.status['hosts']) <= set(recap), recap
    assert all(r['changed'] == 0 and r['failed'] == 0 for r in recap.values()), run.describe()
    assert site.digest() == before, 'check mode changed files'
    assert site.processes() == procs, 'check mode restarted Kafka'
