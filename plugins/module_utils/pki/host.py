# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's whole PKI in two calls, and the one fact every consumer role reads.

- ``request`` (on the host): check every input, then the PKI directory, the host key (made here,
  0600, never sent), the CSR and the store passwords;
- the CA host signs every host's CSR in one call (``sign.sign_batch``);
- ``install`` (on the host): the certificate and CA chain files, the keystore and the truststore.

Both steps, and ``facts`` (read only), return the PKI contract: ``contract()`` below, registered by
the certificates role as ``kafkasec_pki``. Nothing here imports Ansible; the module
``kafkasec.tls.host_pki`` writes the files this code decides on.
"""

from __future__ import annotations

import datetime
import os
import secrets as random_secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    REASON_KEPT,
    CertificateAuthority,
    KeySpec,
    PkiError,
    SignPolicy,
    cert_pem,
    certificate_fingerprint,
    certs_pem,
    iso,
    load_certificates,
    load_csr,
    load_private_key,
    reissue_reason,
    validate_dns_name,
    validate_ip_address,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.contract import contract_of
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.csr import CsrRequest, ensure_key_and_csr
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.store_files import (
    StoreOutcome,
    keystore_outcome,
    seal_path,
    truststore_outcome,
)

STORE_TYPES = ("pkcs12", "pem", "jks")
MIN_STORE_PASSWORD = 6  # keytool's minimum
GENERATED_PASSWORD_LENGTH = 32
_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"


@dataclass(frozen=True)
class HostPki:
    """The inputs of one host's PKI: the certificates role's variables, by meaning."""

    host: str
    pki_dir: str
    common_name: Any = ""
    dns_names: Any = ()
    ip_addresses: Any = ()
    subject: Dict[str, str] = field(default_factory=dict)
    key_spec: KeySpec = KeySpec("rsa", 3072, "P-256")
    regenerate_key: str = "if_mismatch"
    force_renew: bool = False
    privatekey_path: str = ""
    privatekey_passphrase: Optional[str] = None
    certificate_path: str = ""
    ca_chain_path: str = ""
    validity_days: Any = 365
    renewal_days: Any = 30
    keystore_path: str = ""
    keystore_type: str = "pkcs12"
    keystore_alias: str = "kafka"
    keystore_password: Optional[str] = None
    keystore_password_file: str = ""
    keystore_on_password_mismatch: str = "fail"
    truststore: bool = True
    truststore_path: str = ""
    truststore_type: str = "pkcs12"
    truststore_password: Optional[str] = None
    truststore_password_file: str = ""
    truststore_on_password_mismatch: str = "fail"
    truststore_alias_prefix: str = "kafkasec-ca"
    truststore_extra_certificates: Any = ()
    ca_hosts: Optional[Sequence[str]] = None
    ca_ready: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "HostPki":
        names = set(cls.__dataclass_fields__)  # pylint: disable=no-member
        values = {key: value for key, value in params.items() if key in names and value is not None}
        values["key_spec"] = KeySpec(params.get("key_type") or "rsa", params.get("key_size") or 3072,
                                     params.get("ec_curve") or "P-256")
        values["subject"] = {str(k): str(v) for k, v in (params.get("subject") or {}).items()}
        return cls(**values)


# ----------------------------------------------------------------------------- checks

def _strings(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _store_problems(kind: str, store_type: str, password: Optional[str]) -> List[Problem]:
    variable = "kafkasec_%s_password" % kind
    if store_type not in STORE_TYPES:
        return [("kafkasec_%s_type" % kind, "kafkasec_%s_type must be one of %s, not %r" % (
            kind, ", ".join(STORE_TYPES), store_type))]
    if password is None:
        return []
    if store_type == "pem":
        return [(variable, "%s must be unset for kafkasec_%s_type pem (Kafka reads an unencrypted PKCS#8 key and "
                           "PEM certificates)" % (variable, kind))]
    if len(str(password)) < MIN_STORE_PASSWORD:
        return [(variable, "%s must be at least %d characters for %s (keytool's minimum); unset it to have one "
                           "generated on the host" % (variable, MIN_STORE_PASSWORD, store_type))]
    return []


def _extra_certificate_problems(extra: Any) -> List[Problem]:
    variable = "kafkasec_truststore_extra_certificates"
    if not _strings(extra):
        return [(variable, "%s must be a list of PEM certificates (text with %s), not %r" % (
            variable, _BEGIN, type(extra).__name__))]
    problems: List[Problem] = []
    for index, pem in enumerate(extra):
        if _BEGIN not in pem:
            problems.append((variable, "%s item %d is not a PEM certificate (text with %s); give the certificate, "
                                       "not a file name" % (variable, index, _BEGIN)))
        elif pem.count(_BEGIN) != pem.count(_END):
            problems.append((variable, "%s item %d (counting from 0) holds a truncated PEM certificate: every %s "
                                       "line needs its %s line" % (variable, index, _BEGIN, _END)))
        else:
            try:
                load_certificates(pem, "%s item %d" % (variable, index))
            except PkiError as exc:
                problems.append((variable, str(exc)))
    return problems


def _ca_problems(s: HostPki) -> List[Problem]:
    problems: List[Problem] = []
    if s.ca_hosts is not None and len(s.ca_hosts) != 1:
        problems.append(("kafka_ca", "inventory group kafka_ca must exist and hold exactly one host, the CA host that "
                                     "signs this host's certificate; it holds [%s]" % ", ".join(s.ca_hosts)))
    elif not s.ca_ready:
        problems.append(("kafka_ca", "the CA files are unknown: the kafkasec.tls.ca role (play on group kafka_ca) did "
                                     "not run in this ansible-playbook run. Run playbooks/pki.yml; with --limit, "
                                     "include the CA host (--limit 'kafka_ca:%s')" % s.host))
    return problems


def _pki_dir_problems(s: HostPki) -> List[Problem]:
    if not isinstance(s.pki_dir, str) or not os.path.isabs(s.pki_dir) or not os.path.dirname(s.pki_dir.rstrip("/")):
        return [("kafkasec_pki_dir", "kafkasec_pki_dir must be an absolute path below an existing directory, "
                                     "not %r" % (s.pki_dir,))]
    return []


def truststore_input_problems(s: HostPki) -> List[Problem]:
    """The checks of a truststore-only host (the truststore role): CA group, store, extra CAs, directory."""
    return (_ca_problems(s) + _store_problems("truststore", s.truststore_type, s.truststore_password)
            + _extra_certificate_problems(s.truststore_extra_certificates) + _pki_dir_problems(s))


def input_problems(s: HostPki) -> List[Problem]:
    """Every check of the host's PKI inputs that needs no host: names the variable and the value."""
    problems = _ca_problems(s)
    if not isinstance(s.common_name, str) or not s.common_name.strip():
        problems.append(("kafkasec_cert_common_name", "kafkasec_cert_common_name must be a non-empty string, not %r"
                         % (s.common_name,)))
    if not _strings(s.dns_names):
        problems.append(("kafkasec_cert_dns_names", "kafkasec_cert_dns_names must be a list of strings, not %r"
                         % (s.dns_names,)))
    else:
        for name in s.dns_names:
            try:
                validate_dns_name(name, "kafkasec_cert_dns_names")
            except PkiError as exc:
                detail = str(exc).replace("kafkasec_cert_dns_names: ", "", 1).replace(
                    "under ip_addresses", "in kafkasec_cert_ip_addresses")
                problems.append(("kafkasec_cert_dns_names", "kafkasec_cert_dns_names holds an invalid DNS name: %s "
                                 "(letters, digits and hyphens in dot-separated labels of at most 63 characters, an "
                                 "optional leading '*.' label; IDNs in A-label form)" % detail))
    if not _strings(s.ip_addresses):
        problems.append(("kafkasec_cert_ip_addresses", "kafkasec_cert_ip_addresses must be a list of strings, not %r"
                         % (s.ip_addresses,)))
    else:
        for address in s.ip_addresses:
            try:
                validate_ip_address(address, "kafkasec_cert_ip_addresses")
            except PkiError as exc:
                detail = str(exc).replace("kafkasec_cert_ip_addresses: ", "", 1)
                problems.append(("kafkasec_cert_ip_addresses", "kafkasec_cert_ip_addresses holds an invalid IP address: "
                                 "%s (IPv4 dotted quad or IPv6, no prefix length, no zone; host names belong in "
                                 "kafkasec_cert_dns_names)" % detail))
    if _strings(s.dns_names) and _strings(s.ip_addresses) and not s.dns_names and not s.ip_addresses:
        problems.append(("kafkasec_cert_dns_names", "kafkasec_cert_dns_names and kafkasec_cert_ip_addresses are both "
                                                    "empty: a certificate needs at least one SAN, since Kafka's "
                                                    "clients check the host name against the SANs"))
    validity, renewal = _int(s.validity_days), _int(s.renewal_days)
    if validity is None or renewal is None or validity <= 0 or not 0 <= renewal < validity:
        problems.append(("kafkasec_cert_validity_days", "kafkasec_cert_validity_days (%s) must be positive and "
                                                        "kafkasec_cert_renewal_days (%s) between 0 and it"
                         % (s.validity_days, s.renewal_days)))
    try:
        s.key_spec.validate()
    except PkiError as exc:
        problems.append(("kafkasec_cert_key_type", "kafkasec_cert_key_type/size/curve: %s" % exc))
    problems += _store_problems("keystore", s.keystore_type, s.keystore_password)
    if s.truststore:
        problems += _store_problems("truststore", s.truststore_type, s.truststore_password)
        problems += _extra_certificate_problems(s.truststore_extra_certificates)
    return problems + _pki_dir_problems(s)


