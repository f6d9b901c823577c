# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of bench/ (benchlib.py), without a lab: play recap parsing, the producer
performance summary, the rolling_restart role's per-node report, /proc parsing and the CPU split,
the task timer's records, ansible-config dumps, statistics (growth, a least-squares line), the
1,000-host projection, the targets, and the Markdown, JSON and PNG rendering of a results
dictionary, old (before the two Ansible configurations) and new."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

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
    res["elapsed_seconds"] = 1600
    md = benchlib.render_markdown(res)
    assert "The p99 latency spreads of the two listeners overlap" in md
    assert "The throughput spreads" not in md
    assert "longer than the 25 minutes" in md
    assert benchlib.overlap(_stat(1, 2), _stat(2, 3)) and not benchlib.overlap(_stat(1, 2), _stat(2.5, 3))


# -- CPU accounting -------------------------------------------------------------------------------------

PROC_STAT = """cpu  1000 20 300 5000 40 5 7 3 100 0
cpu0 500 10 150 2500 20 3 4 2 50 0
intr 12345 0 0
ctxt 999
"""


def test_parse_proc_stat_names_the_aggregate_line():
    fields = benchlib.parse_proc_stat(PROC_STAT)
    assert fields["user"] == 1000 and fields["softirq"] == 7 and fields["guest"] == 100
    old_kernel = benchlib.parse_proc_stat("cpu  1 2 3 4 5 6 7\n")
    assert old_kernel["softirq"] == 7 and old_kernel["steal"] == 0 and old_kernel["guest_nice"] == 0


@pytest.mark.parametrize("text, message", [
    ("cpu0 1 2 3 4 5 6 7\n", "no aggregate cpu line"),
    ("cpu  1 2 3\n", "at least 7"),
])
def test_parse_proc_stat_refuses_what_it_cannot_read(text, message):
    with pytest.raises(ValueError, match=message):
        benchlib.parse_proc_stat(text)


def test_busy_seconds_counts_user_nice_system_irq_softirq_only():
    after = "cpu  1100 30 350 9000 900 6 9 50 200 0\n"
    # user +100, nice +10, system +50, irq +1, softirq +2 = 163 ticks; idle, iowait, steal, guest left out.
    assert benchlib.busy_seconds(PROC_STAT, after, 100) == pytest.approx(1.63)
    with pytest.raises(ValueError, match="backwards"):
        benchlib.busy_seconds(after, PROC_STAT, 100)


def test_parse_pid_stat_counts_fields_after_the_command_name():
    line = ("4242 (ssh: /tmp/kb-cp-x/r/abc) [mux]) S 1 4242 4242 0 -1 4194624 120 0 0 0 "
            "37 12 0 0 20 0 1 0 5000 10000000 1500 18446744073709551615\n")
    assert benchlib.parse_pid_stat(line) == 49
    with pytest.raises(ValueError):
        benchlib.parse_pid_stat("no parentheses here")
    with pytest.raises(ValueError):
        benchlib.parse_pid_stat("1 (x) S 1 2")


def test_parse_pid_stat_fields_and_subtree_ticks():
    line = "77 (sshd: kl8-kafka-1 [priv]) S 70 77 77 0 -1 0 0 0 0 0 5 3 40 2 20 0 1 0 100 0 0\n"
    assert benchlib.parse_pid_stat_fields(line) == (70, 8, 42)
    procs = {1: (0, 100, 100),       # init: not under the root, never counted
             70: (1, 2, 30),          # a host's sshd listener: own 2, reaped sessions 30
             77: (70, 8, 42),         # a live session: own 8, reaped shells and modules 42
             78: (77, 1, 0),          # its user process
             90: (1, 50, 0)}          # another host's sshd, not asked for
    assert benchlib.subtree_ticks(procs, [70]) == 2 + 30 + 8 + 42 + 1
    assert benchlib.subtree_ticks(procs, [70, 90, 12345]) == 83 + 50  # a root that is gone counts nothing
    # The session ends and the listener reaps it: the tree's sum grows by what it used meanwhile (+5).
    after = {1: (0, 100, 100), 70: (1, 2, 30 + 8 + 42 + 1 + 5), 90: (1, 50, 0)}
    assert benchlib.subtree_ticks(after, [70]) - benchlib.subtree_ticks(procs, [70]) == 5


def test_ticks_delta_counts_new_processes_from_zero_and_drops_gone_ones():
    assert benchlib.ticks_delta({1: 10, 2: 5}, {1: 15, 3: 7}) == 12
    assert benchlib.ticks_delta({1: 10}, {1: 4}) == 0  # a reused pid does not count negative


