# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keystore and truststore modules' work: compare parsed content, rebuild only when it differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import check_parent_dir, read_bytes, read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    PkiError,
    is_issued_by,
    load_certificates,
    load_private_key,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.stores import (
    WrongPassword,
    build_keystore,
    build_truststore,
    check_key_matches_chain,
    keystore_content,
    read_keystore,
    read_truststore,
    truststore_aliases,
    truststore_content,
    validate_store_options,
)

PASSWORD_MISMATCH_CHOICES = ("fail", "overwrite")


@dataclass
class StoreOutcome:
    data: Optional[bytes]  # bytes to write, or None when the store already holds what is wanted
    before: str
    after: str
    result: Dict[str, Any]
    warnings: List[str]

    @property
    def diff(self) -> Dict[str, str]:
        return dict(before=self.before, after=self.after)


def _existing_content(reader, store_type: str, path: str, password: Optional[str], on_mismatch: str,
                      warnings: List[str]):
    data = read_optional(path, "path")
    if data is None:
        return None
    try:
        return reader(store_type, data, password, "path %s" % path)
    except WrongPassword:
        if on_mismatch == "fail":
            raise WrongPassword("path %s exists but password does not open it: give the store's current password, "
                                "or set on_password_mismatch=overwrite to rebuild it with the new one" % path) from None
        warnings.append("path %s did not open with the given password and is rebuilt with it" % path)
    except PkiError as exc:
        warnings.append("path %s is not a readable %s store and is rebuilt (%s)" % (path, store_type, exc))
    return None


def _check_chain_order(chain: Sequence[Any], source: str) -> None:
    for position in range(len(chain) - 1):
        if not is_issued_by(chain[position], chain[position + 1]):
            raise PkiError("%s: certificate %d (%s) was not issued by certificate %d (%s); give the leaf first, then "
                           "its issuers in order" % (source, position + 1, chain[position].subject.rfc4514_string(),
                                                     position + 2, chain[position + 1].subject.rfc4514_string()))


def ensure_keystore(params: Mapping[str, Any]) -> StoreOutcome:
    store_type, path, password = params["type"], params["path"], params.get("password")
    validate_store_options(store_type, password)
    check_parent_dir(path, "path")
    key_source = "privatekey_path %s" % params["privatekey_path"]
    cert_source = "certificate_path %s" % params["certificate_path"]
    key = load_private_key(read_bytes(params["privatekey_path"], "privatekey_path"),
                           params.get("privatekey_passphrase"), key_source, trusted=True)
    chain = load_certificates(read_bytes(params["certificate_path"], "certificate_path"), cert_source)
    return keystore_outcome(store_type, path, password, params.get("on_password_mismatch") or "fail", key, chain,
                            params["alias"], key_source, cert_source)


def keystore_outcome(store_type: str, path: str, password: Optional[str], on_mismatch: str, key: Any,
                     chain: Sequence[Any], alias: str, key_source: str, cert_source: str) -> StoreOutcome:
    """What the keystore at `path` must hold (key, chain under alias), compared with what it holds."""
    check_key_matches_chain(key, chain, key_source, cert_source)
    _check_chain_order(chain, cert_source)
    alias = {"pem": "", "jks": alias.lower()}.get(store_type, alias)  # JKS lower-cases aliases
    wanted = keystore_content(key, chain, alias)
    warnings: List[str] = []
    have = _existing_content(read_keystore, store_type, path, password, on_mismatch, warnings)
    data = None if have == wanted else build_keystore(store_type, key, chain, alias, password, path)
    result = dict(fingerprint_sha256=wanted.chain_fingerprints[0], chain_length=len(chain), type=store_type,
                  alias=alias or None)
    return StoreOutcome(data, have.describe() + "\n" if have else "", wanted.describe() + "\n", result, warnings)


def ensure_truststore(params: Mapping[str, Any]) -> StoreOutcome:
    store_type, path, password = params["type"], params["path"], params.get("password")
    validate_store_options(store_type, password)
    check_parent_dir(path, "path")
    certs = []
    for index, pem in enumerate(params.get("certificates") or []):
        certs += load_certificates(pem, "certificates[%d]" % index)
    for cert_path in params.get("certificate_paths") or []:
        certs += load_certificates(read_bytes(cert_path, "certificate_paths"), "certificate_paths %s" % cert_path)
    return truststore_outcome(store_type, path, password, params.get("on_password_mismatch") or "fail", certs,
                              params["alias_prefix"])


def truststore_outcome(store_type: str, path: str, password: Optional[str], on_mismatch: str, certs: Sequence[Any],
                       alias_prefix: str) -> StoreOutcome:
    """What the truststore at `path` must hold (these CA certificates), compared by fingerprints."""
    if not certs:
        raise PkiError("certificates and certificate_paths are both empty: a truststore needs at least one CA")
    named = truststore_aliases(certs, alias_prefix)
    if store_type == "pem":
        named = [("", cert) for _alias, cert in named]
    wanted = truststore_content(named)
    warnings: List[str] = []
    have = _existing_content(read_truststore, store_type, path, password, on_mismatch, warnings)
    same = have is not None and have.fingerprints == wanted.fingerprints
    data = None if same else build_truststore(store_type, named, password, path)
    result = dict(fingerprints=sorted(wanted.fingerprints), aliases=[alias for alias, _cert in named if alias], type=store_type)
    return StoreOutcome(data, have.describe() if have else "", wanted.describe(), result, warnings)
