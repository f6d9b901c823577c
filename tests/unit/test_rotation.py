# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA rotation: the phase rule (rotation.decide) over every phase x state x evidence, and the CA-side
files of each phase (rotation.run_phase / complete / status) on real CA files made with cryptography,
for renew and rekey."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.pki import rotation as r
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    CertificateAuthority, KeySpec, build_name, cert_pem, certificate_fingerprint, create_ca_certificate,
    generate_private_key, is_issued_by, load_certificates, load_private_key, names_of, reissue_reason, REASON_KEPT,
    REASON_OTHER_CA, serialize_private_key, SignPolicy, issue_certificate, build_csr)

OLD, NEW, OTHER = "AA:01", "BB:02", "CC:03"
NB = "2026-12-06T10:00:00Z"


def state(phase, complete, mode="rekey"):
    return r.RotationState(phase, complete, mode, OLD, NEW, NB)


GOOD_TS = (r.TruststoreEvidence("k1", "/p/t.p12", (OLD, NEW)), r.TruststoreEvidence("k2", "/p/t.p12", (NEW,)))
OLD_TS = (r.TruststoreEvidence("k1", "/p/t.p12", (OLD, NEW)), r.TruststoreEvidence("k2", "/p/t.p12", (OLD,)))
BAD_TS = (r.TruststoreEvidence("k1", "/p/t.p12", error="wrong password"),)
GOOD_L = (r.ListenerEvidence("k1", "SSL listener", "k1:9093", True, "2026-12-06T11:00:00Z", "F1"),
          r.ListenerEvidence("k1", "controller listener", "k1:9094", True, "2026-12-06T11:00:00Z", "F2"))
OLD_L = (r.ListenerEvidence("k1", "SSL listener", "k1:9093", False, "2026-01-01T00:00:00Z", "F0"),)
EARLY_L = (r.ListenerEvidence("k1", "SSL listener", "k1:9093", True, "2026-01-01T00:00:00Z", "F0"),)  # renew: old leaf
DOWN_L = (r.ListenerEvidence("k1", "SSL listener", "k1:9093", False, error="connection refused"),)

