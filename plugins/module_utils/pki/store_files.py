# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keystore and truststore modules' work: compare parsed content, rebuild only when it differs.

Parsing a PKCS12 keystore is the dearest step of a rerun: cryptography derives the MAC and the key
bag's keys from the password and checks the RSA key on every load (about 0.15 CPU-second for
RSA-3072; a JKS store first costs a keytool JVM). So a host's own store (host_pki; not the stores
of a client bundle, which is handed over as it is) that this collection wrote or verified gets a
seal beside it (``.<store name>.seal``, 0600): the SHA-256 of the store's bytes and an
HMAC, under a key derived from the store password (PBKDF2, as many rounds as the store's own MAC),
of the content it holds. When the store's bytes, the password and the wanted content all match
the seal, the store is not parsed. Anything else (no seal, a store written or restored by someone
else, another password, a new certificate) falls back to parsing, which is always right. The seal
tells nothing the store does not (its MAC is a password check of the same strength), and a missing
or stale seal never changes what is written.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import (
    FileError,
    check_parent_dir,
    read_bytes,
    read_optional,
)
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
SEAL_FORMAT = "kafkasec-store-seal-1"
SEAL_ROUNDS = 10000  # the stores' own PBKDF2 rounds (stores._pkcs12_encryption)


@dataclass
class StoreOutcome:
    data: Optional[bytes]  # bytes to write, or None when the store already holds what is wanted
    before: str
    after: str
    result: Dict[str, Any]
    warnings: List[str]
    # The seal to write at seal_file, beside the store; None when there is nothing to record.
    # Writing it is bookkeeping, not a change (a rerun after an upgrade that adds seals still reports ok).
    seal: Optional[bytes] = None
    seal_file: str = ""

    @property
    def diff(self) -> Dict[str, str]:
        return dict(before=self.before, after=self.after)


def seal_path(path: str) -> str:
    """Where the seal of the store at `path` lives: a hidden file beside it."""
    return os.path.join(os.path.dirname(path), ".%s.seal" % os.path.basename(path))


def seal_text(store: bytes, password: Optional[str], content: str) -> bytes:
    """The seal of `store` (its bytes) opened by `password` and holding `content` (its describe())."""
    digest = hashlib.sha256(store).hexdigest()
    key = hashlib.pbkdf2_hmac("sha256", (password or "").encode("utf-8"), digest.encode("ascii"), SEAL_ROUNDS)
    mac = hmac.new(key, content.encode("utf-8"), hashlib.sha256).hexdigest()
    return ("%s sha256=%s hmac-sha256=%s\n" % (SEAL_FORMAT, digest, mac)).encode("ascii")


def _read_seal(path: str) -> Optional[bytes]:
    try:
        return read_optional(seal_path(path), "seal")
    except FileError:
        return None  # an unreadable seal is no seal: the store is parsed


@dataclass
class _Existing:
    content: Any  # what the store holds (parsed, or `wanted` when sealed), None: missing or rebuilt
    data: Optional[bytes] = None  # the store's bytes
    sealed: bool = False  # its seal vouches for `wanted`: not parsed


def _existing_content(reader, store_type: str, path: str, password: Optional[str], on_mismatch: str,
                      warnings: List[str], wanted: Any) -> _Existing:
    """What the store at `path` holds; `wanted` itself, unparsed, when its seal says it holds exactly that."""
    data = read_optional(path, "path")
    if data is None:
        return _Existing(None)
    if store_type != "pem":
        kept = _read_seal(path)
        if kept is not None and hmac.compare_digest(kept, seal_text(data, password, wanted.describe())):
            return _Existing(wanted, data, sealed=True)
    try:
        return _Existing(reader(store_type, data, password, "path %s" % path), data)
    except WrongPassword:
        if on_mismatch == "fail":
            raise WrongPassword("path %s exists but password does not open it: give the store's current password, "
                                "or set on_password_mismatch=overwrite to rebuild it with the new one" % path) from None
        warnings.append("path %s did not open with the given password and is rebuilt with it" % path)
    except PkiError as exc:
        warnings.append("path %s is not a readable %s store and is rebuilt (%s)" % (path, store_type, exc))
    return _Existing(None)


def _seal(store_type: str, existing: _Existing, new_data: Optional[bytes], password: Optional[str],
          wanted: Any) -> Optional[bytes]:
    """The seal to write beside the store after this run, None when none is needed: a PEM store
    (it parses cheaply), a seal that already vouches for it, or a kept store that holds `wanted`
    only up to the aliases (a truststore with the same certificates under other names)."""
    if store_type == "pem" or (new_data is None and existing.sealed):
        return None
    if new_data is not None:
        return seal_text(new_data, password, wanted.describe())
    if existing.data is None or existing.content != wanted:
        return None
    return seal_text(existing.data, password, wanted.describe())


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
                     chain: Sequence[Any], alias: str, key_source: str, cert_source: str,
                     sealed: bool = False) -> StoreOutcome:
    """What the keystore at `path` must hold (key, chain under alias), compared with what it holds.

    `sealed`: keep a seal beside the store (a host's own stores, checked on every run; not the
    stores of a client bundle, a directory that is handed over as it is)."""
    check_key_matches_chain(key, chain, key_source, cert_source)
    _check_chain_order(chain, cert_source)
    alias = {"pem": "", "jks": alias.lower()}.get(store_type, alias)  # JKS lower-cases aliases
    wanted = keystore_content(key, chain, alias)
    warnings: List[str] = []
    existing = _existing_content(read_keystore, store_type, path, password, on_mismatch, warnings, wanted)
    have = existing.content
    data = None if have == wanted else build_keystore(store_type, key, chain, alias, password, path)
    result = dict(fingerprint_sha256=wanted.chain_fingerprints[0], chain_length=len(chain), type=store_type,
                  alias=alias or None)
    return StoreOutcome(data, have.describe() + "\n" if have else "", wanted.describe() + "\n", result, warnings,
                        _seal(store_type, existing, data, password, wanted) if sealed else None, seal_path(path))


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
                       alias_prefix: str, sealed: bool = False) -> StoreOutcome:
    """What the truststore at `path` must hold (these CA certificates), compared by fingerprints
    (`sealed`: as keystore_outcome's)."""
    if not certs:
        raise PkiError("certificates and certificate_paths are both empty: a truststore needs at least one CA")
    named = truststore_aliases(certs, alias_prefix)
    if store_type == "pem":
        named = [("", cert) for _alias, cert in named]
    wanted = truststore_content(named)
    warnings: List[str] = []
    existing = _existing_content(read_truststore, store_type, path, password, on_mismatch, warnings, wanted)
    have = existing.content
    same = have is not None and have.fingerprints == wanted.fingerprints
    data = None if same else build_truststore(store_type, named, password, path)
    result = dict(fingerprints=sorted(wanted.fingerprints), aliases=[alias for alias, _cert in named if alias], type=store_type)
    return StoreOutcome(data, have.describe() if have else "", wanted.describe(), result, warnings,
                        _seal(store_type, existing, data, password, wanted) if sealed else None, seal_path(path))
