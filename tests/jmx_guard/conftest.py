# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/jmx_guard: the JMX guard in real JVMs (JDK 17 and JDK 25), no Kafka and no lab."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# the repository as ansible_collections.kafkasec.tls (make link), as tests/unit/conftest.py does
_link = REPO / ".build" / "collections" / "ansible_collections" / "kafkasec" / "tls"
if not _link.exists():
    _link.parent.mkdir(parents=True, exist_ok=True)
    _link.symlink_to(REPO)
sys.path.insert(0, str(REPO / ".build" / "collections"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jvmkit  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def built():
    jvmkit.build()
