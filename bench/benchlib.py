# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the benchmark (bench/run.py): parsing what the tools print (Ansible's play
recap, ProducerPerformance's summary, the rolling_restart role's per-node report), statistics over
repeated runs (median, spread, ratio of medians) and rendering the results as Markdown, JSON and a
plot. No I/O here except the plot's PNG, so tests/unit/test_bench.py covers it without a lab."""

from __future__ import annotations

import json
import re
import statistics

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

RECAP_FIELDS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*(?P<counts>(?:[a-z]+=\d+\s*)+)$")


def parse_recap(text: str) -> Dict[str, Dict[str, int]]:
    """Per-host counters of the last PLAY RECAP in ansible-playbook's output.

    Raises ValueError when the output has no recap (the run died before it) or a recap line lacks
    one of the counters."""
    start = text.rfind("PLAY RECAP")
    if start < 0:
        raise ValueError("no PLAY RECAP in the output")
    hosts: Dict[str, Dict[str, int]] = {}
    for line in text[start:].splitlines()[1:]:
        line = line.strip()
        if not line:
            if hosts:
                break
            continue
        m = _RECAP_LINE.match(line)
        if not m:
            if hosts:
                break
            continue
        counts = dict((k, int(v)) for k, v in (p.split("=") for p in m.group("counts").split()))
        missing = [f for f in RECAP_FIELDS if f not in counts]
        if missing:
            raise ValueError("recap line for %s lacks %s" % (m.group("host"), ", ".join(missing)))
        hosts[m.group("host")] = dict((f, counts[f]) for f in RECAP_FIELDS)
    if not hosts:
        raise ValueError("PLAY RECAP has no host lines")
    return hosts


def task_evaluations(counts: Mapping[str, int]) -> int:
    """Tasks evaluated on a host: ok (which in Ansible's recap already includes changed), skipped,
    failed and unreachable. Adding changed again would count every changed task twice."""
    return counts["ok"] + counts["skipped"] + counts["failed"] + counts["unreachable"]


def recap_totals(recap: Mapping[str, Mapping[str, int]]) -> Dict[str, int]:
    """Each counter summed over the hosts."""
    return dict((f, sum(c[f] for c in recap.values())) for f in RECAP_FIELDS)


def recap_problems(recap: Mapping[str, Mapping[str, int]], want_changed_zero: bool = False) -> List[str]:
    """What makes a run unusable as a measurement: failed or unreachable hosts, and with
    want_changed_zero (an idempotent rerun) any host that reports a change."""
    out = []
    for host in sorted(recap):
        c = recap[host]
        if c["failed"] or c["unreachable"]:
            out.append("%s: failed=%d unreachable=%d" % (host, c["failed"], c["unreachable"]))
        if want_changed_zero and c["changed"]:
            out.append("%s: changed=%d on a rerun (expected 0)" % (host, c["changed"]))
    return out


_PERF = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th")


def parse_producer_performance(text: str) -> Dict[str, float]:
    """The final summary line of org.apache.kafka.tools.ProducerPerformance (the interim lines
    printed while it runs have no percentiles, so the one with percentiles is the summary)."""
    found = list(_PERF.finditer(text))
    if not found:
        raise ValueError("no ProducerPerformance summary (records sent ... 99.9th) in the output")
    m = found[-1]
    return {"records": int(m.group("records")), "records_per_sec": float(m.group("rps")),
            "mb_per_sec": float(m.group("mbps")), "avg_ms": float(m.group("avg")),
            "max_ms": float(m.group("max")), "p50_ms": float(m.group("p50")),
            "p95_ms": float(m.group("p95")), "p99_ms": float(m.group("p99")),
            "p999_ms": float(m.group("p999"))}


_RESTARTED = re.compile(r"(?P<host>[^\s\"]+) \(node (?P<node>\d+)\) restarted and passed .*? in (?P<s>[\d.]+) s\.")


def parse_role_restarts(text: str) -> Dict[str, float]:
    """Per node, the seconds kafkasec.tls.rolling_restart reports from stop to every gate passed."""
    return dict((m.group("host"), float(m.group("s"))) for m in _RESTARTED.finditer(text))


