#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: connect_config
short_description: Plan and apply the TLS block of a Kafka Connect worker's properties in one call
version_added: 0.2.0
description:
  - The worker planner of M(kafkasec.tls.connect) as one module call per worker.
  - With O(step=plan) it only reads and checks - the bootstrap servers are present and none of them is
    a broker's PLAINTEXT or controller port (O(brokers)), TLSv1.3/TLSv1.2 only, the REST client
    authentication is known, the REST advertised name is a SAN of the worker's certificate, the
    JVM-wide stores are of a type the JDK reads, the restart settings and paths are sane, and O(path)
    is a regular file. Every problem fails the task with a message that names the host, the variable
    and the value, before anything on any host changes. It returns the plan (the normalized bootstrap
    servers, the REST listener and URL) and the pending restart recorded on the host.
  - With O(step=apply) it merges O(content) (the rendered block, one C(key=value) per line; an empty
    value removes the key) into O(path) in place, keeping comments and every other key, and returns the
    changed key names and why the worker needs a restart (changed keys, renewed stores, changed JVM
    files, a pending restart of an earlier run). With O(record_pending) it records that restart next to
    the file. Values of secret keys never appear in the results or the diff.
  - The logic lives in C(plugins/module_utils/kafka/connect_plan.py) (pure Python, unit-tested).
author:
  - kafkasec.tls developers (@kafkasec)