def host_problems(s: HostPki, is_dir: Callable[[str], bool] = os.path.isdir,
                  truststore_only: bool = False) -> List[Problem]:
    """input_problems (truststore_input_problems for a truststore-only host), then what the host must
    already have (the parent of the PKI directory)."""
    problems = truststore_input_problems(s) if truststore_only else input_problems(s)
    if not any(variable == "kafkasec_pki_dir" for variable, _message in problems):
        parent = os.path.dirname(s.pki_dir.rstrip("/"))
        if not is_dir(parent):
            problems.append(("kafkasec_pki_dir", "kafkasec_pki_dir is %s, but its parent %s is not a directory on the "
                                                 "host; create it (the Kafka installation) or set kafkasec_pki_dir for "
                                                 "this host" % (s.pki_dir, parent)))
    return problems


# ----------------------------------------------------------------------------- writes

@dataclass(frozen=True)
class FileWrite:
    """A file of the host's PKI: the content to write (None: keep it) and the mode it must have."""

    path: str
    data: Optional[bytes]
    mode: str
    # Bookkeeping (a store's seal): written after the files before it, never in check mode, and
    # never a change of its own.
    bookkeeping: bool = False


@dataclass
class StepOutcome:
    writes: List[FileWrite] = field(default_factory=list)
    result: Dict[str, Any] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    changed_parts: List[str] = field(default_factory=list)
    # A request step that installed at once: when the CA's rule stops keeping the certificate (epoch
    # seconds), i.e. until when the same inputs and files give the same result (pki/request_memo.py).
    renew_from: Optional[float] = None


