# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of bench/ (benchlib.py), without a lab: play recap parsing, the producer
performance summary, the rolling_restart role's per-node report, statistics, and the Markdown,
JSON and PNG rendering of a results dictionary."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "benchlib.py")
_spec = importlib.util.spec_from_file_location("benchlib", _PATH)
benchlib = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(benchlib)

RECAP = """
TASK [kafkasec.tls.broker : Record the pending restart on the host] ************
changed: [kafka-1.lab8.test]

PLAY RECAP *********************************************************************
ca.lab8.test               : ok=8    changed=2    unreachable=0    failed=0    skipped=3    rescued=0    ignored=0   
kafka-1.lab8.test          : ok=63   changed=12   unreachable=0    failed=0    skipped=10   rescued=0    ignored=0   
kafka-10.lab8.test         : ok=60   changed=0    unreachable=0    failed=1    skipped=10   rescued=1    ignored=0   

"""


def test_parse_recap_reads_every_host_and_counter():
    recap = benchlib.parse_recap(RECAP)
    assert sorted(recap) == ["ca.lab8.test", "kafka-1.lab8.test", "kafka-10.lab8.test"]
    assert recap["kafka-1.lab8.test"] == {"ok": 63, "changed": 12, "unreachable": 0, "failed": 0,
                                          "skipped": 10, "rescued": 0, "ignored": 0}
    assert recap["kafka-10.lab8.test"]["rescued"] == 1


def test_parse_recap_takes_the_last_recap():
    first = RECAP.replace("ok=63", "ok=1")
    recap = benchlib.parse_recap(first + "\nmore output\n" + RECAP)
    assert recap["kafka-1.lab8.test"]["ok"] == 63


@pytest.mark.parametrize("text, message", [
    ("TASK [x]\nfatal: boom\n", "no PLAY RECAP"),
    ("PLAY RECAP ****\n\n", "no host lines"),
    ("PLAY RECAP ****\nh1 : ok=1 changed=0 unreachable=0 failed=0\n", "lacks skipped, rescued, ignored"),
])
def test_parse_recap_refuses_incomplete_output(text, message):
    with pytest.raises(ValueError, match=message):
        benchlib.parse_recap(text)


def test_task_evaluations_do_not_count_changed_twice():
    recap = benchlib.parse_recap(RECAP)
    assert benchlib.task_evaluations(recap["kafka-1.lab8.test"]) == 73
    assert benchlib.task_evaluations(recap["kafka-10.lab8.test"]) == 71
    assert benchlib.recap_totals(recap)["changed"] == 14


def test_recap_problems_name_failed_hosts_and_changes_on_a_rerun():
    recap = benchlib.parse_recap(RECAP)
    assert benchlib.recap_problems(recap) == ["kafka-10.lab8.test: failed=1 unreachable=0"]
    rerun = benchlib.recap_problems(recap, want_changed_zero=True)
    assert "kafka-1.lab8.test: changed=12 on a rerun (expected 0)" in rerun
    assert "ca.lab8.test: changed=2 on a rerun (expected 0)" in rerun


PERF = """28161 records sent, 5632.2 records/sec (5.50 MB/sec), 1702.8 ms avg latency, 2743.0 ms max latency.
100000 records sent, 7936.507937 records/sec (7.75 MB/sec), 2384.31 ms avg latency, 4035.00 ms max latency, 2338 ms 50th, 3714 ms 95th, 3931 ms 99th, 4024 ms 99.9th.
"""


def test_parse_producer_performance_reads_the_summary_not_the_interim_lines():
    res = benchlib.parse_producer_performance(PERF)
    assert res["records"] == 100000
    assert res["records_per_sec"] == pytest.approx(7936.507937)
    assert res["mb_per_sec"] == pytest.approx(7.75)
    assert res["p99_ms"] == 3931
    assert res["p50_ms"] == 2338
    assert res["avg_ms"] == pytest.approx(2384.31)


def test_parse_producer_performance_refuses_output_without_summary():
    with pytest.raises(ValueError, match="no ProducerPerformance summary"):
        benchlib.parse_producer_performance(PERF.splitlines()[0])


def test_parse_role_restarts():
    out = ('ok: [kafka-2.lab8.test] => {\n    "msg": "kafka-2.lab8.test (node 2) restarted and passed process, tls, '
           'registered, isr in 14.2 s."\n}\n'
           'ok: [kafka-1.lab8.test] => {\n    "msg": "kafka-1.lab8.test (node 1) restarted and passed process in 9 s."\n}\n')
    assert benchlib.parse_role_restarts(out) == {"kafka-2.lab8.test": 14.2, "kafka-1.lab8.test": 9.0}


def test_summarize_and_ratio_of_medians():
    s = benchlib.summarize([3, 1, 2])
    assert (s["n"], s["median"], s["min"], s["max"]) == (3, 2.0, 1.0, 3.0)
    assert benchlib.summarize([1, 4])["median"] == 2.5
    assert benchlib.ratio([10, 30, 20], [4, 5, 6]) == pytest.approx(4.0)
    assert benchlib.fmt_stat(s) == "2.0 (1.0-3.0)"
    assert benchlib.fmt_stat(s, 0, " s") == "2 s (1-3)"
    with pytest.raises(ValueError):
        benchlib.summarize([])
    with pytest.raises(ValueError):
        benchlib.ratio([1], [0])


