# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/jmx/guard.py: the JVM options that load the JMX guard, ObjectName -> Karaf PID, the
operation keys (Karaf's grammar and the op(/regex/) shorthand), the rendered files read back as
java.util.Properties reads them, and every bad input named with the variable and the value, table by table.
The guard itself runs in tests/jmx_guard (real JVMs)."""

from __future__ import annotations

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import guard as g

EXAMPLE = {
    "users": {"alice": {"groups": ["monitoring"], "roles": []},
              "bob": {"groups": ["monitoring"], "roles": ["manager"]},
              "root": {"groups": ["admins"]}},
    "groups": {"monitoring": ["viewer"], "admins": ["admin"]},
    "rules": [{"mbean": "kafka.log:type=LogManager",
               "operations": {"get*": ["viewer"],
                              "setLogLevel(java.lang.String, java.lang.String)": ["admin"],
                              "flush(/.*/)": ["manager"]}},
              {"mbean": "*:*", "operations": {"get*": ["viewer", "manager"], "*": ["admin"]}}],
}


def load_properties(text):
    """java.util.Properties.load for what render_rules writes (one logical line per entry, escaped keys)."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip()[0] in "#!":
            continue
        key, i = [], 0
        while i < len(line):
            ch = line[i]
            if ch == "\\":
                nxt = line[i + 1]
                if nxt == "u":
                    key.append(chr(int(line[i + 2:i + 6], 16)))
                    i += 6
                    continue
                key.append(nxt)
                i += 2
                continue
            if ch in " =:":
                break
            key.append(ch)
            i += 1
        rest = line[i:].lstrip(" ")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" ")
        out["".join(key)] = rest
    return out


def test_jvm_options():
    assert g.jvm_options("/opt/kafkasec/kafkasec-jmx-guard.jar", "/etc/kafka/jmx-guard") == [
        "-Xbootclasspath/a:/opt/kafkasec/kafkasec-jmx-guard.jar",
        "-Djavax.management.builder.initial=io.kafkasec.jmxguard.GuardMBeanServerBuilder",
        "-Dkafkasec.jmx.guard.config=/etc/kafka/jmx-guard"]
    assert g.jvm_options("/a.jar", "/r", poll_ms=500)[-1] == "-Dkafkasec.jmx.guard.poll.ms=500"


@pytest.mark.parametrize("jar, rules, poll, message", [
    ("relative.jar", "/r", None, "'relative.jar'"),
    ("/a b.jar", "/r", None, "'/a b.jar'"),
    ("/a.jar", "/r;rm -rf /", None, "rules path"),
    ("/a.jar", "/", None, "rules path"),
    ("/a.jar", "/r", 10, "10"),
    ("/a.jar", "/r", True, "True"),
])
def test_jvm_options_bad(jar, rules, poll, message):
    with pytest.raises(g.GuardRulesError) as e:
        g.jvm_options(jar, rules, poll, variable="kafkasec_jmx_guard_jar")
    assert "kafkasec_jmx_guard_jar" in str(e.value) and message in str(e.value)


@pytest.mark.parametrize("mbean, pid", [
    ("kafka.log:type=LogManager", "jmx.acl.kafka.log.LogManager"),
    ("kafka.server:name=MessagesInPerSec,type=BrokerTopicMetrics", "jmx.acl.kafka.server.BrokerTopicMetrics.MessagesInPerSec"),
    ("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec,topic=t", "jmx.acl.kafka.server.BrokerTopicMetrics.MessagesInPerSec.t"),
    ("kafka.server:type=BrokerTopicMetrics,*", "jmx.acl.kafka.server.BrokerTopicMetrics"),
    ("kafka.server:type=*,name=MessagesInPerSec", "jmx.acl.kafka.server._.MessagesInPerSec"),
    ("kafka.server:*", "jmx.acl.kafka.server"),
    ("kafka:type=kafka.Log4jController", "jmx.acl.kafka.kafka.Log4jController"),
    ("com.sun.management:type=DiagnosticCommand", "jmx.acl.com.sun.management.DiagnosticCommand"),
    ('d:type=T,name="a,b"', 'jmx.acl.d.T."a,b"'),
    ("*:*", "jmx.acl"),
])
def test_pid_of(mbean, pid):
    assert g.pid_of(mbean) == pid


