# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The newest ansible-core of the supported range against a real lab (suite `versions` of tests/lab_suites.sh)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import lab_session  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def lab():
    yield from lab_session(brokers=1)