def test_cpu_costs_split_machine_into_controller_and_hosts():
    c = benchlib.cpu_costs(6.0, 10.0, 4)
    assert c == {"controller": 6.0, "machine": 10.0, "hosts": 4.0, "controller_per_host": 1.5,
                 "hosts_per_host": 1.0, "machine_per_host": 2.5}
    assert benchlib.cpu_costs(3.0, 2.9, 1)["hosts"] == 0.0  # tick rounding never gives negative hosts' CPU
    c = benchlib.cpu_costs(6.0, 10.0, 4, sshd_s=2.0)
    assert (c["hosts_sshd"], c["hosts_sshd_per_host"], c["total_per_host"]) == (2.0, 0.5, 2.0)
    with pytest.raises(ValueError):
        benchlib.cpu_costs(1.0, 2.0, 0)


def test_summarize_runs_summarizes_every_key():
    s = benchlib.summarize_runs([{"a": 1.0, "b": 4.0}, {"a": 3.0, "b": 2.0}])
    assert s["a"]["median"] == 2.0 and s["b"]["min"] == 2.0 and s["b"]["n"] == 2
    with pytest.raises(ValueError):
        benchlib.summarize_runs([])


# -- statistics over host counts ----------------------------------------------------------------------------

def test_growth_falls_and_linear_fit():
    rows = [{"hosts": 1, "collection": _stat(10), "ping": _stat(1.0)},
            {"hosts": 12, "collection": _stat(30), "ping": _stat(2.0)}]
    assert benchlib.growth(rows, "collection", 1, 12) == pytest.approx(3.0)
    assert benchlib.growth(rows, "ping", 1, 12) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="no ping measured"):
        benchlib.growth(rows, "ping", 1, 48)
    assert benchlib.falls([3.0, 2.0, 1.5]) and not benchlib.falls([3.0, 3.0]) and not benchlib.falls([1.0])
    a, b = benchlib.linear_fit([1, 12, 48], [0.5, 0.6, 0.96])
    assert b == pytest.approx(0.0098, abs=2e-4) and a == pytest.approx(0.49, abs=0.01)
    with pytest.raises(ValueError):
        benchlib.linear_fit([3, 3], [1, 2])


# -- what a run reports about its hosts ---------------------------------------------------------------------

def test_evaluations_summary_leaves_the_ca_host_apart():
    ev = benchlib.evaluations_summary(benchlib.parse_recap(RECAP))
    assert ev["hosts"] == 2 and ev["max"] == 73 and ev["min"] == 71 and ev["mean"] == 72.0
    assert ev["ca"] == 11
    assert ev["per_host"] == {"kafka-1.lab8.test": 73, "kafka-10.lab8.test": 71}
    with pytest.raises(ValueError):
        benchlib.evaluations_summary({"ca.lab8.test": {"ok": 1, "skipped": 0, "failed": 0, "unreachable": 0}})


TIMER = "\n".join(json.dumps(r) for r in [
    {"host": "ca.lab8.test", "task": "Create the CA", "delegate": None, "seconds": 2.0},
    {"host": "kafka-1.lab8.test", "task": "Request", "delegate": None, "seconds": 1.0},
    {"host": "kafka-2.lab8.test", "task": "Request", "delegate": None, "seconds": 3.0},
    {"host": "kafka-1.lab8.test", "task": "Sign every host's CSR", "delegate": "127.0.8.100", "seconds": 0.5},
    {"host": "kafka-1.lab8.test", "task": "Install", "delegate": None, "seconds": 1.0},
    {"host": "kafka-2.lab8.test", "task": "Install", "delegate": None, "seconds": 1.0},
]) + "\n\n"


def test_task_times_split_the_ca_host_the_signing_and_each_host_s_own_tasks():
    records = benchlib.parse_task_timer(TIMER)
    assert len(records) == 6
    t = benchlib.task_times(records, ["ca.lab8.test", "127.0.8.100"])
    assert t == {"ca_seconds": 2.5, "sign_seconds": 0.5, "host_seconds": 3.0}
    assert benchlib.task_times([], ["ca"]) == {"ca_seconds": 0.0, "sign_seconds": 0.0, "host_seconds": 0.0}


