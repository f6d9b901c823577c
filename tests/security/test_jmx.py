# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: the JMX port (kafkasec.tls.jmx, playbooks/jmx.yml) speaks TLS 1.3/1.2 only, lets nobody in without a
valid password, answers no plain RMI registry lookup, and keeps its password, access and ssl config files and the
guard's rules owner-only.

On the suite's lab after the rollout: jmx.yml runs once (role defaults: the guard on, one generated viewer,
the monitoring bundle in the test's directory); the node restarts once through the rolling restart engine. Then,
from outside: openssl s_client with TLS 1.0 and 1.1 (SECLEVEL=0 so this OpenSSL offers them: the refusal is the
JVM's) and the TLS 1.2/1.3 control with the certificate's name verified; roles/jmx/files/JmxCheck.java, a real JMX
client, for the logins and the registry.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jmxclient import JmxClient  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.lab

PORT = 9999
JMX_PLAYBOOK = Path(__file__).resolve().parents[2] / 'playbooks' / 'jmx.yml'


@pytest.fixture(scope='module')
def jmx(rollout, tmp_path_factory):
    work = tmp_path_factory.mktemp('jmx')
    run = rollout.run('-e', '{"kafkasec_jmx_bundle_dir": "%s"}' % (work / 'bundle'), playbook=JMX_PLAYBOOK)
    assert run.rc == 0, run.describe()
    rollout.refresh()
    node = rollout.kafka_hosts()[0]
    client = JmxClient(work, Path(node['root']) / 'pki' / 'ca-chain.crt', node['name'], PORT)
    return node, client, work / 'bundle'


def _s_client(node, ca: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(['openssl', 's_client', '-connect', '%s:%d' % (node['address'], PORT), '-servername',
                           node['name'], '-verify_hostname', node['name'], '-CAfile', str(ca), '-verify_return_error',
                           *args], input='', capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize('version', ['-tls1', '-tls1_1'])
def test_old_tls_is_refused_on_the_jmx_port(jmx, version):
    node, client, _ = jmx
    p = _s_client(node, client.ca, version, '-cipher', 'DEFAULT@SECLEVEL=0')
    assert p.returncode != 0 and 'alert protocol version' in p.stdout + p.stderr, p.stdout[-2000:] + p.stderr[-2000:]
    for good in ('-tls1_2', '-tls1_3'):  # the control: the same port, the certificate's name verified
        ok = _s_client(node, client.ca, good)
        assert ok.returncode == 0 and 'Verify return code: 0 (ok)' in ok.stdout, ok.stdout[-2000:] + ok.stderr[-2000:]


def test_anonymous_and_wrong_password_logins_are_refused(jmx):
    _, client, bundle = jmx
    assert 'Credentials required' in client.refused('anonymous')
    assert 'Invalid username or password' in client.refused('wrong-password', credentials=bundle / 'monitor.properties')
    assert 'non-JRMP server' in client.refused('no-tls', credentials=bundle / 'monitor.properties')
    # the control: the bundle's own password logs in
    (answer,) = client.session(bundle / 'monitor.properties', ('get', 'java.lang:type=Runtime', 'Uptime'))
    assert answer[0] == 'OK', answer


def test_plain_rmi_registry_lookup_is_refused(jmx):
    node, client, _ = jmx
    assert 'non-JRMP server' in client.refused('plain-registry', node['name'], str(PORT))
    control = client.run('registry-tls', node['name'], str(PORT))
    assert control.returncode == 0 and 'jmxrmi' in control.stdout, control.stdout + control.stderr


def test_jmx_files_and_guard_rules_are_owner_only(jmx):
    node, _, _ = jmx
    uid = Path(node['root']).stat().st_uid
    jmx_dir = Path(node['root']) / 'etc' / 'jmx'
    for directory in (jmx_dir, jmx_dir / 'guard'):
        st = directory.stat()
        assert (str(directory), stat.S_IMODE(st.st_mode), st.st_uid) == (str(directory), 0o700, uid)
    files = [jmx_dir / n for n in ('management.properties', 'jmxremote.password', 'jmxremote.access',
                                   'jmxremote-ssl.properties', 'monitor.generated-password', 'kafkasec-jmx-guard.jar')]
    rules = sorted((jmx_dir / 'guard').iterdir())
    assert [r.name for r in rules if r.name == 'jmx.users.cfg'], rules
    for path in files + rules:
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) in (0o600, 0o400) and st.st_uid == uid, \
            '%s: mode %o, uid %d' % (path, stat.S_IMODE(st.st_mode), st.st_uid)
    ssl_config = (jmx_dir / 'jmxremote-ssl.properties').read_text()
    assert 'javax.net.ssl.keyStorePassword=' in ssl_config  # the file that must stay owner-only holds the secret
