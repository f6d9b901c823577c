"""Unit tests of plugins/module_utils/pki/core.py and stores.py, without Ansible.

Results are read back with the tools operators trust (openssl, keytool) where
the property is about the artifact, and with cryptography where it is about a
decision (keep or reissue).
"""
from __future__ import annotations

import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ansible_collections.kafkasec.tls.plugins.module_utils.pki import core as pki
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import stores
from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError, atomic_write, read_bytes

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)


def make_ca(spec=pki.KeySpec("ec", ec_curve="P-256"), cn="Test CA", days=3650, now=NOW):
    key = pki.generate_private_key(spec)
    cert = pki.create_ca_certificate(key, pki.build_name({"CN": cn}), days, 0, now=now)
    return pki.CertificateAuthority(cert, key)


def make_csr(dns=("kafka-1.lab.test",), ips=("127.0.1.1",), key=None, cn="kafka-1.lab.test"):
    key = key or pki.generate_private_key(pki.KeySpec("ec", ec_curve="P-256"))
    names = pki.normalise_names(list(dns), list(ips))
    return key, pki.build_csr(key, pki.build_name({"CN": cn}), *names)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout.decode()


@pytest.fixture(scope="module")
def ca():
    return make_ca()


# ------------------------------------------------------------------ names and keys

@pytest.mark.parametrize("bad, message", [
    ("127.0.0.1", "is an IP address"),
    ("kafka_1.lab", "not a valid DNS name"),
    ("-kafka.lab", "not a valid DNS name"),
    ("*.com", "wildcard"),
    ("a" * 64 + ".lab", "not a valid DNS name"),
])
def test_bad_dns_names_are_refused_with_the_value(bad, message):
    with pytest.raises(pki.PkiError, match=message) as err:
        pki.validate_dns_name(bad)
    assert repr(bad)[:20] in str(err.value) or bad[:20] in str(err.value)


def test_ip_addresses_are_normalised_and_bad_ones_refused():
    assert pki.normalise_names([], ["::1", "0:0::1", "10.0.0.1"])[1] == ["::1", "10.0.0.1"]
    with pytest.raises(pki.PkiError, match="'10.0.0.256' is not a valid IPv4 or IPv6 address"):
        pki.normalise_names([], ["10.0.0.256"])


def test_subject_is_ordered_so_java_prints_cn_first():
    name = pki.build_name({"O": "Org", "CN": "host", "C": "DE"})
    # RFC 4514 prints the most significant RDN last, as Java's getName() does: CN first.
    assert name.rfc4514_string() == "CN=host,O=Org,C=DE"
    with pytest.raises(pki.PkiError, match="subject.C must be a two-letter country code"):
        pki.build_name({"CN": "x", "C": "Germany"})
    with pytest.raises(pki.PkiError, match="unknown attribute"):
        pki.build_name({"CN": "x", "XX": "y"})


@pytest.mark.parametrize("spec", [pki.KeySpec("rsa", 2048), pki.KeySpec("ec", ec_curve="P-384")])
def test_key_spec_round_trip(spec):
    key = pki.generate_private_key(spec)
    assert pki.key_matches_spec(key, spec)
    assert pki.key_spec_of(key) == spec if spec.key_type == "ec" else pki.key_spec_of(key).key_size == 2048
    pem = pki.serialize_private_key(key, "pass phrase")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    with pytest.raises(pki.PkiError, match="wrong passphrase"):
        pki.load_private_key(pem, "other", "privatekey_path x")
    with pytest.raises(pki.PkiError, match="is encrypted: give its passphrase"):
        pki.load_private_key(pem, None, "privatekey_path x")
    assert pki.public_key_fingerprint(pki.load_private_key(pem, "pass phrase", "x")) == pki.public_key_fingerprint(key)


def test_unsupported_key_types_are_refused():
    with pytest.raises(pki.PkiError, match="key_type 'dsa' is not supported"):
        pki.KeySpec("dsa").validate()
    with pytest.raises(pki.PkiError, match="key_size 1024 is not supported"):
        pki.KeySpec("rsa", 1024).validate()
    ed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(pki.PkiError, match="key type Ed25519PrivateKey is not supported"):
        pki.load_private_key(ed, None, "privatekey_path k")


# ---------------------------------------------------------------------------- CA

def test_ca_certificate_extensions_read_back_by_openssl(ca):
    text = openssl("x509", "-noout", "-text", data=pki.cert_pem(ca.certificate).encode())
    assert "CA:TRUE, pathlen:0" in text
    assert "Certificate Sign, CRL Sign" in text
    assert "X509v3 Subject Key Identifier" in text and "X509v3 Authority Key Identifier" in text


