#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Continuous produce/consume load that proves a rolling change lost nothing.

Molecule scenarios and lab tests run this while brokers are restarted one by one
(for example while the collection switches listeners to TLS). It produces a
numbered stream of messages at a steady rate with an idempotent ``acks=all``
producer (one request in flight per connection: see the producer's settings for
why), reads the topic back concurrently with its own consumer, and at the
end writes a JSON report that says whether every acknowledged message was read
back exactly once.

Three sub-commands (run it with the project venv: ``.venv/bin/python tests/loadgen.py``)::

    loadgen.py run   --bootstrap H:P[,H:P] --topic T --report OUT.json
                     [--stop-file PATH] [--max-seconds 900] [--rate 200]
                     [--ca PEM [--cert PEM --key PEM]]
                     [--create-topic [--partitions 6] [--replication-factor 3]
                                     [--min-insync-replicas 2]]
                     [--drain-seconds 120]
    loadgen.py start ...the same options as run...
    loadgen.py stop  --report OUT.json [--timeout 300]

``run`` works in the foreground: it produces until ``--stop-file`` appears (a
stale one is deleted when the run starts), ``--max-seconds`` pass or it gets
SIGTERM/SIGINT; then it flushes the producer (bounded by the delivery timeout),
keeps consuming until every acknowledged message was read back or
``--drain-seconds`` pass, writes the report atomically and prints one summary
line. Exit status: 0 if the report is ok, 1 if not, 2 on usage or connection
errors (a report with an ``error`` field is still written when possible).

``start`` runs ``run`` detached (its own session; output in ``OUT.json.log``,
pid in ``OUT.json.pid``, its state in ``OUT.json.start.json``) and returns once
the producer has its first acknowledgement (exit 0), or exits 2 after 60 s
without one. Unless ``--stop-file`` is given, the stop file is ``OUT.json.stop``.
``stop`` creates that stop file, waits for the run to end (``--timeout``; then
SIGTERM, then SIGKILL, all bounded), prints the summary and exits 0 if the report
says ok, 1 if not, 2 if there is no report or the run ended on an error.

A typical rolling-restart check::

    .venv/bin/python tests/loadgen.py start --bootstrap kafka-1.lab.test:9092 \\
        --topic loadgen --create-topic --report /tmp/load.json
    ... restart the brokers one by one ...
    .venv/bin/python tests/loadgen.py stop --report /tmp/load.json

Without ``--ca`` the clients use PLAINTEXT. With it they use SSL with
``ssl.ca.location`` and hostname verification (``https``); ``--cert``/``--key``
add a client certificate for listeners that require one.

Report fields: ``ok`` is ``sent > 0 and sent == acked and failed == 0 and lost ==
0 and duplicates == 0``. ``duplicates`` counts extra *copies in the log* (one
sequence number at several partition/offset positions: a real duplicate write);
a consumer that re-reads the same offset after a rebalance is counted separately
as ``consumer_redeliveries`` and does not fail the run. ``longest_stall_s`` is
the longest period of the production phase without a delivery acknowledgement
(measured from the start of production, between consecutive acks, and up to the
end of production), with ``longest_stall_at_s`` its start, relative to the start
of production.

The logic that turns what was recorded into a report (``LoadRecord``,
``build_report``, ``longest_stall``, ``percentile``), the message format and the
argument validation are pure and tested without Kafka in
``tests/unit/test_loadgen.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

EXIT_OK = 0
EXIT_NOT_OK = 1
EXIT_ERROR = 2

# The producer may keep retrying a message this long; only then is a send a failure.
DELIVERY_TIMEOUT_S = 300
# Flushing waits for every message to be acknowledged or failed, so it needs the whole
# delivery timeout plus a margin for the last callbacks to be served.
FLUSH_BOUND_S = DELIVERY_TIMEOUT_S + 15
START_READY_TIMEOUT_S = 60
# Bounds of the set-up steps, so a dead cluster ends the run with exit 2 instead of a hang.
METADATA_TIMEOUT_S = 30
LEADERS_TIMEOUT_S = 60
CONSUMER_JOIN_TIMEOUT_S = 30
PROGRESS_EVERY_S = 10.0
STALL_LIST_THRESHOLD_S = 1.0

MAX_FAILED_ERRORS = 20
MAX_LOST_SEQS = 50
MAX_DUPLICATE_SEQS = 50
MAX_CLIENT_ERRORS = 20
MAX_LISTED_STALLS = 20

VALUE_PREFIX = "loadgen/1"


class UsageError(Exception):
    """Bad command-line input: exit status 2."""


class ConnectionFailure(Exception):
    """The cluster could not be reached or the topic could not be prepared: exit status 2."""


# --------------------------------------------------------------------------------------
# Message format
# --------------------------------------------------------------------------------------


def encode_value(run_id: str, seq: int) -> bytes:
    """The message value: a format tag, the run id and the sequence number."""
    return ("%s %s %d" % (VALUE_PREFIX, run_id, seq)).encode("ascii")


