# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client's name is a principal, not a DNS name (common/names.py, principals.client_problems and the
client_bundle_problems / client_dns_names filters): the table of names a client bundle accepts and refuses,
its DNS SANs, and the refusal of a name that would impersonate a Kafka node or a super user."""

from __future__ import annotations

import pytest

from ansible_collections.kafkasec.tls.plugins.filter.kafkasec import FilterModule
from ansible_collections.kafkasec.tls.plugins.module_utils.common import names
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import principals as pr
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import PkiError, validate_dns_name

FILTERS = FilterModule().filters()
NODES = ["kafka-1.lab.test", "kafka-2.lab.test"]
REFUSAL = pr.refusal_list(NODES, {}, declared=["User:admin"])


@pytest.mark.parametrize("name, problem", [
    ("secure_user", None), ("insecure_user", None), ("orders-app", None), ("svc.orders", None),
    ("alice@EXAMPLE.ORG", None), ("_underscore_first", None), ("a", None), ("x" * 64, None),
    ("x" * 65, "longer than 64"), ("", "non-empty"), (None, "non-empty"), (42, "non-empty"),
    ("bad/name", "no '/'"), ("a,b", "no '/'"), ("a=b", "no '/'"), ("a+b", "no '/'"), ('a"b', "no '/'"),
    ("a'b", "no '/'"), ("a b", "no '/'"), ("a\\b", "no '/'"), ("a;b", "no '/'"), ("a#b", "no '/'"),
    ("a<b>", "no '/'"), (".hidden", "no '/'"), ("-dash", "no '/'"), ("..", "no '/'"), ("a\nb", "no '/'"),
    ("Jürgen", "no '/'"),
])
def test_principal_names(name, problem):
    got = names.principal_name_problem(name)
    assert (got is None) if problem is None else (problem in got), got


@pytest.mark.parametrize("name", ["kafka-1.lab.test", "orders-app", "a", "x" * 63, "a.b.c", "secure_user", "a..b",
                                  "-a", "a-", "x" * 64, "10.0.0.1", "*.lab.test", "", "a_b.lab", "trailing."])
def test_the_dns_name_rule_is_the_pki_rule(name):
    try:
        validate_dns_name(name)
        pki_ok = "*" not in name
    except PkiError:
        pki_ok = False
    assert names.is_dns_name(name) == pki_ok


@pytest.mark.parametrize("client, sans", [
    ({"name": "orders-app"}, ["orders-app"]),
    ({"name": "secure_user"}, []),
    ({"name": "alice@EXAMPLE.ORG"}, []),
    ({"name": "secure_user", "dns_names": ["client-1.lab.test"]}, ["client-1.lab.test"]),
    ({"name": "orders-app", "dns_names": []}, ["orders-app"]),
])
def test_a_dns_san_only_when_the_name_is_a_dns_name_or_declared(client, sans):
    assert FILTERS["client_dns_names"](client) == sans


@pytest.mark.parametrize("clients, fragment", [
    ([{"name": "secure_user"}, {"name": "orders-app", "dns_names": ["orders.lab.test"]}], None),
    ([], None),
    ("secure_user", "must be a list of mappings"),
    ([{"name": "a"}, "b"], "must be a list of mappings"),
    ([{"name": "bad/name"}], "kafkasec_client_bundle_clients must be a list of mappings"),
    ([{"name": "a"}, {"name": "a"}], "names repeat"),
    ([{}], "non-empty string"),
    ([{"name": "a", "dns_names": "a.lab.test"}], "dns_names must be a list"),
    # impersonation: a node's principal, a super user's
    # the Kafka nodes' certificates share the CN kafka-node by default (kafkasec_cert_node_common_name)
    ([{"name": "kafka-node"}], "maps to the principal User:kafka-node under ssl.principal.mapping.rules"),
    ([{"name": "admin"}], "a super user (kafkasec_super_users)"),
])
def test_client_bundle_problems(clients, fragment):
    problems = FILTERS["client_bundle_problems"](clients, REFUSAL)
    if fragment is None:
        assert problems == []
    else:
        assert len(problems) == 1 and fragment in problems[0], problems
        assert problems[0].startswith("kafkasec_client_bundle_clients")


def test_a_shared_principal_may_have_a_bundle():
    shared = pr.refusal_list(NODES, {}, declared=["User:admin"], shared=["User:admin"])
    assert FILTERS["client_bundle_problems"]([{"name": "admin"}], shared) == []
    assert FILTERS["kafka_principal_refusals"](NODES, {}, shared=["User:admin"], super_users=["User:admin"]) == shared


def test_bad_rules_on_a_node_are_reported_for_the_clients_too():
    refusal = pr.refusal_list(NODES, {"kafka-1.lab.test": {"kafkasec_ssl_principal_mapping_rules": "RULE:broken"}})
    problems = FILTERS["client_bundle_problems"]([{"name": "secure_user"}], refusal)
    assert problems and "kafkasec_ssl_principal_mapping_rules" in problems[0]
