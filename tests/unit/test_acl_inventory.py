# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/acl_inventory.py: what the acls role keeps from the inventory - the declared
principals as the kafka_acls module takes them, the Connect workers' principals and rules, the client bundles
of the principals named, and every problem of the input (naming the variable and the value), table by table."""

from __future__ import annotations

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import acl_inventory as ai
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.acls import expand, parse_principals

CONNECT = dict(group_id="connect-cluster", config_topic="connect-configs", offset_topic="connect-offsets",
               status_topic="connect-status", topic_prefixes=[], group_prefixes=["connect-"])
SECURE = dict(principal="User:secure_user", exclusive=True, acls=[
    dict(resource=dict(type="topic", name="test_secure_topic"), operations=["Write", "Read", "Describe"]),
    dict(resource=dict(type="group", name="secure_group"), operations=["Read"])])
EVERYONE = dict(principal="User:*", acls=[dict(resource=dict(type="topic", name="test_secure_topic"),
                                               operations=["Describe"])])


def _bindings(entries):
    parsed, problems = parse_principals(entries, "x")
    assert problems == []
    return sorted((b.principal, b.resource_type, b.resource_name, b.pattern_type, b.operation) for b in expand(parsed))


@pytest.mark.parametrize("entries, bundles", [
    ([], []),
    ([SECURE], ["secure_user"]),
    ([SECURE, EVERYONE], ["secure_user"]),                                  # User:* is no certificate's
    ([SECURE, dict(principal="User:insecure_user")], ["secure_user", "insecure_user"]),  # no ACLs, a bundle
    ([dict(SECURE, bundle=False), dict(principal="User:orders-app", bundle=True)], ["orders-app"]),
    ([dict(principal="User:a.b@example.com")], ["a.b@example.com"]),
])
def test_bundles_of_the_principals_named(entries, bundles):
    out = ai.plan(entries)
    assert out["problems"] == []
    assert [b["name"] for b in out["bundles"]] == bundles
    assert all("bundle" not in e for e in out["principals"])                # the module takes no bundle key
    assert all(e["exclusive"] in (True, False) and isinstance(e["acls"], list) for e in out["principals"])


def test_no_bundles_when_not_asked():
    assert ai.plan([SECURE], bundles=False)["bundles"] == []


@pytest.mark.parametrize("rules, principal, problem", [
    # The CN would map to something else: the bundle would not be the principal.
    ("RULE:^CN=([^,]+).*$/$1/U,DEFAULT", "User:secure_user", "map to User:SECURE_USER, not to it; set bundle: false"),
    ("DEFAULT", "User:secure_user", "map to User:CN=secure_user, not to it"),
    ("RULE:^CN=app-([^,]+).*$/$1/", "User:orders", "no certificate CN for it"),
])
def test_a_bundle_must_map_back_to_its_principal(rules, principal, problem):
    out = ai.plan([dict(principal=principal)], rules=rules)
    assert out["principals"] == [] and out["bundles"] == []
    assert len(out["problems"]) == 1 and problem in out["problems"][0], out["problems"]
    assert out["problems"][0].startswith("kafkasec_acls_principals[0].")
    # bundle: false lets the ACLs through
    assert ai.plan([dict(principal=principal, bundle=False)], rules=rules)["problems"] == []


@pytest.mark.parametrize("entries, problem", [
    ("User:x", "kafkasec_acls_principals ('User:x') must be a list"),
    ([dict(principal="User:x", bundle="yes")], "kafkasec_acls_principals[0].bundle ('yes') must be true or false"),
    ([dict(EVERYONE, bundle=True)], "kafkasec_acls_principals[0].bundle: User:* is every principal"),
    ([dict(principal="secure_user")], "kafkasec_acls_principals[0].principal"),
    ([dict(principal="User:x", acls=[dict(resource=dict(type="topic", name="t"), operations=["ClusterAction"])])],
     "ClusterAction"),
    ([dict(principal="User:x", acls=[dict(resource=dict(type="topic", name="t"), operations=["Read"],
                                          host="kafka-1.lab.test")])], "kafka-1.lab.test"),
    ([SECURE, SECURE], "listed twice"),
    ([dict(principal="User:x", colour="red")], "unknown key(s) colour"),
])
def test_bad_input_names_the_variable_and_the_value(entries, problem):
    out = ai.plan(entries)
    assert out["principals"] == [] and out["bundles"] == []
    assert any(problem in p for p in out["problems"]), out["problems"]
    assert all("kafkasec_acls_principals" in p for p in out["problems"]), out["problems"]


def test_connect_workers_get_what_a_worker_needs():
    out = ai.plan([SECURE], connect_principals={"connect-1": "User:connect-1", "connect-2": "User:connect-2"},
                  connect=CONNECT)
    assert out["problems"] == []
    assert [e["principal"] for e in out["principals"]] == ["User:secure_user", "User:connect-1", "User:connect-2"]
    assert [b["name"] for b in out["bundles"]] == ["secure_user"]            # a worker has its own certificate
    got = _bindings([e for e in out["principals"] if e["principal"] == "User:connect-1"])
    want = [("User:connect-1", "group", "connect-", "prefixed", op) for op in ("Describe", "Read")]
    want += [("User:connect-1", "group", "connect-cluster", "literal", op) for op in ("Describe", "Read")]
    for topic in ("connect-configs", "connect-offsets", "connect-status"):
        want += [("User:connect-1", "topic", topic, "literal", op)
                 for op in ("Create", "Describe", "DescribeConfigs", "Read", "Write")]
    assert got == sorted(want)


def test_connect_topic_prefixes_and_a_declared_worker():
    declared = dict(principal="User:connect-1", exclusive=True, acls=[])
    out = ai.plan([declared], connect_principals={"connect-1": "User:connect-1", "connect-2": "User:connect-2"},
                  connect=dict(CONNECT, topic_prefixes=["orders."], group_prefixes=[]))
    assert out["problems"] == []
    assert out["principals"][0] == declared                                 # listed by the operator: kept as listed
    got = _bindings(out["principals"][1:])
    assert ("User:connect-2", "topic", "orders.", "prefixed", "Write") in got
    assert not [b for b in got if b[2] == "connect-"]


@pytest.mark.parametrize("connect, problem", [
    ("yes", "kafkasec_acls_connect must be a mapping"),
    (dict(CONNECT, group_id=""), "kafkasec_acls_connect.group_id must be a non-empty name"),
    (dict(CONNECT, topic_prefixes="orders."), "kafkasec_acls_connect.topic_prefixes must be a list"),
    (dict(CONNECT, colour="red"), "kafkasec_acls_connect has unknown key colour"),
    (dict(CONNECT, group_prefixes=[""]), "kafkasec_acls_connect.group_prefixes must be a list of non-empty prefixes"),
])
def test_bad_connect_settings(connect, problem):
    out = ai.plan([], connect_principals={"connect-1": "User:connect-1"}, connect=connect)
    assert any(problem in p for p in out["problems"]), out["problems"]


def test_no_connect_acls_without_workers_or_settings():
    assert ai.plan([], connect_principals={}, connect=CONNECT) == dict(principals=[], bundles=[], problems=[])
    assert ai.plan([], connect_principals={"connect-1": "User:connect-1"}, connect=None)["principals"] == []


def test_worker_principals_from_the_inventory():
    hostvars = {"connect-1.lab.test": {}, "connect-2.lab.test": {"kafkasec_cert_common_name": "worker-2",
                                                                  "kafkasec_cert_subject": {"O": "Example"}}}
    assert ai.worker_principals(sorted(hostvars), hostvars) == {"connect-1.lab.test": "User:connect-1.lab.test",
                                                                "connect-2.lab.test": "User:worker-2"}
    assert ai.worker_principals(["connect-1.lab.test"], hostvars, "DEFAULT") == {
        "connect-1.lab.test": "User:CN=connect-1.lab.test"}
    out = ai.inventory_plan([], ["connect-1.lab.test"], hostvars, connect=CONNECT)
    assert [e["principal"] for e in out["principals"]] == ["User:connect-1.lab.test"]


def test_bad_rules():
    out = ai.plan([SECURE], rules="RULE:nonsense")
    assert out["principals"] == [] and out["problems"][0].startswith("kafkasec_ssl_principal_mapping_rules")


def test_the_verify_client_gets_its_topic():
    out = ai.plan([SECURE], verify=dict(common_name="kafkasec-verify", topic="kafkasec-verify"))
    assert out["problems"] == []
    assert _bindings(out["principals"][1:]) == [("User:kafkasec-verify", "topic", "kafkasec-verify", "literal", op)
                                                for op in ("Create", "Describe", "Read", "Write")]
    # mapped with the rules, like any certificate
    upper = ai.plan([], rules="RULE:^CN=([^,]+).*$/$1/U", verify=dict(common_name="kafkasec-verify", topic="t"))
    assert [e["principal"] for e in upper["principals"]] == ["User:KAFKASEC-VERIFY"]
    # listed by the operator: kept as listed
    mine = dict(principal="User:kafkasec-verify", acls=[])
    assert ai.plan([mine], verify=dict(common_name="kafkasec-verify", topic="t"))["principals"] == [
        dict(mine, exclusive=False)]


@pytest.mark.parametrize("verify", ["yes", dict(common_name="x"), dict(common_name="", topic="t"),
                                    dict(common_name="x", topic="t", group="g")])
def test_bad_verify_settings(verify):
    out = ai.plan([], verify=verify)
    assert out["principals"] == [] and any(p.startswith("kafkasec_acls_verify") for p in out["problems"]), out