def store_password(given: Optional[str], path: str, store_type: str,
                   generate: Callable[[], str] = lambda: random_secrets.token_urlsafe(GENERATED_PASSWORD_LENGTH)[
                       :GENERATED_PASSWORD_LENGTH]) -> "tuple[Optional[str], Optional[bytes]]":
    """The store's password and the password file's new content (None: keep the file as it is).

    A PEM store has none; a password from the inventory wins; otherwise the one kept on the host
    in `path` (0600), generated on the first run.
    """
    if store_type == "pem":
        return None, None
    if given is not None:
        return str(given), None
    data = read_optional(path, "password file %s" % path)
    kept = data.decode("utf-8").strip() if data is not None else ""
    if kept:
        return kept, None
    password = generate()
    return password, (password + "\n").encode("utf-8")


def _passwords(s: HostPki, outcome: StepOutcome) -> Dict[str, Optional[str]]:
    passwords: Dict[str, Optional[str]] = {}
    stores = [("keystore", s.keystore_type, s.keystore_password, s.keystore_password_file)]
    if s.truststore:
        stores.append(("truststore", s.truststore_type, s.truststore_password, s.truststore_password_file))
    for kind, store_type, given, path in stores:
        password, data = store_password(given, path, store_type)
        passwords[kind] = password
        if data is not None:
            outcome.writes.append(FileWrite(path, data, "0600"))
            outcome.changed_parts.append("%s password generated" % kind)
        elif given is None and store_type != "pem":
            outcome.writes.append(FileWrite(path, None, "0600"))
    return passwords


