# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystores and truststores in the formats Kafka reads: PKCS12, PEM and JKS.

PKCS12 and PEM are built with `cryptography`.  JKS, a legacy format that no
Python library here writes, is converted from PKCS12 by the JDK's keytool; the
passwords go to keytool through its environment, never its command line.

Idempotence compares parsed content (alias, key, chain, trusted certificates),
never bytes: PKCS12 output carries random salts and is not byte-stable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    PkiError,
    PrivateKey,
    certificate_fingerprint,
    certs_pem,
    load_certificates,
    load_private_key,
    public_key_fingerprint,
    serialize_private_key,
)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
except ImportError:  # pragma: no cover - pki.cryptography_problem() reports it
    pass

STORE_TYPES = ("pkcs12", "pem", "jks")
KEYTOOL_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class KeystoreContent:
    """What a keystore holds, as compared for idempotence."""

    alias: str
    key_fingerprint: str
    chain_fingerprints: Tuple[str, ...]

    def describe(self) -> str:
        entry = "alias %s: " % self.alias if self.alias else ""
        return "%skey %s, chain %s" % (entry, self.key_fingerprint, ", ".join(self.chain_fingerprints))


@dataclass(frozen=True)
class TruststoreContent:
    """The trusted certificates of a truststore, by fingerprint, with their aliases."""

    entries: Tuple[Tuple[str, str], ...]  # (alias, fingerprint) sorted by fingerprint

    @property
    def fingerprints(self) -> frozenset:
        return frozenset(fingerprint for _alias, fingerprint in self.entries)

    def describe(self) -> str:
        return "\n".join("%s %s" % (alias, fp) for alias, fp in self.entries) + "\n"


class WrongPassword(PkiError):
    """The store exists but the given password does not open it."""


def validate_store_options(store_type: str, password: Optional[str], option_prefix: str = "") -> None:
    if store_type not in STORE_TYPES:
        raise PkiError("%stype %r is not supported: use one of %s" % (option_prefix, store_type, ", ".join(STORE_TYPES)))
    if store_type == "pem":
        if password:
            raise PkiError("%spassword is not used with type pem: Kafka's PEM stores take an unencrypted PKCS#8 key "
                           "and no store password; leave password unset" % option_prefix)
    else:
        if not password:
            raise PkiError("%spassword is required for type %s (no default passwords)" % (option_prefix, store_type))
        if len(password) < 6:
            raise PkiError("%spassword is shorter than 6 characters, which keytool and the JDK refuse" % option_prefix)


def _pkcs12_encryption(password: str):
    # AES-256 + PBKDF2/HMAC-SHA256 and an HMAC-SHA256 MAC: what JDK 11.0.12+/17 write and read.
    return (PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(10000)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password.encode("utf-8")))


# ------------------------------------------------------------------- keystores

def keystore_content(key: PrivateKey, chain: Sequence["x509.Certificate"], alias: str) -> KeystoreContent:
    return KeystoreContent(alias, public_key_fingerprint(key), tuple(certificate_fingerprint(c) for c in chain))


def check_key_matches_chain(key: PrivateKey, chain: Sequence["x509.Certificate"], key_source: str,
                            cert_source: str) -> None:
    if public_key_fingerprint(key) != public_key_fingerprint(chain[0].public_key()):
        raise PkiError("%s does not match the certificate in %s (the first certificate must be the key's own)" % (
            key_source, cert_source))


def build_keystore(store_type: str, key: PrivateKey, chain: Sequence["x509.Certificate"], alias: str,
                   password: Optional[str], path_hint: str) -> bytes:
    if store_type == "pem":
        return serialize_private_key(key) + certs_pem(chain).encode("ascii")
    data = pkcs12.serialize_key_and_certificates(
        alias.encode("utf-8"), key, chain[0],
        [pkcs12.PKCS12Certificate(c, None) for c in chain[1:]] or None,
        _pkcs12_encryption(password or ""))
    if store_type == "jks":
        return pkcs12_to_jks(data, password or "", path_hint)
    return data


def read_keystore(store_type: str, data: bytes, password: Optional[str], source: str) -> Optional[KeystoreContent]:
    """Parse an existing keystore; None when it is not the kind wanted (it gets replaced)."""
    if store_type == "pem":
        try:
            key = load_private_key(data, None, source, trusted=True)
            chain = load_certificates(data, source)
        except PkiError:
            return None
        return keystore_content(key, chain, "")
    if store_type == "jks":
        data = jks_to_pkcs12(data, password or "", source)
    parsed = _load_pkcs12(data, password or "", source)
    if parsed.key is None or parsed.cert is None:
        return None
    chain = [parsed.cert.certificate] + [c.certificate for c in parsed.additional_certs]
    alias = (parsed.cert.friendly_name or b"").decode("utf-8", "replace")
    return keystore_content(parsed.key, chain, alias)


