# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kafka client connection options shared by kafka_roundtrip, reload_stores, scram_users and kafka_acls:
KAFKA_CLIENT_OPTIONS (module_utils/kafka/client_options.py) and the kafkasec.tls.kafka_client doc fragment.
Each module's argument spec is read from its main() with AnsibleModule replaced by a recorder."""

from __future__ import annotations

import importlib
from typing import Any, Dict

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.doc_fragments.kafka_client import ModuleDocFragment
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_options import KAFKA_CLIENT_OPTIONS

MODULES = ["kafka_roundtrip", "reload_stores", "scram_users", "kafka_acls"]

# The options as each of these modules defined them before they were shared.
EXPECTED = {
    "bootstrap_servers": dict(type="list", elements="str", required=True),
    "ca_path": dict(type="path", required=True),
    "cert_path": dict(type="path", required=True),
    "key_path": dict(type="path", required=True),
}


class _Captured(Exception):
    def __init__(self, kwargs: Dict[str, Any]) -> None:
        super().__init__("AnsibleModule called")
        self.kwargs = kwargs


def _module_kwargs(name: str, monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    module = importlib.import_module("ansible_collections.kafkasec.tls.plugins.modules." + name)

    def record(*args: Any, **kwargs: Any) -> None:
        raise _Captured(kwargs)

    monkeypatch.setattr(module, "AnsibleModule", record)
    with pytest.raises(_Captured) as captured:
        module.main()
    return captured.value.kwargs


def _documentation(name: str) -> Dict[str, Any]:
    module = importlib.import_module("ansible_collections.kafkasec.tls.plugins.modules." + name)
    return yaml.safe_load(module.DOCUMENTATION)


def test_shared_options_are_the_ones_the_modules_had():
    assert KAFKA_CLIENT_OPTIONS == EXPECTED


@pytest.mark.parametrize("name", MODULES)
def test_module_argument_spec_has_the_shared_options_unchanged(name, monkeypatch):
    spec = _module_kwargs(name, monkeypatch)["argument_spec"]
    assert {key: spec[key] for key in EXPECTED} == EXPECTED


@pytest.mark.parametrize("name", MODULES)
def test_module_documents_them_through_the_fragment_only(name):
    doc = _documentation(name)
    assert "kafkasec.tls.kafka_client" in doc["extends_documentation_fragment"]
    assert not set(doc["options"]) & set(KAFKA_CLIENT_OPTIONS)


def test_fragment_documents_exactly_the_shared_options():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(options) == set(KAFKA_CLIENT_OPTIONS)
    for key, spec in KAFKA_CLIENT_OPTIONS.items():
        documented = {field: options[key][field] for field in ("type", "elements", "required") if field in options[key]}
        assert documented == spec, key