@pytest.mark.parametrize("mbean, message", [
    ("kafka.log", "no ':'"),
    (":type=X", "domain is empty"),
    ("kafka.*:type=X", "domain pattern"),
    ("kafka.log:", "no key property"),
    ("kafka.log:type", "not key=value"),
    ("kafka.log:type=Log*", "value patterns"),
    ("kafka.log:type=a,type=b", "appears twice"),
    ("kafka.log:*,type=a", "only as the last"),
    ("kafka.log:type=a/b", "file name"),
    ('kafka.log:name="open', "not closed"),
    ("", "required"),
    (None, "required"),
])
def test_pid_of_bad(mbean, message):
    with pytest.raises(g.GuardRulesError) as e:
        g.pid_of(mbean, "kafkasec_jmx_guard.rules[0].mbean")
    assert str(e.value).startswith("kafkasec_jmx_guard.rules[0].mbean: ") and message in str(e.value)


@pytest.mark.parametrize("key, normal", [
    ("*", "*"), ("get*", "get*"), ("*Size", "*Size"), ("*Log*", "*Log*"), ("gc", "gc"),
    ("gc()", "gc()"),
    ("setLogLevel(java.lang.String, java.lang.String)", "setLogLevel(java.lang.String,java.lang.String)"),
    ("flush(/.*/)", "flush[/.*/]"),
    ('flush(/topic-.*/, "x")', 'flush[/topic-.*/,"x"]'),
    ('flush(java.lang.String)["orders"]', 'flush(java.lang.String)["orders"]'),
    ("flush[/a,b/]", "flush[/a,b/]"),
    ("jvmtiAgentLoad([Ljava.lang.String;)", "jvmtiAgentLoad([Ljava.lang.String;)"),
    (r"m[/\p{Alpha}+/]", r"m[/\p{Alpha}+/]"),
])
def test_normalise_operation(key, normal):
    assert g.normalise_operation(key) == normal


@pytest.mark.parametrize("key, message", [
    ("fl*sh", "wildcard"),
    ("get-x", "not an operation name"),
    ("flush(/(/)", "bad regex"),
    ("flush(java.lang.String", "no ')'"),
    ("flush(java lang)", "not a Java type"),
    ("flush[topic]", '"literal" or /regex/'),
    ('flush["a]', "not closed"),
    ("flush(java.lang.String)x", "expected"),
    ("flush[]", "missing"),
    ("", "non-empty"),
    ("a\nb", "line break"),
])
def test_normalise_operation_bad(key, message):
    with pytest.raises(g.GuardRulesError) as e:
        g.normalise_operation(key, "kafkasec_jmx_guard.rules[0].operations")
    assert "kafkasec_jmx_guard.rules[0].operations" in str(e.value) and message in str(e.value)


def test_render_example_reads_back_as_properties():
    files = g.render_rules(EXAMPLE)
    assert sorted(files) == ["jmx.acl.cfg", "jmx.acl.kafka.log.LogManager.cfg", "jmx.users.cfg"]
    assert load_properties(files["jmx.users.cfg"]) == {
        "alice": "_g_:monitoring", "bob": "_g_:monitoring, manager", "root": "_g_:admins",
        "_g_:monitoring": "group, viewer", "_g_:admins": "group, admin"}
    assert load_properties(files["jmx.acl.kafka.log.LogManager.cfg"]) == {
        "get*": "viewer", "setLogLevel(java.lang.String,java.lang.String)": "admin", "flush[/.*/]": "manager"}
    assert load_properties(files["jmx.acl.cfg"]) == {"get*": "viewer, manager", "*": "admin"}
    # keys with the characters Properties treats specially survive the round trip
    text = g.render_rules({"rules": [{"mbean": "d:type=T", "operations": {
        r'op(java.lang.String)["a b=c:d#e!f\g"]': ["x"], r"m[/a\d+ =/]": ["y"]}}]})["jmx.acl.d.T.cfg"]
    assert load_properties(text) == {r'op(java.lang.String)["a b=c:d#e!f\g"]': "x", r"m[/a\d+ =/]": "y"}


