#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: the four benchmarks of bench/README.md on a lab of the bench's own, written to
docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png.

Run as root from the repository root with the project's virtualenv (make bench does both). The lab
instance is KAFKASEC_BENCH_LAB_INSTANCE (default 8); the lab is created at the start and destroyed
at the end, also when a step fails or the run is interrupted."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import benchlib  # noqa: E402  pylint: disable=wrong-import-position


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        sys.exit("bench: %s must be an integer, got %r" % (name, value))


INSTANCE = _env_int("KAFKASEC_BENCH_LAB_INSTANCE", 8)
SIZES = [int(s) for s in os.environ.get("KAFKASEC_BENCH_SIZES", "1,3,6,12").split(",")]
RERUN_SIZES = [int(s) for s in os.environ.get("KAFKASEC_BENCH_RERUN_SIZES", "3,12").split(",")]
# Rounds per part: at least MIN_ROUNDS, at most the part's maximum, and past the minimum only while
# another round fits in the part's time budget (seconds), so the bench stays near 15 minutes.
MIN_ROUNDS = _env_int("KAFKASEC_BENCH_MIN_ROUNDS", 2)
ROUNDS_ROLLOUT = _env_int("KAFKASEC_BENCH_ROUNDS_ROLLOUT", 3)
ROUNDS_RERUN = _env_int("KAFKASEC_BENCH_ROUNDS_RERUN", 3)
ROUNDS_PERF = _env_int("KAFKASEC_BENCH_ROUNDS_PERF", 4)
ROUNDS_RESTART = _env_int("KAFKASEC_BENCH_ROUNDS_RESTART", 3)
BUDGET_ROLLOUT = _env_int("KAFKASEC_BENCH_BUDGET_ROLLOUT", 390)
BUDGET_RERUN = _env_int("KAFKASEC_BENCH_BUDGET_RERUN", 150)
BUDGET_PERF = _env_int("KAFKASEC_BENCH_BUDGET_PERF", 120)
BUDGET_RESTART = _env_int("KAFKASEC_BENCH_BUDGET_RESTART", 150)
PERF_RECORDS = _env_int("KAFKASEC_BENCH_PERF_RECORDS", 50000)
PERF_RECORD_SIZE = _env_int("KAFKASEC_BENCH_PERF_RECORD_SIZE", 1024)
# Latency comes from a run held to a fixed rate well below what either listener sustains: an
# unthrottled producer's latencies are mostly the time records wait in its own full buffer.
LATENCY_RATE = _env_int("KAFKASEC_BENCH_LATENCY_RATE", 500)
LATENCY_RECORDS = _env_int("KAFKASEC_BENCH_LATENCY_RECORDS", 5000)
# Development only: reuse a lab that is already there and keep it afterwards.
REUSE_LAB = os.environ.get("KAFKASEC_BENCH_REUSE_LAB") == "1"
KEEP_LAB = os.environ.get("KAFKASEC_BENCH_KEEP_LAB") == "1"
OUT_DIR = os.environ.get("KAFKASEC_BENCH_OUT", os.path.join(REPO, "docs"))
BIN = os.path.dirname(os.path.abspath(sys.executable))
LABCTL = os.path.join(REPO, "lab", "labctl")
T0 = time.monotonic()


class BenchError(Exception):
    pass


def rounds(budget: float, max_rounds: int) -> Iterator[int]:
    """Round numbers for a part: see benchlib.another_round."""
    start = time.monotonic()
    times: List[float] = []
    done = 0
    while benchlib.another_round(done, MIN_ROUNDS, max_rounds, times, budget - (time.monotonic() - start)):
        t = time.monotonic()
        yield done
        times.append(time.monotonic() - t)
        done += 1


def say(part: str, step: str, detail: str = "") -> None:
    print(benchlib.progress(part, step, time.monotonic() - T0, detail), flush=True)


