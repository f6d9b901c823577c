# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the benchmark (bench/run.py): parsing what the tools print (Ansible's play
recap, ProducerPerformance's summary, the rolling_restart role's per-node report, /proc/stat and
/proc/<pid>/stat, ansible-config dump, the bench's task timer records), statistics over repeated
runs (median, spread, ratio of medians, growth, a least-squares line), the CPU cost split, the
1,000-host projection, the issue's targets, and rendering the results as Markdown, JSON and a plot.
No I/O here except the plot's PNG, so tests/unit/test_bench.py covers it without a lab."""

from __future__ import annotations

import json
import math
import re
import statistics

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

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
    r"(?P<records>\d+)(?P<steady> steady state)? records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th")


def parse_producer_performance(text: str) -> Dict[str, float]:
    """The final summary line of org.apache.kafka.tools.ProducerPerformance (the interim lines
    printed while it runs have no percentiles, so the one with percentiles is the summary).

    With --warmup-records the tool prints a second summary for the steady state (the records after
    the warm-up: connections made, JIT warm); its figures come back as steady_* keys."""
    found = [m for m in _PERF.finditer(text) if not m.group("steady")]
    if not found:
        raise ValueError("no ProducerPerformance summary (records sent ... 99.9th) in the output")
    result = _perf_figures(found[-1], "")
    steady = [m for m in _PERF.finditer(text) if m.group("steady")]
    if steady:
        result.update(_perf_figures(steady[-1], "steady_"))
    return result


def _perf_figures(m: "re.Match[str]", prefix: str) -> Dict[str, float]:
    return {prefix + "records": int(m.group("records")), prefix + "records_per_sec": float(m.group("rps")),
            prefix + "mb_per_sec": float(m.group("mbps")), prefix + "avg_ms": float(m.group("avg")),
            prefix + "max_ms": float(m.group("max")), prefix + "p50_ms": float(m.group("p50")),
            prefix + "p95_ms": float(m.group("p95")), prefix + "p99_ms": float(m.group("p99")),
            prefix + "p999_ms": float(m.group("p999"))}


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


# -- CPU accounting ----------------------------------------------------------------------------------
# The aggregate "cpu" line of /proc/stat, in USER_HZ ticks (proc(5)); older kernels print fewer columns.
PROC_STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice")
# Work the CPUs did. guest and guest_nice are already inside user and nice; idle, iowait and steal are not work.
BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq")