def decode_value(value: Optional[bytes]) -> Optional[Tuple[str, int]]:
    """(run_id, seq) of a loadgen message, or None for anything else on the topic."""
    if not value:
        return None
    try:
        prefix, run_id, seq_text = value.decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        return None
    if prefix != VALUE_PREFIX or not seq_text.isdigit():
        return None
    return run_id, int(seq_text)


# --------------------------------------------------------------------------------------
# What a run records, and the report computed from it (pure)
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class LoadRecord:
    """Everything observed during one run. Times are seconds since production started.

    Producer-side fields are written by the thread that polls the producer (delivery
    callbacks run inside ``poll``/``flush``); consumer-side fields by the consumer thread.
    ``lock`` guards the consumer-side fields, which the main thread reads while draining.
    """

    run_id: str
    sent: int = 0
    send_times: List[float] = dataclasses.field(default_factory=list)
    ack_times: Dict[int, float] = dataclasses.field(default_factory=dict)
    failures: Dict[int, str] = dataclasses.field(default_factory=dict)
    # seq -> distinct (partition, offset) positions it was read at
    positions_by_seq: Dict[int, Set[Tuple[int, int]]] = dataclasses.field(default_factory=dict)
    consumed_total: int = 0
    client_errors: List[str] = dataclasses.field(default_factory=list)
    client_error_count: int = 0
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def record_send(self, seq: int, at: float) -> None:
        # Sequence numbers are handed out densely, so the list index is the seq.
        if seq != len(self.send_times):
            raise ValueError("sends must be recorded in sequence order: expected %d, got %d" % (len(self.send_times), seq))
        self.send_times.append(at)
        self.sent = len(self.send_times)

    def record_delivery(self, seq: int, at: float, error: Optional[str]) -> None:
        if error is None:
            self.ack_times[seq] = at
        else:
            self.failures[seq] = error

    def record_consumed(self, seq: int, partition: int, offset: int) -> None:
        with self.lock:
            self.consumed_total += 1
            self.positions_by_seq.setdefault(seq, set()).add((partition, offset))

    def record_client_error(self, text: str) -> None:
        # Transport errors are expected while a broker restarts; keep a bounded sample.
        # Both threads report errors, hence the lock.
        with self.lock:
            self.client_error_count += 1
            if len(self.client_errors) < MAX_CLIENT_ERRORS:
                self.client_errors.append(text)

    def unseen_acked(self) -> int:
        """How many acknowledged messages the consumer has not read yet."""
        with self.lock:
            return sum(1 for seq in self.ack_times if seq not in self.positions_by_seq)