def run(cmd: Sequence[str], timeout: int = 900, env: Optional[Dict[str, str]] = None,
        check: bool = True) -> Tuple[float, str]:
    """Run a command; (wall seconds, stdout+stderr). A failure raises BenchError with the tail."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    t = time.monotonic()
    p = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout, env=full_env, check=False)
    wall = time.monotonic() - t
    if check and p.returncode != 0:
        raise BenchError("%s exited %d:\n%s" % (" ".join(cmd[:4]), p.returncode, "\n".join(p.stdout.splitlines()[-30:])))
    return wall, p.stdout


class Lab:
    """The bench's lab: 3 running combined nodes, then broker hosts up to the largest size with
    sshd but no Kafka (the rollout parts do not start Kafka on them)."""

    def __init__(self, instance: int, work: str):
        self.env = {"KAFKASEC_LAB_INSTANCE": str(instance)}
        self.work = work
        self.status: Dict[str, Any] = {}
        self.inventory: Dict[str, Any] = {}
        self.snapshot = os.path.join(work, "pristine")
        # Host count the last run left converged by the collection (0: reset or the baseline's state).
        self.converged = 0
        # True once this run started creating the lab: only then does the teardown destroy it.
        self.owned = False

    def labctl(self, *args: str, timeout: int = 600) -> str:
        return run([sys.executable, LABCTL] + list(args), timeout=timeout, env=self.env)[1]

    def exists(self) -> bool:
        _, out = run([sys.executable, LABCTL, "status", "--json"], env=self.env, check=False)
        return out.lstrip().startswith("{")

    def create(self, hosts: int) -> None:
        exists = self.exists()
        if exists and not REUSE_LAB:
            raise BenchError("lab instance %s already has a lab; the bench creates its own: destroy it "
                             "(KAFKASEC_LAB_INSTANCE=%s lab/labctl destroy) or pick another "
                             "KAFKASEC_BENCH_LAB_INSTANCE" % ((self.env["KAFKASEC_LAB_INSTANCE"],) * 2))
        self.owned = not exists
        self.labctl("create", "--brokers", "3", "--start")
        for i in range(4, hosts + 1):
            self.labctl("add-host", "kafka-%d" % i, "--no-start")
        self.status = json.loads(self.labctl("status", "--json"))
        inv_path = self.labctl("inventory").strip().splitlines()[-1].strip()
        with open(inv_path, encoding="utf-8") as f:
            self.inventory = yaml.safe_load(f)
        # What a host looks like before any rollout: its etc/ (server.properties) and an empty pki/.
        os.makedirs(self.snapshot)
        for name, root in self.host_roots().items():
            subprocess.run(["cp", "-a", os.path.join(root, "etc"), os.path.join(self.snapshot, name)], check=True)

    def destroy(self) -> None:
        self.labctl("destroy", timeout=300)

    @property
    def domain(self) -> str:
        return self.status["domain"]

    def fqdn(self, name: str) -> str:
        return "%s.%s" % (name, self.domain)

    def host_vars(self, name: str) -> Dict[str, Any]:
        return self.inventory["all"]["hosts"][self.fqdn(name)]

    def host_roots(self) -> Dict[str, str]:
        return dict((fq.split(".")[0], hv["kafkasec_lab_root"]) for fq, hv in self.inventory["all"]["hosts"].items())

    def reset(self, names: Sequence[str] = ()) -> None:
        """Put the hosts back as they were before any rollout (server.properties, no backups, no
        pending restart, empty pki/ - the CA too). Kafka keeps running: it never read these files."""
        roots = self.host_roots()
        for name in (names or list(roots)):
            root = roots[name]
            shutil.rmtree(os.path.join(root, "etc"))
            subprocess.run(["cp", "-a", os.path.join(self.snapshot, name), os.path.join(root, "etc")], check=True)
            pki = os.path.join(root, "pki")
            for entry in os.listdir(pki):
                path = os.path.join(pki, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)

    def write_inventory(self, brokers: int) -> str:
        """The lab's inventory cut down to the CA host and kafka-1..kafka-N."""
        keep = [self.fqdn("ca")] + [self.fqdn("kafka-%d" % i) for i in range(1, brokers + 1)]
        inv = json.loads(json.dumps(self.inventory))
        allg = inv["all"]
        allg["hosts"] = dict((h, v) for h, v in allg["hosts"].items() if h in keep)
        for group in allg.get("children", {}).values():
            hosts = group.get("hosts") or {}
            group["hosts"] = dict((h, v) for h, v in hosts.items() if h in keep)
        path = os.path.join(self.work, "inventory-%d.yml" % brokers)
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(inv, f, sort_keys=False)
        return path

    def ssh_config(self) -> str:
        return os.path.join(self.inventory["all"]["vars"]["kafkasec_lab_home"], "controller", "ssh_config")


