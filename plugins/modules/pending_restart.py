#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pending_restart
short_description: Record, read or clear a service's pending restart on the host
version_added: 0.2.0
description:
  - "The one implementation of the pending-restart record of the collection: a small JSON file next to
    a service's configuration (C(<config>.kafkasec-restart-pending)) with the C(reasons) for the restart
    and whether it moves the whole KRaft quorum (C(controller_switch))."
  - It is written before any restart and removed once the service is back, so a run that fails in
    between leaves it, and the next run restarts the service although its files no longer change.
  - With O(properties_path), a query also returns the Kafka node the record belongs to (id, roles,
    listeners, the listener the health gates use) and, for a controller, its C(quorum-state), so a
    restart play needs one call per node to know whether and how to restart it.
author:
  - kafkasec.tls developers (@kafkasec)
options:
  path:
    description: The record's file (C(<config>.kafkasec-restart-pending)).
    type: path
    required: true
  state:
    description:
      - V(present) adds O(reasons) to the record (creating it); V(absent) removes it; V(query) only reads.
    type: str
    choices: [present, absent, query]
    default: query
  reasons:
    description: With O(state=present), why the service restarts; each is kept once, in order.
    type: list
    elements: str
    default: []
  controller_switch:
    description: With O(state=present), whether the restart moves the whole quorum at once (kept once set).
    type: bool
    default: false
  properties_path:
    description:
      - A Kafka node's C(server.properties); with it the result carries RV(node) and RV(quorum_state).
    type: path
  known_reading:
    description:
      - "With O(state=query): this run's earlier reading of the node, taken by a call after which
        nothing on the host changed: M(kafkasec.tls.broker_config)'s RV(kafkasec.tls.broker_config#module:node_reading),
        which a merge returns only when it found, on the controller, that the file already holds
        its block. The module's action plugin then returns it as this query's result and does not
        contact the host."
      - Leave it out whenever something may have changed the node's files since that reading.
    type: dict
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Check mode reports what would change and changes nothing.
  - An action plugin answers a query with O(known_reading) on the controller; anything else runs the module.
"""

EXAMPLES = r"""
- name: Does the node have a pending restart?
  kafkasec.tls.pending_restart:
    path: /etc/kafka/server.properties.kafkasec-restart-pending
    properties_path: /etc/kafka/server.properties
  register: pending

- name: Record why the worker restarts
  kafkasec.tls.pending_restart:
    path: /etc/kafka/connect-distributed.properties.kafkasec-restart-pending
    state: present
    reasons: ["keystore changed"]
    mode: "0640"

- name: The node is back
  kafkasec.tls.pending_restart:
    path: /etc/kafka/server.properties.kafkasec-restart-pending
    state: absent
"""

RETURN = r"""
pending:
  description: The record after this call ({} when none).
  returned: always
  type: dict
  sample: {reasons: ["server.properties: listeners"], controller_switch: false}
reasons:
  description: The record's reasons ([] when none).
  returned: always
  type: list
  elements: str
node:
  description: With O(properties_path), the node's id, roles, listeners, TLS listeners and health listener.
  returned: when properties_path is given
  type: dict
quorum_state:
  description: With O(properties_path), a controller's C(quorum-state) file ('' when none or not a controller).
  returned: when properties_path is given
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import PropertiesError, load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import RollError, node_facts, node_reading


def _node_reading(module, path, pending):
    try:
        with open(path, "rb") as handle:
            return node_reading(node_facts(load(handle.read().decode("latin-1"))), pending)
    except (IOError, OSError, PropertiesError, RollError) as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent", "query"], default="query"),
            reasons=dict(type="list", elements="str", default=[]),
            controller_switch=dict(type="bool", default=False),
            properties_path=dict(type="path"),
            known_reading=dict(type="dict"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    current = pending_record.read(path)
    result = dict(changed=False, pending=current)
    if params["properties_path"]:
        reading = _node_reading(module, params["properties_path"], current)
        result.update(node=reading["node"], quorum_state=reading["quorum_state"])

    if params["state"] == "absent":
        result["pending"] = {}
        if os.path.exists(path):
            result["changed"] = True
            if not module.check_mode:
                pending_record.clear(path)
    elif params["state"] == "present":
        if not params["reasons"] and not current:
            module.fail_json(msg="%s: state=present needs at least one reason" % path, **result)
        record = pending_record.merged(current, params["reasons"], params["controller_switch"])
        result["pending"] = record
        if record != current or not os.path.exists(path):
            result["changed"] = True
            if not module.check_mode:
                pending_record.write(path, record)
        if not module.check_mode and os.path.exists(path):
            file_args = module.load_file_common_arguments(params, path=path)
            result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    result["reasons"] = list(result["pending"].get("reasons", []))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
