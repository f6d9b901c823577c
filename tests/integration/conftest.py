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

import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
LABCTL = REPO / 'lab' / 'labctl'
SITE = REPO / 'playbooks' / 'site.yml'
VENV_BIN = Path(sys.executable).parent
COLLECTIONS = REPO / '.build' / 'collections'

# The CA files on the CA host, below its root (kafkasec_ca_dir above, the CA role's file names).
CA_DIR_IN_HOST_ROOT = Path('pki') / 'ca'

_RECAP = re.compile(
    r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
    r'\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)',
    re.MULTILINE)


def labctl(*args: str, timeout: int = 900, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, str(LABCTL), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError('labctl %s failed (rc=%d):\n%s' % (' '.join(args), p.returncode, p.stdout))
    return p


def lab_status() -> Optional[dict]:
    """`labctl status --json`, or None when there is no lab."""
    p = subprocess.run([sys.executable, str(LABCTL), 'status', '--json'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    return json.loads(p.stdout) if p.returncode == 0 else None


def parse_recap(output: str) -> Dict[str, Dict[str, int]]:
    start = output.rfind('PLAY RECAP')
    if start < 0:
        return {}
    return {m.group('host'): {k: int(v) for k, v in m.groupdict().items() if k != 'host'}
            for m in _RECAP.finditer(output[start:])}


@dataclass
class PlaybookRun:
    args: List[str]
    rc: int
    output: str
    seconds: float

    @property
    def recap(self) -> Dict[str, Dict[str, int]]:
        return parse_recap(self.output)

    def describe(self) -> str:
        return 'ansible-playbook %s -> rc=%d in %.1fs\n%s' % (
            ' '.join(self.args), self.rc, self.seconds, self.output[-15000:])


class Site:
    """Runs playbooks/site.yml against the lab's inventory (which sets the kafkasec_* variables)."""

    def __init__(self, status: dict, workdir: Path):
        self.status = status
        self.workdir = workdir
        self.runs: List[PlaybookRun] = []
        self.first: Optional[PlaybookRun] = None

    def run(self, *extra: str, inventories: tuple = (), playbook: Path = SITE) -> PlaybookRun:
        ensure_collection_link()
        args = ['-i', self.status['inventory']]
        for inv in inventories:
            args += ['-i', str(inv)]
        args += [str(playbook), *extra]
        env = dict(os.environ,
                   ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
                   ANSIBLE_PIPELINING='1',
                   ANSIBLE_NOCOLOR='1',
                   ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_DEPRECATION_WARNINGS='1')
        t0 = time.monotonic()
        p = subprocess.run([str(VENV_BIN / 'ansible-playbook'), *args], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env, timeout=900)
        result = PlaybookRun(args, p.returncode, p.stdout, time.monotonic() - t0)
        self.runs.append(result)
        log_file = self.workdir / ('%s-run-%d.log' % (playbook.stem, len(self.runs)))
        log_file.write_text(result.output)
        print('%s run %d: rc=%d in %.1fs (log %s)' % (playbook.name, len(self.runs), result.rc, result.seconds, log_file))
        return result

    # -- what the tests look at ------------------------------------------------------------
    def kafka_hosts(self) -> List[dict]:
        return [h for h in self.status['hosts'] if 'kafka' in h]

    def host(self, name: str) -> dict:
        return next(h for h in self.status['hosts'] if h['name'] == name)

    def ca_host(self) -> dict:
        return next(h for h in self.status['hosts'] if h['role'] == 'ca')

    def ca_file(self, name: str) -> Path:
        return Path(self.ca_host()['root']) / CA_DIR_IN_HOST_ROOT / name

    def refresh(self) -> dict:
        self.status = lab_status()
        return self.status

    def processes(self) -> Dict[str, tuple]:
        return kafka_processes(self.refresh())

    def digest(self) -> Dict[str, tuple]:
        return tree_digest(self.refresh())


def ensure_collection_link() -> None:
    """What `make link` does: kafkasec.tls resolvable from .build/collections."""
    link = COLLECTIONS / 'ansible_collections' / 'kafkasec' / 'tls'
    if link.exists():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(REPO, target_is_directory=True)


def kafka_processes(status: dict) -> Dict[str, tuple]:
    """host -> (pid, start time in clock ticks since boot) of its Kafka JVM."""
    out = {}
    for h in status['hosts']:
        if 'kafka' not in h:
            continue
        pid = h['kafka']['pid']
        start = None
        if pid:
            with open('/proc/%d/stat' % pid) as f:
                start = int(f.read().rsplit(')', 1)[1].split()[19])
        out[h['name']] = (pid, start)
    return out


def tree_digest(status: dict, parts=('etc', 'pki')) -> Dict[str, tuple]:
    """path -> (sha256, mode, uid, gid) of every file and directory under each host's etc/ and pki/."""
    out = {}
    for h in status['hosts']:
        for part in parts:
            top = Path(h['root']) / part
            if not top.exists():
                continue
            for path in sorted([top, *top.rglob('*')]):
                st = path.lstat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else 'dir'
                out[str(path)] = (digest, st.st_mode, st.st_uid, st.st_gid)
    return out


@pytest.fixture(scope='session')
def lab():
    if os.geteuid() != 0:
        pytest.fail('the integration tests need root: the lab creates users, edits /etc/hosts and starts sshd')
    existing = lab_status()
    reuse = os.environ.get('KAFKASEC_LAB_REUSE') == '1'
    if existing and not reuse:
        pytest.fail('a lab already exists at %s; these tests change it (TLS rollout), so they do not '
                    'use a lab they did not create. Destroy it (lab/labctl destroy) or set '
                    'KAFKASEC_LAB_REUSE=1.' % existing['root'])
    t0 = time.monotonic()
    labctl('up') if existing else labctl('up', '--brokers', '3')
    print('lab up in %.1fs (%s)' % (time.monotonic() - t0, 'reused' if existing else 'created'))
    try:
        yield lab_status()
    finally:
        if os.environ.get('KAFKASEC_LAB_KEEP') != '1' and not existing:
            labctl('destroy', timeout=300)


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


def make_client_cert(site, workdir: Path):
    """A client key and certificate (clientAuth) issued by the lab CA, read as root from the CA host."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate(site.ca_file('ca.crt').read_bytes())
    ca_key = serialization.load_pem_private_key(site.ca_file('ca.key').read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kafkasec-test-client')]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt_path, key_path = workdir / 'client.crt', workdir / 'client.key'
    crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return crt_path, key_path


@pytest.fixture(scope='session')
def tls(rollout, tmp_path_factory):
    site = rollout
    """The CA certificate and a client certificate for talking to the brokers."""
    work = tmp_path_factory.mktemp('client')
    site.ca_pem = work / 'ca.crt'
    site.ca_pem.write_bytes(site.ca_file('ca.crt').read_bytes())
    site.client_cert = make_client_cert(site, work)
    return site


# The rolling-restart tests restart and break brokers: they run after every other test of the session,
# whatever the file names, so the rollout tests see the cluster site.yml left.
def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: 'test_rolling_restart' in item.nodeid)