def test_validate_ca_refuses_mismatch_expired_and_non_ca(ca):
    other = make_ca(cn="Other")
    with pytest.raises(pki.PkiError, match="ca.key does not match the CA certificate ca.crt"):
        pki.validate_ca(pki.CertificateAuthority(ca.certificate, other.key), "ca.crt", "ca.key")
    old = make_ca(days=10, now=NOW - datetime.timedelta(days=30))
    with pytest.raises(pki.PkiError, match="ca.crt: the CA certificate expired at 2026-05-12"):
        pki.validate_ca(old, "ca.crt", "ca.key", now=NOW)
    key, csr = make_csr()
    leaf, _warnings = pki.issue_certificate(csr, ca, pki.SignPolicy(), now=NOW)
    with pytest.raises(pki.PkiError, match="is not a CA certificate"):
        pki.validate_ca(pki.CertificateAuthority(leaf, key), "leaf.crt", "leaf.key", now=NOW)


def test_intermediate_needs_its_chain_in_order():
    root = make_ca(cn="Root")
    inter_key = pki.generate_private_key(pki.KeySpec("ec", ec_curve="P-256"))
    builder = (x509.CertificateBuilder().subject_name(pki.build_name({"CN": "Inter"}))
               .issuer_name(root.certificate.subject).public_key(inter_key.public_key())
               .serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=100))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True))
    inter = builder.sign(root.key, hashes.SHA256())
    good = pki.CertificateAuthority(inter, inter_key, [root.certificate])
    pki.validate_ca(good, "i.crt", "i.key", now=NOW)
    with pytest.raises(pki.PkiError, match="is not self-signed: give the chain"):
        pki.validate_ca(pki.CertificateAuthority(inter, inter_key), "i.crt", "i.key", now=NOW)
    with pytest.raises(pki.PkiError, match="did not issue"):
        pki.validate_ca(pki.CertificateAuthority(inter, inter_key, [make_ca().certificate]), "i.crt", "i.key",
                        now=NOW)


# ----------------------------------------------------------------------- signing

def test_issued_certificate_has_typed_sans_and_both_ekus(ca):
    _key, csr = make_csr(dns=("kafka-1.lab.test", "kafka.lab.test"), ips=("127.0.1.1", "::1"))
    cert, warnings = pki.issue_certificate(csr, ca, pki.SignPolicy(), now=NOW)
    assert warnings == []
    text = openssl("x509", "-noout", "-text", data=pki.cert_pem(cert).encode())
    assert "DNS:kafka-1.lab.test, DNS:kafka.lab.test, IP Address:127.0.1.1, IP Address:0:0:0:0:0:0:0:1" in text
    assert "DNS:127" not in text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
    assert "CA:FALSE" in text
    assert "Digital Signature" in text and "Key Encipherment" not in text  # EC key: no key encipherment


def test_validity_is_capped_at_the_ca_end(ca):
    short = make_ca(days=100, now=NOW)
    _key, csr = make_csr()
    cert, warnings = pki.issue_certificate(csr, short, pki.SignPolicy(validity_days=365), now=NOW)
    assert cert.not_valid_after_utc == short.certificate.not_valid_after_utc
    assert "ends with the CA" in warnings[0]


def test_reissue_reasons(ca):
    policy = pki.SignPolicy(validity_days=365, renewal_days=30)
    key, csr = make_csr()
    cert, _ = pki.issue_certificate(csr, ca, policy, now=NOW)
    assert pki.reissue_reason(None, csr, ca, policy, now=NOW) == pki.REASON_MISSING
    assert pki.reissue_reason([cert], csr, ca, policy, now=NOW) == pki.REASON_KEPT
    later = NOW + datetime.timedelta(days=340)
    assert pki.reissue_reason([cert], csr, ca, policy, now=later) == pki.REASON_EXPIRING
    _, csr_more = make_csr(dns=("kafka-1.lab.test", "extra.lab.test"), key=key)
    assert pki.reissue_reason([cert], csr_more, ca, policy, now=NOW) == pki.REASON_NAMES_CHANGED
    _, csr_new_key = make_csr()
    assert pki.reissue_reason([cert], csr_new_key, ca, policy, now=NOW) == pki.REASON_KEY_CHANGED
    other_cert, _ = pki.issue_certificate(csr, make_ca(cn="Other"), policy, now=NOW)
    assert pki.reissue_reason([other_cert], csr, ca, policy, now=NOW) == pki.REASON_OTHER_CA
    server_only = pki.SignPolicy(extended_key_usage=("serverAuth",))
    assert pki.reissue_reason([cert], csr, ca, server_only, now=NOW) == pki.REASON_NAMES_CHANGED


def test_policy_limits_names():
    policy = pki.SignPolicy(allowed_dns_names=("*.lab.test",), allowed_ip_addresses=("127.0.1.0/24",))
    policy.validate()
    _key, csr = make_csr(dns=("kafka-1.lab.test", "evil.example.com"), ips=("127.0.1.9", "10.1.1.1"))
    assert policy.disallowed(pki.names_of(csr)) == ["DNS:evil.example.com (allowed_dns_names)",
                                                   "IP:10.1.1.1 (allowed_ip_addresses)"]
    cn_policy = pki.SignPolicy(allowed_common_names=("kafka-1.lab.test",))
    _key, other_cn = make_csr(cn="User:admin")
    assert cn_policy.disallowed(pki.names_of(other_cn)) == ["CN=User:admin (allowed_common_names)"]
    assert cn_policy.disallowed(pki.names_of(csr)) == []
    with pytest.raises(pki.PkiError, match=r"renewal_days \(365\) must be smaller than validity_days"):
        pki.SignPolicy(validity_days=365, renewal_days=365).validate()
    with pytest.raises(pki.PkiError, match="validity_days must be positive"):
        pki.SignPolicy(validity_days=-1).validate()