def parse_proc_stat(text: str) -> Dict[str, int]:
    """The aggregate 'cpu' line of /proc/stat as named tick counters (columns a kernel does not print are 0)."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(v) for v in parts[1:]]
            if len(values) < 7:
                raise ValueError("the cpu line of /proc/stat has %d columns, expected at least 7" % len(values))
            values += [0] * (len(PROC_STAT_FIELDS) - len(values))
            return dict(zip(PROC_STAT_FIELDS, values))
    raise ValueError("no aggregate cpu line in /proc/stat")


def busy_seconds(before: str, after: str, clk_tck: int) -> float:
    """Whole-machine CPU seconds between two /proc/stat readings: user + nice + system + irq + softirq."""
    b, a = parse_proc_stat(before), parse_proc_stat(after)
    ticks = sum(a[f] - b[f] for f in BUSY_FIELDS)
    if ticks < 0:
        raise ValueError("the /proc/stat counters went backwards")
    return ticks / float(clk_tck)


def parse_pid_stat_fields(text: str) -> Tuple[int, int, int]:
    """(ppid, utime + stime, cutime + cstime) from one /proc/<pid>/stat line, ticks. cutime + cstime
    is the CPU of the children the process has reaped (each with its own reaped children). The command
    name (field 2) is in parentheses and may hold spaces and parentheses, so fields are counted after
    the last ')'."""
    head, sep, rest = text.rpartition(")")
    if not sep or "(" not in head:
        raise ValueError("not a /proc/<pid>/stat line")
    fields = rest.split()
    # fields[0] is field 3 (state); ppid is field 4; utime, stime, cutime, cstime are fields 14-17.
    if len(fields) < 15:
        raise ValueError("/proc/<pid>/stat line too short")
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def parse_pid_stat(text: str) -> int:
    """utime + stime (ticks) from one /proc/<pid>/stat line."""
    return parse_pid_stat_fields(text)[1]


def subtree_ticks(procs: Mapping[int, Tuple[int, int, int]], roots: Iterable[int]) -> int:
    """CPU ticks of the process trees under `roots` (roots included), from {pid: (ppid, own, reaped)}:
    each live process's own ticks plus those of the children it has reaped. A process that ended
    and was reaped inside the tree is in its parent's reaped ticks, so the sum only grows while the
    tree runs: the difference of two readings is the CPU the tree used in between (a lab host's sshd:
    its sessions, shells and module runs)."""
    children: Dict[int, List[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, seen = 0, set()
    todo = [r for r in roots if r in procs]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += procs[pid][1] + procs[pid][2]
        todo.extend(children.get(pid, []))
    return total


def ticks_delta(before: Mapping[int, int], after: Mapping[int, int]) -> int:
    """CPU ticks a set of processes used between two readings ({pid: utime + stime}): a process new in
    the second reading counts from zero; one that is gone by then is not counted (its last ticks are
    not known)."""
    return sum(max(0, ticks - before.get(pid, 0)) for pid, ticks in after.items())


def cpu_costs(controller_s: float, machine_s: float, hosts: int, sshd_s: Optional[float] = None) -> Dict[str, float]:
    """One run's CPU seconds: the control node's (ansible and its children, plus its SSH masters), the
    whole machine's, and the managed hosts' as machine - controller. That last one is an estimate: the
    machine also runs whatever else is going on beside the run (idle brokers, other work). With
    sshd_s (the CPU of the lab hosts' sshd process trees: sessions, shells, module runs) also the
    hosts' CPU as measured there, and controller + that as the run's total. Each also divided by the
    number of Kafka hosts."""
    if hosts <= 0:
        raise ValueError("hosts must be positive")
    managed = max(0.0, machine_s - controller_s)
    out = {"controller": controller_s, "machine": machine_s, "hosts": managed,
           "controller_per_host": controller_s / hosts, "hosts_per_host": managed / hosts,
           "machine_per_host": machine_s / hosts}
    if sshd_s is not None:
        out.update({"hosts_sshd": sshd_s, "hosts_sshd_per_host": sshd_s / hosts,
                    "total_per_host": (controller_s + sshd_s) / hosts})
    return out


def summarize_runs(runs: Sequence[Mapping[str, float]]) -> Dict[str, Dict[str, Any]]:
    """summarize() of every key of a list of equally keyed dicts (e.g. cpu_costs of each round)."""
    if not runs:
        raise ValueError("no measurements")
    return dict((k, summarize([r[k] for r in runs])) for k in runs[0])


# -- statistics over host counts -------------------------------------------------------------------------
def growth(rows: Sequence[Mapping[str, Any]], key: str, first: int, last: int) -> float:
    """How many times a median grows from `first` to `last` hosts (rows as in results['rollout']['sizes'])."""
    by = dict((r["hosts"], r) for r in rows if key in r)
    if first not in by or last not in by:
        raise ValueError("no %s measured at %d and %d hosts" % (key, first, last))
    base = by[first][key]["median"]
    if base <= 0:
        raise ValueError("the median at %d hosts is not positive" % first)
    return by[last][key]["median"] / base


def falls(values: Sequence[float]) -> bool:
    """Whether a series strictly decreases (at least two values)."""
    return len(values) >= 2 and all(b < a for a, b in zip(values, values[1:]))


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Tuple[float, float]:
    """Least-squares line y = a + b * x: (a, b). Needs two distinct x."""
    if len(xs) != len(ys) or len(set(xs)) < 2:
        raise ValueError("a line needs points at two different x")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


# -- what a run reports about its hosts --------------------------------------------------------------------
def evaluations_summary(recap: Mapping[str, Mapping[str, int]], ca_prefix: str = "ca.") -> Dict[str, Any]:
    """Task evaluations per Kafka host (every recap host but the CA host): mean, min, max, each host's,
    and the CA host's own count."""
    kafka = dict((h, task_evaluations(c)) for h, c in recap.items() if not h.startswith(ca_prefix))
    ca = [task_evaluations(c) for h, c in recap.items() if h.startswith(ca_prefix)]
    if not kafka:
        raise ValueError("no Kafka host in the recap")
    vals = list(kafka.values())
    return {"hosts": len(vals), "mean": statistics.fmean(vals), "min": min(vals), "max": max(vals),
            "ca": ca[0] if ca else None, "per_host": dict(sorted(kafka.items()))}


def parse_task_timer(text: str) -> List[Dict[str, Any]]:
    """The bench's task timer file: one JSON object per line (host, task, delegate, seconds)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def task_times(records: Iterable[Mapping[str, Any]], ca_names: Iterable[str]) -> Dict[str, float]:
    """From the task timer's records (one per task and host, seconds from the task's start on that
    host to its result): ca_seconds, the tasks that ran on the CA host (its own and those delegated to
    it); sign_seconds, those delegated to it from other hosts (the signing of every CSR);
    host_seconds, the mean over the other hosts of their own tasks' seconds (a host's chain of SSH
    round trips and module runs, delegated tasks left out)."""
    ca = set(ca_names)
    ca_s = sign_s = 0.0
    own: Dict[str, float] = {}
    for r in records:
        host, delegate, sec = r["host"], r.get("delegate"), float(r["seconds"])
        if host in ca or delegate in ca:
            ca_s += sec
            if host not in ca:
                sign_s += sec
        if host not in ca:
            own.setdefault(host, 0.0)
            if not delegate:
                own[host] += sec
    return {"ca_seconds": ca_s, "sign_seconds": sign_s,
            "host_seconds": statistics.fmean(own.values()) if own else 0.0}


def config_summary(base: Sequence[Any], connection: Sequence[Any]) -> Dict[str, Any]:
    """forks, pipelining, ssh_args and inject_facts_as_vars in effect, from `ansible-config dump
    --format json` (base) and `ansible-config dump --format json -t connection` (the ssh plugin's own
    settings win)."""
    b = dict((i["name"], i.get("value")) for i in base if isinstance(i, dict) and "name" in i)
    ssh: Dict[str, Any] = {}
    for block in connection:
        if isinstance(block, dict) and isinstance(block.get("ssh"), list):
            ssh = dict((i["name"], i.get("value")) for i in block["ssh"] if isinstance(i, dict) and "name" in i)
    pipelining = ssh["pipelining"] if ssh.get("pipelining") is not None else b.get("ANSIBLE_PIPELINING")
    inject = b.get("INJECT_FACTS_AS_VARS")
    return {"forks": b.get("DEFAULT_FORKS"), "pipelining": bool(pipelining), "ssh_args": ssh.get("ssh_args"),
            "inject_facts_as_vars": True if inject is None else bool(inject)}


# -- the projection ----------------------------------------------------------------------------------------
PROJECTION_FORMULA = (
    "controller-bound = hosts x controller CPU s per host / min(cores, forks); "
    "fork-bound = ceil(hosts / forks) x one host's own task seconds (Ansible's linear strategy: every task "
    "goes through the hosts forks at a time); CA signing = a + b x hosts (least-squares line of the signing "
    "task's seconds over the measured sizes; one call on one host, every other host waits for it); "
    "projected = max(controller-bound, fork-bound) + CA signing")


def projection(controller_cpu_per_host: float, per_host_seconds: float, forks: int, hosts: int = 1000,
               cores: int = 16, ca_sign_seconds: Optional[float] = None) -> Dict[str, Any]:
    """Wall time of a rollout to `hosts` hosts from a `cores`-core control node, in the simple model of
    PROJECTION_FORMULA, and which term dominates."""
    if forks <= 0 or cores <= 0 or hosts <= 0:
        raise ValueError("forks, cores and hosts must be positive")
    controller = hosts * controller_cpu_per_host / min(cores, forks)
    fork = math.ceil(hosts / float(forks)) * per_host_seconds
    ca = ca_sign_seconds or 0.0
    terms = {"controller CPU": controller, "forks (per-host round trips)": fork, "CA signing": ca}
    return {"forks": forks, "hosts": hosts, "cores": cores, "controller_bound_s": controller,
            "fork_bound_s": fork, "ca_sign_s": ca, "projected_s": max(controller, fork) + ca,
            "dominant": max(terms, key=lambda k: terms[k])}


def projection_inputs(rollout: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The measured per-host costs the projection starts from (recommended configuration):
    controller and hosts' CPU s per host at the largest measured size (per-host costs fall with the
    host count, so the largest size is the closest to a large estate); one host's own task seconds
    at the smallest size (a host alone, nothing queued), or that run's wall time without the task
    timer; the CA's signing line over the sizes. None when the results have no CPU figures."""
    rows = sorted((r for r in rollout.get("sizes", []) if "cpu" in r), key=lambda r: r["hosts"])
    if not rows:
        return None
    big, small = rows[-1], rows[0]
    out: Dict[str, Any] = {
        "controller_cpu_per_host": big["cpu"]["controller_per_host"]["median"],
        "cpu_measured_at_hosts": big["hosts"]}
    if "hosts_sshd_per_host" in big["cpu"]:
        out["hosts_cpu_per_host"] = big["cpu"]["hosts_sshd_per_host"]["median"]
        out["hosts_cpu_from"] = "the hosts' sshd process trees"
    else:
        out["hosts_cpu_per_host"] = big["cpu"]["hosts_per_host"]["median"]
        out["hosts_cpu_from"] = "machine - controller, an estimate"
    if small.get("host_task_seconds"):
        out["per_host_seconds"] = small["host_task_seconds"]["median"]
        out["per_host_seconds_from"] = "one host's own task seconds in the %d-host rollout (task timer)" % small["hosts"]
    else:
        out["per_host_seconds"] = small["collection"]["median"]
        out["per_host_seconds_from"] = "wall time of the %d-host rollout (start-up included: an upper bound)" % small["hosts"]
    signs = [(r["hosts"], r["sign_seconds"]["median"]) for r in rows if r.get("sign_seconds")]
    if len(set(h for h, _ in signs)) >= 2:
        a, b = linear_fit([h for h, _ in signs], [s for _, s in signs])
        if b < 0:
            # The signing did not grow with the host count in this run (noise beats the per-CSR cost):
            # counted as flat, at its mean.
            a, b = statistics.fmean(s for _, s in signs), 0.0
            out["ca_sign_flat"] = True
        out["ca_sign_fixed_s"], out["ca_sign_per_host_s"] = a, b
    elif signs:
        out["ca_sign_fixed_s"], out["ca_sign_per_host_s"] = 0.0, signs[0][1] / signs[0][0]
    return out


