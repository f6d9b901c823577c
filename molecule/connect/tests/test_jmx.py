# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Connect worker's JMX (playbooks/jmx.yml in converge, its rerun in idempotence), checked from outside with a
real JMX client over TLS with a password (roles/jmx/files/JmxCheck.java, tests/jmxclient.py): the monitoring
user (the role's default viewer, password generated, from the JMX bundle) reads a Connect worker metric through the
JMX guard and is refused a DiagnosticCommand operation; a wrong password and an anonymous login are refused; the
worker's JVM carries the options and no secret; its JMX files are owner-only."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'tests'))
from jmxclient import DCMD, GUARD_REFUSAL, JmxClient  # noqa: E402  pylint: disable=wrong-import-position

WORKER_METRICS = 'kafka.connect:type=connect-worker-metrics'


@pytest.fixture(scope='module')
def jmx(lab, worker, tmp_path_factory) -> JmxClient:
    return JmxClient(tmp_path_factory.mktemp('jmx'), lab.pki_dir(worker.host) / 'ca-chain.crt', worker.host)


@pytest.fixture(scope='module')
def monitor(lab) -> Path:
    return Path(lab.vars['kafkasec_lab_home']) / 'jmx-bundle' / 'monitor.properties'


def test_viewer_reads_a_worker_metric_and_is_refused_diagnostic_commands(jmx, monitor):
    metric, vm_version, can = jmx.session(monitor, ('get', WORKER_METRICS, 'connector-count'),
                                          ('invoke', DCMD, 'vmVersion'), ('can', DCMD, 'vmVersion'))
    assert metric[0] == 'OK' and metric[1].replace('.', '', 1).isdigit(), metric
    assert vm_version[0] == 'DENIED' and GUARD_REFUSAL in vm_version[1], vm_version
    assert can == ('OK', 'false'), can


def test_wrong_password_and_anonymous_are_refused(jmx, monitor):
    assert 'Invalid username or password' in jmx.refused('wrong-password', credentials=monitor)
    assert 'Credentials required' in jmx.refused('anonymous')


def test_worker_jvm_has_the_jmx_options_and_no_secret(worker, monitor):
    cmdline = Path('/proc/%d/cmdline' % worker.pid()).read_bytes().replace(b'\0', b' ').decode()
    jmx_dir = worker.root / 'etc' / 'jmx'
    assert '-Dcom.sun.management.config.file=%s/management.properties' % jmx_dir in cmdline
    assert '-Djava.rmi.server.hostname=%s' % worker.host in cmdline
    assert '-Djavax.management.builder.initial=io.kafkasec.jmxguard.GuardMBeanServerBuilder' in cmdline
    password = dict(line.split('=', 1) for line in monitor.read_text().splitlines() if '=' in line)['password']
    assert password and password not in cmdline and 'jmxremote.port' not in cmdline


def test_worker_jmx_files_owner_only(worker):
    uid = worker.root.stat().st_uid
    jmx_dir = worker.root / 'etc' / 'jmx'
    assert (stat.S_IMODE(jmx_dir.stat().st_mode), jmx_dir.stat().st_uid) == (0o700, uid)
    for name in ('management.properties', 'jmxremote.password', 'jmxremote.access', 'jmxremote-ssl.properties',
                 'kafkasec-jmx-guard.jar', 'guard/jmx.users.cfg'):
        st = (jmx_dir / name).stat()
        assert (name, stat.S_IMODE(st.st_mode), st.st_uid) == (name, 0o600, uid)
