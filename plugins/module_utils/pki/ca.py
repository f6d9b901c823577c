# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CA module's work: keep, create or import a CA; decide which files to write."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import (
    FileError, check_parent_dir, read_bytes, read_optional)
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    CertificateAuthority,
    KeySpec,
    PkiError,
    build_name,
    cert_pem,
    certificate_fingerprint,
    certs_pem,
    create_ca_certificate,
    generate_private_key,
    iso,
    key_matches_spec,
    load_certificates,
    load_private_key,
    public_key_der,
    serialize_private_key,
    validate_ca,
)

KEY_MODE = "0600"
DIR_MODE = 0o700

# The import options that only go with src_certificate_path (request_problems).
_IMPORT_ONLY = ("src_chain_path", "src_privatekey_passphrase")

# (path, bytes to write or None to leave the content alone, mode)
FileWrite = Tuple[str, Optional[bytes], str]


@dataclass(frozen=True)
class CaRequest:
    privatekey_path: str
    certificate_path: str
    chain_path: Optional[str]
    privatekey_passphrase: Optional[str]
    key_spec: KeySpec
    subject: Dict[str, str]
    validity_days: int
    path_length: Optional[int]
    certificate_mode: str
    src_certificate_path: Optional[str] = None
    src_privatekey_path: Optional[str] = None
    src_privatekey_passphrase: Optional[str] = None
    src_chain_path: Optional[str] = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "CaRequest":
        return cls(
            privatekey_path=params["privatekey_path"],
            certificate_path=params["certificate_path"],
            chain_path=params.get("chain_path"),
            privatekey_passphrase=params.get("privatekey_passphrase"),
            key_spec=KeySpec(params["key_type"], params["key_size"], params["ec_curve"]),
            subject={str(k): str(v) for k, v in (params.get("subject") or {}).items()},
            validity_days=params["validity_days"],
            path_length=params["path_length"],
            certificate_mode=params.get("mode") or "0644",
            src_certificate_path=params.get("src_certificate_path"),
            src_privatekey_path=params.get("src_privatekey_path"),
            src_privatekey_passphrase=params.get("src_privatekey_passphrase"),
            src_chain_path=params.get("src_chain_path"),
        )


def variable_name(option: str, prefix: str) -> str:
    """The role variable an operator sets for a module option: ``src_<x>`` is ``<prefix>import_<x>``,
    ``directory`` is ``<prefix>dir``, every other option ``<prefix><option>`` (no prefix: the option)."""
    if not prefix:
        return option
    if option.startswith("src_"):
        return prefix + "import_" + option[len("src_"):]
    return prefix + ("dir" if option == "directory" else option)


def request_problems(params: Mapping[str, Any], prefix: str = "") -> List[Problem]:
    """Every problem with the CA module's inputs at once, each naming its variable (see variable_name), before
    the module touches the CA host: paths absolute and distinct, a positive lifetime, a path length of 0 or
    more, a subject with a CN, no empty passphrase, an import's certificate and key together (its chain and
    passphrase only with them), and the files to import present."""
    def name(option: str) -> str:
        return variable_name(option, prefix)

    problems: List[Problem] = []
    paths = [(o, params.get(o)) for o in ("directory", "certificate_path", "privatekey_path", "chain_path")]
    for option, path in paths:
        if path is not None and not os.path.isabs(str(path)):
            problems.append((name(option), "%s (%s) must be an absolute path" % (name(option), path)))
    if params.get("certificate_path") and params.get("certificate_path") == params.get("privatekey_path"):
        problems.append((name("privatekey_path"), "%s and %s must differ (both are %s)" % (
            name("certificate_path"), name("privatekey_path"), params["certificate_path"])))
    if int(params.get("validity_days") or 0) <= 0:
        problems.append((name("validity_days"), "%s (%s) must be a positive number of days" % (
            name("validity_days"), params.get("validity_days"))))
    if params.get("path_length") is not None and int(params["path_length"]) < 0:
        problems.append((name("path_length"), "%s (%s) must be 0 or more" % (name("path_length"), params["path_length"])))
    subject = params.get("subject") or {}
    if not params.get("src_certificate_path") and "CN" not in subject:
        problems.append((name("subject"), "%s must have a CN (it has %s)" % (
            name("subject"), ", ".join(sorted(str(k) for k in subject)) or "nothing")))
    for option in ("privatekey_passphrase", "src_privatekey_passphrase"):
        if params.get(option) is not None and str(params[option]) == "":
            problems.append((name(option), "%s is set but empty; unset it for an unencrypted key (0600), or give a "
                                           "passphrase (from Ansible Vault)" % name(option)))
    importing = bool(params.get("src_certificate_path"))
    if importing != bool(params.get("src_privatekey_path")):
        problems.append((name("src_privatekey_path" if importing else "src_certificate_path"),
                         "importing a CA takes %s and %s together (or neither, to create a CA)" % (
                             name("src_certificate_path"), name("src_privatekey_path"))))
    for option in _IMPORT_ONLY:
        if params.get(option) and not importing:
            problems.append((name(option), "%s only goes with %s (an import)" % (name(option), name("src_certificate_path"))))
    for option in ("src_certificate_path", "src_privatekey_path", "src_chain_path"):
        path = params.get(option)
        if path and not os.path.isfile(str(path)):
            problems.append((name(option), "%s points to %s, which is not a file on the CA host" % (name(option), path)))
    return problems


