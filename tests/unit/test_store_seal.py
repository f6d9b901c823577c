# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store seal (pki/store_files.py): a rerun does not parse a PKCS12 store whose seal vouches for
it, and every other case (no seal, another password, other bytes, other content, a broken seal)
falls back to parsing, so the outcome is the one parsing gives."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.pki import store_files as F
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import stores as S

from pki_helpers import make_ca, make_leaf, new_key

PASSWORD = "store-password-1"
CA = make_ca("seal CA")
OTHER_CA = make_ca("seal other CA")
KEY = new_key("ec256")
LEAF = make_leaf(CA, KEY, "kafka-1", dns=["kafka-1.example.test"])
NEW_LEAF = make_leaf(CA, KEY, "kafka-1", dns=["kafka-1.example.test"])


def keystore(path: Path, password: str = PASSWORD, leaf: Any = LEAF, store_type: str = "pkcs12",
             on_mismatch: str = "fail") -> F.StoreOutcome:
    return F.keystore_outcome(store_type, str(path), None if store_type == "pem" else password, on_mismatch, KEY,
                              [leaf, CA.cert], "kafka", "key", "certificate", sealed=True)


def truststore(path: Path, password: str = PASSWORD, cas: Any = (CA,), store_type: str = "pkcs12",
               prefix: str = "kafkasec-ca", on_mismatch: str = "fail") -> F.StoreOutcome:
    return F.truststore_outcome(store_type, str(path), None if store_type == "pem" else password, on_mismatch,
                                [ca.cert for ca in cas], prefix, sealed=True)


