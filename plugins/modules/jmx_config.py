#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jmx_config
short_description: Plan and write a JVM's secure remote JMX (TLS, registry on TLS, passwords, access levels)
version_added: 0.3.0
description:
  - The JMX planner of M(kafkasec.tls.jmx) as one module call per host. With O(step=plan) it only checks
    every input and returns the JVM options; a problem fails the task with a message naming the host, the
    variable and the value (never a password), before any file changes.
  - With O(step=apply) it writes, each atomically and owner-only (C(0600), the service user) - the management
    file read through C(-Dcom.sun.management.config.file) (port, RMI port, bind address, authentication, TLS on
    the connector and on the RMI registry, TLS 1.3/1.2 only, client certificates optional, the deserialisation
    filter), the password file in the JDK's hashed form (salted SHA3-512, so the JVM never rewrites it; an entry
    whose hash the wanted password matches is kept, so a rerun changes nothing), the access file
    (C(readwrite) for the admin role, C(readonly) for everyone else), the C(ssl.config.file) with the host's
    stores and their passwords, and the environment file that sets O(env_variable) for the service start.
  - Returns which files changed and the restart reasons (every file but the password file is read by the JVM
    only at start-up). The role records them with M(kafkasec.tls.pending_restart).
  - The logic lives in C(plugins/module_utils/jmx/) (pure Python, unit-tested).
author:
  - kafkasec.tls developers (@kafkasec)
options:
  step:
    description: V(plan) checks only; V(apply) writes the files.
    type: str
    choices: [plan, apply]
    default: plan
  hostname:
    description: The inventory name of the host, for messages.
    type: str
    required: true
  directory:
    description: Directory of the management, password, access and SSL config files (created C(0700) when missing).
    type: path
    required: true
  env_file:
    description: The environment file the service start sources (systemd C(EnvironmentFile=)).
    type: path
    required: true
  env_variable:
    description: The variable it sets - C(KAFKA_JMX_OPTS) for Kafka and Connect, C(SERVER_JVMFLAGS) for ZooKeeper.
    type: str
    default: KAFKA_JMX_OPTS
  env_owner:
    description: Owner of O(env_file) (no secret in it).
    type: str
  env_group:
    description: Group of O(env_file).
    type: str
  env_mode:
    description: Mode of O(env_file).
    type: str
    default: '0640'
  port:
    description: The JMX connector's port (C(com.sun.management.jmxremote.port)).
    type: int
    default: 9999
  rmi_port:
    description: The RMI server's port; the same as O(port) when unset, so one port is enough in a firewall.
    type: int
  bind_address:
    description: The address both bind to (C(com.sun.management.jmxremote.host)).
    type: str
    required: true
  rmi_hostname:
    description: C(java.rmi.server.hostname), the name in the RMI stub; it must be a name of the certificate.
    type: str
    required: true
  certificate_names:
    description: The names (DNS and IP SANs) of the host's certificate, from the PKI contract.
    type: list
    elements: str
    default: []
  keystore:
    description: The host's keystore from the PKI contract (C(path), C(type), C(password)).
    type: dict
    required: true
    suboptions: &store_suboptions
      path:
        description: The store's file.
        type: path
        required: true
      type:
        description: Store type.
        type: str
        default: pkcs12
      password:
        description: Store password (a secret).
        type: str
  truststore:
    description: The host's truststore from the PKI contract (C(path), C(type), C(password)).
    type: dict
    required: true
    suboptions: *store_suboptions
  keystore_changed:
    description: Whether this run renewed the keystore or truststore (the connector reads them at start-up only).
    type: bool
    default: false
  need_client_auth:
    description: Require a client certificate from the CA (C(ssl.need.client.auth)).
    type: bool
    default: false
  ssl_enabled_protocols:
    description: TLS versions, from TLSv1.3 and TLSv1.2 only.
    type: list
    elements: str
    default: [TLSv1.3, TLSv1.2]
  ssl_cipher_suites:
    description: TLS suites (forward secrecy only); the JVM's defaults when empty.
    type: list
    elements: str
    default: []
  serial_filter:
    description:
      - C(com.sun.management.jmxremote.serial.filter.pattern), the deserialisation filter of the connector; it
        must end with C(!*). The default allows what JMX clients send (names, attributes, queries, open data).
    type: str
  users:
    description:
      - The JMX users, each with C(name), C(password) (a secret; required with O(step=apply)), C(roles) and
        C(groups). Passwords never appear in any output.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      password:
        description: The user's password (at least 12 characters, no whitespace).
        type: str
      roles:
        description: Roles held directly.
        type: list
        elements: str
        default: []
      groups:
        description: Groups, whose roles the user holds too.
        type: list
        elements: str
        default: []
  groups:
    description: Group name -> the roles it carries.
    type: dict
    default: {}
  admin_role:
    description: The role that gets the JDK's C(readwrite) access level.
    type: str
    default: admin
  guard_enabled:
    description: The operation-level guard (coming; must stay false in this version).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Check mode reports what would change and writes nothing.
  - O(owner), O(group) apply to the four owner-only files; their mode is always C(0600).
