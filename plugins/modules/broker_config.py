#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: broker_config
short_description: Plan and apply the TLS block of a Kafka node's server.properties in one call
version_added: 0.2.0
description:
  - The node planner of M(kafkasec.tls.broker) as one module call per node. It reads the node's
    C(server.properties), works out from it and O(settings) what the file must say (listeners,
    advertised listeners, protocol map, inter-broker and controller listeners, quorum endpoints, the
    stage of a live migration) and whether the change can roll or moves the whole quorum at once.
  - With O(step=plan) it only reads and checks, and returns the plan; every problem (a name that is
    not in the certificate, a file that is not a KRaft node's, a phase that may not run yet, a
    store directory that does not exist, ...) fails the task with a message that names the host,
    the variable and the value, before anything on any host changes.
  - With O(step=plan) and O(backup), it also tells whether the node's files differ from the newest
    backup set (RV(backup)), still without writing anything, so the call that keeps the set before the
    run changes anything is made only on a node that needs one.
  - With O(step=apply) it merges O(content) (the rendered block, one C(key=value) per line; an empty
    value removes the key) into the file in place, keeping comments and every other key, records a
    pending restart next to the file when keys or the stores changed, and returns the changed key
    names and the restart reasons. Values of secret keys never appear in the results or the diff.
  - The logic lives in C(plugins/module_utils/kafka/broker_plan.py) (pure Python, unit-tested).
author:
  - kafkasec.tls developers (@kafkasec)
