# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The acls role's plan (module_utils/kafka/acl_inventory.py); documented in kafka_acl_plan.yml."""

from __future__ import annotations

import importlib


def kafka_acl_plan(entries, hostvars, connect_hosts=None, rules=None, connect=None, bundles=True, verify=None):
    """{principals, bundles, problems} for kafkasec_acls_principals and the Connect workers."""
    # Imported on first use, not when the file loads: Ansible loads every filter file of the collection in each
    # worker process that looks up any kafkasec.tls filter, and acl_inventory pulls in the Kafka admin client.
    acl_inventory = importlib.import_module("ansible_collections.kafkasec.tls.plugins.module_utils.kafka.acl_inventory")
    return acl_inventory.inventory_plan(entries, list(connect_hosts or []), hostvars, rules=rules, connect=connect,
                                        bundles=bool(bundles), verify=verify)


class FilterModule:
    """kafka_acl_plan."""

    def filters(self):
        return {"kafka_acl_plan": kafka_acl_plan}