def summarize(values: Sequence[float]) -> Dict[str, Any]:
    """Median and spread (min-max) of repeated measurements."""
    if not values:
        raise ValueError("no measurements")
    vals = [float(v) for v in values]
    return {"n": len(vals), "median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "values": vals}


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Ratio of the medians: what the tables call 'x baseline'."""
    d = statistics.median(denominator)
    if d <= 0:
        raise ValueError("the denominator's median is not positive")
    return statistics.median(numerator) / d


def fmt_stat(s: Mapping[str, Any], digits: int = 1, unit: str = "") -> str:
    """'12.3 (11.9-13.0)': median, then min-max."""
    f = "%%.%df" % digits
    return (f % s["median"]) + unit + " (" + (f % s["min"]) + "-" + (f % s["max"]) + ")"


def progress(part: str, step: str, elapsed: float, detail: str = "") -> str:
    """The one line run.py prints for every step: part, step, seconds since the bench started."""
    line = "[bench %6.1fs] %s: %s" % (elapsed, part, step)
    return line + (" - " + detail if detail else "")


def overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two summaries' min-max ranges overlap."""
    return a["min"] <= b["max"] and b["min"] <= a["max"]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> List[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return out


def headline(results: Mapping[str, Any]) -> Dict[str, float]:
    """The ratios the note quotes, from the results dictionary."""
    h: Dict[str, float] = {}
    for row in results.get("rollout", {}).get("sizes", []):
        h["rollout_%d_hosts_vs_baseline" % row["hosts"]] = row["ratio"]
    for row in results.get("rerun", {}).get("sizes", []):
        h["rerun_%d_hosts_vs_ping" % row["hosts"]] = row["ratio"]
    dp = results.get("data_plane")
    if dp:
        h["ssl_vs_plaintext_throughput"] = dp["throughput_ratio"]
        h["ssl_vs_plaintext_p99"] = dp["p99_ratio"]
    rr = results.get("rolling_restart")
    if rr:
        h["rolling_restart_vs_sum_of_node_restarts"] = rr["ratio"]
    return h


def render_json(results: Mapping[str, Any]) -> str:
    doc = dict(results)
    doc["headline"] = headline(results)
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_markdown(results: Mapping[str, Any], png_name: Optional[str] = None) -> str:
    """docs/benchmarks.md: the setup, the headline ratios, the four tables, the plot, notes."""
    env = results.get("environment", {})
    h = headline(results)
    lines = ["# Benchmarks", "",
             "Produced by `make bench` (bench/run.py, bench/README.md) on %s; do not edit by hand." % env.get("date", "?"),
             "",
             "Machine: %s. Kafka %s, %s. %s" % (env.get("machine", "?"), env.get("kafka_version", "?"),
                                                 env.get("ansible", "?"), env.get("forks_note", "")),
             "", "## Headline ratios (medians of runs measured side by side)", ""]
    names = {
        "rollout_%s_hosts_vs_baseline": "rollout (PKI + config) on %s host(s) / seed-style shell baseline",
        "rerun_%s_hosts_vs_ping": "idempotent rerun on %s host(s) / `ansible -m ping`",
    }
    for key, val in h.items():
        m = re.match(r"^(rollout|rerun)_(\d+)_hosts_", key)
        if m:
            label = names["%s_%%s_hosts_vs_%s" % (m.group(1), "baseline" if m.group(1) == "rollout" else "ping")] % m.group(2)
        else:
            label = {"ssl_vs_plaintext_throughput": "producer throughput, SSL / PLAINTEXT",
                     "ssl_vs_plaintext_p99": "producer p99 latency, SSL / PLAINTEXT",
                     "rolling_restart_vs_sum_of_node_restarts":
                         "rolling restart of 3 brokers / sum of the nodes' own restarts"}[key]
        lines.append("- %s: **%.2fx**" % (label, val))
    lines.append("")

    ro = results.get("rollout")
    if ro:
        lines += ["## 1. Rollout scaling: PKI + config, no restarts", "",
                  ro.get("description", ""), "",
                  "Wall seconds: median (min-max) over %d rounds, collection and baseline interleaved." % ro["rounds"], ""]
        lines += _table(
            ["hosts", "collection s", "baseline s", "collection / baseline", "task evaluations per Kafka host",
             "on the CA host"],
            [[str(r["hosts"]), fmt_stat(r["collection"]), fmt_stat(r["baseline"]), "%.2fx" % r["ratio"],
              "%.1f" % r["evaluations_per_host"], str(r["evaluations_ca"])] for r in ro["sizes"]])
        lines.append("")
    rr_ = results.get("rerun")
    if rr_:
        lines += ["## 2. Idempotent rerun", "", rr_.get("description", ""), "",
                  "Wall seconds: median (min-max) over %d rounds, rerun and ping alternating." % rr_["rounds"], ""]
        lines += _table(["hosts", "rerun s", "`ansible -m ping` s", "rerun / ping", "changed (all runs)"],
                        [[str(r["hosts"]), fmt_stat(r["rerun"]), fmt_stat(r["ping"]), "%.2fx" % r["ratio"],
                          str(r["changed_total"])] for r in rr_["sizes"]])
        lines.append("")
    dp = results.get("data_plane")
    if dp:
        lines += ["## 3. Data plane: SSL vs PLAINTEXT listener of the same cluster", "",
                  dp.get("description", ""), "",
                  "Negotiated on the SSL listener: **%s, %s** (%s)." % (
                      dp["negotiated"].get("protocol", "?"), dp["negotiated"].get("cipher", "?"),
                      dp["negotiated"].get("how", "")), "",
                  "Median (min-max) over %d runs per listener, alternating." % dp["rounds"], ""]
        lines += _table(["listener", "records/s", "MB/s", "p99 ms (held rate)", "avg ms (held rate)"],
                        [[name, fmt_stat(dp[key]["records_per_sec"], 0), fmt_stat(dp[key]["mb_per_sec"], 2),
                          fmt_stat(dp[key]["p99_ms"], 0), fmt_stat(dp[key]["avg_ms"], 1)]
                         for name, key in (("PLAINTEXT :9092", "plaintext"), ("SSL :9093", "ssl"))])
        lines += ["", "SSL / PLAINTEXT: throughput %.2fx, p99 latency %.2fx." % (dp["throughput_ratio"], dp["p99_ratio"])]
        for key, what in (("records_per_sec", "throughput"), ("p99_ms", "p99 latency")):
            if overlap(dp["plaintext"][key], dp["ssl"][key]):
                lines.append("The %s spreads of the two listeners overlap: this run cannot tell them apart on %s."
                             % (what, what))
        lines.append("")
    rr = results.get("rolling_restart")
    if rr:
        lines += ["## 4. Rolling restart of 3 brokers", "", rr.get("description", ""), "",
                  "Wall seconds: median (min-max) over %d rounds, alternating." % rr["rounds"], ""]
        lines += _table(["what", "seconds"],
                        [["`playbooks/rolling_restart.yml` (forced), total", fmt_stat(rr["total"])],
                         ["the role's own per-node times (stop to every gate passed), summed", fmt_stat(rr["role_node_sum"])],
                         ["`kafka-ctl restart` per node (stop to ready), one after another, summed", fmt_stat(rr["node_sum"])],
                         ["total / sum of `kafka-ctl restart` times", "%.2fx" % rr["ratio"]],
                         ["total / sum of the role's per-node times", "%.2fx" % rr["ratio_role"]]])
        lines.append("")
    if png_name:
        lines += ["## Plot", "", "![benchmarks](%s)" % png_name, ""]
    notes = list(results.get("notes", []))
    if results.get("elapsed_seconds", 0) > 900:
        notes.append("This run took longer than the 15 minutes the bench aims at: every part ran its minimum "
                     "rounds on a loaded machine (see the load average above).")
    if notes:
        lines += ["## Notes", ""] + ["- " + n for n in notes] + [""]
    return "\n".join(lines)


def plot(results: Mapping[str, Any], path: str) -> None:
    """docs/benchmarks.png: rollout seconds by host count (collection vs baseline, with spread), and
    the ratios of parts 2-4. Headless (Agg)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ro = results.get("rollout", {}).get("sizes", [])
    if ro:
        xs = [r["hosts"] for r in ro]
        for key, label, marker in (("collection", "kafkasec.tls (site.yml, no restarts)", "o"),
                                   ("baseline", "seed-style shell script (openssl/keytool)", "s")):
            med = [r[key]["median"] for r in ro]
            err = [[m - r[key]["min"] for m, r in zip(med, ro)], [r[key]["max"] - m for m, r in zip(med, ro)]]
            ax1.errorbar(xs, med, yerr=err, marker=marker, capsize=4, label=label)
        ax1.set_xlabel("hosts")
        ax1.set_ylabel("wall seconds (median, min-max)")
        ax1.set_title("1. PKI + config rollout")
        ax1.set_xticks(xs)
        ax1.legend(fontsize=8)
        ax1.grid(alpha=0.3)
    h = headline(results)
    others = [(k, v) for k, v in h.items() if not k.startswith("rollout_")]
    if others:
        short = {"ssl_vs_plaintext_throughput": "3. SSL/PLAIN\nthroughput", "ssl_vs_plaintext_p99": "3. SSL/PLAIN\np99",
                 "rolling_restart_vs_sum_of_node_restarts": "4. roll /\nnode restarts"}
        labels = [short.get(k) or ("2. rerun %s h\n/ ping" % k.split("_")[1]) for k, _ in others]
        ax2.bar(range(len(others)), [v for _, v in others], color="#4c72b0")
        ax2.axhline(1.0, color="grey", linewidth=1)
        ax2.set_xticks(range(len(others)))
        ax2.set_xticklabels(labels, fontsize=8)
        ax2.set_yscale("log")
        ax2.set_ylabel("ratio of medians (log scale)")
        ax2.set_title("2-4. ratios measured side by side")
        for i, (_, v) in enumerate(others):
            ax2.text(i, v, "%.2fx" % v, ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def another_round(done: int, min_rounds: int, max_rounds: int, round_seconds: Sequence[float],
                  seconds_left: float) -> bool:
    """Whether a part runs one more round: always up to min_rounds, never past max_rounds, and in
    between only when a round as long as the slowest so far still fits in the part's time left."""
    if done < min_rounds:
        return True
    if done >= max_rounds:
        return False
    return bool(round_seconds) and max(round_seconds) <= seconds_left