def _load_pkcs12(data: bytes, password: str, source: str):
    try:
        return pkcs12.load_pkcs12(data, password.encode("utf-8"))
    except ValueError as exc:
        message = str(exc).lower()
        if "password" in message or "mac" in message or "decrypt" in message:
            raise WrongPassword("%s exists but the given password does not open it" % source) from None
        raise PkiError("%s is not a valid PKCS12 store (%s)" % (source, exc)) from None


# ----------------------------------------------------------------- truststores

def truststore_aliases(certs: Sequence["x509.Certificate"], prefix: str) -> List[Tuple[str, "x509.Certificate"]]:
    """Stable aliases: prefix plus the first 16 hex digits of each SHA-256 fingerprint."""
    unique = {}
    for cert in certs:
        unique.setdefault(certificate_fingerprint(cert), cert)
    return [("%s-%s" % (prefix, fp.replace(":", "")[:16].lower()), cert) for fp, cert in sorted(unique.items())]


def truststore_content(named: Sequence[Tuple[str, "x509.Certificate"]]) -> TruststoreContent:
    return TruststoreContent(tuple(sorted(((a, certificate_fingerprint(c)) for a, c in named), key=lambda e: e[1])))


def build_truststore(store_type: str, named: Sequence[Tuple[str, "x509.Certificate"]], password: Optional[str],
                     path_hint: str) -> bytes:
    if store_type == "pem":
        return certs_pem([cert for _alias, cert in named]).encode("ascii")
    # serialize_java_truststore marks each certificate with the JDK's trusted-key-usage
    # attribute; without it Java ignores certificate-only PKCS12 entries entirely.
    data = pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(c, a.encode("utf-8")) for a, c in named], _pkcs12_encryption(password or ""))
    if store_type == "jks":
        return pkcs12_to_jks(data, password or "", path_hint)
    return data


def read_truststore(store_type: str, data: bytes, password: Optional[str], source: str) -> Optional[TruststoreContent]:
    if store_type == "pem":
        try:
            certs = load_certificates(data, source)
        except PkiError:
            return None
        return truststore_content([("", c) for c in certs])
    if store_type == "jks":
        data = jks_to_pkcs12(data, password or "", source)
    parsed = _load_pkcs12(data, password or "", source)
    if parsed.key is not None:
        return None
    return truststore_content([((c.friendly_name or b"").decode("utf-8", "replace"), c.certificate)
                               for c in parsed.additional_certs])


# ------------------------------------------------------------------------- JKS

def _keytool() -> str:
    path = shutil.which("keytool")
    if not path:
        java_home = os.environ.get("JAVA_HOME")
        candidate = os.path.join(java_home, "bin", "keytool") if java_home else ""
        if candidate and os.access(candidate, os.X_OK):
            return candidate
        raise PkiError("type jks needs the JDK's keytool on this host and none was found in PATH or JAVA_HOME; "
                       "use type pkcs12 (Kafka reads it) or install a JDK")
    return path


def _convert(data: bytes, password: str, src_type: str, dest_type: str, source: str) -> bytes:
    keytool = _keytool()
    workdir = tempfile.mkdtemp(prefix="kafkasec-store-")
    try:
        os.chmod(workdir, 0o700)
        src = os.path.join(workdir, "in")
        dest = os.path.join(workdir, "out")
        fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        env = dict(os.environ, KAFKASEC_SRC_PASS=password, KAFKASEC_DEST_PASS=password, LC_ALL="C")
        command = [keytool, "-importkeystore", "-noprompt",
                   "-srckeystore", src, "-srcstoretype", src_type, "-srcstorepass:env", "KAFKASEC_SRC_PASS",
                   "-destkeystore", dest, "-deststoretype", dest_type, "-deststorepass:env", "KAFKASEC_DEST_PASS"]
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=KEYTOOL_TIMEOUT_SECONDS, check=False)
        output = result.stdout.decode("utf-8", "replace")
        if result.returncode != 0:
            if "password was incorrect" in output or "keystore password was incorrect" in output.lower():
                raise WrongPassword("%s exists but the given password does not open it" % source)
            raise PkiError("keytool could not convert %s from %s to %s: %s" % (
                source, src_type, dest_type, output.strip().splitlines()[-1] if output.strip() else result.returncode))
        with open(dest, "rb") as handle:
            return handle.read()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pkcs12_to_jks(data: bytes, password: str, source: str) -> bytes:
    return _convert(data, password, "PKCS12", "JKS", source)


def jks_to_pkcs12(data: bytes, password: str, source: str) -> bytes:
    return _convert(data, password, "JKS", "PKCS12", source)
