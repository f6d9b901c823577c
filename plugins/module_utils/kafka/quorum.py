# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The quorum gate of a dynamic KRaft quorum (KIP-853): what the voters' records must say after a
controller restarts, read from ``kafka-metadata-quorum describe --status``.

Pure functions, no Ansible: the module ``kafkasec.tls.kafka_quorum`` runs the tool on the node and
calls them; ``tests/unit/test_quorum.py`` covers them table by table.

A dynamic quorum (``controller.quorum.bootstrap.servers``, no ``controller.quorum.voters``) keeps its
voters and their endpoints in the metadata log. Seen on Kafka 4.3.1: a voter that starts with other
controller listeners than its record lists updates the record itself (UpdateRaftVoter), a moment
after it has joined. During ``playbooks/migrate_to_tls.yml`` the next node may only go down, and
the next phase may only start, when

- a leader is known and is a voter,
- every voter the quorum had is still one (``voter_ids``),
- the restarted node's record lists exactly the controller endpoints its file advertises
  (both listeners in phase 1 and 2, only the TLS one after phase 3), and
- the followers have caught up (``MaxFollowerLag`` at most ``max_lag`` records).
"""

from __future__ import annotations

import json
import re

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

_LISTENER = re.compile(r"^([A-Za-z0-9_]+)://(.*):([0-9]+)$")


class QuorumError(ValueError):
    """The tool's output or the node's file cannot be read."""


@dataclass
class Voter:
    id: int
    directory_id: str
    endpoints: List[str]


@dataclass
class QuorumStatus:
    leader_id: int
    leader_epoch: int
    high_watermark: int
    max_follower_lag: int
    voters: List[Voter] = field(default_factory=list)
    observers: List[int] = field(default_factory=list)

    def voter(self, node_id: int) -> Optional[Voter]:
        return next((v for v in self.voters if v.id == node_id), None)

    def as_dict(self) -> Dict[str, Any]:
        return dict(leader_id=self.leader_id, leader_epoch=self.leader_epoch, high_watermark=self.high_watermark,
                    max_follower_lag=self.max_follower_lag, observers=self.observers,
                    voters=[dict(id=v.id, directory_id=v.directory_id, endpoints=v.endpoints) for v in self.voters])


def _split(value: Any) -> List[str]:
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def is_dynamic(props: Mapping[str, str]) -> bool:
    """A KRaft node of a dynamic quorum: bootstrap servers and no static voters."""
    return not str(props.get("controller.quorum.voters", "")).strip() and bool(
        str(props.get("controller.quorum.bootstrap.servers", "")).strip())


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise QuorumError("%s is not a number: %r" % (what, value)) from None


def _voters(value: str) -> List[Voter]:
    try:
        items = json.loads(value)
    except ValueError:
        raise QuorumError("CurrentVoters is not JSON: %r" % value) from None
    voters = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise QuorumError("a voter without an id: %r" % (item,))
        voters.append(Voter(id=int(item["id"]), directory_id=str(item.get("directoryId", "")),
                            endpoints=[str(e) for e in item.get("endpoints", [])]))
    return voters


def parse_status(text: str) -> QuorumStatus:
    """``kafka-metadata-quorum describe --status`` (Kafka 3.9+ with voters as JSON) as a QuorumStatus."""
    fields: Dict[str, str] = {}
    for line in str(text).splitlines():
        key, sep, value = line.partition(":")
        if sep and re.match(r"^[A-Za-z]+$", key.strip()):
            fields[key.strip()] = value.strip()
    missing = [k for k in ("LeaderId", "LeaderEpoch", "HighWatermark", "MaxFollowerLag", "CurrentVoters")
               if k not in fields]
    if missing:
        raise QuorumError("describe --status did not report %s" % ", ".join(missing))
    observers: List[int] = []
    if fields.get("CurrentObservers", "[]").strip() not in ("", "[]"):
        try:
            observers = [int(item["id"]) if isinstance(item, dict) else int(item)
                         for item in json.loads(fields["CurrentObservers"])]
        except (ValueError, TypeError, KeyError):
            raise QuorumError("CurrentObservers cannot be read: %r" % fields["CurrentObservers"]) from None
    return QuorumStatus(leader_id=_int(fields["LeaderId"], "LeaderId"),
                        leader_epoch=_int(fields["LeaderEpoch"], "LeaderEpoch"),
                        high_watermark=_int(fields["HighWatermark"], "HighWatermark"),
                        max_follower_lag=_int(fields["MaxFollowerLag"], "MaxFollowerLag"),
                        voters=_voters(fields["CurrentVoters"]), observers=observers)


def controller_endpoints(props: Mapping[str, str]) -> List[str]:
    """The endpoints a voter's record lists for this node: each name of controller.listener.names with
    its advertised endpoint (advertised.listeners, else listeners), in that order."""
    advertised = {m.group(1).upper(): m.group(0) for m in map(_LISTENER.match, _split(props.get("advertised.listeners")))
                  if m}
    bound = {m.group(1).upper(): m.group(0) for m in map(_LISTENER.match, _split(props.get("listeners"))) if m}
    endpoints = []
    for name in _split(props.get("controller.listener.names")):
        endpoint = advertised.get(name.upper()) or bound.get(name.upper())
        if not endpoint:
            raise QuorumError("controller listener %s is in neither advertised.listeners nor listeners" % name)
        endpoints.append(endpoint)
    return endpoints


def bootstrap_controller(props: Mapping[str, str]) -> Dict[str, Any]:
    """Where the tool reaches the quorum from this node: its own first controller listener (the one it
    connects out on), as host:port with that listener's protocol."""
    endpoints = controller_endpoints(props)
    if not endpoints:
        raise QuorumError("controller.listener.names is empty: not a controller")
    match = _LISTENER.match(endpoints[0])
    if not match:
        raise QuorumError("controller endpoint %r is not NAME://host:port" % endpoints[0])
    name, host, port = match.group(1).upper(), match.group(2), match.group(3)
    protocol_map = {k.strip().upper(): v.strip().upper() for k, v in (
        item.split(":", 1) for item in _split(props.get("listener.security.protocol.map")) if ":" in item)}
    protocol = protocol_map.get(name, name if name in ("PLAINTEXT", "SSL") else "")
    if protocol not in ("PLAINTEXT", "SSL"):
        raise QuorumError("controller listener %s has protocol %r; the gate reads the quorum over PLAINTEXT or "
                          "SSL" % (name, protocol))
    return dict(listener=name, address="%s:%s" % (host, port), protocol=protocol)


