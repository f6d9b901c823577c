#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_quorum
short_description: Read a dynamic KRaft quorum from a controller and wait until its voters are in order
version_added: 0.4.0
description:
  - Runs on a controller of a dynamic quorum (KIP-853, C(controller.quorum.bootstrap.servers)). Runs
    C(kafka-metadata-quorum --bootstrap-controller <its own first controller listener> describe --status) as the
    node itself (its own stores from its server.properties when the listener is on TLS, in a temporary command
    config readable by the module's user only, removed afterwards), and parses the voters, their endpoints,
    the leader and the followers' lag.
  - With O(wait), polls until the quorum gate holds or O(timeout) passes, then fails naming what did not hold -
    a leader among the voters, every id of O(voter_ids) a voter, this node's voter record listing exactly the
    controller endpoints its file advertises (on Kafka 4.3 the voter updates its record itself after it starts
    with other controller listeners), the followers at most O(max_lag) records behind.
  - On a static quorum (C(controller.quorum.voters)) it reads nothing and reports C(dynamic=false).
  - Changes nothing; C(changed) is always false.
author:
  - kafkasec.tls developers (@kafkasec)
options:
  properties_path:
    description: The node's server.properties.
    type: path
    required: true
  command:
    description:
      - The command that runs Kafka's C(kafka-metadata-quorum) tool on the host, as an argument list; the module
        appends C(--bootstrap-controller), C(--command-config) and C(describe --status).
    type: list
    elements: str
    default: [/opt/kafka/bin/kafka-metadata-quorum.sh]
  voter_ids:
    description: Node ids that must be voters (the controllers of the run). Empty - no such check.
    type: list
    elements: int
    default: []
  max_lag:
    description: Records the followers may be behind the leader (C(MaxFollowerLag)).
    type: int
    default: 10
  wait:
    description: Poll until the gate holds (or fail after O(timeout)); false - read once and report.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the gate.
    type: int
    default: 300
  poll_interval:
    description: Seconds between two reads.
    type: int
    default: 2
"""

EXAMPLES = r"""
- name: Wait until the voters list this controller's new endpoints and have caught up
  kafkasec.tls.kafka_quorum:
    properties_path: /etc/kafka/server.properties
    command: [/opt/kafka/bin/kafka-metadata-quorum.sh]
    voter_ids: [1, 2, 3]
"""

RETURN = r"""
dynamic:
  description: Whether the node's quorum is dynamic (only then is it read).
  returned: always
  type: bool
status:
  description: The quorum as read last (leader_id, leader_epoch, high_watermark, max_follower_lag, voters with id,
    directory_id and endpoints, observers); {} for a static quorum.
  returned: always
  type: dict
expected_endpoints:
  description: The controller endpoints this node's file advertises, which its voter record must list.
  returned: when dynamic
  type: list
  elements: str
problems:
  description: What kept the gate shut at the last read ([] when it holds).
  returned: always
  type: list
  elements: str
seconds:
  description: Seconds until the gate held (or until the module gave up).
  returned: always
  type: float
"""

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import PropertiesError, format_entry, load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import quorum


def main():
    module = AnsibleModule(
        argument_spec=dict(
            properties_path=dict(type="path", required=True),
            command=dict(type="list", elements="str", default=["/opt/kafka/bin/kafka-metadata-quorum.sh"]),
            voter_ids=dict(type="list", elements="int", default=[]),
            max_lag=dict(type="int", default=10),
            wait=dict(type="bool", default=True),
            timeout=dict(type="int", default=300),
            poll_interval=dict(type="int", default=2),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["properties_path"]
    try:
        with open(path, "rb") as handle:
            props = load(handle.read().decode("latin-1"))
        node_id = int(str(props.get("node.id", "")).strip())
    except (IOError, OSError, PropertiesError, ValueError) as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)))
    result = dict(changed=False, dynamic=quorum.is_dynamic(props), status={}, problems=[], seconds=0.0)
    if not result["dynamic"]:
        module.exit_json(**result)
    try:
        expected = quorum.controller_endpoints(props)
        where = quorum.bootstrap_controller(props)
    except quorum.QuorumError as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)
    result["expected_endpoints"] = expected

    workdir = tempfile.mkdtemp(prefix="kafkasec-quorum-")
    os.chmod(workdir, 0o700)
    config_path = os.path.join(workdir, "command.properties")
    start = time.time()
    try:
        with os.fdopen(os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            for key, value in sorted(quorum.client_properties(props, where["listener"], where["protocol"]).items()):
                handle.write(format_entry(key, value) + "\n")
        argv = list(params["command"]) + ["--bootstrap-controller", where["address"], "--command-config", config_path,
                                          "describe", "--status"]
        environ = {"KAFKA_HEAP_OPTS": os.environ.get("KAFKA_HEAP_OPTS", "-Xmx128m")}
        while True:
            rc, out, err = module.run_command(argv, environ_update=environ)
            if rc == 0:
                try:
                    status = quorum.parse_status(out)
                    result["status"] = status.as_dict()
                    result["problems"] = quorum.gate_problems(status, node_id, expected, params["voter_ids"],
                                                              params["max_lag"])
                except quorum.QuorumError as exc:
                    result["problems"] = [to_native(exc)]
            else:
                lines = [line for line in (err or out or "").splitlines() if line.strip()
                         and not line.lstrip().startswith("at ")]
                result["problems"] = ["%s exited %d: %s" % (argv[0], rc, " / ".join(lines[-3:]))]
            result["seconds"] = round(time.time() - start, 1)
            if not result["problems"] or not params["wait"] or time.time() - start >= params["timeout"]:
                break
            time.sleep(params["poll_interval"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result["problems"] and params["wait"]:
        module.fail_json(msg="the quorum gate did not hold within %d s on node %d (read through %s): %s" % (
            params["timeout"], node_id, where["address"], "; ".join(result["problems"])), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
