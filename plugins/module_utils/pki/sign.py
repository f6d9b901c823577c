# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sign module's work on the CA host: check the request, keep or issue the certificate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_bytes, read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.principals import (
    DEFAULT_RULES,
    impersonation_problem,
    rfc2253_of_name,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    REASON_FORCED,
    REASON_KEPT,
    CertificateAuthority,
    PkiError,
    SignPolicy,
    cert_pem,
    certificate_fingerprint,
    certs_pem,
    iso,
    issue_certificate,
    load_certificates,
    load_csr,
    load_private_key,
    names_of,
    reissue_reason,
    validate_ca,
)


@dataclass(frozen=True)
class SignRequest:
    ca_certificate_path: str
    ca_privatekey_path: str
    ca_privatekey_passphrase: Optional[str]
    ca_chain_path: Optional[str]
    csr: str
    current_certificate: Optional[str]
    policy: SignPolicy
    force: bool
    # No impersonation: principal -> whose it is (nodes, super users), and the rules that map the subject.
    refused_principals: Optional[Mapping[str, str]] = None
    principal_mapping_rules: str = DEFAULT_RULES
    certificate_for: str = "this certificate"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "SignRequest":
        def optional_tuple(name: str) -> Optional[tuple]:
            value = params.get(name)
            return None if value is None else tuple(str(v) for v in value)

        return cls(
            ca_certificate_path=params["ca_certificate_path"],
            ca_privatekey_path=params["ca_privatekey_path"],
            ca_privatekey_passphrase=params.get("ca_privatekey_passphrase"),
            ca_chain_path=params.get("ca_chain_path"),
            csr=params["csr"],
            current_certificate=params.get("current_certificate") or None,
            policy=SignPolicy(
                validity_days=params["validity_days"],
                renewal_days=params["renewal_days"],
                allowed_dns_names=optional_tuple("allowed_dns_names"),
                allowed_ip_addresses=optional_tuple("allowed_ip_addresses"),
                allowed_common_names=optional_tuple("allowed_common_names"),
                extended_key_usage=tuple(params["extended_key_usage"]),
            ),
            force=params["force"],
            refused_principals=dict(params.get("refused_principals") or {}),
            principal_mapping_rules=str(params.get("principal_mapping_rules") or DEFAULT_RULES),
            certificate_for=str(params.get("certificate_for") or "this certificate"),
        )


@dataclass
class SignOutcome:
    ca: CertificateAuthority
    leaf: Any
    reason: str
    warnings: List[str]
    before: str

    @property
    def changed(self) -> bool:
        return self.reason != REASON_KEPT

    @property
    def result(self) -> Dict[str, Any]:
        chain = certs_pem(self.ca.chain)
        leaf = cert_pem(self.leaf)
        return dict(certificate=leaf, chain=chain, fullchain=leaf + chain,
                    ca_certificate=cert_pem(self.ca.certificate), root_certificate=cert_pem(self.ca.root),
                    fingerprint_sha256=certificate_fingerprint(self.leaf), serial=self.leaf.serial_number,
                    not_after=iso(self.leaf.not_valid_after_utc), reason=self.reason)

    @property
    def diff(self) -> Dict[str, str]:
        return dict(before=self.before, after=_describe(self.leaf))


def _describe(cert: Any) -> str:
    names = names_of(cert)
    return "%s\nfingerprint %s\nnot after %s\n" % (names.describe(), certificate_fingerprint(cert),
                                                   iso(cert.not_valid_after_utc))


def load_ca(request: SignRequest) -> CertificateAuthority:
    cert_source = "ca_certificate_path %s" % request.ca_certificate_path
    key_source = "ca_privatekey_path %s" % request.ca_privatekey_path
    certs = load_certificates(read_bytes(request.ca_certificate_path, "ca_certificate_path"), cert_source)
    key = load_private_key(read_bytes(request.ca_privatekey_path, "ca_privatekey_path"),
                           request.ca_privatekey_passphrase, key_source, trusted=True)
    issuers = certs[1:]
    chain_data = read_optional(request.ca_chain_path, "ca_chain_path")
    if chain_data:
        issuers += load_certificates(chain_data, "ca_chain_path %s" % request.ca_chain_path)
    ca = CertificateAuthority(certs[0], key, issuers)
    validate_ca(ca, cert_source, key_source, "ca_chain_path %s" % request.ca_chain_path)
    return ca


