# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Timestamped backup sets of a node's managed files (server.properties, stores, certificates).

Plain, typed Python with no Ansible imports. A *set* is a directory
``<backup_dir>/<stamp>/`` holding a copy of each file that existed when it was
taken, and ``manifest.json`` (path -> sha256, mode, uid, gid, copy name).

- `snapshot` takes a set only when the files differ from the newest set, so a run
  that changes nothing takes none; sets beyond `keep` are removed, oldest first.
  Playbooks take one at the start of a run (the state before it) and one at the
  end (the state it left), so the newest set is the last known state.
- `restore` puts back the newest set that differs from the files as they are (or
  the set named by its stamp): after a run that changed something, that is the
  state before the run; after a run that failed half-way, the last good state.
  Restoring what is already there changes nothing.

Every write is atomic (fileio.atomic_write); a set is written to a temporary
directory and renamed into place, so a crash leaves no half set.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import atomic_write

MANIFEST = "manifest.json"
_STAMP = re.compile(r"\A[0-9]{8}T[0-9]{6}(?:\.[0-9]{1,6})?Z\Z")


class BackupError(Exception):
    """Bad input or an unusable backup directory; the message names it."""


@dataclass(frozen=True)
class FileState:
    path: str
    sha256: str
    mode: int
    uid: int
    gid: int
    copy: str = ""

    def as_dict(self) -> Dict[str, object]:
        return dict(sha256=self.sha256, mode=self.mode, uid=self.uid, gid=self.gid, copy=self.copy)


@dataclass
class Outcome:
    changed: bool = False
    stamp: Optional[str] = None
    files: List[str] = field(default_factory=list)
    removed_sets: List[str] = field(default_factory=list)
    sets: List[str] = field(default_factory=list)
    message: str = ""


