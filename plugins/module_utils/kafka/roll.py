# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rolling restart needs to know about a KRaft node and the order to restart the nodes in.

Plain, typed Python with no Ansible imports, used by the filters of plugins/filter/kafkasec.py:

- `parse_listeners`  Kafka's ``listeners`` value -> {name: {"host", "port"}}
- `quorum_leader`    the active controller, from the controllers' ``quorum-state`` files
- `roll_order`       broker-only nodes first, then the controllers, the active controller last
- `node_reading`     what a restart play reads of a node (kafkasec.tls.pending_restart's query, and
                     kafkasec.tls.broker_config's plan call for the same run)
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

_LISTENER = re.compile(r"\A([A-Za-z][A-Za-z0-9_]*)://(\[[^\]]*\]|[^:/\s]*):([0-9]{1,5})\Z")


class RollError(ValueError):
    """Input that a rolling restart cannot be planned from."""


def parse_listeners(value: str) -> Dict[str, Dict[str, Any]]:
    """``SSL://:9093,CONTROLLER://10.0.0.1:9094`` -> {"SSL": {"host": "", "port": 9093}, ...}."""
    out: Dict[str, Dict[str, Any]] = {}
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        m = _LISTENER.match(item)
        if not m or not 0 < int(m.group(3)) < 65536:
            raise RollError("listener %r is not NAME://host:port" % item)
        name = m.group(1).upper()
        if name in out:
            raise RollError("listener name %s appears twice in %r" % (name, value))
        out[name] = {"host": m.group(2).strip("[]"), "port": int(m.group(3))}
    return out


def quorum_leader(states: Sequence[Union[str, Mapping[str, Any], None]]) -> Optional[int]:
    """The leader id recorded with the highest epoch among the controllers' quorum-state files.

    Each controller keeps ``<metadata log dir>/__cluster_metadata-0/quorum-state`` (JSON with
    ``leaderId`` and ``leaderEpoch``); a voter that has seen the newest election knows the leader.
    Files that are missing (None) or unreadable are skipped; None when no file names a leader.
    """
    best: Optional[tuple] = None
    for state in states:
        if state is None or state == "":
            continue
        if isinstance(state, str):
            try:
                state = json.loads(state)
            except ValueError:
                continue
        if not isinstance(state, Mapping):
            continue
        try:
            leader, epoch = int(state.get("leaderId", -1)), int(state.get("leaderEpoch", -1))
        except (TypeError, ValueError):
            continue
        if leader >= 0 and (best is None or epoch > best[0]):
            best = (epoch, leader)
    return best[1] if best else None


def roll_order(hosts: Sequence[str], controllers: Sequence[str] = (), leader: Optional[str] = None) -> List[str]:
    """Broker-only nodes first, then the controllers, the active controller (`leader`) last.

    The order of `hosts` is kept within each part. Restarting the active controller forces an
    election; doing it once, at the end, avoids one election per restarted controller.
    """
    seen = set()
    unique = [h for h in hosts if not (h in seen or seen.add(h))]
    controller_set = set(controllers)
    brokers_only = [h for h in unique if h not in controller_set]
    voters = [h for h in unique if h in controller_set and h != leader]
    last = [h for h in unique if h == leader]
    return brokers_only + voters + last


FORCED_REASON = "forced roll (kafkasec_rolling_restart_force)"


def restart_plan(hosts: Sequence[str], queries: Mapping[str, Mapping[str, Any]], *,
                 zookeeper_controller_id: Any = None, force: bool = False) -> Dict[str, Any]:
    """Who restarts, in which order, and how: the decision of the restart role's order step.

    ``queries``: each host's ``kafkasec.tls.pending_restart`` result (node facts, quorum_state, reasons,
    pending). ``zookeeper_controller_id``: the active controller a ZooKeeper-mode cluster reported,
    or None when it was not asked (KRaft: the controllers' quorum-state files name the leader).

    Returns order (every host: broker-only nodes, then controllers, the active controller last),
    leader (its host, or ''), reasons by host, voter_ids (the node ids of the controllers read,
    sorted: a dynamic quorum's gate checks that each is still a voter; none in ZooKeeper mode),
    strategy and hosts:
    - ``together`` when a node's pending restart moves the quorum's controller listener
      (controller_switch): a quorum cannot mix protocols there, so every node stops (brokers first)
      and all start together; hosts is then every node;
    - ``rolling`` otherwise: hosts is the nodes with a reason, in order, one at a time behind gates.
    """
    known = [h for h in hosts if h in queries]
    nodes = {h: dict(queries[h].get("node") or {}) for h in known}
    if zookeeper_controller_id is not None:
        ordered = sorted(known, key=lambda h: int(nodes[h].get("node_id", 0) or 0))
        leader_id: Optional[int] = _int_or_none(zookeeper_controller_id)
    else:
        ordered = list(known)
        leader_id = quorum_leader([queries[h].get("quorum_state") for h in ordered])
    leader = next((h for h in ordered if leader_id is not None and _int_or_none(nodes[h].get("node_id")) == leader_id), "")
    if zookeeper_controller_id is not None:
        controllers = [leader] if leader else []
    else:
        controllers = [h for h in ordered if nodes[h].get("is_controller")]
    order = roll_order(ordered, controllers, leader or None)
    reasons = {h: list(queries[h].get("reasons") or []) + ([FORCED_REASON] if force else []) for h in order}
    switching = [h for h in order if (queries[h].get("pending") or {}).get("controller_switch")]
    strategy = "together" if switching else "rolling"
    due = list(order) if switching else [h for h in order if reasons[h]]
    voter_ids = [] if zookeeper_controller_id is not None else sorted(
        int(nodes[h]["node_id"]) for h in order
        if nodes[h].get("is_controller") and _int_or_none(nodes[h].get("node_id")) is not None)
    zookeeper_mode = any(nodes[h].get("zookeeper_mode") for h in known)
    return dict(order=order, leader=leader, reasons=reasons, strategy=strategy, hosts=due, switching=switching,
                voter_ids=voter_ids, zookeeper_mode=zookeeper_mode)


def restart_plan_message(plan: Mapping[str, Any], check_mode: bool = False) -> str:
    """What the order step prints: the order, the active controller, then each node's fate."""
    fates = []
    for host in plan["order"]:
        reasons = plan["reasons"].get(host) or []
        if plan["strategy"] == "together":
            fates.append("%s: %s together with every node - %s" % (
                host, "would restart" if check_mode else "restarting", "; ".join(reasons) or "the quorum switches"))
        elif reasons:
            fates.append("%s: %s - %s" % (host, "would restart" if check_mode else "restarting", "; ".join(reasons)))
        else:
            fates.append("%s: no restart needed" % host)
    message = "Restart order (nodes without a pending restart are passed over): %s; active controller: %s. %s." % (
        " -> ".join(plan["order"]), plan["leader"] or "unknown (no quorum-state read)", "; ".join(fates))
    if plan["strategy"] == "together":
        message += " " + together_explanation(plan)
    return message


def together_explanation(plan: Mapping[str, Any]) -> str:
    """Why the nodes stop and start together instead of rolling (printed with the order)."""
    switching = ", ".join(plan.get("switching") or [])
    count = len(plan["order"])
    if plan.get("zookeeper_mode"):
        why = ("The inter-broker listener moves from PLAINTEXT to SSL on %s. In ZooKeeper mode the controller broker "
               "reaches the others on it, so brokers on the old and the new listener cannot work together, and this "
               "change cannot roll host by host: all %d brokers stop now and start together "
               "(playbooks/migrate_to_tls.yml's phases are the rolling way)." % (switching, count))
    else:
        why = ("The controller listener changes protocol (to SSL) or port on %s. A KRaft quorum cannot mix protocols "
               "on its controller listener, so this change cannot roll host by host: all %d nodes stop now (brokers "
               "first, then controllers) and start together." % (switching, count))
    return why + " The cluster is unavailable until they are back; later changes roll one host at a time."


# The keys that place the quorum; a key a file does not set counts as empty.
QUORUM_PLACEMENT_KEYS = ("controller.listener.names", "listener.security.protocol.map", "controller.quorum.voters",
                         "controller.quorum.bootstrap.servers")


def restore_moves_quorum(before: Mapping[str, str], after: Mapping[str, str]) -> bool:
    """Whether putting back a node's server.properties (``before`` -> ``after``) moves the quorum's
    controller listener, so that the restart cannot roll (every node restarts together).

    Only a controller's file counts; a migration phase that lists the old and the new controller
    listener (both sides open) still rolls.
    """
    if "controller" not in _split(after.get("process.roles", "")):
        return False
    if len(_split(before.get("controller.listener.names", ""))) > 1 or \
            len(_split(after.get("controller.listener.names", ""))) > 1:
        return False
    return any(str(before.get(key, "")) != str(after.get(key, "")) for key in QUORUM_PLACEMENT_KEYS)


def _split(value: Any) -> List[str]:
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def _int_or_none(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


def node_facts(props: Mapping[str, str]) -> Dict[str, Any]:
    """What a rolling restart needs from a KRaft node's (or a ZooKeeper-mode broker's) server.properties.

    Returns node_id, roles, controller/broker flags, every listener with its protocol (from
    listener.security.protocol.map; a listener named after a protocol defaults to it) and whether it
    is a controller listener, the TLS listeners (SSL, SASL_SSL), the broker listener the health
    gates use (the inter-broker listener, else an SSL one, else PLAINTEXT; None when neither), and
    the metadata log directory (metadata.log.dir, else the first of log.dirs, else log.dir).
    """
    try:
        node_id = int(str(props.get("node.id", props.get("broker.id", ""))).strip())
    except ValueError:
        raise RollError("node.id is missing or not a number: %r" % props.get("node.id")) from None
    roles = [r.strip() for r in str(props.get("process.roles", "")).split(",") if r.strip()]
    zookeeper_mode = not roles and bool(str(props.get("zookeeper.connect", "")).strip())
    if zookeeper_mode:
        # A ZooKeeper-mode broker (Kafka 3.x): no process.roles, no controller listener; the
        # controller is whichever broker holds ZooKeeper's /controller.
        roles = ["broker"]
    if not roles:
        raise RollError("process.roles is not set (and no zookeeper.connect): not a KRaft node "
                        "nor a ZooKeeper-mode broker")
    protocol_map: Dict[str, str] = {}
    for item in str(props.get("listener.security.protocol.map", "")).split(","):
        name, sep, protocol = item.strip().partition(":")
        if sep:
            protocol_map[name.strip().upper()] = protocol.strip().upper()
    controller_names = [n.strip().upper() for n in str(props.get("controller.listener.names", "")).split(",") if n.strip()]
    listeners = []
    for name, where in parse_listeners(str(props.get("listeners", ""))).items():
        protocol = protocol_map.get(name, name if name in _PROTOCOLS else "")
        if not protocol:
            raise RollError("listener %s has no protocol in listener.security.protocol.map" % name)
        listeners.append(dict(name=name, host=where["host"], port=where["port"], protocol=protocol,
                              controller=name in controller_names))
    broker_listeners = [entry for entry in listeners if not entry["controller"]]
    # The inter-broker listener first: every broker has it, so the metadata read through it names
    # every broker and partition. Through a listener only some brokers have (SSL in the first phase
    # of a migration), partitions led elsewhere look leaderless and the ISRs look short.
    inter_broker = str(props.get("inter.broker.listener.name", "")).strip().upper()
    usable = [entry for entry in broker_listeners if entry["protocol"] in ("SSL", "PLAINTEXT")]
    health = next((entry for entry in usable if entry["name"] == inter_broker),
                  next((entry for entry in usable if entry["protocol"] == "SSL"), usable[0] if usable else None))
    log_dirs = str(props.get("log.dirs", props.get("log.dir", ""))).split(",")
    metadata_dir = str(props.get("metadata.log.dir", "")).strip() or log_dirs[0].strip()
    return dict(
        node_id=node_id,
        roles=roles,
        zookeeper_mode=zookeeper_mode,
        is_controller="controller" in roles,
        is_broker="broker" in roles,
        listeners=listeners,
        tls_listeners=[entry for entry in listeners if entry["protocol"] in ("SSL", "SASL_SSL")],
        health_listener=health if "broker" in roles else None,
        plaintext_listener=next((entry for entry in broker_listeners if entry["protocol"] == "PLAINTEXT"), None),
        metadata_dir=metadata_dir,
        # A dynamic quorum (KIP-853): its voters' endpoints live in the metadata log (the quorum gate).
        dynamic_quorum=("controller" in roles and not str(props.get("controller.quorum.voters", "")).strip()
                        and bool(str(props.get("controller.quorum.bootstrap.servers", "")).strip())),
    )


def quorum_state_text(facts: Mapping[str, Any]) -> str:
    """A controller's ``quorum-state`` file (``node_facts``' metadata_dir), '' for a broker-only node or
    when the file cannot be read (a controller that never started)."""
    if not facts.get("is_controller"):
        return ""
    try:
        with open(os.path.join(str(facts["metadata_dir"]), "__cluster_metadata-0", "quorum-state"), "r") as handle:
            return handle.read()
    except (IOError, OSError):
        return ""


def node_reading(facts: Mapping[str, Any], pending: Mapping[str, Any]) -> Dict[str, Any]:
    """What the order step of a restart reads of a node: its ``pending`` restart record and reasons,
    its ``node_facts`` (``facts``) and a controller's quorum-state. kafkasec.tls.pending_restart's query
    returns it; kafkasec.tls.broker_config's plan call takes it too, so that a run whose merge did not
    touch the node hands it to the order step instead of asking the host again."""
    return dict(pending=dict(pending), reasons=[str(reason) for reason in pending.get("reasons", [])], node=dict(facts),
                quorum_state=quorum_state_text(facts))


def known_query_result(args: Mapping[str, Any], known: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """kafkasec.tls.pending_restart's result for a query (``args``: the module's options) that this
    run's earlier ``node_reading`` (``known``) answers, or None when the host must be asked: not a
    query, no properties_path, or no complete reading."""
    if not known or args.get("state", "query") != "query" or not args.get("properties_path"):
        return None
    if not (isinstance(known.get("pending"), Mapping) and isinstance(known.get("node"), Mapping)
            and isinstance(known.get("reasons"), list) and isinstance(known.get("quorum_state"), str)):
        return None
    return dict(changed=False, pending=dict(known["pending"]), reasons=list(known["reasons"]), node=dict(known["node"]),
                quorum_state=known["quorum_state"],
                msg="read earlier in this run (the node's files have not changed since; decided on the controller)")
