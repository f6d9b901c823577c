# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live migration of a static and of a dynamic quorum (the node planner,
plugins/module_utils/kafka/broker_plan.py) and the quorum gate of a dynamic one
(plugins/module_utils/kafka/quorum.py), table by table.

The describe output below is Kafka 4.3.1's (kafka-metadata-quorum describe --status on the lab with
--quorum dynamic), as the lab showed it during the migration: after phase 1 each voter lists both
controller endpoints (it updated its own record when it restarted), after phase 3 only CONTROLLER_SSL.
The golden case dynamic-plain__add_tls (tests/unit/golden/broker_plans.json) keeps the bootstrap
servers on the old port in phase 1, as the static case keeps its voters: the Jinja it was recorded
from moved them at once, which the playbook never ran (it refused a dynamic quorum).
"""

from __future__ import annotations

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import broker_plan as bp
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import quorum as q
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import node_facts

# ------------------------------------------------------------------------------ the planner, phase by phase

HOSTS = ["kafka-1.lab.test", "kafka-2.lab.test", "kafka-3.lab.test"]
BASE = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "listeners": "PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9094",
    "advertised.listeners": "PLAINTEXT://kafka-1.lab.test:9092,CONTROLLER://kafka-1.lab.test:9094",
    "inter.broker.listener.name": "PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": "/var/lib/kafka/data",
}
QUORUM = {
    "static": {"controller.quorum.voters": ",".join("%d@%s:9094" % (i + 1, h) for i, h in enumerate(HOSTS))},
    "dynamic": {"controller.quorum.bootstrap.servers": ",".join("%s:9094" % h for h in HOSTS)},
}
# The server.properties keys the planner sets, each from its plan's field (the broker planner's tests own the table).
from test_broker_plan import PLANNED_KEYS as KEYS  # noqa: E402  pylint: disable=wrong-import-position


def settings(phase, **overrides):
    params = dict(hostname=HOSTS[0], advertised_host=HOSTS[0], dns_names=[HOSTS[0]], controller_listener_name="CONTROLLER_SSL",
                  controller_port=9095, migration_phase=phase, authorizer_enabled=False)
    params.update(overrides)
    return bp.settings_from(params)


def written(props, plan):
    """The node's file after the role wrote the plan (empty keys are removed)."""
    after = dict(props)
    for key, of in KEYS.items():
        value = of(plan.values)
        if value:
            after[key] = value
        else:
            after.pop(key, None)
    return after


def quorum_endpoints(props):
    return props.get("controller.quorum.voters") or props.get("controller.quorum.bootstrap.servers")


# Each phase from the file the phase before it left: static and dynamic quorum alike. The quorum's
# endpoints (static voters or dynamic bootstrap servers) stay on 9094 in phase 1 (the nodes still
# connect out on CONTROLLER) and move to 9095 in phase 2; no phase moves the whole quorum at once.
@pytest.mark.parametrize("mode", ["static", "dynamic"])
@pytest.mark.parametrize("phase, stage_before, names, port, inter_broker", [
    ("add_tls", 0, "CONTROLLER,CONTROLLER_SSL", ":9094", "PLAINTEXT"),
    ("move_internal", 1, "CONTROLLER_SSL,CONTROLLER", ":9095", "SSL"),
    ("drop_plaintext", 2, "CONTROLLER_SSL", ":9095", "SSL"),
])
def test_each_phase_of_a_static_and_a_dynamic_quorum(mode, phase, stage_before, names, port, inter_broker):
    props = dict(BASE, **QUORUM[mode])
    for earlier in bp.PHASES[1:bp.PHASES.index(phase)]:
        props = written(props, bp.plan_node(props, settings(earlier, keep_plaintext=False)))
    plan = bp.plan_node(props, settings(phase))
    assert plan.stage == stage_before
    assert plan.dynamic_quorum == (mode == "dynamic")
    assert plan.problems == []
    assert bp.migration_problems(plan, settings(phase), []) == []
    assert not plan.switch_expected
    after = written(props, plan)
    assert after["controller.listener.names"] == names
    assert after["inter.broker.listener.name"] == inter_broker
    endpoints = quorum_endpoints(after)
    assert endpoints.count(port) == 3 and endpoints.count(":909") == 3
    assert ("controller.quorum.voters" in after) == (mode == "static")
    # the new controller listener is advertised, so a voter's record can list it
    assert "CONTROLLER_SSL://kafka-1.lab.test:9095" in after["advertised.listeners"]
    assert ("CONTROLLER://kafka-1.lab.test:9094" in after["advertised.listeners"]) == (phase != "drop_plaintext")
    # a rerun of the phase on the file it wrote changes nothing
    again = bp.plan_node(after, settings(phase))
    assert written(after, again) == after