options:
  path:
    description: The node's C(server.properties); it must exist.
    type: path
    required: true
  step:
    description:
      - V(plan) reads and checks only; V(apply) merges O(content) and records the pending restart.
    type: str
    choices: [plan, apply]
    default: plan
  settings:
    description:
      - The node's wishes, named as the role variables without their C(kafkasec_broker_) prefix
        (C(advertised_host), C(ssl_port), C(controller_listener_name), C(migration_phase), C(sasl_enabled), ...),
        plus C(hostname) (the inventory name, used in messages), C(dns_names) and C(ip_addresses)
        (the certificate's SANs) and C(zookeeper_connect) in ZooKeeper mode.
    type: dict
    required: true
  sasl_plain_users:
    description:
      - The SASL_SSL listener's PLAIN users (name -> password), checked when C(settings.sasl_enabled)
        and PLAIN is among C(settings.sasl_mechanisms), each with a non-empty password.
    type: dict
    default: {}
  zookeeper_sasl_password:
    description:
      - In ZooKeeper mode, the broker's SASL digest password for ZooKeeper; only whether it is set
        and not empty is checked here (the JAAS file that carries it is written by the role).
    type: str
  scram_users:
    description:
      - The SCRAM users the role keeps (C(kafkasec_broker_scram_users)); O(step=plan) checks each entry (name,
        mechanism, password, iterations) and, with O(scram_update_password=when_changed), that the SASL_SSL
        listener enables its mechanism. The passwords are secrets and never appear in messages.
    type: list
    elements: raw
    default: []
  scram_update_password:
    description: How M(kafkasec.tls.scram_users) treats existing users' passwords (C(when_changed) logs in with them).
    type: str
    choices: [when_changed, on_create]
    default: when_changed
  ca_hosts:
    description:
      - The hosts of inventory group C(kafka_ca); O(step=plan) checks that there is exactly one.
        Omit to skip the check.
    type: list
    elements: str
  quorum_hosts:
    description:
      - Every Kafka node of the inventory. With O(run_hosts), O(step=plan) refuses a change that moves
        the quorum's controller listener unless every one of them is in the run.
    type: list
    elements: str
    default: []
  run_hosts:
    description: The hosts of this run (C(ansible_play_hosts_all)).
    type: list
    elements: str
    default: []
  store_paths:
    description:
      - Variable name -> store path (C(kafkasec_keystore_path), C(kafkasec_truststore_path)); each
        store's directory must exist, or be O(pki_dir) below an existing directory.
    type: dict
    default: {}
  pki_dir:
    description: The PKI directory, which the PKI roles create below an existing parent.
    type: path
  commands:
    description: Variable name -> the service command it holds; each must be a non-empty command.
    type: dict
    default: {}
  migration_check:
    description:
      - With O(step=plan), also check that the phase in C(settings.migration_phase) may run on this
        node now (the phases before it written and rolled, no pending restart of a later phase).
    type: bool
    default: false
  backup:
    description:
      - With O(step=plan), the backup set to compare the files with (M(kafkasec.tls.backup)'s options); the result's
        RV(backup) says whether a set would be taken. Nothing is written.
    type: dict
    suboptions:
      paths:
        description: The files of the set (as M(kafkasec.tls.backup)'s O(kafkasec.tls.backup#module:paths)).
        type: list
        elements: path
        required: true
      backup_dir:
        description: Where the sets live on the host (0700).
        type: path
        required: true
      keep:
        description: How many sets to keep; returned in RV(backup) for the calls that take the sets.
        type: int
        default: 5
  pki_install:
    description:
      - With O(step=apply), the PKI install that M(kafkasec.tls.host_pki) left to this call
        (its RV(kafkasec.tls.host_pki#module:deferred_install) with O(kafkasec.tls.host_pki#module:defer)). The
        certificate, CA chain, keystore and truststore are written first, with host_pki's own checks and the owner
        and group its options name; then the merge, whose restart reasons include the stores this install changed.
        One call on the host instead of two. RV(pki) says what the install changed.
      - May hold the store passwords the inventory gives; they are masked like the block's.
    type: dict
  closing_backup:
    description:
      - With O(step=apply), the run's closing backup set (the files as the run leaves them), kept in this call after
        the merge when this call changed something or C(after_changes) says an earlier call of the run did. The
        set is taken only when the files differ from the newest set; RV(closing_backup) says what happened.
      - A play then needs no backup call of its own for this node (P(kafkasec.tls.backup_hosts#filter) leaves it out).
    type: dict
    suboptions:
      paths:
        description: The files of the set (as M(kafkasec.tls.backup)'s O(kafkasec.tls.backup#module:paths)).
        type: list
        elements: path
        required: true
      backup_dir:
        description: Where the sets live on the host (0700).
        type: path
        required: true
      keep:
        description: How many sets to keep (the oldest go).
        type: int
        default: 5
      stamp:
        description: The set's name, a UTC time after the newest set (the run's closing stamp).
        type: str
        required: true
      after_changes:
        description: Whether an earlier call of this run (the PKI steps) changed the node's files.
        type: bool
        default: false
  digest_key:
    description:
      - With O(step=plan), a key only the controller holds for this run; the result's RV(known_state) carries
        keyed digests (HMAC-SHA256) of the file's values under it, never the values.
      - With O(step=apply) (and O(known_state)), the action plugin digests the rendered block under the same key
        and, when the merge would change nothing (every value equal, nothing to remove, mode, owner and group as
        wanted, the stores present, no store change, no restart pending), returns the unchanged result without
        contacting the host. The module itself always merges.
    type: str
  known_state:
    description: With O(step=apply), RV(known_state) of this node's O(step=plan) call in this run.
    type: dict
  content:
    description:
      - With O(step=apply), the TLS block to merge (the role's rendered templates), one C(key=value)
        per line; a key with an empty value is removed.
    type: str
    default: ''
  header:
    description: A comment written above the first key this module appends.
    type: str
  keystore_changed:
    description:
      - With O(step=apply), whether this run changed the keystore, a restart reason unless the broker
        reloads it live.
    type: bool
    default: false
  truststore_changed:
    description: With O(step=apply), whether this run changed the truststore (as O(keystore_changed)).
    type: bool
    default: false
  other_reasons:
    description: With O(step=apply), further restart reasons (a JVM file such as a JAAS file changed).
    type: list
    elements: str
    default: []
  require_files:
    description:
      - With O(step=apply), files that must exist before the block is merged (the stores it names);
        a missing one fails the task before the file changes.
    type: list
    elements: path
    default: []
  live_reload:
    description:
      - Whether renewed stores on a node whose SSL listener runs and whose file did not change are reloaded
        live (no restart) - a broker-only node's SSL listener, a combined node's SSL and controller listeners
        (the controller listener on TLS); a controller-only node restarts. The decision is returned in
        RV(restart).
    type: bool
    default: true
  marker_mode:
    description: Mode of the pending-restart record.
    type: raw
    default: '0640'
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Check mode reports what would change; diff mode shows the file with secret values masked.
"""

EXAMPLES = r"""
- name: Plan the node (read-only; fails naming host and variable)
  kafkasec.tls.broker_config:
    path: /etc/kafka/server.properties
    settings:
      hostname: "{{ inventory_hostname }}"
      advertised_host: "{{ inventory_hostname }}"
      dns_names: ["{{ inventory_hostname }}"]
    ca_hosts: "{{ groups['kafka_ca'] | default(omit) }}"
  register: plan

- name: Merge the rendered TLS block and record the pending restart
  kafkasec.tls.broker_config:
    path: /etc/kafka/server.properties
    step: apply
    settings: {hostname: "{{ inventory_hostname }}", advertised_host: "{{ inventory_hostname }}"}
    content: "{{ lookup('ansible.builtin.template', 'server-tls.properties.j2') }}"
    keystore_changed: true
  no_log: true
"""

RETURN = r"""
known_state:
  description:
    - With O(step=plan) and O(digest_key), what the controller needs to tell whether a merge would change the file
      (C(digests) of every key's value under O(digest_key), C(mode), C(owner), C(group), which store paths are
      C(present), the keys the plan C(remove)s, the C(pending) restart record and its C(marker) file's
      attributes, and the C(node_reading) handed on as RV(node_reading)); no value of the file.
  returned: when step is plan and digest_key is given
  type: dict
known_request:
  description:
    - With O(step=plan), O(digest_key) and O(pki_dir), when the host keeps a request memo in O(pki_dir) (left by the
      certificates role's request step, M(kafkasec.tls.host_pki)) and every file it watches is unchanged, the memo,
      sealed (AES-GCM) under a key derived from O(digest_key). Only the controller can open it; pass it with the key
      as M(kafkasec.tls.host_pki)'s O(kafkasec.tls.host_pki#module:known_request).
  returned: when such a memo holds
  type: str
node_reading:
  description:
    - With O(step=apply), when the action plugin found on the controller that the merge changes nothing (so the
      host was not contacted and is as this run's plan call read it), what that call read for the restart order
      step, in the shape of M(kafkasec.tls.pending_restart)'s query result (C(pending), C(reasons), C(node),
      C(quorum_state)). Pass it as that module's O(kafkasec.tls.pending_restart#module:known_reading).
  returned: when step is apply and the merge was decided on the controller (a node the restart plays can read)
  type: dict
backup:
  description:
    - With O(step=plan) and O(backup), C(needed) (the files differ from the newest set, or there is none) and
      C(newest) (its stamp), and the set's C(paths), C(backup_dir) and C(keep) as given.
  returned: when backup is given
  type: dict
pki:
  description:
    - With O(step=apply) and O(pki_install), what the install changed (C(keystore_changed), C(truststore_changed),
      C(certificate_changed), C(changed_parts)) and the certificate's C(fingerprint_sha256), C(not_after),
      C(serial), C(sign_reason) and C(truststore_fingerprints). No secret.
  returned: when pki_install is given
  type: dict
keystore_changed:
  description: With O(step=apply), whether this run changed the keystore (O(keystore_changed) or the install's).
  returned: when step is apply and the host was asked
  type: bool
truststore_changed:
  description: With O(step=apply), whether this run changed the truststore (as RV(keystore_changed)).
  returned: when step is apply and the host was asked
  type: bool
stores_changed:
  description: With O(step=apply), the names (C(keystore), C(truststore)) of the stores this run changed.
  returned: when step is apply and the host was asked
  type: list
  elements: str
closing_backup:
  description: With O(step=apply) and O(closing_backup), C(taken) (whether a set was written) and C(stamp).
  returned: when closing_backup is given and the host was asked
  type: dict
plan:
  description: The plan (no secret in it).
  returned: always
  type: dict
  contains:
    values:
      description: The values the templates lay out (listeners, protocol_map, quorum_voters and so on).
      type: dict
    remove:
      description: Keys to remove.
      type: list
    stage:
      description: How far a migration is on the node (0 to 3).
      type: int
    phase:
      description: The migration phase that applies to the node.
      type: str
    is_controller:
      description: Whether the node has the controller role.
      type: bool
    switch_expected:
      description: Whether the change moves the whole quorum at once.
      type: bool
node:
  description: The node's id, roles, listeners and health listener (empty when the file has none).
  returned: always
  type: dict
pending:
  description: The pending restart recorded on the host after this call ({} when none).
  returned: always
  type: dict
restart:
  description: With O(step=apply), the decision, C(reasons), C(controller_switch), C(live_reload), C(reload_listeners), C(reload_ports).
  returned: when step is apply
  type: dict
  contains:
    reasons:
      description: Why the node restarts ([] when it does not).
      type: list
      elements: str
    controller_switch:
      description: Whether the restart moves the whole quorum at once.
      type: bool
    live_reload:
      description: Whether the renewed stores are reloaded live instead of a restart.
      type: bool
    reload_listeners:
      description: The listeners whose stores are reloaded live (C(SSL), and the controller listener on a combined node).
      type: list
      elements: str
      sample: [SSL, CONTROLLER]
    reload_ports:
      description: The port of each listener of C(reload_listeners), from the node's file.
      type: dict
      sample: {SSL: 9093, CONTROLLER: 9094}
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

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.common.backups import BackupError, newest_set_matches, snapshot
from ansible_collections.kafkasec.tls.plugins.module_utils.config.config_module import SecretBlockModule, record_pending
from ansible_collections.kafkasec.tls.plugins.module_utils.config.known_state import state_of
from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import merge_file
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.broker_plan import (
    authorization_warnings,
    decide_restart,
    listener_ports,
    live_controller_listener,
    migration_problems,
    host_problems,
    plan_node,
    settings_from,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import PropertiesError, load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import RollError, node_facts, node_reading
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.scram_input import scram_user_problems
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.request_memo import sealed_memo


class _BrokerConfigModule(SecretBlockModule):
    """The rendered block carries store passwords: SecretBlockModule masks them, and those of a deferred PKI
    install (pki_install) too."""

    def extra_secrets(self):
        install = self.params.get("pki_install") or {}
        return {"pki_install.%s_password" % name: install.get(option) for name, option in (
            ("keystore", "keystore_password"), ("truststore", "truststore_password"),
            ("privatekey", "privatekey_passphrase")) if install.get(option)}


def main():
    module = _BrokerConfigModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            step=dict(type="str", choices=["plan", "apply"], default="plan"),
            settings=dict(type="dict", required=True),
            sasl_plain_users=dict(type="dict", default={}, no_log=True),
            zookeeper_sasl_password=dict(type="str", no_log=True),
            scram_users=dict(type="list", elements="raw", default=[], no_log=True),
            scram_update_password=dict(type="str", choices=["when_changed", "on_create"], default="when_changed", no_log=False),
            ca_hosts=dict(type="list", elements="str"),
            quorum_hosts=dict(type="list", elements="str", default=[]),
            run_hosts=dict(type="list", elements="str", default=[]),
            store_paths=dict(type="dict", default={}),
            pki_dir=dict(type="path"),
            commands=dict(type="dict", default={}),
            migration_check=dict(type="bool", default=False),
            backup=dict(type="dict", options=dict(
                paths=dict(type="list", elements="path", required=True),
                backup_dir=dict(type="path", required=True),
                keep=dict(type="int", default=5),
            )),
            pki_install=dict(type="dict", no_log=False),
            closing_backup=dict(type="dict", options=dict(
                paths=dict(type="list", elements="path", required=True),
                backup_dir=dict(type="path", required=True),
                keep=dict(type="int", default=5),
                stamp=dict(type="str", required=True),
                after_changes=dict(type="bool", default=False),
            )),
            digest_key=dict(type="str", no_log=True),
            known_state=dict(type="dict"),
            content=dict(type="str", default="", no_log=True),
            header=dict(type="str"),
            keystore_changed=dict(type="bool", default=False),
            truststore_changed=dict(type="bool", default=False),
            other_reasons=dict(type="list", elements="str", default=[]),
            require_files=dict(type="list", elements="path", default=[]),
            live_reload=dict(type="bool", default=True),
            marker_mode=dict(type="raw", default="0640"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    path = os.path.realpath(params["path"])
    result = dict(changed=False, plan={}, node={}, pending={}, changed_keys=[], added_keys=[], updated_keys=[],
                  removed_keys=[])
    try:
        settings = settings_from(dict(params["settings"], sasl_plain_users=params["sasl_plain_users"],
                                      zookeeper_sasl_password_set=bool(params["zookeeper_sasl_password"])))
    except (TypeError, ValueError) as exc:
        module.fail_json(msg="broker_config: %s" % to_native(exc), **result)
    host = settings.hostname

    if not os.path.isfile(path):
        module.fail_json(msg=(
            "%s: kafkasec_broker_properties_path is %s, which is not a file on the host. The role merges TLS "
            "settings into the existing server.properties of a Kafka node; point the variable at it." % (host, path)),
            **result)
    try:
        with open(path, "rb") as handle:
            props = load(handle.read().decode("latin-1"))
    except (IOError, OSError, PropertiesError) as exc:
        module.fail_json(msg="%s: cannot read %s (kafkasec_broker_properties_path): %s" % (host, path, to_native(exc)),
                         **result)

    plan = plan_node(props, settings)
    # Next to the path the operator names, as every reader of the record (the restart plays) looks for it:
    # not next to the file a symlinked server.properties resolves to.
    marker = pending_record.marker_path(params["path"])
    pending = pending_record.read(marker)
    problems = list(plan.problems)
    if params["step"] == "plan":
        problems += host_problems(plan, settings, ca_hosts=params["ca_hosts"], quorum_hosts=params["quorum_hosts"],
                                  run_hosts=params["run_hosts"], store_paths=params["store_paths"],
                                  pki_dir=params["pki_dir"], commands=params["commands"],
                                  is_dir=os.path.isdir)
        if params["scram_users"]:
            login = ((list(settings.sasl_mechanisms) if settings.sasl_enabled else [])
                     if params["scram_update_password"] == "when_changed" else None)
            problems += [("kafkasec_broker_scram_users", problem) for problem in
                         scram_user_problems(params["scram_users"], "kafkasec_broker_scram_users", login_mechanisms=login)]
        if params["migration_check"]:
            problems += migration_problems(plan, settings, pending.get("reasons", []))
        if not problems:
            # The authorizer off or allow.everyone.if.no.acl.found on: the play's output says so.
            for warning in authorization_warnings(settings, plan):
                module.warn(warning)
    result["plan"] = {key: value for key, value in plan.as_dict().items() if key != "problems"}
    result["pending"] = pending
    try:
        result["node"] = node_facts(props)
    except RollError:
        result["node"] = {}  # not a node the restart plays can read yet: they ask the host and say why
    if problems:
        module.fail_json(msg=problems_message(host, problems),
                         problems=[dict(variable=v, message=m) for v, m in problems], **result)
    if params["step"] == "plan":
        if params["digest_key"]:
            result["known_state"] = dict(state_of(path, props, params["digest_key"],
                                                  [item for item in params["store_paths"].values() if item],
                                                  pending, marker),
                                         remove=list(plan.remove))
            if result["node"]:
                # What the restart order step reads of the node: a merge that leaves the host untouched hands
                # it on (node_reading), so that step asks the host nothing either.
                result["known_state"]["node_reading"] = node_reading(result["node"], pending)
            if params["pki_dir"]:
                # The certificates role's request step on this host, when its memo still holds (sealed under this
                # run's key; plugins/module_utils/pki/request_memo.py): the controller then asks the host nothing.
                sealed = sealed_memo(params["pki_dir"], params["digest_key"])
                if sealed:
                    result["known_request"] = sealed
        if params["backup"]:
            backup = params["backup"]
            try:
                newest = newest_set_matches(backup["paths"], backup["backup_dir"])
            except (BackupError, OSError) as exc:
                module.fail_json(msg="%s: reading the backup sets in %s (kafkasec_broker_backup_dir) failed: %s" % (
                    host, backup["backup_dir"], to_native(exc)), **result)
            # The set's own options too: the call that writes first takes the set before the run in its own call
            # (common/backups.py before_set_option), and the merge the closing set (closing_set_option).
            result["backup"] = dict(needed=newest is None, newest=newest, paths=backup["paths"],
                                    backup_dir=backup["backup_dir"], keep=backup["keep"])
        module.exit_json(**result)

    installing = []
    if params["pki_install"]:
        # The PKI install that the certificates role left to this call (host_pki's defer): first, so that the
        # merge sees the stores and the restart reasons include what the install changed.
        # Imported here: host_pki's options load cryptography, which a plan or a merge without an install does not need.
        from ansible_collections.kafkasec.tls.plugins.module_utils.pki.host_options import install_deferred
        installed = install_deferred(module, params["pki_install"], host)
        installing = [item.path for item in installed.writes] + [
            params["pki_install"].get(name) for name in ("keystore_path", "truststore_path")]
        result["changed"] = installed.changed
        result["pki"] = installed.result
        params["keystore_changed"] = params["keystore_changed"] or installed.result["keystore_changed"]
        params["truststore_changed"] = params["truststore_changed"] or installed.result["truststore_changed"]
    # In check mode the install writes nothing: the files it would write count as there.
    missing = [item for item in params["require_files"] if not os.path.exists(item) and item not in installing]
    if missing:
        module.fail_json(msg=(
            "%s: %s does not exist yet; run the PKI steps first (playbooks/site.yml without --tags, or "
            "--tags csr,sign,keystore,truststore)" % (host, ", ".join(missing))), **result)
    set_values, empty_keys = module.block
    remove = [key for key in list(empty_keys) + plan.remove if key not in set_values]
    installed_changes = result["changed"]
    merge_file(module, path, set_values, remove, header=params["header"], result=result)
    result["changed"] = result["changed"] or installed_changes
    result["keystore_changed"], result["truststore_changed"] = params["keystore_changed"], params["truststore_changed"]
    # The names, for the live reload and its message (tasks/config_after.yml).
    result["stores_changed"] = [name for name in ("keystore", "truststore") if params[name + "_changed"]]
    ssl_running = any(item.startswith(settings.ssl_listener_name + "://")
                      for item in str(props.get("listeners", "")).split(","))
    store_changes = [name + " changed" for name in ("keystore", "truststore") if params[name + "_changed"]]
    decision = decide_restart(result["changed_keys"], store_changes, pending, plan, ssl_running,
                              params["live_reload"], params["other_reasons"], ssl_listener=settings.ssl_listener_name,
                              controller_listener=live_controller_listener(props))
    result["restart"] = dict(reasons=decision.reasons, controller_switch=decision.controller_switch,
                             live_reload=decision.live_reload, reload_listeners=decision.reload_listeners,
                             reload_ports={name: port for name, port in listener_ports(props).items()
                                           if name in decision.reload_listeners})
    if decision.reasons:
        record = dict(reasons=decision.reasons, controller_switch=decision.controller_switch)
        record_pending(module, marker, pending, record, result)
    closing = params["closing_backup"]
    if closing:
        # The run's closing set in this call, after its writes: the state the run leaves (restarts change none of
        # these files), taken when this call or an earlier one of the run changed something.
        result["closing_backup"] = dict(stamp=None, taken=False)
        if result["changed"] or closing["after_changes"]:
            try:
                taken = snapshot(closing["paths"], closing["backup_dir"], closing["keep"], module.check_mode,
                                 closing["stamp"])
            except (BackupError, OSError) as exc:
                module.fail_json(msg="%s: keeping the closing backup set in %s (kafkasec_broker_backup_dir) failed: %s"
                                 % (host, closing["backup_dir"], to_native(exc)), **result)
            result["closing_backup"] = dict(stamp=taken.stamp, taken=taken.changed)
            result["changed"] = result["changed"] or taken.changed
    module.exit_json(**result)


if __name__ == "__main__":
    main()