def playbook(inventory: str, name: str, *extra: str, timeout: int = 1200) -> Tuple[float, str, Dict[str, Dict[str, int]]]:
    wall, out = run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(REPO, "playbooks", name)] + list(extra),
                    timeout=timeout, check=False)
    recap = benchlib.parse_recap(out)
    problems = benchlib.recap_problems(recap)
    if problems:
        raise BenchError("%s: %s\n%s" % (name, "; ".join(problems), "\n".join(out.splitlines()[-40:])))
    return wall, out, recap


# -- part 1 ------------------------------------------------------------------------------------------
def part_rollout(lab: Lab) -> Dict[str, Any]:
    part = "1/4 rollout"
    samples: Dict[int, Dict[str, List[float]]] = dict((n, {"collection": [], "baseline": []}) for n in SIZES)
    evals: Dict[int, Tuple[float, int]] = {}
    roots = lab.host_roots()
    for rnd in rounds(BUDGET_ROLLOUT, ROUNDS_ROLLOUT):
        for n in SIZES:
            inv = lab.write_inventory(n)
            order = ("collection", "baseline") if (rnd + SIZES.index(n)) % 2 == 0 else ("baseline", "collection")
            for what in order:
                lab.reset(["ca"] + ["kafka-%d" % i for i in range(1, n + 1)])
                say(part, "round %d (max %d), %d hosts, %s" % (rnd + 1, ROUNDS_ROLLOUT, n, what))
                lab.converged = 0
                if what == "collection":
                    wall, _, recap = playbook(inv, "site.yml", "--skip-tags", "restart")
                    lab.converged = n
                    kafka = [c for h, c in recap.items() if not h.startswith("ca.")]
                    ca = [c for h, c in recap.items() if h.startswith("ca.")]
                    evals[n] = (sum(benchlib.task_evaluations(c) for c in kafka) / len(kafka),
                                benchlib.task_evaluations(ca[0]))
                else:
                    specs = ["%s:%s:%s" % (lab.fqdn("kafka-%d" % i), os.path.join(roots["kafka-%d" % i], "pki"),
                                           os.path.join(roots["kafka-%d" % i], "etc", "server.properties"))
                             for i in range(1, n + 1)]
                    wall, _ = run([os.path.join(HERE, "baseline.sh"), lab.ssh_config(), lab.fqdn("ca"),
                                   os.path.join(roots["ca"], "pki", "ca")] + specs)
                samples[n][what].append(wall)
                say(part, "round %d (max %d), %d hosts, %s" % (rnd + 1, ROUNDS_ROLLOUT, n, what), "%.1f s" % wall)
    rows = []
    for n in SIZES:
        c, b = samples[n]["collection"], samples[n]["baseline"]
        rows.append({"hosts": n, "collection": benchlib.summarize(c), "baseline": benchlib.summarize(b),
                     "ratio": benchlib.ratio(c, b), "evaluations_per_host": evals[n][0], "evaluations_ca": evals[n][1]})
    return {"rounds": len(samples[SIZES[0]]["collection"]), "sizes": rows, "description": (
        "`ansible-playbook playbooks/site.yml --skip-tags restart` (validation, backup sets, CA, key + CSR, "
        "signing on the CA host, PKCS12 keystore and truststore, server.properties TLS block; Ansible's "
        "default 5 forks, SSH to every host) against `bench/baseline.sh`, the seed procedure as a shell "
        "script: over SSH, one host after another, openssl for the CA, key, CSR, signing and the PKCS12 "
        "keystore, keytool for the truststore, the ssl.* keys appended to server.properties. Every run "
        "starts from the hosts' pristine files (no CA, no keys). The hosts are the CA host plus "
        "kafka-1..N; kafka-1..3 run Kafka (it does not read the files during the run), the others have "
        "sshd only. Task evaluations are ok + skipped + failed + unreachable from the play recap (Ansible's "
        "ok already counts the changed tasks); the baseline makes 3 SSH sessions and 6 tool runs per host.")}