def ensure_directory(path: str, check_mode: bool) -> bool:
    """The CA directory, owner-only (0700): made when missing (with its parents), its mode set when it differs;
    returns changed. Raises FileError when the path is something else than a directory."""
    if os.path.lexists(path) and not os.path.isdir(path):
        raise FileError("directory %s exists and is not a directory" % path)
    if not os.path.isdir(path):
        if not check_mode:
            os.makedirs(path, DIR_MODE)
            os.chmod(path, DIR_MODE)
        return True
    if os.stat(path).st_mode & 0o7777 != DIR_MODE:
        if not check_mode:
            os.chmod(path, DIR_MODE)
        return True
    return False


@dataclass
class CaOutcome:
    ca: CertificateAuthority
    imported: bool
    writes: List[FileWrite]
    warnings: List[str] = field(default_factory=list)
    before: str = ""

    @property
    def result(self) -> Dict[str, Any]:
        cert = self.ca.certificate
        return dict(
            certificate=cert_pem(cert),
            chain=[cert_pem(c) for c in self.ca.chain],
            root_certificate=cert_pem(self.ca.root),
            fingerprint_sha256=certificate_fingerprint(cert),
            subject=cert.subject.rfc4514_string(),
            serial=cert.serial_number,
            not_before=iso(cert.not_valid_before_utc),
            not_after=iso(cert.not_valid_after_utc),
            imported=self.imported,
        )

    @property
    def diff(self) -> Dict[str, str]:
        return dict(before=self.before, after=_describe(self.ca))


def _describe(ca: Optional[CertificateAuthority]) -> str:
    if ca is None:
        return ""
    return "".join("%s %s (until %s)\n" % (c.subject.rfc4514_string(), certificate_fingerprint(c),
                                           iso(c.not_valid_after_utc)) for c in ca.chain)


def _existing(request: CaRequest) -> Tuple[Optional[Any], Optional[List[Any]]]:
    key_data = read_optional(request.privatekey_path, "privatekey_path")
    cert_data = read_optional(request.certificate_path, "certificate_path")
    key = load_private_key(key_data, request.privatekey_passphrase,
                           "privatekey_path %s" % request.privatekey_path, trusted=True) if key_data else None
    certs = load_certificates(cert_data, "certificate_path %s" % request.certificate_path) if cert_data else None
    return key, certs


def _existing_issuers(request: CaRequest) -> List[Any]:
    data = read_optional(request.chain_path, "chain_path")
    return load_certificates(data, "chain_path %s" % request.chain_path) if data else []