def test_render_is_stable_and_empty_input_gives_users_file_only():
    assert g.render_rules(EXAMPLE) == g.render_rules(EXAMPLE)
    assert list(g.render_rules({})) == ["jmx.users.cfg"]
    assert list(g.render_rules(None)) == ["jmx.users.cfg"]


@pytest.mark.parametrize("spec, where, message", [
    ({"user": {}}, "kafkasec_jmx_guard", "unknown key(s) user"),
    ({"users": []}, "kafkasec_jmx_guard.users", "mapping"),
    ({"users": {"a b": {}}}, "kafkasec_jmx_guard.users", "'a b'"),
    ({"users": {"_g_:x": {}}}, "kafkasec_jmx_guard.users", "'_g_:x'"),
    ({"users": {"alice": {"group": ["x"]}}}, "kafkasec_jmx_guard.users.alice", "unknown key(s) group"),
    ({"users": {"alice": {"groups": ["nope"]}}}, "kafkasec_jmx_guard.users.alice.groups", "'nope' is not a group"),
    ({"users": {"alice": {"groups": "monitoring"}}}, "kafkasec_jmx_guard.users.alice.groups", "list of group"),
    ({"users": {"alice": {"roles": ["bad role"]}}}, "kafkasec_jmx_guard.users.alice.roles", "'bad role'"),
    ({"groups": {"g": "viewer"}}, "kafkasec_jmx_guard.groups.g", "list of role"),
    ({"groups": {"g h": ["viewer"]}}, "kafkasec_jmx_guard.groups", "'g h'"),
    ({"rules": {"mbean": "x:y=z"}}, "kafkasec_jmx_guard.rules", "list of"),
    ({"rules": [{"operations": {"*": ["admin"]}}]}, "kafkasec_jmx_guard.rules[0]", "'mbean'"),
    ({"rules": [{"mbean": "x:y=z", "operation": {}}]}, "kafkasec_jmx_guard.rules[0]", "unknown key(s) operation"),
    ({"rules": [{"mbean": "x:y=z"}]}, "kafkasec_jmx_guard.rules[0].operations", "at least one"),
    ({"rules": [{"mbean": "kafka.log:type=Log*", "operations": {"*": ["admin"]}}]},
     "kafkasec_jmx_guard.rules[0].mbean", "'kafka.log:type=Log*'"),
    ({"rules": [{"mbean": "x:type=y", "operations": {"flush(/[/)": ["m"]}}]},
     "kafkasec_jmx_guard.rules[0].operations['flush(/[/)']", "bad regex"),
    ({"rules": [{"mbean": "x:type=y", "operations": {"get*": "viewer"}}]},
     "kafkasec_jmx_guard.rules[0].operations['get*']", "list of role"),
    ({"rules": [{"mbean": "x:type=y", "operations": {"get*": ["viewer"], " get* ": ["admin"]}}]},
     "kafkasec_jmx_guard.rules[0].operations[' get* ']", "same rule"),
    ({"rules": [{"mbean": "x:type=y", "operations": {"*": ["a"]}}, {"mbean": "x:type=y,*", "operations": {"*": ["a"]}}]},
     "kafkasec_jmx_guard.rules[1].mbean", "as kafkasec_jmx_guard.rules[0] does"),
])
def test_render_bad_input(spec, where, message):
    with pytest.raises(g.GuardRulesError) as e:
        g.render_rules(spec)
    assert str(e.value).startswith(where + ": ") and message in str(e.value), str(e.value)


def test_stale_files():
    rendered = g.render_rules(EXAMPLE)
    assert g.stale_files(["jmx.acl.cfg", "jmx.acl.old.X.cfg", "jmx.users.cfg", "other.cfg", "jmx.acl.x.cfg.bak"],
                         rendered) == ["jmx.acl.old.X.cfg"]