"""

EXAMPLES = r"""
- name: Remote JMX with TLS and passwords
  kafkasec.tls.jmx_config:
    step: apply
    hostname: "{{ inventory_hostname }}"
    directory: /etc/kafka/jmx
    env_file: /etc/kafka/kafka-jmx.env
    bind_address: 10.0.0.11
    rmi_hostname: kafka-1.example.com
    certificate_names: "{{ kafkasec_pki.dns_names }}"
    keystore: {path: "{{ kafkasec_pki.keystore_path }}", password: "{{ kafkasec_pki.keystore_password }}"}
    truststore: {path: "{{ kafkasec_pki.truststore_path }}", password: "{{ kafkasec_pki.truststore_password }}"}
    users:
      - {name: monitor, password: "{{ vault_jmx_monitor }}", roles: [viewer]}
      - {name: ops, password: "{{ vault_jmx_ops }}", groups: [admins]}
    groups: {admins: [admin]}
    owner: kafka
    group: kafka
"""

RETURN = r"""
jvm_options:
  description: The options the environment file puts into O(env_variable) (no secret).
  returned: always
  type: list
  elements: str
access:
  description: User -> JDK access level (readonly or readwrite).
  returned: always
  type: dict
changed_files:
  description: The files this call wrote (or would write in check mode).
  returned: always
  type: list
  elements: str
restart_reasons:
  description: Why the JVM needs a restart for what changed ([] when nothing needs one).
  returned: always
  type: list
  elements: str
renewed_users:
  description: Users whose password entry was written anew (a new user or a new password).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError, atomic_write, stat_or_none
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import plan as jmx


def _settings(p):
    users = [jmx.User(u["name"], u.get("password"), tuple(u.get("roles") or ()), tuple(u.get("groups") or ()))
             for u in p["users"]]
    return jmx.JmxSettings(
        host=p["hostname"], directory=p["directory"], port=p["port"], rmi_port=p["rmi_port"],
        bind_address=p["bind_address"], rmi_hostname=p["rmi_hostname"],
        certificate_names=p["certificate_names"],
        keystore_type=p["keystore"]["type"], keystore_path=p["keystore"]["path"],
        keystore_password=p["keystore"]["password"],
        truststore_type=p["truststore"]["type"], truststore_path=p["truststore"]["path"],
        truststore_password=p["truststore"]["password"],
        need_client_auth=p["need_client_auth"], protocols=p["ssl_enabled_protocols"],
        cipher_suites=p["ssl_cipher_suites"], serial_filter=p["serial_filter"] or jmx.DEFAULT_SERIAL_FILTER,
        users=users, groups={k: list(v or []) for k, v in (p["groups"] or {}).items()},
        admin_role=p["admin_role"], env_variable=p["env_variable"], guard_enabled=p["guard_enabled"])


