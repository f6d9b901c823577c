# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JMX planner with the guard on (plugins/module_utils/jmx/plan.py over guard.py), table by table: the JVM
options that load it, the access file (readwrite for everyone), the guard's users and groups derived from the
role's users and groups (admin role -> the guard's admin), the inventory's entries on top, the rules files, and
every bad input named with its variable and value."""

from __future__ import annotations

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import guard
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import plan as jmx

HOST = "kafka-1.lab.test"
JAR = "/etc/kafka/jmx/kafkasec-jmx-guard.jar"
RULES = "/etc/kafka/jmx/guard"
DIGEST = "ab" * 32
LOG4J_RULE = {"mbean": "kafka:type=kafka.Log4jController",
              "operations": {"setLogLevel(/kafka\\..*/, /INFO|WARN/)": ["manager"]}}


def settings(**over):
    base = dict(host=HOST, directory="/etc/kafka/jmx", bind_address="10.0.0.11", rmi_hostname=HOST,
                certificate_names=[HOST], keystore_path="/etc/kafka/pki/keystore.p12", keystore_password="ks-secret-1",
                truststore_path="/etc/kafka/pki/truststore.p12", truststore_password="ts-secret-1",
                users=[jmx.User("monitor", "monitor-password-1", roles=("viewer",)),
                       jmx.User("ops", "ops-password-123", groups=("admins",)),
                       jmx.User("mgr", "mgr-password-123", groups=("operators",))],
                groups={"admins": ["admin"], "viewers": ["viewer"], "operators": ["viewer", "manager"]},
                guard_enabled=True, guard_jar_path=JAR, guard_rules_dir=RULES, guard_jar_sha256=DIGEST)
    base.update(over)
    return jmx.JmxSettings(**base)


BASE_OPTIONS = ["-Dcom.sun.management.config.file=/etc/kafka/jmx/management.properties",
                "-Djava.rmi.server.hostname=kafka-1.lab.test"]
LOAD = ["-Xbootclasspath/a:" + JAR, "-Djavax.management.builder.initial=" + guard.BUILDER_CLASS,
        "-Dkafkasec.jmx.guard.config=" + RULES]

OPTION_CASES = [
    # (overrides, JVM options)
    ({"guard_enabled": False}, BASE_OPTIONS),
    ({}, BASE_OPTIONS + LOAD + ["-Dkafkasec.jmx.guard.jar.sha256=" + DIGEST]),
    ({"guard_jar_sha256": None}, BASE_OPTIONS + LOAD),                       # the plan of a first run: no jar yet
    ({"guard_poll_ms": 500}, BASE_OPTIONS + LOAD + ["-Dkafkasec.jmx.guard.poll.ms=500",
                                                    "-Dkafkasec.jmx.guard.jar.sha256=" + DIGEST]),
    ({"guard_enabled": False, "guard_jar_path": "bad path"}, BASE_OPTIONS),  # off: its settings are not used
]


@pytest.mark.parametrize("over,options", OPTION_CASES)
def test_jvm_options(over, options):
    s = settings(**over)
    assert jmx.problems(s) == []
    assert jmx.jvm_options(s) == options
    assert jmx.env_file(s).count('KAFKA_JMX_OPTS="%s"' % " ".join(options)) == 1


def test_a_new_jar_changes_the_environment_file():
    assert jmx.env_file(settings()) != jmx.env_file(settings(guard_jar_sha256="cd" * 32))


JAR_REASON_CASES = [
    # (overrides, environment file in place, reasons)
    ({}, "", []),                                                      # first run: the env file's change says it
    ({}, jmx.env_file(settings(guard_enabled=False)), []),             # the guard turned on: likewise
    ({}, jmx.env_file(settings()), []),                                # the same jar
    ({}, jmx.env_file(settings(guard_jar_sha256="cd" * 32)), ["JMX: the guard's jar is new (abababababab)"]),
    ({"guard_enabled": False}, jmx.env_file(settings(guard_jar_sha256="cd" * 32)), []),
]


@pytest.mark.parametrize("over,old_env,reasons", JAR_REASON_CASES)
def test_guard_jar_reasons(over, old_env, reasons):
    assert jmx.guard_jar_reasons(settings(**over), old_env) == reasons


ACCESS_CASES = [
    # (guard on, user -> JDK level)
    (False, {"monitor": "readonly", "ops": "readwrite", "mgr": "readonly"}),
    (True, {"monitor": "readwrite", "ops": "readwrite", "mgr": "readwrite"}),
]


@pytest.mark.parametrize("enabled,levels", ACCESS_CASES)
def test_access_file(enabled, levels):
    s = settings(guard_enabled=enabled)
    access = jmx.files(s)[0]["access"]
    lines = [line for line in access.splitlines() if not line.startswith("#")]
    assert lines == ["%s %s" % item for item in levels.items()]
    assert {u.name: jmx.access_level(u, s.groups, s.admin_role, enabled) for u in s.users} == levels
    assert "create" not in "\n".join(lines) and "unregister" not in access


SPEC_CASES = [
    # (overrides, guard spec -> expected users, groups)
    ({}, {},
     {"monitor": {"groups": [], "roles": ["viewer"]}, "ops": {"groups": ["admins"], "roles": []},
      "mgr": {"groups": ["operators"], "roles": []}},
     {"admins": ["admin"], "viewers": ["viewer"], "operators": ["viewer", "manager"]}),
    # a custom admin role is the guard's admin (which holds every role)
    ({"admin_role": "ops", "groups": {"admins": ["ops"]},
      "users": [jmx.User("root", "root-password-12", roles=("ops", "viewer"))]}, {},
     {"root": {"groups": [], "roles": ["admin", "viewer"]}}, {"admins": ["admin"]}),
    # the inventory's user and group replace the derived ones, the others stay
    ({}, {"users": {"monitor": {"groups": ["auditors"]}}, "groups": {"auditors": ["viewer", "auditor"]}},
     {"monitor": {"groups": ["auditors"]}, "ops": {"groups": ["admins"], "roles": []},
      "mgr": {"groups": ["operators"], "roles": []}},
     {"admins": ["admin"], "viewers": ["viewer"], "operators": ["viewer", "manager"],
      "auditors": ["viewer", "auditor"]}),
]


@pytest.mark.parametrize("over,spec,users,groups", SPEC_CASES)
def test_guard_users_and_groups(over, spec, users, groups):
    s = settings(guard_spec=spec, **over)
    assert jmx.problems(s) == []
    derived = jmx.guard_spec(s)
    assert derived["users"] == users and derived["groups"] == groups


def test_rules_files_are_the_rendered_spec():
    s = settings(guard_spec={"rules": [LOG4J_RULE, {"mbean": "java.lang:type=Threading",
                                                    "operations": {"reset*": ["manager"]}}]})
    files = jmx.guard_files(s)
    assert sorted(files) == ["jmx.acl.java.lang.Threading.cfg", "jmx.acl.kafka.kafka.Log4jController.cfg",
                             "jmx.users.cfg"]
    assert "setLogLevel[/kafka\\\\..*/,/INFO|WARN/] = manager\n" in files["jmx.acl.kafka.kafka.Log4jController.cfg"]
    users = files["jmx.users.cfg"]
    assert "monitor = viewer\n" in users and "ops = _g_:admins\n" in users and "mgr = _g_:operators\n" in users
    assert "_g_\\:operators = group, viewer, manager\n" in users
    for content in files.values():
        assert "password" not in content
    # a changed rule set: the old file is stale, the JVM options do not change (no restart)
    changed = settings(guard_spec={"rules": [LOG4J_RULE]})
    assert guard.stale_files(files, jmx.guard_files(changed)) == ["jmx.acl.java.lang.Threading.cfg"]
    assert jmx.jvm_options(changed) == jmx.jvm_options(s) and jmx.env_file(changed) == jmx.env_file(s)


PROBLEM_CASES = [
    # (overrides, variable, text in the message)
    ({"guard_jar_path": "relative.jar"}, "kafkasec_jmx_guard_jar_path", "'relative.jar'"),
    ({"guard_jar_path": "/a b/guard.jar"}, "kafkasec_jmx_guard_jar_path", "'/a b/guard.jar'"),
    ({"guard_rules_dir": ""}, "kafkasec_jmx_guard_dir", "''"),
    ({"guard_rules_dir": "/etc/kafka/jmx"}, "kafkasec_jmx_guard_dir", "a directory of its own"),
    ({"guard_poll_ms": 50}, "kafkasec_jmx_guard_poll_ms", "got 50"),
    ({"guard_spec": {"rule": []}}, "kafkasec_jmx_guard", "unknown key(s) rule"),
    ({"guard_spec": ["x"]}, "kafkasec_jmx_guard", "a mapping"),
    ({"guard_spec": {"users": ["monitor"]}}, "kafkasec_jmx_guard", "kafkasec_jmx_guard.users: a mapping"),
    ({"guard_spec": {"rules": [{"mbean": "kafka.log", "operations": {"get*": ["viewer"]}}]}},
     "kafkasec_jmx_guard", "kafkasec_jmx_guard.rules[0].mbean: 'kafka.log' is not an ObjectName"),
    ({"guard_spec": {"rules": [{"mbean": "kafka:*", "operations": {"set*Level*": ["viewer"]}}]}},
     "kafkasec_jmx_guard", "'set*Level*'"),
    ({"guard_spec": {"rules": [{"mbean": "kafka:*", "operations": {"flush(/[a-/)": ["manager"]}}]}},
     "kafkasec_jmx_guard", "bad regex /[a-/"),
    ({"guard_spec": {"users": {"monitor": {"groups": ["nope"]}}}}, "kafkasec_jmx_guard",
     "'nope' is not a group of kafkasec_jmx_guard.groups"),
]


@pytest.mark.parametrize("over,variable,text", PROBLEM_CASES)
def test_problems_name_variable_and_value(over, variable, text):
    found = jmx.problems(settings(**over))
    assert [v for v, _ in found] == [variable], found
    assert text in found[0][1], found
    for _, message in found:
        assert "password-1" not in message and "secret" not in message


def test_guard_settings_are_not_checked_when_it_is_off():
    assert jmx.problems(settings(guard_enabled=False, guard_rules_dir="", guard_poll_ms=1,
                                 guard_spec={"rule": []})) == []
