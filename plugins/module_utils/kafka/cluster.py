# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health of a Kafka cluster as a client sees it, and gates that wait for it.

Plain, typed Python with no Ansible imports. A snapshot is read with
confluent-kafka's AdminClient over TLS with a client certificate (host name
verification on, as in roundtrip.py): the brokers registered in the cluster
metadata, the controller id DescribeCluster reports, and every partition's
leader, replicas and ISR, with each topic's `min.insync.replicas`.

Gates are pure functions of a snapshot, so they are unit-tested without a
cluster:

- `brokers`           every expected broker id is registered in the metadata
- `under_replicated`  no partition has an ISR smaller than its replica set
- `full_isr`          every partition that has one of the expected brokers as a
                      replica has it in its ISR (with no expected brokers: every
                      ISR equals its replica set)
- `min_isr`           no partition's ISR is below its topic's min.insync.replicas
- `offline`           every partition has a leader
- `controller`        DescribeCluster names a controller
- `batch_safe`        taking the restarting brokers out of every ISR leaves each
                      partition at or above its topic's min.insync.replicas (the
                      check before a batch of several brokers restarts together)

`wait()` polls a snapshot source until every asked gate holds or the timeout
passes (bounded; the interval is a poll period, not a fixed sleep before the
first look) and then raises HealthError naming the gates that failed.

Note on KRaft: a broker answers DescribeCluster and Metadata with the id of a
live broker, not with the active controller of the quorum (KIP-590/KIP-631);
`controller_id` is what the cluster reports, not the quorum leader.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

try:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

    CONFLUENT_KAFKA_IMPORT_ERROR: Optional[str] = None
except ImportError:  # pragma: no cover - exercised on controllers without the library
    CONFLUENT_KAFKA_IMPORT_ERROR = traceback.format_exc()

GATES = ("brokers", "controller", "under_replicated", "full_isr", "min_isr", "offline", "batch_safe")
MAX_LISTED = 50  # partitions named per list in results and messages


class HealthError(Exception):
    """A snapshot could not be read, or a gate did not hold within the timeout."""

    def __init__(self, message: str, failed_gates: Sequence[str] = (), outcome: Optional["HealthOutcome"] = None) -> None:
        super().__init__(message)
        self.failed_gates = list(failed_gates)
        self.outcome = outcome


def confluent_kafka_problem() -> Optional[str]:
    return CONFLUENT_KAFKA_IMPORT_ERROR


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    leader: int
    replicas: Tuple[int, ...]
    isr: Tuple[int, ...]
    min_isr: int = 1

    @property
    def name(self) -> str:
        return "%s-%d" % (self.topic, self.partition)

    @property
    def under_replicated(self) -> bool:
        return len(set(self.isr)) < len(set(self.replicas))

    @property
    def offline(self) -> bool:
        return self.leader < 0

    @property
    def below_min_isr(self) -> bool:
        return len(set(self.isr)) < min(self.min_isr, len(set(self.replicas)) or 1) or not self.isr


@dataclass
class ClusterSnapshot:
    brokers: Dict[int, str] = field(default_factory=dict)
    controller_id: Optional[int] = None
    cluster_id: Optional[str] = None
    partitions: List[PartitionState] = field(default_factory=list)

    @property
    def under_replicated(self) -> List[PartitionState]:
        return [p for p in self.partitions if p.under_replicated]

    @property
    def below_min_isr(self) -> List[PartitionState]:
        return [p for p in self.partitions if p.below_min_isr]

    @property
    def offline(self) -> List[PartitionState]:
        return [p for p in self.partitions if p.offline]

    def unsafe_without(self, broker_ids: Sequence[int]) -> List[PartitionState]:
        """Partitions whose ISR would fall below min.insync.replicas if `broker_ids` left it.

        A partition with no more replicas than its min.insync.replicas (replication factor 1, or 2
        under a min.insync.replicas of 2) cannot stay writable through any restart of one of its
        replicas; no order of restarts helps it, so it does not hold a roll back (as Strimzi's
        roller does). `unprotectable` lists them.
        """
        leaving = set(broker_ids)
        return [p for p in self.partitions
                if len(set(p.replicas)) > p.min_isr and len(set(p.isr) - leaving) < p.min_isr]

    def unprotectable(self, broker_ids: Sequence[int]) -> List[PartitionState]:
        """Partitions on `broker_ids` whose replication factor is not above min.insync.replicas."""
        leaving = set(broker_ids)
        return [p for p in self.partitions if len(set(p.replicas)) <= p.min_isr and leaving & set(p.replicas)]

    def missing_from_isr(self, broker_ids: Sequence[int]) -> List[PartitionState]:
        wanted = set(broker_ids)
        if not wanted:
            return [p for p in self.partitions if set(p.isr) != set(p.replicas)]
        return [p for p in self.partitions if (wanted & set(p.replicas)) - set(p.isr)]


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    detail: str