def request(s: HostPki, pki_dir_exists: bool, ca_chain: Sequence[str] = ()) -> StepOutcome:
    """The host's key (kept or new) and CSR, and its store passwords; call after host_problems.

    With `ca_chain` (the CA certificates as the CA role returned them), a host whose certificate the
    CA would keep (``kept_by_ca``) needs no signing: the step installs at once (``install`` with that
    answer) and its result holds ``installed: true`` and the PKI contract under ``pki``, so the
    certificates role's sign and install calls have nothing left to do for it.
    """
    outcome = StepOutcome()
    csr = ensure_key_and_csr(CsrRequest(
        privatekey_path=s.privatekey_path, privatekey_passphrase=s.privatekey_passphrase, key_spec=s.key_spec,
        regenerate_key=s.regenerate_key, common_name=s.common_name, subject=s.subject,
        dns_names=list(s.dns_names), ip_addresses=list(s.ip_addresses), certificate_path=s.certificate_path),
        check_parent=pki_dir_exists)
    outcome.writes.append(FileWrite(s.privatekey_path, csr.key_pem, "0600"))
    if csr.key_pem is not None:
        outcome.changed_parts.append("key %s" % csr.reason)
    outcome.result = dict(csr.result)
    kept = kept_by_ca(s, csr.csr_pem, csr.current_certificate, ca_chain) if csr.key_pem is None else None
    if kept is not None and pki_dir_exists:
        installed = install(s, kept, ca_chain)
        outcome.writes += installed.writes
        outcome.changed_parts += installed.changed_parts
        outcome.warnings += installed.warnings
        outcome.result.update(installed=True, pki=installed.result)
        outcome.renew_from = kept["renew_from"]
    elif pki_dir_exists:
        # For an install that a later call makes (host_pki's defer): the contract needs the passwords the stores
        # will have. A secret: the certificates role registers this result with no_log.
        outcome.result["store_passwords"] = _passwords(s, outcome)
    return outcome


def kept_by_ca(s: HostPki, csr_pem: str, current_certificate: Optional[str],
               ca_chain: Sequence[str]) -> Optional[Dict[str, Any]]:
    """The CA's answer for this host when the CA would keep its current certificate, worked out on
    the host with the CA's own rule (``reissue_reason``: issued by this CA, same key, same names and
    usages, outside the renewal window) and the lifetime the inventory gives; None when the CA must
    sign (or cannot be asked here: no CA chain, a forced renewal). Trusting the host for this is
    safe: a host that wrongly keeps its certificate only keeps what the CA signed for it before."""
    if s.force_renew or not ca_chain or not current_certificate:
        return None
    authorities: List[Any] = []
    for index, pem in enumerate(ca_chain):
        authorities += load_certificates(pem, "CA certificate %d" % index)
    try:
        current = load_certificates(current_certificate, "kafkasec_cert_certificate_path %s" % s.certificate_path)
    except PkiError:
        return None
    ca = CertificateAuthority(authorities[0], None, authorities[1:])
    policy = SignPolicy(validity_days=int(s.validity_days), renewal_days=int(s.renewal_days))
    if reissue_reason(current, load_csr(csr_pem, "csr"), ca, policy) != REASON_KEPT:
        return None
    leaf, chain = current[0], certs_pem(ca.chain)
    renew_from = leaf.not_valid_after_utc - datetime.timedelta(days=policy.renewal_days)
    return dict(certificate=cert_pem(leaf), chain=chain, fullchain=cert_pem(leaf) + chain,
                fingerprint_sha256=certificate_fingerprint(leaf), serial=leaf.serial_number,
                not_after=iso(leaf.not_valid_after_utc), reason=REASON_KEPT, changed=False,
                renew_from=renew_from.timestamp())


def watched_paths(s: HostPki) -> List[str]:
    """Every file and directory the request step reads or settles (its memo watches them all)."""
    paths = [s.pki_dir, s.privatekey_path, s.certificate_path, s.ca_chain_path, s.keystore_path,
             seal_path(s.keystore_path), s.keystore_password_file]
    if s.truststore:
        paths += [s.truststore_path, seal_path(s.truststore_path), s.truststore_password_file]
    return [path for path in paths if path]


def _differs(path: str, data: bytes) -> bool:
    return read_optional(path, path) != data


def _add_store(outcome: StepOutcome, kind: str, path: str, store: StoreOutcome, mode: str) -> bool:
    outcome.writes.append(FileWrite(path, store.data, mode))
    if store.seal is not None:
        outcome.writes.append(FileWrite(store.seal_file, store.seal, "0600", bookkeeping=True))
    outcome.warnings += store.warnings
    if store.data is not None:
        outcome.changed_parts.append(kind)
    return store.data is not None


