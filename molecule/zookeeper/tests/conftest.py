# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the zookeeper scenario's verify step: the shared ones (lab, CA, client certificate)
from molecule/shared/tests, loaded under another module name so both conftest files can coexist."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'tests'
sys.path.insert(0, str(_SHARED))
_spec = importlib.util.spec_from_file_location('kafkasec_shared_conftest', _SHARED / 'conftest.py')
_shared = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_shared)

pytest_configure = _shared.pytest_configure
lab = _shared.lab
ca = _shared.ca
client = _shared.client
node_client = _shared.node_client
