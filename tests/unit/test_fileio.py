# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/common/fileio.py: a write killed before its rename leaves a temporary file (tests/security
kills a keystore write with SIGKILL); the next write of the same file removes it."""

from __future__ import annotations

import os
import time

from ansible_collections.kafkasec.tls.plugins.module_utils.common import fileio


def test_atomic_write_removes_the_leftover_of_a_killed_write(tmp_path):
    target = tmp_path / 'keystore.p12'
    target.write_bytes(b'old')
    stale = tmp_path / '.keystore.p12.ab_12XyZ.tmp'
    stale.write_bytes(b'half a keystore')
    old = time.time() - 60
    os.utime(stale, (old, old))
    fresh = tmp_path / '.keystore.p12.cd_34AbC.tmp'  # maybe another write, right now: kept
    fresh.write_bytes(b'in progress')
    other = tmp_path / '.truststore.p12.ef_56DeF.tmp'  # another file's: kept
    other.write_bytes(b'x')
    os.utime(other, (old, old))
    fileio.atomic_write(str(target), b'new')
    assert target.read_bytes() == b'new'
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['keystore.p12', fresh.name, other.name])


class Killed(BaseException):
    pass


def test_a_killed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / 'server.properties'
    target.write_bytes(b'old')

    def killed(*_args):
        raise Killed()
    monkeypatch.setattr(fileio.os, 'replace', killed)
    try:
        fileio.atomic_write(str(target), b'new')
    except Killed:
        pass
    monkeypatch.undo()
    assert target.read_bytes() == b'old'
    assert [p.name for p in tmp_path.iterdir()] == ['server.properties']
