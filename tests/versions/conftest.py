# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The other ends of the tested ranges against a real lab (suite `versions` of tests/lab_suites.sh): the newest
ansible-core of the supported range (2.20) on a lab of the other tested Kafka release (OTHER_KAFKA, 4.3), while every
other lab suite and Molecule scenario runs ansible-core 2.18 on the Kafka release lab/pom.xml pins."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labkit import OTHER_KAFKA, lab_session  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def lab():
    os.environ['KAFKASEC_LAB_KAFKA_VERSION'] = OTHER_KAFKA  # labctl, run by lab_session, reads it
    try:
        yield from lab_session(brokers=1)
    finally:
        os.environ.pop('KAFKASEC_LAB_KAFKA_VERSION', None)