def _names(partitions: Sequence[PartitionState]) -> str:
    names = [p.name for p in partitions[:MAX_LISTED]]
    more = len(partitions) - len(names)
    return ", ".join(names) + (" and %d more" % more if more > 0 else "")


def evaluate(snapshot: ClusterSnapshot, gates: Sequence[str], expected_brokers: Sequence[int] = (),
             restarting_brokers: Sequence[int] = ()) -> List[GateResult]:
    """One GateResult per asked gate, in the order asked."""
    results: List[GateResult] = []
    for gate in gates:
        if gate == "brokers":
            missing = sorted(set(expected_brokers) - set(snapshot.brokers))
            results.append(GateResult(gate, not missing, (
                "brokers %s not registered in the cluster metadata (registered: %s)" % (missing, sorted(snapshot.brokers))
                if missing else "brokers %s registered" % sorted(set(expected_brokers)))))
        elif gate == "controller":
            ok = snapshot.controller_id is not None and snapshot.controller_id >= 0
            results.append(GateResult(gate, ok, "controller %s" % snapshot.controller_id if ok else "no controller reported"))
        elif gate == "under_replicated":
            urp = snapshot.under_replicated
            results.append(GateResult(gate, not urp, (
                "%d under-replicated partition(s): %s" % (len(urp), _names(urp)) if urp else "no under-replicated partition")))
        elif gate == "full_isr":
            lagging = snapshot.missing_from_isr(expected_brokers)
            who = ("brokers %s" % sorted(set(expected_brokers))) if expected_brokers else "every replica"
            results.append(GateResult(gate, not lagging, (
                "%d partition(s) without %s in their ISR: %s" % (len(lagging), who, _names(lagging))
                if lagging else "%s in every ISR" % who)))
        elif gate == "min_isr":
            low = snapshot.below_min_isr
            results.append(GateResult(gate, not low, (
                "%d partition(s) with an ISR below min.insync.replicas: %s" % (len(low), _names(low))
                if low else "every ISR at or above min.insync.replicas")))
        elif gate == "offline":
            off = snapshot.offline
            results.append(GateResult(gate, not off, (
                "%d offline partition(s) (no leader): %s" % (len(off), _names(off)) if off else "every partition has a leader")))
        elif gate == "batch_safe":
            unsafe = snapshot.unsafe_without(restarting_brokers)
            exposed = snapshot.unprotectable(restarting_brokers)
            who = sorted(set(restarting_brokers))
            note = ("; %d partition(s) with a replication factor not above min.insync.replicas are not writable while "
                    "it restarts whatever the order: %s" % (len(exposed), _names(exposed))) if exposed else ""
            results.append(GateResult(gate, not unsafe, (
                "restarting brokers %s together would take %d partition(s) below min.insync.replicas: %s"
                % (who, len(unsafe), _names(unsafe)) if unsafe
                else "every partition keeps min.insync.replicas without brokers %s" % who) + note))
        else:
            raise HealthError("unknown gate %r (known: %s)" % (gate, ", ".join(GATES)))
    return results


@dataclass
class HealthOutcome:
    snapshot: ClusterSnapshot
    gates: List[GateResult] = field(default_factory=list)
    polls: int = 0
    elapsed: float = 0.0
    last_error: str = ""

    @property
    def failed_gates(self) -> List[str]:
        return [g.name for g in self.gates if not g.ok]

    @property
    def ok(self) -> bool:
        return not self.failed_gates and not (self.polls and not self.snapshot.brokers and self.last_error)

    @property
    def result(self) -> Dict[str, Any]:
        s = self.snapshot
        return dict(
            ok=self.ok,
            cluster_id=s.cluster_id,
            controller_id=s.controller_id,
            brokers=[dict(id=i, endpoint=e) for i, e in sorted(s.brokers.items())],
            broker_ids=sorted(s.brokers),
            partition_count=len(s.partitions),
            under_replicated_count=len(s.under_replicated),
            under_replicated=[p.name for p in s.under_replicated[:MAX_LISTED]],
            below_min_isr_count=len(s.below_min_isr),
            below_min_isr=[p.name for p in s.below_min_isr[:MAX_LISTED]],
            offline_count=len(s.offline),
            offline=[p.name for p in s.offline[:MAX_LISTED]],
            gates={g.name: dict(ok=g.ok, detail=g.detail) for g in self.gates},
            failed_gates=self.failed_gates,
            polls=self.polls,
            elapsed=round(self.elapsed, 2),
            last_error=self.last_error,
        )


