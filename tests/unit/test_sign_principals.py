# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signing refuses impersonation (pki/sign.py, batch and single mode): a certificate whose subject maps, under
the brokers' ssl.principal.mapping.rules, to a Kafka node's own principal or a super user's is refused, unless it
is that node's own certificate or the inventory shares the principal (kafkasec_shared_principals). The refusal
list comes from the inventory as the controller sees it (principals.refusal_list, the
kafkasec.tls.kafka_principal_refusals filter, the host_pki action plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import principals as pr
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import host as H
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import KeySpec, PkiError
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.sign import SignRequest, sign, sign_batch

from pki_helpers import make_ca

NODES = ["kafka-1.lab.test", "kafka-2.lab.test", "kafka-3.lab.test"]
# Nodes named after themselves (kafkasec_cert_common_name per host), so that each node is a principal of its
# own; the default, one CN for every node (kafkasec_cert_node_common_name), is the last test below.
HOSTVARS: Dict[str, Dict[str, Any]] = {h: {"kafkasec_cert_common_name": h} for h in NODES}
HOSTVARS["kafka-3.lab.test"]["kafkasec_super_users"] = ["User:admin"]  # declared on a node (group_vars)


@pytest.fixture()
def ca_params(tmp_path: Path) -> Dict[str, Any]:
    issuer = make_ca("kafkasec test CA")
    (tmp_path / "ca").mkdir()
    key_path, cert_path = issuer.save(tmp_path / "ca")
    return dict(ca_certificate_path=str(cert_path), ca_privatekey_path=str(key_path), ca_privatekey_passphrase=None,
                ca_chain_path=None, csr="", validity_days=365, renewal_days=30, allowed_dns_names=None,
                allowed_ip_addresses=None, allowed_common_names=None, extended_key_usage=["serverAuth", "clientAuth"],
                force=False)


def csr_for(root: Path, host: str, common_name: str, subject: Dict[str, str] = None) -> str:
    pki = root / host
    pki.mkdir(parents=True, exist_ok=True)
    s = H.HostPki(host=host, pki_dir=str(pki), common_name=common_name, subject=subject or {}, dns_names=[host],
                  key_spec=KeySpec("ec", 3072, "P-256"), privatekey_path=str(pki / "k.key"),
                  certificate_path=str(pki / "c.crt"), ca_chain_path=str(pki / "ca.crt"),
                  keystore_path=str(pki / "ks.p12"), keystore_password_file=str(pki / "ks.pw"),
                  truststore_path=str(pki / "ts.p12"), truststore_password_file=str(pki / "ts.pw"))
    requested = H.request(s, pki_dir_exists=True)
    Path(s.privatekey_path).write_bytes(next(w.data for w in requested.writes if w.path == s.privatekey_path))
    return requested.result["csr"]


@pytest.mark.parametrize("host, common_name, subject, shared, refused_by", [
    # a node's own certificate
    ("kafka-2.lab.test", "kafka-2.lab.test", {}, [], None),
    # a Connect worker whose inventory names it after a broker
    ("connect-1.lab.test", "kafka-2.lab.test", {}, [], "the principal of Kafka node kafka-2.lab.test"),
    # extra attributes do not help: the default rule keeps only the CN
    ("connect-1.lab.test", "kafka-1.lab.test", {"OU": "connect", "O": "Example"}, [],
     "the principal of Kafka node kafka-1.lab.test"),
    # a node may not take another node's name either
    ("kafka-1.lab.test", "kafka-3.lab.test", {}, [], "the principal of Kafka node kafka-3.lab.test"),
    # a declared super user
    ("tools.lab.test", "admin", {}, [], "a super user (kafkasec_super_users)"),
    # ... unless the inventory lets that host share it
    ("tools.lab.test", "admin", {}, ["User:admin"], None),
    # an ordinary worker
    ("connect-1.lab.test", "connect-1.lab.test", {}, [], None),
])
def test_batch_signing_refuses_a_node_or_super_user_principal(tmp_path, ca_params, host, common_name, subject,
                                                             shared, refused_by):
    check = pr.refusal_list(NODES, HOSTVARS, own_host=host, shared=shared)
    assert check["problems"] == []
    entry = dict(host=host, csr=csr_for(tmp_path, host, common_name, subject), allowed_common_names=[common_name],
                 principal_mapping_rules=check["rules"], refused_principals=check["refused"])
    other = dict(host="kafka-9.lab.test", csr=csr_for(tmp_path, "kafka-9.lab.test", "kafka-9.lab.test"))
    results, _warnings, _changed, _chain = sign_batch(dict(ca_params, requests=[entry, other]))
    assert "fullchain" in results["kafka-9.lab.test"]  # a refusal fails that host only
    if refused_by is None:
        assert "fullchain" in results[host], results[host]
    else:
        message = results[host]["msg"]
        assert results[host]["failed"] and refused_by in message, message
        assert "User:%s" % common_name in message and "kafkasec_shared_principals" in message and host in message


def test_the_mapping_rules_decide_who_is_whom(tmp_path, ca_params):
    """With rules that upper-case the first label, CN=KAFKA-2.other maps to User:KAFKA-2 = node kafka-2's principal."""
    rules = "RULE:^CN=([^.,]+)[.,]?.*$/$1/U,DEFAULT"
    hostvars = {h: {"kafkasec_ssl_principal_mapping_rules": rules, "kafkasec_cert_common_name": h} for h in NODES}
    check = pr.refusal_list(NODES, hostvars, own_host="client-1")
    assert check["rules"] == rules and "User:KAFKA-2" in check["refused"]
    with pytest.raises(PkiError, match="maps to the principal User:KAFKA-2 .* Kafka node kafka-2.lab.test"):
        sign(SignRequest.from_params(dict(ca_params, csr=csr_for(tmp_path, "client-1", "kafka-2.example.org"),
                                          principal_mapping_rules=check["rules"],
                                          refused_principals=check["refused"], certificate_for="client kafka-2")))


@pytest.mark.parametrize("common_name, refused", [("secure_user", False), ("admin", True), ("kafka-1.lab.test", True)])
def test_single_signing_of_a_client_bundle(tmp_path, ca_params, common_name, refused):
    check = pr.refusal_list(NODES, HOSTVARS, declared=["User:ops"])
    assert set(check["refused"]) == {"User:%s" % h for h in NODES} | {"User:admin", "User:ops"}
    request = SignRequest.from_params(dict(ca_params, csr=csr_for(tmp_path, "ctl", common_name),
                                           principal_mapping_rules=check["rules"], refused_principals=check["refused"],
                                           certificate_for="client %s (kafkasec_client_bundle_clients)" % common_name))
    if refused:
        with pytest.raises(PkiError, match="must not share it"):
            sign(request)
    else:
        assert sign(request).changed


def test_without_a_refusal_list_nothing_is_checked(tmp_path, ca_params):
    assert sign(SignRequest.from_params(dict(ca_params, csr=csr_for(tmp_path, "x", "kafka-1.lab.test")))).changed


@pytest.mark.parametrize("hostvars, shared, variable", [
    ({"kafka-1.lab.test": {"kafkasec_ssl_principal_mapping_rules": "RULE:x"}}, [], "kafkasec_ssl_principal_mapping_rules"),
    ({"kafka-1.lab.test": {"kafkasec_super_users": ["admin"]}}, [], "kafkasec_super_users"),
    ({}, ["admin"], "kafkasec_shared_principals"),
    ({}, "User:admin", "kafkasec_shared_principals"),
])
def test_bad_inventory_values_are_problems_not_silence(hostvars, shared, variable):
    check = pr.refusal_list(["kafka-1.lab.test"], hostvars, shared=shared)
    assert [v for v, _m in check["problems"]] == [variable] and check["refused"] == {}


@pytest.mark.parametrize("host, own_vars, refused, problems", [
    # a node: every other node and the super users, not itself
    ("kafka-1.lab.test", {}, {"User:kafka-2.lab.test", "User:kafka-3.lab.test", "User:admin"}, []),
    # a Connect worker: every node and the super users
    ("connect-1.lab.test", {}, {"User:kafka-1.lab.test", "User:kafka-2.lab.test", "User:kafka-3.lab.test", "User:admin"},
     []),
    # ... that may share the admin principal
    ("connect-1.lab.test", {"kafkasec_shared_principals": ["User:admin"]},
     {"User:kafka-1.lab.test", "User:kafka-2.lab.test", "User:kafka-3.lab.test"}, []),
    ("connect-1.lab.test", {"kafkasec_shared_principals": "User:admin"}, set(), ["kafkasec_shared_principals"]),
])
def test_the_action_plugins_check_for_a_host(host, own_vars, refused, problems):
    groups = {"kafka_broker": NODES[:2], "kafka_controller": NODES[1:], "kafka_connect": ["connect-1.lab.test"]}
    check = pr.sign_check(host, groups, HOSTVARS, own_vars)
    assert set(check["refused"]) == refused
    assert [v for v, _m in check["problems"]] == problems


def test_with_the_default_node_subject_the_nodes_are_one_principal_no_client_may_take(tmp_path, ca_params):
    hostvars: Dict[str, Dict[str, Any]] = {h: {} for h in NODES}
    node = pr.refusal_list(NODES, hostvars, own_host="kafka-2.lab.test")
    assert node["refused"] == {}  # a node may hold the nodes' principal
    client = pr.refusal_list(NODES, hostvars, own_host="connect-1.lab.test")
    assert set(client["refused"]) == {"User:%s" % pr.DEFAULT_NODE_COMMON_NAME}
    with pytest.raises(PkiError, match="must not share it"):
        sign(SignRequest.from_params(dict(ca_params, csr=csr_for(tmp_path, "c1", pr.DEFAULT_NODE_COMMON_NAME),
                                          principal_mapping_rules=client["rules"], refused_principals=client["refused"],
                                          certificate_for="client kafka-node")))
