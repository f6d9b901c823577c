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
  service:
    description:
      - The service whose JVM this is, which decides how the environment file passes the options (see
        C(plugins/module_utils/jmx/plan.py), C(SERVICES)). V(kafka) (brokers and controllers) and V(connect) -
        C(KAFKA_JMX_OPTS="...") for C(kafka-run-class.sh), valid for systemd C(EnvironmentFile=) and sh. V(zookeeper) -
        a sh fragment for C(zkServer.sh)'s environment - C(JMXDISABLE=true) (the script adds no JMX flag of its own)
        and the options appended to C(SERVER_JVMFLAGS), which keeps what another file (the JAAS option) put there.
    type: str
    choices: [kafka, connect, zookeeper]
    default: kafka
  env_variable:
    description:
      - The variable it sets; unset - the service's (C(KAFKA_JMX_OPTS) for Kafka and Connect, C(SERVER_JVMFLAGS) for
        ZooKeeper). Never C(JMX_PORT) or C(JMXPORT).
    type: str
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
    description:
      - Load the JMX guard (operation-level RBAC, C(java/jmx-guard)) from O(guard_jar_path) with its rules in
        O(guard_dir). The access file then gives every user C(readwrite) and the guard decides per MBean,
        operation and argument.
      - The jar itself is copied by the role (M(ansible.builtin.copy)) before O(step=apply); its SHA-256 goes into
        the JVM options, so a new jar changes the environment file and is a restart reason.
    type: bool
    default: false
  guard_jar_path:
    description: The guard's jar on the host (absolute, no spaces); required with O(guard_enabled).
    type: path
  guard_dir:
    description:
      - The guard's rules directory (created C(0700)); required with O(guard_enabled). The module writes
        C(jmx.users.cfg) and one C(jmx.acl*.cfg) per rule (C(0600)) and removes the guard's files it no longer
        renders. The guard re-reads the directory at run time, so a rules change is never a restart reason.
    type: path
  guard_poll_ms:
    description: How often the guard checks its rules directory, in milliseconds (>= 100); unset - its default (1000).
    type: int
  guard:
    description:
      - The guard's C(users) (name -> C(groups), C(roles)), C(groups) (name -> roles) and C(rules) (a list of
        C(mbean), C(operations) - operation key -> roles, Apache Karaf's grammar; see
        C(plugins/module_utils/jmx/guard.py)). Users and groups default to O(users) and O(groups) with
        O(admin_role) mapped to the guard's C(admin); a user or group named here replaces the derived one.
    type: dict
    default: {}
extends_documentation_fragment:
  - ansible.builtin.files
notes:
  - Check mode reports what would change and writes nothing. With C(--diff), the guard's rules files are shown
    (they hold no secret); the other files are not.
  - O(owner), O(group) apply to the four owner-only files and the guard's rules; their mode is always C(0600).
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
    guard_enabled: true
    guard_jar_path: /etc/kafka/jmx/kafkasec-jmx-guard.jar
    guard_dir: /etc/kafka/jmx/guard
    guard:
      groups: {operators: [viewer, manager]}
      rules:
        - mbean: kafka.log:type=LogManager
          operations: {"flush*": [manager]}
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
guard_files:
  description: The guard's rules files this call wrote or removed (or would, in check mode); never a restart reason.
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

import hashlib
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError, atomic_write, stat_or_none
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import guard as jmx_guard
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
        admin_role=p["admin_role"], service=p["service"],
        env_variable=p["env_variable"] or jmx.SERVICES[p["service"]].env_variable, guard_enabled=p["guard_enabled"],
        guard_jar_path=p["guard_jar_path"] or "", guard_rules_dir=p["guard_dir"] or "",
        guard_jar_sha256=_sha256(p["guard_jar_path"]) if p["guard_enabled"] else None,
        guard_poll_ms=p["guard_poll_ms"], guard_spec=p["guard"] or {})


def _sha256(path):
    """The jar's SHA-256 (None while it is not there: the plan step of a first run, check mode)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (OSError, TypeError):
        return None


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


def _ensure_dir(module, path, owner, group, changed_files):
    """The directory, 0700 and the service user's (created when missing; nothing in check mode)."""
    if not os.path.isdir(path):
        changed_files.append(path)
        if not module.check_mode:
            os.makedirs(path, 0o700)
    if os.path.isdir(path):
        args = module.load_file_common_arguments(module.params, path=path)
        args.update(mode="0700", owner=owner, group=group)
        if module.set_fs_attributes_if_different(args, False) and path not in changed_files:
            changed_files.append(path)