def build_projection(rollout: Mapping[str, Any], forks_list: Sequence[int], hosts: int = 1000,
                     cores: int = 16) -> Optional[Dict[str, Any]]:
    """The projection for each forks setting, with its inputs and formula (results['projection'])."""
    inputs = projection_inputs(rollout)
    if inputs is None:
        return None
    ca = None
    if "ca_sign_per_host_s" in inputs:
        ca = max(0.0, inputs["ca_sign_fixed_s"] + inputs["ca_sign_per_host_s"] * hosts)
    scenarios = [projection(inputs["controller_cpu_per_host"], inputs["per_host_seconds"], f, hosts, cores, ca)
                 for f in forks_list]
    return {"hosts": hosts, "cores": cores, "inputs": inputs, "scenarios": scenarios, "formula": PROJECTION_FORMULA}


# What the whole bench aims at (bench/README.md, "Time").
BENCH_AIM_SECONDS = 1500


# -- the targets -----------------------------------------------------------------------------------
TARGETS = {
    "rollout_vs_baseline_recommended": 0.5,
    "rollout_vs_baseline_defaults": 1.0,
    "rollout_growth_vs_ping_growth": 1.2,
    "evaluations_full_site_yml": 25,
    "rerun_vs_ping": 4.0,
    "rolling_restart_vs_node_restarts": 1.3,
}