# (phase, mode asked, state, current CA, truststores, listeners) -> (action, words in the message)
CASES = [
    # phase 1
    (1, "rekey", None, OLD, None, None, r.ACTION_START, []),
    (1, None, None, OLD, None, None, r.ACTION_START, []),
    (1, "renew", state(3, True), NEW, None, None, r.ACTION_START, []),          # a new rotation after one ended
    (1, "rekey", state(1, False), OLD, None, None, r.ACTION_RESUME, []),
    (1, None, state(1, True), OLD, None, None, r.ACTION_RERUN, []),
    (1, "renew", state(1, False), OLD, None, None, r.ACTION_REFUSED, ["rekey rotation is in progress"]),
    (1, None, state(2, False), NEW, None, None, r.ACTION_REFUSED, ["phase 2", "run phase 2"]),
    (1, None, state(2, True), NEW, None, None, r.ACTION_REFUSED, ["run phase 3"]),
    (1, None, state(3, False), NEW, None, None, r.ACTION_REFUSED, ["phase 3"]),
    (1, None, state(1, False), OTHER, None, None, r.ACTION_REFUSED, ["changed outside the rotation", OTHER]),
    (1, "rekey", None, "", None, None, r.ACTION_REFUSED, ["no CA"]),
    (1, "weak", None, OLD, None, None, r.ACTION_REFUSED, ["renew or rekey"]),
    (4, None, None, OLD, None, None, r.ACTION_REFUSED, ["1, 2 or 3"]),
    # phase 2
    (2, None, None, OLD, GOOD_TS, None, r.ACTION_REFUSED, ["no CA rotation", "phase 1"]),
    (2, None, state(3, True), NEW, GOOD_TS, None, r.ACTION_REFUSED, ["no CA rotation"]),
    (2, None, state(1, False), OLD, GOOD_TS, None, r.ACTION_REFUSED, ["phase 1 did not complete", NEW]),
    (2, None, state(1, True), OLD, GOOD_TS, None, r.ACTION_START, []),
    (2, "rekey", state(1, True), OLD, GOOD_TS, None, r.ACTION_START, []),
    (2, "renew", state(1, True), OLD, GOOD_TS, None, r.ACTION_REFUSED, ["does not match"]),
    (2, None, state(1, True), NEW, GOOD_TS, None, r.ACTION_START, []),        # stopped after the move
    (2, None, state(1, True), OLD, OLD_TS, None, r.ACTION_REFUSED, ["k2: truststore /p/t.p12 does not hold the new CA " + NEW]),
    (2, None, state(1, True), OLD, BAD_TS, None, r.ACTION_REFUSED, ["k1", "could not be read", "wrong password"]),
    (2, None, state(1, True), OLD, None, None, r.ACTION_REFUSED, ["no truststore was read"]),
    (2, None, state(1, True), OLD, (), None, r.ACTION_REFUSED, ["no host with a truststore"]),
    (2, None, state(2, False), NEW, GOOD_TS, None, r.ACTION_RESUME, []),
    (2, None, state(2, True), NEW, GOOD_TS, None, r.ACTION_RERUN, []),
    (2, None, state(2, True), OLD, GOOD_TS, None, r.ACTION_REFUSED, ["changed outside the rotation"]),
    (2, None, state(3, False), NEW, GOOD_TS, None, r.ACTION_REFUSED, ["phase 3 already", "run phase 3"]),
    # phase 3
    (3, None, None, OLD, None, GOOD_L, r.ACTION_REFUSED, ["no CA rotation"]),
    (3, None, state(1, False), OLD, None, GOOD_L, r.ACTION_REFUSED, ["phase 2 has not run", OLD]),
    (3, None, state(1, True), OLD, None, GOOD_L, r.ACTION_REFUSED, ["phase 2 has not run", "phase 2 (sign"]),
    (3, None, state(2, False), NEW, None, GOOD_L, r.ACTION_REFUSED, ["phase 2 did not complete"]),
    (3, None, state(2, True), NEW, None, GOOD_L, r.ACTION_START, []),
    (3, None, state(2, True), NEW, None, OLD_L, r.ACTION_REFUSED, ["k1: SSL listener k1:9093 serves F0, not a certificate of the new CA " + NEW]),
    (3, None, state(2, True, "renew"), NEW, None, EARLY_L, r.ACTION_REFUSED, ["issued 2026-01-01", "not re-signed yet"]),
    (3, None, state(2, True), NEW, None, DOWN_L, r.ACTION_REFUSED, ["could not be read", "connection refused"]),
    (3, None, state(2, True), NEW, None, None, r.ACTION_REFUSED, ["no listener was probed"]),
    (3, None, state(2, True), NEW, None, (), r.ACTION_REFUSED, ["no TLS listener"]),
    (3, None, state(3, False), NEW, None, GOOD_L, r.ACTION_RESUME, []),
    (3, None, state(3, True), NEW, None, GOOD_L, r.ACTION_RERUN, []),
    (3, "renew", state(3, True), NEW, None, GOOD_L, r.ACTION_RERUN, []),  # a finished rotation: the mode is free
    (3, None, state(3, True), NEW, None, OLD_L, r.ACTION_REFUSED, ["not a certificate of the new CA"]),
    (3, None, state(3, True), OLD, None, GOOD_L, r.ACTION_REFUSED, ["not the rotation's new CA"]),
    (2, None, state(3, True), NEW, GOOD_TS, None, r.ACTION_REFUSED, ["no CA rotation is in progress"]),
]