_SSL_CLIENT_KEYS = ("ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.type", "ssl.key.password",
                    "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type",
                    "ssl.enabled.protocols", "ssl.protocol", "ssl.cipher.suites")


def client_properties(props: Mapping[str, str], listener: str, protocol: str) -> Dict[str, str]:
    """The tool's --command-config: the node connects as itself (its own stores; its certificate has
    clientAuth), with the listener's own ssl.* settings where it has them, host names verified."""
    config = {"security.protocol": protocol}
    if protocol != "SSL":
        return config
    prefix = "listener.name.%s." % listener.lower()
    for key in _SSL_CLIENT_KEYS:
        value = props.get(prefix + key, props.get(key))
        if value not in (None, ""):
            config[key] = str(value)
    config["ssl.endpoint.identification.algorithm"] = "https"
    return config


def gate_problems(status: QuorumStatus, node_id: int, expected_endpoints: Sequence[str],
                  voter_ids: Sequence[int] = (), max_lag: int = 0) -> List[str]:
    """What keeps the quorum gate shut (empty: it holds)."""
    problems = []
    ids = [v.id for v in status.voters]
    if status.leader_id < 0 or status.leader_id not in ids:
        problems.append("no leader among the voters (LeaderId %d, voters %s)" % (status.leader_id, ids))
    missing = [i for i in voter_ids if i not in ids]
    if missing:
        problems.append("voters %s are missing (voters %s)" % (missing, ids))
    own = status.voter(node_id)
    if own is None:
        problems.append("node %d is not a voter (voters %s)" % (node_id, ids))
    elif sorted(own.endpoints) != sorted(expected_endpoints):
        problems.append("node %d's voter record lists %s, its file advertises %s (the voter updates its record "
                        "itself once it has joined)" % (node_id, own.endpoints, list(expected_endpoints)))
    if status.max_follower_lag > max_lag:
        problems.append("the followers are %d records behind the leader (at most %d)" % (
            status.max_follower_lag, max_lag))
    return problems
