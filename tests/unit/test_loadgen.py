# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of tests/loadgen.py, without Kafka: the report computed from recorded
acks and reads (lost, duplicates, stalls, latency, the ok flag), the message format,
the atomic report write and the command-line validation."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import pytest

LOADGEN_PATH = Path(__file__).resolve().parents[1] / "loadgen.py"


def _load_loadgen() -> Any:
    spec = importlib.util.spec_from_file_location("kafkasec_loadgen", LOADGEN_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve string annotations through sys.modules, so register it first.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


loadgen = _load_loadgen()


def make_info(producing_s: float = 10.0, error: Optional[str] = None) -> Any:
    return loadgen.RunInfo(
        bootstrap="k1:9092", topic="t", security={"protocol": "PLAINTEXT"}, rate=10.0,
        started="2026-01-01T00:00:00.000+00:00", ended="2026-01-01T00:00:12.000+00:00",
        duration_s=12.0, producing_s=producing_s, drain_s=1.0, stop_reason="stop-file",
        drain_complete=True, error=error,
    )


def make_record(sent: int, acked: Iterable[int], consumed: Iterable[int] = (), send_step: float = 0.1,
                latency: float = 0.02) -> Any:
    """A run that sent ``sent`` messages every ``send_step`` s; ``acked`` were acked after
    ``latency``; each seq in ``consumed`` was read once, at its own offset."""
    record = loadgen.LoadRecord(run_id="r1")
    for seq in range(sent):
        record.record_send(seq, seq * send_step)
    for seq in acked:
        record.record_delivery(seq, seq * send_step + latency, None)
    for offset, seq in enumerate(consumed):
        record.record_consumed(seq, 0, offset)
    return record


def report_of(record: Any, **info: Any) -> Dict[str, Any]:
    return loadgen.build_report(record, make_info(**info))


# ---------------------------------------------------------------- report: the verdict


def test_clean_run_is_ok() -> None:
    record = make_record(100, range(100), range(100))
    report = report_of(record)
    assert report["ok"] is True
    assert (report["sent"], report["acked"], report["failed"]) == (100, 100, 0)
    assert (report["consumed_unique"], report["lost"], report["duplicates"]) == (100, 0, 0)
    assert report["not_acked_count"] == 0 and report["unresolved_count"] == 0
    json.dumps(report)  # the report must be plain JSON


def test_acked_but_never_consumed_is_lost() -> None:
    consumed = [seq for seq in range(100) if seq not in (7, 42)]
    report = report_of(make_record(100, range(100), consumed))
    assert report["ok"] is False
    assert report["lost"] == 2
    assert report["lost_seqs"] == [7, 42]
    assert report["consumed_unique"] == 98


def test_lost_seqs_are_capped_at_50_but_counted_in_full() -> None:
    report = report_of(make_record(200, range(200), range(100)))
    assert report["lost"] == 100
    assert report["lost_seqs"] == list(range(100, 150))


def test_not_acked_message_that_is_missing_is_not_lost_but_fails_the_run() -> None:
    # seq 9 never got an ack (still in flight when the flush bound ran out)
    report = report_of(make_record(10, range(9), range(9)))
    assert report["lost"] == 0
    assert report["not_acked_count"] == 1 and report["unresolved_count"] == 1
    assert report["ok"] is False


def test_delivery_failures_are_counted_with_their_first_20_errors() -> None:
    record = make_record(30, range(5), range(5))
    for seq in range(5, 30):
        record.record_delivery(seq, 300.0, "Local: Message timed out (seq %d)" % seq)
    report = report_of(record)
    assert report["failed"] == 25
    assert len(report["failed_errors"]) == 20
    assert report["failed_errors"][0] == "Local: Message timed out (seq 5)"
    assert report["not_acked_count"] == 25 and report["unresolved_count"] == 0
    assert report["ok"] is False


def test_same_seq_at_two_offsets_is_a_duplicate() -> None:
    record = make_record(10, range(10), range(10))
    record.record_consumed(3, 1, 500)  # a second copy of seq 3 in the log
    record.record_consumed(3, 2, 77)   # and a third
    record.record_consumed(5, 4, 9)
    report = report_of(record)
    assert report["duplicates"] == 3  # extra copies: 2 of seq 3 + 1 of seq 5
    assert report["duplicate_seqs"] == [3, 5]
    assert report["duplicate_details"] == [
        {"seq": 3, "positions": [[0, 3], [1, 500], [2, 77]], "sent_at_s": 0.3, "acked_at_s": 0.32},
        {"seq": 5, "positions": [[0, 5], [4, 9]], "sent_at_s": 0.5, "acked_at_s": 0.52}]
    assert report["consumed_unique"] == 10
    assert report["consumed_total"] == 13
    assert report["ok"] is False


def test_same_offset_read_twice_is_a_consumer_redelivery_not_a_duplicate() -> None:
    record = make_record(10, range(10), range(10))
    record.record_consumed(4, 0, 4)  # seq 4 was read at partition 0 offset 4 before: a re-read
    report = report_of(record)
    assert report["duplicates"] == 0
    assert report["consumer_redeliveries"] == 1
    assert report["ok"] is True


def test_nothing_sent_is_not_ok() -> None:
    assert report_of(make_record(0, ()))["ok"] is False


def test_an_error_makes_the_report_not_ok() -> None:
    report = report_of(make_record(5, range(5), range(5)), error="cannot reach k1:9092")
    assert report["ok"] is False
    assert report["error"] == "cannot reach k1:9092"


def test_consumed_seqs_outside_the_run_are_reported_not_counted() -> None:
    record = make_record(5, range(5), range(5))
    record.record_consumed(99, 0, 99)
    report = report_of(record)
    assert report["consumed_unique"] == 5
    assert report["foreign_seqs"] == [99]
    assert report["consumer_redeliveries"] == 0


# ---------------------------------------------------------------- stalls and latency


def test_longest_stall_is_the_longest_gap_between_acks() -> None:
    length, started_at = loadgen.longest_stall([0.1, 0.2, 0.3, 4.3, 4.4, 5.0], 6.0)
    assert length == pytest.approx(4.0)
    assert started_at == pytest.approx(0.3)


def test_stall_counts_from_the_start_of_production_and_to_its_end() -> None:
    assert loadgen.longest_stall([3.0, 3.1], 3.5) == (pytest.approx(3.0), 0.0)
    length, started_at = loadgen.longest_stall([0.1, 0.2], 9.0)  # acks stopped: open stall to the end
    assert (length, started_at) == (pytest.approx(8.8), pytest.approx(0.2))


def test_stall_that_straddles_the_end_of_production_is_kept_whole() -> None:
    # production ended at 5.0 during a stall that the flush ended at 8.0
    assert loadgen.longest_stall([1.0, 2.0, 8.0, 8.1], 5.0) == (pytest.approx(6.0), pytest.approx(2.0))


def test_acks_after_production_do_not_make_stalls() -> None:
    # The gaps between flush-time acks (after 2.0) are not production stalls.
    assert loadgen.longest_stall([0.5, 1.0, 1.5, 2.0, 30.0, 60.0], 2.0) == (pytest.approx(0.5), pytest.approx(0.0))


def test_acks_in_any_order_and_no_acks() -> None:
    assert loadgen.longest_stall([5.0, 1.0, 2.0], 5.0) == (pytest.approx(3.0), pytest.approx(2.0))
    assert loadgen.longest_stall([], 0.0) == (0.0, None)
    assert loadgen.longest_stall([], 4.0) == (pytest.approx(4.0), 0.0)


def test_report_lists_stalls_over_one_second() -> None:
    record = loadgen.LoadRecord(run_id="r1")
    times = [0.1 * i for i in range(20)] + [5.0 + 0.1 * i for i in range(20)] + [9.5]
    for seq, at in enumerate(times):
        record.record_send(seq, at - 0.01)
        record.record_delivery(seq, at, None)
        record.record_consumed(seq, 0, seq)
    report = report_of(record, producing_s=10.0)
    assert report["longest_stall_s"] == pytest.approx(3.1, abs=1e-3)
    assert report["longest_stall_at_s"] == pytest.approx(1.9, abs=1e-3)
    assert [s["at_s"] for s in report["stalls_over_1s"]] == [pytest.approx(1.9), pytest.approx(6.9)]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert loadgen.percentile(values, 0.50) == 50.0
    assert loadgen.percentile(values, 0.99) == 99.0  # not 100: 0.99 * 100 drifts in floating point
    assert loadgen.percentile(values, 1.0) == 100.0
    assert loadgen.percentile(values, 0.0) == 1.0
    assert loadgen.percentile([7.0], 0.99) == 7.0
    assert loadgen.percentile([], 0.5) is None
    with pytest.raises(ValueError):
        loadgen.percentile(values, 1.5)


def test_report_latency_in_milliseconds() -> None:
    record = make_record(100, range(100), range(100), latency=0.025)
    latency = report_of(record)["ack_latency_ms"]
    assert latency == {"p50": 25.0, "p99": 25.0, "max": 25.0}
    assert report_of(make_record(3, ()))["ack_latency_ms"] == {"p50": None, "p99": None, "max": None}


def test_unseen_acked_drives_the_drain() -> None:
    record = make_record(5, range(4), [0, 1])
    assert record.unseen_acked() == 2
    record.record_consumed(2, 0, 2)
    record.record_consumed(3, 0, 3)
    assert record.unseen_acked() == 0


def test_sends_must_be_recorded_in_order() -> None:
    record = loadgen.LoadRecord(run_id="r1")
    record.record_send(0, 0.0)
    with pytest.raises(ValueError):
        record.record_send(2, 0.1)


# ---------------------------------------------------------------- message format and files


def test_value_round_trip_and_foreign_values() -> None:
    assert loadgen.decode_value(loadgen.encode_value("abc123", 42)) == ("abc123", 42)
    for foreign in (None, b"", b"hello", b"loadgen/1 abc", b"loadgen/1 abc -1", b"other/1 abc 1", b"\xff\xfe"):
        assert loadgen.decode_value(foreign) is None


def test_report_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    loadgen.write_json_atomically(str(target), {"ok": True})
    assert json.loads(target.read_text()) == {"ok": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary left


def test_summary_line_is_one_line() -> None:
    report = report_of(make_record(3, range(3), range(3)))
    line = loadgen.summary_line(report, "/tmp/r.json")
    assert "\n" not in line and line.startswith("loadgen: OK ")
    assert "lost=0" in line and "duplicates=0" in line


# ---------------------------------------------------------------- command line


def parse(argv: List[str]) -> argparse.Namespace:
    args = loadgen.build_parser().parse_args(argv)
    loadgen.validate_args(args)
    return args


BASE = ["run", "--bootstrap", "k1:9092,k2:9092", "--topic", "t", "--report"]


def test_defaults(tmp_path: Path) -> None:
    args = parse(BASE + [str(tmp_path / "r.json")])
    assert (args.max_seconds, args.rate, args.drain_seconds) == (900.0, 200.0, 120.0)
    assert (args.partitions, args.replication_factor, args.min_insync_replicas) == (6, 3, 2)
    assert args.create_topic is False and args.ca is None and args.stop_file is None
    settings, described = loadgen.security_settings(args)
    assert settings == {"security.protocol": "PLAINTEXT"} and described == {"protocol": "PLAINTEXT"}


def test_bootstrap_parsing() -> None:
    assert loadgen.parse_bootstrap("a.test:9092, b.test:9093") == [("a.test", 9092), ("b.test", 9093)]
    assert loadgen.parse_bootstrap("[::1]:9092") == [("::1", 9092)]
    for bad in ("a.test", "a.test:", ":9092", "a.test:0", "a.test:70000", "a.test:x", "a:9092,,b:9092", "::1:9092", "[::1]9092"):
        with pytest.raises(loadgen.UsageError):
            loadgen.parse_bootstrap(bad)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--rate", "0"], "--rate"),
        (["--max-seconds", "-1"], "--max-seconds"),
        (["--drain-seconds", "-1"], "--drain-seconds"),
        (["--partitions", "0"], "--partitions"),
        (["--replication-factor", "0"], "--replication-factor"),
        (["--min-insync-replicas", "4"], "--min-insync-replicas"),
        (["--cert", "c.pem"], "--cert and --key"),
        (["--ca", "/nonexistent/ca.pem"], "--ca: no such file"),
    ],
)
def test_bad_values_name_the_option(tmp_path: Path, extra: List[str], message: str) -> None:
    with pytest.raises(loadgen.UsageError, match=message):
        parse(BASE + [str(tmp_path / "r.json")] + extra)