def sign(request: SignRequest, ca: Optional[CertificateAuthority] = None) -> SignOutcome:
    """Keep the host's certificate or issue one; `ca` is the loaded CA when a batch shares it."""
    request.policy.validate()
    csr = load_csr(request.csr, "csr")
    wanted = names_of(csr)
    refused = request.policy.disallowed(wanted)
    if refused:
        raise PkiError("csr (%s) asks for names the allow-lists do not allow: %s" % (
            wanted.subject.rfc4514_string(), ", ".join(refused)))
    impersonation = impersonation_problem(rfc2253_of_name(csr.subject), request.principal_mapping_rules,
                                          request.refused_principals or {}, request.certificate_for)
    if impersonation:
        raise PkiError(impersonation)
    ca = ca or load_ca(request)
    current = None
    if request.current_certificate:
        try:
            current = load_certificates(request.current_certificate, "current_certificate")
        except PkiError:
            current = None  # garbage in the host's file: issue a fresh certificate
    reason = reissue_reason(current, csr, ca, request.policy)
    if request.force and reason == REASON_KEPT:
        reason = REASON_FORCED
    before = _describe(current[0]) if current else ""
    if reason == REASON_KEPT:
        return SignOutcome(ca, current[0], reason, [], before)
    leaf, warnings = issue_certificate(csr, ca, request.policy)
    return SignOutcome(ca, leaf, reason, warnings, before)


# The per-host fields of a batch request; the CA options are the module's own.
BATCH_FIELDS = ("host", "csr", "current_certificate", "validity_days", "renewal_days", "allowed_dns_names",
                "allowed_ip_addresses", "allowed_common_names", "principal_mapping_rules", "refused_principals",
                "certificate_for", "force")


def sign_batch(params: Mapping[str, Any]) -> Tuple[Dict[str, Dict[str, Any]], List[str], bool, List[str]]:
    """Sign every host's CSR of params["requests"] with the CA loaded once.

    Returns (results by host, warnings, changed, the CA's certificate and the issuers above it as
    PEM each: what truststores hold). A request the CA refuses (names outside the
    host's allow-lists, a bad CSR) fails that host only: its result holds failed and msg, and the
    host's install step reports it. A problem with the CA itself fails the whole call.
    """
    requests = params.get("requests") or []
    ca_request = SignRequest.from_params(dict(params, csr="", requests=None))
    ca = load_ca(ca_request)
    results: Dict[str, Dict[str, Any]] = {}
    warnings: List[str] = []
    changed = False
    for index, entry in enumerate(requests):
        host = str(entry.get("host") or "requests[%d]" % index)
        unknown = sorted(set(entry) - set(BATCH_FIELDS))
        try:
            if unknown:
                raise PkiError("unknown field(s) %s; a request has %s" % (", ".join(unknown), ", ".join(BATCH_FIELDS)))
            if not entry.get("csr"):
                raise PkiError("no csr")
            merged = dict(params, **{key: value for key, value in entry.items() if value is not None})
            if not entry.get("certificate_for"):
                merged["certificate_for"] = host
            for number in ("validity_days", "renewal_days"):
                merged[number] = int(merged[number])
            outcome = sign(SignRequest.from_params(merged), ca)
        except PkiError as exc:
            results[host] = dict(failed=True, msg="the CA refused the request of %s: %s" % (host, exc))
            continue
        results[host] = dict(outcome.result, changed=outcome.changed)
        warnings += ["%s: %s" % (host, warning) for warning in outcome.warnings]
        changed = changed or outcome.changed
    return results, warnings, changed, [cert_pem(cert) for cert in ca.chain]