def _read(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(module, path, content, mode, owner, group, changed_files):
    """Write `content` when it differs (atomically), then owner/group/mode; True when anything changed."""
    changed = _read(path) != content
    if changed and not module.check_mode:
        atomic_write(path, content.encode("utf-8"), like=stat_or_none(path))
    args = module.load_file_common_arguments(module.params, path=path)
    args.update(mode=mode, owner=owner, group=group)
    if os.path.exists(path) and not (module.check_mode and changed):
        changed = module.set_fs_attributes_if_different(args, changed)
    if changed:
        changed_files.append(path)
    return changed


def main():
    store = dict(path=dict(type="path", required=True), type=dict(type="str", default="pkcs12"),
                 password=dict(type="str", no_log=True))
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", choices=["plan", "apply"], default="plan"),
            hostname=dict(type="str", required=True),
            directory=dict(type="path", required=True),
            env_file=dict(type="path", required=True),
            env_variable=dict(type="str", default="KAFKA_JMX_OPTS"),
            env_owner=dict(type="str"),
            env_group=dict(type="str"),
            env_mode=dict(type="str", default="0640"),
            port=dict(type="int", default=9999),
            rmi_port=dict(type="int"),
            bind_address=dict(type="str", required=True),
            rmi_hostname=dict(type="str", required=True),
            certificate_names=dict(type="list", elements="str", default=[]),
            keystore=dict(type="dict", required=True, options=store, no_log=False),
            truststore=dict(type="dict", required=True, options=store, no_log=False),
            keystore_changed=dict(type="bool", default=False),
            need_client_auth=dict(type="bool", default=False),
            ssl_enabled_protocols=dict(type="list", elements="str", default=list(jmx.PROTOCOLS)),
            ssl_cipher_suites=dict(type="list", elements="str", default=[]),
            serial_filter=dict(type="str"),
            users=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), password=dict(type="str", no_log=True),
                roles=dict(type="list", elements="str", default=[]),
                groups=dict(type="list", elements="str", default=[]))),
            groups=dict(type="dict", default={}),
            admin_role=dict(type="str", default="admin"),
            guard_enabled=dict(type="bool", default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    s = _settings(p)
    result = dict(changed=False, jvm_options=jmx.jvm_options(s), changed_files=[], restart_reasons=[],
                  renewed_users=[], access={u.name: jmx.access_level(u, s.groups, s.admin_role) for u in s.users})
    problems = jmx.problems(s)
    if p["step"] == "apply":
        problems += [("kafkasec_jmx_users", "kafkasec_jmx_users: user %r has no password (the role generates one "
                                            "when the inventory gives none)" % u.name)
                     for u in s.users if not u.password]
    if problems:
        module.fail_json(msg=problems_message(p["hostname"], problems), **result)
    if p["step"] == "plan":
        module.exit_json(**result)

    owner, group = p["owner"], p["group"]
    try:
        if not os.path.isdir(s.directory):
            result["changed_files"].append(s.directory)
            if not module.check_mode:
                os.makedirs(s.directory, 0o700)
        if os.path.isdir(s.directory):
            dir_args = module.load_file_common_arguments(p, path=s.directory)
            dir_args.update(mode="0700", owner=owner, group=group)
            if module.set_fs_attributes_if_different(dir_args, False) and s.directory not in result["changed_files"]:
                result["changed_files"].append(s.directory)
        contents, renewed = jmx.files(s, _read(s.path("password")) if os.path.isdir(s.directory) else None)
        reasons = []
        for kind in ("management", "password", "access", "ssl"):
            if _write(module, s.path(kind), contents[kind], "0600", owner, group, result["changed_files"]) \
                    and kind in jmx.RESTART_KINDS:
                reasons.append("JMX: %s changed" % os.path.basename(s.path(kind)))
        if _write(module, p["env_file"], jmx.env_file(s), p["env_mode"], p["env_owner"], p["env_group"],
                  result["changed_files"]):
            reasons.append("JMX: %s changed" % os.path.basename(p["env_file"]))
    except (FileError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (p["hostname"], exc), **result)
    if p["keystore_changed"]:
        reasons.append("JMX: stores renewed (the connector reads them at start-up)")
    result.update(changed=bool(result["changed_files"]), restart_reasons=reasons,
                  renewed_users=renewed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
