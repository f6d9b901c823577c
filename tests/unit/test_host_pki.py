# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/pki/host.py and the CA's batch (pki/sign.py sign_batch), without Ansible:
the input checks as a table, then request -> sign_batch -> install on a temporary directory, read
back with openssl/keytool-independent parsing (cryptography) and compared with what the CA signed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import host as H
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import KeySpec, PkiError
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.sign import sign_batch

from pki_helpers import cert_pem, make_ca, make_leaf, new_key

EC = KeySpec("ec", 3072, "P-256")  # EC keys keep the test fast; RSA is covered by test_pki_modules


def settings(root: Path, host: str = "kafka-1.lab.test", **overrides: Any) -> H.HostPki:
    pki = root / host / "pki"
    values: Dict[str, Any] = dict(
        host=host, pki_dir=str(pki), common_name=host, dns_names=[host], ip_addresses=[], key_spec=EC,
        privatekey_path=str(pki / "host.key"), certificate_path=str(pki / "host.crt"),
        ca_chain_path=str(pki / "ca-chain.crt"), keystore_path=str(pki / "keystore.p12"),
        keystore_password_file=str(pki / "keystore.password"), truststore_path=str(pki / "truststore.p12"),
        truststore_password_file=str(pki / "truststore.password"), ca_hosts=["ca.lab.test"])
    values.update(overrides)
    return H.HostPki(**values)


# --------------------------------------------------------------------------------- the checks

GOOD = dict(host="kafka-1", pki_dir="/opt/kafka/pki", common_name="kafka-1", dns_names=["kafka-1.lab.test"],
            ip_addresses=["127.0.1.1"], ca_hosts=["ca"])
PEM = cert_pem(make_ca("extra CA").cert)

PROBLEM_CASES = [
    # (case, overrides, variable named, words the message holds)
    ("two CA hosts", dict(ca_hosts=["ca-1", "ca-2"]), "kafka_ca", "exactly one host"),
    ("no CA group", dict(ca_hosts=[]), "kafka_ca", "exactly one host"),
    ("CA role did not run", dict(ca_ready=False), "kafka_ca", "--limit 'kafka_ca:kafka-1'"),
    ("empty common name", dict(common_name=""), "kafkasec_cert_common_name", "non-empty"),
    ("IP in the DNS names", dict(dns_names=["10.0.0.1"]), "kafkasec_cert_dns_names", "kafkasec_cert_ip_addresses"),
    ("bad DNS label", dict(dns_names=["kafka_1.lab"]), "kafkasec_cert_dns_names", "invalid DNS name: 'kafka_1.lab'"),
    ("DNS names not a list", dict(dns_names="kafka-1"), "kafkasec_cert_dns_names", "list of strings"),
    ("bad IP", dict(ip_addresses=["10.0.0.300"]), "kafkasec_cert_ip_addresses", "invalid IP address: '10.0.0.300'"),
    ("host name as IP", dict(ip_addresses=["kafka-1"]), "kafkasec_cert_ip_addresses", "kafkasec_cert_dns_names"),
    ("no SAN", dict(dns_names=[], ip_addresses=[]), "kafkasec_cert_dns_names", "at least one SAN"),
    ("renewal after validity", dict(validity_days=30, renewal_days=30), "kafkasec_cert_validity_days", "between 0"),
    ("zero validity", dict(validity_days=0), "kafkasec_cert_validity_days", "positive"),
    ("PEM keystore with password", dict(keystore_type="pem", keystore_password="secret-1"),
     "kafkasec_keystore_password", "unset for kafkasec_keystore_type pem"),
    ("short keystore password", dict(keystore_password="abc"), "kafkasec_keystore_password", "at least 6"),
    ("short truststore password", dict(truststore_password="abc"), "kafkasec_truststore_password", "at least 6"),
    ("unknown store type", dict(truststore_type="bks"), "kafkasec_truststore_type", "one of"),
    ("extra CA is a file name", dict(truststore_extra_certificates=["/etc/ca.pem"]),
     "kafkasec_truststore_extra_certificates", "not a file name"),
    ("extra CA truncated", dict(truststore_extra_certificates=[PEM.split("-----END")[0]]),
     "kafkasec_truststore_extra_certificates", "truncated"),
    ("relative PKI directory", dict(pki_dir="pki"), "kafkasec_pki_dir", "absolute"),
    ("PKI directory is /", dict(pki_dir="/"), "kafkasec_pki_dir", "absolute"),
    ("bad key size", dict(key_spec=KeySpec("rsa", 1024, "P-256")), "kafkasec_cert_key_type", "1024"),
]


