# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PKI modules (ca, certificate_request, sign, keystore, truststore, store_password)
run the way Ansible runs them (ansible-playbook, local connection), and every artifact
read back with tools that share no code with the collection: openssl and the JDK's keytool.

Runtime is kept low by batching module calls into few playbooks: one playbook builds an
"estate" (store passwords, the default CA, a host key, CSR and certificate, PKCS12/JKS/PEM
keystores, PKCS12/JKS truststores) and is then run a second time (idempotence: changed=false,
no file touched) and a third time in check mode; another makes a CA of every other supported
key type (EC P-256/P-384, RSA 2048/4096), each signing a host certificate.
"""

from __future__ import annotations

import datetime
import re
import string
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pki_helpers import (  # noqa: E402  pylint: disable=wrong-import-position
    PlaybookRun,
    Snapshot,
    cert_pem,
    csr_pem,
    extension_value,
    file_mode,
    is_critical,
    key_pem,
    keytool_entries,
    keytool_list,
    make_ca,
    make_csr,
    make_leaf,
    new_key,
    now,
    openssl_text,
    pem_blocks,
    run_one,
    run_playbook,
    san_values,
    snapshot,
    snapshot_diff,
    task,
    tool,
    write,
)

SERVER_CLIENT = "TLS Web Server Authentication, TLS Web Client Authentication"

# Extra CAs of every other supported key type (the main CA is the default: RSA 3072).
# name -> (module options, what `openssl x509 -text` shows for the key, signature algorithm of what it signs)
CA_KINDS: Dict[str, Any] = {
    "ec256": ({"key_type": "ec", "ec_curve": "P-256"}, ["id-ecPublicKey", "Public-Key: (256 bit)", "NIST CURVE: P-256"],
              "ecdsa-with-SHA256"),
    "ec384": ({"key_type": "ec", "ec_curve": "P-384", "path_length": 1},
              ["id-ecPublicKey", "Public-Key: (384 bit)", "NIST CURVE: P-384"], "ecdsa-with-SHA384"),
    "rsa2048": ({"key_type": "rsa", "key_size": 2048}, ["rsaEncryption", "Public-Key: (2048 bit)"],
                "sha256WithRSAEncryption"),
    "rsa4096": ({"key_type": "rsa", "key_size": 4096}, ["rsaEncryption", "Public-Key: (4096 bit)"],
                "sha256WithRSAEncryption"),
}
HOST = "kafka-1.lab.test"
HOST_DNS = [HOST, "kafka-1"]
HOST_IPS = ["127.0.1.1", "::1"]


# =============================================================================== the estate

def estate_tasks(root: Path) -> List[Dict[str, Any]]:
    """Every module, chained as the roles chain them, writing below root."""
    ca_dir, host_dir, stores = root / "ca", root / "host", root / "stores"
    tasks = [
        task("pw_keystore", "store_password", {"path": str(stores / "keystore.password")}),
        task("pw_truststore", "store_password", {"path": str(stores / "truststore.password"), "length": 24}),
        task("ca_main", "ca", {"privatekey_path": str(ca_dir / "ca.key"), "certificate_path": str(ca_dir / "ca.crt"),
                               "subject": {"CN": "Estate Test CA", "O": "kafkasec tests"}}),
    ]
    tasks += [
        task("csr_host", "certificate_request", {
            "privatekey_path": str(host_dir / (HOST + ".key")), "key_type": "rsa", "key_size": 2048,
            "common_name": HOST, "subject": {"O": "kafkasec tests", "OU": "brokers"},
            "dns_names": HOST_DNS, "ip_addresses": HOST_IPS,
            "certificate_path": str(host_dir / (HOST + ".crt"))}),
        task("sign_host", "sign", {
            "ca_certificate_path": str(ca_dir / "ca.crt"), "ca_privatekey_path": str(ca_dir / "ca.key"),
            "csr": "{{ csr_host.csr }}",
            "current_certificate": "{{ csr_host.current_certificate | default(omit, true) }}",
            "allowed_dns_names": ["kafka-*.lab.test", "kafka-1"],
            "allowed_ip_addresses": ["127.0.1.0/24", "::1"]}),
        task("save_host_cert", "ansible.builtin.copy", {
            "content": "{{ sign_host.fullchain }}", "dest": str(host_dir / (HOST + ".crt")), "mode": "0644"}),
        task("keystore_p12", "keystore", {
            "path": str(stores / "keystore.p12"), "password": "{{ pw_keystore.password }}",
            "privatekey_path": str(host_dir / (HOST + ".key")), "certificate_path": str(host_dir / (HOST + ".crt")),
            "alias": HOST}),
        task("keystore_jks", "keystore", {
            "path": str(stores / "keystore.jks"), "type": "jks", "password": "{{ pw_keystore.password }}",
            "privatekey_path": str(host_dir / (HOST + ".key")), "certificate_path": str(host_dir / (HOST + ".crt")),
            "alias": HOST}),
        task("keystore_pem", "keystore", {
            "path": str(stores / "keystore.pem"), "type": "pem",
            "privatekey_path": str(host_dir / (HOST + ".key")), "certificate_path": str(host_dir / (HOST + ".crt"))}),
        task("truststore_p12", "truststore", {
            "path": str(stores / "truststore.p12"), "password": "{{ pw_truststore.password }}",
            "certificates": ["{{ ca_main.certificate }}"]}),
        task("truststore_p12_two", "truststore", {
            "path": str(stores / "truststore-two.p12"), "password": "{{ pw_truststore.password }}",
            "certificates": ["{{ ca_main.certificate }}"], "certificate_paths": [str(root / "ec256" / "ca.crt")]}),
        task("truststore_jks", "truststore", {
            "path": str(stores / "truststore.jks"), "type": "jks", "password": "{{ pw_truststore.password }}",
            "certificate_paths": [str(ca_dir / "ca.crt")]}),
    ]
    return tasks


def ca_matrix_tasks(root: Path) -> List[Dict[str, Any]]:
    """A CA of every other supported key type, each signing an EC host key (run once)."""
    tasks = []
    for kind, (options, _shown, _alg) in CA_KINDS.items():
        tasks += [
            task("ca_" + kind, "ca", dict(options, privatekey_path=str(root / kind / "ca.key"),
                                          certificate_path=str(root / kind / "ca.crt"), subject={"CN": "CA " + kind})),
            task("csr_" + kind, "certificate_request", {
                "privatekey_path": str(root / "hosts" / (kind + ".key")), "key_type": "ec",
                "common_name": kind + ".lab.test", "dns_names": [kind + ".lab.test"]}),
            task("sign_" + kind, "sign", {
                "ca_certificate_path": str(root / kind / "ca.crt"), "ca_privatekey_path": str(root / kind / "ca.key"),
                "csr": "{{ csr_%s.csr }}" % kind}),
        ]
    return tasks


def _directories(root: Path) -> None:
    for name in ["ca", "host", "stores", "hosts"] + list(CA_KINDS):
        (root / name).mkdir(parents=True, exist_ok=True)


@dataclass
class Estate:
    root: Path
    matrix: PlaybookRun
    first: PlaybookRun
    second: PlaybookRun
    check: PlaybookRun
    after_first: Snapshot
    after_second: Snapshot
    after_check: Snapshot

    def path(self, relative: str) -> Path:
        return self.root / relative

    def password(self, name: str) -> str:
        return (self.root / "stores" / ("%s.password" % name)).read_text().strip()


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    root = tmp_path_factory.mktemp("estate")
    _directories(root)
    matrix = run_playbook(ca_matrix_tasks(root))
    assert not matrix.failed(), "CA key type matrix failed: %s\n%s" % (matrix.failed(), matrix.describe())
    for kind in CA_KINDS:
        write(root / "hosts" / (kind + ".crt"), matrix["sign_" + kind]["fullchain"], 0o644)
    tasks = estate_tasks(root)
    first = run_playbook(tasks)
    assert not first.failed(), "first run failed: %s\n%s" % (first.failed(), first.describe())
    after_first = snapshot(root)
    second = run_playbook(tasks)
    after_second = snapshot(root)
    check = run_playbook(tasks, check=True, diff=True)
    after_check = snapshot(root)
    return Estate(root, matrix, first, second, check, after_first, after_second, after_check)


# ------------------------------------------------------------------ runs: converge, idempotence, check mode

def test_first_run_changes_every_task(estate: Estate) -> None:
    assert [name for name, changed in estate.first.changed().items() if not changed] == []
    assert estate.first["csr_host"]["key_created"] is True
    assert estate.first["csr_host"]["current_certificate"] is None
    assert estate.first["sign_host"]["reason"] == "missing"
    assert estate.first["pw_keystore"]["created"] is True
    assert estate.first["ca_main"]["imported"] is False


def test_second_run_changes_nothing_and_touches_no_file(estate: Estate) -> None:
    assert not estate.second.failed(), estate.second.describe()
    assert [name for name, changed in estate.second.changed().items() if changed] == []
    assert snapshot_diff(estate.after_first, estate.after_second) == []
    # The same objects come back, not look-alikes.
    assert estate.second["ca_main"]["fingerprint_sha256"] == estate.first["ca_main"]["fingerprint_sha256"]
    assert estate.second["csr_host"]["key_created"] is False
    assert (estate.second["csr_host"]["public_key_fingerprint_sha256"]
            == estate.first["csr_host"]["public_key_fingerprint_sha256"])
    assert estate.second["sign_host"]["reason"] == "kept"
    assert estate.second["sign_host"]["serial"] == estate.first["sign_host"]["serial"]
    assert estate.second["pw_keystore"]["password"] == estate.first["pw_keystore"]["password"]
    assert estate.second["pw_keystore"]["created"] is False
    for name in ("keystore_p12", "keystore_jks", "keystore_pem"):
        assert estate.second[name]["fingerprint_sha256"] == estate.first["sign_host"]["fingerprint_sha256"], name
    for name in ("truststore_p12", "truststore_p12_two", "truststore_jks"):
        assert estate.second[name]["fingerprints"] == estate.first[name]["fingerprints"], name


def test_check_mode_on_converged_files_reports_no_change(estate: Estate) -> None:
    assert not estate.check.failed(), estate.check.describe()
    assert [name for name, changed in estate.check.changed().items() if changed] == []
    assert snapshot_diff(estate.after_second, estate.after_check) == []


def test_file_modes(estate: Estate) -> None:
    expected = {
        "ca/ca.key": 0o600, "ca/ca.crt": 0o644, "rsa4096/ca.key": 0o600,
        "host/%s.key" % HOST: 0o600, "hosts/ec256.key": 0o600,
        "stores/keystore.p12": 0o600, "stores/keystore.jks": 0o600, "stores/keystore.pem": 0o600,
        "stores/truststore.p12": 0o600, "stores/truststore.jks": 0o600,
        "stores/keystore.password": 0o600, "stores/truststore.password": 0o600,
    }
    assert {rel: oct(file_mode(estate.path(rel))) for rel in expected} == {rel: oct(m) for rel, m in expected.items()}
    # The standalone keystore and truststore modules keep no seal (host_pki does, for the host's own stores):
    # no hidden or temporary file.
    leftovers = [p.name for p in estate.root.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert leftovers == []


# ------------------------------------------------------------------------------ the CA, read by openssl

def test_ca_certificate_read_by_openssl(estate: Estate) -> None:
    text = openssl_text(estate.path("ca/ca.crt"))
    assert "Issuer: O = kafkasec tests, CN = Estate Test CA" in text
    assert "Subject: O = kafkasec tests, CN = Estate Test CA" in text
    assert is_critical(text, "Basic Constraints") and extension_value(text, "Basic Constraints") == "CA:TRUE, pathlen:0"
    assert is_critical(text, "Key Usage")
    assert "Certificate Sign, CRL Sign" in extension_value(text, "Key Usage")
    ski = extension_value(text, "Subject Key Identifier")
    aki = extension_value(text, "Authority Key Identifier").replace("keyid:", "")
    assert re.fullmatch(r"([0-9A-F]{2}:)+[0-9A-F]{2}", ski) and aki == ski  # self-signed root
    assert "rsaEncryption" in text and "Public-Key: (3072 bit)" in text  # the default key
    # What the module returned is what is on disk.
    assert estate.first["ca_main"]["certificate"] == estate.path("ca/ca.crt").read_text()
    assert estate.first["ca_main"]["chain"] == [estate.first["ca_main"]["certificate"]]
    assert estate.first["ca_main"]["root_certificate"] == estate.first["ca_main"]["certificate"]
    assert estate.first["ca_main"]["subject"] == "CN=Estate Test CA,O=kafkasec tests"
    fingerprint = tool("openssl", "x509", "-in", str(estate.path("ca/ca.crt")), "-noout", "-fingerprint",
                       "-sha256").stdout
    assert fingerprint.strip().split("=", 1)[1] == estate.first["ca_main"]["fingerprint_sha256"]
    # The key is an unencrypted PKCS#8 key that belongs to the certificate.
    key_text = estate.path("ca/ca.key").read_text()
    assert key_text.startswith("-----BEGIN PRIVATE KEY-----")
    key_pub = tool("openssl", "pkey", "-in", str(estate.path("ca/ca.key")), "-pubout").stdout
    cert_pub = tool("openssl", "x509", "-in", str(estate.path("ca/ca.crt")), "-noout", "-pubkey").stdout
    assert key_pub == cert_pub


@pytest.mark.parametrize("kind", list(CA_KINDS))
def test_every_ca_key_type_signs_verifiable_certificates(estate: Estate, kind: str) -> None:
    _options, shown, signature = CA_KINDS[kind]
    assert estate.matrix["ca_" + kind]["changed"] is True and estate.matrix["sign_" + kind]["reason"] == "missing"
    assert estate.matrix["ca_" + kind]["certificate"] == estate.path(kind + "/ca.crt").read_text()
    assert file_mode(estate.path(kind + "/ca.key")) == 0o600
    ca_text = openssl_text(estate.path(kind + "/ca.crt"))
    for item in shown:
        assert item in ca_text, (kind, item)
    pathlen = "CA:TRUE, pathlen:1" if kind == "ec384" else "CA:TRUE, pathlen:0"
    assert extension_value(ca_text, "Basic Constraints") == pathlen
    host_cert = estate.path("hosts/%s.crt" % kind)
    verify = tool("openssl", "verify", "-CAfile", str(estate.path(kind + "/ca.crt")), str(host_cert))
    assert verify.stdout.strip() == "%s: OK" % host_cert
    host_text = openssl_text(host_cert)
    assert "Signature Algorithm: %s" % signature in host_text
    assert "NIST CURVE: P-256" in host_text  # the host key is EC P-256
    assert extension_value(host_text, "Key Usage") == "Digital Signature"  # no keyEncipherment for EC keys
    assert san_values(host_text) == ["DNS:%s.lab.test" % kind]
    # A certificate from another CA does not verify against this one (the check above means something).
    other = "ec256" if kind != "ec256" else "ec384"
    wrong = tool("openssl", "verify", "-CAfile", str(estate.path(other + "/ca.crt")), str(host_cert), check=False)
    assert wrong.returncode != 0


# --------------------------------------------------------------------- the host certificate, read by openssl

def test_host_certificate_verifies_and_has_typed_sans_and_usages(estate: Estate) -> None:
    cert = estate.path("host/%s.crt" % HOST)
    verify = tool("openssl", "verify", "-CAfile", str(estate.path("ca/ca.crt")), str(cert))
    assert verify.stdout.strip() == "%s: OK" % cert
    text = openssl_text(cert)
    assert "Subject: O = kafkasec tests, OU = brokers, CN = %s" % HOST in text
    assert "Issuer: O = kafkasec tests, CN = Estate Test CA" in text
    sans = san_values(text)
    assert sorted(sans) == sorted(["DNS:kafka-1.lab.test", "DNS:kafka-1", "IP Address:127.0.1.1",
                                   "IP Address:0:0:0:0:0:0:0:1"])
    # Never an IP typed as DNS.
    for value in sans:
        if value.startswith("DNS:"):
            assert not re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", value[4:]), value
    assert extension_value(text, "Extended Key Usage") == SERVER_CLIENT
    assert is_critical(text, "Key Usage")
    assert extension_value(text, "Key Usage") == "Digital Signature, Key Encipherment"  # RSA host key
    assert is_critical(text, "Basic Constraints") and extension_value(text, "Basic Constraints") == "CA:FALSE"
    ca_ski = extension_value(openssl_text(estate.path("ca/ca.crt")), "Subject Key Identifier")
    assert extension_value(text, "Authority Key Identifier").replace("keyid:", "") == ca_ski
    assert "X509v3 Subject Key Identifier" in text
    # The returned PEMs are what the files and the CA hold.
    signed = estate.first["sign_host"]
    assert signed["fullchain"] == signed["certificate"] + signed["chain"]
    assert signed["chain"] == estate.path("ca/ca.crt").read_text() == signed["ca_certificate"]
    assert signed["root_certificate"] == signed["ca_certificate"]
    assert cert.read_text() == signed["fullchain"]
    leaf = x509.load_pem_x509_certificate(signed["certificate"].encode())
    assert leaf.serial_number == signed["serial"]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= datetime.timedelta(days=365, minutes=5)
    assert leaf.not_valid_after_utc - now() > datetime.timedelta(days=364)
    # The host key on disk is an unencrypted PKCS#8 RSA 2048 key matching the certificate.
    key_text = tool("openssl", "pkey", "-in", str(estate.path("host/%s.key" % HOST)), "-noout", "-text").stdout
    assert "Private-Key: (2048 bit" in key_text
    assert (tool("openssl", "pkey", "-in", str(estate.path("host/%s.key" % HOST)), "-pubout").stdout
            == tool("openssl", "x509", "-in", str(cert), "-noout", "-pubkey").stdout)


def test_csr_returned_by_certificate_request_read_by_openssl(estate: Estate) -> None:
    csr = estate.first["csr_host"]["csr"].encode()
    verified = tool("openssl", "req", "-verify", "-noout", "-text", data=csr)
    assert "verify OK" in verified.stdout + verified.stderr
    assert "Subject: O = kafkasec tests, OU = brokers, CN = %s" % HOST in verified.stdout
    assert "DNS:kafka-1.lab.test, DNS:kafka-1, IP Address:127.0.1.1, IP Address:0:0:0:0:0:0:0:1" in verified.stdout


# ------------------------------------------------------------------------- keystores and truststores

@pytest.mark.parametrize("store_type, filename", [("PKCS12", "keystore.p12"), ("JKS", "keystore.jks")])
def test_keystore_read_by_keytool(estate: Estate, store_type: str, filename: str) -> None:
    listing = keytool_list(estate.path("stores/" + filename), store_type, estate.password("keystore")).stdout
    assert "Keystore type: %s" % store_type in listing
    assert "Your keystore contains 1 entry" in listing
    assert keytool_entries(listing) == [{"alias": HOST, "type": "PrivateKeyEntry", "chain_length": "2"}]
    assert "Owner: CN=%s, OU=brokers, O=kafkasec tests" % HOST in listing
    assert "Issuer: CN=Estate Test CA, O=kafkasec tests" in listing
    result = estate.first["keystore_" + ("p12" if store_type == "PKCS12" else "jks")]
    assert result["chain_length"] == 2 and result["alias"] == HOST
    assert result["type"] == store_type.lower()
    wrong = keytool_list(estate.path("stores/" + filename), store_type, "not-the-password", check=False)
    assert wrong.returncode != 0  # the listing above really needed the password


def test_pkcs12_stores_read_by_openssl_pkcs12_info(estate: Estate) -> None:
    for filename, password, certs in [("keystore.p12", "keystore", 2), ("truststore.p12", "truststore", 1),
                                      ("truststore-two.p12", "truststore", 2)]:
        path = str(estate.path("stores/" + filename))
        env = {"PKI_TEST_P12_PASS": estate.password(password)}
        info = tool("openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin", "env:PKI_TEST_P12_PASS", env=env)
        assert "MAC: sha256" in info.stdout + info.stderr, filename
        dump = tool("openssl", "pkcs12", "-in", path, "-passin", "env:PKI_TEST_P12_PASS", "-nokeys", env=env).stdout
        assert len(pem_blocks(dump)) == certs, filename
        bad = tool("openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin", "pass:wrong-password", check=False)
        assert bad.returncode != 0, filename
    keys = tool("openssl", "pkcs12", "-in", str(estate.path("stores/keystore.p12")), "-passin",
                "env:PKI_TEST_P12_PASS", "-nocerts", "-nodes", env={"PKI_TEST_P12_PASS": estate.password("keystore")})
    assert len(pem_blocks(keys.stdout, "PRIVATE KEY")) == 1


def test_pkcs12_truststore_with_one_ca_read_by_keytool(estate: Estate) -> None:
    listing = keytool_list(estate.path("stores/truststore.p12"), "PKCS12", estate.password("truststore")).stdout
    entries = keytool_entries(listing)
    assert [e["type"] for e in entries] == ["trustedCertEntry"]
    assert [e["alias"] for e in entries] == estate.first["truststore_p12"]["aliases"]
    assert entries[0]["alias"].startswith("kafkasec-ca-")
    fingerprint = estate.first["ca_main"]["fingerprint_sha256"]
    assert estate.first["truststore_p12"]["fingerprints"] == [fingerprint]
    assert "SHA256: %s" % fingerprint in listing


def test_pkcs12_truststore_with_two_cas_read_by_keytool(estate: Estate) -> None:
    listing = keytool_list(estate.path("stores/truststore-two.p12"), "PKCS12", estate.password("truststore")).stdout
    entries = keytool_entries(listing)
    assert [e["type"] for e in entries] == ["trustedCertEntry", "trustedCertEntry"]
    assert sorted(e["alias"] for e in entries) == sorted(estate.first["truststore_p12_two"]["aliases"])
    for fingerprint in (estate.first["ca_main"]["fingerprint_sha256"], estate.matrix["ca_ec256"]["fingerprint_sha256"]):
        assert "SHA256: %s" % fingerprint in listing
    assert "Owner: CN=Estate Test CA" in listing and "Owner: CN=CA ec256" in listing


def test_jks_truststore_read_by_keytool(estate: Estate) -> None:
    listing = keytool_list(estate.path("stores/truststore.jks"), "JKS", estate.password("truststore")).stdout
    assert "Keystore type: JKS" in listing
    entries = keytool_entries(listing)
    assert [e["type"] for e in entries] == ["trustedCertEntry"]
    assert [e["alias"] for e in entries] == estate.first["truststore_jks"]["aliases"]
    assert "SHA256: %s" % estate.first["ca_main"]["fingerprint_sha256"] in listing


def test_pem_keystore_is_unencrypted_pkcs8_key_then_chain(estate: Estate) -> None:
    path = estate.path("stores/keystore.pem")
    text = path.read_text()
    assert text.startswith("-----BEGIN PRIVATE KEY-----")
    assert "ENCRYPTED" not in text and "BEGIN RSA PRIVATE KEY" not in text
    assert len(pem_blocks(text, "PRIVATE KEY")) == 1
    certs = pem_blocks(text)
    assert len(certs) == 2
    assert certs[0] + certs[1] == estate.first["sign_host"]["fullchain"]
    key_text = tool("openssl", "pkey", "-in", str(path), "-noout", "-text").stdout
    assert "Private-Key: (2048 bit" in key_text
    key_pub = tool("openssl", "pkey", "-in", str(path), "-pubout").stdout
    cert_pub = tool("openssl", "x509", "-in", str(path), "-noout", "-pubkey").stdout  # the first certificate
    assert key_pub == cert_pub
    assert estate.first["keystore_pem"]["alias"] is None and estate.first["keystore_pem"]["chain_length"] == 2


CRASH = ("file attributes crash (TypeError \"'str' object does not support item assignment\"): the module passed "
         "its text diff {'before': str, 'after': str} to AnsibleModule.set_fs_attributes_if_different "
         "(plugins/module_utils/common/module_glue.py write(), line 43 before commit 66b3d79, which fixed it), which writes "
         "diff['before']['mode'/'owner'] whenever an attribute must change")


def test_pem_truststore_holds_both_cas_and_verifies_the_host(estate: Estate, attribute_runs: Dict[str, Any]) -> None:
    """A PEM bundle with its default mode 0644 (the contract), then read back by openssl.

    A new PEM truststore is written 0600 first, so its default 0644 needs a chmod: see CRASH.
    """
    path = attribute_runs["root"] / "truststore.pem"
    first = attribute_runs["run"]["truststore_pem"]
    assert not first.get("failed"), "truststore type=pem with its default mode 0644: %s\n%s" % (
        CRASH, (first.get("module_stderr") or first.get("msg"))[-300:])
    assert first["changed"] is True and first["aliases"] == []
    assert file_mode(path) == 0o644
    certs = pem_blocks(path.read_text())
    assert sorted(certs) == sorted([estate.first["ca_main"]["certificate"], estate.matrix["ca_ec256"]["certificate"]])
    for cert in ("host/%s.crt" % HOST, "hosts/ec256.crt"):
        tool("openssl", "verify", "-CAfile", str(path), str(estate.path(cert)))


# case -> (module, file attribute options); the documented owner/group/mode options of each module
ATTRIBUTE_CASES: Dict[str, Any] = {
    "truststore_mode_0644": ("truststore", {"mode": "0644"}),
    "keystore_mode_0640": ("keystore", {"mode": "0640"}),
    "keystore_owner_nobody": ("keystore", {"owner": "nobody"}),
    "certificate_request_mode_0640": ("certificate_request", {"mode": "0640"}),
}
# JKS aliases are case-insensitive: keytool stores them lower-cased.
JKS_ALIAS = "Kafka-Broker-1"


@pytest.fixture(scope="module")
def attribute_runs(estate: Estate, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """Each case of ATTRIBUTE_CASES run twice, and a PEM truststore with the default mode, in one playbook."""
    root = tmp_path_factory.mktemp("attributes")
    host_key, host_cert = str(estate.path("host/%s.key" % HOST)), str(estate.path("host/%s.crt" % HOST))
    tasks = []
    for name, (module, attributes) in ATTRIBUTE_CASES.items():
        target = str(root / name)
        args: Dict[str, Any] = {
            "truststore": {"path": target, "password": "secret-123",
                           "certificate_paths": [str(estate.path("ca/ca.crt"))]},
            "keystore": {"path": target, "password": "secret-123", "privatekey_path": host_key,
                         "certificate_path": host_cert},
            "certificate_request": {"privatekey_path": target, "key_type": "ec", "common_name": HOST,
                                    "dns_names": [HOST]},
        }[module]
        for attempt in ("first", "second"):
            tasks.append(task("%s_%s" % (name, attempt), module, dict(args, **attributes), ignore_errors=True))
    for attempt in ("first", "second"):
        tasks.append(task("jks_alias_" + attempt, "keystore", {
            "path": str(root / "mixed-case-alias.jks"), "type": "jks", "password": "secret-123", "alias": JKS_ALIAS,
            "privatekey_path": host_key, "certificate_path": host_cert}, ignore_errors=True))
    tasks.append(task("truststore_pem", "truststore", {
        "path": str(root / "truststore.pem"), "type": "pem",
        "certificate_paths": [str(estate.path("ca/ca.crt")), str(estate.path("ec256/ca.crt"))]}, ignore_errors=True))
    return {"root": root, "run": run_playbook(tasks)}


@pytest.mark.parametrize("name", list(ATTRIBUTE_CASES))
def test_file_attribute_options_are_applied(attribute_runs: Dict[str, Any], name: str) -> None:
    """owner/group/mode (documented for all three modules) work, and a rerun changes nothing. See CRASH."""
    module, attributes = ATTRIBUTE_CASES[name]
    run = attribute_runs["run"]
    for attempt in ("first", "second"):
        result = run["%s_%s" % (name, attempt)]
        assert not result.get("failed"), "%s with %s (%s run): %s\n%s" % (
            module, attributes, attempt, CRASH, (result.get("module_stderr") or result.get("msg") or "")[-200:])
    target = attribute_runs["root"] / name
    if "mode" in attributes:
        assert oct(file_mode(target)) == oct(int(attributes["mode"], 8))
    if "owner" in attributes:
        assert target.owner() == attributes["owner"] and file_mode(target) == 0o600
    assert run[name + "_first"]["changed"] is True and run[name + "_second"]["changed"] is False


def test_jks_keystore_with_a_mixed_case_alias_is_idempotent(attribute_runs: Dict[str, Any]) -> None:
    """BUG plugins/module_utils/pki/store_files.py line 88 (`have == wanted`): keytool lower-cases JKS aliases, so
    read_keystore (plugins/module_utils/pki/stores.py line 140) reads back "kafka-broker-1" while the wanted
    KeystoreContent has "Kafka-Broker-1": the JKS keystore is rebuilt (changed=true) on EVERY run, and the
    module returns alias "Kafka-Broker-1" although the store holds "kafka-broker-1"."""
    run = attribute_runs["run"]
    assert not run["jks_alias_first"].get("failed") and not run["jks_alias_second"].get("failed")
    listing = keytool_list(attribute_runs["root"] / "mixed-case-alias.jks", "JKS", "secret-123").stdout
    stored = [e["alias"] for e in keytool_entries(listing)]
    assert stored == [JKS_ALIAS.lower()]
    assert run["jks_alias_first"]["changed"] is True
    assert run["jks_alias_second"]["changed"] is False, (
        "type=jks alias=%s is rewritten on every run (keytool stores the alias as %s)" % (JKS_ALIAS, stored))
    assert run["jks_alias_first"]["alias"] in stored, "returned alias differs from the stored one"


# ===================================================================== import of an intermediate CA

def test_import_intermediate_under_corporate_root(tmp_path: Path) -> None:
    root = make_ca("Corporate Root CA", new_key("ec384"), path_length=1)
    intermediate = make_ca("Corporate Kafka Intermediate", new_key("ec256"), root, path_length=0)
    src = tmp_path / "operator"
    write(src / "intermediate.crt", intermediate.pem, 0o644)
    write(src / "intermediate.key", key_pem(intermediate.key, "operator passphrase"))
    write(src / "root.crt", root.pem, 0o644)
    ca_dir, host_dir = tmp_path / "ca", tmp_path / "host"
    ca_dir.mkdir()
    host_dir.mkdir()
    ca_paths = {"ca_certificate_path": str(ca_dir / "ca.crt"), "ca_privatekey_path": str(ca_dir / "ca.key"),
                "ca_chain_path": str(ca_dir / "issuers.crt"), "ca_privatekey_passphrase": "at rest passphrase"}
    tasks = [
        task("import_ca", "ca", {
            "privatekey_path": str(ca_dir / "ca.key"), "certificate_path": str(ca_dir / "ca.crt"),
            "chain_path": str(ca_dir / "issuers.crt"), "privatekey_passphrase": "at rest passphrase",
            "src_certificate_path": str(src / "intermediate.crt"), "src_privatekey_path": str(src / "intermediate.key"),
            "src_privatekey_passphrase": "operator passphrase", "src_chain_path": str(src / "root.crt")}),
        task("csr", "certificate_request", {
            "privatekey_path": str(host_dir / "host.key"), "key_type": "ec", "common_name": HOST,
            "dns_names": [HOST], "ip_addresses": ["127.0.1.1"], "certificate_path": str(host_dir / "host.crt")}),
        task("sign", "sign", dict(ca_paths, csr="{{ csr.csr }}",
                                  current_certificate="{{ csr.current_certificate | default(omit, true) }}")),
        task("save", "ansible.builtin.copy", {"content": "{{ sign.fullchain }}", "dest": str(host_dir / "host.crt"),
                                              "mode": "0644"}),
        task("keystore", "keystore", {"path": str(host_dir / "keystore.p12"), "password": "keystore-secret",
                                      "privatekey_path": str(host_dir / "host.key"),
                                      "certificate_path": str(host_dir / "host.crt")}),
        task("truststore", "truststore", {"path": str(host_dir / "truststore.p12"), "password": "truststore-secret",
                                          "certificates": ["{{ import_ca.root_certificate }}"]}),
    ]
    first = run_playbook(tasks)
    assert not first.failed(), first.describe()
    after_first = snapshot(tmp_path)
    second = run_playbook(tasks)
    assert [name for name, changed in second.changed().items() if changed] == []
    assert snapshot_diff(after_first, snapshot(tmp_path)) == []
    assert second["sign"]["reason"] == "kept" and second["sign"]["serial"] == first["sign"]["serial"]

    imported = first["import_ca"]
    assert imported["imported"] is True and first["import_ca"]["changed"] is True
    assert imported["certificate"] == intermediate.pem
    assert imported["chain"] == [intermediate.pem, root.pem]
    assert imported["root_certificate"] == root.pem
    assert imported["subject"] == "CN=Corporate Kafka Intermediate,O=kafkasec tests"
    assert (ca_dir / "ca.crt").read_text() == intermediate.pem
    assert (ca_dir / "issuers.crt").read_text() == root.pem
    key_text = (ca_dir / "ca.key").read_text()
    assert key_text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")  # re-encrypted with privatekey_passphrase
    assert file_mode(ca_dir / "ca.key") == 0o600
    imported_key = serialization.load_pem_private_key(key_text.encode(), b"at rest passphrase")
    assert imported_key.private_numbers() == intermediate.key.private_numbers()

    signed = first["sign"]
    assert len(pem_blocks(signed["fullchain"])) == 3
    assert pem_blocks(signed["fullchain"]) == pem_blocks(signed["certificate"] + intermediate.pem + root.pem)
    assert signed["chain"] == intermediate.pem + root.pem
    assert signed["ca_certificate"] == intermediate.pem and signed["root_certificate"] == root.pem
    host_cert = host_dir / "host.crt"
    verify = tool("openssl", "verify", "-CAfile", str(src / "root.crt"), "-untrusted", str(src / "intermediate.crt"),
                  str(host_cert))
    assert verify.stdout.strip() == "%s: OK" % host_cert
    # Without the intermediate the chain does not build: the check above relied on it.
    assert tool("openssl", "verify", "-CAfile", str(src / "root.crt"), str(host_cert), check=False).returncode != 0
    text = openssl_text(host_cert)
    assert "Issuer: O = kafkasec tests, CN = Corporate Kafka Intermediate" in text
    assert san_values(text) == ["DNS:%s" % HOST, "IP Address:127.0.1.1"]

    listing = keytool_list(host_dir / "keystore.p12", "PKCS12", "keystore-secret").stdout
    assert keytool_entries(listing) == [{"alias": "kafka", "type": "PrivateKeyEntry", "chain_length": "3"}]
    trust = keytool_list(host_dir / "truststore.p12", "PKCS12", "truststore-secret").stdout
    assert [e["type"] for e in keytool_entries(trust)] == ["trustedCertEntry"]
    assert "Owner: CN=Corporate Root CA" in trust


# ===================================================================================== sign policy

def test_sign_keeps_a_good_certificate_and_reissues_with_the_right_reason(tmp_path: Path) -> None:
    ca = make_ca("Policy CA", new_key("ec256"))
    other_ca = make_ca("Policy CA", new_key("ec256"))  # same name, another key: another CA
    ca_key, ca_cert = ca.save(tmp_path / "ca")
    host_key, other_key = new_key("ec256"), new_key("ec256")
    dns, ips = ["kafka-1.lab.test"], ["127.0.1.1"]
    csr = csr_pem(make_csr(host_key, "kafka-1.lab.test", dns, ips))
    csr_more_names = csr_pem(make_csr(host_key, "kafka-1.lab.test", dns + ["kafka.lab.test"], ips))
    csr_new_key = csr_pem(make_csr(other_key, "kafka-1.lab.test", dns, ips))
    crafted_expiring = cert_pem(make_leaf(ca, host_key, "kafka-1.lab.test", dns, ips,
                                          not_after=now() + datetime.timedelta(days=10)))
    crafted_good = cert_pem(make_leaf(ca, host_key, "kafka-1.lab.test", dns, ips))
    from_other_ca = cert_pem(make_leaf(other_ca, host_key, "kafka-1.lab.test", dns, ips))
    base = {"ca_certificate_path": str(ca_cert), "ca_privatekey_path": str(ca_key)}

    def sign(name: str, **args: Any) -> Dict[str, Any]:
        return task(name, "sign", dict(base, **args))

    tasks = [
        sign("missing", csr=csr),
        sign("kept", csr=csr, current_certificate="{{ missing.fullchain }}"),
        sign("kept_crafted", csr=csr, current_certificate=crafted_good),
        sign("short", csr=csr, validity_days=10, renewal_days=5),
        sign("expiring_short", csr=csr, current_certificate="{{ short.certificate }}"),
        sign("expiring_crafted", csr=csr, current_certificate=crafted_expiring),
        sign("names_changed", csr=csr_more_names, current_certificate="{{ missing.certificate }}"),
        sign("key_changed", csr=csr_new_key, current_certificate="{{ missing.certificate }}"),
        sign("other_ca", csr=csr, current_certificate=from_other_ca),
        sign("forced", csr=csr, current_certificate="{{ missing.certificate }}", force=True),
        sign("garbage_current", csr=csr, current_certificate="not a certificate"),
    ]
    before = snapshot(tmp_path)
    run = run_playbook(tasks)
    assert not run.failed(), run.describe()
    assert snapshot_diff(before, snapshot(tmp_path)) == []  # sign writes nothing on the CA host
    reasons = {name: result["reason"] for name, result in run.results.items()}
    assert reasons == {
        "missing": "missing", "kept": "kept", "kept_crafted": "kept", "short": "missing",
        "expiring_short": "expiring", "expiring_crafted": "expiring", "names_changed": "names changed",
        "key_changed": "key changed", "other_ca": "other CA", "forced": "forced", "garbage_current": "missing",
    }
    assert {name: result["changed"] for name, result in run.results.items()} == {
        name: reason != "kept" for name, reason in reasons.items()}
    # kept: the very same certificate comes back.
    assert run["kept"]["serial"] == run["missing"]["serial"]
    assert run["kept"]["certificate"] == run["missing"]["certificate"]
    assert run["kept_crafted"]["certificate"] == crafted_good
    # Every reissue is a new certificate for the CSR it was given.
    serials = [run[name]["serial"] for name in reasons if reasons[name] != "kept"]
    assert len(set(serials)) == len(serials)
    short = x509.load_pem_x509_certificate(run["short"]["certificate"].encode())
    assert short.not_valid_after_utc - now() < datetime.timedelta(days=10, minutes=1)
    renewed = x509.load_pem_x509_certificate(run["expiring_short"]["certificate"].encode())
    assert renewed.not_valid_after_utc - now() > datetime.timedelta(days=364)
    san = x509.load_pem_x509_certificate(run["names_changed"]["certificate"].encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == ["kafka-1.lab.test", "kafka.lab.test"]
    new_key_cert = x509.load_pem_x509_certificate(run["key_changed"]["certificate"].encode())
    assert new_key_cert.public_key().public_numbers() == other_key.public_key().public_numbers()
    reissued = x509.load_pem_x509_certificate(run["other_ca"]["certificate"].encode())
    reissued.verify_directly_issued_by(ca.cert)


def test_sign_in_check_mode_still_computes_the_certificate(tmp_path: Path) -> None:
    ca = make_ca("Check CA")
    ca_key, ca_cert = ca.save(tmp_path)
    csr = csr_pem(make_csr(new_key(), "kafka-2.lab.test", ["kafka-2.lab.test"]))
    before = snapshot(tmp_path)
    result = run_one("sign", {"ca_certificate_path": str(ca_cert), "ca_privatekey_path": str(ca_key), "csr": csr},
                     check=True)
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["reason"] == "missing"
    x509.load_pem_x509_certificate(result["certificate"].encode()).verify_directly_issued_by(ca.cert)
    assert snapshot_diff(before, snapshot(tmp_path)) == []


# ========================================================================== check mode on a fresh dir

def test_check_mode_on_fresh_dir_creates_no_file(tmp_path: Path) -> None:
    ca = make_ca("Fresh CA")
    ca_key, ca_cert = ca.save(tmp_path / "given")
    host_key = new_key("ec256")
    host_key_path = write(tmp_path / "given" / "host.key", key_pem(host_key))
    host_cert = write(tmp_path / "given" / "host.crt",
                      cert_pem(make_leaf(ca, host_key, HOST, [HOST]), ca.cert), 0o644)
    existing_password = write(tmp_path / "given" / "existing.password", "an-existing-password-0123456789\n")
    new = tmp_path / "new"
    new.mkdir()
    keystore = {"privatekey_path": str(host_key_path), "certificate_path": str(host_cert)}
    tasks = [
        task("ca", "ca", {"privatekey_path": str(new / "ca.key"), "certificate_path": str(new / "ca.crt"),
                          "key_type": "ec"}),
        task("certificate_request", "certificate_request", {
            "privatekey_path": str(new / "host.key"), "key_type": "ec", "common_name": HOST, "dns_names": [HOST],
            "certificate_path": str(new / "host.crt")}),
        task("sign", "sign", {"ca_certificate_path": str(ca_cert), "ca_privatekey_path": str(ca_key),
                              "csr": "{{ certificate_request.csr }}"}),
        task("store_password", "store_password", {"path": str(new / "keystore.password")}),
        task("store_password_existing", "store_password", {"path": str(existing_password)}),
        task("keystore_p12", "keystore", dict(keystore, path=str(new / "keystore.p12"), password="secret-123")),
        task("keystore_jks", "keystore", dict(keystore, path=str(new / "keystore.jks"), type="jks",
                                              password="secret-123")),
        task("keystore_pem", "keystore", dict(keystore, path=str(new / "keystore.pem"), type="pem")),
        task("truststore_p12", "truststore", {"path": str(new / "truststore.p12"), "password": "secret-123",
                                              "certificate_paths": [str(ca_cert)]}),
        task("truststore_jks", "truststore", {"path": str(new / "truststore.jks"), "password": "secret-123",
                                              "type": "jks", "certificate_paths": [str(ca_cert)]}),
        task("truststore_pem", "truststore", {"path": str(new / "truststore.pem"), "type": "pem",
                                              "certificate_paths": [str(ca_cert)]}),
    ]
    before = snapshot(tmp_path)
    run = run_playbook(tasks, check=True, diff=True)
    assert not run.failed(), run.describe()
    assert [name for name, changed in run.changed().items() if not changed] == ["store_password_existing"]
    assert snapshot_diff(before, snapshot(tmp_path)) == []
    assert list(new.iterdir()) == []
    assert run["store_password"]["created"] is True and len(run["store_password"]["password"]) == 32
    assert run["store_password_existing"]["password"] == "an-existing-password-0123456789"
    assert run["certificate_request"]["key_created"] is True
    assert run["sign"]["reason"] == "missing"
    assert run["ca"]["certificate"].startswith("-----BEGIN CERTIFICATE-----")


# ===================================================================================== store_password

URLSAFE = set(string.ascii_letters + string.digits + "-_")


def test_store_password_generated_once_0600_stable_with_length(tmp_path: Path) -> None:
    tasks = [
        task("default", "store_password", {"path": str(tmp_path / "default.password")}),
        task("short", "store_password", {"path": str(tmp_path / "short.password"), "length": 16}),
        task("long", "store_password", {"path": str(tmp_path / "long.password"), "length": 64}),
        task("again", "store_password", {"path": str(tmp_path / "default.password")}),
    ]
    first = run_playbook(tasks)
    assert not first.failed(), first.describe()
    after_first = snapshot(tmp_path)
    second = run_playbook(tasks)
    assert not second.failed(), second.describe()
    assert snapshot_diff(after_first, snapshot(tmp_path)) == []
    lengths = {"default": 32, "short": 16, "long": 64}
    for name, length in lengths.items():
        path = tmp_path / ("%s.password" % name)
        password = first[name]["password"]
        assert len(password) == length, name
        assert set(password) <= URLSAFE, name
        assert path.read_text() == password + "\n", name
        assert file_mode(path) == 0o600, name
        assert first[name]["changed"] is True and first[name]["created"] is True, name
        assert second[name]["changed"] is False and second[name]["created"] is False, name
        assert second[name]["password"] == password, name
    # Within the first run, the second task on the same file returns the password the first one wrote.
    assert first["again"]["changed"] is False and first["again"]["password"] == first["default"]["password"]
    assert len({first[name]["password"] for name in lengths}) == 3


def test_store_password_is_never_printed_with_no_log(tmp_path: Path) -> None:
    known = "Known-Secret-Password-xyz-4242"
    write(tmp_path / "known.password", known + "\n")
    tasks = [
        task("generate", "store_password", {"path": str(tmp_path / "new.password")}, no_log=True),
        task("read", "store_password", {"path": str(tmp_path / "known.password")}, no_log=True),
        task("use", "ansible.builtin.set_fact", {"combined": "{{ generate.password }}/{{ read.password }}"},
             no_log=True),
    ]
    run = run_playbook(tasks, verbosity=3, json_results=False)
    assert run.rc == 0, run.describe()
    generated = (tmp_path / "new.password").read_text().strip()
    assert len(generated) == 32
    output = run.stdout + run.stderr
    assert "kafkasec.tls.store_password" in output or "generate" in output
    assert "no_log: true" in output  # the censoring notice: the tasks ran and were hidden
    for secret in (generated, known):
        assert secret not in output
        assert secret[:16] not in output
