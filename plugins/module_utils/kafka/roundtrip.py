# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A produce/consume round trip through Kafka over TLS with a client certificate.

Plain, typed Python with no Ansible imports. The client is confluent-kafka
(librdkafka) with host name verification on
(`ssl.endpoint.identification.algorithm=https`). librdkafka checks DNS names
only, not IP SANs, so the bootstrap servers (and the brokers' advertised
listeners) must be host names.

One run: read the cluster metadata, create the topic when it is missing (one
partition per broker, replication factor min(3, brokers)), produce N messages
tagged with a fresh run id, spread over every partition so that every
partition leader takes writes, and read exactly those messages back from the
offsets the producer got, without joining a consumer group. Every step shares
one deadline (`timeout`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    CONFLUENT_KAFKA_IMPORT_ERROR: Optional[str] = None
except ImportError:  # pragma: no cover - exercised on controllers without the library
    CONFLUENT_KAFKA_IMPORT_ERROR = traceback.format_exc()

MAX_MESSAGES = 100000
MAX_ERRORS = 20
RUN_HEADER = "kafkasec-verify-run"
# Timing details that make otherwise equal librdkafka log lines differ.
_NOISE = re.compile(r" \(after \d+ms in state [A-Z_]+\)|\s*\(\d+ms since last [^)]*\)")
# Failures that do not go away by retrying: TLS handshakes, certificates, authentication.
_FATAL = re.compile(r"SSL handshake failed|alert|certificate verify failed|Authentication|SASL", re.IGNORECASE)


class RoundtripError(Exception):
    """The round trip could not be run or did not complete; the message says where it stopped.

    `outcome` holds what was measured up to there (None for bad input).
    """

    def __init__(self, message: str, outcome: Optional["RoundtripOutcome"] = None) -> None:
        super().__init__(message)
        self.outcome = outcome


def confluent_kafka_problem() -> Optional[str]:
    """None when confluent-kafka is importable, else the import traceback."""
    return CONFLUENT_KAFKA_IMPORT_ERROR


@dataclass(frozen=True)
class RoundtripRequest:
    bootstrap_servers: Tuple[str, ...]
    topic: str
    ca_path: str
    cert_path: str
    key_path: str
    key_passphrase: Optional[str] = None
    messages: int = 10
    create_topic: bool = True
    partitions: Optional[int] = None
    replication_factor: Optional[int] = None
    timeout: float = 60.0
    client_id: str = "kafkasec-verify"
    group_id: str = "kafkasec-verify"
    check_mode: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], check_mode: bool = False) -> "RoundtripRequest":
        return cls(
            bootstrap_servers=tuple(str(s).strip() for s in params["bootstrap_servers"]),
            topic=params["topic"],
            ca_path=params["ca_path"],
            cert_path=params["cert_path"],
            key_path=params["key_path"],
            key_passphrase=params.get("key_passphrase") or None,
            messages=int(params.get("messages") or 10),
            create_topic=bool(params.get("create_topic", True)),
            partitions=params.get("partitions"),
            replication_factor=params.get("replication_factor"),
            timeout=float(params.get("timeout") or 60),
            client_id=params.get("client_id") or "kafkasec-verify",
            group_id=params.get("group_id") or "kafkasec-verify",
            check_mode=check_mode,
        )

    def validate(self) -> None:
        if not self.bootstrap_servers:
            raise RoundtripError("bootstrap_servers is empty")
        for server in self.bootstrap_servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise RoundtripError("bootstrap_servers: %r is not host:port" % server)
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                continue
            raise RoundtripError(
                "bootstrap_servers: %r is an IP address; confluent-kafka (librdkafka) verifies the broker's "
                "host name against DNS SANs only, not IP SANs, so connect by host name" % server)
        if not self.topic or len(self.topic) > 249 or not all(c.isalnum() or c in "._-" for c in self.topic):
            raise RoundtripError("topic %r is not a valid Kafka topic name (letters, digits, '.', '_', '-')" % self.topic)
        if not 0 < self.messages <= MAX_MESSAGES:
            raise RoundtripError("messages must be between 1 and %d, got %d" % (MAX_MESSAGES, self.messages))
        if self.timeout <= 0:
            raise RoundtripError("timeout must be positive, got %s" % self.timeout)
        if self.partitions is not None and self.partitions < 1:
            raise RoundtripError("partitions must be at least 1, got %d" % self.partitions)
        if self.replication_factor is not None and self.replication_factor < 1:
            raise RoundtripError("replication_factor must be at least 1, got %d" % self.replication_factor)
        for option in ("ca_path", "cert_path", "key_path"):
            path = getattr(self, option)
            if not os.path.isfile(path):
                raise RoundtripError("%s %s does not exist or is not a file" % (option, path))
            if not os.access(path, os.R_OK):
                raise RoundtripError("%s %s is not readable by this user" % (option, path))


