# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the zookeeper scenario's verify step: the shared ones (lab, CA, client certificate)
from molecule/shared/tests, loaded under another module name so both conftest files can coexist."""

from __future__ import annotations

import sys
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'tests'
sys.path.insert(0, str(_SHARED))
import kafkalab  # noqa: E402  pylint: disable=wrong-import-position

_shared = kafkalab.shared_conftest()

pytest_configure = _shared.pytest_configure
lab = _shared.lab
ca = _shared.ca
client = _shared.client
node_client = _shared.node_client