options:
  path:
    description: The worker's properties file (C(connect-distributed.properties)); it must exist.
    type: path
    required: true
  step:
    description: V(plan) reads and checks only; V(apply) merges O(content) and returns the restart reasons.
    type: str
    choices: [plan, apply]
    default: plan
  settings:
    description:
      - The worker's wishes, named as the role variables without their C(kafkasec_connect_) prefix
        (C(bootstrap_servers), C(rest_listen_host), C(rest_advertised_host), C(rest_port),
        C(rest_client_auth), C(ssl_enabled_protocols), C(ssl_protocol), C(jvm_stores), C(env_file),
        C(jvm_args_file), C(restart_command), C(health_timeout)), plus C(hostname) (the inventory name,
        used in messages), C(dns_names) and C(ip_addresses) (the certificate's SANs) and
        C(keystore_type) and C(truststore_type) (the stores).
    type: dict
    required: true
  brokers:
    description:
      - The hosts of inventory group C(kafka_broker) as the controller knows them, each a dict with
        C(name) (the inventory name) and the variables that say where its listeners are
        (C(kafkasec_broker_ssl_port), C(kafkasec_broker_plaintext_port), C(kafkasec_broker_controller_port),
        C(kafkasec_broker_keep_plaintext), C(kafkasec_broker_advertised_host), C(ansible_host),
        C(kafkasec_cert_extra_dns_names), C(kafkasec_cert_ip_addresses)); unset ones take the broker
        role's defaults.
      - A bootstrap server that names one of them on a port other than its TLS listener is refused;
        hosts that are not among them are not judged.
    type: list
    elements: dict
    default: []
  content:
    description:
      - With O(step=apply), the TLS block to merge (the role's rendered template), one C(key=value) per
        line; a key with an empty value is removed. It carries the store passwords.
    type: str
    default: ''
  header:
    description: A comment written above the first key this module appends.
    type: str
  keystore_changed:
    description: With O(step=apply), whether this run changed the keystore (a restart reason).
    type: bool
    default: false
  truststore_changed:
    description: With O(step=apply), whether this run changed the truststore (a restart reason).
    type: bool
    default: false
  args_file_changed:
    description: With O(step=apply), whether this run changed the java argument file with the JVM-wide store passwords.
    type: bool
    default: false
  env_file_changed:
    description: With O(step=apply), whether this run changed the environment file with C(KAFKA_OPTS).
    type: bool
    default: false
  record_pending:
    description:
      - With O(step=apply), record the restart reasons next to O(path) (C(<path>.kafkasec-restart-pending))
        when there are any, so that a run that fails before the worker is back restarts it next time.
        Set it when the role restarts the worker; without it the reasons are only returned.
    type: bool
    default: false
  marker_mode:
    description: Mode of the pending-restart record.
    type: raw
    default: '0640'
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Check mode reports what would change and writes nothing; diff mode shows the file with secret values masked.
"""

EXAMPLES = r"""
- name: Plan the worker (read-only; fails naming host and variable)
  kafkasec.tls.connect_config:
    path: /etc/kafka/connect-distributed.properties
    settings:
      hostname: "{{ inventory_hostname }}"
      bootstrap_servers: kafka-1.example.com:9093
      rest_advertised_host: "{{ inventory_hostname }}"
      dns_names: ["{{ inventory_hostname }}"]
    brokers:
      - name: kafka-1.example.com
        kafkasec_broker_ssl_port: 9093
  register: plan

- name: Merge the rendered TLS block and note why the worker restarts
  kafkasec.tls.connect_config:
    path: /etc/kafka/connect-distributed.properties
    step: apply
    settings: {hostname: "{{ inventory_hostname }}", bootstrap_servers: kafka-1.example.com:9093}
    content: "{{ lookup('ansible.builtin.template', 'worker-tls.properties.j2') }}"
    keystore_changed: true
    record_pending: true
    mode: "0640"
"""

RETURN = r"""
plan:
  description: The plan (no secret in it).
  returned: always
  type: dict
  contains:
    bootstrap_servers:
      description: The bootstrap servers as the template joins them.
      type: list
      elements: str
    rest_listener:
      description: The value of C(listeners) (C(https://<listen host>:<port>)).
      type: str
    rest_url:
      description: The REST API's URL under its advertised name.
      type: str
    health_retries:
      description: Retries two seconds apart that cover C(settings.health_timeout).
      type: int
pending:
  description: The pending restart recorded on the host after this call ({} when none).
  returned: always
  type: dict
problems:
  description: With a failure, each problem as C(variable) and C(message).
  returned: failure
  type: list
  elements: dict
restart:
  description: With O(step=apply), whether and why the worker needs a restart.
  returned: when step is apply
  type: dict
  contains:
    reasons:
      description: Why the worker restarts (a pending restart's reasons first); [] when it does not.
      type: list
      elements: str
    needed:
      description: Whether the worker needs a restart.
      type: bool
    recorded:
      description: Whether the reasons are recorded on the host (O(record_pending)).
      type: bool
changed_keys:
  description: Keys added, updated or removed (names only).
  returned: always
  type: list
  elements: str
added_keys: {description: Keys added, returned: always, type: list, elements: str}
updated_keys: {description: Keys updated, returned: always, type: list, elements: str}
removed_keys: {description: Keys removed, returned: always, type: list, elements: str}
"""

import os
import stat

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.config.config_module import SecretBlockModule, record_pending
from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import merge_file
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.connect_plan import (
    plan_worker,
    restart_reasons,
    settings_from,
)


class _ConnectConfigModule(SecretBlockModule):
    """The rendered block carries store passwords: SecretBlockModule masks them."""


def file_kind(path: str) -> str:
    """'file', 'missing' or 'other' (a directory, a device, ...), following symbolic links."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "other"
    return "file" if stat.S_ISREG(mode) else "other"


def main():
    module = _ConnectConfigModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            step=dict(type="str", choices=["plan", "apply"], default="plan"),
            settings=dict(type="dict", required=True),
            brokers=dict(type="list", elements="dict", default=[]),
            content=dict(type="str", default="", no_log=True),
            header=dict(type="str"),
            keystore_changed=dict(type="bool", default=False),
            truststore_changed=dict(type="bool", default=False),
            args_file_changed=dict(type="bool", default=False),
            env_file_changed=dict(type="bool", default=False),
            record_pending=dict(type="bool", default=False),
            marker_mode=dict(type="raw", default="0640"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, plan={}, pending={}, changed_keys=[], added_keys=[], updated_keys=[],
                  removed_keys=[])
    try:
        settings = settings_from(params["settings"])
    except (TypeError, ValueError) as exc:
        module.fail_json(msg="connect_config: %s" % to_native(exc), **result)
    for index, broker in enumerate(params["brokers"]):
        if not broker.get("name"):
            module.fail_json(msg="connect_config: brokers[%d] has no name" % index, **result)

    path = params["path"]
    plan = plan_worker(settings, params["brokers"], path, file_kind(path))
    if plan.problems:
        # The message and the problems only: the plan would repeat the inputs the problems judged.
        module.fail_json(msg=problems_message(settings.hostname, plan.problems),
                         problems=[dict(variable=v, message=m) for v, m in plan.problems], **result)
    result["plan"] = plan.values
    real_path = os.path.realpath(path)
    marker = pending_record.marker_path(path)
    pending = pending_record.read(marker)
    result["pending"] = pending
    if params["step"] == "plan":
        module.exit_json(**result)

    set_values, remove = module.block
    merge_file(module, real_path, set_values, remove, header=params["header"], result=result)
    result["path"] = path
    reasons = restart_reasons(result["changed_keys"], pending,
                              keystore_changed=params["keystore_changed"],
                              truststore_changed=params["truststore_changed"],
                              args_file_changed=params["args_file_changed"],
                              env_file_changed=params["env_file_changed"])
    result["restart"] = dict(reasons=reasons, needed=bool(reasons), recorded=False)
    if reasons and params["record_pending"]:
        record = pending_record.merged(pending, reasons, False)
        result["restart"]["recorded"] = True
        record_pending(module, marker, pending, record, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