def percentile(values: Sequence[float], fraction: float) -> Optional[float]:
    """Nearest-rank percentile (``fraction`` in 0..1) of ``values``; None when empty."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within 0..1, got %r" % fraction)
    if not values:
        return None
    ordered = sorted(values)
    # Round before ceil: 0.99 * 100 is 99.00000000000001 in floating point, and its rank is 99.
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def ack_stalls(ack_times: Sequence[float], producing_ended_at: float) -> List[Tuple[float, float]]:
    """Every period of the production phase without an ack, as (started_at, length).

    The gaps run from the start of production (0) to the first ack, between
    consecutive acks, and from the last ack to the end of production. A gap that
    starts during production but ends after it (the flush served the ack) is kept
    whole, because the stall began while messages were still being produced.
    """
    stalls: List[Tuple[float, float]] = []
    previous = 0.0
    for at in sorted(ack_times):
        if previous >= producing_ended_at:
            return stalls
        stalls.append((previous, max(0.0, at - previous)))
        previous = at
    if previous < producing_ended_at:
        stalls.append((previous, producing_ended_at - previous))
    return stalls


def longest_stall(ack_times: Sequence[float], producing_ended_at: float) -> Tuple[float, Optional[float]]:
    """(length, started_at) of the longest period without an ack while producing."""
    stalls = ack_stalls(ack_times, producing_ended_at)
    if not stalls:
        return 0.0, None
    started_at, length = max(stalls, key=lambda stall: (stall[1], -stall[0]))
    return length, started_at


@dataclasses.dataclass
class RunInfo:
    """The parts of the report that do not come from the recorded messages."""

    bootstrap: str
    topic: str
    security: Dict[str, Any]
    rate: float
    started: str
    ended: str
    duration_s: float
    producing_s: float
    drain_s: float
    stop_reason: str
    drain_complete: bool
    topic_info: Dict[str, Any] = dataclasses.field(default_factory=dict)
    fatal_error: Optional[str] = None
    error: Optional[str] = None


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds * 1000.0, 1)


def build_report(record: LoadRecord, info: RunInfo) -> Dict[str, Any]:
    """The JSON report of a run, from what was recorded. Pure: no clock, no I/O."""
    with record.lock:
        positions = {seq: set(where) for seq, where in record.positions_by_seq.items()}
        consumed_total = record.consumed_total
        client_errors = list(record.client_errors)
        client_error_count = record.client_error_count
    # Only sequence numbers this run handed out count; anything else would be a bug in the
    # value format, and is reported rather than silently trusted.
    foreign = sorted(seq for seq in positions if not 0 <= seq < record.sent)
    own = {seq: where for seq, where in positions.items() if 0 <= seq < record.sent}

    acked_seqs = sorted(record.ack_times)
    lost_seqs = [seq for seq in acked_seqs if seq not in own]
    duplicate_seqs = sorted(seq for seq, where in own.items() if len(where) > 1)
    duplicates = sum(len(own[seq]) - 1 for seq in duplicate_seqs)
    distinct_reads = sum(len(where) for where in own.values()) + sum(len(positions[seq]) for seq in foreign)
    consumer_redeliveries = consumed_total - distinct_reads

    latencies = [record.ack_times[seq] - record.send_times[seq] for seq in acked_seqs if seq < len(record.send_times)]
    stalls = ack_stalls(list(record.ack_times.values()), info.producing_s)
    stall_length, stall_at = longest_stall(list(record.ack_times.values()), info.producing_s)

    sent = record.sent
    acked = len(record.ack_times)
    failed = len(record.failures)
    ok = (
        info.error is None
        and sent > 0  # a run that produced nothing proves nothing
        and sent == acked
        and failed == 0
        and not lost_seqs
        and duplicates == 0
    )
    return {
        "ok": ok,
        "run_id": record.run_id,
        "bootstrap": info.bootstrap,
        "topic": info.topic,
        "topic_info": info.topic_info,
        "security": info.security,
        "rate_per_s": info.rate,
        "started": info.started,
        "ended": info.ended,
        "duration_s": round(info.duration_s, 3),
        "producing_s": round(info.producing_s, 3),
        "drain_s": round(info.drain_s, 3),
        "stop_reason": info.stop_reason,
        "drain_complete": info.drain_complete,
        "sent": sent,
        "acked": acked,
        "failed": failed,
        "failed_errors": [record.failures[seq] for seq in sorted(record.failures)[:MAX_FAILED_ERRORS]],
        "not_acked_count": sent - acked,
        # neither acknowledged nor failed when the flush bound ran out
        "unresolved_count": sent - acked - failed,
        "consumed_unique": len(own),
        "consumed_total": consumed_total,
        "duplicates": duplicates,
        "duplicate_seqs": duplicate_seqs[:MAX_DUPLICATE_SEQS],
        # Where each listed duplicate sits and when it was sent and acked: two offsets of one partition close
        # together point at a producer retry the broker did not recognise; the times place it in the operation.
        "duplicate_details": [
            {"seq": seq, "positions": sorted([list(where) for where in own[seq]]),
             "sent_at_s": round(record.send_times[seq], 3) if seq < len(record.send_times) else None,
             "acked_at_s": round(record.ack_times[seq], 3) if seq in record.ack_times else None}
            for seq in duplicate_seqs[:MAX_DUPLICATE_SEQS]],
        "consumer_redeliveries": consumer_redeliveries,
        "lost": len(lost_seqs),
        "lost_seqs": lost_seqs[:MAX_LOST_SEQS],
        "consumed_not_acked": sum(1 for seq in own if seq not in record.ack_times),
        "foreign_seqs": foreign[:MAX_LOST_SEQS],
        "longest_stall_s": round(stall_length, 3),
        "longest_stall_at_s": None if stall_at is None else round(stall_at, 3),
        "stalls_over_1s": [
            {"at_s": round(at, 3), "length_s": round(length, 3)}
            for at, length in sorted(stalls, key=lambda s: s[1], reverse=True)[:MAX_LISTED_STALLS]
            if length > STALL_LIST_THRESHOLD_S
        ],
        "ack_latency_ms": {
            "p50": _ms(percentile(latencies, 0.50)),
            "p99": _ms(percentile(latencies, 0.99)),
            "max": _ms(max(latencies) if latencies else None),
        },
        "client_error_count": client_error_count,
        "client_errors": client_errors,
        "fatal_error": info.fatal_error,
        "error": info.error,
    }


def summary_line(report: Dict[str, Any], report_path: str) -> str:
    """The one-line summary printed by run and stop."""
    latency = report.get("ack_latency_ms") or {}

    def shown(value: Any, unit: str = "") -> str:
        return "-" if value is None else "%s%s" % (value, unit)

    return (
        "loadgen: %s run=%s sent=%s acked=%s failed=%s consumed=%s lost=%s duplicates=%s "
        "not_acked=%s longest_stall=%s@%s p50=%s p99=%s%s report=%s"
        % (
            "OK" if report.get("ok") else "NOT OK",
            report.get("run_id"),
            report.get("sent"),
            report.get("acked"),
            report.get("failed"),
            report.get("consumed_unique"),
            report.get("lost"),
            report.get("duplicates"),
            report.get("not_acked_count"),
            shown(report.get("longest_stall_s"), "s"),
            shown(report.get("longest_stall_at_s"), "s"),
            shown(latency.get("p50"), "ms"),
            shown(latency.get("p99"), "ms"),
            (" error=%r" % report["error"]) if report.get("error") else "",
            report_path,
        )
    )


def write_json_atomically(path: str, data: Dict[str, Any]) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename,
    so a reader (``stop``, a test) sees the old file or the complete new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------------------
# Command line (pure: parsing and validation)
# --------------------------------------------------------------------------------------


def parse_bootstrap(text: str) -> List[Tuple[str, int]]:
    """``H:P[,H:P]`` (IPv6 as ``[addr]:P``) -> [(host, port)]; UsageError when malformed."""
    servers: List[Tuple[str, int]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise UsageError("--bootstrap: empty entry in %r" % text)
        if item.startswith("["):
            host, sep, rest = item[1:].partition("]")
            if not sep or not rest.startswith(":"):
                raise UsageError("--bootstrap: %r is not [IPv6]:PORT" % item)
            port_text = rest[1:]
        else:
            host, sep, port_text = item.rpartition(":")
            if not sep:
                raise UsageError("--bootstrap: %r has no :PORT" % item)
            if ":" in host:
                raise UsageError("--bootstrap: write an IPv6 address as [addr]:PORT, not %r" % item)
        if not host:
            raise UsageError("--bootstrap: %r has no host" % item)
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise UsageError("--bootstrap: %r: port must be 1..65535" % item)
        servers.append((host, int(port_text)))
    return servers


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", required=True, help="H:P[,H:P] bootstrap servers")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--report", required=True, help="where the JSON report is written (atomically)")
    parser.add_argument("--stop-file", help="stop producing when this file appears (a stale one is deleted at start)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="hard bound on the production phase (default 900)")
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second (default 200)")
    parser.add_argument("--ca", help="CA bundle (PEM): use SSL with hostname verification")
    parser.add_argument("--cert", help="client certificate (PEM), with --key")
    parser.add_argument("--key", help="client private key (PEM, unencrypted), with --cert")
    parser.add_argument("--create-topic", action="store_true", help="create the topic when it is missing")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--replication-factor", type=int, default=3)
    parser.add_argument("--min-insync-replicas", type=int, default=2)
    parser.add_argument("--drain-seconds", type=float, default=120.0, help="how long to wait for the consumer to read every acked message")
    # Internal: `start` asks its detached child to signal the first ack through this file.
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loadgen.py",
        description="Continuous Kafka load that proves zero loss across broker restarts.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run_options(commands.add_parser("run", help="produce and consume in the foreground, then write the report"))
    _add_run_options(commands.add_parser("start", help="run detached; return after the first ack"))
    stop = commands.add_parser("stop", help="stop a started run and print its report summary")
    stop.add_argument("--report", required=True)
    stop.add_argument("--timeout", type=float, default=300.0, help="how long to wait for the run to end (default 300)")
    return parser


def validate_args(args: argparse.Namespace) -> None:
    """Check values argparse cannot; raise UsageError naming the option."""
    if args.command == "stop":
        if not args.timeout > 0:
            raise UsageError("--timeout must be > 0")
        return
    parse_bootstrap(args.bootstrap)
    if not args.topic.strip():
        raise UsageError("--topic must not be empty")
    if not args.rate > 0:
        raise UsageError("--rate must be > 0")
    if not args.max_seconds > 0:
        raise UsageError("--max-seconds must be > 0")
    if not args.drain_seconds >= 0:
        raise UsageError("--drain-seconds must be >= 0")
    if args.partitions < 1:
        raise UsageError("--partitions must be >= 1")
    if args.replication_factor < 1:
        raise UsageError("--replication-factor must be >= 1")
    if not 1 <= args.min_insync_replicas <= args.replication_factor:
        raise UsageError("--min-insync-replicas must be within 1..--replication-factor (%d)" % args.replication_factor)
    if (args.cert is None) != (args.key is None):
        raise UsageError("--cert and --key go together")
    if args.cert is not None and args.ca is None:
        raise UsageError("--cert/--key need --ca (without --ca the clients use PLAINTEXT)")
    for option, path in (("--ca", args.ca), ("--cert", args.cert), ("--key", args.key)):
        if path is not None and not os.path.isfile(path):
            raise UsageError("%s: no such file: %s" % (option, path))
    report_dir = os.path.dirname(os.path.abspath(args.report))
    if not os.path.isdir(report_dir):
        raise UsageError("--report: directory does not exist: %s" % report_dir)


def default_stop_file(report: str) -> str:
    return os.path.abspath(report) + ".stop"


def child_argv(args: argparse.Namespace, script: str, python: str) -> List[str]:
    """The command line `start` uses to run `run` detached, with absolute paths, since
    the child must not depend on how the caller spelled relative paths."""
    argv = [
        python, script, "run",
        "--bootstrap", args.bootstrap,
        "--topic", args.topic,
        "--report", os.path.abspath(args.report),
        "--stop-file", os.path.abspath(args.stop_file) if args.stop_file else default_stop_file(args.report),
        "--ready-file", os.path.abspath(args.report) + ".ready",
        "--max-seconds", repr(args.max_seconds),
        "--rate", repr(args.rate),
        "--drain-seconds", repr(args.drain_seconds),
    ]
    for option, path in (("--ca", args.ca), ("--cert", args.cert), ("--key", args.key)):
        if path is not None:
            argv += [option, os.path.abspath(path)]
    if args.create_topic:
        argv += [
            "--create-topic",
            "--partitions", str(args.partitions),
            "--replication-factor", str(args.replication_factor),
            "--min-insync-replicas", str(args.min_insync_replicas),
        ]
    return argv


def security_settings(args: argparse.Namespace) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """(librdkafka settings, the report's description of them)."""
    if args.ca is None:
        return {"security.protocol": "PLAINTEXT"}, {"protocol": "PLAINTEXT"}
    settings = {
        "security.protocol": "SSL",
        "ssl.ca.location": os.path.abspath(args.ca),
        # librdkafka's default is already https, but the check is the point of the test, so say so.
        "ssl.endpoint.identification.algorithm": "https",
    }
    if args.cert is not None:
        settings["ssl.certificate.location"] = os.path.abspath(args.cert)
        settings["ssl.key.location"] = os.path.abspath(args.key)
    described = {
        "protocol": "SSL",
        "ca": settings["ssl.ca.location"],
        "client_certificate": settings.get("ssl.certificate.location"),
        "hostname_verification": True,
    }
    return settings, described


# --------------------------------------------------------------------------------------
# The run against Kafka
# --------------------------------------------------------------------------------------


def log(message: str) -> None:
    # Detached runs write to OUT.json.log; a timestamp makes it line up with broker logs.
    print("%s loadgen: %s" % (utc_now_iso(), message), flush=True)


class StopRequest:
    """Why production should end: stop file, time bound, signal, or a fatal producer error.

    A second SIGTERM/SIGINT also abandons the flush and drain, so `stop` can escalate
    without losing the report."""

    def __init__(self, stop_file: Optional[str], max_seconds: float) -> None:
        self.stop_file = stop_file
        self.max_seconds = max_seconds
        self.reason: Optional[str] = None
        self.signals = 0
        self._next_file_check = 0.0

    def on_signal(self, signum: int, _frame: Any) -> None:
        self.signals += 1
        if self.reason is None:
            self.reason = "signal %s" % signal.Signals(signum).name

    @property
    def abandon(self) -> bool:
        return self.signals >= 2

    def check(self, elapsed: float) -> Optional[str]:
        if self.reason is None and elapsed >= self.max_seconds:
            self.reason = "max-seconds"
        # One stat a tenth of a second is plenty and keeps the produce loop cheap.
        if self.reason is None and self.stop_file and elapsed >= self._next_file_check:
            self._next_file_check = elapsed + 0.1
            if os.path.exists(self.stop_file):
                self.reason = "stop-file"
        return self.reason


def _wait_for_leaders(admin: Any, topic: str, deadline: float) -> Dict[str, Any]:
    """Poll metadata until every partition of ``topic`` has a leader; return its shape."""
    last_problem = "no metadata"
    while time.monotonic() < deadline:
        try:
            # All topics, not just ours: a metadata request naming a missing topic may
            # auto-create it with broker defaults, which would hide a missing --create-topic.
            metadata = admin.list_topics(timeout=min(10.0, max(1.0, deadline - time.monotonic())))
        except Exception as error:  # KafkaException: the cluster is not reachable (yet)
            last_problem = str(error)
            time.sleep(1.0)
            continue
        described = metadata.topics.get(topic)
        if described is None:
            last_problem = "topic %s does not exist" % topic
        elif described.error is not None:
            last_problem = "topic %s: %s" % (topic, described.error)
        elif not described.partitions:
            last_problem = "topic %s has no partitions yet" % topic
        else:
            leaderless = sorted(p.id for p in described.partitions.values() if p.leader < 0 or p.error is not None)
            if not leaderless:
                return {
                    "partitions": len(described.partitions),
                    "replication_factor": min(len(p.replicas) for p in described.partitions.values()),
                }
            last_problem = "partitions without a leader: %s" % leaderless
        time.sleep(0.5)
    raise ConnectionFailure("topic %s not ready within %ds: %s" % (topic, LEADERS_TIMEOUT_S, last_problem))


def prepare_topic(args: argparse.Namespace, client_settings: Dict[str, str]) -> Dict[str, Any]:
    """Create the topic if asked and missing, wait for leaders, describe it for the report."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    admin = AdminClient(dict(client_settings))
    try:
        metadata = admin.list_topics(timeout=METADATA_TIMEOUT_S)
    except KafkaException as error:
        raise ConnectionFailure("cannot reach %s: %s" % (args.bootstrap, error)) from error
    created = False
    if args.topic not in metadata.topics:
        if not args.create_topic:
            raise ConnectionFailure("topic %s does not exist (add --create-topic)" % args.topic)
        new_topic = NewTopic(
            args.topic,
            num_partitions=args.partitions,
            replication_factor=args.replication_factor,
            config={"min.insync.replicas": str(args.min_insync_replicas)},
        )
        future = admin.create_topics([new_topic], request_timeout=METADATA_TIMEOUT_S)[args.topic]
        try:
            future.result(timeout=METADATA_TIMEOUT_S + 5)
            created = True
        except KafkaException as error:
            # Another run may have created it between our metadata read and the request.
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise ConnectionFailure("cannot create topic %s: %s" % (args.topic, error)) from error
        except Exception as error:  # concurrent.futures.TimeoutError
            raise ConnectionFailure("cannot create topic %s: %r" % (args.topic, error)) from error
    info = _wait_for_leaders(admin, args.topic, time.monotonic() + LEADERS_TIMEOUT_S)
    info["created"] = created
    # min.insync.replicas decides whether acks=all survives a restart; report what the topic has.
    try:
        resource = ConfigResource(ConfigResource.Type.TOPIC, args.topic)
        configs = admin.describe_configs([resource], request_timeout=10)[resource].result(timeout=15)
        info["min_insync_replicas"] = int(configs["min.insync.replicas"].value)
    except Exception as error:  # informational only
        info["min_insync_replicas"] = None
        info["describe_error"] = str(error)
    return info


class ConsumerThread(threading.Thread):
    """Reads the topic from where it ended before production began, and records every
    message of this run with its partition and offset."""

    def __init__(self, settings: Dict[str, Any], topic: str, record: LoadRecord) -> None:
        super().__init__(name="loadgen-consumer", daemon=True)  # daemon: a hung close cannot keep the run alive
        from confluent_kafka import Consumer

        self.topic = topic
        self.record = record
        self.consumer = Consumer(settings)
        self.stop_event = threading.Event()
        self.start_offsets: Dict[int, int] = {}
        self.next_offsets: Dict[int, int] = {}
        self.failure: Optional[str] = None

    def remember_start_offsets(self, partitions: int) -> None:
        """The end of each partition before production: the run's messages all lie after it,
        so a reused topic is not read from the beginning. A partition whose end cannot be
        read falls back to auto.offset.reset=earliest, which is slower but still correct."""
        from confluent_kafka import TopicPartition

        for partition in range(partitions):
            try:
                _low, high = self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=10, cached=False)
                self.start_offsets[partition] = high
            except Exception as error:
                log("no start offset for partition %d (%s): it is read from the beginning" % (partition, error))

    def _on_assign(self, consumer: Any, partitions: List[Any]) -> None:
        from confluent_kafka import OFFSET_BEGINNING

        # Nothing is committed, so after a rebalance continue from what this thread already
        # read (or the start offset), never from the beginning of the topic.
        for tp in partitions:
            tp.offset = max(self.start_offsets.get(tp.partition, OFFSET_BEGINNING), self.next_offsets.get(tp.partition, OFFSET_BEGINNING))
        consumer.assign(partitions)

    def run(self) -> None:
        try:
            self.consumer.subscribe([self.topic], on_assign=self._on_assign)
            while not self.stop_event.is_set():
                for message in self.consumer.consume(num_messages=500, timeout=0.2):
                    if message.error() is not None:
                        # Not fatal here: librdkafka reports and retries transport errors itself.
                        self.record.record_client_error("consumer: %s" % message.error())
                        continue
                    self.next_offsets[message.partition()] = message.offset() + 1
                    decoded = decode_value(message.value())
                    if decoded is not None and decoded[0] == self.record.run_id:
                        self.record.record_consumed(decoded[1], message.partition(), message.offset())
        except Exception as error:
            self.failure = "consumer stopped: %r" % (error,)
            log(self.failure)
        finally:
            try:
                self.consumer.close()
            except Exception:
                pass


def run_load(args: argparse.Namespace) -> int:
    """The `run` command. Returns the exit status."""
    from confluent_kafka import KafkaException, Producer

    run_id = uuid.uuid4().hex[:12]
    record = LoadRecord(run_id=run_id)
    client_settings, security = security_settings(args)
    client_settings = dict(client_settings, **{"bootstrap.servers": args.bootstrap})
    started_wall = utc_now_iso()
    started = time.monotonic()
    stop = StopRequest(args.stop_file, args.max_seconds)
    signal.signal(signal.SIGTERM, stop.on_signal)
    signal.signal(signal.SIGINT, stop.on_signal)
    if args.stop_file:
        # The caller creates the stop file to end a run; one left over from an earlier run
        # must not end this one at once.
        try:
            os.unlink(args.stop_file)
        except FileNotFoundError:
            pass
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except FileNotFoundError:
            pass

    info = RunInfo(
        bootstrap=args.bootstrap, topic=args.topic, security=security, rate=args.rate,
        started=started_wall, ended=started_wall, duration_s=0.0, producing_s=0.0, drain_s=0.0,
        stop_reason="not started", drain_complete=False,
    )

    def finish(status_if_ok: Optional[int] = None) -> int:
        info.ended = utc_now_iso()
        info.duration_s = time.monotonic() - started
        report = build_report(record, info)
        write_json_atomically(args.report, report)
        print(summary_line(report, args.report), flush=True)
        if args.stop_file:
            try:
                os.unlink(args.stop_file)  # consumed: do not leave it for the next run
            except FileNotFoundError:
                pass
        if status_if_ok is not None:
            return status_if_ok
        return EXIT_OK if report["ok"] else EXIT_NOT_OK

    log("run %s: %s topic %s, %s, %.0f msg/s, max %.0fs" % (run_id, args.bootstrap, args.topic, security["protocol"], args.rate, args.max_seconds))
    try:
        info.topic_info = prepare_topic(args, client_settings)
    except ConnectionFailure as error:
        info.error = str(error)
        log(info.error)
        return finish(EXIT_ERROR)

    consumer = ConsumerThread(
        dict(
            client_settings,
            **{
                "group.id": "loadgen-%s" % run_id,  # unique: no other consumer shares its partitions
                "client.id": "loadgen-%s-consumer" % run_id,
                "auto.offset.reset": "earliest",
                # Offsets are tracked in the thread (see _on_assign); commits would only add
                # coordinator traffic that fails while the coordinator's broker restarts.
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            },
        ),
        args.topic,
        record,
    )
    consumer.remember_start_offsets(info.topic_info["partitions"])
    consumer.start()

    fatal: List[str] = []

    def on_client_error(error: Any) -> None:
        record.record_client_error("producer: %s" % error)
        # A fatal error (idempotence broken) means the producer can send nothing more.
        if error.fatal():
            fatal.append(str(error))

    producer = Producer(
        dict(
            client_settings,
            **{
                "client.id": "loadgen-%s-producer" % run_id,
                "enable.idempotence": True,
                "acks": "all",
                # One request in flight per broker connection. With up to 5 (librdkafka's idempotent default), a
                # leader change can make the new leader answer a later batch with OUT_OF_ORDER_SEQUENCE; librdkafka
                # then bumps the producer epoch and resends, and a batch the old leader had already written lands
                # twice (librdkafka issue #4953, open). Seen twice on the lab, once in a rolling restart at load 40:
                # one message at two adjacent offsets of one partition, acked once, no client error. The load
                # measures the cluster through the roll, so it keeps the client out of that path: with one
                # request in flight the broker never sees a gap in the producer's sequence.
                "max.in.flight.requests.per.connection": 1,
                "retries": 2147483647,
                # librdkafka's message.timeout.ms is an alias of delivery.timeout.ms: one
                # setting, so a message fails only after 300 s of retries.
                "delivery.timeout.ms": DELIVERY_TIMEOUT_S * 1000,
                "request.timeout.ms": 30000,
                "retry.backoff.ms": 100,
                "retry.backoff.max.ms": 1000,
                "linger.ms": 5,
                "error_cb": on_client_error,
            },
        )
    )

    def on_delivery(seq: int, error: Any, _message: Any) -> None:
        at = time.monotonic() - production_started
        record.record_delivery(seq, at, None if error is None else str(error))
        if error is None and args.ready_file and len(record.ack_times) == 1:
            write_json_atomically(args.ready_file, {"run_id": run_id, "first_ack_at_s": round(at, 3)})

    interval = 1.0 / args.rate
    production_started = time.monotonic()
    next_send = production_started
    next_progress = PROGRESS_EVERY_S
    while True:
        now = time.monotonic()
        elapsed = now - production_started
        if fatal and stop.reason is None:
            stop.reason = "fatal producer error"
        if stop.check(elapsed) is not None:
            break
        if elapsed >= next_progress:
            next_progress += PROGRESS_EVERY_S
            log("t=%.0fs sent=%d acked=%d failed=%d in-flight=%d consumed=%d"
                % (elapsed, record.sent, len(record.ack_times), len(record.failures), len(producer), len(record.positions_by_seq)))
        # Catch up after a short hiccup of this process, but never burst more than a second
        # of messages: a stall must show up as a stall, not as a flood afterwards.
        if now - next_send > 1.0:
            next_send = now
        queue_full = False
        while next_send <= now:
            seq = record.sent
            try:
                producer.produce(args.topic, value=encode_value(run_id, seq), key=str(seq).encode("ascii"),
                                 on_delivery=functools.partial(on_delivery, seq))
            except BufferError:
                # The local queue is full (brokers unreachable for long): wait, do not count it as sent.
                queue_full = True
                break
            except KafkaException as error:
                fatal.append(str(error))
                break
            record.record_send(seq, time.monotonic() - production_started)
            next_send += interval
        producer.poll(0.1 if queue_full else max(0.0, min(0.05, next_send - time.monotonic())))
    info.producing_s = time.monotonic() - production_started
    info.stop_reason = stop.reason or "unknown"
    info.fatal_error = fatal[0] if fatal else None
    log("stopping production (%s) after %.1fs: sent=%d acked=%d in-flight=%d"
        % (info.stop_reason, info.producing_s, record.sent, len(record.ack_times), len(producer)))

    # Flush in slices so a second signal can cut it short; every slice is bounded.
    flush_deadline = time.monotonic() + FLUSH_BOUND_S
    while len(producer) > 0 and time.monotonic() < flush_deadline and not stop.abandon:
        producer.flush(min(1.0, max(0.0, flush_deadline - time.monotonic())))
    producer.poll(0)
    log("flushed: acked=%d failed=%d unresolved=%d" % (len(record.ack_times), len(record.failures), len(producer)))

    drain_started = time.monotonic()
    drain_deadline = drain_started + args.drain_seconds
    while record.unseen_acked() > 0 and time.monotonic() < drain_deadline and consumer.is_alive() and not stop.abandon:
        time.sleep(0.2)
    info.drain_s = time.monotonic() - drain_started
    info.drain_complete = record.unseen_acked() == 0
    consumer.stop_event.set()
    consumer.join(CONSUMER_JOIN_TIMEOUT_S)
    if consumer.failure and info.error is None and not info.drain_complete:
        info.error = consumer.failure
    return finish()


# --------------------------------------------------------------------------------------
# start / stop: a detached run
# --------------------------------------------------------------------------------------


def _state_path(report: str) -> str:
    return os.path.abspath(report) + ".start.json"


def _process_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie has exited; it only waits
    for a parent that may never reap it in a container without an init)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _is_our_run(pid: int, report: str) -> bool:
    """Guard against a recycled pid: the process must be a loadgen run for this report."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return b"run" in argv and os.path.abspath(report).encode() in argv


def _tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def start_detached(args: argparse.Namespace) -> int:
    """The `start` command: run detached, return after the producer's first ack."""
    report = os.path.abspath(args.report)
    ready_file = report + ".ready"
    log_file = report + ".log"
    stop_file = os.path.abspath(args.stop_file) if args.stop_file else default_stop_file(report)
    # Stale files of an earlier run would make this one look ready or finished.
    for stale in (report, ready_file, report + ".pid", _state_path(report)):
        try:
            os.unlink(stale)
        except FileNotFoundError:
            pass
    argv = child_argv(args, os.path.abspath(__file__), sys.executable)
    with open(log_file, "ab") as output, open(os.devnull, "rb") as devnull:
        child = subprocess.Popen(argv, stdin=devnull, stdout=output, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
    with open(report + ".pid", "w", encoding="ascii") as handle:
        handle.write("%d\n" % child.pid)
    write_json_atomically(_state_path(report), {
        "pid": child.pid, "stop_file": stop_file, "log": log_file, "ready_file": ready_file,
        "argv": argv, "started": utc_now_iso(),
    })
    deadline = time.monotonic() + START_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if os.path.exists(ready_file):
            print("loadgen: started pid %d, first ack received; stop with: %s stop --report %s"
                  % (child.pid, os.path.basename(__file__), args.report), flush=True)
            return EXIT_OK
        if child.poll() is not None:
            print("loadgen: the run exited with status %d before its first ack; log %s:\n%s"
                  % (child.returncode, log_file, _tail(log_file)), file=sys.stderr, flush=True)
            return EXIT_ERROR
        time.sleep(0.2)
    # No ack in time: end the child (ours, by pid) so nothing keeps producing unseen.
    child.send_signal(signal.SIGTERM)
    child.send_signal(signal.SIGTERM)  # the second one abandons flush and drain
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(5)
    print("loadgen: no delivery ack within %ds; stopped pid %d; log %s:\n%s"
          % (START_READY_TIMEOUT_S, child.pid, log_file, _tail(log_file)), file=sys.stderr, flush=True)
    return EXIT_ERROR


def _wait_until_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _process_running(pid):
            return True
        time.sleep(0.2)
    return not _process_running(pid)


def stop_detached(args: argparse.Namespace) -> int:
    """The `stop` command: create the stop file, wait (bounded), print the report summary."""
    report = os.path.abspath(args.report)
    try:
        with open(_state_path(report), encoding="utf-8") as handle:
            state = json.load(handle)
        pid: Optional[int] = int(state["pid"])
        stop_file = str(state["stop_file"])
    except (OSError, ValueError, KeyError):
        pid, stop_file = None, default_stop_file(report)
        try:
            with open(report + ".pid", encoding="ascii") as handle:
                pid = int(handle.readline())
        except (OSError, ValueError):
            pass
    if pid is not None and _process_running(pid) and _is_our_run(pid, report):
        with open(stop_file, "w", encoding="ascii") as handle:
            handle.write("stop requested %s\n" % utc_now_iso())
        if not _wait_until_gone(pid, args.timeout):
            # Escalate: SIGTERM twice abandons the flush and drain but still writes the report.
            print("loadgen: pid %d still running after %.0fs; sending SIGTERM" % (pid, args.timeout), file=sys.stderr)
            for _ in range(2):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    break
                time.sleep(0.5)
            if not _wait_until_gone(pid, 30):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _wait_until_gone(pid, 5)
    try:
        with open(report, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        print("loadgen: no report at %s (%s); see %s.log" % (args.report, error, args.report), file=sys.stderr)
        return EXIT_ERROR
    print(summary_line(data, args.report), flush=True)
    if data.get("error"):
        return EXIT_ERROR  # the run never got going (connection, topic): not a verdict on loss
    return EXIT_OK if data.get("ok") else EXIT_NOT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on unknown or missing options
    try:
        validate_args(args)
    except UsageError as error:
        print("loadgen.py %s: error: %s" % (args.command, error), file=sys.stderr)
        return EXIT_ERROR
    handlers: Dict[str, Callable[[argparse.Namespace], int]] = {
        "run": run_load,
        "start": start_detached,
        "stop": stop_detached,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