@pytest.mark.parametrize("mode", ["static", "dynamic"])
@pytest.mark.parametrize("phase, stage, pending, ready", [
    ("add_tls", 0, [], True),
    ("move_internal", 0, [], False),                                   # phase 1 not done
    ("move_internal", 1, [], True),
    ("move_internal", 1, ["server.properties: listeners"], False),     # phase 1 written, not rolled
    ("add_tls", 1, ["server.properties: listeners"], True),            # a rerun of phase 1
    ("drop_plaintext", 1, [], False),
    ("drop_plaintext", 2, [], True),
])
def test_which_phase_may_run_on_a_static_and_a_dynamic_quorum(mode, phase, stage, pending, ready):
    props = dict(BASE, **QUORUM[mode])
    for earlier in bp.PHASES[1:stage + 1]:
        props = written(props, bp.plan_node(props, settings(earlier)))
    plan = bp.plan_node(props, settings(phase))
    assert plan.stage == stage
    problems = bp.migration_problems(plan, settings(phase), pending)
    assert (problems == []) == ready
    if not ready:
        assert problems[0][0] == "kafkasec_broker_migration_phase"
        assert "dynamic" not in problems[0][1]


@pytest.mark.parametrize("mode, phase, port, refused", [
    ("dynamic", "none", 9094, False),       # site.yml on a PLAINTEXT dynamic quorum keeps the port
    ("dynamic", "none", 9095, True),        # site.yml cannot move a dynamic quorum's port
    ("dynamic", "add_tls", 9095, False),    # migrate_to_tls.yml can, one voter at a time
    ("dynamic", "move_internal", 9095, False),
    ("static", "none", 9095, False),        # a static quorum moves together instead (switch_expected)
])
def test_only_the_migration_moves_a_dynamic_quorums_port(mode, phase, port, refused):
    props = dict(BASE, **QUORUM[mode])
    plan = bp.plan_node(props, settings(phase, controller_port=port,
                                        controller_listener_name="CONTROLLER" if phase == "none" else "CONTROLLER_SSL"))
    problems = dict(plan.problems)
    assert ("kafkasec_broker_controller_port" in problems) == refused
    if refused:
        assert "migrate_to_tls.yml" in problems["kafkasec_broker_controller_port"]


@pytest.mark.parametrize("mode, dynamic", [("static", False), ("dynamic", True)])
def test_the_roll_knows_a_dynamic_quorum(mode, dynamic):
    assert node_facts(dict(BASE, **QUORUM[mode]))["dynamic_quorum"] is dynamic
    assert node_facts(dict(BASE, **QUORUM[mode], **{"process.roles": "broker"}))["dynamic_quorum"] is False
    assert q.is_dynamic(dict(BASE, **QUORUM[mode])) is dynamic


# ------------------------------------------------------------------------------ the quorum gate

def describe(voters, leader=2, lag=0, observers="[]"):
    import json
    records = [{"id": i, "directoryId": "dir%d" % i, "endpoints": endpoints} for i, endpoints in voters]
    return "\n".join([
        "ClusterId:              jHxVFw8oRJuAtuzQrPfCTQ",
        "LeaderId:               %d" % leader,
        "LeaderEpoch:            3",
        "HighWatermark:          545",
        "MaxFollowerLag:         %d" % lag,
        "MaxFollowerLagTimeMs:   0",
        "CurrentVoters:          %s" % json.dumps(records),
        "CurrentObservers:       %s" % observers,
    ])


def both(i):
    return ["CONTROLLER://kafka-%d.lab.test:9094" % i, "CONTROLLER_SSL://kafka-%d.lab.test:9095" % i]


def old(i):
    return ["CONTROLLER://kafka-%d.lab.test:9094" % i]