def test_client_certificate_needs_ca(tmp_path: Path) -> None:
    pem = tmp_path / "x.pem"
    pem.write_text("-")
    with pytest.raises(loadgen.UsageError, match="need --ca"):
        parse(BASE + [str(tmp_path / "r.json"), "--cert", str(pem), "--key", str(pem)])


def test_report_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(loadgen.UsageError, match="--report"):
        parse(BASE + [str(tmp_path / "missing" / "r.json")])


def test_tls_settings_verify_the_host_name(tmp_path: Path) -> None:
    pem = tmp_path / "x.pem"
    pem.write_text("-")
    args = parse(BASE + [str(tmp_path / "r.json"), "--ca", str(pem), "--cert", str(pem), "--key", str(pem)])
    settings, described = loadgen.security_settings(args)
    assert settings["security.protocol"] == "SSL"
    assert settings["ssl.endpoint.identification.algorithm"] == "https"
    assert settings["ssl.ca.location"] == settings["ssl.certificate.location"] == settings["ssl.key.location"] == str(pem)
    assert described["hostname_verification"] is True


def test_main_exits_2_on_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert loadgen.main(["run", "--bootstrap", "nohost", "--topic", "t", "--report", str(tmp_path / "r.json")]) == 2
    assert "--bootstrap" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        loadgen.main(["run", "--topic", "t"])  # missing required options: argparse's own exit
    assert exited.value.code == 2


