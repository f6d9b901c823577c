# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: every private key and password file is 0600 (or 0640 with the service group) and owned by
the host's service user; no CA key on any host but the CA host.

Looked at as root on the lab after the rollout: every file under each host's etc/ and pki/ (backup
sets included) that holds a private key, a keystore or a password.
"""

from __future__ import annotations

import grp
import pwd
import re
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

pytestmark = pytest.mark.lab


def secret_files(root: Path):
    """Files under etc/ and pki/ that hold a secret: keys, keystores, password files, files with a password."""
    for part in ('etc', 'pki'):
        for f in sorted((root / part).rglob('*')):
            if not f.is_file() or f.is_symlink():
                continue
            data = f.read_bytes()
            name = f.name
            # The request memo (pki/request_memo.py) holds the store passwords as JSON.
            if (b'PRIVATE KEY-----' in data or name.endswith(('.key', '.password', '.p12', '.jks', '.pfx', '.memo'))
                    or b'password=' in data):
                yield f


def test_keys_and_passwords_are_owner_only(rollout):
    site = rollout
    seen, wrong = [], []
    for h in site.status['hosts']:
        user = pwd.getpwnam(h['user'])
        group = grp.getgrgid(user.pw_gid)
        for f in secret_files(Path(h['root'])):
            st = f.stat()
            mode = stat.S_IMODE(st.st_mode)
            seen.append(str(f))
            owner_ok = st.st_uid == user.pw_uid
            mode_ok = mode in (0o600, 0o400) or (mode in (0o640, 0o440) and st.st_gid == group.gr_gid)
            if not (owner_ok and mode_ok):
                wrong.append('%s: %o %s:%s' % (f, mode, pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name))
    names = ' '.join(seen)
    # What the rollout made: the node's key, keystore, truststore, both password files, server.properties
    # (it holds the store passwords), the CA key, and their copies in the backup sets.
    for expected in ('ca/ca.key', '.lab', 'keystore.p12', 'truststore.p12', 'keystore.password',
                     'truststore.password', 'server.properties', '.kafkasec-backups'):
        assert expected in names, 'no secret file like %s found: %s' % (expected, seen)
    assert not wrong, 'secret files readable beyond their owner (or not owned by the service user):\n' + '\n'.join(wrong)


def test_ca_key_only_on_the_ca_host(rollout):
    site = rollout
    ca_cert = x509.load_pem_x509_certificate(site.ca_file('ca.crt').read_bytes())
    ca_public = ca_cert.public_key().public_numbers()
    ca_key_text = site.ca_file('ca.key').read_bytes()
    checked = 0
    for h in site.status['hosts']:
        if h['role'] == 'ca':
            continue
        root = Path(h['root'])
        password_files = {p.stem: p.read_text().strip() for p in root.glob('pki/*.password')}
        for f in sorted(root.rglob('*')):
            if not f.is_file() or f.is_symlink() or 'data' in f.relative_to(root).parts[:1]:
                continue
            data = f.read_bytes()
            assert ca_key_text not in data, 'the CA key is on %s: %s' % (h['name'], f)
            keys = []
            if b'PRIVATE KEY-----' in data:
                keys.append(serialization.load_pem_private_key(data, password=None))
            if f.suffix == '.p12':
                # A backup set's copy is named 03-keystore.p12.
                password = password_files.get(re.sub(r'^\d+-', '', f.stem))
                assert password, 'no password file for %s' % f
                key, _cert, _more = pkcs12.load_key_and_certificates(data, password.encode())
                if key is not None:
                    keys.append(key)
            for key in keys:
                checked += 1
                assert key.public_key().public_numbers() != ca_public, 'the CA key is on %s: %s' % (h['name'], f)
    # The node's key file and its keystore's key were looked at.
    assert checked >= 2 * len(site.kafka_hosts()), checked
