#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zookeeper_config
short_description: Plan and apply the TLS and SASL block of a ZooKeeper server's zoo.cfg in one call
version_added: 0.2.0
description:
  - The ZooKeeper planner of M(kafkasec.tls.zookeeper) as one module call per server. It reads the
    server's C(zoo.cfg) (a Java properties file) and works out from it and O(settings) what the file
    must say - where the secure client port binds, whether the plain C(clientPort) stays (a transition)
    and whether SASL is enforced.
  - With O(step=plan) it only reads and checks, and returns the plan; every problem (a port, a TLS
    protocol, the SASL accounts, a service command, a C(zoo.cfg) that cannot be read, a secure port
    that is the plain one) fails the task with a message that names the host, the variable and the
    value, before anything on any host changes. Passwords never appear in a message.
  - With O(step=apply) it merges O(content) (the rendered block, one C(key=value) per line; an empty
    value removes the key) into the file in place, keeping comments and every other key, records a
    pending restart next to the file when keys or the stores changed, and returns the changed key
    names and the restart reasons. Values of secret keys never appear in the results or the diff.
  - With O(step=status) it only reads - C(zoo.cfg) (an ensemble? which quorum TLS phase?) and the server's
    answer to the four-letter word C(srvr) (leader, follower, standalone, or not serving), over the secure
    client port with TLS and this host's certificate when C(zoo.cfg) has one, else over the plain
    C(clientPort). ZooKeeper always answers C(srvr), whatever C(4lw.commands.whitelist) says. The roll
    uses it to put the leader last and as its health gate after a restart.
  - The logic lives in C(plugins/module_utils/kafka/zookeeper_plan.py) (pure Python, unit-tested).
author:
  - kafkasec.tls developers (@kafkasec)
