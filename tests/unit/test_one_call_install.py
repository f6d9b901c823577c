# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A first rollout in three calls per node (playbooks/site.yml): the plan call; the key/CSR call, which keeps the
backup set before the run (host_pki's backup); after signing, one call that installs the certificate and stores,
merges server.properties and keeps the closing set (host_pki's defer -> broker_config's pki_install and
closing_backup). Real module runs on a temporary node, the CA's batch in Python."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict

from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.kafkasec.tls.plugins.action import broker_config as broker_action
from ansible_collections.kafkasec.tls.plugins.action import host_pki as host_pki_action
from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.common.backups import list_sets, read_manifest
from ansible_collections.kafkasec.tls.plugins.module_utils.config import known_state as K
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import host as H
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.sign import sign_batch

from ansible_runner import run_module
from pki_helpers import make_ca
from test_action_plugins import action
from test_broker_plan import GOLDEN, settings_params

HOST = "kafka-1.lab.test"


def node(tmp_path: Path) -> Dict[str, Any]:
    case = GOLDEN["combined-converged__defaults"]
    etc, pki = tmp_path / "etc", tmp_path / "pki"
    etc.mkdir()
    properties = etc / "server.properties"
    properties.write_text(case["current"], encoding="latin-1")
    pki_options = dict(
        host=HOST, pki_dir=str(pki), common_name=HOST, dns_names=[HOST], ip_addresses=[], key_type="ec",
        privatekey_path=str(pki / "host.key"), certificate_path=str(pki / "host.crt"),
        ca_chain_path=str(pki / "ca-chain.crt"), keystore_path=str(pki / "keystore.p12"),
        keystore_password_file=str(pki / "keystore.password"), truststore_path=str(pki / "truststore.p12"),
        truststore_password_file=str(pki / "truststore.password"), ca_hosts=["ca.lab.test"])
    backup_set = dict(paths=[str(properties), pki_options["keystore_path"], pki_options["truststore_path"],
                             pki_options["certificate_path"], pki_options["ca_chain_path"]],
                      backup_dir=str(etc / ".kafkasec-backups"), keep=5)
    return dict(case=case, properties=properties, pki=pki_options, backup=backup_set)


def sign(tmp_path: Path, n: Dict[str, Any], request: Dict[str, Any]) -> Dict[str, Any]:
    issuer = make_ca("kafkasec test CA")
    (tmp_path / "ca").mkdir(exist_ok=True)
    key_path, cert_path = issuer.save(tmp_path / "ca")
    entry = H.sign_request(n["pki"], request)
    results, _warnings, _changed, chain = sign_batch(dict(
        ca_certificate_path=str(cert_path), ca_privatekey_path=str(key_path), ca_privatekey_passphrase=None,
        ca_chain_path=None, csr="", validity_days=365, renewal_days=30, allowed_dns_names=None,
        allowed_ip_addresses=None, allowed_common_names=None, extended_key_usage=["serverAuth", "clientAuth"],
        force=False, requests=[entry]))
    return dict(signed=results[HOST], ca_chain=chain)


def test_three_calls_write_what_four_calls_and_two_backup_calls_did(tmp_path: Path) -> None:
    n = node(tmp_path)
    settings = settings_params(n["case"])
    plan = run_module("kafkasec.tls.broker_config", dict(path=str(n["properties"]), step="plan", settings=settings,
                                                         backup=dict(n["backup"], paths=n["backup"]["paths"]),
                                                         digest_key="per-run-key"))
    assert not plan.get("failed"), plan.get("msg")
    assert plan["backup"] == dict(n["backup"], needed=True, newest=None)

    # The key/CSR call keeps the set before the run (the node's files as they were: server.properties only).
    before = dict(n["backup"], stamp="20261207T100000.000000Z")
    request = run_module("kafkasec.tls.host_pki", dict(n["pki"], step="request", backup=before))
    assert not request.get("failed"), request.get("msg")
    assert request["backup"] == dict(taken=True, stamp=before["stamp"]) and request["store_passwords"]["keystore"]
    assert [Path(p).name for p in read_manifest(before["backup_dir"], before["stamp"])] == ["server.properties"]

    # The install step, deferred: the controller returns the contract without a call.
    ca = sign(tmp_path, n, request)
    plugin, calls = action(host_pki_action, dict(n["pki"], step="install", defer=True, signed=ca["signed"],
                                                 ca_chain=ca["ca_chain"], store_passwords=request["store_passwords"]), {})
    contract = plugin.run(task_vars={})
    assert calls == [] and contract["deferred"] and contract["changed"] is False
    assert contract["keystore_password"] == request["store_passwords"]["keystore"]
    assert "store_passwords" not in contract["deferred_install"] and "defer" not in contract["deferred_install"]

    # One call: install, merge, pending restart, closing set.
    block = "ssl.keystore.location=%s\nssl.keystore.password=%s\n" % (contract["keystore_path"],
                                                                      contract["keystore_password"])
    closing = dict(n["backup"], stamp="20261207T100000.000001Z", after_changes=True)
    apply = dict(path=str(n["properties"]), step="apply", settings=settings, content=block,
                 pki_install=contract["deferred_install"], closing_backup=closing,
                 require_files=[contract["keystore_path"], contract["truststore_path"]])
    merge = run_module("kafkasec.tls.broker_config", apply)
    assert not merge.get("failed"), merge.get("msg")
    assert merge["changed"] and merge["keystore_changed"] and merge["truststore_changed"]
    assert merge["stores_changed"] == ["keystore", "truststore"]
    reasons = " ".join(merge["restart"]["reasons"])
    assert "keystore changed" in reasons and "truststore changed" in reasons, merge["restart"]
    assert set(merge["pki"]["changed_parts"]) >= {"certificate", "CA chain", "keystore", "truststore"}
    assert merge["closing_backup"] == dict(taken=True, stamp=closing["stamp"])
    assert list_sets(closing["backup_dir"]) == [before["stamp"], closing["stamp"]]
    assert len(read_manifest(closing["backup_dir"], closing["stamp"])) == 5
    assert contract["keystore_password"] not in json.dumps(merge), "no store password in the result"
    key, cert, _chain = pkcs12.load_key_and_certificates(Path(contract["keystore_path"]).read_bytes(),
                                                         contract["keystore_password"].encode())
    assert cert.serial_number == ca["signed"]["serial"] and key is not None
    assert oct(os.stat(contract["keystore_path"]).st_mode & 0o777) == "0o600"
    assert pending_record.read(pending_record.marker_path(str(n["properties"])))["reasons"] == merge["restart"]["reasons"]

    # The same call again changes nothing and takes no set.
    again = run_module("kafkasec.tls.broker_config", apply)
    assert not again["changed"] and not again["keystore_changed"] and again["stores_changed"] == [], again
    assert again["closing_backup"]["taken"] is False and len(list_sets(closing["backup_dir"])) == 2


def test_a_deferred_install_or_a_closing_set_always_reaches_the_host(tmp_path: Path) -> None:
    # The file already holds the block, so merge_check finds nothing to do on the controller; the install and the
    # closing set are host work all the same.
    path = tmp_path / "server.properties"
    path.write_text("ssl.client.auth=required\n")
    known = dict(K.state_of(str(path), load(path.read_text()), "k", [], {}, pending_record.marker_path(str(path))),
                 remove=[])
    base = dict(step="apply", path=str(path), content="ssl.client.auth=required\n", known_state=known, digest_key="k")
    plugin, calls = action(broker_action, dict(base), dict(changed=False))
    assert plugin.run(task_vars={})["changed"] is False and calls == [], "the control case: decided on the controller"
    for extra, reason in ((dict(pki_install={"step": "install"}), "PKI install"),
                          (dict(closing_backup={"after_changes": True}), "closing backup")):
        plugin, calls = action(broker_action, dict(base, **extra), dict(changed=False))
        result = plugin.run(task_vars={})
        assert len(calls) == 1 and any(reason in why for why in result["merge_check"]), (extra, result)
    plugin, calls = action(broker_action, dict(base, closing_backup={"after_changes": False}), dict(changed=False))
    assert plugin.run(task_vars={})["changed"] is False and calls == [], "a closing set with nothing changed: no call"


def test_an_install_without_the_cas_answer_or_the_passwords_is_not_deferred() -> None:
    for args in (dict(step="install", host=HOST, defer=True, store_passwords={"keystore": "x"}),
                 dict(step="install", host=HOST, defer=True, signed={"fullchain": "x", "chain": ""}),
                 dict(step="install", host=HOST, defer=True, signed={"failed": True}, store_passwords={})):
        plugin, calls = action(host_pki_action, args, dict(changed=False))
        result = plugin.run(task_vars={})
        assert len(calls) == 1 and "deferred" not in result and "store_passwords" not in calls[0], args