def test_config_summary_reads_ansible_config_dumps():
    base = [{"name": "DEFAULT_FORKS", "origin": "default", "value": 5},
            {"name": "ANSIBLE_PIPELINING", "origin": "default", "value": False}, {"name": "CONFIG_FILE", "value": "x"},
            {"name": "INJECT_FACTS_AS_VARS", "origin": "ansible.cfg", "value": False}]
    conn = [{"local": [{"name": "pipelining", "value": False}]},
            {"ssh": [{"name": "pipelining", "value": True},
                     {"name": "ssh_args", "value": "-o ControlMaster=auto -o ControlPersist=300s"}]}]
    assert benchlib.config_summary(base, conn) == {"forks": 5, "pipelining": True,
                                                   "ssh_args": "-o ControlMaster=auto -o ControlPersist=300s",
                                                   "inject_facts_as_vars": False}
    assert benchlib.config_summary(base, [])["pipelining"] is False
    # Ansible's default injects facts as variables.
    assert benchlib.config_summary(base[:2], [])["inject_facts_as_vars"] is True


# -- the projection ----------------------------------------------------------------------------------------

def test_projection_takes_the_larger_bound_and_adds_the_signing():
    p = benchlib.projection(controller_cpu_per_host=0.8, per_host_seconds=6.0, forks=20, hosts=1000, cores=16,
                            ca_sign_seconds=10.0)
    assert p["controller_bound_s"] == pytest.approx(50.0)
    assert p["fork_bound_s"] == pytest.approx(300.0)
    assert p["projected_s"] == pytest.approx(310.0)
    assert p["dominant"].startswith("forks")
    p = benchlib.projection(0.8, 6.0, 160, 1000, 16)
    assert p["fork_bound_s"] == pytest.approx(42.0)  # ceil(1000 / 160) = 7 batches
    assert p["dominant"] == "controller CPU" and p["ca_sign_s"] == 0.0
    # Fewer forks than cores: only that many cores work at once.
    assert benchlib.projection(1.0, 1.0, 4, 100, 16)["controller_bound_s"] == pytest.approx(25.0)
    with pytest.raises(ValueError):
        benchlib.projection(1.0, 1.0, 0)


def test_build_projection_from_the_rollout_rows():
    pr = benchlib.build_projection(_new_results()["rollout"], [20, 160], hosts=1000, cores=16)
    i = pr["inputs"]
    assert i["cpu_measured_at_hosts"] == 48
    assert i["controller_cpu_per_host"] == pytest.approx(0.5)
    assert i["hosts_cpu_per_host"] == pytest.approx(18 / 48) and i["hosts_cpu_from"] == "the hosts' sshd process trees"
    assert i["per_host_seconds"] == pytest.approx(4.0) and "task timer" in i["per_host_seconds_from"]
    assert i["ca_sign_per_host_s"] == pytest.approx(0.01, rel=0.05)
    s20, s160 = pr["scenarios"]
    assert s20["forks"] == 20 and s20["fork_bound_s"] == pytest.approx(200.0)
    assert s160["controller_bound_s"] == pytest.approx(1000 * 0.5 / 16)
    assert s20["ca_sign_s"] == pytest.approx(i["ca_sign_fixed_s"] + 1000 * i["ca_sign_per_host_s"])
    assert "ceil(hosts / forks)" in pr["formula"]
    # Without the task timer: the smallest size's wall time, said so; the signing is left out.
    ro = _new_results()["rollout"]
    for r in ro["sizes"]:
        del r["host_task_seconds"], r["sign_seconds"], r["ca_seconds"]
    i = benchlib.projection_inputs(ro)
    assert i["per_host_seconds"] == pytest.approx(8.0) and "upper bound" in i["per_host_seconds_from"]
    assert "ca_sign_per_host_s" not in i
    # Signing times that fall with the host count (noise): counted as flat at their mean, and said so.
    ro = _new_results()["rollout"]
    for r, sec in zip(ro["sizes"], (1.9, 3.4, 1.3)):
        r["sign_seconds"] = _stat(sec)
    i = benchlib.projection_inputs(ro)
    assert i["ca_sign_per_host_s"] == 0.0 and i["ca_sign_fixed_s"] == pytest.approx(6.6 / 3) and i["ca_sign_flat"]
    assert "counted as flat" in benchlib.render_markdown(dict(_new_results(), projection=benchlib.build_projection(ro, [20])))
    assert benchlib.build_projection(_results()["rollout"], [20]) is None  # an old results file: no CPU figures


# -- new results: two configurations, ping, CPU, evaluations, projection ----------------------------------------