options:
  path:
    description: The server's C(zoo.cfg); it must exist.
    type: path
    required: true
  step:
    description:
      - V(plan) reads and checks only; V(apply) merges O(content) and records the pending restart;
        V(status) reads C(zoo.cfg) and asks the server C(srvr).
    type: str
    choices: [plan, apply, status]
    default: plan
  settings:
    description:
      - The server's wishes, named as the role variables without their C(kafkasec_zookeeper_) prefix
        (C(secure_client_port), C(listen_address), C(keep_plaintext), C(transition), C(ssl_client_auth),
        C(ssl_enabled_protocols), C(ssl_protocol), C(enforce_sasl), C(extra_properties), C(jaas_path),
        C(quorum_tls), C(quorum_step), C(quorum_floor)),
        plus C(hostname) (the inventory name, used in messages) and C(listen_address_set) (false when
        the inventory leaves C(listen_address) unset).
      - Values of C(extra_properties) under secret keys (a password) are masked in the output.
    type: dict
    required: true
  sasl_users:
    description:
      - The SASL digest accounts ZooKeeper accepts (name -> password). With O(step=plan) they are
        checked (at least one, no empty password); the JAAS file that carries them is written by the role.
    type: raw
  commands:
    description:
      - With O(step=plan), variable name -> the service command it holds; each must be a non-empty command.
    type: dict
    default: {}
  content:
    description:
      - With O(step=apply), the block to merge (the role's rendered template), one C(key=value) per
        line; a key with an empty value is removed.
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
  marker_mode:
    description: Mode of the pending-restart record (C(<path>.kafkasec-restart-pending)).
    type: raw
    default: '0640'
  host:
    description: With O(step=status), the name C(srvr) connects to (in the server certificate's SANs).
    type: str
  ca_path:
    description: With O(step=status) over TLS, the CA certificates that verify the server.
    type: path
  cert_path:
    description: With O(step=status) over TLS, this host's certificate (C(ssl.clientAuth=need) asks for one).
    type: path
  key_path:
    description: With O(step=status) over TLS, this host's private key.
    type: path
  timeout:
    description: With O(step=status), seconds for the connection and the answer.
    type: float
    default: 5
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Check mode reports what would change; diff mode shows the file with secret values masked.
  - The file is written atomically (a temporary file renamed over it).
"""

EXAMPLES = r"""
- name: Plan the server (read-only; fails naming host and variable)
  kafkasec.tls.zookeeper_config:
    path: /etc/zookeeper/zoo.cfg
    settings:
      hostname: "{{ inventory_hostname }}"
      secure_client_port: 2182
      transition: false
    sasl_users: "{{ kafkasec_zookeeper_sasl_users }}"
    commands:
      kafkasec_zookeeper_restart_command: systemctl restart zookeeper
  register: plan

- name: Merge the rendered block and record the pending restart
  kafkasec.tls.zookeeper_config:
    path: /etc/zookeeper/zoo.cfg
    step: apply
    settings: {hostname: "{{ inventory_hostname }}"}
    content: "{{ lookup('ansible.builtin.template', 'zoo-tls.properties.j2') }}"
    keystore_changed: true
    mode: "0640"
"""

RETURN = r"""
plan:
  description: The plan (no secret in it).
  returned: always
  type: dict
  contains:
    values:
      description:
        - What the role's template lays out - secure_client_port, secure_client_port_address, client_port,
          client_port_address ('' = removed), ssl_client_auth, ssl_protocol, ssl_enabled_protocols,
          enforce_auth_enabled, enforce_auth_schemes.
      type: dict
    bind_address:
      description: The address the secure port binds to ('' = every interface).
      type: str
    plain_port:
      description: The plain clientPort of the file as it was ('' = none).
      type: str
    keep_plaintext:
      description: Whether the plain clientPort stays (keep_plaintext or a transition).
      type: bool
    enforce_sasl:
      description: Whether SASL is enforced (enforce_sasl and not a transition).
      type: bool
status:
  description: With O(step=status), the server's state (no secret in it).
  returned: when step is status
  type: dict
  contains:
    ensemble: {description: Whether zoo.cfg names more than one server, type: bool}
    quorum_phase: {description: "0 plaintext quorum, 1 portUnification, 2 sslQuorum + portUnification, 3 sslQuorum", type: int}
    mode: {description: "srvr's Mode (leader, follower, standalone), '' when it does not serve or did not answer", type: str}
    zxid: {description: srvr's Zxid, type: str}
    in_quorum: {description: Whether the server serves (leader or follower in an ensemble; standalone alone), type: bool}
    endpoint: {description: "host, port and tls of the srvr call", type: dict}
    error: {description: Why srvr got no answer ('' when it did), type: str}
pending:
  description: The pending restart recorded on the host after this call ({} when none).
  returned: always
  type: dict
restart:
  description: With O(step=apply), the decision.
  returned: when step is apply
  type: dict
  contains:
    reasons:
      description: Why ZooKeeper restarts ([] when it does not).
      type: list
      elements: str
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
import ssl

from collections.abc import Mapping

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.config.config_module import SecretBlockModule, record_pending
from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import merge_file
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import PropertiesError, load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.zookeeper_plan import (
    four_letter_word,
    four_letter_word_endpoint,
    in_quorum,
    parse_srvr,
    plan_problems,
    plan_zookeeper,
    problems_message,
    restart_reasons,
    settings_from,
)


class _ZookeeperConfigModule(SecretBlockModule):
    def extra_secrets(self):
        # Extra properties may carry a secret too.
        extra = (self.params.get("settings") or {}).get("extra_properties")
        return {str(k): v for k, v in extra.items() if v is not None} if isinstance(extra, Mapping) else {}


def main():
    module = _ZookeeperConfigModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            step=dict(type="str", choices=["plan", "apply", "status"], default="plan"),
            settings=dict(type="dict", required=True),
            sasl_users=dict(type="raw", no_log=True),
            commands=dict(type="dict", default={}),
            content=dict(type="str", default="", no_log=True),
            header=dict(type="str"),
            keystore_changed=dict(type="bool", default=False),
            truststore_changed=dict(type="bool", default=False),
            marker_mode=dict(type="raw", default="0640"),
            host=dict(type="str"),
            ca_path=dict(type="path"),
            cert_path=dict(type="path"),
            key_path=dict(type="path"),
            timeout=dict(type="float", default=5),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, plan={}, pending={}, changed_keys=[], added_keys=[], updated_keys=[], removed_keys=[])
    try:
        settings = settings_from(params["settings"])
    except (TypeError, ValueError) as exc:
        module.fail_json(msg="zookeeper_config: %s" % to_native(exc), **result)
    host = settings.hostname or "zookeeper_config"
    path = os.path.realpath(params["path"])

    try:
        with open(path, "rb") as handle:
            current = load(handle.read().decode("latin-1"))
    except (IOError, OSError, PropertiesError) as exc:
        module.fail_json(msg=(
            "%s: kafkasec_zookeeper_config_path is %s, which cannot be read on the host (%s). The role merges TLS "
            "settings into the existing zoo.cfg; point the variable at it." % (host, params["path"], to_native(exc))),
            **result)

    plan = plan_zookeeper(current, settings, path=params["path"])
    # The record sits next to the path the role names (roles/zookeeper/vars/main.yml, tasks/restart.yml).
    marker = pending_record.marker_path(params["path"])
    pending = pending_record.read(marker)
    result["plan"] = {key: value for key, value in plan.as_dict().items() if key != "problems"}
    result["pending"] = pending
    if params["step"] == "status":
        module.exit_json(status=_status(module, current, plan.ensemble, plan.quorum_phase, host), **result)
    if params["step"] == "plan":
        problems = plan_problems(plan, sasl_users=params["sasl_users"], check_sasl_users=True,
                                 commands=params["commands"])
    else:
        problems = list(plan.problems)
    if problems:
        module.fail_json(msg=problems_message(host, problems),
                         problems=[dict(variable=v, message=m) for v, m in problems], **result)
    if params["step"] == "plan":
        module.exit_json(**result)

    set_values, remove = module.block
    if not set_values and not remove:
        module.fail_json(msg="%s: step=apply needs the rendered block in content" % host, **result)
    merge_file(module, path, set_values, remove, header=params["header"], result=result)
    store_changes = [name for name in ("keystore", "truststore") if params[name + "_changed"]]
    reasons = restart_reasons(result["changed_keys"], store_changes, pending)
    result["restart"] = dict(reasons=reasons)
    if reasons:
        record = pending_record.merged(pending, reasons, False)
        record_pending(module, marker, pending, record, result)
    module.exit_json(**result)


def _status(module, current, ensemble, phase, host):
    """zoo.cfg's quorum phase and the server's srvr answer (read-only)."""
    params = module.params
    endpoint = four_letter_word_endpoint(current, params["host"] or host)
    status = dict(ensemble=ensemble, quorum_phase=phase, mode="", zxid="", in_quorum=False, endpoint=endpoint, error="")
    if endpoint["port"] is None:
        status["error"] = "zoo.cfg has neither secureClientPort nor clientPort"
        return status
    context = None
    if endpoint["tls"]:
        missing = [name for name in ("ca_path", "cert_path", "key_path") if not params[name]]
        if missing:
            module.fail_json(msg="%s: step=status over the secure client port needs %s" % (host, ", ".join(missing)))
        context = ssl.create_default_context(cafile=params["ca_path"])
        context.load_cert_chain(params["cert_path"], params["key_path"])
    try:
        answer = parse_srvr(four_letter_word(endpoint["host"], endpoint["port"], "srvr", context, params["timeout"]))
    except (OSError, ssl.SSLError) as exc:
        status["error"] = to_native(exc)
        return status
    status.update(mode=answer["mode"], zxid=answer["zxid"], in_quorum=in_quorum(answer["mode"], ensemble))
    if not answer["serving"]:
        status["error"] = "the server does not serve requests yet"
    return status


if __name__ == "__main__":
    main()
