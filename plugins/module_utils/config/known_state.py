# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether merging a rendered block would change a properties file, decided on the controller from
what an earlier read-only call on the host saw, so that merging into a converged file costs no call.

The host never sends a value: it sends, for every key of the file, an HMAC-SHA256 of the value under
a key that only the controller holds for this run (``digest_key``, a no_log option), plus the
file's mode, owner and group. The controller renders the block, digests its values under the same
key and compares. Without the key the digests say nothing about the values (store passwords among
them), and the key is never in a result.

Used by broker_config: ``state_of`` on the host (step=plan), ``unchanged_merge_result`` in its action
plugin on the controller (step=apply). The state is only good until the next write of the file: the
role passes it to the first merge after the plan call only.
"""

from __future__ import annotations

import grp
import hashlib
import hmac
import os
import pwd
import stat
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import block_to_changes
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import PropertiesError


def digest(value: str, digest_key: str) -> str:
    return hmac.new(digest_key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def _name(lookup: Any, number: int) -> str:
    try:
        return str(lookup(number)[0])
    except KeyError:
        return str(number)


def attributes(path: str) -> Dict[str, str]:
    """A file's mode (octal text), owner and group (names where the host knows them)."""
    st = os.stat(path)
    return dict(mode="%04o" % stat.S_IMODE(st.st_mode), owner=_name(pwd.getpwuid, st.st_uid),
                group=_name(grp.getgrgid, st.st_gid))


def state_of(path: str, values: Mapping[str, str], digest_key: str, present_paths: Sequence[str] = (),
             pending: Optional[Mapping[str, Any]] = None, marker: Optional[str] = None) -> Dict[str, Any]:
    """What the controller needs to know about ``path`` (whose parsed ``values`` the caller read):
    keyed digests of its values, its mode, owner and group, which of ``present_paths`` exist, and the
    pending-restart record with its ``marker`` file's attributes."""
    state: Dict[str, Any] = dict(attributes(path),
                                 digests={key: digest(value, digest_key) for key, value in values.items()},
                                 present=[item for item in present_paths if os.path.exists(item)],
                                 pending=dict(pending or {}))
    if marker and os.path.exists(marker):
        state["marker"] = attributes(marker)
    return state


def _mode(value: Any) -> Optional[int]:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        return None  # symbolic modes (u=rw,g=r): the module settles them
    return int(text, 8)


def attribute_changes(current: Mapping[str, Any], mode: Any, owner: Optional[str], group: Optional[str],
                      what: str = "") -> List[str]:
    """The attributes the module would settle on a file that has ``current``."""
    reasons = []
    wanted_mode = _mode(mode)
    if mode not in (None, "") and (wanted_mode is None or wanted_mode != _mode(current.get("mode"))):
        reasons.append("%smode %s" % (what, mode))
    if owner and owner != current.get("owner"):
        reasons.append("%sowner %s" % (what, owner))
    if group and group != current.get("group"):
        reasons.append("%sgroup %s" % (what, group))
    return reasons


def merge_changes(state: Mapping[str, Any], set_values: Mapping[str, str], remove: Sequence[str], digest_key: str,
                  *, mode: Any = None, owner: Optional[str] = None, group: Optional[str] = None,
                  require_files: Sequence[str] = ()) -> List[str]:
    """Why merging would change the file (empty: it would not). ``set_values`` are the block's values
    as Java reads them (the caller's parsed block), ``remove`` every key to remove."""
    digests: Mapping[str, str] = state.get("digests") or {}
    reasons: List[str] = []
    for key, value in set_values.items():
        if key not in digests:
            reasons.append("%s added" % key)
        elif not hmac.compare_digest(str(digests[key]), digest(str(value), digest_key)):
            reasons.append("%s updated" % key)
    reasons += ["%s removed" % key for key in remove if key in digests]
    reasons += attribute_changes(state, mode, owner, group)
    present = set(state.get("present") or [])
    reasons += ["%s missing" % item for item in require_files if item not in present]
    return reasons


def kept_record(pending: Mapping[str, Any]) -> Dict[str, Any]:
    """The pending-restart record a merge that changes nothing leaves: broker_plan.decide_restart with
    no changed key, no store change and no other reason keeps the pending reasons (each once) and the
    switch flag ({} when nothing is pending)."""
    reasons = list(dict.fromkeys(pending.get("reasons") or []))
    if not reasons:
        return {}
    return dict(reasons=reasons, controller_switch=bool(pending.get("controller_switch")))


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def merge_check(args: Mapping[str, Any], known: Mapping[str, Any]) -> List[str]:
    """Why broker_config's step=apply must run on the host, from the task's arguments and the plan
    call's ``known_state`` (empty: the merge would change nothing, and the pending-restart record and
    its file would stay as they are). Any doubt counts: a store changed, another restart reason, a
    key to add, update or remove, a file attribute to settle, a store missing, a record to rewrite."""
    reasons = ["%s changed" % name for name in ("keystore", "truststore") if _true(args.get(name + "_changed"))]
    if args.get("other_reasons"):
        reasons.append("other restart reasons")
    if "digests" not in known or "pending" not in known:
        return reasons + ["no known state"]
    pending = known["pending"]
    if pending:
        if kept_record(pending) != pending:
            reasons.append("the pending-restart record would be rewritten")
        if "marker" not in known:
            reasons.append("the pending-restart record's file is unknown")
        else:
            reasons += attribute_changes(known["marker"], args.get("marker_mode", "0640"), args.get("owner"),
                                         args.get("group"), "pending-restart record ")
    try:
        set_values, empty_keys = block_to_changes(str(args.get("content") or ""))
    except PropertiesError:
        return reasons + ["the block does not parse"]  # the module reports it
    remove = [key for key in list(empty_keys) + list(known.get("remove") or []) if key not in set_values]
    return reasons + merge_changes(known, set_values, remove, str(args["digest_key"]), mode=args.get("mode"),
                                   owner=args.get("owner"), group=args.get("group"),
                                   require_files=args.get("require_files") or [])


def unchanged_merge_result(known: Mapping[str, Any]) -> Dict[str, Any]:
    """broker_config's result for step=apply when merge_check found nothing to do."""
    record = kept_record(known.get("pending") or {})
    result = dict(changed=False, changed_keys=[], added_keys=[], updated_keys=[], removed_keys=[], pending=record,
                  restart=dict(reasons=list(record.get("reasons", [])),
                               controller_switch=bool(record.get("controller_switch")), live_reload=False,
                               reload_listeners=[], reload_ports={}),
                  msg="the file already holds the block (decided on the controller from this run's plan call)")
    if known.get("node_reading"):
        # The host is as the plan call read it: the restart order step can take the node from here.
        result["node_reading"] = dict(known["node_reading"])
    return result