def new(i):
    return ["CONTROLLER_SSL://kafka-%d.lab.test:9095" % i]


def test_parse_kafka_4_3_describe_status():
    text = describe([(1, both(1)), (2, old(2)), (3, both(3))], observers='[{"id": 4, "directoryId": "x", "endpoints": []}]')
    status = q.parse_status(text)
    assert (status.leader_id, status.leader_epoch, status.high_watermark, status.max_follower_lag) == (2, 3, 545, 0)
    assert [v.id for v in status.voters] == [1, 2, 3]
    assert status.voter(1).endpoints == both(1) and status.voter(2).directory_id == "dir2"
    assert status.voter(9) is None
    assert status.observers == [4]
    assert status.as_dict()["voters"][2] == dict(id=3, directory_id="dir3", endpoints=both(3))


@pytest.mark.parametrize("text, words", [
    ("", "did not report LeaderId"),
    ("LeaderId: 1\nLeaderEpoch: 1\nHighWatermark: 1\nMaxFollowerLag: 0\nCurrentVoters: [1,", "not JSON"),
    ("LeaderId: x\nLeaderEpoch: 1\nHighWatermark: 1\nMaxFollowerLag: 0\nCurrentVoters: []", "LeaderId is not a number"),
    ("LeaderId: 1\nLeaderEpoch: 1\nHighWatermark: 1\nMaxFollowerLag: 0\nCurrentVoters: [{}]", "without an id"),
])
def test_unreadable_describe_output_is_named(text, words):
    with pytest.raises(q.QuorumError, match=words):
        q.parse_status(text)