class _Collector(logging.Handler):
    """librdkafka's log lines and error callbacks, kept for the failure message."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: List[str] = []
        self.clients: List[Any] = []  # polled before reporting, so queued log lines and errors arrive
        self.fatal = False  # a TLS or authentication failure: retrying until the deadline cannot help

    def serve(self) -> None:
        for client in self.clients:
            try:
                client.poll(0)
            except (RuntimeError, KafkaException):  # a closed consumer
                pass

    def add(self, line: str) -> None:
        line = _NOISE.sub("", line)
        if _FATAL.search(line):
            self.fatal = True
        if line not in self.lines and len(self.lines) < MAX_ERRORS:
            self.lines.append(line)

    def emit(self, record: logging.LogRecord) -> None:
        self.add(record.getMessage())

    def error_cb(self, err: Any) -> None:
        self.add(str(err.str() if hasattr(err, "str") else err))


@dataclass
class RoundtripOutcome:
    run_id: str
    topic: str
    topic_created: bool = False
    performed: bool = True
    brokers: List[str] = field(default_factory=list)
    partitions: int = 0
    replication_factor: int = 0
    produced: int = 0
    consumed: int = 0
    missing: List[int] = field(default_factory=list)
    produce_latency_ms: Dict[str, float] = field(default_factory=dict)
    end_to_end_latency_ms: Dict[str, float] = field(default_factory=dict)
    duration_ms: float = 0.0
    client_log: List[str] = field(default_factory=list)
    wanted: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.performed or (self.produced == self.wanted and self.consumed == self.wanted)

    @property
    def changed(self) -> bool:
        return self.topic_created

    @property
    def result(self) -> Dict[str, Any]:
        return dict(
            ok=self.ok, run_id=self.run_id, topic=self.topic, topic_created=self.topic_created,
            performed=self.performed, brokers=self.brokers, partitions=self.partitions,
            replication_factor=self.replication_factor, messages=self.wanted, produced=self.produced,
            consumed=self.consumed, missing=self.missing, produce_latency_ms=self.produce_latency_ms,
            end_to_end_latency_ms=self.end_to_end_latency_ms, duration_ms=self.duration_ms,
            client_log=self.client_log, summary=self.message)


def _stats(values: List[float]) -> Dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return dict(min=round(ordered[0], 1), avg=round(sum(ordered) / len(ordered), 1),
                p50=round(ordered[len(ordered) // 2], 1), max=round(ordered[-1], 1))


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, cap: Optional[float] = None) -> float:
        remaining = max(0.0, self.end - time.monotonic())
        return remaining if cap is None else min(cap, remaining)

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.end


def client_config(request: RoundtripRequest, collector: _Collector, logger: logging.Logger) -> Dict[str, Any]:
    """librdkafka settings shared by the admin client, the producer and the consumer."""
    config: Dict[str, Any] = {
        "bootstrap.servers": ",".join(request.bootstrap_servers),
        "security.protocol": "SSL",
        "ssl.ca.location": request.ca_path,
        "ssl.certificate.location": request.cert_path,
        "ssl.key.location": request.key_path,
        "ssl.endpoint.identification.algorithm": "https",
        "client.id": request.client_id,
        "socket.timeout.ms": int(max(1000, min(request.timeout, 30) * 1000)),
        "socket.connection.setup.timeout.ms": int(max(1000, min(request.timeout, 30) * 1000)),
        "error_cb": collector.error_cb,
        "logger": logger,
    }
    if request.key_passphrase:
        config["ssl.key.password"] = request.key_passphrase
    return config


def _fail(outcome: RoundtripOutcome, collector: _Collector, what: str) -> RoundtripError:
    collector.serve()
    outcome.client_log = list(collector.lines)
    detail = "; ".join(collector.lines[:5])
    outcome.message = "%s%s" % (what, (" (client log: %s)" % detail) if detail else "")
    return RoundtripError(outcome.message, outcome)


def roundtrip(request: RoundtripRequest) -> RoundtripOutcome:
    """Run the round trip; raise RoundtripError (with the client's own errors) when a step fails."""
    request.validate()
    started = time.monotonic()
    deadline = _Deadline(request.timeout)
    outcome = RoundtripOutcome(run_id=uuid.uuid4().hex, topic=request.topic, wanted=request.messages)
    collector = _Collector()
    logger = logging.getLogger("kafkasec.roundtrip.%s" % outcome.run_id)
    logger.propagate = False
    logger.addHandler(collector)
    try:
        config = client_config(request, collector, logger)
        admin = AdminClient(dict(config))
        collector.clients.append(admin)
        metadata = _metadata(admin, request, deadline, outcome, collector)
        outcome.brokers = sorted("%d %s:%d" % (b.id, b.host, b.port) for b in metadata.brokers.values())
        broker_count = len(metadata.brokers)
        topic_md = metadata.topics.get(request.topic)
        exists = topic_md is not None and topic_md.error is None
        if not exists:
            if not request.create_topic:
                raise _fail(outcome, collector, "topic %s does not exist and create_topic is false" % request.topic)
            outcome.partitions = request.partitions or broker_count
            outcome.replication_factor = request.replication_factor or min(3, broker_count)
            outcome.topic_created = True
            if request.check_mode:
                outcome.performed = False
                outcome.message = "check mode: topic %s would be created (%d partition(s), replication factor %d); " \
                                  "no round trip" % (request.topic, outcome.partitions, outcome.replication_factor)
                return outcome
            _create_topic(admin, request, deadline, outcome, collector)
        partitions = _wait_for_leaders(admin, request, deadline, outcome, collector)
        outcome.partitions = len(partitions)
        if not outcome.replication_factor:
            topic_md = admin.list_topics(topic=request.topic, timeout=deadline.left(10) or 0.1).topics[request.topic]
            outcome.replication_factor = max(len(p.replicas) for p in topic_md.partitions.values())
        sent = _produce(config, request, deadline, outcome, collector, partitions)
        _consume(config, request, deadline, outcome, collector, sent)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        raise _fail(outcome, collector, "Kafka client error: %s" % (
            error.str() if hasattr(error, "str") else exc)) from None
    finally:
        logger.removeHandler(collector)
        outcome.duration_ms = round((time.monotonic() - started) * 1000, 1)
    outcome.client_log = list(collector.lines)
    outcome.message = "%d of %d messages produced and %d consumed back through topic %s (%d partition(s), %d broker(s)) " \
                      "in %.0f ms" % (outcome.produced, request.messages, outcome.consumed, request.topic,
                                      outcome.partitions, len(outcome.brokers), outcome.duration_ms)
    if not outcome.ok:
        raise _fail(outcome, collector, outcome.message + ("; missing sequence numbers %s" % outcome.missing[:20]))
    return outcome


def _metadata(admin: Any, request: RoundtripRequest, deadline: _Deadline, outcome: RoundtripOutcome,
              collector: _Collector) -> Any:
    # In short slices, so a TLS failure (which retrying cannot fix) ends the wait early.
    while True:
        try:
            metadata = admin.list_topics(timeout=deadline.left(2) or 0.1)
            break
        except KafkaException as exc:
            collector.serve()
            if collector.fatal or deadline.passed:
                raise _fail(outcome, collector, "cannot read the cluster metadata from %s: %s" % (
                    ",".join(request.bootstrap_servers), exc.args[0].str() if exc.args else exc)) from None
    if not metadata.brokers:
        raise _fail(outcome, collector, "the cluster metadata from %s lists no broker" % ",".join(request.bootstrap_servers))
    return metadata


def _create_topic(admin: Any, request: RoundtripRequest, deadline: _Deadline, outcome: RoundtripOutcome,
                  collector: _Collector) -> None:
    new_topic = NewTopic(request.topic, num_partitions=outcome.partitions, replication_factor=outcome.replication_factor)
    futures = admin.create_topics([new_topic], request_timeout=deadline.left(30) or 0.1)
    try:
        futures[request.topic].result(timeout=deadline.left() or 0.1)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if error is not None and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            outcome.topic_created = False  # created by someone else meanwhile
            return
        raise _fail(outcome, collector, "cannot create topic %s (%d partitions, replication factor %d): %s" % (
            request.topic, outcome.partitions, outcome.replication_factor,
            error.str() if error is not None else exc)) from None
    except Exception as exc:  # concurrent.futures.TimeoutError and friends
        raise _fail(outcome, collector, "creating topic %s did not finish within the timeout (%s)" % (
            request.topic, type(exc).__name__)) from None


def _wait_for_leaders(admin: Any, request: RoundtripRequest, deadline: _Deadline, outcome: RoundtripOutcome,
                      collector: _Collector) -> List[int]:
    """The topic's partition ids, once every partition has a leader."""
    last = "no metadata"
    while True:
        try:
            topic_md = admin.list_topics(topic=request.topic, timeout=deadline.left(10) or 0.1).topics.get(request.topic)
        except KafkaException as exc:
            topic_md, last = None, str(exc)
        if topic_md is not None and topic_md.error is None and topic_md.partitions:
            leaderless = [p.id for p in topic_md.partitions.values() if p.leader < 0]
            if not leaderless:
                return sorted(topic_md.partitions)
            last = "partitions without a leader: %s" % leaderless
        elif topic_md is not None and topic_md.error is not None:
            last = topic_md.error.str()
        if deadline.passed:
            raise _fail(outcome, collector, "topic %s is not ready within the timeout (%s)" % (request.topic, last))
        time.sleep(min(0.2, deadline.left()))


def _produce(config: Dict[str, Any], request: RoundtripRequest, deadline: _Deadline, outcome: RoundtripOutcome,
             collector: _Collector, partitions: List[int]) -> Dict[int, Tuple[int, int, float]]:
    """Produce the messages; returns seq -> (partition, offset, produce time)."""
    producer = Producer(dict(config, **{
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": int(max(1000, deadline.left() * 1000)),
    }))
    collector.clients.append(producer)
    sent: Dict[int, Tuple[int, int, float]] = {}
    latencies: List[float] = []
    errors: List[str] = []

    def delivered(err: Any, msg: Any, seq: int, at: float) -> None:
        if err is not None:
            if len(errors) < MAX_ERRORS:
                errors.append("message %d: %s" % (seq, err.str()))
            return
        now = time.monotonic()
        latencies.append((now - at) * 1000)
        sent[seq] = (msg.partition(), msg.offset(), at)

    for seq in range(request.messages):
        at = time.monotonic()
        value = json.dumps({"run": outcome.run_id, "seq": seq, "sent": time.time()}).encode("utf-8")
        while True:
            try:
                producer.produce(request.topic, key=outcome.run_id.encode("ascii"), value=value,
                                 partition=partitions[seq % len(partitions)], headers=[(RUN_HEADER, outcome.run_id.encode())],
                                 on_delivery=lambda err, msg, seq=seq, at=at: delivered(err, msg, seq, at))
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: serve delivery reports, then retry
                if deadline.passed:
                    break
        producer.poll(0)
    remaining = producer.flush(deadline.left() or 0.1)
    if remaining:
        producer.purge()
        producer.flush(0)
    outcome.produced = len(sent)
    outcome.produce_latency_ms = _stats(latencies)
    for line in errors:
        collector.add(line)
    if outcome.produced != request.messages:
        outcome.missing = sorted(set(range(request.messages)) - set(sent))
        raise _fail(outcome, collector, "only %d of %d messages were acknowledged by topic %s within the timeout" % (
            outcome.produced, request.messages, request.topic))
    return sent


def _consume(config: Dict[str, Any], request: RoundtripRequest, deadline: _Deadline, outcome: RoundtripOutcome,
             collector: _Collector, sent: Dict[int, Tuple[int, int, float]]) -> None:
    """Read the run's messages back from the offsets the producer got; no group join, no commit."""
    start: Dict[int, int] = {}
    for partition, offset, _at in sent.values():
        start[partition] = min(offset, start.get(partition, offset))
    consumer = Consumer(dict(config, **{
        "group.id": request.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
    }))
    seen: Dict[int, float] = {}
    try:
        consumer.assign([TopicPartition(request.topic, p, o) for p, o in sorted(start.items())])
        while len(seen) < len(sent) and not deadline.passed:
            msg = consumer.poll(deadline.left(0.5) or 0.01)
            if msg is None:
                continue
            if msg.error() is not None:
                collector.add("consume: %s" % msg.error().str())
                continue
            if msg.key() != outcome.run_id.encode("ascii"):
                continue
            try:
                seq = int(json.loads(msg.value().decode("utf-8"))["seq"])
            except (ValueError, KeyError, TypeError):
                continue
            if seq in sent and seq not in seen:
                seen[seq] = (time.monotonic() - sent[seq][2]) * 1000
    finally:
        consumer.close()
    outcome.consumed = len(seen)
    outcome.end_to_end_latency_ms = _stats(list(seen.values()))
    outcome.missing = sorted(set(sent) - set(seen))
