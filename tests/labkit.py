# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the lab suites share (tests/integration, tests/security): the lab's lifetime, ansible-playbook
runs on it with their PLAY RECAP parsed, digests of every host's files, client certificates and
openssl s_client against a listener.

The suites' conftest.py files put tests/ on sys.path and build their fixtures from these.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import select
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
LABCTL = REPO / 'lab' / 'labctl'
SITE = REPO / 'playbooks' / 'site.yml'
ACLS = REPO / 'playbooks' / 'acls.yml'
VENV_BIN = Path(sys.executable).parent
COLLECTIONS = REPO / '.build' / 'collections'

# The CA files on the CA host, below its root (kafkasec_ca_dir above, the CA role's file names).
CA_DIR_IN_HOST_ROOT = Path('pki') / 'ca'
SSL_PORT = 9093  # the SSL listener the collection adds

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

    def command(self, *extra: str, inventories: tuple = (), playbook: Path = SITE):
        """(argv, env) of an ansible-playbook run on the lab, for a test that runs it itself."""
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
        return [str(VENV_BIN / 'ansible-playbook'), *args], env

    def run(self, *extra: str, inventories: tuple = (), playbook: Path = SITE) -> PlaybookRun:
        argv, env = self.command(*extra, inventories=inventories, playbook=playbook)
        args = argv[1:]
        t0 = time.monotonic()
        p = subprocess.run(argv, stdout=subprocess.PIPE,
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


# The KRaft release tested besides the one lab/pom.xml pins (README: tested versions): the lab suite `versions`
# runs on it (labctl's KAFKASEC_LAB_KAFKA_VERSION fetches it into lab/lib-<version>).
OTHER_KAFKA = '4.3.1'


def lab_session(brokers: int) -> Iterator[dict]:
    """The body of a session `lab` fixture: a new lab of `brokers` combined nodes plus the CA host,
    destroyed at the end (KAFKASEC_LAB_KEEP=1 keeps it). A lab that is already there belongs to
    someone else: the session stops instead of changing it, unless KAFKASEC_LAB_REUSE=1 (then it is
    used and left in place)."""
    if os.geteuid() != 0:
        pytest.fail('the lab tests need root: the lab creates users, edits /etc/hosts and starts sshd')
    existing = lab_status()
    reuse = os.environ.get('KAFKASEC_LAB_REUSE') == '1'
    if existing and not reuse:
        pytest.fail('a lab already exists at %s; these tests change it (TLS rollout), so they do not '
                    'use a lab they did not create. Destroy it (lab/labctl destroy) or set '
                    'KAFKASEC_LAB_REUSE=1.' % existing['root'])
    t0 = time.monotonic()
    labctl('up') if existing else labctl('up', '--brokers', str(brokers))
    print('lab up in %.1fs (%s)' % (time.monotonic() - t0, 'reused' if existing else 'created'))
    try:
        yield lab_status()
    finally:
        if os.environ.get('KAFKASEC_LAB_KEEP') != '1' and not existing:
            labctl('destroy', timeout=300)


def make_client_cert(site, workdir: Path, name: str = 'client', ca: Optional[tuple] = None,
                     days: float = 1.0, common_name: str = 'kafkasec-test-client'):
    """A client key and certificate (clientAuth), written to workdir/<name>.crt and .key.

    Issued by the lab CA (read as root from the CA host) unless ca=(certificate, key) names another
    CA; valid from 5 minutes ago for `days` days, or expired `-days` days ago when days is negative."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if ca is None:
        ca = (x509.load_pem_x509_certificate(site.ca_file('ca.crt').read_bytes()),
              serialization.load_pem_private_key(site.ca_file('ca.key').read_bytes(), password=None))
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    if days >= 0:
        not_before, not_after = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days)
    else:
        not_before, not_after = now + datetime.timedelta(days=days - 30), now + datetime.timedelta(days=days)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt_path, key_path = workdir / ('%s.crt' % name), workdir / ('%s.key' % name)
    crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return crt_path, key_path


# What the tests' client certificate (make_client_cert's CN, principal User:kafkasec-test-client) may do once
# the authorizer is on (the default): the tests' topics (kafkasec-*) and groups (kafkasec-*, loadgen-*).
TEST_CLIENT_ACLS = [dict(
    principal='User:kafkasec-test-client', bundle=False,
    acls=[dict(resource=dict(type='topic', name='kafkasec-', pattern_type='prefixed'),
               operations=['Create', 'Write', 'Read', 'Describe', 'DescribeConfigs']),
          dict(resource=dict(type='group', name='kafkasec-', pattern_type='prefixed'), operations=['Read', 'Describe']),
          dict(resource=dict(type='group', name='loadgen-', pattern_type='prefixed'), operations=['Read', 'Describe'])])]


def grant_test_client_acls(site, workdir: Path) -> 'PlaybookRun':
    """playbooks/acls.yml with TEST_CLIENT_ACLS, as an operator grants a client its ACLs."""
    extra = workdir / 'test-client-acls.yml'
    extra.write_text(json.dumps(dict(kafkasec_acls_principals=TEST_CLIENT_ACLS)))
    run = site.run('-e', '@%s' % extra, playbook=ACLS)
    assert run.rc == 0, run.output[-3000:]
    return run


def client_material(site, workdir: Path, bad: bool = False):
    """site.ca_pem (the lab CA certificate) and site.client_cert (a good client certificate); with bad,
    also site.foreign_cert (from another CA) and site.expired_cert (expired yesterday)."""
    site.ca_pem = workdir / 'ca.crt'
    site.ca_pem.write_bytes(site.ca_file('ca.crt').read_bytes())
    site.client_cert = make_client_cert(site, workdir)
    if bad:
        site.foreign_cert = make_client_cert(site, workdir, name='foreign', ca=make_ca())
        site.expired_cert = make_client_cert(site, workdir, name='expired', days=-1)
    return site


def make_ca(common_name: str = 'kafkasec-test-other-ca'):
    """A throw-away self-signed CA (certificate, key): not the lab's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def api_versions_request(correlation_id: int) -> bytes:
    """A Kafka ApiVersions v0 request (the first thing a client sends), framed."""
    client_id = b'kafkasec-test'
    msg = struct.pack('>hhih', 18, 0, correlation_id, len(client_id)) + client_id
    return struct.pack('>i', len(msg)) + msg


def s_client(site, host: dict, *extra: str, cert: tuple = None, timeout: float = 20.0, port: int = SSL_PORT):
    """openssl s_client to the host's SSL listener (or another port), verifying chain and host name; send an
    ApiVersions request and read the answer. Returns (rc or None if still open, response bytes, stderr)."""
    name = host['name']
    cmd = ['openssl', 's_client', '-connect', '%s:%d' % (host['address'], port),
           '-servername', name, '-verify_hostname', name, '-verify_return_error',
           '-CAfile', str(site.ca_pem), '-quiet', *extra]
    if cert:
        cmd += ['-cert', str(cert[0]), '-key', str(cert[1])]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(api_versions_request(4242))
        p.stdin.flush()
        data = b''
        closed = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    closed = True  # s_client is ending: the connection is gone
                    break
                data += chunk
                if len(data) >= 4 and len(data) >= 4 + struct.unpack('>i', data[:4])[0]:
                    break  # a whole response
            elif p.poll() is not None:
                break
        if closed:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if p.poll() is None:
            p.terminate()
            rc = None
        else:
            rc = p.returncode
        _, err = p.communicate(timeout=10)
        return rc, data, err.decode(errors='replace')
    finally:
        if p.poll() is None:
            p.kill()