def test_csr_with_foreign_signature_is_refused():
    key, csr = make_csr()
    other = pki.generate_private_key(pki.KeySpec("ec", ec_curve="P-256"))
    from cryptography.hazmat.primitives.asymmetric import ec
    signature = other.sign(csr.tbs_certrequest_bytes, ec.ECDSA(hashes.SHA256()))
    forged = _der_sequence(csr.tbs_certrequest_bytes + _ecdsa_sha256_algorithm() + _der_bitstring(signature))
    pem = b"-----BEGIN CERTIFICATE REQUEST-----\n" + __import__("base64").encodebytes(forged) + \
        b"-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(pki.PkiError, match="signature does not verify"):
        pki.load_csr(pem, "csr")


def _der_len(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_sequence(body: bytes) -> bytes:
    return b"\x30" + _der_len(len(body)) + body


def _der_bitstring(body: bytes) -> bytes:
    return b"\x03" + _der_len(len(body) + 1) + b"\x00" + body


def _ecdsa_sha256_algorithm() -> bytes:
    oid = bytes.fromhex("06082a8648ce3d040302")  # 1.2.840.10045.4.3.2
    return _der_sequence(oid)


# ------------------------------------------------------------------------ stores

@pytest.fixture(scope="module")
def host(ca):
    key, csr = make_csr()
    cert, _ = pki.issue_certificate(csr, ca, pki.SignPolicy())
    return key, [cert, ca.certificate]


@pytest.mark.parametrize("store_type", ["pkcs12", "jks"])
def test_keystore_read_by_keytool(tmp_path, host, store_type):
    key, chain = host
    path = tmp_path / ("ks." + store_type)
    path.write_bytes(stores.build_keystore(store_type, key, chain, "kafka-1", "s3cret-pw", str(path)))
    out = subprocess.run(["keytool", "-list", "-v", "-keystore", str(path), "-storetype", store_type.upper(),
                          "-storepass", "s3cret-pw"], capture_output=True, text=True, check=True).stdout
    assert "Alias name: kafka-1" in out and "Entry type: PrivateKeyEntry" in out
    assert "Certificate chain length: 2" in out
    assert stores.read_keystore(store_type, path.read_bytes(), "s3cret-pw", "ks") == \
        stores.keystore_content(key, chain, "kafka-1")
    with pytest.raises(stores.WrongPassword):
        stores.read_keystore(store_type, path.read_bytes(), "wrong-pw", "ks")


def test_truststore_with_two_cas_lists_two_trusted_entries(tmp_path, ca):
    second = make_ca(cn="Next CA")
    named = stores.truststore_aliases([ca.certificate, second.certificate, ca.certificate], "kafkasec-ca")
    assert len(named) == 2
    path = tmp_path / "ts.p12"
    path.write_bytes(stores.build_truststore("pkcs12", named, "s3cret-pw", str(path)))
    out = subprocess.run(["keytool", "-list", "-keystore", str(path), "-storepass", "s3cret-pw"],
                         capture_output=True, text=True, check=True).stdout
    assert out.count("trustedCertEntry") == 2
    content = stores.read_truststore("pkcs12", path.read_bytes(), "s3cret-pw", "ts")
    assert content.fingerprints == {pki.certificate_fingerprint(ca.certificate),
                                    pki.certificate_fingerprint(second.certificate)}


def test_pem_keystore_is_unencrypted_pkcs8_then_chain(host):
    key, chain = host
    data = stores.build_keystore("pem", key, chain, "", None, "ks.pem")
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert data.count(b"BEGIN CERTIFICATE") == 2
    with pytest.raises(pki.PkiError, match="password is not used with type pem"):
        stores.validate_store_options("pem", "x" * 8)
    with pytest.raises(pki.PkiError, match="password is required for type pkcs12"):
        stores.validate_store_options("pkcs12", None)
    with pytest.raises(pki.PkiError, match="type 'bks' is not supported"):
        stores.validate_store_options("bks", "x" * 8)


def test_truncated_pem_is_refused(host):
    pem = pki.certs_pem(host[1]).encode()
    with pytest.raises(pki.PkiError, match="truncated or malformed|not a valid PEM"):
        pki.load_certificates(pem[: len(pem) - 40], "certificate_path c.crt")


# ---------------------------------------------------------------------- file I/O

def test_atomic_write_leaves_0600_and_no_temp_files(tmp_path):
    target = tmp_path / "secret"
    atomic_write(str(target), b"one")
    atomic_write(str(target), b"two")
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(FileError, match="certificate_path .*/nope does not exist"):
        read_bytes(str(tmp_path / "nope"), "certificate_path")
    with pytest.raises(FileError, match="is a directory"):
        read_bytes(str(tmp_path), "certificate_path")
