# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pending-restart record: one JSON file next to a service's configuration.

Written before any restart and removed once the service is back, so a run that dies in between
leaves it and the next run restarts the service although its files no longer change. One format
for every service (Kafka nodes, Connect workers, ZooKeeper):

    {"reasons": ["server.properties: listeners", "keystore changed"], "controller_switch": false}
"""

from __future__ import annotations

import json
import os

from typing import Any, Dict, List, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import atomic_write

MARKER_SUFFIX = ".kafkasec-restart-pending"


def marker_path(config_path: str) -> str:
    """The record's place for a service configured by ``config_path``."""
    return config_path + MARKER_SUFFIX


def read(path: str) -> Dict[str, Any]:
    """The pending restart ({} when none). An unreadable record still means a restart is pending."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return {}
    try:
        record = json.loads(data.decode("utf-8"))
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return {"reasons": ["pending restart (unreadable record %s)" % path], "controller_switch": False}
    reasons = record.get("reasons") or ["pending restart"]
    return {"reasons": [str(r) for r in reasons], "controller_switch": bool(record.get("controller_switch"))}


def merged(current: Dict[str, Any], reasons: Sequence[str], controller_switch: bool) -> Dict[str, Any]:
    """``current`` with ``reasons`` added (each once, in order) and the switch flag kept once set."""
    all_reasons: List[str] = list(current.get("reasons", []))
    for reason in reasons:
        if reason not in all_reasons:
            all_reasons.append(reason)
    return {"reasons": all_reasons, "controller_switch": bool(current.get("controller_switch")) or controller_switch}


def render(record: Dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=4, sort_keys=True) + "\n").encode("utf-8")


def write(path: str, record: Dict[str, Any]) -> bool:
    """Write the record atomically; False when the file already says exactly this."""
    data = render(record)
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    atomic_write(path, data)
    return True


def clear(path: str) -> bool:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True