def test_progress_line():
    assert benchlib.progress("1/4 rollout", "round 1/3, 6 hosts, baseline", 12.345, "9.1 s") == \
        "[bench   12.3s] 1/4 rollout: round 1/3, 6 hosts, baseline - 9.1 s"


def _stat(*v):
    return benchlib.summarize(v)


def _results():
    return {
        "environment": {"date": "2026-11-23 15:00 UTC", "machine": "2 CPUs", "ansible": "ansible [core 2.18]",
                        "kafka_version": "4.3.1"},
        "rollout": {"rounds": 2, "description": "d1", "sizes": [
            {"hosts": 1, "collection": _stat(10, 12), "baseline": _stat(2, 3), "ratio": 11 / 2.5,
             "evaluations_per_host": 63.0, "evaluations_ca": 11},
            {"hosts": 12, "collection": _stat(60, 70), "baseline": _stat(20, 22), "ratio": 65 / 21,
             "evaluations_per_host": 70.25, "evaluations_ca": 11}]},
        "rerun": {"rounds": 2, "description": "d2", "sizes": [
            {"hosts": 3, "rerun": _stat(20, 22), "ping": _stat(2, 3), "ratio": 21 / 2.5, "changed_total": 0}]},
        "data_plane": {"rounds": 2, "description": "d3", "negotiated": {"protocol": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "how": "probe"},
                       "plaintext": {"records_per_sec": _stat(10000, 12000), "mb_per_sec": _stat(9.8, 11.7),
                                     "p99_ms": _stat(900, 1000), "avg_ms": _stat(400, 500)},
                       "ssl": {"records_per_sec": _stat(5000, 6000), "mb_per_sec": _stat(4.9, 5.9),
                               "p99_ms": _stat(1800, 2000), "avg_ms": _stat(800, 900)},
                       "throughput_ratio": 0.5, "p99_ratio": 2.0},
        "rolling_restart": {"rounds": 2, "description": "d4", "total": _stat(60, 70), "role_node_sum": _stat(50, 52),
                            "node_sum": _stat(30, 34), "ratio": 2.03, "ratio_role": 1.27},
        "notes": ["shared machine"],
    }


def test_headline_collects_every_ratio():
    h = benchlib.headline(_results())
    assert h == {"rollout_1_hosts_vs_baseline": pytest.approx(4.4), "rollout_12_hosts_vs_baseline": pytest.approx(65 / 21),
                 "rerun_3_hosts_vs_ping": pytest.approx(8.4), "ssl_vs_plaintext_throughput": 0.5,
                 "ssl_vs_plaintext_p99": 2.0, "rolling_restart_vs_sum_of_node_restarts": 2.03}


def test_render_json_round_trips_with_the_headline():
    doc = json.loads(benchlib.render_json(_results()))
    assert doc["rollout"]["sizes"][1]["collection"]["median"] == 65
    assert doc["headline"]["ssl_vs_plaintext_p99"] == 2.0


def test_render_markdown_has_the_four_tables_the_ratios_and_the_plot():
    md = benchlib.render_markdown(_results(), png_name="benchmarks.png")
    for title in ("## 1. Rollout scaling", "## 2. Idempotent rerun", "## 3. Data plane", "## 4. Rolling restart"):
        assert title in md
    assert "| 12 | 65.0 (60.0-70.0) | 21.0 (20.0-22.0) | 3.10x | 70.2 | 11 |" in md
    assert "| 3 | 21.0 (20.0-22.0) | 2.5 (2.0-3.0) | 8.40x | 0 |" in md
    assert "| SSL :9093 | 5500 (5000-6000) | 5.40 (4.90-5.90) | 1900 (1800-2000) | 850.0 (800.0-900.0) |" in md
    assert "**TLSv1.3, TLS_AES_256_GCM_SHA384**" in md
    assert "- rolling restart of 3 brokers / sum of the nodes' own restarts: **2.03x**" in md
    assert "- rollout (PKI + config) on 12 host(s) / seed-style shell baseline: **3.10x**" in md
    assert "![benchmarks](benchmarks.png)" in md
    assert "- shared machine" in md


def test_render_markdown_leaves_out_parts_that_did_not_run():
    res = _results()
    del res["data_plane"], res["rolling_restart"]
    md = benchlib.render_markdown(res)
    assert "## 3. Data plane" not in md and "## 4. Rolling restart" not in md
    assert "![benchmarks]" not in md


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "b.png"
    benchlib.plot(_results(), str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10000


@pytest.mark.parametrize("done, rounds, left, want", [
    (0, [], 0, True),            # the minimum runs whatever the budget
    (1, [500.0], 0, True),
    (2, [100.0, 120.0], 130, True),
    (2, [100.0, 120.0], 110, False),  # the slowest round would not fit
    (3, [1.0, 1.0, 1.0], 1000, False),  # the maximum
])
def test_another_round(done, rounds, left, want):
    assert benchlib.another_round(done, 2, 3, rounds, left) is want


def test_overlapping_spreads_and_a_long_run_are_said():
    res = _results()
    assert "cannot tell them apart" not in benchlib.render_markdown(res)
    res["data_plane"]["ssl"]["p99_ms"] = _stat(950, 2000)
    res["elapsed_seconds"] = 1800
    md = benchlib.render_markdown(res)
    assert "The p99 latency spreads of the two listeners overlap" in md
    assert "The throughput spreads" not in md
    assert "longer than the 15 minutes" in md
    assert benchlib.overlap(_stat(1, 2), _stat(2, 3)) and not benchlib.overlap(_stat(1, 2), _stat(2.5, 3))