@pytest.mark.parametrize("case,overrides,variable,words", PROBLEM_CASES, ids=[c[0] for c in PROBLEM_CASES])
def test_each_bad_input_is_one_problem_naming_its_variable(case, overrides, variable, words) -> None:
    problems = H.input_problems(H.HostPki(**dict(GOOD, **overrides)))
    assert [v for v, _m in problems] == [variable], (case, problems)
    message = problems_message("kafka-1", problems)
    assert message.startswith("kafka-1: ") and variable in message and words in message, message


def test_good_input_has_no_problem_and_truststore_checks_follow_the_switch() -> None:
    assert H.input_problems(H.HostPki(**GOOD)) == []
    assert H.input_problems(H.HostPki(**dict(GOOD, truststore=False, truststore_password="abc"))) == []
    assert H.input_problems(H.HostPki(**dict(GOOD, truststore_extra_certificates=[PEM]))) == []


def test_missing_parent_of_the_pki_directory_is_a_host_problem() -> None:
    problems = H.host_problems(H.HostPki(**GOOD), is_dir=lambda path: path != "/opt/kafka")
    assert problems == [("kafkasec_pki_dir", problems[0][1])] and "/opt/kafka is not a directory" in problems[0][1]
    assert H.host_problems(H.HostPki(**GOOD), is_dir=lambda path: True) == []


# ------------------------------------------------------------------------- what the CA may sign

def test_sign_request_takes_names_from_the_task_arguments_never_from_the_host() -> None:
    args = dict(host="kafka-1", common_name="kafka-1", dns_names=["kafka-1.lab.test"], ip_addresses=["127.0.1.1"],
                validity_days="400", renewal_days="30", force_renew=False)
    forged = dict(csr="CSR", current_certificate="", sign_request=dict(allowed_dns_names=["*"]),
                  dns_names=["kafka-2.lab.test"])
    entry = H.sign_request(args, forged)
    assert entry == dict(host="kafka-1", csr="CSR", current_certificate=None, allowed_common_names=["kafka-1"],
                         allowed_dns_names=["kafka-1.lab.test"], allowed_ip_addresses=["127.0.1.1"],
                         validity_days=400, renewal_days=30, force=False)
    assert H.sign_request(args, dict(failed=True, csr="CSR")) is None
    assert H.sign_request(args, dict(csr="")) is None


# ------------------------------------------------------------------ request -> sign -> install

@pytest.fixture()
def ca(tmp_path: Path) -> Dict[str, Any]:
    issuer = make_ca("kafkasec test CA")
    (tmp_path / "ca-files").mkdir()
    key_path, cert_path = issuer.save(tmp_path / "ca-files")
    return dict(issuer=issuer, params=dict(ca_certificate_path=str(cert_path),
                                           ca_privatekey_path=str(key_path), ca_privatekey_passphrase=None,
                                           ca_chain_path=None, csr="", validity_days=365, renewal_days=30,
                                           allowed_dns_names=None, allowed_ip_addresses=None,
                                           allowed_common_names=None, extended_key_usage=["serverAuth", "clientAuth"],
                                           force=False))


def apply(outcome: H.StepOutcome) -> None:
    """What the module does with an outcome: write each new content with its mode."""
    for item in outcome.writes:
        if item.data is not None:
            Path(item.path).write_bytes(item.data)
            os.chmod(item.path, int(item.mode, 8))


