# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether Kafka nodes may be retired (playbooks/retire_host.yml), from what the cluster and the inventory say.

Plain, typed Python with no Ansible or Kafka imports; tests/unit/test_node_retirement.py covers it table by table.

Retiring a node takes its powers away: site.yml drops its principal from ``super.users`` on the remaining nodes
(a static setting: a rolling restart) and acls.yml retires the ACLs the collection kept for it. A node that still
takes part in the cluster would break at once (inter-broker and quorum traffic need ClusterAction, which only a
super user has), so a node may be retired only when:

- no host of the inventory is that node any more (else site.yml keeps it in ``super.users``);
- it is not alive in the cluster's metadata (stopped; Kafka lists live brokers only);
- no partition has a replica on it (moved off with kafka-reassign-partitions);
- it is not a voter of the controller quorum (a static ``controller.quorum.voters`` names it, or, on a dynamic
  quorum that the admin API the collection uses cannot describe, the operator says that it checked).

    problems = node_problems(node_ids, inventory_ids, alive, replicas, voters)   # [] = may retire
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = ["Retirement", "node_problems", "parse_voters", "plan", "VARIABLE"]

VARIABLE = "kafkasec_retire_node_ids"
MAX_LISTED = 10  # partitions named per message
_VOTER = re.compile(r"^\s*([0-9]+)(?:-[A-Za-z0-9_-]+)?@\S+\s*$")


@dataclass(frozen=True)
class Retirement:
    node_ids: Tuple[int, ...]
    problems: Tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> Dict[str, Any]:
        return dict(node_ids=list(self.node_ids), problems=list(self.problems), ok=self.ok)


def parse_voters(text: Optional[str]) -> Optional[Tuple[int, ...]]:
    """The node ids of a static ``controller.quorum.voters`` (``1@host:9094,2@host:9094``; KIP-853's
    ``id-directory@host:port`` too); None when it is empty (a dynamic quorum: the voters are in the metadata log).
    ValueError when an entry is not ``id@host:port``."""
    if text is None or not str(text).strip():
        return None
    ids: List[int] = []
    for item in str(text).split(","):
        match = _VOTER.match(item)
        if not match:
            raise ValueError("controller.quorum.voters entry %r is not id@host:port" % item.strip())
        ids.append(int(match.group(1)))
    return tuple(ids)


def _ids(value: Any, where: str, problems: List[str]) -> Tuple[int, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or not value:
        problems.append("%s (%r) must be a non-empty list of node ids (node.id / broker.id)" % (where, value))
        return ()
    out: List[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, str)) or not str(item).strip().isdigit():
            problems.append("%s: %r is not a node id (a non-negative integer)" % (where, item))
            continue
        if int(item) not in out:
            out.append(int(item))
    return tuple(out)


def node_problems(node_ids: Any, inventory_ids: Mapping[int, str], alive: Sequence[int],
                  replicas: Mapping[str, Sequence[int]], voters: Optional[Sequence[int]],
                  voters_checked: bool = False, hostname: str = "", variable: str = VARIABLE) -> List[str]:
    """Why the nodes ``node_ids`` may not be retired yet, each with what the operator does about it; [] when they may.

    - ``inventory_ids``: {node id: inventory host} of the Kafka nodes the inventory still lists;
    - ``alive``: the broker ids in the cluster's metadata (live brokers);
    - ``replicas``: {partition name: replica ids}, every partition of the cluster;
    - ``voters``: the static quorum's voter ids, or None for a dynamic quorum (its voters are not readable through
      the admin API): then ``voters_checked`` says the operator checked with kafka-metadata-quorum;
    - ``hostname``: the host the check runs on, first in every message.
    """
    head = "%s: " % hostname if hostname else ""
    problems: List[str] = []
    ids = _ids(node_ids, variable, problems)
    if problems:
        return [head + p for p in problems]
    alive_ids = set(int(i) for i in alive)
    for node in ids:
        where = "%s: node %d" % (variable, node)
        if node in inventory_ids:
            problems.append("%s is still a Kafka node of the inventory (%s): remove the host from the groups "
                            "kafka_broker and kafka_controller first; site.yml keeps every listed node's principal in "
                            "super.users" % (where, inventory_ids[node]))
        on_it = sorted(name for name, ids_ in replicas.items() if node in set(int(i) for i in ids_))
        if on_it:
            listed = ", ".join(on_it[:MAX_LISTED]) + (" and %d more" % (len(on_it) - MAX_LISTED)
                                                      if len(on_it) > MAX_LISTED else "")
            problems.append("%s still holds replicas of %d partition(s) (%s): move them off first - "
                            "kafka-reassign-partitions.sh --bootstrap-server <a remaining broker> --command-config "
                            "<admin client config> --topics-to-move-json-file <topics> --broker-list <the remaining "
                            "ids> --generate, then --execute with the proposed plan and --verify until it is "
                            "complete" % (where, len(on_it), listed))
        if node in alive_ids:
            problems.append("%s is still alive in the cluster's metadata: stop it first (after its replicas have "
                            "moved), then unregister it - kafka-cluster.sh unregister --bootstrap-server <a remaining "
                            "broker> --config <admin client config> --id %d" % (where, node))
        if voters is None:
            if not voters_checked:
                problems.append("%s: the quorum is dynamic (no controller.quorum.voters), whose voters the admin API "
                                "cannot list; check with kafka-metadata-quorum.sh --bootstrap-controller <a "
                                "controller> --command-config <admin client config> describe --replication that it "
                                "is not a voter (else remove-controller --controller-id %d --controller-directory-id "
                                "<its directory id>), then rerun with kafkasec_retire_voters_checked=true"
                                % (where, node))
        elif node in set(int(v) for v in voters):
            problems.append("%s is a voter of the static controller quorum (controller.quorum.voters): a static "
                            "quorum cannot lose a voter while it runs; move the cluster to a dynamic quorum "
                            "(KIP-853) and remove-controller, or rewrite controller.quorum.voters on every node with "
                            "a full restart of the quorum" % where)
    return [head + p for p in problems]


def plan(node_ids: Any, inventory_ids: Mapping[int, str], alive: Sequence[int], replicas: Mapping[str, Sequence[int]],
         voters_text: Optional[str], voters_checked: bool = False, hostname: str = "",
         variable: str = VARIABLE) -> Retirement:
    """node_problems with the voters read from the running node's ``controller.quorum.voters``."""
    problems: List[str] = []
    ids = _ids(node_ids, variable, problems)
    try:
        voters = parse_voters(voters_text)
    except ValueError as exc:
        return Retirement(ids, ("%s%s" % ("%s: " % hostname if hostname else "", exc),))
    found = node_problems(node_ids, inventory_ids, alive, replicas, voters, voters_checked, hostname, variable)
    return Retirement(ids, tuple(found))