@pytest.mark.parametrize("phase,mode,st,current,ts,listeners,action,words", CASES)
def test_decide(phase, mode, st, current, ts, listeners, action, words):
    decision = r.decide(phase, mode, st, current, ts, listeners)
    assert decision.action == action, decision.message
    assert decision.allowed == (action != r.ACTION_REFUSED)
    for word in words:
        assert word in decision.message, decision.message
    if not decision.allowed:
        assert decision.message.startswith("CA rotation phase %d refused, nothing changed" % phase)


def test_evidence_from_rows():
    rows = [dict(host="k1", source="file", kind="truststore", path="/t", fingerprint_sha256=OLD, status="ok"),
            dict(host="k1", source="file", kind="truststore", path="/t", fingerprint_sha256=NEW, status="ok"),
            dict(host="k2", source="file", kind="truststore", path="/t", status="error", detail="missing"),
            dict(host="k1", source="file", kind="certificate", path="/c", fingerprint_sha256="X", status="ok"),
            dict(host="k1", source="listener", what="SSL listener", endpoint="k1:9093", fingerprint_sha256="F",
                 verified=True, not_before=NB),
            dict(host="k2", source="listener", what="SSL listener", endpoint="k2:9093", verified=None,
                 detail="no certificate read: refused")]
    ts = r.evidence_from_rows("truststores", rows)
    assert ts == [r.TruststoreEvidence("k1", "/t", (OLD, NEW)), r.TruststoreEvidence("k2", "/t", (), "missing")]
    ls = r.evidence_from_rows("listeners", rows)
    assert ls[0] == r.ListenerEvidence("k1", "SSL listener", "k1:9093", True, NB, "F")
    assert not ls[1].verified_by_new and "refused" in ls[1].error
    with pytest.raises(r.RotationError):
        r.evidence_from_rows("other", rows)


def test_trust_role():
    assert r.trust_role(None) is None
    assert r.trust_role(state(1, False)) == r.NEXT_DIR
    assert r.trust_role(state(2, True)) == r.PREVIOUS_DIR
    assert r.trust_role(state(3, False)) is None
    assert r.trust_role(state(3, True)) is None


def test_state_file_round_trip_and_garbage(tmp_path):
    st = r.RotationState(2, True, "renew", OLD, NEW, NB, {"phase1_started": NB})
    assert r.RotationState.from_json(st.to_json(), "x") == st
    for bad in (b"{", b'{"phase": 7, "complete": false, "mode": "rekey", "old_fingerprint": "", "new_fingerprint": ""}',
                b'{"phase": 1}'):
        with pytest.raises(r.RotationError):
            r.RotationState.from_json(bad, "rotation.json")


# ----------------------------------------------------------- the CA host's files, for real

SPEC = KeySpec("ec", 2048, "P-256")


def make_ca_dir(tmp_path, passphrase=None):
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir(mode=0o700)
    key = generate_private_key(SPEC)
    cert = create_ca_certificate(key, build_name({"CN": "test CA"}), 30, 0)
    (ca_dir / "ca.key").write_bytes(serialize_private_key(key, passphrase))
    (ca_dir / "ca.crt").write_text(cert_pem(cert))
    return r.CaPaths(str(ca_dir), str(ca_dir / "ca.crt"), str(ca_dir / "ca.key")), key, cert


def apply(outcome):
    """What the module does with an outcome (without Ansible): directories, writes, removals, state last."""
    for d in outcome.directories:
        os.makedirs(d, mode=0o700, exist_ok=True)
    for path, data, mode in outcome.writes:
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        os.chmod(path, int(mode, 8))
    for path in outcome.removals:
        os.unlink(path)


def request(paths, phase, mode=None, **kw):
    return r.RotationRequest(paths=paths, phase=phase, mode=mode, key_spec=SPEC, subject={"CN": "test CA"},
                             validity_days=365, path_length=0, **kw)


def ts_holding(fp):
    return (r.TruststoreEvidence("k1", "/t", (fp,)),)