# -- part 2 ------------------------------------------------------------------------------------------
def part_rerun(lab: Lab) -> Dict[str, Any]:
    part = "2/4 rerun"
    biggest = max(RERUN_SIZES)
    if lab.converged != biggest:
        lab.reset()
        say(part, "first rollout on %d hosts (not measured)" % biggest)
        playbook(lab.write_inventory(biggest), "site.yml", "--skip-tags", "restart")
    samples: Dict[int, Dict[str, List[float]]] = dict((n, {"rerun": [], "ping": []}) for n in RERUN_SIZES)
    changed: Dict[int, int] = dict((n, 0) for n in RERUN_SIZES)
    for rnd in rounds(BUDGET_RERUN, ROUNDS_RERUN):
        for n in RERUN_SIZES:
            inv = lab.write_inventory(n)
            order = ("rerun", "ping") if rnd % 2 == 0 else ("ping", "rerun")
            for what in order:
                say(part, "round %d (max %d), %d hosts, %s" % (rnd + 1, ROUNDS_RERUN, n, what))
                if what == "rerun":
                    wall, out, recap = playbook(inv, "site.yml", "--skip-tags", "restart")
                    problems = benchlib.recap_problems(recap, want_changed_zero=True)
                    if problems:
                        raise BenchError("the rerun is not idempotent: %s" % "; ".join(problems))
                    changed[n] += benchlib.recap_totals(recap)["changed"]
                else:
                    wall, _ = run([os.path.join(BIN, "ansible"), "-i", inv, "all", "-m", "ansible.builtin.ping"])
                samples[n][what].append(wall)
                say(part, "round %d (max %d), %d hosts, %s" % (rnd + 1, ROUNDS_RERUN, n, what), "%.1f s" % wall)
    rows = [{"hosts": n, "rerun": benchlib.summarize(samples[n]["rerun"]), "ping": benchlib.summarize(samples[n]["ping"]),
             "ratio": benchlib.ratio(samples[n]["rerun"], samples[n]["ping"]), "changed_total": changed[n]}
            for n in RERUN_SIZES]
    return {"rounds": len(samples[RERUN_SIZES[0]]["rerun"]), "sizes": rows, "description": (
        "The same `site.yml --skip-tags restart` run again on converged hosts (CA host + kafka-1..N); every "
        "rerun is checked to report changed=0 on every host (the bench stops otherwise). The floor is a bare "
        "`ansible all -m ping` over the same inventory: the cost of reaching the hosts at all.")}


# -- part 3 ------------------------------------------------------------------------------------------
def _client_properties(lab: Lab, path: str) -> None:
    """Producer settings for the SSL listener: kafka-1's certificate (serverAuth + clientAuth, from
    the collection) as the client identity, the collection's protocol settings, host name checks on."""
    hv = lab.host_vars("kafka-1")
    pki = hv["kafkasec_pki_dir"]
    with open(os.path.join(pki, "keystore.password"), encoding="utf-8") as f:
        ks = f.read().strip()
    with open(os.path.join(pki, "truststore.password"), encoding="utf-8") as f:
        ts = f.read().strip()
    props = {"security.protocol": "SSL", "ssl.keystore.type": "PKCS12",
             "ssl.keystore.location": os.path.join(pki, "keystore.p12"), "ssl.keystore.password": ks,
             "ssl.truststore.type": "PKCS12", "ssl.truststore.location": os.path.join(pki, "truststore.p12"),
             "ssl.truststore.password": ts, "ssl.enabled.protocols": "TLSv1.3,TLSv1.2", "ssl.protocol": "TLSv1.3",
             "ssl.endpoint.identification.algorithm": "https"}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join("%s=%s\n" % kv for kv in props.items()))


def _perf(lab: Lab, port: int, config: Optional[str], records: int, rate: int = -1) -> Tuple[Dict[str, float], str]:
    java = lab.inventory["all"]["vars"]["kafka_java"]
    libs = os.path.join(lab.inventory["all"]["vars"]["kafka_lib_dir"], "*")
    bootstrap = ",".join("%s:%d" % (lab.fqdn("kafka-%d" % i), port) for i in (1, 2, 3))
    cmd = [java, "-Xmx256m", "-cp", libs, "org.apache.kafka.tools.ProducerPerformance",
           "--topic", "bench-perf", "--num-records", str(records), "--record-size", str(PERF_RECORD_SIZE),
           "--throughput", str(rate), "--producer-props", "bootstrap.servers=" + bootstrap, "acks=all"]
    if config:
        cmd += ["--producer.config", config]
    _, out = run(cmd, timeout=600)
    return benchlib.parse_producer_performance(out), out