def wait(fetch: Callable[[], ClusterSnapshot], gates: Sequence[str], expected_brokers: Sequence[int] = (),
         timeout: float = 300.0, interval: float = 1.0,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
         restarting_brokers: Sequence[int] = ()) -> HealthOutcome:
    """Poll `fetch` until every gate holds; HealthError (naming the failed gates) after `timeout`.

    A fetch that raises HealthError counts as a poll in which every gate failed; its message is kept.
    With no gates, one snapshot is read and returned (a fetch error is raised at once).
    """
    for gate in gates:
        if gate not in GATES:
            raise HealthError("unknown gate %r (known: %s)" % (gate, ", ".join(GATES)))
    if "brokers" in gates and not expected_brokers:
        raise HealthError("the brokers gate needs the expected broker ids")
    if "batch_safe" in gates and not restarting_brokers:
        raise HealthError("the batch_safe gate needs the ids of the brokers about to restart")
    started = clock()
    outcome = HealthOutcome(snapshot=ClusterSnapshot())
    while True:
        outcome.polls += 1
        try:
            outcome.snapshot = fetch()
            outcome.gates = evaluate(outcome.snapshot, gates, expected_brokers, restarting_brokers)
            outcome.last_error = ""
        except HealthError as exc:
            if not gates:
                outcome.elapsed = clock() - started
                raise HealthError(str(exc), (), outcome) from None
            outcome.last_error = str(exc)
            outcome.gates = [GateResult(g, False, "no snapshot: %s" % exc) for g in gates]
        outcome.elapsed = clock() - started
        if not outcome.failed_gates:
            return outcome
        left = timeout - outcome.elapsed
        if left <= 0:
            failed = [g for g in outcome.gates if not g.ok]
            raise HealthError("gate%s %s did not hold within %.0f s (%d polls): %s" % (
                "s" if len(failed) > 1 else "", ", ".join(g.name for g in failed), timeout, outcome.polls,
                "; ".join("%s: %s" % (g.name, g.detail) for g in failed)), [g.name for g in failed], outcome)
        sleep(min(interval, left))


# -- the real cluster ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ClusterRequest:
    bootstrap_servers: Tuple[str, ...]
    ca_path: Optional[str]
    cert_path: Optional[str]
    key_path: Optional[str]
    key_passphrase: Optional[str] = None
    request_timeout: float = 10.0
    # PLAINTEXT only for a cluster that has no TLS listener yet (the first phase of a migration).
    security_protocol: str = "SSL"
    client_id: str = "kafkasec-cluster-health"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ClusterRequest":
        return cls(
            bootstrap_servers=tuple(str(s).strip() for s in params["bootstrap_servers"]),
            ca_path=params["ca_path"], cert_path=params["cert_path"], key_path=params["key_path"],
            key_passphrase=params.get("key_passphrase") or None,
            request_timeout=float(params.get("request_timeout") or 10),
            security_protocol=str(params.get("security_protocol") or "SSL").upper(),
        )

    def validate(self) -> None:
        if not self.bootstrap_servers:
            raise HealthError("bootstrap_servers is empty")
        for server in self.bootstrap_servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise HealthError("bootstrap_servers: %r is not host:port" % server)
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                continue
            raise HealthError("bootstrap_servers: %r is an IP address; librdkafka verifies host names against DNS "
                              "SANs only, so connect by host name" % server)
        if self.request_timeout <= 0:
            raise HealthError("request_timeout must be positive, got %s" % self.request_timeout)
        if self.security_protocol not in ("SSL", "PLAINTEXT"):
            raise HealthError("security_protocol must be SSL or PLAINTEXT, got %r" % self.security_protocol)
        if self.security_protocol == "PLAINTEXT":
            return
        for option in ("ca_path", "cert_path", "key_path"):
            path = getattr(self, option)
            if not path:
                raise HealthError("%s is required with security_protocol SSL" % option)
            if not os.path.isfile(path) or not os.access(path, os.R_OK):
                raise HealthError("%s %s does not exist or is not a readable file" % (option, path))


