# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guard ships in the Galaxy artifact (so a control node needs no JDK), as the jar make deps built, and that jar
is Java 17 bytecode (one jar for JDK 17 to 25) holding the builder the JVM options name."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import jvmkit
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import guard

MEMBER = "roles/jmx/files/" + guard.JAR_NAME


def test_the_galaxy_artifact_carries_the_built_jar(tmp_path):
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--force", "--output-path", str(tmp_path), str(jvmkit.REPO)],
                   check=True, capture_output=True)
    (tarball,) = tmp_path.glob("kafkasec-tls-*.tar.gz")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        assert MEMBER in names
        assert tar.extractfile(MEMBER).read() == jvmkit.GUARD_JAR.read_bytes()
    # build output stays out of the artifact
    assert not [n for n in names if n.startswith(".build/") or "/target/" in n]


def test_the_jar_is_java_17_bytecode_with_the_builder():
    builder = guard.BUILDER_CLASS.replace(".", "/") + ".class"
    with zipfile.ZipFile(jvmkit.GUARD_JAR) as jar:
        classes = [n for n in jar.namelist() if n.endswith(".class")]
        assert builder in classes
        for name in classes:
            header = jar.read(name)[:8]
            assert header[:4] == b"\xca\xfe\xba\xbe" and int.from_bytes(header[6:8], "big") == 61, name
        # the test application stays out of the shipped jar
        assert not [n for n in classes if "/testapp/" in n]
