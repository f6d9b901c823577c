# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JMX guard in a real JVM, on JDK 17 and on JDK 25: rules rendered by module_utils/jmx/guard.py, remote JMX
with password authentication on 127.0.60.1, a real JMX client per user. The JDK's access file gives every user
readwrite (create and unregister too), so whatever is refused here is refused by the guard."""

from __future__ import annotations

import os
import time

import pytest

import jvmkit

DEMO = "kafkasec.test:type=Demo"
MEMORY = "java.lang:type=Memory"
DCMD = "com.sun.management:type=DiagnosticCommand"
HOTSPOT = "com.sun.management:type=HotSpotDiagnostic"
LOG4J = "kafka:type=kafka.Log4jController"
MLET = "kafkasec.loader:type=MLet"
GUARD = "kafkasec.jmx:type=Guard"
S2 = "java.lang.String|java.lang.String"

PASSWORDS = {"viewer": "viewer-pw-1", "manager": "manager-pw-2", "admin": "admin-pw-3", "nobody": "nobody-pw-4"}
SPEC = {
    "users": {"viewer": {"groups": ["monitoring"]}, "manager": {"groups": ["operators"]},
              "admin": {"groups": ["admins"]}, "nobody": {}},
    "groups": {"monitoring": ["viewer"], "operators": ["viewer", "manager"], "admins": ["admin"]},
    "rules": [
        # a wildcard rule and an argument rule (the op(/regex/) shorthand, written as Karaf's op[/regex/])
        {"mbean": DEMO, "operations": {"reset*": ["manager"], "setLevel(/kafka\\..*/, /INFO|DEBUG/)": ["manager"]}},
        # domain-wide grants that the built-in code-execution rules still override
        {"mbean": "com.sun.management:*", "operations": {"*": ["manager"]}},
        {"mbean": "kafka:*", "operations": {"*": ["manager"]}},
        {"mbean": "kafkasec.loader:*", "operations": {"*": ["manager", "viewer"]}},
    ],
}


@pytest.fixture(scope="module", params=sorted(jvmkit.JDKS))
def server(request, tmp_path_factory):
    srv = jvmkit.Server(request.param, tmp_path_factory.mktemp("jdk%s" % request.param), PASSWORDS,
                        {u: "readwrite create javax.management.timer.* unregister" for u in PASSWORDS}, SPEC)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def clients(server):
    opened = {}

    def get(user):
        if user not in opened:
            opened[user] = jvmkit.Client(server, user, PASSWORDS[user])
        return opened[user]
    yield get
    for c in opened.values():
        c.close()


def ok(answer):
    status, text = answer
    assert status == "OK", text
    return text


def denied(answer):
    status, text = answer
    assert status == "DENIED", text
    assert "kafkasec JMX guard" in text
    return text


def dcmd_operations(client):
    ops = []
    for entry in ok(client.ask("ops", DCMD)).split(" "):
        name, _, sig = entry.partition("(")
        ops.append((name, sig.rstrip(")").replace(",", "|")))
    assert len(ops) > 10 and ("jvmtiAgentLoad", "[Ljava.lang.String;") in ops
    return ops


def can(client, on, op=None, sig=None):
    fields = ["can", on] + ([op] if op is not None else []) + ([sig] if sig is not None else [])
    return ok(client.ask(*fields)) == "true"


def test_the_guard_wraps_the_platform_server_and_in_process_calls_pass(server):
    assert server.lines["SERVER"] == "io.kafkasec.jmxguard.GuardedMBeanServer"
    # TestServer invoked gc and DiagnosticCommand vmVersion in process (no Subject) before READY
    assert server.lines["INPROCESS"] == "true"
    # MLet exists on JDK 17 (removed in 23)
    assert server.lines["MLET"] == ("true" if server.jdk == "17" else "false")


def test_login_is_real(server):
    assert "SecurityException" in jvmkit.connect_error(server, "viewer", "wrong")
    assert "SecurityException" in jvmkit.connect_error(server, "", "")


def test_viewer(clients, server):
    v = clients("viewer")
    assert "used=" in ok(v.ask("get", MEMORY, "HeapMemoryUsage"))
    assert ok(v.ask("get", DEMO, "Count")) == "42"
    assert ok(v.ask("get", DEMO, "Enabled")) == "true"          # a boolean attribute: isEnabled
    assert ok(v.ask("getall", DEMO, "Count|Level")) == "[Count, Level]"
    assert can(v, MEMORY, "getHeapMemoryUsage")
    refused = [("invoke", MEMORY, "gc", ""), ("invoke", HOTSPOT, "dumpHeap", "java.lang.String|boolean",
                                              "/nonexistent/viewer.hprof|true"),
               ("invoke", DEMO, "resetCounter", ""), ("invoke", DEMO, "setLevel", S2, "kafka.server|DEBUG"),
               ("invoke", LOG4J, "setLogLevel", S2, "kafka|DEBUG"), ("invoke", DEMO, "shutdownNow", "")]
    for cmd in refused:
        assert "viewer" in denied(v.ask(*cmd))
        assert not can(v, cmd[1], cmd[2], cmd[3])
        assert not can(v, cmd[1], cmd[2])
    denied(v.ask("set", DEMO, "Level", "DEBUG"))
    assert not can(v, DEMO, "setLevel", "java.lang.String")
    for name, sig in dcmd_operations(v):
        denied(v.ask("invoke", DCMD, name, sig, ""))
        assert not can(v, DCMD, name, sig)
    assert not can(v, DCMD)
    assert can(v, DEMO)
    if server.jdk == "17":
        # the rules grant viewer everything on kafkasec.loader, but an MLet stays admin-only (the JDK's own access
        # layer refuses addURL and getMBeansFromURL to everyone; the guard refuses every MLet operation)
        denied(v.ask("invoke", MLET, "getResource", "java.lang.String", "nothing-here"))
        assert not can(v, MLET, "getResource", "java.lang.String")
    bulk = ok(v.ask("bulk", MEMORY, "gc|getHeapMemoryUsage", DCMD, "vmVersion|jvmtiAgentLoad", DEMO, "",
                    HOTSPOT, "dumpHeap(java.lang.String,boolean)"))
    assert bulk.split(";") == sorted([
        MEMORY + "|gc|false", MEMORY + "|getHeapMemoryUsage|true", DCMD + "|vmVersion|false",
        DCMD + "|jvmtiAgentLoad|false", DEMO + "||true", HOTSPOT + "|dumpHeap(java.lang.String,boolean)|false"])
    assert ok(v.ask("get", GUARD, "CurrentUser")) == "viewer"


def test_manager_gets_exactly_what_the_rules_grant(clients, server):
    m = clients("manager")
    # the wildcard rule reset*
    assert ok(m.ask("invoke", DEMO, "resetCounter", "")) == "null"
    assert can(m, DEMO, "resetCounter", "")
    # the argument rule setLevel[/kafka\..*/,/INFO|DEBUG/]: these arguments and no others
    assert ok(m.ask("invoke", DEMO, "setLevel", S2, "kafka.server|DEBUG")) == "kafka.server=DEBUG"
    assert "jmx.acl.cfg" in denied(m.ask("invoke", DEMO, "setLevel", S2, "kafka.server|TRACE"))
    denied(m.ask("invoke", DEMO, "setLevel", S2, "root|INFO"))
    assert can(m, DEMO, "setLevel", "java.lang.String|java.lang.String")   # with some arguments
    # nothing else on the MBean but reads (the root's defaults: set* and * for admins)
    denied(m.ask("invoke", DEMO, "shutdownNow", ""))
    assert not can(m, DEMO, "shutdownNow", "")
    denied(m.ask("set", DEMO, "Level", "DEBUG"))
    assert ok(m.ask("get", DEMO, "Count")) == "0"
    denied(m.ask("invoke", MEMORY, "gc", ""))
    assert not can(m, MEMORY, "gc")
    # com.sun.management:* grants manager every operation, yet DiagnosticCommand and dumpHeap stay admin-only
    assert "CompositeData" in ok(m.ask("invoke", HOTSPOT, "getVMOption", "java.lang.String", "MaxHeapSize"))
    assert "DiagnosticCommand" in denied(m.ask("invoke", DCMD, "vmVersion", ""))
    for name, sig in dcmd_operations(m):
        assert not can(m, DCMD, name, sig)
    assert not can(m, DCMD)
    denied(m.ask("invoke", HOTSPOT, "dumpHeap", "java.lang.String|boolean", "/nonexistent/manager.hprof|true"))
    assert not can(m, HOTSPOT, "dumpHeap")
    # kafka:* grants manager every operation, yet Kafka's Log4jController.setLogLevel stays admin-only
    assert ok(m.ask("invoke", LOG4J, "getLogLevel", "java.lang.String", "kafka")) == "INFO"
    assert "jmx.acl.kafka.kafka.Log4jController" in denied(m.ask("invoke", LOG4J, "setLogLevel", S2, "kafka|DEBUG"))
    assert not can(m, LOG4J, "setLogLevel")
    # creating, registering and unregistering MBeans is for admins
    denied(m.ask("create", "javax.management.timer.Timer", "kafkasec.test:type=Timer"))
    denied(m.ask("unregister", DEMO))
    if server.jdk == "17":
        denied(m.ask("invoke", MLET, "getResource", "java.lang.String", "nothing-here"))


def test_a_user_without_roles_gets_nothing(clients):
    n = clients("nobody")
    denied(n.ask("get", DEMO, "Count"))
    assert ok(n.ask("getall", DEMO, "Count|Level")) == "[]"
    assert not can(n, DEMO)
    assert not can(n, MEMORY)


def test_admin_gets_everything(clients, server, tmp_path):
    a = clients("admin")
    assert ok(a.ask("invoke", MEMORY, "gc", "")) == "null"
    assert ok(a.ask("invoke", DEMO, "shutdownNow", "")) == "would shut down"
    assert ok(a.ask("invoke", DEMO, "setLevel", S2, "root|TRACE")) == "root=TRACE"
    assert ok(a.ask("set", DEMO, "Level", "WARN")) == "set"
    assert "OpenJDK" in ok(a.ask("invoke", DCMD, "vmVersion", "")) or "VM" in ok(a.ask("invoke", DCMD, "vmVersion", ""))
    ok(a.ask("invoke", DCMD, "vmUptime", "[Ljava.lang.String;", ""))
    for name, sig in dcmd_operations(a):
        assert can(a, DCMD, name, sig)
    heap = tmp_path / "admin.hprof"
    ok(a.ask("invoke", HOTSPOT, "dumpHeap", "java.lang.String|boolean", "%s|true" % heap))
    assert heap.stat().st_size > 0
    heap.unlink()
    assert ok(a.ask("invoke", LOG4J, "setLogLevel", S2, "kafka|DEBUG")) == "true"
    assert ok(a.ask("create", "javax.management.timer.Timer", "kafkasec.test:type=Timer")) == "kafkasec.test:type=Timer"
    assert ok(a.ask("unregister", "kafkasec.test:type=Timer")) == "unregistered"
    if server.jdk == "17":
        assert ok(a.ask("invoke", MLET, "getResource", "java.lang.String", "nothing-here")) == "null"
    assert can(a, DCMD) and can(a, MEMORY, "gc")


def test_rules_changed_at_run_time_apply_without_a_restart(clients, server):
    v = clients("viewer")
    generation = int(ok(v.ask("get", GUARD, "Generation")))
    denied(v.ask("invoke", MEMORY, "gc", ""))
    spec = dict(SPEC, rules=SPEC["rules"] + [{"mbean": MEMORY, "operations": {"gc": ["viewer"]}}])
    jvmkit.write_rules(server.rules_dir, spec)
    deadline = time.monotonic() + 20
    while v.ask("invoke", MEMORY, "gc", "")[0] != "OK":
        assert time.monotonic() < deadline, "the changed rules were not taken within 20 s"
        time.sleep(0.2)
    assert can(v, MEMORY, "gc")
    assert int(ok(v.ask("get", GUARD, "Generation"))) > generation
    # the same JVM
    assert server.proc.poll() is None and server.pid == server.proc.pid
    os.kill(server.pid, 0)
    # and back: the extra rule removed again, gc refused again
    jvmkit.write_rules(server.rules_dir, SPEC)
    deadline = time.monotonic() + 20
    while v.ask("invoke", MEMORY, "gc", "")[0] != "DENIED":
        assert time.monotonic() < deadline, "the restored rules were not taken within 20 s"
        time.sleep(0.2)
    assert not can(v, MEMORY, "gc")
