# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/kafka/acls.py (the rules, their checks, the plan, the diff) and the kafka_acls module's refusal of
bad input before it connects anywhere, table by table. The real cluster side (DescribeAcls, CreateAcls, DeleteAcls
against StandardAuthorizer) runs in tests/authz/test_acls.py."""

from __future__ import annotations

import itertools
from typing import Any, Dict, List

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import acls as A
from ansible_runner import run_module

VAR = "kafkasec_acls"

# Kafka's AclEntry.supportedOperations, copied from server/src/main/java/org/apache/kafka/security/authorizer/
# AclEntry.java (Kafka 4.x) in Kafka's spelling; ALL is added the way AclCommand adds it.
KAFKA_TABLE = {
    "topic": {"READ", "WRITE", "CREATE", "DESCRIBE", "DELETE", "ALTER", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"},
    "group": {"READ", "DESCRIBE", "DELETE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"},
    "cluster": {"CREATE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "ALTER", "DESCRIBE"},
    "transactional_id": {"DESCRIBE", "WRITE"},
}
# org.apache.kafka.common.acl.AclOperation without UNKNOWN, ANY and the user resource's token operations.
KAFKA_OPERATIONS = ["ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "CLUSTER_ACTION",
                    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"]


def entry(principal="User:alice", exclusive=None, **rule) -> Dict[str, Any]:
    body = dict(resource=dict(type="topic", name="orders"), operations=["Read"])
    body.update(rule)
    out: Dict[str, Any] = dict(principal=principal, acls=[body])
    if exclusive is not None:
        out["exclusive"] = exclusive
    return out


def parse(entries, state="present"):
    return A.parse_principals(entries, VAR, state)


def bindings_of(entries, state="present"):
    principals, problems = parse(entries, state)
    assert problems == []
    return sorted(A.expand(principals))


def b(principal="User:alice", rtype="topic", name="orders", pattern="literal", op="Read", host="*", perm="allow"):
    return A.Binding(principal, rtype, name, pattern, op, host, perm)


# -- what is accepted, and how it is normalised ------------------------------------------------------

@pytest.mark.parametrize("rule, expected", [
    (dict(), [b()]),
    (dict(operations=["read", "WRITE", "Describe"]), [b(op="Describe"), b(op="Read"), b(op="Write")]),
    (dict(operations=["describe_configs", "Alter-Configs", "DESCRIBECONFIGS"]),
     [b(op="AlterConfigs"), b(op="DescribeConfigs")]),
    (dict(operations=["Read", "read"]), [b()]),
    (dict(operations=["all"]), [b(op="All")]),
    (dict(resource=dict(type="Topic", name="orders", pattern_type="PREFIXED")), [b(pattern="prefixed")]),
    (dict(resource=dict(type="group", name="app-", patternType="prefixed")),
     [b(rtype="group", name="app-", pattern="prefixed")]),
    (dict(resource=dict(type="transactionalId", name="tx"), operations=["Write"]),
     [b(rtype="transactional_id", name="tx", op="Write")]),
    (dict(resource=dict(type="cluster"), operations=["IdempotentWrite"]),
     [b(rtype="cluster", name="kafka-cluster", op="IdempotentWrite")]),
    (dict(resource=dict(type="cluster", name="kafka-cluster"), operations=["ClusterAction"]),
     [b(rtype="cluster", name="kafka-cluster", op="ClusterAction")]),
    (dict(resource=dict(type="topic", name="*")), [b(name="*")]),
    (dict(resource=dict(type="topic", name=42)), [b(name="42")]),
    (dict(type="DENY"), [b(perm="deny")]),
    (dict(host="10.0.0.7"), [b(host="10.0.0.7")]),
    (dict(host=" 10.0.0.7 "), [b(host="10.0.0.7")]),
    (dict(host="::1"), [b(host="0:0:0:0:0:0:0:1")]),
    (dict(host="2001:DB8::0042"), [b(host="2001:db8:0:0:0:0:0:42")]),
    (dict(host="::ffff:192.0.2.1"), [b(host="192.0.2.1")]),
    (dict(host=None, type=None), [b()]),
])
def test_rules_expand_into_normalised_bindings(rule, expected):
    assert bindings_of([entry(**rule)]) == expected


def test_principal_names_keep_what_principals_hold():
    for principal in ("User:secure_user", "User:CN=kafka-1.example.com,OU=Kafka,O=Example", "User:*", "User:ünï"):
        assert bindings_of([entry(principal)]) == [b(principal=principal)]


def test_exclusive_defaults_to_false_and_no_acls_is_allowed():
    principals, problems = parse([dict(principal="User:a"), dict(principal="User:b", acls=None, exclusive=True)])
    assert problems == []
    assert [(p.principal, p.bindings, p.exclusive) for p in principals] == [
        ("User:a", frozenset(), False), ("User:b", frozenset(), True)]
    assert A.exclusive_principals(principals) == {"User:b"}
    assert parse(None) == ([], [])


@pytest.mark.parametrize("resource_type, operation", list(itertools.product(sorted(KAFKA_TABLE), KAFKA_OPERATIONS)))
def test_operation_table_is_kafkas(resource_type, operation):
    name = "".join(part.capitalize() for part in operation.split("_"))
    rule = dict(resource=dict(type=resource_type, name="x"), operations=[name])
    if resource_type == "cluster":
        rule["resource"] = dict(type="cluster")
    _, problems = parse([entry(**rule)])
    allowed = operation == "ALL" or operation in KAFKA_TABLE[resource_type]
    assert (problems == []) == allowed, (resource_type, operation, problems)
    if not allowed:
        assert problems[0][0] == "%s[0].acls[0].operations[0]" % VAR
        assert "does not apply to a %s" % resource_type in problems[0][1]


def test_module_tables_agree_with_confluent_kafka_enums():
    confluent = pytest.importorskip("confluent_kafka.admin")
    assert {op.name for op in confluent.AclOperation} >= set(KAFKA_OPERATIONS)
    for binding in [b(op=op) for op in A.SUPPORTED_OPERATIONS["topic"]] + [
            b(rtype="cluster", name="kafka-cluster", op="ClusterAction"), b(rtype="group", pattern="prefixed"),
            b(rtype="transactional_id", op="Write", perm="deny", host="0:0:0:0:0:0:0:1")]:
        assert A.from_kafka(A.to_kafka(binding)) == binding
        flt = A.to_filter(binding)
        assert (flt.restype.name, flt.name, flt.principal, flt.host) == (
            A.to_kafka(binding).restype.name, binding.resource_name, binding.principal, binding.host)


# -- what is refused, with the variable path and the value ---------------------------------------

@pytest.mark.parametrize("bad, path, fragment", [
    (entry(operations=["Fly"]), "acls[0].operations[0]", "('Fly') is not a Kafka ACL operation; Kafka knows All, Read"),
    (entry(operations=["Read", "CreateTokens"]), "acls[0].operations[1]", "('CreateTokens') is not a Kafka ACL operation"),
    (entry(operations=["ClusterAction"]), "acls[0].operations[0]",
     "('ClusterAction') does not apply to a topic; Kafka's operations on a topic are Read, Write"),
    (entry(operations=["IdempotentWrite"]), "acls[0].operations[0]", "does not apply to a topic"),
    (entry(resource=dict(type="group", name="g"), operations=["Write"]), "acls[0].operations[0]",
     "('Write') does not apply to a group"),
    (entry(resource=dict(type="cluster"), operations=["Read"]), "acls[0].operations[0]",
     "('Read') does not apply to a cluster"),
    (entry(resource=dict(type="transactional_id", name="t"), operations=["Read"]), "acls[0].operations[0]",
     "does not apply to a transactional_id; Kafka's operations on a transactional_id are Describe, Write and All"),
    (entry(operations=[]), "acls[0].operations", "([]) must be a non-empty list of operations"),
    (entry(operations="Read"), "acls[0].operations", "('Read') must be a non-empty list"),
    (entry(operations=[None]), "acls[0].operations[0]", "(None) is not a Kafka ACL operation"),
    (entry(resource=dict(type="queue", name="q")), "acls[0].resource.type",
     "('queue') is not a resource type the module manages; one of topic, group, cluster, transactional_id"),
    (entry(resource=dict(type="delegation_token", name="q")), "acls[0].resource.type", "not a resource type"),
    (entry(resource=dict(name="q")), "acls[0].resource.type", "(None) is not a resource type"),
    (entry(resource="topic:orders"), "acls[0].resource", "('topic:orders') must be a mapping"),
    (entry(resource=dict(type="topic", name="")), "acls[0].resource.name", "('') is empty: name the topic"),
    (entry(resource=dict(type="topic")), "acls[0].resource.name", "(None) is empty: name the topic"),
    (entry(resource=dict(type="group", name=None)), "acls[0].resource.name", "is empty: name the group"),
    (entry(resource=dict(type="cluster", name="prod")), "acls[0].resource.name",
     "('prod'): the cluster resource is always named kafka-cluster"),
    (entry(resource=dict(type="cluster", pattern_type="prefixed"), operations=["Alter"]),
     "acls[0].resource.pattern_type", "the cluster resource takes a literal pattern only"),
    (entry(resource=dict(type="topic", name="t", pattern_type="match")), "acls[0].resource.pattern_type",
     "('match') must be literal or prefixed"),
    (entry(resource=dict(type="topic", name="t", kind="x")), "acls[0].resource", "unknown key(s) kind"),
    (entry(host="kafka-1.example.com"), "acls[0].host",
     "('kafka-1.example.com') is not an IP address or *: Kafka compares an ACL's host with the client's address"),
    (entry(host="10.0.0.0/8"), "acls[0].host", "('10.0.0.0/8') is not an IP address or *"),
    (entry(host="10.0.0.256"), "acls[0].host", "('10.0.0.256') is not an IP address"),
    (entry(host=""), "acls[0].host", "('') is not an IP address"),
    (entry(host="fe80::1%eth0"), "acls[0].host", "is not an IP address"),
    (entry(type="grant"), "acls[0].type", "('grant') must be allow or deny"),
    (entry(operation="Read"), "acls[0]", "unknown key(s) operation"),
    (dict(principal="User:alice", acls=["Read orders"]), "acls[0]", "('Read orders') must be a mapping"),
    (dict(principal="User:alice", acls="Read"), "acls", "('Read') must be a list of rules"),
    (entry("alice"), "principal", "('alice') is not a principal Kafka matches: it must start with User: (write User:alice)"),
    (entry("user:alice"), "principal", "the prefix is case-sensitive: User:"),
    (entry("Group:ops"), "principal", "('Group:ops') is not a principal Kafka matches"),
    (entry("User:"), "principal", "('User:') has an empty name after User:"),
    (entry("User: alice"), "principal", "surrounding spaces or a control character"),
    (entry(""), "principal", "('') is missing"),
    (entry(None), "principal", "(None) is missing"),
    (entry(7), "principal", "(7) must be a string"),
    (entry("User:bob"), "principal", "('User:bob') is listed twice (also %s[0])" % VAR),
    (entry(exclusive="yes"), "exclusive", "('yes') must be true or false"),
    (dict(principal="User:alice", acl=[]), "", "unknown key(s) acl"),
    ("User:alice", "", "('User:alice') must be a mapping"),
])
def test_bad_input_names_the_variable_path_and_value(bad, path, fragment):
    entries = [entry("User:bob"), bad]
    principals, problems = parse(entries)
    assert principals == []
    where = "%s[1]%s" % (VAR, ("." + path) if path else "")
    assert [p for p in problems if p[0] == where and fragment in p[1]], problems
    message = problems_message("kafka-1.example.com", problems)
    assert message.startswith("kafka-1.example.com: %s" % where) and fragment in message


def test_exclusive_with_state_absent_is_refused():
    _, problems = parse([entry(exclusive=True)], state="absent")
    assert problems == [("%s[0].exclusive" % VAR, "%s[0].exclusive (True) with state absent would delete every ACL of "
                         "User:alice; to do that, use state present, exclusive true and no acls" % VAR)]


def test_every_problem_is_reported_at_once():
    _, problems = parse([entry("alice", operations=["Fly"], host="any"), entry("User:b", resource=dict(type="x"))])
    assert sorted(p[0] for p in problems) == ["%s[0].acls[0].host" % VAR, "%s[0].acls[0].operations[0]" % VAR,
                                              "%s[0].principal" % VAR, "%s[1].acls[0].resource.name" % VAR,
                                              "%s[1].acls[0].resource.type" % VAR]


@pytest.mark.parametrize("value", ["User:alice", {"principal": "User:alice"}, 5])
def test_not_a_list(value):
    _, problems = parse(value)
    assert problems == [(VAR, "%s (%r) must be a list of {principal, acls, exclusive}" % (VAR, value))]


# -- the plan ----------------------------------------------------------------------------------------

A1, A2, A3 = b(op="Read"), b(op="Write"), b(op="Describe")
B1 = b(principal="User:bob", op="Read")
X1 = b(op="Read", name="old")  # alice has it, nobody declared it


@pytest.mark.parametrize("desired, current, state, exclusive, to_create, to_delete", [
    ([A1, A2], [], "present", [], [A1, A2], []),
    ([A1, A2], [A1, A2], "present", [], [], []),
    ([A1, A2], [A1], "present", [], [A2], []),
    ([A1], [A1, X1], "present", [], [], []),
    ([A1], [A1, X1], "present", ["User:alice"], [], [X1]),
    ([A1], [X1, B1], "present", ["User:alice"], [A1], [X1]),
    ([A1], [X1, B1], "present", ["User:carol"], [A1], []),
    ([], [A1, X1, B1], "present", ["User:alice"], [], [A1, X1]),
    ([A1, A2], [A1, X1], "absent", [], [], [A1]),
    ([A3], [A1, X1], "absent", [], [], []),
    ([A1], [A1, X1, B1], "absent", ["User:alice"], [], [A1, X1]),
    ([b(perm="deny")], [A1], "present", ["User:alice"], [b(perm="deny")], [A1]),
    ([b(host="10.0.0.1")], [A1], "present", [], [b(host="10.0.0.1")], []),
])
def test_plan(desired, current, state, exclusive, to_create, to_delete):
    assert A.plan_acls(desired, current, state, exclusive) == (sorted(to_create), sorted(to_delete))
    # The order of the inputs does not matter.
    assert A.plan_acls(list(reversed(desired)), list(reversed(current)), state, exclusive) == (
        sorted(to_create), sorted(to_delete))


def test_plan_refuses_an_unknown_state():
    with pytest.raises(ValueError, match="present or absent"):
        A.plan_acls([A1], [], "latest")


def test_a_rerun_after_the_plan_plans_nothing():
    current = [X1, B1]
    to_create, to_delete = A.plan_acls([A1, A2], current, "present", ["User:alice"])
    after = (set(current) - set(to_delete)) | set(to_create)
    assert A.plan_acls([A1, A2], after, "present", ["User:alice"]) == ([], [])


def test_diff_lists_the_managed_principals_before_and_after_sorted_and_stable():
    current = [X1, B1, b(principal="User:zed")]
    to_create, to_delete = A.plan_acls([A2, A1], current, "present", ["User:alice"])
    diff = A.acl_diff(current, to_create, to_delete, ["User:alice", "User:bob"])
    assert diff["before"] == ("User:alice allow Read on topic old (literal) from host *\n"
                              "User:bob allow Read on topic orders (literal) from host *\n")
    assert diff["after"] == ("User:alice allow Read on topic orders (literal) from host *\n"
                             "User:alice allow Write on topic orders (literal) from host *\n"
                             "User:bob allow Read on topic orders (literal) from host *\n")
    again = A.acl_diff(list(reversed(current)), list(reversed(to_create)), to_delete, ["User:bob", "User:alice"])
    assert again == diff
    assert A.acl_diff([], [], [], []) == dict(before="", after="", before_header="ACLs of 0 principal(s)",
                                              after_header="ACLs of 0 principal(s)")


def test_binding_result_keys():
    assert b(host="10.0.0.1", perm="deny").as_dict() == dict(
        principal="User:alice", resource_type="topic", resource_name="orders", pattern_type="literal",
        operation="Read", host="10.0.0.1", permission="deny")


# -- the cluster side without a cluster: a refused DescribeAcls must not read as "no ACLs" ----------------

class _Future:
    def __init__(self, value):
        self.value = value

    def result(self, timeout=None):
        return self.value


class _Described:
    def __init__(self, operations):
        self.authorized_operations = operations


class _FakeAdminClient:
    def __init__(self, operations, acls):
        self.operations, self.acls, self.asked = operations, acls, []

    def describe_cluster(self, include_authorized_operations=False, request_timeout=None):
        assert include_authorized_operations
        return _Future(_Described(self.operations))

    def describe_acls(self, flt, request_timeout=None):
        self.asked.append(flt.principal)
        return _Future([a for a in self.acls if a.principal == flt.principal])


def _admin(operations, acls=()):
    admin = A.AclAdmin.__new__(A.AclAdmin)
    admin.reader = type("Reader", (), {})()
    admin.reader.admin = _FakeAdminClient(operations, list(acls))
    admin.timeout = 5
    return admin


def test_describe_needs_describe_on_the_cluster():
    confluent = pytest.importorskip("confluent_kafka.admin")
    with pytest.raises(A.AclError, match="no Describe on the cluster"):
        _admin(None).describe(["User:alice"])
    with pytest.raises(A.AclError, match="no Describe on the cluster"):
        _admin([confluent.AclOperation.ALTER]).describe(["User:alice"])
    admin = _admin([confluent.AclOperation.DESCRIBE, confluent.AclOperation.ALTER],
                   [A.to_kafka(A1), A.to_kafka(B1), A.to_kafka(X1)])
    assert admin.describe(["User:alice"]) == sorted([A1, X1])
    assert admin.reader.admin.asked == ["User:alice"]


# -- the module: bad input fails before any connection ------------------------------------------------

def _module_args(tmp_path, principals, **extra):
    args = dict(bootstrap_servers=["kafka-1.invalid:9093"], ca_path=str(tmp_path / "missing-ca.crt"),
                cert_path=str(tmp_path / "missing.crt"), key_path=str(tmp_path / "missing.key"),
                hostname="kafka-1.example.com", variable=VAR, principals=principals)
    args.update(extra)
    return args


@pytest.mark.parametrize("principals, message", [
    ([entry(operations=["Read", "Fly"])],
     "kafka-1.example.com: %s[0].acls[0].operations[1] ('Fly') is not a Kafka ACL operation" % VAR),
    ([entry(resource=dict(type="topic", name="t"), operations=["ClusterAction"])],
     "kafka-1.example.com: %s[0].acls[0].operations[0] ('ClusterAction') does not apply to a topic" % VAR),
    ([entry("secure_user")],
     "kafka-1.example.com: %s[0].principal ('secure_user') is not a principal Kafka matches" % VAR),
    ([entry(host="client.example.com")],
     "kafka-1.example.com: %s[0].acls[0].host ('client.example.com') is not an IP address or *" % VAR),
    ([entry(resource=dict(type="queue", name="q"))],
     "kafka-1.example.com: %s[0].acls[0].resource.type ('queue') is not a resource type" % VAR),
])
def test_module_refuses_bad_input_before_connecting(tmp_path, principals, message):
    result = run_module("kafkasec.tls.kafka_acls", _module_args(tmp_path, principals))
    assert result.get("failed"), result
    assert result["msg"].startswith(message), result["msg"]
    # It never got as far as the connection: the missing certificate files would have been the complaint.
    assert "does not exist" not in result["msg"]
    assert result["created"] == [] and result["deleted"] == []
    assert result["problems"][0]["variable"].startswith(VAR + "[0]")


def test_module_fails_on_the_connection_after_good_input(tmp_path):
    # Good input gets past the checks; the first thing after them is the client's files, then the cluster.
    result = run_module("kafkasec.tls.kafka_acls", _module_args(tmp_path, [entry()]), check=True)
    assert result.get("failed"), result
    assert "ca_path %s does not exist" % (tmp_path / "missing-ca.crt") in result["msg"]
    assert result["msg"].startswith("kafka-1.example.com: ")


def test_module_hides_the_key_passphrase(tmp_path):
    result = run_module("kafkasec.tls.kafka_acls", _module_args(tmp_path, [entry()], key_passphrase="s3cr3t-pass"))
    assert "s3cr3t-pass" not in repr(result)
    assert result["invocation"]["module_args"]["key_passphrase"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_module_arguments_fill_strimzi_defaults(tmp_path):
    # The argument spec's defaults and the patternType alias reach the parser in the form it expects.
    rules: List[Dict[str, Any]] = [dict(resource=dict(type="group", name="app-", patternType="prefixed"),
                                        operations=["Read"])]
    result = run_module("kafkasec.tls.kafka_acls", _module_args(tmp_path, [dict(principal="User:a", acls=rules)]),
                        check=True)
    args = result["invocation"]["module_args"]["principals"][0]
    assert args["exclusive"] is False
    assert args["acls"][0]["host"] == "*" and args["acls"][0]["type"] == "allow"
    assert args["acls"][0]["resource"]["pattern_type"] == "prefixed"
    assert A.parse_principals(result["invocation"]["module_args"]["principals"])[1] == []