def _trusted_chain(chain: str, extra: Sequence[str]) -> str:
    """The CA chain file: the issuers of the host's certificate, then the further CAs its truststore holds
    (a CA rotation's other CA): the file the host's own clients (store reloads, health gates) verify with."""
    seen = {certificate_fingerprint(c) for c in load_certificates(chain, "CA chain")} if chain.strip() else set()
    out = chain
    for index, pem in enumerate(extra or ()):
        for cert in load_certificates(pem, "kafkasec_truststore_extra_certificates[%d]" % index):
            if certificate_fingerprint(cert) not in seen:
                seen.add(certificate_fingerprint(cert))
                out += cert_pem(cert)
    return out


def install(s: HostPki, signed: Optional[Mapping[str, Any]], ca_chain: Sequence[str],
            key_available: bool = True) -> StepOutcome:
    """Certificate, CA chain, keystore and truststore from the CA's answer for this host.

    `signed`: this host's entry of the sign batch (None when signing did not run, e.g. a run limited
    by tags: the files on the host are used as they are). `ca_chain`: the CA certificates (PEM) the
    truststore holds, before kafkasec_truststore_extra_certificates. `key_available` is False only
    in check mode before the first run (the key would be made by the request step).
    """
    if signed and signed.get("failed"):
        raise PkiError(str(signed.get("msg") or "the CA refused this host's request"))
    outcome = StepOutcome()
    passwords = _passwords(s, outcome)
    fullchain: Optional[bytes] = None
    if signed:
        fullchain = str(signed["fullchain"]).encode("ascii")
        chain = _trusted_chain(str(signed["chain"]), s.truststore_extra_certificates).encode("ascii")
        for path, data, part in ((s.certificate_path, fullchain, "certificate"), (s.ca_chain_path, chain, "CA chain")):
            new = _differs(path, data)
            outcome.writes.append(FileWrite(path, data if new else None, "0644"))
            if new:
                outcome.changed_parts.append(part)
    else:
        fullchain = read_optional(s.certificate_path, "kafkasec_cert_certificate_path %s" % s.certificate_path)
    certs = load_certificates(fullchain, "certificate of %s" % s.host) if fullchain else []
    keystore_changed = True
    if key_available and certs:
        key_data = read_optional(s.privatekey_path, "kafkasec_cert_privatekey_path")
        if key_data is None:
            raise PkiError("kafkasec_cert_privatekey_path %s does not exist: run the request step (the certificates "
                           "role) first" % s.privatekey_path)
        key = load_private_key(key_data, s.privatekey_passphrase, "kafkasec_cert_privatekey_path %s"
                               % s.privatekey_path, trusted=True)
        store = keystore_outcome(s.keystore_type, s.keystore_path, passwords["keystore"],
                                 s.keystore_on_password_mismatch, key, certs, s.keystore_alias,
                                 "kafkasec_cert_privatekey_path %s" % s.privatekey_path,
                                 "kafkasec_cert_certificate_path %s" % s.certificate_path, sealed=True)
        keystore_changed = _add_store(outcome, "keystore", s.keystore_path, store, "0600")
    elif certs or not key_available:
        outcome.changed_parts.append("keystore")  # check mode before the first run: it would be written
    else:
        raise PkiError("%s has no certificate yet (kafkasec_cert_certificate_path %s): run the signing step (the "
                       "certificates role without --tags, or --tags sign)" % (s.host, s.certificate_path))
    truststore_changed, truststore_fingerprints = False, []
    if s.truststore:
        trusted = []
        for index, pem in enumerate(list(ca_chain) + list(s.truststore_extra_certificates)):
            trusted += load_certificates(pem, "CA certificate %d" % index)
        if not ca_chain:
            existing = read_optional(s.ca_chain_path, "kafkasec_cert_ca_chain_path")
            trusted = (load_certificates(existing, "kafkasec_cert_ca_chain_path %s" % s.ca_chain_path)
                       if existing else []) + trusted
        store = truststore_outcome(s.truststore_type, s.truststore_path, passwords.get("truststore"),
                                   s.truststore_on_password_mismatch, trusted, s.truststore_alias_prefix, sealed=True)
        truststore_changed = _add_store(outcome, "truststore", s.truststore_path, store,
                                        "0600" if s.truststore_type != "pem" else "0644")
        truststore_fingerprints = store.result["fingerprints"]
    certificate = dict(signed) if signed else _certificate_facts(certs)
    outcome.result = contract(s, passwords, certificate=certificate,
                              certificate_changed=bool(signed and signed.get("changed")),
                              keystore_changed=keystore_changed, truststore_changed=truststore_changed,
                              truststore_fingerprints=truststore_fingerprints)
    return outcome


