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

    def run(self, *extra: str, inventories: tuple = ()) -> PlaybookRun:
        ensure_collection_link()
        args = ['-i', self.status['inventory']]
        for inv in inventories:
            args += ['-i', str(inv)]
        args += [str(SITE), *extra]
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
        log_file = self.workdir / ('site-run-%d.log' % len(self.runs))
        log_file.write_text(result.output)
        print('site.yml run %d: rc=%d in %.1fs (log %s)' % (len(self.runs), result.rc, result.seconds, log_file))
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