def ensure_ca(request: CaRequest) -> CaOutcome:
    """Keep, create or import the CA; raises PkiError/FileError before any write."""
    for path, option in ((request.privatekey_path, "privatekey_path"), (request.certificate_path, "certificate_path"),
                         (request.chain_path, "chain_path")):
        if path:
            check_parent_dir(path, option)
    if request.src_certificate_path:
        return _import(request)
    request.key_spec.validate()
    name = build_name(request.subject, "subject")
    key, certs = _existing(request)
    if certs and key is None:
        raise PkiError("certificate_path %s exists but the CA key privatekey_path %s is missing: restore the key, "
                       "or remove the certificate on purpose to create a new CA" % (
                           request.certificate_path, request.privatekey_path))
    writes: List[FileWrite] = []
    warnings: List[str] = []
    if key is None:
        key = generate_private_key(request.key_spec)
        writes.append((request.privatekey_path, serialize_private_key(key, request.privatekey_passphrase), KEY_MODE))
    else:
        writes.append((request.privatekey_path, None, KEY_MODE))
        if not key_matches_spec(key, request.key_spec):
            warnings.append("the existing CA key %s is not %s; it is kept (replacing a CA is a rotation, not a rerun)"
                            % (request.privatekey_path, request.key_spec.describe()))
    if certs:
        ca = CertificateAuthority(certs[0], key, certs[1:] + _existing_issuers(request))
        validate_ca(ca, "certificate_path %s" % request.certificate_path,
                    "privatekey_path %s" % request.privatekey_path, "chain_path %s" % request.chain_path)
        if ca.certificate.subject != name and not ca.issuers:
            warnings.append("the existing CA %s has subject %s, not %s; it is kept" % (
                request.certificate_path, ca.certificate.subject.rfc4514_string(), name.rfc4514_string()))
        writes.append((request.certificate_path, None, request.certificate_mode))
        return CaOutcome(ca, False, writes, warnings, before=_describe(ca))
    ca = CertificateAuthority(create_ca_certificate(key, name, request.validity_days, request.path_length), key)
    writes.append((request.certificate_path, cert_pem(ca.certificate).encode("ascii"), request.certificate_mode))
    return CaOutcome(ca, False, writes, warnings)


def _import(request: CaRequest) -> CaOutcome:
    src_certs = load_certificates(read_bytes(request.src_certificate_path, "src_certificate_path"),
                                  "src_certificate_path %s" % request.src_certificate_path)
    src_key = load_private_key(read_bytes(request.src_privatekey_path, "src_privatekey_path"),
                               request.src_privatekey_passphrase,
                               "src_privatekey_path %s" % request.src_privatekey_path)
    issuers = src_certs[1:]
    if request.src_chain_path:
        issuers += load_certificates(read_bytes(request.src_chain_path, "src_chain_path"),
                                     "src_chain_path %s" % request.src_chain_path)
    ca = CertificateAuthority(src_certs[0], src_key, issuers)
    validate_ca(ca, "src_certificate_path %s" % request.src_certificate_path,
                "src_privatekey_path %s" % request.src_privatekey_path, "src_chain_path %s" % request.src_chain_path)
    if issuers and not request.chain_path:
        raise PkiError("chain_path is required: the imported CA %s is an intermediate, and its chain up to the root "
                       "must be kept" % request.src_certificate_path)

    key, certs = None, None
    try:
        key, certs = _existing(request)
    except PkiError:
        pass  # unreadable leftovers (no usable CA) are replaced by the import
    if certs and certificate_fingerprint(certs[0]) != certificate_fingerprint(ca.certificate):
        raise PkiError("certificate_path %s already holds another CA (%s, %s); importing %s would replace it and "
                       "every certificate it issued would stop being trusted. Rotate the CA instead, or move the old "
                       "files away on purpose" % (request.certificate_path, certs[0].subject.rfc4514_string(),
                                                  certificate_fingerprint(certs[0]), request.src_certificate_path))
    writes: List[FileWrite] = []
    same_key = key is not None and public_key_der(key) == public_key_der(src_key)
    writes.append((request.privatekey_path,
                   None if same_key else serialize_private_key(src_key, request.privatekey_passphrase), KEY_MODE))
    same_cert = bool(certs) and certificate_fingerprint(certs[0]) == certificate_fingerprint(ca.certificate)
    writes.append((request.certificate_path, None if same_cert else cert_pem(ca.certificate).encode("ascii"),
                   request.certificate_mode))
    if request.chain_path and issuers:
        try:
            have = [certificate_fingerprint(c) for c in _existing_issuers(request)]
        except PkiError:
            have = []
        same_chain = have == [certificate_fingerprint(c) for c in issuers]
        writes.append((request.chain_path, None if same_chain else certs_pem(issuers).encode("ascii"),
                       request.certificate_mode))
    before = ""
    if key is not None and certs:
        before = _describe(CertificateAuthority(certs[0], key))
    return CaOutcome(ca, True, writes, before=before)