def connection_after_tls_check(params: Mapping[str, Any], tls_answers: Callable[[str, int], bool]) -> Optional[Dict[str, Any]]:
    """The connection options (``bootstrap_servers``, ``security_protocol`` and the TLS files) to read the
    cluster with, from cluster_health's ``params``.

    Without ``tls_check_first``, or over PLAINTEXT: the options as given. With it, over SSL: when the first
    bootstrap server answers a TLS handshake with the client certificate (``tls_answers(host, port)``), the
    options as given; otherwise ``plaintext_bootstrap_servers`` over PLAINTEXT, or None when there are
    none - the listener to read through is not up (a node whose restart brings its TLS listener, or a node
    that is down), and there is nothing to wait for through it.
    """
    chosen = dict(bootstrap_servers=list(params["bootstrap_servers"]),
                  security_protocol=str(params.get("security_protocol") or "SSL").upper(),
                  ca_path=params.get("ca_path"), cert_path=params.get("cert_path"), key_path=params.get("key_path"))
    if not params.get("tls_check_first") or chosen["security_protocol"] != "SSL" or not chosen["bootstrap_servers"]:
        return chosen
    host, _sep, port = str(chosen["bootstrap_servers"][0]).strip().rpartition(":")
    if port.isdigit() and tls_answers(host.strip("[]"), int(port)):
        return chosen
    fallback = [str(server).strip() for server in params.get("plaintext_bootstrap_servers") or []]
    if not fallback:
        return None
    return dict(bootstrap_servers=fallback, security_protocol="PLAINTEXT", ca_path=None, cert_path=None, key_path=None)


class ClusterReader:
    """One AdminClient reused across polls; topics' min.insync.replicas read once per topic."""

    def __init__(self, request: ClusterRequest) -> None:
        request.validate()
        self.request = request
        self.errors: List[str] = []
        logger = logging.getLogger("kafkasec.cluster.%d" % id(self))
        logger.propagate = False
        logger.setLevel(logging.ERROR)
        config: Dict[str, Any] = {
            "bootstrap.servers": ",".join(request.bootstrap_servers),
            "security.protocol": request.security_protocol,
            "client.id": request.client_id,
            "socket.connection.setup.timeout.ms": int(request.request_timeout * 1000),
            "error_cb": lambda err: self._error(str(err.str() if hasattr(err, "str") else err)),
            "logger": logger,
        }
        if request.security_protocol == "SSL":
            config.update({
                "ssl.ca.location": request.ca_path,
                "ssl.certificate.location": request.cert_path,
                "ssl.key.location": request.key_path,
                "ssl.endpoint.identification.algorithm": "https",
            })
            if request.key_passphrase:
                config["ssl.key.password"] = request.key_passphrase
        self.admin = AdminClient(config)
        self.min_isr: Dict[str, int] = {}

    def _error(self, line: str) -> None:
        if line not in self.errors:
            self.errors = (self.errors + [line])[-5:]

    def failure(self, what: str, exc: Exception) -> HealthError:
        err = exc.args[0] if exc.args else exc
        detail = err.str() if hasattr(err, "str") else str(err)
        log = "; ".join(self.errors[-3:])
        return HealthError("%s from %s: %s%s" % (what, ",".join(self.request.bootstrap_servers), detail,
                                                 (" (client log: %s)" % log) if log else ""))

    def snapshot(self) -> ClusterSnapshot:
        timeout = self.request.request_timeout
        try:
            metadata = self.admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise self.failure("cannot read the cluster metadata", exc) from None
        snap = ClusterSnapshot(brokers={b.id: "%s:%d" % (b.host, b.port) for b in metadata.brokers.values()},
                               controller_id=metadata.controller_id, cluster_id=metadata.cluster_id)
        try:
            described = self.admin.describe_cluster(request_timeout=timeout).result(timeout=timeout + 1)
            snap.controller_id = described.controller.id if described.controller is not None else None
            snap.cluster_id = described.cluster_id or snap.cluster_id
        except Exception as exc:  # pylint: disable=broad-except  # metadata still answers; keep its controller id
            self._error("describe_cluster: %s" % exc)
        topics = [t for t in metadata.topics.values() if t.error is None]
        unknown = [t.topic for t in topics if t.topic not in self.min_isr]
        if unknown:
            self._read_min_isr(unknown, timeout)
        for t in topics:
            for p in t.partitions.values():
                snap.partitions.append(PartitionState(t.topic, p.id, p.leader, tuple(p.replicas), tuple(p.isrs),
                                                      self.min_isr.get(t.topic, 1)))
        snap.partitions.sort(key=lambda p: (p.topic, p.partition))
        return snap

    def _read_min_isr(self, topics: List[str], timeout: float) -> None:
        futures = self.admin.describe_configs([ConfigResource("topic", t) for t in topics], request_timeout=timeout)
        for resource, future in futures.items():
            try:
                entry = future.result(timeout=timeout + 1).get("min.insync.replicas")
                self.min_isr[resource.name] = int(entry.value) if entry is not None and entry.value else 1
            except Exception as exc:  # pylint: disable=broad-except  # retried on the next poll
                raise self.failure("cannot read min.insync.replicas of topic %s" % resource.name, exc) from None