def truststore_only(s: HostPki, ca_chain: Sequence[str]) -> StepOutcome:
    """A host that needs only a truststore (the truststore role): its password and the truststore."""
    outcome = StepOutcome()
    stores_only = HostPki(**dict(s.__dict__, keystore_type="pem"))  # no keystore password for this host
    passwords = _passwords(stores_only, outcome)
    trusted: List[Any] = []
    for index, pem in enumerate(list(ca_chain) + list(s.truststore_extra_certificates)):
        trusted += load_certificates(pem, "CA certificate %d" % index)
    store = truststore_outcome(s.truststore_type, s.truststore_path, passwords.get("truststore"),
                               s.truststore_on_password_mismatch, trusted, s.truststore_alias_prefix, sealed=True)
    changed = _add_store(outcome, "truststore", s.truststore_path, store,
                         "0600" if s.truststore_type != "pem" else "0644")
    outcome.result = dict(pki_dir=s.pki_dir, truststore_path=s.truststore_path, truststore_type=s.truststore_type,
                          truststore_password=passwords.get("truststore"), truststore_changed=changed,
                          truststore_fingerprints=store.result["fingerprints"], secret_fields=["truststore_password"])
    return outcome


def _certificate_facts(certs: Sequence[Any]) -> Dict[str, Any]:
    if not certs:
        return {}
    return dict(fingerprint_sha256=certificate_fingerprint(certs[0]), serial=certs[0].serial_number,
                not_after=iso(certs[0].not_valid_after_utc), reason="kept")


def facts(s: HostPki) -> StepOutcome:
    """The contract from what the host holds (nothing rewritten but a missing password file)."""
    outcome = StepOutcome()
    passwords = _passwords(s, outcome)
    data = read_optional(s.certificate_path, "kafkasec_cert_certificate_path %s" % s.certificate_path)
    certs: List[Any] = []
    if data:
        try:
            certs = load_certificates(data, "kafkasec_cert_certificate_path %s" % s.certificate_path)
        except PkiError:
            certs = []
    outcome.result = contract(s, passwords, certificate=_certificate_facts(certs), certificate_changed=False,
                              keystore_changed=False, truststore_changed=False, truststore_fingerprints=[])
    return outcome


def contract(s: HostPki, passwords: Mapping[str, Optional[str]], *, certificate: Mapping[str, Any],
             certificate_changed: bool, keystore_changed: bool, truststore_changed: bool,
             truststore_fingerprints: Sequence[str]) -> Dict[str, Any]:
    """The PKI contract of this host (pki/contract.py contract_of, from the host's settings)."""
    return contract_of(dict(s.__dict__), passwords, certificate=certificate, certificate_changed=certificate_changed,
                       keystore_changed=keystore_changed, truststore_changed=truststore_changed,
                       truststore_fingerprints=truststore_fingerprints)


# The module options that say what the CA may sign for the host, as the sign module's request fields.
SIGN_REQUEST_FIELDS = (("dns_names", "allowed_dns_names"), ("ip_addresses", "allowed_ip_addresses"),
                       ("validity_days", "validity_days"), ("renewal_days", "renewal_days"))


def sign_request(args: Mapping[str, Any], result: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """This host's entry of the CA's batch: the CSR and current certificate from the host's result,
    the allow-lists and lifetime from the task's arguments as the controller templated them (the
    inventory), never from what the host reports, so a host cannot ask for another host's names.
    None when the request step produced no CSR (it failed)."""
    if result.get("failed") or not result.get("csr"):
        return None
    entry: Dict[str, Any] = dict(host=str(args["host"]), csr=result["csr"],
                                 current_certificate=result.get("current_certificate") or None,
                                 allowed_common_names=[str(args["common_name"])],
                                 force=bool(args.get("force_renew", False)))
    for option, request_field in SIGN_REQUEST_FIELDS:
        if args.get(option) is not None:
            value = args[option]
            # Extra vars and templating give strings: the CA gets the types its options have.
            entry[request_field] = [str(item) for item in value] if isinstance(value, (list, tuple)) else int(value)
    entry.setdefault("allowed_dns_names", [])
    entry.setdefault("allowed_ip_addresses", [])
    return entry