def new_stamp(now: Optional[datetime.datetime] = None) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def run_stamps(now: datetime.datetime) -> Dict[str, str]:
    """The stamps of a run's two backup steps, named when the run starts: ``before`` (the set taken before
    anything changes) is ``now``; ``after`` (the closing set) is one microsecond later, so it sorts after the
    ``before`` set and before any later run's sets. A naive ``now`` is taken as UTC."""
    if not isinstance(now, datetime.datetime):
        raise BackupError("run_stamps: expected the run's start time as a datetime, not %r" % (now,))
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    now = now.astimezone(datetime.timezone.utc)
    return {"before": new_stamp(now), "after": new_stamp(now + datetime.timedelta(microseconds=1))}


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def current_state(paths: Sequence[str]) -> Dict[str, FileState]:
    """path -> FileState of each path that exists as a regular file (missing ones are left out)."""
    out: Dict[str, FileState] = {}
    for path in paths:
        path = os.path.abspath(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BackupError("%s cannot be read: %s" % (path, exc.strerror)) from None
        if not stat.S_ISREG(st.st_mode):
            raise BackupError("%s is not a regular file" % path)
        try:
            out[path] = FileState(path, _sha256(path), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
        except OSError as exc:
            raise BackupError("%s cannot be read: %s" % (path, exc.strerror)) from None
    return out


def list_sets(backup_dir: str) -> List[str]:
    """The stamps of the complete sets in backup_dir, oldest first."""
    try:
        names = os.listdir(backup_dir)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BackupError("backup directory %s cannot be read: %s" % (backup_dir, exc.strerror)) from None
    return sorted(n for n in names if _STAMP.match(n) and os.path.isfile(os.path.join(backup_dir, n, MANIFEST)))


def read_manifest(backup_dir: str, stamp: str) -> Dict[str, FileState]:
    path = os.path.join(backup_dir, stamp, MANIFEST)
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        return {p: FileState(p, str(v["sha256"]), int(v["mode"]), int(v["uid"]), int(v["gid"]), str(v["copy"]))
                for p, v in raw["files"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError("backup set %s is damaged (%s): %s" % (stamp, path, exc)) from None


def _same(a: Dict[str, FileState], b: Dict[str, FileState]) -> bool:
    return {p: (s.sha256, s.mode) for p, s in a.items()} == {p: (s.sha256, s.mode) for p, s in b.items()}


def newest_set_matches(paths: Sequence[str], backup_dir: str) -> Optional[str]:
    """The newest set's stamp when the files are as it holds them (a snapshot would take no set), else
    None. Read only: a planning call asks this so that the call that keeps the set is made only when needed."""
    sets = list_sets(backup_dir)
    if sets and _same(current_state(paths), read_manifest(backup_dir, sets[-1])):
        return sets[-1]
    return None


def snapshot(paths: Sequence[str], backup_dir: str, keep: int, check_mode: bool = False,
             stamp: Optional[str] = None) -> Outcome:
    """Take a set when the files differ from the newest set; keep the newest `keep` sets."""
    if keep < 1:
        raise BackupError("keep must be at least 1, got %d" % keep)
    if not paths:
        raise BackupError("paths is empty: nothing to back up")
    state = current_state(paths)
    sets = list_sets(backup_dir)
    outcome = Outcome(sets=list(sets))
    if sets and _same(state, read_manifest(backup_dir, sets[-1])):
        outcome.message = "the files are as in the newest backup set %s" % sets[-1]
        outcome.stamp = sets[-1]
        return outcome
    stamp = stamp or new_stamp()
    if not _STAMP.match(stamp) or (sets and stamp <= sets[-1]):
        raise BackupError("stamp %r must be a UTC time YYYYmmddTHHMMSS[.ffffff]Z after the newest set" % stamp)
    outcome.changed, outcome.stamp, outcome.files = True, stamp, sorted(state)
    outcome.removed_sets = sets[:max(0, len(sets) + 1 - keep)]
    outcome.sets = sets[len(outcome.removed_sets):] + [stamp]
    outcome.message = "backup set %s of %d file(s)" % (stamp, len(state))
    if check_mode:
        return outcome
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".%s." % stamp, dir=backup_dir)
    try:
        manifest = {}
        for index, (path, st) in enumerate(sorted(state.items())):
            copy = "%02d-%s" % (index, os.path.basename(path))
            target = os.path.join(tmp, copy)
            shutil.copyfile(path, target)
            os.chmod(target, 0o600)
            manifest[path] = FileState(path, st.sha256, st.mode, st.uid, st.gid, copy).as_dict()
        with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as handle:
            json.dump({"stamp": stamp, "files": manifest}, handle, indent=1, sort_keys=True)
        os.rename(tmp, os.path.join(backup_dir, stamp))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in outcome.removed_sets:
        shutil.rmtree(os.path.join(backup_dir, old), ignore_errors=True)
    return outcome


def restore(backup_dir: str, check_mode: bool = False, stamp: Optional[str] = None,
            paths: Sequence[str] = (), missing_ok: bool = False) -> Outcome:
    """Put back the set `stamp`, or the newest set that differs from the files as they are now.

    With `missing_ok`, a node that has no set `stamp` (the run that took it did not change this
    node) is left as it is instead of failing.
    """
    sets = list_sets(backup_dir)
    outcome = Outcome(sets=list(sets))
    if stamp is not None and stamp not in sets and missing_ok:
        outcome.message = "no backup set %s here (the run did not change this node): left as it is" % stamp
        return outcome
    if not sets:
        raise BackupError("no backup set in %s: nothing to restore" % backup_dir)
    if stamp is not None and stamp not in sets:
        raise BackupError("no backup set %s in %s (sets: %s)" % (stamp, backup_dir, ", ".join(sets)))
    chosen = stamp
    if chosen is None:
        for candidate in reversed(sets):
            manifest = read_manifest(backup_dir, candidate)
            if not _same(current_state(list(manifest)), manifest):
                chosen = candidate
                break
        if chosen is None:
            outcome.stamp = sets[-1]
            outcome.message = "the files are as in the newest backup set %s: nothing to restore" % sets[-1]
            return outcome
    manifest = read_manifest(backup_dir, chosen)
    wanted = {os.path.abspath(p) for p in paths}
    todo = [s for p, s in sorted(manifest.items()) if not wanted or p in wanted]
    now = current_state([s.path for s in todo])
    todo = [s for s in todo if s.path not in now or (now[s.path].sha256, now[s.path].mode) != (s.sha256, s.mode)]
    outcome.stamp, outcome.files, outcome.changed = chosen, [s.path for s in todo], bool(todo)
    outcome.message = ("restored %d file(s) from backup set %s" % (len(todo), chosen)) if todo else (
        "the files are as in backup set %s" % chosen)
    if check_mode:
        return outcome
    for st in todo:
        source = os.path.join(backup_dir, chosen, st.copy)
        with open(source, "rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != st.sha256:
            raise BackupError("backup copy %s does not match its manifest: not restoring %s" % (source, st.path))
        atomic_write(st.path, data, like=_Owner(st))
    return outcome


class _Owner:
    """The owner, group and mode a restored file gets, in the shape atomic_write's `like` reads."""

    def __init__(self, st: FileState) -> None:
        self.st_uid, self.st_gid, self.st_mode = st.uid, st.gid, stat.S_IFREG | st.mode


def backup_call_needed(plan_backup: Optional[Mapping[str, Any]], run_results: Sequence[Optional[Mapping[str, Any]]],
                       closing: bool) -> bool:
    """Whether the broker role's backup task calls the host.

    ``plan_backup`` is the plan call's answer ({needed, newest}; None when it did not run), ``run_results`` the
    results this run registered for the calls that write the set's files (PKI request and install, the
    properties merge; None when not registered yet, a skipped task counts as registered).
    - The closing set (``closing``, after the run): only when one of those calls reported a change.
    - Before the run: when the plan call said the files differ from the newest set, or did not say; or when a
      writing call has already run in this run, so the plan's answer may be stale.
    """
    results = list(run_results)
    if closing:
        if any(result is not None and result.get("closing_backup") is not None for result in results):
            return False  # the properties merge kept the closing set in its own call (closing_backup_option)
        return any(bool(result.get("changed")) for result in results if result is not None)
    if plan_backup is None or plan_backup.get("needed", True):
        return True
    return any(result is not None for result in results)


# The options of a backup set that a writing call keeps in its own call (host_pki's backup, broker_config's
# closing_backup): the set's files and directory, how many sets to keep, and the run's stamp for it.
SET_FIELDS = ("paths", "backup_dir", "keep")


def _set_option(plan_backup: Optional[Mapping[str, Any]], stamp: Optional[str]) -> Dict[str, Any]:
    if not isinstance(plan_backup, Mapping) or not stamp or any(plan_backup.get(name) is None for name in SET_FIELDS):
        return {}
    if int(plan_backup["keep"]) < 1:
        return {}
    option: Dict[str, Any] = {name: plan_backup[name] for name in SET_FIELDS}
    option["stamp"] = stamp
    return option


def before_set_option(plan_backup: Optional[Mapping[str, Any]], stamp: Optional[str]) -> Dict[str, Any]:
    """host_pki's ``backup`` option for this run's request call: the set before the run, taken in that call
    (before it writes anything) instead of a backup call of its own. Empty when the plan call said the files
    are as in the newest set, or gave no set to take (no plan, backups off): the call then takes none."""
    if not isinstance(plan_backup, Mapping) or not plan_backup.get("needed", True):
        return {}
    return _set_option(plan_backup, stamp)


def closing_set_option(plan_backup: Optional[Mapping[str, Any]], stamp: Optional[str],
                       earlier_results: Sequence[Optional[Mapping[str, Any]]]) -> Dict[str, Any]:
    """broker_config's ``closing_backup`` option for this run's merge: the closing set, taken in the merge's
    own call after it writes, when that call or an earlier call of the run (``earlier_results``: the PKI
    request and install) changed something. Empty when backups are off or the plan call did not run."""
    option = _set_option(plan_backup, stamp)
    if option:
        option["after_changes"] = any(isinstance(result, Mapping) and bool(result.get("changed"))
                                      for result in earlier_results)
    return option