def apply(outcome: F.StoreOutcome, path: Path) -> None:
    """What the modules do: the store first, then its seal."""
    if outcome.data is not None:
        path.write_bytes(outcome.data)
    if outcome.seal is not None:
        Path(outcome.seal_file).write_bytes(outcome.seal)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Records each time a PKCS12 store is really parsed."""
    seen: List[str] = []
    real = S._load_pkcs12

    def counting(data: bytes, password: str, source: str):
        seen.append(source)
        return real(data, password, source)

    monkeypatch.setattr(S, "_load_pkcs12", counting)
    return seen


def _nothing(path: Path) -> None:
    pass


def _drop_seal(path: Path) -> None:
    Path(F.seal_path(str(path))).unlink()


def _garble_seal(path: Path) -> None:
    Path(F.seal_path(str(path))).write_text("kafkasec-store-seal-1 sha256=00 hmac-sha256=00\n")


def _rewrite_same_content(path: Path) -> None:
    # The same key and chain under the same alias, but other bytes (PKCS12 salts are random): a store
    # an operator restored or rebuilt. The seal no longer vouches for these bytes.
    path.write_bytes(keystore(path.parent / "elsewhere.p12").data or b"")


# (case, prepare the second run, its keyword arguments, parsed again?, store rewritten?, seal written?, warnings)
KEYSTORE_CASES = [
    ("sealed: not parsed, nothing written", _nothing, {}, False, False, False, 0),
    ("no seal (files from an older release): parsed, kept, sealed", _drop_seal, {}, True, False, True, 0),
    ("broken seal: parsed, kept, sealed again", _garble_seal, {}, True, False, True, 0),
    ("other bytes, same content: parsed, kept, sealed", _rewrite_same_content, {}, True, False, True, 0),
    ("new certificate: parsed, rebuilt, sealed", _nothing, {"leaf": NEW_LEAF}, True, True, True, 0),
    ("other password, overwrite: parsed, rebuilt with it", _nothing,
     {"password": "store-password-2", "on_mismatch": "overwrite"}, True, True, True, 1),
]


@pytest.mark.parametrize("case,prepare,kwargs,parsed,rewritten,sealed,warnings", KEYSTORE_CASES,
                         ids=[c[0] for c in KEYSTORE_CASES])
def test_keystore_seal(tmp_path: Path, parses: List[str], case: str, prepare: Callable[[Path], None],
                       kwargs: Dict[str, Any], parsed: bool, rewritten: bool, sealed: bool, warnings: int) -> None:
    path = tmp_path / "keystore.p12"
    first = keystore(path)
    assert first.data is not None and first.seal is not None and first.seal_file == str(tmp_path / ".keystore.p12.seal")
    apply(first, path)
    prepare(path)
    del parses[:]
    second = keystore(path, **kwargs)
    assert bool(parses) == parsed, case
    assert (second.data is not None) == rewritten, case
    assert (second.seal is not None) == sealed, case
    assert len(second.warnings) == warnings, (case, second.warnings)
    apply(second, path)
    # Whatever the case, the store now holds what was asked and its seal vouches for it: a third run
    # parses nothing and writes nothing.
    del parses[:]
    third = keystore(path, **kwargs)
    assert (parses, third.data, third.seal) == ([], None, None), case
    content = S.read_keystore("pkcs12", path.read_bytes(), kwargs.get("password", PASSWORD), "check")
    assert content == S.keystore_content(KEY, [kwargs.get("leaf", LEAF), CA.cert], "kafka"), case


def test_another_password_still_fails_without_overwrite(tmp_path: Path, parses: List[str]) -> None:
    path = tmp_path / "keystore.p12"
    apply(keystore(path), path)
    with pytest.raises(S.WrongPassword, match="password does not open it"):
        keystore(path, password="store-password-2")
    assert parses, "a seal under another password must not stand in for the store's own check"


def test_a_seal_does_not_move_to_another_store(tmp_path: Path, parses: List[str]) -> None:
    first, second = tmp_path / "a.p12", tmp_path / "b.p12"
    apply(keystore(first), first)
    apply(keystore(second), second)
    Path(F.seal_path(str(second))).write_bytes(Path(F.seal_path(str(first))).read_bytes())
    del parses[:]
    assert keystore(second).data is None and parses == ["path %s" % second]


TRUSTSTORE_CASES = [
    ("sealed: not parsed", {}, False, False, False),
    ("another CA added: parsed, rebuilt, sealed", {"cas": (CA, OTHER_CA)}, True, True, True),
    # The same certificates under other aliases are kept as they are (Kafka reads certificates, not
    # names), and not sealed for the new names: parsed on each run, which is only right.
    ("other alias prefix: parsed, kept, not sealed", {"prefix": "other"}, True, False, False),
]


@pytest.mark.parametrize("case,kwargs,parsed,rewritten,sealed", TRUSTSTORE_CASES, ids=[c[0] for c in TRUSTSTORE_CASES])
def test_truststore_seal(tmp_path: Path, parses: List[str], case: str, kwargs: Dict[str, Any], parsed: bool,
                         rewritten: bool, sealed: bool) -> None:
    path = tmp_path / "truststore.p12"
    apply(truststore(path), path)
    del parses[:]
    second = truststore(path, **kwargs)
    assert (bool(parses), second.data is not None, second.seal is not None) == (parsed, rewritten, sealed), case


@pytest.mark.parametrize("kind", ["keystore", "truststore"])
def test_pem_stores_have_no_seal(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("%s.pem" % kind)
    make = keystore if kind == "keystore" else truststore
    first = make(path, store_type="pem")
    apply(first, path)
    again = make(path, store_type="pem")
    assert (first.seal, again.seal, again.data) == (None, None, None)
    assert not Path(F.seal_path(str(path))).exists()


def test_unsealed_stores_write_no_seal(tmp_path: Path) -> None:
    # The standalone keystore and truststore modules (client bundles) ask for no seal.
    path = tmp_path / "keystore.p12"
    outcome = F.keystore_outcome("pkcs12", str(path), PASSWORD, "fail", KEY, [LEAF, CA.cert], "kafka", "key", "cert")
    apply(outcome, path)
    again = F.keystore_outcome("pkcs12", str(path), PASSWORD, "fail", KEY, [LEAF, CA.cert], "kafka", "key", "cert")
    assert (outcome.seal, again.seal, again.data) == (None, None, None)
    assert not Path(F.seal_path(str(path))).exists()


def test_the_seal_names_the_bytes_and_hides_the_password(tmp_path: Path) -> None:
    path = tmp_path / "keystore.p12"
    outcome = keystore(path)
    text = (outcome.seal or b"").decode("ascii")
    assert text.startswith("kafkasec-store-seal-1 sha256=") and PASSWORD not in text
    assert "sha256=%s " % hashlib.sha256(outcome.data or b"").hexdigest() in text