def check(request: ClusterRequest, gates: Sequence[str] = (), expected_brokers: Sequence[int] = (),
          timeout: float = 300.0, interval: float = 1.0, restarting_brokers: Sequence[int] = ()) -> HealthOutcome:
    reader = ClusterReader(request)
    return wait(reader.snapshot, gates, expected_brokers, timeout, interval, restarting_brokers=restarting_brokers)


def reload_listener_stores(request: ClusterRequest, node_id: int, listener: str, keystore_path: Optional[str],
                           truststore_path: Optional[str]) -> List[str]:
    """Make broker `node_id` reload the stores of `listener` without a restart; returns the keys set.

    Setting ``listener.name.<listener>.ssl.keystore.location`` (and the truststore's) to the file's
    path as a per-broker dynamic config makes the broker reload it (KIP-226; the same path works as
    long as the file is newer, which an atomic rename makes it); the store passwords stay the static
    ones of server.properties. Kafka checks that a new keystore keeps the certificate's subject and
    SANs, so a renewal passes and a certificate for another name is refused. `listener` may be a
    combined node's controller listener (Kafka 4.3.1 reloads it too); a controller-only node is not
    reachable through a broker listener (KAFKA-20583).
    """
    prefix = "listener.name.%s." % listener.lower()
    entries = []
    if keystore_path:
        entries.append((prefix + "ssl.keystore.location", keystore_path))
    if truststore_path:
        entries.append((prefix + "ssl.truststore.location", truststore_path))
    if not entries:
        return []
    reader = ClusterReader(request)
    resource = ConfigResource("broker", str(node_id), incremental_configs=[
        ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET) for name, value in entries])
    timeout = request.request_timeout
    try:
        for future in reader.admin.incremental_alter_configs([resource], request_timeout=timeout).values():
            future.result(timeout=timeout + 5)
    except Exception as exc:  # pylint: disable=broad-except  # KafkaException or a timeout: say which broker refused
        raise reader.failure("broker %d refused to reload the %s stores" % (node_id, listener), exc) from None
    return [name for name, _value in entries]


def wait_until_served(host: str, port: int, expected_der: bytes, timeout: float,
                      fetch: Callable[[str, int], Optional[bytes]], interval: float = 0.5,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> float:
    """Wait until the listener at host:port presents `expected_der`; returns the seconds waited.

    The admin request returns once the controller has committed the config record; each node applies
    it when it replays the metadata log, a moment later (seen on a loaded lab: the answer came before
    the listener served the new certificate). So a reload is done when the listener says so.
    `fetch(host, port)` returns the DER certificate served there, or None when no handshake completes.
    """
    start = clock()
    seen: Optional[bytes] = None
    while True:
        seen = fetch(host, port)
        if seen == expected_der:
            return clock() - start
        if clock() - start >= timeout:
            what = "no TLS handshake completed" if seen is None else "it still presents another certificate"
            raise HealthError("%s:%d did not present the reloaded certificate within %gs: %s" % (
                host, port, timeout, what))
        sleep(interval)