@pytest.mark.parametrize("mode", ["renew", "rekey"])
def test_three_phases_on_files(tmp_path, mode):
    paths, old_key, old_cert = make_ca_dir(tmp_path)
    old_fp = certificate_fingerprint(old_cert)
    # A host certificate of the old CA.
    host_key = generate_private_key(SPEC)
    csr = load_csr_of(host_key)
    leaf, _ = issue_certificate(csr, CertificateAuthority(old_cert, old_key), SignPolicy(validity_days=10, renewal_days=1))

    # Out of order first: phase 3 and phase 2 with no rotation change nothing.
    for phase in (2, 3):
        out = r.run_phase(request(paths, phase))
        assert not out.decision.allowed and not out.writes and not out.removals

    # Phase 1 (certificates carry whole seconds: the renewed CA certificate is made in a later second than
    # the host certificate, as it is in real life, where phase 1 comes minutes or months later).
    time.sleep(1.1)
    out = r.run_phase(request(paths, 1, mode))
    assert out.decision.action == r.ACTION_START
    apply(out)
    st = json.loads(open(paths.state()).read())
    assert (st["phase"], st["complete"], st["mode"], st["old_fingerprint"]) == (1, False, mode, old_fp)
    next_crt, next_key = paths.staged(r.NEXT_DIR)
    new_cert = load_certificates(open(next_crt, "rb").read(), "next")[0]
    assert st["new_fingerprint"] == certificate_fingerprint(new_cert) != old_fp
    assert os.path.exists(next_key) == (mode == "rekey")
    if mode == "rekey":
        assert stat.S_IMODE(os.stat(next_key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(next_crt)).st_mode) == 0o700
    same_key = new_cert.public_key().public_numbers() == old_cert.public_key().public_numbers()
    assert same_key == (mode == "renew")
    assert new_cert.subject == old_cert.subject
    # The status the CA role exports: the next CA is trusted besides the signing one.
    status = r.status(request(paths, 0)).result
    assert status["trust_pems"] == [cert_pem(new_cert)] and status["current_fingerprint"] == old_fp
    # Rerun of phase 1 (not complete yet: resume) writes nothing new.
    again = r.run_phase(request(paths, 1))
    assert again.decision.action == r.ACTION_RESUME and not [w for w in again.writes if w[1] is not None]
    # Phase 2 before phase 1 completed: refused.
    assert "phase 1 did not complete" in r.run_phase(request(paths, 2, truststores=ts_holding(st["new_fingerprint"]))).decision.message
    apply(r.complete(request(paths, 1)))
    assert not r.complete(request(paths, 1)).writes  # idempotent
    # Phase 3 before phase 2: refused, nothing written.
    out = r.run_phase(request(paths, 3, listeners=GOOD_L))
    assert not out.decision.allowed and "phase 2 has not run" in out.decision.message and not out.writes
    # Phase 2 with a host that does not trust the new CA yet: refused.
    out = r.run_phase(request(paths, 2, truststores=ts_holding(old_fp)))
    assert not out.decision.allowed and not out.writes and old_fp not in out.decision.missing[0]

    out = r.run_phase(request(paths, 2, truststores=ts_holding(st["new_fingerprint"])))
    assert out.decision.action == r.ACTION_START
    apply(out)
    prev_crt, prev_key = paths.staged(r.PREVIOUS_DIR)
    assert certificate_fingerprint(load_certificates(open(paths.certificate_path, "rb").read(), "c")[0]) == st["new_fingerprint"]
    assert open(prev_crt).read() == cert_pem(old_cert)
    assert os.path.exists(prev_key) == (mode == "rekey") and not os.path.exists(next_crt)
    new_key = load_private_key(open(paths.privatekey_path, "rb").read(), None, "k", trusted=True)
    assert is_issued_by(new_cert, new_cert) and new_key.public_key().public_numbers() == new_cert.public_key().public_numbers()
    status = r.status(request(paths, 0)).result
    assert status["trust_pems"] == [cert_pem(old_cert)]
    # The old host certificate must be re-signed under the new CA certificate, in both modes.
    new_ca = CertificateAuthority(new_cert, new_key)
    assert reissue_reason([leaf], csr, new_ca, SignPolicy(validity_days=10, renewal_days=1)) == REASON_OTHER_CA
    new_leaf, _ = issue_certificate(csr, new_ca, SignPolicy(validity_days=10, renewal_days=1))
    assert reissue_reason([new_leaf], csr, new_ca, SignPolicy(validity_days=10, renewal_days=1)) == REASON_KEPT
    again = r.run_phase(request(paths, 2, truststores=ts_holding(st["new_fingerprint"])))
    assert again.decision.action == r.ACTION_RESUME and not [w for w in again.writes if w[1] is not None]
    apply(r.complete(request(paths, 2)))

    # Phase 3: a listener serving the old certificate refuses; then the archive.
    out = r.run_phase(request(paths, 3, listeners=OLD_L))
    assert not out.decision.allowed and not out.writes and not out.removals
    early = (r.ListenerEvidence("k1", "SSL listener", "k1:9093", True, "2020-01-01T00:00:00Z", "F0"),)
    out = r.run_phase(request(paths, 3, listeners=early))  # issued before the new CA: still the old one's
    assert not out.decision.allowed and "not re-signed yet" in out.decision.message and not out.writes
    good = (r.ListenerEvidence("k1", "SSL listener", "k1:9093", True, st["new_not_before"], "F1"),)
    out = r.run_phase(request(paths, 3, listeners=good))
    assert out.decision.action == r.ACTION_START
    apply(out)
    directory, arch_crt, arch_key = paths.archive(old_fp)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert open(arch_crt).read() == cert_pem(old_cert)
    if mode == "rekey":
        assert stat.S_IMODE(os.stat(arch_key).st_mode) == 0o600
        assert load_private_key(open(arch_key, "rb").read(), None, "k", trusted=True).public_key().public_numbers() \
            == old_key.public_key().public_numbers()
    assert not os.path.exists(prev_crt) and not os.path.exists(prev_key)
    assert r.status(request(paths, 0)).result["trust_pems"] == []
    apply(r.complete(request(paths, 3)))
    again = r.run_phase(request(paths, 3, listeners=good))
    assert again.decision.action == r.ACTION_RERUN and not again.writes and not again.removals