def part_data_plane(lab: Lab) -> Dict[str, Any]:
    part = "3/4 data plane"
    lab.reset()
    lab.converged = 0
    inv = lab.write_inventory(3)
    say(part, "site.yml on 3 brokers with kafkasec_broker_keep_plaintext=true (restarts included)")
    wall, _, _ = playbook(inv, "site.yml", "-e", "kafkasec_broker_keep_plaintext=true")
    say(part, "site.yml done", "%.1f s" % wall)
    hv = lab.host_vars("kafka-1")
    probe_args = "host=%s port=9093 ca_path=%s client_cert_path=%s client_key_path=%s" % (
        lab.fqdn("kafka-1"), os.path.join(hv["kafkasec_pki_dir"], "ca-chain.crt"),
        os.path.join(hv["kafkasec_pki_dir"], lab.fqdn("kafka-1") + ".crt"),
        os.path.join(hv["kafkasec_pki_dir"], lab.fqdn("kafka-1") + ".key"))
    _, out = run([os.path.join(BIN, "ansible"), "-i", inv, lab.fqdn("kafka-1"), "-m", "kafkasec.tls.tls_probe",
                  "-a", probe_args, "-o"])
    probe = json.loads(out.split("=>", 1)[1]) if "=>" in out else {}
    if not probe.get("protocol"):
        raise BenchError("tls_probe did not report a protocol:\n" + out[-2000:])
    negotiated = {"protocol": probe["protocol"], "cipher": probe.get("cipher"),
                  "how": "kafkasec.tls.tls_probe from kafka-1 with its own certificate"}
    work = tempfile.mkdtemp(prefix="client-", dir=lab.work)
    client = os.path.join(work, "ssl-client.properties")
    _client_properties(lab, client)
    say(part, "warm-up (creates the topic, not measured)")
    _perf(lab, 9092, None, 5000)
    _perf(lab, 9093, client, 5000)
    samples: Dict[str, List[Dict[str, float]]] = {"plaintext": [], "ssl": []}
    for rnd in rounds(BUDGET_PERF, ROUNDS_PERF):
        order = ("plaintext", "ssl") if rnd % 2 == 0 else ("ssl", "plaintext")
        for what in order:
            say(part, "round %d (max %d), %s" % (rnd + 1, ROUNDS_PERF, what))
            port, config = (9092, None) if what == "plaintext" else (9093, client)
            flat_out, _ = _perf(lab, port, config, PERF_RECORDS)
            held, _ = _perf(lab, port, config, LATENCY_RECORDS, LATENCY_RATE)
            res = {"records_per_sec": flat_out["records_per_sec"], "mb_per_sec": flat_out["mb_per_sec"],
                   "p99_ms": held["p99_ms"], "avg_ms": held["avg_ms"],
                   "latency_run_records_per_sec": held["records_per_sec"]}
            samples[what].append(res)
            say(part, "round %d (max %d), %s" % (rnd + 1, ROUNDS_PERF, what),
                "%.0f records/s, p99 %.0f ms" % (res["records_per_sec"], res["p99_ms"]))
    result: Dict[str, Any] = {"rounds": len(samples["ssl"]), "negotiated": negotiated, "site_yml_seconds": wall}
    for what, runs in samples.items():
        result[what] = dict((k, benchlib.summarize([r[k] for r in runs]))
                            for k in ("records_per_sec", "mb_per_sec", "p99_ms", "avg_ms"))
    result["throughput_ratio"] = benchlib.ratio([r["records_per_sec"] for r in samples["ssl"]],
                                                [r["records_per_sec"] for r in samples["plaintext"]])
    result["p99_ratio"] = benchlib.ratio([r["p99_ms"] for r in samples["ssl"]], [r["p99_ms"] for r in samples["plaintext"]])
    result["description"] = (
        "One 3-broker cluster after `site.yml -e kafkasec_broker_keep_plaintext=true` (the collection's "
        "TLS settings: TLS 1.3/1.2, client certificates required, host name verification; PLAINTEXT kept "
        "open on 9092 beside SSL on 9093). Kafka's own `org.apache.kafka.tools.ProducerPerformance`: "
        "records of %d bytes, acks=all, topic with 3 partitions and replication factor 3, the SSL producer "
        "presenting kafka-1's certificate. Throughput (records/s, MB/s) from an unthrottled run of %d records; "
        "latency (p99, avg) from a second run of %d records held to %d records/s, well below what either "
        "listener sustains, so it measures the brokers and the wire rather than the time records wait in a "
        "saturated producer's own buffer. A small warm-up run per listener goes first."
        % (PERF_RECORD_SIZE, PERF_RECORDS, LATENCY_RECORDS, LATENCY_RATE))
    return result


