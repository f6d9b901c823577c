# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CA rotation in three phases (the model is Strimzi's CA reconciler: trust old+new, sign with the
new, drop the old), on the CA host.

- ``decide`` is the pure rule: may phase N run now, given the state file and the evidence the playbook
  collected (what every truststore holds, what every listener serves); when not, what is missing,
  naming host, what and the CA fingerprint.
- ``plan_*`` work out the CA-side files of each phase (the next CA, its promotion, the archive of the
  old one) as a list of writes and removals; the module (``kafkasec.tls.ca_rotation``) applies them.

Layout under the CA directory (``kafkasec_ca_dir``), all on the CA host, nothing copied off it but
public certificates:

    rotation.json            the state (phase, complete, mode, fingerprints, times)
    next/ca.crt, ca.key      phase 1: the next CA (ca.key only for rekey: renew keeps the CA key)
    previous/ca.crt, ca.key  phase 2: the old CA, moved aside (kept: trusted until phase 3)
    archive/<fp>/            phase 3: the old CA archived (0700 directory, key 0600)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

MODES = ("renew", "rekey")
PHASES = (1, 2, 3)
STATE_FILE = "rotation.json"
NEXT_DIR = "next"
PREVIOUS_DIR = "previous"
ARCHIVE_DIR = "archive"

ACTION_START = "start"      # the phase begins now
ACTION_RESUME = "resume"    # the phase began and did not complete: carry on
ACTION_RERUN = "rerun"      # the phase completed: a rerun converges and changes nothing
ACTION_REFUSED = "refused"


class RotationError(ValueError):
    """A rotation input or state that cannot be used (the message names it)."""