def roll(s: H.HostPki, ca_params: Dict[str, Any], **sign_overrides: Any) -> H.StepOutcome:
    Path(s.pki_dir).mkdir(parents=True, exist_ok=True)
    requested = H.request(s, pki_dir_exists=True)
    apply(requested)
    args = dict(host=s.host, common_name=s.common_name, dns_names=s.dns_names, ip_addresses=s.ip_addresses,
                validity_days=s.validity_days, renewal_days=s.renewal_days)
    entry = dict(H.sign_request(args, requested.result), **sign_overrides)
    results, _warnings, _changed, chain = sign_batch(dict(ca_params, requests=[entry]))
    installed = H.install(s, results[s.host], chain)
    apply(installed)
    return installed


def test_first_run_writes_everything_and_the_second_nothing(tmp_path: Path, ca: Dict[str, Any]) -> None:
    s = settings(tmp_path)
    first = roll(s, ca["params"])
    assert set(first.changed_parts) >= {"certificate", "CA chain", "keystore", "truststore"}
    contract = first.result
    assert contract["keystore_changed"] and contract["truststore_changed"] and contract["certificate_changed"]
    password = contract["keystore_password"]
    assert len(password) == H.GENERATED_PASSWORD_LENGTH
    assert Path(s.keystore_password_file).read_text().strip() == password
    key, cert, chain = pkcs12.load_key_and_certificates(Path(s.keystore_path).read_bytes(), password.encode())
    assert cert.fingerprint(cert.signature_hash_algorithm).hex() and cert.issuer == ca["issuer"].cert.subject
    assert [c.subject for c in chain] == [ca["issuer"].cert.subject]
    trusted = pkcs12.load_pkcs12(Path(s.truststore_path).read_bytes(), contract["truststore_password"].encode())
    assert [c.certificate for c in trusted.additional_certs] == [ca["issuer"].cert]
    assert oct(os.stat(s.privatekey_path).st_mode & 0o777) == "0o600"
    assert contract["secret_fields"] == ["keystore_password", "truststore_password"]

    second = roll(s, ca["params"])
    assert second.changed_parts == [] and all(item.data is None for item in second.writes)
    assert not second.result["keystore_changed"] and not second.result["certificate_changed"]
    assert second.result["fingerprint_sha256"] == contract["fingerprint_sha256"]
    assert H.facts(s).result == dict(second.result, sign_reason="kept", truststore_fingerprints=[])


def test_a_refused_request_fails_that_host_only(tmp_path: Path, ca: Dict[str, Any]) -> None:
    good, bad = settings(tmp_path, "kafka-1.lab.test"), settings(tmp_path, "kafka-2.lab.test")
    entries = []
    for s in (good, bad):
        Path(s.pki_dir).mkdir(parents=True)
        requested = H.request(s, pki_dir_exists=True)
        apply(requested)
        entries.append(H.sign_request(dict(host=s.host, common_name=s.common_name, dns_names=s.dns_names,
                                           ip_addresses=[]), requested.result))
    entries[1]["allowed_dns_names"] = ["kafka-1.lab.test"]  # kafka-2's CSR asks for a name it may not have
    results, _w, changed, _chain = sign_batch(dict(ca["params"], requests=entries))
    assert changed and "fullchain" in results[good.host]
    assert results[bad.host]["failed"] and "kafka-2.lab.test" in results[bad.host]["msg"]
    with pytest.raises(PkiError, match="allow-lists"):
        H.install(bad, results[bad.host], [])


def test_install_without_signing_uses_the_files_and_extra_cas_join_the_truststore(tmp_path: Path,
                                                                                  ca: Dict[str, Any]) -> None:
    s = settings(tmp_path)
    roll(s, ca["params"])
    extra = make_ca("next CA")
    s2 = settings(tmp_path, truststore_extra_certificates=[extra.pem])
    outcome = H.install(s2, None, [])
    assert outcome.changed_parts == ["truststore"] and outcome.result["truststore_changed"]
    assert len(outcome.result["truststore_fingerprints"]) == 2
    assert not outcome.result["keystore_changed"]