def _cpu(controller, machine, hosts, sshd=None):
    return benchlib.summarize_runs([benchlib.cpu_costs(controller, machine, hosts, sshd)])


def _new_results():
    res = _results()
    cfg = {"recommended": {"forks": 20, "pipelining": True, "ssh_args": "-o ControlMaster=auto -o ControlPersist=300s"},
           "defaults": {"forks": 5, "pipelining": False, "ssh_args": "-C -o ControlMaster=auto -o ControlPersist=60s"}}
    res["environment"]["configs"] = cfg
    res["environment"]["configs_note"] = "Masters warm before every timed run."

    def row(n, coll, base, ping, ctrl, mach, sign, rounds=2):
        return {"hosts": n, "rounds": rounds, "collection": _stat(coll, coll + 1), "baseline": _stat(base, base + 1),
                "ratio": (coll + 0.5) / (base + 0.5), "ping": _stat(ping, ping + 0.1), "evaluations_per_host": 9.0,
                "evaluations_max": 9, "evaluations_ca": 4, "cpu": _cpu(ctrl, mach, n, (mach - ctrl) / 2), "ca_seconds": _stat(sign + 1),
                "sign_seconds": _stat(sign), "host_task_seconds": _stat(4.0 if n == 1 else 6.0)}
    res["rollout"] = {
        "rounds": 2, "description": "d1",
        "sizes": [row(1, 7.5, 2.5, 0.9, 2.0, 4.0, 0.51), row(12, 9.5, 20.5, 1.9, 8.0, 20.0, 0.62),
                  row(48, 29.5, 80.5, 4.9, 24.0, 60.0, 0.98, rounds=1)],
        "configs": {"hosts": 12, "baseline": _stat(20.5, 21.5), "rows": {
            "recommended": dict(cfg["recommended"], collection=_stat(9.5, 10.5), ratio=10 / 21, cpu=_cpu(8.0, 20.0, 12, 6.0)),
            "defaults": dict(cfg["defaults"], collection=_stat(25, 27), ratio=26 / 21, cpu=_cpu(9.0, 25.0, 12, 8.0))}},
        "growth": {"from": 1, "to": 12, "rollout": 10 / 8, "ping": 1.95 / 0.95, "ratio": (10 / 8) / (1.95 / 0.95)},
        "growth_big": {"from": 1, "to": 48, "rollout": 30 / 8, "ping": 4.95 / 0.95, "ratio": (30 / 8) / (4.95 / 0.95)},
    }
    res["rerun"] = {"rounds": 2, "description": "d2", "sizes": [
        {"hosts": 12, "config": "recommended", "rerun": _stat(6, 7), "ping": _stat(1.9, 2.0), "ratio": 6.5 / 1.95,
         "changed_total": 0, "evaluations_per_host": 8.0, "evaluations_max": 8, "evaluations_ca": 3},
        {"hosts": 12, "config": "defaults", "rerun": _stat(20, 22), "ping": _stat(3.8, 4.0), "ratio": 21 / 3.9,
         "changed_total": 0, "evaluations_per_host": 8.0, "evaluations_max": 8, "evaluations_ca": 3}]}
    res["evaluations"] = {
        "full_site_yml": {"hosts": 3, "mean": 21.0, "min": 20, "max": 22, "ca": 4, "per_host": {}},
        "rollout_no_restart": {"hosts": 12, "mean": 9.0, "min": 9, "max": 9, "ca": 4, "per_host": {}},
        "rerun": {"hosts": 12, "mean": 8.0, "min": 8, "max": 8, "ca": 3, "per_host": {}}}
    res["rolling_restart"]["ratio"] = 1.2
    res["projection"] = benchlib.build_projection(res["rollout"], [20, 160])
    return res


def test_headline_has_both_configurations_and_the_growth():
    h = benchlib.headline(_new_results())
    assert h["rollout_12_hosts_vs_baseline"] == pytest.approx(10 / 21)
    assert h["rollout_12_hosts_vs_baseline_defaults"] == pytest.approx(26 / 21)
    assert h["rollout_48_hosts_vs_baseline"] == pytest.approx(30 / 81)
    assert h["rollout_growth_vs_ping_growth"] == pytest.approx((10 / 8) / (1.95 / 0.95))
    assert h["rerun_12_hosts_vs_ping"] == pytest.approx(6.5 / 1.95)
    assert h["rerun_12_hosts_vs_ping_defaults"] == pytest.approx(21 / 3.9)