@dataclass(frozen=True)
class RotationState:
    """What rotation.json holds."""

    phase: int
    complete: bool
    mode: str
    old_fingerprint: str
    new_fingerprint: str
    new_not_before: str = ""
    times: Mapping[str, str] = field(default_factory=dict)
    history: Tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_json(cls, data: bytes, source: str) -> "RotationState":
        try:
            raw = json.loads(data.decode("utf-8"))
            state = cls(phase=int(raw["phase"]), complete=bool(raw["complete"]), mode=str(raw["mode"]),
                        old_fingerprint=str(raw["old_fingerprint"]), new_fingerprint=str(raw["new_fingerprint"]),
                        new_not_before=str(raw.get("new_not_before") or ""), times=dict(raw.get("times") or {}),
                        history=tuple(raw.get("history") or ()))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise RotationError("%s is not a rotation state file (%s): restore it from the backup, or move it away "
                                "on purpose" % (source, exc)) from None
        if state.phase not in PHASES or state.mode not in MODES:
            raise RotationError("%s holds phase %r, mode %r: not a state this collection writes" % (
                source, state.phase, state.mode))
        return state

    def to_dict(self) -> Dict[str, Any]:
        return dict(phase=self.phase, complete=self.complete, mode=self.mode, old_fingerprint=self.old_fingerprint,
                    new_fingerprint=self.new_fingerprint, new_not_before=self.new_not_before, times=dict(self.times),
                    history=list(self.history))

    def to_json(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @property
    def finished(self) -> bool:
        return self.phase == 3 and self.complete


@dataclass(frozen=True)
class TruststoreEvidence:
    """What one host's truststore holds (SHA-256 fingerprints), or why it could not be read."""

    host: str
    path: str
    fingerprints: Tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ListenerEvidence:
    """What one listener serves, read from outside: whether its chain verified against the new CA
    alone (and its name matched), and the served certificate's start of validity (ISO 8601)."""

    host: str
    what: str
    endpoint: str
    verified_by_new: bool
    not_before: str = ""
    fingerprint: str = ""
    error: str = ""


@dataclass(frozen=True)
class Decision:
    phase: int
    action: str
    missing: Tuple[str, ...] = ()
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.action != ACTION_REFUSED

    @property
    def message(self) -> str:
        if self.allowed:
            return "phase %d: %s" % (self.phase, self.action)
        text = "CA rotation phase %d refused, nothing changed: %s" % (self.phase, self.reason)
        if self.missing:
            text += "; missing: " + "; ".join(self.missing)
        return text


def _refuse(phase: int, reason: str, missing: Sequence[str] = ()) -> Decision:
    return Decision(phase, ACTION_REFUSED, tuple(missing), reason)


def _truststore_gaps(state: RotationState, truststores: Optional[Sequence[TruststoreEvidence]]) -> List[str]:
    if truststores is None:
        return ["no truststore was read: the playbook collects every host's truststore before phase 2"]
    if not truststores:
        return ["no host with a truststore in the inventory"]
    gaps = []
    for ev in truststores:
        if ev.error:
            gaps.append("%s: truststore %s could not be read (%s)" % (ev.host, ev.path, ev.error))
        elif state.new_fingerprint not in ev.fingerprints:
            gaps.append("%s: truststore %s does not hold the new CA %s" % (ev.host, ev.path, state.new_fingerprint))
    return gaps


def _listener_gaps(state: RotationState, listeners: Optional[Sequence[ListenerEvidence]]) -> List[str]:
    if listeners is None:
        return ["no listener was probed: the playbook probes every listener before phase 3"]
    if not listeners:
        return ["no TLS listener in the inventory to check"]
    gaps = []
    for ev in listeners:
        if ev.error:
            gaps.append("%s: %s %s could not be read (%s)" % (ev.host, ev.what, ev.endpoint, ev.error))
        elif not ev.verified_by_new:
            gaps.append("%s: %s %s serves %s, not a certificate of the new CA %s" % (
                ev.host, ev.what, ev.endpoint, ev.fingerprint or "a certificate", state.new_fingerprint))
        elif state.new_not_before and ev.not_before and ev.not_before < state.new_not_before:
            # Renew keeps the CA key and name: a certificate of the old CA certificate verifies against the
            # new one too; only one issued after the new CA certificate was made is the new CA's.
            gaps.append("%s: %s %s serves %s, issued %s, before the new CA %s (%s): not re-signed yet" % (
                ev.host, ev.what, ev.endpoint, ev.fingerprint, ev.not_before, state.new_fingerprint,
                state.new_not_before))
    return gaps


def decide(phase: int, mode: Optional[str], state: Optional[RotationState], current_fingerprint: str,
           truststores: Optional[Sequence[TruststoreEvidence]] = None,
           listeners: Optional[Sequence[ListenerEvidence]] = None) -> Decision:
    """May phase `phase` run now? `mode` is what the operator asked (None: the state's, or renew for a
    new rotation); `current_fingerprint` the CA certificate the CA host signs with now (the CA role's
    file). Evidence is checked only where the phase needs it: truststores for phase 2, listeners for 3."""
    if phase not in PHASES:
        return _refuse(phase, "kafkasec_ca_rotation_phase must be 1, 2 or 3, got %r" % (phase,))
    if mode is not None and mode not in MODES:
        return _refuse(phase, "kafkasec_ca_rotation_mode must be renew or rekey, got %r" % (mode,))
    if not current_fingerprint:
        return _refuse(phase, "the CA host has no CA (kafkasec_ca_certificate_path): run site.yml first")
    active = state is not None and not state.finished
    if active and mode is not None and mode != state.mode:
        return _refuse(phase, "a %s rotation is in progress (old CA %s, new CA %s); kafkasec_ca_rotation_mode=%s "
                       "does not match it" % (state.mode, state.old_fingerprint, state.new_fingerprint, mode))
    if active:
        # The signing CA is the old one until phase 2 moves it, the new one after; phase 2 may have
        # stopped after the move and before it wrote the state: it carries on from there.
        expected = [state.old_fingerprint] if state.phase == 1 else [state.new_fingerprint]
        if state.phase == 1 and state.complete and phase == 2:
            expected.append(state.new_fingerprint)
        if current_fingerprint not in expected:
            return _refuse(phase, "the CA certificate on the CA host is %s, but the rotation state (phase %d) expects "
                           "%s: the CA files were changed outside the rotation" % (
                               current_fingerprint, state.phase, " or ".join(expected)))
    if phase == 1:
        if state is None or state.finished:
            return Decision(1, ACTION_START)
        if state.phase == 1:
            return Decision(1, ACTION_RERUN if state.complete else ACTION_RESUME)
        return _refuse(1, "the rotation to the new CA %s is in phase %d%s; phase 1 is behind it" % (
            state.new_fingerprint, state.phase, "" if state.complete else " (not complete)"),
            ["run phase %d" % (state.phase if not state.complete else state.phase + 1)])
    if state is not None and state.finished and phase == 3:
        # A rerun of the last phase of a finished rotation: it converges (changes nothing) if still true.
        if current_fingerprint != state.new_fingerprint:
            return _refuse(3, "the CA certificate on the CA host is %s, not the rotation's new CA %s" % (
                current_fingerprint, state.new_fingerprint))
        gaps = _listener_gaps(state, listeners)
        if gaps:
            return _refuse(3, "not every listener serves a certificate of the new CA %s" % state.new_fingerprint, gaps)
        return Decision(3, ACTION_RERUN)
    if state is None or state.finished:
        return _refuse(phase, "no CA rotation is in progress (the current CA is %s)" % current_fingerprint,
                       ["phase 1 (trust the new CA everywhere)"])
    if phase == 2:
        if state.phase == 1 and not state.complete:
            return _refuse(2, "phase 1 did not complete (new CA %s)" % state.new_fingerprint,
                           ["phase 1 run to its end (rerun phase 1)"])
        if state.phase == 3:
            return _refuse(2, "the rotation is in phase 3 already (old CA %s being dropped)" % state.old_fingerprint,
                           ["run phase 3"])
        gaps = _truststore_gaps(state, truststores)
        if gaps:
            return _refuse(2, "not every truststore trusts the new CA %s yet" % state.new_fingerprint, gaps)
        if state.phase == 1:
            return Decision(2, ACTION_START)
        return Decision(2, ACTION_RERUN if state.complete else ACTION_RESUME)
    # phase 3
    if state.phase == 1:
        return _refuse(3, "phase 2 has not run: every host still has a certificate of the old CA %s" %
                       state.old_fingerprint, ([] if state.complete else ["phase 1 run to its end"])
                       + ["phase 2 (sign every host with the new CA %s)" % state.new_fingerprint])
    if state.phase == 2 and not state.complete:
        return _refuse(3, "phase 2 did not complete (new CA %s)" % state.new_fingerprint,
                       ["phase 2 run to its end (rerun phase 2)"])
    gaps = _listener_gaps(state, listeners)
    if gaps:
        return _refuse(3, "not every listener serves a certificate of the new CA %s" % state.new_fingerprint, gaps)
    if state.phase == 2:
        return Decision(3, ACTION_START)
    return Decision(3, ACTION_RERUN if state.complete else ACTION_RESUME)


def trust_role(state: Optional[RotationState]) -> Optional[str]:
    """Which extra CA every truststore holds beside the signing CA: the next one during phase 1, the
    previous one during phase 2, none otherwise."""
    if state is None or state.finished:
        return None
    if state.phase == 1:
        return NEXT_DIR
    if state.phase == 2:
        return PREVIOUS_DIR
    return None


def fingerprint_dir(fingerprint: str) -> str:
    """The archive directory name of a CA: its SHA-256 fingerprint, lower-case hex without colons."""
    return fingerprint.replace(":", "").lower()


@dataclass(frozen=True)
class CaPaths:
    """Where the rotation keeps its files under the CA directory; the signing CA's own paths are the CA role's."""

    ca_dir: str
    certificate_path: str
    privatekey_path: str

    def state(self) -> str:
        return os.path.join(self.ca_dir, STATE_FILE)

    def staged(self, which: str) -> Tuple[str, str]:
        """(certificate, key) of next/ or previous/."""
        return os.path.join(self.ca_dir, which, "ca.crt"), os.path.join(self.ca_dir, which, "ca.key")

    def archive(self, fingerprint: str) -> Tuple[str, str, str]:
        directory = os.path.join(self.ca_dir, ARCHIVE_DIR, fingerprint_dir(fingerprint))
        return directory, os.path.join(directory, "ca.crt"), os.path.join(directory, "ca.key")


def evidence_from_rows(kind: str, rows: Sequence[Mapping[str, Any]]) -> List[Any]:
    """Evidence from kafkasec.tls.cert_expiry rows: kind "truststores" groups the file rows of each
    host's truststore (an error row becomes an error); kind "listeners" takes the listener rows of a
    probe against the new CA alone (``verified``: its chain and name checked)."""
    if kind == "truststores":
        stores: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for row in rows:
            if row.get("source") != "file" or row.get("kind") != "truststore":
                continue
            entry = stores.setdefault((str(row.get("host")), str(row.get("path"))), dict(fps=[], error=""))
            if row.get("status") == "error" or not row.get("fingerprint_sha256"):
                entry["error"] = str(row.get("detail") or "unreadable")
            else:
                entry["fps"].append(str(row["fingerprint_sha256"]))
        return [TruststoreEvidence(host, path, tuple(e["fps"]), e["error"]) for (host, path), e in sorted(stores.items())]
    if kind == "listeners":
        out = []
        for row in rows:
            if row.get("source") != "listener":
                continue
            read = bool(row.get("fingerprint_sha256"))
            out.append(ListenerEvidence(
                host=str(row.get("host")), what=str(row.get("what")), endpoint=str(row.get("endpoint")),
                verified_by_new=read and row.get("verified") is True, not_before=str(row.get("not_before") or ""),
                fingerprint=str(row.get("fingerprint_sha256") or ""),
                error="" if read else str(row.get("detail") or "no certificate read")))
        return sorted(out, key=lambda e: (e.host, e.what, e.endpoint))
    raise RotationError("evidence kind must be truststores or listeners, got %r" % (kind,))


# --------------------------------------------------------------- the CA host's files

@dataclass(frozen=True)
class RotationRequest:
    """The module's inputs (``kafkasec.tls.ca_rotation``): the CA role's paths and settings, the phase asked
    and the evidence the playbook collected."""

    paths: CaPaths
    phase: int = 0
    mode: Optional[str] = None
    privatekey_passphrase: Optional[str] = None
    key_spec: Any = None
    subject: Optional[Dict[str, str]] = None
    validity_days: int = 3650
    path_length: Optional[int] = 0
    truststores: Optional[Tuple[TruststoreEvidence, ...]] = None
    listeners: Optional[Tuple[ListenerEvidence, ...]] = None


# (path, bytes or None to keep the content, mode); removals are paths.
FileWrite = Tuple[str, Optional[bytes], str]


@dataclass
class RotationOutcome:
    decision: Optional[Decision]
    state: Optional[RotationState]
    writes: List[FileWrite] = field(default_factory=list)
    directories: List[str] = field(default_factory=list)  # made 0700 before the writes
    removals: List[str] = field(default_factory=list)
    result: Dict[str, Any] = field(default_factory=dict)
    changes: List[str] = field(default_factory=list)


def _read_state(paths: CaPaths) -> Optional[RotationState]:
    from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_optional
    data = read_optional(paths.state(), "the rotation state file")
    return RotationState.from_json(data, paths.state()) if data else None


def _load_cert(path: str, what: str) -> Any:
    from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_optional
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import load_certificates
    data = read_optional(path, what)
    return load_certificates(data, "%s %s" % (what, path))[0] if data else None


def _pem(cert: Any) -> str:
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import cert_pem
    return cert_pem(cert)


def _fp(cert: Any) -> str:
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import certificate_fingerprint
    return certificate_fingerprint(cert) if cert is not None else ""


def status(request: RotationRequest) -> RotationOutcome:
    """Read only: the state, and the extra CA certificate (public PEM) every truststore holds now."""
    paths = request.paths
    state = _read_state(paths)
    current = _load_cert(paths.certificate_path, "kafkasec_ca_certificate_path")
    role = trust_role(state)
    trust: List[str] = []
    if role:
        staged = _load_cert(paths.staged(role)[0], "the %s CA certificate" % role)
        if staged is None:
            raise RotationError("the rotation state %s is in phase %d but %s is missing on the CA host" % (
                paths.state(), state.phase if state else 0, paths.staged(role)[0]))
        if _fp(staged) != _fp(current):
            trust.append(_pem(staged))
    outcome = RotationOutcome(None, state)
    outcome.result = dict(state=state.to_dict() if state else None, trust_pems=trust,
                          current_fingerprint=_fp(current), current_certificate=_pem(current) if current else "",
                          in_progress=bool(state and not state.finished))
    return outcome


def _now_iso() -> str:
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import iso, utcnow
    return iso(utcnow())


def _same(path: str, data: bytes) -> bool:
    from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_optional
    return read_optional(path, path) == data


def _put(outcome: RotationOutcome, path: str, data: bytes, mode: str, what: str) -> None:
    if _same(path, data):
        outcome.writes.append((path, None, mode))
    else:
        outcome.writes.append((path, data, mode))
        outcome.changes.append(what)


def run_phase(request: RotationRequest) -> RotationOutcome:
    """Decide (``decide``), then the CA-side files of the phase; nothing is written when refused."""
    from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_bytes, read_optional
    from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
        build_name, create_ca_certificate, generate_private_key, iso, load_private_key, public_key_der,
        serialize_private_key)
    paths = request.paths
    state = _read_state(paths)
    current = _load_cert(paths.certificate_path, "kafkasec_ca_certificate_path")
    decision = decide(request.phase, request.mode, state, _fp(current), request.truststores, request.listeners)
    outcome = RotationOutcome(decision, state)
    if not decision.allowed:
        return outcome
    next_crt, next_key = paths.staged(NEXT_DIR)
    prev_crt, prev_key = paths.staged(PREVIOUS_DIR)
    now = _now_iso()
    if request.phase == 1 and decision.action == ACTION_START:
        mode = request.mode or "renew"
        current_key = load_private_key(read_bytes(paths.privatekey_path, "kafkasec_ca_privatekey_path"),
                                       request.privatekey_passphrase,
                                       "kafkasec_ca_privatekey_path %s" % paths.privatekey_path, trusted=True)
        # An interrupted start left next/: keep what is there when it fits the mode (resumable).
        staged = _load_cert(next_crt, "the next CA certificate")
        staged_key_data = read_optional(next_key, "the next CA key")
        key = current_key
        if mode == "rekey":
            key = (load_private_key(staged_key_data, request.privatekey_passphrase, "the next CA key %s" % next_key,
                                    trusted=True) if staged_key_data else generate_private_key(request.key_spec))
            if public_key_der(key) == public_key_der(current_key):
                key = generate_private_key(request.key_spec)
        fits = (staged is not None and public_key_der(staged.public_key()) == public_key_der(key)
                and _fp(staged) != _fp(current))
        if not fits:
            subject = current.subject if mode == "renew" or not request.subject else build_name(
                request.subject, "kafkasec_ca_subject")
            staged = create_ca_certificate(key, subject, request.validity_days, request.path_length)
        outcome.directories.append(os.path.dirname(next_crt))
        if mode == "rekey":
            key_data = staged_key_data if staged_key_data and fits else serialize_private_key(
                key, request.privatekey_passphrase)
            _put(outcome, next_key, key_data, "0600", "next CA key made (%s)" % next_key)
        _put(outcome, next_crt, _pem(staged).encode("ascii"), "0644",
             "next CA certificate %s (%s)" % (_fp(staged), mode))
        history = (state.history + (dict(state.to_dict(), history=None),)) if state else ()
        state = RotationState(1, False, mode, _fp(current), _fp(staged), iso(staged.not_valid_before_utc),
                              {"phase1_started": now}, history)
    elif request.phase == 2 and state is not None and state.phase == 1:
        staged = _load_cert(next_crt, "the next CA certificate")
        if _fp(current) == state.old_fingerprint:
            if staged is None or _fp(staged) != state.new_fingerprint:
                raise RotationError("%s does not hold the new CA %s of the rotation state %s" % (
                    next_crt, state.new_fingerprint, paths.state()))
            outcome.directories.append(os.path.dirname(prev_crt))
            # The old CA moves aside first (kept on this host), then the new one takes its paths.
            _put(outcome, prev_crt, read_bytes(paths.certificate_path, "kafkasec_ca_certificate_path"), "0644",
                 "old CA %s kept in %s" % (state.old_fingerprint, prev_crt))
            if state.mode == "rekey":
                _put(outcome, prev_key, read_bytes(paths.privatekey_path, "kafkasec_ca_privatekey_path"), "0600",
                     "old CA key kept in %s" % prev_key)
                _put(outcome, paths.privatekey_path, read_bytes(next_key, "the next CA key"), "0600",
                     "new CA key in %s" % paths.privatekey_path)
            _put(outcome, paths.certificate_path, _pem(staged).encode("ascii"), "0644",
                 "new CA %s signs (%s)" % (state.new_fingerprint, paths.certificate_path))
        outcome.removals += [p for p in (next_crt, next_key) if os.path.exists(p)]
        times = dict(state.times, phase2_started=now)
        state = RotationState(2, False, state.mode, state.old_fingerprint, state.new_fingerprint,
                              state.new_not_before, times, state.history)
    elif request.phase == 3 and state is not None and state.phase == 2:
        directory, arch_crt, arch_key = paths.archive(state.old_fingerprint)
        outcome.directories += [os.path.dirname(directory), directory]
        if os.path.exists(prev_crt):
            _put(outcome, arch_crt, read_bytes(prev_crt, "the previous CA certificate"), "0644",
                 "old CA %s archived in %s" % (state.old_fingerprint, directory))
        if os.path.exists(prev_key):
            _put(outcome, arch_key, read_bytes(prev_key, "the previous CA key"), "0600",
                 "old CA key archived in %s" % directory)
        outcome.removals += [p for p in (prev_crt, prev_key) if os.path.exists(p)]
        times = dict(state.times, phase3_started=now)
        state = RotationState(3, False, state.mode, state.old_fingerprint, state.new_fingerprint,
                              state.new_not_before, times, state.history)
    if state is not outcome.state:
        outcome.writes.append((paths.state(), state.to_json(), "0600"))
        outcome.changes.append("rotation state: phase %d started" % state.phase)
    outcome.state = state
    outcome.result = dict(phase=request.phase, action=decision.action, state=state.to_dict() if state else None)
    return outcome


def complete(request: RotationRequest) -> RotationOutcome:
    """Mark the phase complete once the playbook's hosts converged (an already complete phase: no change)."""
    paths = request.paths
    state = _read_state(paths)
    if state is None or state.phase != request.phase:
        raise RotationError("cannot mark phase %d complete: the rotation state %s is %s" % (
            request.phase, paths.state(), "absent" if state is None else "phase %d" % state.phase))
    outcome = RotationOutcome(None, state)
    if not state.complete:
        state = RotationState(state.phase, True, state.mode, state.old_fingerprint, state.new_fingerprint,
                              state.new_not_before, dict(state.times, **{"phase%d_complete" % state.phase: _now_iso()}),
                              state.history)
        outcome.writes.append((paths.state(), state.to_json(), "0600"))
        outcome.changes.append("rotation state: phase %d complete" % state.phase)
    outcome.state = state
    outcome.result = dict(phase=request.phase, state=state.to_dict())
    return outcome
