# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The certificate_request module's work: keep or create the host key, build the CSR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import check_parent_dir, read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    KeySpec,
    PkiError,
    build_csr,
    build_name,
    certs_pem,
    generate_private_key,
    key_matches_spec,
    load_certificates,
    load_private_key,
    normalise_names,
    public_key_fingerprint,
    serialize_private_key,
)

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - pki.cryptography_problem() reports it
    pass

REGENERATE_CHOICES = ("never", "if_mismatch", "always")


@dataclass(frozen=True)
class CsrRequest:
    privatekey_path: str
    privatekey_passphrase: Optional[str]
    key_spec: KeySpec
    regenerate_key: str
    common_name: str
    subject: Dict[str, str]
    dns_names: List[str]
    ip_addresses: List[str]
    certificate_path: Optional[str]
    require_san: bool = True  # False for a client-only certificate (its CN is a principal, not a host name)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "CsrRequest":
        return cls(
            privatekey_path=params["privatekey_path"],
            privatekey_passphrase=params.get("privatekey_passphrase"),
            key_spec=KeySpec(params["key_type"], params["key_size"], params["ec_curve"]),
            regenerate_key=params["regenerate_key"],
            common_name=params["common_name"],
            subject={str(k): str(v) for k, v in (params.get("subject") or {}).items()},
            dns_names=list(params.get("dns_names") or []),
            ip_addresses=[str(i) for i in params.get("ip_addresses") or []],
            certificate_path=params.get("certificate_path"),
            require_san=bool(params.get("require_san", True)),
        )


@dataclass
class CsrOutcome:
    csr_pem: str
    key_fingerprint: str
    key_pem: Optional[bytes]  # new key to write, or None to keep the file's content
    current_certificate: Optional[str]
    reason: str

    @property
    def result(self) -> Dict[str, Any]:
        return dict(csr=self.csr_pem, public_key_fingerprint_sha256=self.key_fingerprint,
                    key_created=self.key_pem is not None, key_reason=self.reason,
                    current_certificate=self.current_certificate)


def ensure_key_and_csr(request: CsrRequest, check_parent: bool = True) -> CsrOutcome:
    """Validate everything first, then decide about the key and build the CSR (nothing is written here).

    `check_parent`: False in check mode before the key's directory exists (a real run makes it first).
    """
    request.key_spec.validate()
    if request.regenerate_key not in REGENERATE_CHOICES:
        raise PkiError("regenerate_key must be one of %s" % ", ".join(REGENERATE_CHOICES))
    if "CN" in request.subject:
        raise PkiError("subject must not hold CN: set common_name")
    subject = build_name(dict(request.subject, CN=request.common_name), "subject")
    dns, ips = normalise_names(request.dns_names, request.ip_addresses)
    if not dns and not ips and request.require_san:
        raise PkiError("dns_names and ip_addresses are both empty: Kafka checks the host name against the SANs")
    if check_parent:
        check_parent_dir(request.privatekey_path, "privatekey_path")

    current = None
    cert_data = read_optional(request.certificate_path, "certificate_path")
    if cert_data:
        try:
            current = certs_pem(load_certificates(cert_data, "certificate_path %s" % request.certificate_path))
        except PkiError:
            current = None  # unreadable content counts as no certificate: sign reissues it

    key_data = read_optional(request.privatekey_path, "privatekey_path")
    key = None
    reason = "kept"
    if key_data is not None:
        key = load_private_key(key_data, request.privatekey_passphrase, "privatekey_path %s" % request.privatekey_path,
                               trusted=True)
    if key is None:
        reason = "missing"
    elif request.regenerate_key == "always":
        reason = "regenerate_key=always"
    elif request.regenerate_key == "if_mismatch" and not key_matches_spec(key, request.key_spec):
        reason = "type or size changed to %s" % request.key_spec.describe()
    new_key_pem = None
    if reason != "kept":
        key = generate_private_key(request.key_spec)
        new_key_pem = serialize_private_key(key, request.privatekey_passphrase)
    csr = build_csr(key, subject, dns, ips)
    return CsrOutcome(csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                      public_key_fingerprint(key), new_key_pem, current, reason)
