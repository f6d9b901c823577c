# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An ensemble's quorum TLS and its roll (plugins/module_utils/kafka/zookeeper_plan.py), table by table:
the phase zoo.cfg is in, how far a roll step may take a server, what the plan writes in each phase, the
srvr answer, the health gate, and the roll order (the leader last) with its problems."""

from __future__ import annotations

import socket
import threading

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import zookeeper_plan as zp

ENSEMBLE = """\
dataDir=/var/lib/zookeeper
clientPort=2181
clientPortAddress=10.0.0.1
server.1=zk-1.example:2888:3888
server.2=zk-2.example:2888:3888
server.3=zk-3.example:2888:3888
"""
FLAGS = {0: "", 1: "portUnification=true\n", 2: "sslQuorum=true\nportUnification=true\n",
         3: "sslQuorum=true\nportUnification=false\n"}


def cfg(phase=0, base=ENSEMBLE):
    return load(base + FLAGS[phase])


@pytest.mark.parametrize("text, phase", [
    ("", 0), ("sslQuorum=false\nportUnification=false\n", 0), ("portUnification=true\n", 1),
    ("portUnification=TRUE\nsslQuorum=no\n", 1), ("sslQuorum=true\nportUnification=true\n", 2),
    ("sslQuorum=true\n", 3), ("sslQuorum=true\nportUnification=false\n", 3),
])
def test_quorum_phase_of_zoo_cfg(text, phase):
    assert zp.quorum_phase(load(text)) == phase


@pytest.mark.parametrize("phase, step, floor, target", [
    (0, 1, 0, 1), (0, 2, 0, 1), (0, 3, 0, 1),     # never more than one step past the least advanced server
    (1, 2, 1, 2), (1, 3, 1, 2), (2, 3, 2, 3),
    (1, 1, 0, 1), (2, 1, 1, 2), (3, 1, 2, 3),     # never back
    (0, 2, 1, 2),                                 # a lagging server catches up to the step
    (3, 3, 3, 3), (0, 0, 0, 0), (0, 7, 0, 1), (2, 9, 2, 3),
])
def test_quorum_target(phase, step, floor, target):
    assert zp.quorum_target(phase, step, floor) == target


def test_ensemble_members():
    assert zp.ensemble_members(cfg()) == {1: "zk-1.example:2888:3888", 2: "zk-2.example:2888:3888",
                                          3: "zk-3.example:2888:3888"}
    assert zp.ensemble_members(load("clientPort=2181\nserver.x=a:1:2\n")) == {}


def plan(current, **settings):
    return zp.plan_zookeeper(current, zp.settings_from(dict(hostname="zk-1.example", **settings)))


@pytest.mark.parametrize("phase, step, floor, ssl_quorum, unification", [
    (0, 1, -1, "false", "true"),      # roll 1: portUnification on, the quorum still plaintext
    (1, 2, 1, "true", "true"),        # roll 2: sslQuorum on, plaintext still accepted
    (2, 3, 2, "true", "false"),       # roll 3: TLS only
    (3, 1, 3, "true", "false"),       # converged: nothing moves back
    (0, 3, 0, "false", "true"),       # the role alone (step 3) on a plaintext quorum: one step per run
    (1, 3, 0, "false", "true"),       # a server ahead of the others waits for them
])
def test_plan_writes_the_phase_of_the_step(phase, step, floor, ssl_quorum, unification):
    p = plan(cfg(phase), quorum_step=step, quorum_floor=floor)
    assert p.ensemble and p.quorum_phase == phase
    assert p.values["quorum"] is True
    assert (p.values["ssl_quorum"], p.values["port_unification"]) == (ssl_quorum, unification)
    assert p.values["quorum_hostname_verification"] == "true"
    assert p.problems == []


def test_hostname_verification_can_be_turned_off_for_a_shared_loopback():
    p = plan(cfg(0), quorum_step=1, quorum_hostname_verification="false")
    assert p.values["quorum_hostname_verification"] == "false"


@pytest.mark.parametrize("current, settings", [
    (load("clientPort=2181\ndataDir=/d\n"), {}),                               # standalone: no quorum
    (load("clientPort=2181\nserver.1=zk-1:2888:3888\n"), {}),                  # one server line: standalone
    (cfg(0), dict(quorum_tls=False)),                                          # the operator keeps the quorum
])
def test_no_quorum_block(current, settings):
    p = plan(current, **settings)
    assert p.values["quorum"] is False
    assert "ssl_quorum" not in p.values and p.problems == []


@pytest.mark.parametrize("step", [0, 4, "two", None])
def test_a_bad_step_names_the_variable(step):
    p = plan(cfg(0), quorum_step=step) if step is not None else None
    if p is None:   # None is "unset": the default step 3
        assert plan(cfg(0)).problems == []
        return
    assert [v for v, _ in p.problems] == ["kafkasec_zookeeper_quorum_step"]
    assert repr(step) in p.problems[0][1]


SRVR_FOLLOWER = """Zookeeper version: 3.8.4-9316c2a7a97e1666d8f4593f34dd6fc36ecc436c, built on 2024-02-12 22:16 UTC
Latency min/avg/max: 0/0.0/0
Received: 3
Sent: 2
Connections: 1
Outstanding: 0
Zxid: 0x10000001d
Mode: follower
Node count: 5
"""


@pytest.mark.parametrize("text, mode, serving", [
    (SRVR_FOLLOWER, "follower", True),
    (SRVR_FOLLOWER.replace("follower", "leader"), "leader", True),
    (SRVR_FOLLOWER.replace("follower", "standalone"), "standalone", True),
    ("This ZooKeeper instance is not currently serving requests\n", "", False),
    ("", "", False),
])
def test_parse_srvr(text, mode, serving):
    answer = zp.parse_srvr(text)
    assert (answer["mode"], answer["serving"]) == (mode, serving)
    if serving:
        assert answer["zxid"] == "0x10000001d"


@pytest.mark.parametrize("mode, ensemble, ok", [
    ("leader", True, True), ("follower", True, True), ("standalone", True, False), ("", True, False),
    ("observer", True, False), ("standalone", False, True), ("follower", False, False), ("", False, False),
])
def test_in_quorum(mode, ensemble, ok):
    assert zp.in_quorum(mode, ensemble) is ok


@pytest.mark.parametrize("text, endpoint", [
    ("secureClientPort=2182\nclientPort=2181\n", dict(host="zk", port=2182, tls=True)),
    ("clientPort=2181\n", dict(host="zk", port=2181, tls=False)),
    ("dataDir=/d\n", dict(host="zk", port=None, tls=False)),
])
def test_four_letter_word_endpoint(text, endpoint):
    assert zp.four_letter_word_endpoint(load(text), "zk") == endpoint


def test_four_letter_word_reads_until_the_server_closes():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got = []

    def serve():
        conn, _ = server.accept()
        got.append(conn.recv(4))
        conn.sendall(SRVR_FOLLOWER[:40].encode())
        conn.sendall(SRVR_FOLLOWER[40:].encode())
        conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        answer = zp.four_letter_word("127.0.0.1", server.getsockname()[1], "srvr", None, 5)
    finally:
        thread.join(5)
        server.close()
    assert got == [b"srvr"] and answer == SRVR_FOLLOWER


def status(mode, phase=0, ensemble=True):
    return dict(mode=mode, quorum_phase=phase, ensemble=ensemble)


HOSTS = ["zk-1", "zk-2", "zk-3"]


@pytest.mark.parametrize("statuses, order, leader", [
    ({"zk-1": status("leader"), "zk-2": status("follower"), "zk-3": status("follower")}, ["zk-2", "zk-3", "zk-1"], "zk-1"),
    ({"zk-1": status("follower"), "zk-2": status("leader"), "zk-3": status("follower")}, ["zk-1", "zk-3", "zk-2"], "zk-2"),
    ({"zk-1": status("follower"), "zk-2": status("follower"), "zk-3": status("leader")}, ["zk-1", "zk-2", "zk-3"], "zk-3"),
    # a server that does not serve goes first (it is not in the quorum: restarting it costs nothing)
    ({"zk-1": status("follower"), "zk-2": status("leader"), "zk-3": status("")}, ["zk-1", "zk-3", "zk-2"], "zk-2"),
    # nobody leads (no answer): inventory order
    ({"zk-1": status(""), "zk-2": status(""), "zk-3": status("")}, HOSTS, None),
    ({}, HOSTS, None),
])
def test_roll_order_puts_the_leader_last(statuses, order, leader):
    p = zp.roll_plan(HOSTS, statuses, step=1)
    assert p["order"] == order and p["leader"] == leader
    assert ("the leader %s last" % leader in p["message"]) if leader else ("inventory order" in p["message"]
                                                                          or not statuses)


def test_roll_plan_floor_and_targets():
    statuses = {"zk-1": status("follower", 2), "zk-2": status("leader", 1), "zk-3": status("follower", 1)}
    p = zp.roll_plan(HOSTS, statuses, step=1)
    assert p["floor"] == 1 and p["targets"] == {"zk-1": 2, "zk-2": 1, "zk-3": 1} and p["problems"] == []
    p = zp.roll_plan(HOSTS, statuses, step=2)
    assert p["targets"] == {"zk-1": 2, "zk-2": 2, "zk-3": 2}
    p = zp.roll_plan(HOSTS, statuses, step=3)
    assert p["targets"] == {"zk-1": 2, "zk-2": 2, "zk-3": 2}   # one past the floor, not 3
    assert "zk-2 1->2" in p["message"] and p["order"][-1] == "zk-2"


def test_a_split_ensemble_is_a_problem_naming_the_servers():
    statuses = {"zk-1": status("follower", 3), "zk-2": status("leader", 1), "zk-3": status("follower", 1)}
    p = zp.roll_plan(HOSTS, statuses, step=3)
    assert [x["variable"] for x in p["problems"]] == ["kafkasec_zookeeper_quorum_tls"]
    assert "zk-1: 3, zk-2: 1, zk-3: 1" in p["problems"][0]["message"]
    assert zp.roll_plan(HOSTS, statuses, step=3, quorum_tls=False)["problems"] == []


def test_a_standalone_server():
    p = zp.roll_plan(["zk-1"], {"zk-1": status("standalone", 0, ensemble=False)}, step=1)
    assert p["order"] == ["zk-1"] and not p["ensemble"] and p["targets"] == {"zk-1": 0}
    assert p["message"] == "ZooKeeper: zk-1, a standalone server"


def test_duplicates_are_rolled_once():
    assert zp.roll_plan(["zk-1", "zk-1", "zk-2"], {"zk-1": status("leader")})["order"] == ["zk-2", "zk-1"]


def test_what_the_template_lays_out_for_an_ensemble_and_a_standalone_server():
    p = plan(cfg(1), quorum_step=2, quorum_floor=1)
    assert p.values["quorum_store_prefixes"] == ["ssl.quorum."]
    assert list(p.values["quorum_values"].items()) == [
        ("sslQuorum", "true"), ("portUnification", "true"), ("ssl.quorum.protocol", "TLSv1.3"),
        ("ssl.quorum.enabledProtocols", "TLSv1.3,TLSv1.2"), ("ssl.quorum.hostnameVerification", "true")]
    alone = plan(load("clientPort=2181\n"))
    assert alone.values["quorum_store_prefixes"] == [] and alone.values["quorum_values"] == {}