def test_targets_are_judged_on_the_measured_figures():
    t = dict((x["what"], x) for x in benchlib.targets(_new_results()))
    rec = t["rollout on 12 hosts / shell baseline, recommended configuration"]
    assert rec["met"] and rec["target"] == "<= 0.5x" and rec["measured"] == "0.48x"
    assert not t["rollout on 12 hosts / shell baseline, defaults configuration"]["met"]
    g = t["rollout's growth from 1 to 12 hosts / `ansible -m ping`'s growth"]
    assert g["met"] and g["measured"].startswith("0.61x")
    cpu = t["CPU seconds per host (controller + hosts' sshd trees) as hosts are added (1, 12, 48 hosts)"]
    assert cpu["met"] and cpu["measured"] == "3.00 -> 1.17 -> 0.88"
    ev = t["task evaluations per Kafka host, full site.yml with restarts (3 hosts; max, mean)"]
    assert ev["met"] and ev["measured"] == "max 22, mean 21.0"
    assert t["idempotent rerun on 12 hosts / `ansible -m ping`, recommended configuration"]["met"]
    assert not t["idempotent rerun on 12 hosts / `ansible -m ping`, defaults configuration"]["met"]
    assert t["forced rolling restart of 3 brokers / sum of `kafka-ctl restart`"]["met"]
    # Without the sshd trees the whole machine's CPU is judged, and the label says so.
    res = _new_results()
    for r in res["rollout"]["sizes"]:
        r["cpu"] = _cpu(r["cpu"]["controller"]["median"], r["cpu"]["machine"]["median"], r["hosts"])
    t = dict((x["what"], x) for x in benchlib.targets(res))
    assert t["CPU seconds per host (whole machine) as hosts are added (1, 12, 48 hosts)"]["measured"] == "4.00 -> 1.67 -> 1.25"
    assert "hosts' CPU s/host (sshd trees)" not in benchlib.render_markdown(res)
    # An old results file: only the rolling restart has a target figure.
    assert [x["what"] for x in benchlib.targets(_results())] == ["forced rolling restart of 3 brokers / sum of `kafka-ctl restart`"]


def test_render_markdown_with_the_new_sections():
    md = benchlib.render_markdown(_new_results(), png_name="benchmarks.png")
    assert "## Targets" in md and "| <= 0.5x | 0.48x | yes |" in md and "| <= 1.0x | 1.24x | **no** |" in md
    assert "## Ansible configurations" in md
    assert "| defaults | an empty file: Ansible's own defaults | 5 | off | `-C -o ControlMaster=auto -o ControlPersist=60s` |" in md
    assert "Masters warm before every timed run." in md
    assert "| 48 | 1 | 30.0 (29.5-30.5) | 81.0 (80.5-81.5) | 0.37x | 4.95 (4.90-5.00) | 9.0 (max 9) | 4 |" in md
    assert "### Recommended ansible.cfg vs Ansible's defaults, 12 hosts" in md
    assert "| defaults | 5 | off | 26.0 (25.0-27.0) | 1.24x | 9.0 (9.0-9.0) | 8.0 (8.0-8.0) | 16.0 (16.0-16.0) |" in md
    assert "the rollout grows **0.61x** as fast" in md and "From 1 to 48 hosts" in md
    assert "### Cost per host" in md and "**estimate**" in md
    assert ("| 12 | 0.67 (0.67-0.67) | 0.50 (0.50-0.50) | 1.17 (1.17-1.17) | 1.00 (1.00-1.00) | 1.67 (1.67-1.67) | "
            "1.62 (1.62-1.62) | 0.62 (0.62-0.62) | 6.0 (6.0-6.0) |") in md
    assert "| 12 | defaults | 21.0 (20.0-22.0) | 3.9 (3.8-4.0) | 5.38x | 0 | 8.0 (max 8) |" in md
    assert "## Task evaluations per Kafka host" in md
    assert "| full `site.yml`, restarts included (part 3) | 3 | 21.0 | 22 | 4 |" in md
    assert "## Projection: 1,000 hosts from a 16-core control node" in md
    assert "ceil(hosts / forks)" in md and "| 20 | 31 | 200 |" in md
    assert "- rollout (PKI + config) on 12 host(s) / seed-style shell baseline, Ansible's defaults: **1.24x**" in md
    assert "- rollout (PKI + config) on 12 host(s) / seed-style shell baseline, recommended ansible.cfg: **0.48x**" in md
    assert "- idempotent rerun on 12 host(s) / `ansible -m ping`, recommended ansible.cfg: **3.33x**" in md