def _write_guard_rules(module, s, owner, group, result):
    """The guard's rules directory: every rendered file, the guard's stale files removed. No restart reason."""
    rules = jmx.guard_files(s)
    done = []
    _ensure_dir(module, s.guard_rules_dir, owner, group, done)
    diff = []
    for name, content in sorted(rules.items()):
        path = os.path.join(s.guard_rules_dir, name)
        before = _read(path)
        _write(module, path, content, "0600", owner, group, done)
        if before != content:
            diff.append(dict(before_header=path if before is not None else "/dev/null", after_header=path,
                             before=before or "", after=content))
    existing = os.listdir(s.guard_rules_dir) if os.path.isdir(s.guard_rules_dir) else []
    for name in jmx_guard.stale_files(existing, rules):
        path = os.path.join(s.guard_rules_dir, name)
        diff.append(dict(before_header=path, after_header="/dev/null", before=_read(path) or "", after=""))
        if not module.check_mode:
            os.unlink(path)
        done.append(path)
    if module._diff and diff:  # the rules hold no secret: shown as a diff
        result["diff"] = diff
    result["guard_files"] = [f for f in done if f != s.guard_rules_dir]
    result["changed_files"].extend(done)


def main():
    store = dict(path=dict(type="path", required=True), type=dict(type="str", default="pkcs12"),
                 password=dict(type="str", no_log=True))
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", choices=["plan", "apply"], default="plan"),
            hostname=dict(type="str", required=True),
            directory=dict(type="path", required=True),
            env_file=dict(type="path", required=True),
            service=dict(type="str", choices=list(jmx.SERVICES), default="kafka"),
            env_variable=dict(type="str"),
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
            guard_jar_path=dict(type="path"),
            guard_dir=dict(type="path"),
            guard_poll_ms=dict(type="int"),
            guard=dict(type="dict", default={}),
        ),
        required_if=[("guard_enabled", True, ("guard_jar_path", "guard_dir"))],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    p = module.params
    s = _settings(p)
    result = dict(changed=False, jvm_options=[], changed_files=[], restart_reasons=[], renewed_users=[],
                  guard_files=[],
                  access={u.name: jmx.access_level(u, s.groups, s.admin_role, s.guard_enabled) for u in s.users})
    problems = jmx.problems(s)
    if p["step"] == "apply":
        problems += [("kafkasec_jmx_users", "kafkasec_jmx_users: user %r has no password (the role generates one "
                                            "when the inventory gives none)" % u.name)
                     for u in s.users if not u.password]
        if s.guard_enabled and not s.guard_jar_sha256 and not module.check_mode:
            problems.append(("kafkasec_jmx_guard_jar_path", "kafkasec_jmx_guard_jar_path (%r): the guard's jar is not "
                                                            "there (the role copies it first)" % s.guard_jar_path))
    if problems:
        module.fail_json(msg=problems_message(p["hostname"], problems), **result)
    result["jvm_options"] = jmx.jvm_options(s)
    if p["step"] == "plan":
        module.exit_json(**result)

    owner, group = p["owner"], p["group"]
    try:
        _ensure_dir(module, s.directory, owner, group, result["changed_files"])
        contents, renewed = jmx.files(s, _read(s.path("password")) if os.path.isdir(s.directory) else None)
        reasons = []
        for kind in ("management", "password", "access", "ssl"):
            if _write(module, s.path(kind), contents[kind], "0600", owner, group, result["changed_files"]) \
                    and kind in jmx.RESTART_KINDS:
                reasons.append("JMX: %s changed" % os.path.basename(s.path(kind)))
        old_env = _read(p["env_file"]) or ""
        if _write(module, p["env_file"], jmx.env_file(s), p["env_mode"], p["env_owner"], p["env_group"],
                  result["changed_files"]):
            reasons.append("JMX: %s changed" % os.path.basename(p["env_file"]))
            reasons += jmx.guard_jar_reasons(s, old_env)
        if s.guard_enabled:
            _write_guard_rules(module, s, owner, group, result)
    except (FileError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (p["hostname"], exc), **result)
    if p["keystore_changed"]:
        reasons.append("JMX: stores renewed (the connector reads them at start-up)")
    result.update(changed=bool(result["changed_files"]), restart_reasons=reasons,
                  renewed_users=renewed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