def targets(results: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Each target of the issue that this results dictionary has a figure for: what, target,
    measured (text) and met (bool)."""
    out: List[Dict[str, Any]] = []

    def add(what: str, target: str, measured: str, met: bool) -> None:
        out.append({"what": what, "target": target, "measured": measured, "met": bool(met)})

    ro = results.get("rollout", {})
    cmp_ = ro.get("configs")
    if cmp_:
        for name, key in (("recommended", "rollout_vs_baseline_recommended"), ("defaults", "rollout_vs_baseline_defaults")):
            row = cmp_["rows"].get(name)
            if row:
                add("rollout on %d hosts / shell baseline, %s configuration" % (cmp_["hosts"], name),
                    "<= %.1fx" % TARGETS[key], "%.2fx" % row["ratio"], row["ratio"] <= TARGETS[key])
    g = ro.get("growth")
    if g:
        add("rollout's growth from %d to %d hosts / `ansible -m ping`'s growth" % (g["from"], g["to"]),
            "<= %.1fx" % TARGETS["rollout_growth_vs_ping_growth"],
            "%.2fx (rollout %.2fx, ping %.2fx)" % (g["ratio"], g["rollout"], g["ping"]),
            g["ratio"] <= TARGETS["rollout_growth_vs_ping_growth"])
    cpu_rows = sorted((r for r in ro.get("sizes", []) if "cpu" in r), key=lambda r: r["hosts"])
    if len(cpu_rows) >= 2:
        # controller + the hosts' sshd trees when every size has them; the whole machine's otherwise
        key, what = (("total_per_host", "controller + hosts' sshd trees") if all("total_per_host" in r["cpu"] for r in cpu_rows)
                     else ("machine_per_host", "whole machine"))
        vals = [r["cpu"][key]["median"] for r in cpu_rows]
        add("CPU seconds per host (%s) as hosts are added (%s hosts)" % (what, ", ".join(str(r["hosts"]) for r in cpu_rows)),
            "falls", " -> ".join("%.2f" % v for v in vals), falls(vals))
    ev = results.get("evaluations", {}).get("full_site_yml")
    if ev:
        add("task evaluations per Kafka host, full site.yml with restarts (%d hosts; max, mean)" % ev["hosts"],
            "<= %d" % TARGETS["evaluations_full_site_yml"], "max %d, mean %.1f" % (ev["max"], ev["mean"]),
            ev["max"] <= TARGETS["evaluations_full_site_yml"])
    for row in results.get("rerun", {}).get("sizes", []):
        if "config" in row:
            add("idempotent rerun on %d hosts / `ansible -m ping`, %s configuration" % (row["hosts"], row["config"]),
                "<= %.0fx" % TARGETS["rerun_vs_ping"], "%.2fx" % row["ratio"], row["ratio"] <= TARGETS["rerun_vs_ping"])
    rr = results.get("rolling_restart")
    if rr:
        add("forced rolling restart of 3 brokers / sum of `kafka-ctl restart`",
            "<= %.1fx" % TARGETS["rolling_restart_vs_node_restarts"], "%.2fx" % rr["ratio"],
            rr["ratio"] <= TARGETS["rolling_restart_vs_node_restarts"])
    for part in extra_parts(results):
        out.extend(part.get("targets", []))
    return out


# -- rendering ---------------------------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> List[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return out


def headline(results: Mapping[str, Any]) -> Dict[str, float]:
    """The ratios the note quotes, from the results dictionary."""
    h: Dict[str, float] = {}
    ro = results.get("rollout", {})
    for row in ro.get("sizes", []):
        h["rollout_%d_hosts_vs_baseline" % row["hosts"]] = row["ratio"]
    cmp_ = ro.get("configs")
    if cmp_ and "defaults" in cmp_["rows"]:
        h["rollout_%d_hosts_vs_baseline_defaults" % cmp_["hosts"]] = cmp_["rows"]["defaults"]["ratio"]
    if ro.get("growth"):
        h["rollout_growth_vs_ping_growth"] = ro["growth"]["ratio"]
    for row in results.get("rerun", {}).get("sizes", []):
        suffix = "_defaults" if row.get("config") == "defaults" else ""
        h["rerun_%d_hosts_vs_ping%s" % (row["hosts"], suffix)] = row["ratio"]
    dp = results.get("data_plane")
    if dp:
        h["ssl_vs_plaintext_throughput"] = dp["throughput_ratio"]
        h["ssl_vs_plaintext_p99"] = dp["p99_ratio"]
        if "steady_p99_ratio" in dp:
            h["ssl_vs_plaintext_steady_p99"] = dp["steady_p99_ratio"]
            h["ssl_aes128_vs_plaintext_steady_p99"] = dp["aes128_steady_p99_ratio"]
    rr = results.get("rolling_restart")
    if rr:
        h["rolling_restart_vs_sum_of_node_restarts"] = rr["ratio"]
    for part in extra_parts(results):
        h.update(part.get("headline", {}))
    return h


def extra_parts(results: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    """The results of the parts that live in bench/part_<key>.py, in their run order. Each carries what
    the part computed when it ran: title, headline ({key: ratio}), headline_labels ({key: text}),
    targets (rows as targets() makes them) and markdown (lines), so a results file renders again
    without the part's code."""
    return [results["extra"][k] for k in sorted(results.get("extra", {}),
                                                 key=lambda k: results["extra"][k].get("order", 0))]


def _headline_label(key: str, results: Mapping[str, Any]) -> str:
    two_configs = bool(results.get("rollout", {}).get("configs"))
    m = re.match(r"^(rollout|rerun)_(\d+)_hosts_vs_(baseline|ping)(_defaults)?$", key)
    if m:
        what = ("rollout (PKI + config) on %s host(s) / seed-style shell baseline" if m.group(1) == "rollout"
                else "idempotent rerun on %s host(s) / `ansible -m ping`") % m.group(2)
        if m.group(4):
            return what + ", Ansible's defaults"
        if two_configs and (m.group(1) == "rollout" or any(r.get("config") for r in results["rerun"]["sizes"])):
            return what + ", recommended ansible.cfg"
        return what
    if key == "rollout_growth_vs_ping_growth":
        g = results["rollout"]["growth"]
        return "growth of the rollout's wall time from %d to %d hosts / growth of `ansible -m ping`'s" % (g["from"], g["to"])
    for part in extra_parts(results):
        if key in part.get("headline_labels", {}):
            return part["headline_labels"][key]
    return {"ssl_vs_plaintext_throughput": "producer throughput, SSL / PLAINTEXT",
            "ssl_vs_plaintext_p99": "producer p99 latency, SSL / PLAINTEXT",
            "rolling_restart_vs_sum_of_node_restarts": "rolling restart of 3 brokers / sum of the nodes' own restarts"}.get(key, key)


def render_json(results: Mapping[str, Any]) -> str:
    doc = dict(results)
    doc["headline"] = headline(results)
    doc["targets"] = targets(results)
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def on_off(v: Any) -> str:
    """'on' or 'off' for a boolean setting."""
    return "on" if v else "off"


def _render_configs(env: Mapping[str, Any]) -> List[str]:
    cfgs = env.get("configs")
    if not cfgs:
        return []
    where = {"recommended": "the repository's `ansible.cfg`", "defaults": "an empty file: Ansible's own defaults"}
    lines = ["## Ansible configurations", ""]
    lines += _table(["configuration", "ANSIBLE_CONFIG", "forks", "pipelining", "ssh_args", "inject_facts_as_vars"],
                    [[name, where.get(name, name), str(c.get("forks")), on_off(c.get("pipelining")),
                      "`%s`" % c.get("ssh_args"), on_off(c.get("inject_facts_as_vars", True))]
                     for name, c in cfgs.items()])
    lines += ["", env.get("configs_note", ""), ""]
    return lines


def _render_rollout(ro: Mapping[str, Any]) -> List[str]:
    lines = ["## 1. Rollout scaling: PKI + config, no restarts", "", ro.get("description", ""), "",
             "Wall seconds: median (min-max) over %d rounds, collection and baseline interleaved." % ro["rounds"], ""]
    rows = ro["sizes"]
    with_ping = any("ping" in r for r in rows)
    with_rounds = any("rounds" in r for r in rows)
    header = ["hosts"] + (["rounds"] if with_rounds else []) + ["collection s", "baseline s", "collection / baseline"]
    header += (["`ansible -m ping` s"] if with_ping else []) + ["task evaluations per Kafka host", "on the CA host"]
    body = []
    for r in rows:
        line = [str(r["hosts"])] + ([str(r.get("rounds", ro["rounds"]))] if with_rounds else [])
        line += [fmt_stat(r["collection"]), fmt_stat(r["baseline"]), "%.2fx" % r["ratio"]]
        line += ([fmt_stat(r["ping"], 2) if "ping" in r else "-"] if with_ping else [])
        ev = "%.1f" % r["evaluations_per_host"]
        if "evaluations_max" in r:
            ev += " (max %d)" % r["evaluations_max"]
        body.append(line + [ev, str(r["evaluations_ca"])])
    lines += _table(header, body) + [""]
    cmp_ = ro.get("configs")
    if cmp_:
        lines += ["### Recommended ansible.cfg vs Ansible's defaults, %d hosts" % cmp_["hosts"], "",
                  "Measured in the same rounds, interleaved with the same baseline runs (baseline %s s)."
                  % fmt_stat(cmp_["baseline"]), ""]
        sshd = all("hosts_sshd" in r.get("cpu", {}) for r in cmp_["rows"].values())
        lines += _table(["configuration", "forks", "pipelining", "collection s", "collection / baseline",
                         "controller CPU s"] + (["hosts' CPU s (sshd trees)"] if sshd else [])
                        + ["hosts' CPU s (machine - controller, estimate)"],
                        [[name, str(r.get("forks")), on_off(r.get("pipelining")), fmt_stat(r["collection"]),
                          "%.2fx" % r["ratio"], fmt_stat(r["cpu"]["controller"]) if "cpu" in r else "-"]
                         + ([fmt_stat(r["cpu"]["hosts_sshd"])] if sshd else [])
                         + [fmt_stat(r["cpu"]["hosts"]) if "cpu" in r else "-"] for name, r in cmp_["rows"].items()])
        lines.append("")
    g = ro.get("growth")
    if g:
        lines += ["### Growth with the host count", "",
                  "From %d to %d hosts the rollout's median wall time grows %.2fx and `ansible all -m ping`'s %.2fx "
                  "(same configuration, SSH masters warm): the rollout grows **%.2fx** as fast as reaching the hosts "
                  "at all." % (g["from"], g["to"], g["rollout"], g["ping"], g["ratio"])]
        gb = ro.get("growth_big")
        if gb:
            lines.append("From %d to %d hosts: rollout %.2fx, ping %.2fx (ratio %.2fx)."
                         % (gb["from"], gb["to"], gb["rollout"], gb["ping"], gb["ratio"]))
        lines.append("")
    cpu_rows = [r for r in rows if "cpu" in r]
    if cpu_rows:
        sshd = all("hosts_sshd_per_host" in r["cpu"] for r in cpu_rows)
        lines += ["### Cost per host", "",
                  "CPU seconds of one rollout divided by its Kafka hosts, median (min-max). Controller: "
                  "`getrusage(RUSAGE_CHILDREN)` around ansible-playbook plus its SSH masters' CPU from /proc; "
                  "machine: the busy ticks of /proc/stat (user + nice + system + irq + softirq); hosts (machine - "
                  "controller): an **estimate**, since the machine is shared (the idle brokers, other work) and every "
                  "host is on it."
                  + (" Hosts (sshd trees): the CPU of the lab hosts' sshd process trees (sessions, shells, module "
                     "runs; each live process's own ticks plus its reaped children's, from /proc), which other work on "
                     "the machine does not blur." if sshd else "")
                  + " CA host seconds: the tasks that ran on the CA host (its own and the signing delegated to it), "
                  "from the bench's task timer.", ""]
        header = ["hosts", "controller CPU s/host"] + (["hosts' CPU s/host (sshd trees)", "controller + hosts s/host"]
                                                       if sshd else [])
        header += ["hosts' CPU s/host (machine - controller, estimate)", "machine CPU s/host",
                   "CA host task s", "of which signing s", "one host's own task s"]
        body = []
        for r in cpu_rows:
            c = r["cpu"]
            body.append([str(r["hosts"]), fmt_stat(c["controller_per_host"], 2)]
                        + ([fmt_stat(c["hosts_sshd_per_host"], 2), fmt_stat(c["total_per_host"], 2)] if sshd else [])
                        + [fmt_stat(c["hosts_per_host"], 2), fmt_stat(c["machine_per_host"], 2)]
                        + [fmt_stat(r[k], 2) if r.get(k) else "-" for k in ("ca_seconds", "sign_seconds")]
                        + [fmt_stat(r["host_task_seconds"], 1) if r.get("host_task_seconds") else "-"])
        lines += _table(header, body) + [""]
    return lines


def _render_rerun(rr_: Mapping[str, Any]) -> List[str]:
    lines = ["## 2. Idempotent rerun", "", rr_.get("description", ""), "",
             "Wall seconds: median (min-max) over %d rounds, rerun and ping alternating." % rr_["rounds"], ""]
    rows = rr_["sizes"]
    with_cfg = any("config" in r for r in rows)
    with_ev = any("evaluations_per_host" in r for r in rows)
    header = ["hosts"] + (["configuration"] if with_cfg else []) + ["rerun s", "`ansible -m ping` s", "rerun / ping",
                                                                     "changed (all runs)"]
    header += ["task evaluations per Kafka host"] if with_ev else []
    body = []
    for r in rows:
        line = [str(r["hosts"])] + ([r.get("config", "-")] if with_cfg else [])
        line += [fmt_stat(r["rerun"]), fmt_stat(r["ping"]), "%.2fx" % r["ratio"], str(r["changed_total"])]
        if with_ev:
            line.append("%.1f (max %d)" % (r["evaluations_per_host"], r["evaluations_max"]) if "evaluations_per_host" in r else "-")
        body.append(line)
    return lines + _table(header, body) + [""]


def _render_evaluations(ev: Mapping[str, Any]) -> List[str]:
    names = {"full_site_yml": "full `site.yml`, restarts included (part 3)",
             "rollout_no_restart": "`site.yml --skip-tags restart`, first rollout (part 1)",
             "rerun": "`site.yml --skip-tags restart`, no-op rerun (part 2)"}
    lines = ["## Task evaluations per Kafka host", "",
             "ok + skipped + failed + unreachable from the play recap, per Kafka host (the CA host apart).", ""]
    lines += _table(["run", "Kafka hosts", "mean", "max", "CA host"],
                    [[names.get(k, k), str(v["hosts"]), "%.1f" % v["mean"], str(v["max"]),
                      "-" if v.get("ca") is None else str(v["ca"])]
                     for k, v in ev.items() if k in names])
    return lines + [""]


def _render_projection(pr: Mapping[str, Any]) -> List[str]:
    i = pr["inputs"]
    lines = ["## Projection: %s hosts from a %d-core control node" % ("{:,}".format(pr["hosts"]), pr["cores"]), "",
             "A model, not a measurement: %s." % pr["formula"], "",
             "Inputs measured above (recommended configuration):", "",
             "- controller CPU: %.3f s per host (at %d hosts)" % (i["controller_cpu_per_host"], i["cpu_measured_at_hosts"]),
             "- hosts' CPU: %.3f s per host (%s; each host spends it on its own machine, so it is no bound here)"
             % (i["hosts_cpu_per_host"], i.get("hosts_cpu_from", "estimate")),
             "- one host's task seconds: %.2f s (%s)" % (i["per_host_seconds"], i["per_host_seconds_from"])]
    if "ca_sign_per_host_s" in i:
        lines.append("- CA signing: %.2f s + %.4f s per host%s" % (
            i["ca_sign_fixed_s"], i["ca_sign_per_host_s"],
            " (it did not grow with the host count in this run: counted as flat, at its mean)" if i.get("ca_sign_flat") else ""))
    else:
        lines.append("- CA signing: not isolated in this run (left out)")
    lines.append("")
    lines += _table(["forks", "controller-bound s", "fork-bound s", "CA signing s", "projected s", "dominant"],
                    [[str(s["forks"]), "%.0f" % s["controller_bound_s"], "%.0f" % s["fork_bound_s"],
                      "%.0f" % s["ca_sign_s"], "%.0f (%.1f min)" % (s["projected_s"], s["projected_s"] / 60.0),
                      s["dominant"]] for s in pr["scenarios"]])
    return lines + [""]


def render_markdown(results: Mapping[str, Any], png_name: Optional[str] = None) -> str:
    """docs/benchmarks.md: the setup, the headline ratios, the targets, the tables, the projection, the
    plot, notes. Results files from before the two configurations render too (their sections only)."""
    env = results.get("environment", {})
    h = headline(results)
    lines = ["# Benchmarks", "",
             "Produced by `make bench` (bench/run.py, bench/README.md) on %s; do not edit by hand." % env.get("date", "?"),
             "",
             "Machine: %s. Kafka %s, %s. %s" % (env.get("machine", "?"), env.get("kafka_version", "?"),
                                                 env.get("ansible", "?"), env.get("forks_note", "")),
             "", "## Headline ratios (medians of runs measured side by side)", ""]
    for key, val in h.items():
        lines.append("- %s: **%.2fx**" % (_headline_label(key, results), val))
    lines.append("")
    tg = targets(results)
    if tg:
        lines += ["## Targets", ""]
        lines += _table(["what", "target", "measured", "met"],
                        [[t["what"], t["target"], t["measured"], "yes" if t["met"] else "**no**"] for t in tg])
        lines.append("")
    lines += _render_configs(env)
    ro = results.get("rollout")
    if ro:
        lines += _render_rollout(ro)
    rr_ = results.get("rerun")
    if rr_:
        lines += _render_rerun(rr_)
    if results.get("evaluations"):
        lines += _render_evaluations(results["evaluations"])
    dp = results.get("data_plane")
    if dp:
        lines += ["## 3. Data plane: SSL vs PLAINTEXT listener of the same cluster", "",
                  dp.get("description", ""), "",
                  "Negotiated on the SSL listener: **%s, %s** (%s)." % (
                      dp["negotiated"].get("protocol", "?"), dp["negotiated"].get("cipher", "?"),
                      dp["negotiated"].get("how", "")), "",
                  "Median (min-max) over %d runs per listener, alternating." % dp["rounds"], ""]
        steady = "steady_p99_ms" in dp["ssl"]
        listeners = [("PLAINTEXT :9092", "plaintext"), ("SSL :9093", "ssl")]
        if "ssl_aes128" in dp:
            listeners.append(("SSL :9093, client offers AES-128-GCM only", "ssl_aes128"))
        lines += _table(["listener", "records/s", "MB/s", "p99 ms (held rate)", "avg ms (held rate)"]
                        + (["steady-state p99 ms", "steady-state avg ms"] if steady else []),
                        [[name, fmt_stat(dp[key]["records_per_sec"], 0), fmt_stat(dp[key]["mb_per_sec"], 2),
                          fmt_stat(dp[key]["p99_ms"], 0), fmt_stat(dp[key]["avg_ms"], 1)]
                         + ([fmt_stat(dp[key]["steady_p99_ms"], 0), fmt_stat(dp[key]["steady_avg_ms"], 1)]
                            if steady else [])
                         for name, key in listeners])
        lines += ["", "SSL / PLAINTEXT: throughput %.2fx, p99 latency %.2fx." % (dp["throughput_ratio"], dp["p99_ratio"])]
        if steady:
            lines.append("In the steady state (the warm-up records, which pay for the connections, left out): "
                         "SSL / PLAINTEXT p99 %.2fx; with AES-128-GCM %.2fx; AES-128 / AES-256 throughput %.2fx."
                         % (dp["steady_p99_ratio"], dp["aes128_steady_p99_ratio"], dp["aes128_vs_default_throughput"]))
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
    for part in extra_parts(results):
        lines += list(part.get("markdown", [])) + [""]
    if results.get("projection"):
        lines += _render_projection(results["projection"])
    carried = results.get("carried_over", {})
    if carried:
        lines += ["## Parts carried over", "",
                  "This run measured only some parts (KAFKASEC_BENCH_PARTS); the others are the figures of an "
                  "earlier run, unchanged:", ""]
        lines += ["- %s: measured on %s" % (k, v) for k, v in sorted(carried.items())] + [""]
    if png_name:
        lines += ["## Plot", "", "![benchmarks](%s)" % png_name, ""]
    notes = list(results.get("notes", []))
    if results.get("elapsed_seconds", 0) > BENCH_AIM_SECONDS:
        notes.append("This run took longer than the %d minutes the bench aims at: every part ran its minimum "
                     "rounds on a loaded machine (see the load average above)." % (BENCH_AIM_SECONDS // 60))
    if notes:
        lines += ["## Notes", ""] + ["- " + n for n in notes] + [""]
    return "\n".join(lines)



def plot(results: Mapping[str, Any], path: str) -> None:
    """docs/benchmarks.png: wall seconds by host count (rollout with the recommended configuration and
    with Ansible's defaults, the shell baseline, `ansible -m ping`, with spread), CPU seconds per host
    by host count, and the ratios of parts 2-4. Headless (Agg)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    ro_ = results.get("rollout", {})
    ro = ro_.get("sizes", [])
    cpu_rows = [r for r in ro if "cpu" in r]
    fig, axes = plt.subplots(1, 3 if cpu_rows else 2, figsize=(16 if cpu_rows else 11, 4.4))
    ax1, ax2 = axes[0], axes[-1]
    if ro:
        xs = [r["hosts"] for r in ro]
        coll = "kafkasec.tls (site.yml, no restarts)" + (", recommended ansible.cfg" if ro_.get("configs") else "")
        for key, label, marker in (("collection", coll, "o"),
                                   ("baseline", "seed-style shell script (openssl/keytool)", "s"),
                                   ("ping", "`ansible all -m ping` (SSH masters warm)", "^")):
            rows = [r for r in ro if key in r]
            if not rows:
                continue
            med = [r[key]["median"] for r in rows]
            err = [[m - r[key]["min"] for m, r in zip(med, rows)], [r[key]["max"] - m for m, r in zip(med, rows)]]
            ax1.errorbar([r["hosts"] for r in rows], med, yerr=err, marker=marker, capsize=4, label=label)
        cmp_ = ro_.get("configs")
        if cmp_ and "defaults" in cmp_["rows"]:
            d = cmp_["rows"]["defaults"]["collection"]
            ax1.errorbar([cmp_["hosts"]], [d["median"]], yerr=[[d["median"] - d["min"]], [d["max"] - d["median"]]],
                         marker="D", linestyle="none", capsize=4, label="kafkasec.tls, Ansible's defaults")
        if max(xs) > 4 * sorted(xs)[len(xs) // 2]:
            ax1.set_xscale("log")
        ax1.set_xticks(xs)
        ax1.set_xticklabels([str(x) for x in xs])
        ax1.minorticks_off()
        ax1.set_xlabel("hosts")
        ax1.set_ylabel("wall seconds (median, min-max)")
        ax1.set_title("1. PKI + config rollout")
        ax1.legend(fontsize=7, loc="upper left")
        ax1.grid(alpha=0.3)
    if cpu_rows:
        ax = axes[1]
        xs = [r["hosts"] for r in cpu_rows]
        # With the hosts' sshd trees measured, the machine-wide lines (blurred by other work) stay in the tables.
        sshd = all("hosts_sshd_per_host" in r["cpu"] for r in cpu_rows)
        lines_ = ((("controller_per_host", "control node", "o"),
                   ("hosts_sshd_per_host", "hosts (their sshd process trees)", "v"),
                   ("total_per_host", "control node + hosts", "^")) if sshd else
                  (("controller_per_host", "control node", "o"),
                   ("hosts_per_host", "hosts (machine - control node, estimate)", "s"),
                   ("machine_per_host", "whole machine", "^")))
        for key, label, marker in lines_:
            if all(key in r["cpu"] for r in cpu_rows):
                ax.plot(xs, [r["cpu"][key]["median"] for r in cpu_rows], marker=marker, label=label)
        if max(xs) > 4 * sorted(xs)[len(xs) // 2]:
            ax.set_xscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        ax.minorticks_off()
        ax.set_xlabel("hosts")
        ax.set_ylabel("CPU seconds per host (median)")
        ax.set_title("1. rollout cost per host")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    h = headline(results)
    others = [(k, v) for k, v in h.items() if not k.startswith("rollout_")]
    if others:
        short = {"ssl_vs_plaintext_throughput": "3. SSL/PLAIN\nthroughput", "ssl_vs_plaintext_p99": "3. SSL/PLAIN\np99",
                 "rolling_restart_vs_sum_of_node_restarts": "4. roll /\nnode restarts"}

        def _label(k: str) -> str:
            if k in short:
                return short[k]
            return "2. rerun %s h\n/ ping%s" % (k.split("_")[1], "\n(defaults)" if k.endswith("_defaults") else "")
        ax2.bar(range(len(others)), [v for _, v in others], color="#4c72b0")
        ax2.axhline(1.0, color="grey", linewidth=1)
        ax2.set_xticks(range(len(others)))
        ax2.set_xticklabels([_label(k) for k, _ in others], fontsize=8)
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
