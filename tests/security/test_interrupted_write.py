# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: a write killed halfway (SIGKILL) leaves the old file intact, and the next run completes.

The node's keystore is replaced by hand with an outdated one (same key and certificate, another alias),
so that playbooks/pki.yml --tags ca,keystore rewrites it. While it runs, the test watches the PKI
directory; the moment the module's temporary file (.keystore.p12.*.tmp) exists, the module's Python
process on the host is stopped (SIGSTOP, so it cannot finish the rename meanwhile), the temporary
file is confirmed to be still there, and the process gets SIGKILL. The keystore must then be the
outdated file byte for byte; the next run must succeed and write the right keystore.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from labkit import REPO  # pylint: disable=wrong-import-order

pytestmark = pytest.mark.lab

PKI_PLAYBOOK = REPO / 'playbooks' / 'pki.yml'
ATTEMPTS = 10
REFRESH = 0.05  # seconds between two scans of /proc for the module processes


def module_processes(uid: int):
    """Pids of the Python processes (Ansible modules) running as the host's user; never its Kafka JVM."""
    pids = []
    for entry in os.scandir('/proc'):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            argv0 = Path('/proc/%s/cmdline' % entry.name).read_bytes().split(b'\0')[0]
        except OSError:
            continue
        if argv0.endswith(b'/venv/bin/python'):
            pids.append(int(entry.name))
    return pids


def signal_all(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def outdated_keystore(pki: Path, name: str, password: bytes) -> bytes:
    key, cert, chain = pkcs12.load_key_and_certificates((pki / 'keystore.p12').read_bytes(), password)
    return pkcs12.serialize_key_and_certificates(b'outdated', key, cert, chain,
                                                 serialization.BestAvailableEncryption(password))


def kill_during_write(site, h: dict, store: Path):
    """One pki.yml run, killed while the keystore's temporary file exists. Returns the temporary file's
    name when the kill landed before the rename, else None (the run finished first)."""
    uid = store.stat().st_uid
    argv, env = site.command('--tags', 'ca,keystore', '--limit', 'kafka_ca:%s' % h['name'], playbook=PKI_PLAYBOOK)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    caught = None
    deadline = time.monotonic() + 300
    # The module's processes are known before its write starts (it imports and builds the store
    # first), so the stop follows the temporary file's appearance at once.
    pids, scanned = [], 0.0
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            tmp = [e.name for e in os.scandir(store.parent) if e.name.startswith('.keystore.p12.') and e.name.endswith('.tmp')]
            if not tmp:
                if time.monotonic() - scanned > REFRESH:
                    pids, scanned = module_processes(uid), time.monotonic()
                continue
            signal_all(pids, signal.SIGSTOP)
            pids = sorted(set(pids) | set(module_processes(uid)))
            signal_all(pids, signal.SIGSTOP)
            if (store.parent / tmp[0]).exists():
                caught = tmp[0]
            signal_all(pids, signal.SIGKILL)
            break
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    return caught, proc.returncode, out


def test_killed_keystore_write_leaves_the_old_file(rollout):
    site = rollout
    h = site.kafka_hosts()[0]
    pki = Path(h['root']) / 'pki'
    store = pki / 'keystore.p12'
    password = (pki / 'keystore.password').read_text().strip().encode()
    good_key, good_cert, _chain = pkcs12.load_key_and_certificates(store.read_bytes(), password)
    st = store.stat()
    old = outdated_keystore(pki, h['name'], password)
    caught = None
    for attempt in range(ATTEMPTS):
        store.write_bytes(old)  # same inode: owner and mode stay
        caught, rc, out = kill_during_write(site, h, store)
        print('attempt %d: temporary file %s, rc=%s' % (attempt + 1, caught, rc))
        if caught:
            assert rc != 0, out[-5000:]
            assert store.read_bytes() == old, 'the killed write damaged the keystore'
            # The leftover is cleaned up by the next write once it is clearly not a write in progress.
            leftover = pki / caught
            while leftover.exists() and time.time() - leftover.stat().st_mtime < 6:
                time.sleep(0.5)
            break
        # The rename came first: the run must have written a whole, right keystore.
        key, cert, _ = pkcs12.load_key_and_certificates(store.read_bytes(), password)
        assert cert == good_cert
    assert caught, 'no write was caught with its temporary file in %d attempts' % ATTEMPTS
    # The next run completes and writes the keystore the node needs, with the same owner and mode.
    run = site.run('--tags', 'ca,keystore', '--limit', 'kafka_ca:%s' % h['name'], playbook=PKI_PLAYBOOK)
    assert run.rc == 0, run.describe()
    key, cert, _ = pkcs12.load_key_and_certificates(store.read_bytes(), password)
    assert cert == good_cert and key.public_key().public_numbers() == good_key.public_key().public_numbers()
    after = store.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (st.st_uid, st.st_gid, st.st_mode)
    leftovers = sorted(p.name for p in pki.glob('.keystore.p12.*.tmp'))
    assert not leftovers, 'temporary files left next to the keystore: %s' % leftovers