def test_stop_needs_a_positive_timeout() -> None:
    with pytest.raises(loadgen.UsageError, match="--timeout"):
        parse(["stop", "--report", "r.json", "--timeout", "0"])


def test_child_command_line_round_trips(tmp_path: Path) -> None:
    pem = tmp_path / "x.pem"
    pem.write_text("-")
    report = str(tmp_path / "r.json")
    args = parse(BASE + [report, "--rate", "50", "--max-seconds", "30", "--ca", str(pem),
                         "--create-topic", "--partitions", "3", "--replication-factor", "2", "--min-insync-replicas", "1"])
    argv = loadgen.child_argv(args, "/x/loadgen.py", "/usr/bin/python3")
    assert argv[:3] == ["/usr/bin/python3", "/x/loadgen.py", "run"]
    child = parse(argv[2:])
    assert child.stop_file == report + ".stop"  # the default that `stop` looks for
    assert child.ready_file == report + ".ready"
    for name in ("bootstrap", "topic", "rate", "max_seconds", "drain_seconds", "ca", "cert", "key",
                 "create_topic", "partitions", "replication_factor", "min_insync_replicas"):
        assert getattr(child, name) == getattr(args, name), name
    assert os.path.isabs(child.report)


def test_summary_line_of_a_run_that_never_started() -> None:
    report = report_of(loadgen.LoadRecord(run_id="r1"), error="cannot reach k1:9092")
    line = loadgen.summary_line(report, "r.json")
    assert line.startswith("loadgen: NOT OK ") and "None" not in line
    assert "error='cannot reach k1:9092'" in line