# -- part 4 ------------------------------------------------------------------------------------------
def settle(lab: Lab, inv: str) -> None:
    """Untimed, between measurements: wait until all 3 brokers are registered and every partition is
    fully in sync again, so no run pays for the catching-up the run before it left."""
    args = {"bootstrap_servers": ["%s:9092" % lab.fqdn("kafka-1")], "security_protocol": "PLAINTEXT",
            "wait_for": ["brokers", "full_isr", "under_replicated", "offline"], "expected_brokers": [1, 2, 3],
            "timeout": 300}
    run([os.path.join(BIN, "ansible"), "-i", inv, lab.fqdn("kafka-1"), "-m", "kafkasec.tls.cluster_health",
         "-a", json.dumps(args)], timeout=400)


def part_rolling_restart(lab: Lab) -> Dict[str, Any]:
    part = "4/4 rolling restart"
    inv = lab.write_inventory(3)
    settle(lab, inv)
    totals: List[float] = []
    role_sums: List[float] = []
    node_sums: List[float] = []
    per_node: List[Dict[str, float]] = []
    for rnd in rounds(BUDGET_RESTART, ROUNDS_RESTART):
        order = ("playbook", "kafka-ctl") if rnd % 2 == 0 else ("kafka-ctl", "playbook")
        for what in order:
            say(part, "round %d (max %d), %s" % (rnd + 1, ROUNDS_RESTART, what))
            if what == "playbook":
                wall, out, _ = playbook(inv, "rolling_restart.yml", "-e", "kafkasec_rolling_restart_force=true")
                nodes = benchlib.parse_role_restarts(out)
                if len(nodes) != 3:
                    raise BenchError("expected 3 restarted nodes in the role's output, found %s" % sorted(nodes))
                totals.append(wall)
                role_sums.append(sum(nodes.values()))
                say(part, "round %d (max %d), playbook" % (rnd + 1, ROUNDS_RESTART),
                    "%.1f s total, nodes %s" % (wall, ", ".join("%.1f" % v for v in nodes.values())))
            else:
                times = {}
                for i in (1, 2, 3):
                    hv = lab.host_vars("kafka-%d" % i)
                    times["kafka-%d" % i], _ = run(["runuser", "-u", hv["ansible_user"], "--",
                                                    hv["kafka_ctl"], "restart"], timeout=400)
                per_node.append(times)
                node_sums.append(sum(times.values()))
                say(part, "round %d (max %d), kafka-ctl" % (rnd + 1, ROUNDS_RESTART),
                    "nodes %s" % ", ".join("%.1f" % v for v in times.values()))
            settle(lab, inv)
    return {"rounds": len(totals), "total": benchlib.summarize(totals), "role_node_sum": benchlib.summarize(role_sums),
            "node_sum": benchlib.summarize(node_sums), "kafka_ctl_runs": per_node,
            "ratio": benchlib.ratio(totals, node_sums), "ratio_role": benchlib.ratio(totals, role_sums),
            "description": (
                "The 3 combined nodes of part 3 (TLS on, PLAINTEXT kept). `ansible-playbook "
                "playbooks/rolling_restart.yml -e kafkasec_rolling_restart_force=true`: one node at a time, "
                "the active controller last, each behind the role's gates (precheck that the cluster can lose "
                "the node, process, TLS handshake, registered, no under-replicated partition). Against it, "
                "each node's own restart: the lab's `kafka-ctl restart` (SIGTERM, controlled shutdown, start, "
                "wait for `Kafka Server started`) run on kafka-1, -2, -3 one after another, no gates.")}


