# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kafka nodes need the broker role's steps around its merge (tasks/config_before.yml and
tasks/config_after.yml), from a node's variables: the rule of tasks/config.yml's two include conditions, for
playbooks/site.yml's plays, which name only those nodes (a node that needs neither costs no evaluation).

Plain, typed Python with no Ansible imports."""

from __future__ import annotations

from typing import Any, Mapping

# The values Ansible's bool filter reads as true.
_TRUE = ("1", "true", "yes", "on", "y", "t")


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in _TRUE


def before_merge_needed(variables: Mapping[str, Any]) -> bool:
    """tasks/config_before.yml: the PKI contract from the host's files when the certificates role did not register
    one in this run (kafkasec_pki without keystore_path, e.g. --tags config), or the ZooKeeper login
    (kafkasec_broker_metadata_mode zookeeper; the role's default is kraft)."""
    contract = variables.get("kafkasec_pki")
    if not isinstance(contract, Mapping) or "keystore_path" not in contract:
        return True
    return str(variables.get("kafkasec_broker_metadata_mode", "kraft")) == "zookeeper"


def after_merge_needed(variables: Mapping[str, Any]) -> bool:
    """tasks/config_after.yml: the live reload the merge decided (kafkasec_broker__config.restart.live_reload), or
    the tools' JAAS file (kafkasec_broker_client_jaas_username and _password both defined)."""
    config = variables.get("kafkasec_broker__config")
    restart = config.get("restart") if isinstance(config, Mapping) else None
    if isinstance(restart, Mapping) and _true(restart.get("live_reload", False)):
        return True
    return "kafkasec_broker_client_jaas_username" in variables and "kafkasec_broker_client_jaas_password" in variables