PHASE_FILES = {
    # the node's controller keys in each phase: (controller.listener.names, listeners, advertised.listeners, map)
    0: ("CONTROLLER", "PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9094",
        "PLAINTEXT://kafka-1.lab.test:9092,CONTROLLER://kafka-1.lab.test:9094", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"),
    1: ("CONTROLLER,CONTROLLER_SSL", "PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9094,CONTROLLER_SSL://127.0.1.1:9095",
        "PLAINTEXT://kafka-1.lab.test:9092,CONTROLLER://kafka-1.lab.test:9094,CONTROLLER_SSL://kafka-1.lab.test:9095",
        "CONTROLLER:PLAINTEXT,CONTROLLER_SSL:SSL,PLAINTEXT:PLAINTEXT"),
    2: ("CONTROLLER_SSL,CONTROLLER", "PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9094,CONTROLLER_SSL://127.0.1.1:9095",
        "PLAINTEXT://kafka-1.lab.test:9092,CONTROLLER://kafka-1.lab.test:9094,CONTROLLER_SSL://kafka-1.lab.test:9095",
        "CONTROLLER:PLAINTEXT,CONTROLLER_SSL:SSL,PLAINTEXT:PLAINTEXT"),
    3: ("CONTROLLER_SSL", "SSL://127.0.1.1:9093,CONTROLLER_SSL://127.0.1.1:9095",
        "SSL://kafka-1.lab.test:9093,CONTROLLER_SSL://kafka-1.lab.test:9095", "CONTROLLER_SSL:SSL,SSL:SSL"),
}
SSL_KEYS = {"ssl.keystore.location": "/p/keystore.p12", "ssl.keystore.password": "k", "ssl.key.password": "k",
            "ssl.keystore.type": "PKCS12", "ssl.truststore.location": "/p/truststore.p12",
            "ssl.truststore.password": "t", "ssl.truststore.type": "PKCS12", "ssl.client.auth": "required"}


def phase_file(stage, **extra):
    names, listeners, advertised, protocol_map = PHASE_FILES[stage]
    props = dict(BASE, **QUORUM["dynamic"], **SSL_KEYS)
    props.update({"controller.listener.names": names, "listeners": listeners, "advertised.listeners": advertised,
                  "listener.security.protocol.map": protocol_map})
    props.update(extra)
    return props


@pytest.mark.parametrize("stage, endpoints, address, protocol", [
    (0, old(1), "kafka-1.lab.test:9094", "PLAINTEXT"),
    (1, both(1), "kafka-1.lab.test:9094", "PLAINTEXT"),     # phase 1: still out on CONTROLLER
    (2, list(reversed(both(1))), "kafka-1.lab.test:9095", "SSL"),
    (3, new(1), "kafka-1.lab.test:9095", "SSL"),
])
def test_the_endpoints_a_voter_record_must_list_and_where_the_gate_reads(stage, endpoints, address, protocol):
    props = phase_file(stage)
    assert q.controller_endpoints(props) == endpoints
    where = q.bootstrap_controller(props)
    assert (where["address"], where["protocol"]) == (address, protocol)
    config = q.client_properties(props, where["listener"], where["protocol"])
    assert config["security.protocol"] == protocol
    if protocol == "SSL":
        assert config["ssl.keystore.location"] == "/p/keystore.p12"
        assert config["ssl.truststore.password"] == "t"
        assert config["ssl.endpoint.identification.algorithm"] == "https"
        assert "ssl.client.auth" not in config
    else:
        assert set(config) == {"security.protocol"}


def test_the_controller_listeners_own_stores_win():
    props = phase_file(3, **{"listener.name.controller_ssl.ssl.keystore.location": "/p/controller.p12"})
    config = q.client_properties(props, "CONTROLLER_SSL", "SSL")
    assert config["ssl.keystore.location"] == "/p/controller.p12"
    assert config["ssl.truststore.location"] == "/p/truststore.p12"


@pytest.mark.parametrize("extra, words", [
    ({"listener.security.protocol.map": "CONTROLLER:SASL_SSL,PLAINTEXT:PLAINTEXT"}, "over PLAINTEXT or SSL"),
    ({"controller.listener.names": "CONTROLLER_X"}, "CONTROLLER_X is in neither"),
    ({"controller.listener.names": ""}, "not a controller"),
])
def test_a_quorum_the_gate_cannot_read_is_named(extra, words):
    with pytest.raises(q.QuorumError, match=words):
        q.bootstrap_controller(phase_file(0, **extra))


@pytest.mark.parametrize("voters, leader, lag, expected, voter_ids, words", [
    # after node 1's phase-1 restart: its record lists both endpoints, the gate holds
    ([(1, both(1)), (2, old(2)), (3, old(3))], 2, 0, both(1), [1, 2, 3], []),
    # ... before it updated its record (it does so a moment after joining): wait
    ([(1, old(1)), (2, old(2)), (3, old(3))], 2, 0, both(1), [1, 2, 3], ["node 1's voter record lists"]),
    # the order of the endpoints does not matter (phase 2 turns controller.listener.names around)
    ([(1, both(1)), (2, both(2)), (3, both(3))], 3, 0, list(reversed(both(1))), [1, 2, 3], []),
    # after phase 3 only CONTROLLER_SSL
    ([(1, new(1)), (2, both(2)), (3, both(3))], 2, 0, new(1), [1, 2, 3], []),
    ([(1, both(1)), (2, both(2)), (3, both(3))], 2, 0, new(1), [1, 2, 3], ["node 1's voter record lists"]),
    # no leader yet / a leader that is not a voter
    ([(1, both(1)), (2, old(2)), (3, old(3))], -1, 0, both(1), [1, 2, 3], ["no leader among the voters"]),
    ([(1, both(1)), (2, old(2))], 3, 0, both(1), [1, 2, 3], ["no leader among the voters", "voters [3] are missing"]),
    # a voter lost (removed) or the node not a voter
    ([(2, old(2)), (3, old(3))], 2, 0, both(1), [1, 2, 3], ["voters [1] are missing", "node 1 is not a voter"]),
    ([(2, old(2)), (3, old(3))], 2, 0, both(1), [], ["node 1 is not a voter"]),
    # the followers behind
    ([(1, both(1)), (2, old(2)), (3, old(3))], 2, 11, both(1), [1, 2, 3], ["11 records behind the leader (at most 10)"]),
    ([(1, both(1)), (2, old(2)), (3, old(3))], 2, 10, both(1), [1, 2, 3], []),
])
def test_quorum_gate(voters, leader, lag, expected, voter_ids, words):
    status = q.parse_status(describe(voters, leader=leader, lag=lag))
    problems = q.gate_problems(status, 1, expected, voter_ids, max_lag=10)
    assert len(problems) == len(words)
    for problem, fragment in zip(problems, words):
        assert fragment in problem