def test_render_markdown_of_an_old_results_file_has_no_new_sections():
    md = benchlib.render_markdown(_results(), png_name="benchmarks.png")
    for title in ("## Ansible configurations", "### Cost per host", "### Recommended ansible.cfg", "## Projection",
                  "## Task evaluations per Kafka host", "### Growth"):
        assert title not in md
    assert "| 12 | 65.0 (60.0-70.0) | 21.0 (20.0-22.0) | 3.10x | 70.2 | 11 |" in md  # the old table, unchanged
    assert "ansible.cfg" not in md


def test_plot_writes_a_png_with_the_new_panels(tmp_path):
    path = tmp_path / "b.png"
    benchlib.plot(_new_results(), str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_json_lists_the_targets():
    doc = json.loads(benchlib.render_json(_new_results()))
    assert doc["headline"]["rollout_12_hosts_vs_baseline_defaults"] == pytest.approx(26 / 21)
    assert any(t["what"].startswith("task evaluations") and t["met"] for t in doc["targets"])


@pytest.mark.parametrize("which", ["old", "new"])
def test_run_py_render_writes_the_three_files_from_a_results_file(tmp_path, which):
    results = _results() if which == "old" else _new_results()
    src = tmp_path / "in.json"
    src.write_text(benchlib.render_json(results))  # as the bench writes it: headline and targets included
    out = tmp_path / "out"
    run_py = os.path.join(os.path.dirname(_PATH), "run.py")
    env = dict(os.environ, KAFKASEC_BENCH_OUT=str(out))
    p = subprocess.run([sys.executable, run_py, "--render", str(src)], env=env, capture_output=True, text=True,
                       check=False)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(out)) == ["benchmarks.json", "benchmarks.md", "benchmarks.png"]
    md = (out / "benchmarks.md").read_text()
    assert ("## Projection" in md) is (which == "new")


PERF_WARMUP = """
2501 records sent, 500.0 records/sec (0.49 MB/sec), 9.1 ms avg latency, 240.0 ms max latency.
5000 records sent, 499.8 records/sec (0.49 MB/sec), 12.40 ms avg latency, 250.00 ms max latency, 6 ms 50th, 30 ms 95th, 210 ms 99th, 245 ms 99.9th.
4000 steady state records sent, 499.9 records/sec (0.49 MB/sec), 5.10 ms avg latency, 41.00 ms max latency, 5 ms 50th, 9 ms 95th, 14 ms 99th, 40 ms 99.9th.
"""


def test_parse_producer_performance_reads_the_steady_state_beside_the_whole_run():
    res = benchlib.parse_producer_performance(PERF_WARMUP)
    assert (res["records"], res["p99_ms"]) == (5000, 210.0)
    assert (res["steady_records"], res["steady_p99_ms"], res["steady_avg_ms"]) == (4000, 14.0, 5.1)


def test_an_extra_part_renders_from_what_it_stored_and_carried_parts_are_listed():
    # bench/part_<key>.py stores its own headline, labels, targets and Markdown lines in the results, so a
    # results file renders again without the part's code; parts carried over from an earlier run are named.
    res = _results()
    res["extra"] = {"later": {"order": 2, "markdown": ["## 6. Later part"], "headline": {"later_ratio": 1.5},
                              "headline_labels": {"later_ratio": "later / earlier"}, "targets": []},
                    "guard": {"order": 1, "markdown": ["## 5. Guard part", "", "a table"],
                              "headline": {"guard_vs_jdk": 1.1},
                              "headline_labels": {"guard_vs_jdk": "getAttribute, guard / JDK access file"},
                              "targets": [{"what": "guard cost", "target": "<= 1.2x", "measured": "1.10x",
                                           "met": True}]}}
    res["carried_over"] = {"rollout": "2026-11-20 10:00 UTC"}
    assert benchlib.headline(res)["guard_vs_jdk"] == 1.1
    assert {"what": "guard cost", "target": "<= 1.2x", "measured": "1.10x", "met": True} in benchlib.targets(res)
    md = benchlib.render_markdown(res)
    assert "- getAttribute, guard / JDK access file: **1.10x**" in md
    assert md.index("## 5. Guard part") < md.index("## 6. Later part")
    assert "- rollout: measured on 2026-11-20 10:00 UTC" in md
    assert json.loads(benchlib.render_json(res))["headline"]["later_ratio"] == 1.5
