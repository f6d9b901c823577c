# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZooKeeper's JMX (playbooks/jmx.yml in converge, its rerun in idempotence), checked from outside with a real JMX
client over TLS with a password (roles/jmx/files/JmxCheck.java, tests/jmxclient.py): the monitoring user (the
role's default viewer, password generated, from the JMX bundle) reads ZooKeeper's own server MBean through the JMX
guard and is refused a DiagnosticCommand operation; a wrong password, an anonymous login and a plain registry lookup
are refused; zkServer.sh's way (JMXDISABLE, SERVER_JVMFLAGS appended to, the JAAS option kept) is what the JVM
runs with; the JMX files are owner-only."""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'tests'))
from jmxclient import DCMD, GUARD_REFUSAL, JmxClient  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='module')
def zk(lab) -> str:
    return lab.group('zookeeper')[0]   # the first server of the ensemble


@pytest.fixture(scope='module')
def jmx(lab, zk, tmp_path_factory) -> JmxClient:
    return JmxClient(tmp_path_factory.mktemp('jmx'), lab.pki_dir(zk) / 'ca-chain.crt', zk)


@pytest.fixture(scope='module')
def monitor(lab) -> Path:
    return Path(lab.vars['kafkasec_lab_home']) / 'jmx-bundle' / 'monitor.properties'


def _zk_pid(lab, zk) -> int:
    return int((lab.root(zk) / 'run' / 'zookeeper.pid').read_text().strip())


def test_viewer_reads_zookeepers_server_mbean_and_is_refused_diagnostic_commands(jmx, monitor):
    (names,) = jmx.session(monitor, ('names', 'org.apache.ZooKeeperService:*'))
    assert names[0] == 'OK', names
    # A server of an ensemble: ReplicatedServer_id<myid> (the quorum's bean) and its Leader or Follower bean.
    quorum = re.search(r'org\.apache\.ZooKeeperService:name0=ReplicatedServer_id\d+(?=, |\])', names[1])
    server = re.search(r'org\.apache\.ZooKeeperService:name0=ReplicatedServer_id(\d+),name1=replica\.\1,'
                       r'name2=(Leader|Follower)', names[1])
    assert quorum and server, names
    version, alive, ssl_quorum, unification, vm_version = jmx.session(
        monitor, ('get', server.group(0), 'Version'), ('get', server.group(0), 'NumAliveConnections'),
        ('get', quorum.group(0), 'SslQuorum'), ('get', quorum.group(0), 'PortUnification'),
        ('invoke', DCMD, 'vmVersion'))
    assert version[0] == 'OK' and version[1].startswith('3.8.'), version
    assert alive[0] == 'OK' and int(alive[1]) >= 0, alive  # the broker's session may be on another server
    # The running quorum is TLS only (kafkasec.tls.zookeeper's third roll).
    assert ssl_quorum == ('OK', 'true') and unification == ('OK', 'false'), (ssl_quorum, unification)
    assert vm_version[0] == 'DENIED' and GUARD_REFUSAL in vm_version[1], vm_version


def test_wrong_password_anonymous_and_plain_registry_are_refused(jmx, monitor, zk):
    assert 'Invalid username or password' in jmx.refused('wrong-password', credentials=monitor)
    assert 'Credentials required' in jmx.refused('anonymous')
    assert 'non-JRMP server' in jmx.refused('plain-registry', zk, '9999')


def test_zookeeper_jvm_has_the_jmx_options_and_keeps_its_jaas_file(lab, zk, monitor):
    cmdline = Path('/proc/%d/cmdline' % _zk_pid(lab, zk)).read_bytes().replace(b'\0', b' ').decode()
    jmx_dir = lab.root(zk) / 'etc' / 'jmx'
    assert '-Dcom.sun.management.config.file=%s/management.properties' % jmx_dir in cmdline
    assert '-Djava.rmi.server.hostname=%s' % zk in cmdline
    assert '-Djava.security.auth.login.config=' in cmdline  # kafkasec.tls.zookeeper's SERVER_JVMFLAGS, kept
    assert 'jmxremote.authenticate=false' not in cmdline and 'jmxremote.port' not in cmdline
    password = dict(line.split('=', 1) for line in monitor.read_text().splitlines() if '=' in line)['password']
    assert password and password not in cmdline
    env = (lab.root(zk) / 'etc' / 'zookeeper-jmx.env').read_text()
    assert 'JMXDISABLE=true\n' in env and 'SERVER_JVMFLAGS="${SERVER_JVMFLAGS:+$SERVER_JVMFLAGS }-D' in env


def test_zookeeper_jmx_files_owner_only(lab, zk):
    root = lab.root(zk)
    uid = root.stat().st_uid
    jmx_dir = root / 'etc' / 'jmx'
    assert (stat.S_IMODE(jmx_dir.stat().st_mode), jmx_dir.stat().st_uid) == (0o700, uid)
    for name in ('management.properties', 'jmxremote.password', 'jmxremote.access', 'jmxremote-ssl.properties',
                 'kafkasec-jmx-guard.jar', 'guard/jmx.users.cfg'):
        st = (jmx_dir / name).stat()
        assert (name, stat.S_IMODE(st.st_mode), st.st_uid) == (name, 0o600, uid)