def test_rekey_with_passphrase_and_interrupted_start(tmp_path):
    paths, old_key, old_cert = make_ca_dir(tmp_path, passphrase="s3cret")
    req = r.RotationRequest(paths=paths, phase=1, mode="rekey", privatekey_passphrase="s3cret", key_spec=SPEC)
    out = r.run_phase(req)
    # Interrupted before the state file: only next/ was written.
    for d in out.directories:
        os.makedirs(d, mode=0o700, exist_ok=True)
    for path, data, mode in out.writes:
        if path != paths.state() and data is not None:
            open(path, "wb").write(data)
    again = r.run_phase(req)
    assert again.decision.action == r.ACTION_START
    # The next CA made before is kept (same key, same certificate); only the state is written now.
    assert [w[0] for w in again.writes if w[1] is not None] == [paths.state()]
    key = load_private_key(open(paths.staged(r.NEXT_DIR)[1], "rb").read(), "s3cret", "next", trusted=True)
    assert key.public_key().public_numbers() != old_key.public_key().public_numbers()


def test_complete_needs_the_phase(tmp_path):
    paths, _k, _c = make_ca_dir(tmp_path)
    with pytest.raises(r.RotationError, match="absent"):
        r.complete(request(paths, 1))


def load_csr_of(key):
    return build_csr(key, build_name({"CN": "kafka-node"}), ["kafka-1.example.com"], [])