def test_install_refuses_a_host_without_a_certificate(tmp_path: Path) -> None:
    s = settings(tmp_path)
    Path(s.pki_dir).mkdir(parents=True)
    apply(H.request(s, pki_dir_exists=True))
    with pytest.raises(PkiError, match="no certificate yet"):
        H.install(s, None, [])


def test_check_mode_before_the_first_run_plans_without_a_key(tmp_path: Path, ca: Dict[str, Any]) -> None:
    s = settings(tmp_path)
    requested = H.request(s, pki_dir_exists=False)
    assert requested.result["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert not Path(s.pki_dir).exists()
    other = new_key("ec256")
    leaf = make_leaf(ca["issuer"], other, s.host, [s.host])
    signed = dict(fullchain=cert_pem(leaf, ca["issuer"].cert), chain=ca["issuer"].pem, changed=True)
    outcome = H.install(s, signed, [ca["issuer"].pem], key_available=False)
    assert "keystore" in outcome.changed_parts and outcome.result["keystore_changed"]


TRUSTSTORE_CASES = [
    ("good", dict(), []),
    ("no CA host", dict(ca_hosts=[]), ["kafka_ca"]),
    ("short password", dict(truststore_password="abc"), ["kafkasec_truststore_password"]),
    ("extra CA is a file name", dict(truststore_extra_certificates=["/etc/ca.pem"]),
     ["kafkasec_truststore_extra_certificates"]),
    ("relative directory", dict(pki_dir="pki"), ["kafkasec_pki_dir"]),
    # A truststore-only host has no certificate: its names are not checked.
    ("no names", dict(common_name="", dns_names=[]), []),
]


@pytest.mark.parametrize("case,overrides,variables", TRUSTSTORE_CASES, ids=[c[0] for c in TRUSTSTORE_CASES])
def test_truststore_only_checks(case, overrides, variables) -> None:
    problems = H.truststore_input_problems(H.HostPki(**dict(GOOD, **overrides)))
    assert [v for v, _m in problems] == variables, (case, problems)


def test_truststore_only_writes_the_truststore_and_its_password(tmp_path: Path) -> None:
    issuer = make_ca("only CA")
    s = settings(tmp_path)
    Path(s.pki_dir).mkdir(parents=True)
    first = H.truststore_only(s, [issuer.pem])
    apply(first)
    assert sorted(p.name for p in Path(s.pki_dir).iterdir()) == [".truststore.p12.seal", "truststore.p12",
                                                                 "truststore.password"]
    assert first.result["truststore_changed"] and first.result["secret_fields"] == ["truststore_password"]
    again = H.truststore_only(s, [issuer.pem])
    assert not again.result["truststore_changed"] and all(item.data is None for item in again.writes)


# ------------------------------------------- a kept certificate installs in the request call

KEPT_CASES = [
    # (case, settings overrides for the second run, CA chain given?, installs in the request call)
    ("converged host, CA chain given", {}, True, True),
    ("no CA chain (e.g. --tags sign): the CA decides", {}, False, False),
    ("forced renewal", dict(force_renew=True), True, False),
    ("a name added", dict(dns_names=["kafka-1.lab.test", "kafka-1.example.com"]), True, False),
    ("inside the renewal window", dict(validity_days=400, renewal_days=370), True, False),
]


@pytest.mark.parametrize("case,overrides,with_chain,installs", KEPT_CASES, ids=[c[0] for c in KEPT_CASES])
def test_request_installs_when_the_ca_would_keep_the_certificate(tmp_path: Path, ca: Dict[str, Any], case,
                                                                 overrides, with_chain, installs) -> None:
    first = roll(settings(tmp_path), ca["params"])
    s = settings(tmp_path, **overrides)
    chain = [cert_pem(ca["issuer"].cert)] if with_chain else []
    requested = H.request(s, pki_dir_exists=True, ca_chain=chain)
    assert bool(requested.result.get("installed")) == installs, case
    # What the CA would answer, as the sign step decides it: the host's own rule must agree with it.
    args = dict(host=s.host, common_name=s.common_name, dns_names=s.dns_names, ip_addresses=s.ip_addresses,
                validity_days=s.validity_days, renewal_days=s.renewal_days, force_renew=s.force_renew)
    results, _w, _changed, _chain = sign_batch(dict(ca["params"], requests=[H.sign_request(args, requested.result)]))
    ca_keeps = installs or not with_chain  # without the chain only the CA can tell, and it keeps
    assert (results[s.host]["reason"] == "kept") == ca_keeps, (case, results[s.host])
    if installs:
        contract = requested.result["pki"]
        assert requested.changed_parts == [] and all(item.data is None for item in requested.writes)
        assert contract == dict(first.result, keystore_changed=False, truststore_changed=False,
                                certificate_changed=False, sign_reason="kept")
        assert H.sign_request(args, requested.result) is not None  # the action plugin drops it on 'installed'


def test_request_install_rewrites_a_damaged_store_in_the_same_call(tmp_path: Path, ca: Dict[str, Any]) -> None:
    roll(settings(tmp_path), ca["params"])
    s = settings(tmp_path)
    Path(s.truststore_path).write_bytes(b"not a PKCS12 file")
    requested = H.request(s, pki_dir_exists=True, ca_chain=[cert_pem(ca["issuer"].cert)])
    assert requested.result["installed"] and requested.changed_parts == ["truststore"]
    assert requested.result["pki"]["truststore_changed"]


# ------------------------------------------- a deferred install (host_pki's defer, broker_config's pki_install)

@pytest.mark.parametrize("case,overrides", [
    ("PKCS12 stores, generated passwords", {}),
    ("JKS stores", dict(keystore_type="jks", truststore_type="jks")),
    ("PEM keystore (no password), PKCS12 truststore", dict(keystore_type="pem")),
    ("passwords from the inventory", dict(keystore_password="inventory-ks", truststore_password="inventory-ts")),
    ("no truststore", dict(truststore=False, truststore_path="", truststore_password_file="")),
])
def test_the_deferred_contract_is_the_installed_one(tmp_path: Path, ca: Dict[str, Any], case, overrides) -> None:
    # The controller builds the contract of an install a later call makes from the request call's passwords and
    # the CA's answer (pki/contract.py); the broker role renders server.properties from it. It must be what the
    # install then gives, but for what only the install knows (the truststore's change and fingerprints).
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.contract import deferred_contract
    s = settings(tmp_path, **overrides)
    Path(s.pki_dir).mkdir(parents=True, exist_ok=True)
    requested = H.request(s, pki_dir_exists=True)
    apply(requested)
    passwords = requested.result["store_passwords"]
    assert passwords["keystore"] == (None if s.keystore_type == "pem" else s.keystore_password or
                                     Path(s.keystore_password_file).read_text().strip()), case
    args = dict(host=s.host, common_name=s.common_name, dns_names=s.dns_names, ip_addresses=s.ip_addresses,
                validity_days=s.validity_days, renewal_days=s.renewal_days)
    results, _warnings, _changed, chain = sign_batch(dict(ca["params"], requests=[H.sign_request(args, requested.result)]))
    signed = results[s.host]
    options = {name: value for name, value in s.__dict__.items() if name != "key_spec"}
    deferred = deferred_contract(options, passwords, signed)
    installed = H.install(s, signed, chain).result
    only_the_install_knows = {"truststore_changed", "truststore_fingerprints"}
    assert deferred.pop("deferred") is True
    assert {k: v for k, v in deferred.items() if k not in only_the_install_knows} == \
        {k: v for k, v in installed.items() if k not in only_the_install_knows}, case