def environment() -> Dict[str, Any]:
    _, ansible_version = run([os.path.join(BIN, "ansible"), "--version"])
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": "%d CPUs, %.0f GiB RAM, %s %s" % (os.cpu_count() or 0,
                                                        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30,
                                                        platform.system(), platform.release()),
            "ansible": ansible_version.splitlines()[0].strip(), "kafka_version": "4.3.1",
            "forks_note": "Ansible with 5 forks (the default) and pipelining on, over SSH to loopback hosts."}


def write_outputs(results: Dict[str, Any]) -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    benchlib.plot(results, os.path.join(OUT_DIR, "benchmarks.png"))
    with open(os.path.join(OUT_DIR, "benchmarks.json"), "w", encoding="utf-8") as f:
        f.write(benchlib.render_json(results))
    with open(os.path.join(OUT_DIR, "benchmarks.md"), "w", encoding="utf-8") as f:
        f.write(benchlib.render_markdown(results, png_name="benchmarks.png"))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        # Render docs/benchmarks.md and .png again from a results file (no lab, no measurement).
        with open(sys.argv[2], encoding="utf-8") as f:
            results = json.load(f)
        results.pop("headline", None)
        write_outputs(results)
        return 0
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the lab needs it): sudo make bench")
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(REPO, ".build", "collections")
    os.environ.setdefault("ANSIBLE_FORCE_COLOR", "0")
    os.environ["ANSIBLE_NOCOLOR"] = "1"
    # As the collection's own integration tests run it: one SSH session per task instead of several.
    os.environ["ANSIBLE_PIPELINING"] = "1"
    os.makedirs(os.path.join(REPO, ".build"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(REPO, ".build"))
    os.chmod(work, 0o700)
    lab = Lab(INSTANCE, work)

    def _stop(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    results: Dict[str, Any] = {}
    errors: List[str] = []
    load_start = os.getloadavg()[0]
    try:
        say("setup", "lab instance %d: 3 running combined nodes + %d sshd-only hosts + the CA host"
            % (INSTANCE, max(SIZES + RERUN_SIZES) - 3))
        lab.create(max(SIZES + RERUN_SIZES + [3]))
        results["environment"] = environment()
        say("setup", "lab ready")
        # A part that fails is reported and left out; the parts after it still run (part 4 needs
        # part 3's cluster, so it is skipped when part 3 failed).
        for key, func in (("rollout", part_rollout), ("rerun", part_rerun), ("data_plane", part_data_plane),
                          ("rolling_restart", part_rolling_restart)):
            if key == "rolling_restart" and "data_plane" not in results:
                errors.append("rolling_restart: skipped, part 3 did not set the cluster up")
                continue
            try:
                results[key] = func(lab)
            except (BenchError, ValueError, subprocess.TimeoutExpired) as e:
                say("failed", "%s: %s" % (key, e))
                errors.append("%s: %s" % (key, str(e).splitlines()[0]))
    except BenchError as e:
        say("failed", str(e))
        return 1
    finally:
        if lab.owned and not KEEP_LAB:
            say("teardown", "destroying lab instance %d" % INSTANCE)
            try:
                lab.destroy()
            except Exception as e:  # pylint: disable=broad-except
                say("teardown", "destroy failed: %s" % e)
        shutil.rmtree(work, ignore_errors=True)
    results["elapsed_seconds"] = round(time.monotonic() - T0, 1)
    results["notes"] = [
        "This machine is shared with other work (other labs and test suites may run beside the bench), "
        "so single times can move a lot from run to run. That is why every figure is a median with its "
        "min-max spread, and why the comparisons are ratios of runs measured side by side, alternating; "
        "the load averages below say how busy the machine was.",
        "The whole bench took %.0f s (lab creation and teardown included); the machine's 1-minute load "
        "average was %.1f at the start and %.1f at the end (%d cores)." % (
            results["elapsed_seconds"], load_start, os.getloadavg()[0], os.cpu_count() or 0),
        "The baseline does less than the collection: no validation before changing anything, no backups, "
        "no listener or inter-broker settings, no idempotence (a second run makes new keys and appends the "
        "keys again), passwords generated but handled in shell variables. Its time is a lower bound for "
        "doing the seed steps by hand.",
    ] + ["This part failed and is missing: " + e for e in errors]
    write_outputs(results)
    for key, val in benchlib.headline(results).items():
        say("result", "%s: %.2fx" % (key, val))
    say("done", "wrote %s/benchmarks.md, .json, .png" % OUT_DIR)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
