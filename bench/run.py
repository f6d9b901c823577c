#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make bench: the benchmarks of bench/README.md on a lab of the bench's own, written to
docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png.

Run as root from the repository root with the project's virtualenv (make bench does both). The lab
instance is KAFKASEC_BENCH_LAB_INSTANCE (default 8); the lab is created at the start and destroyed
at the end, also when a step fails or the run is interrupted.

Every Ansible run names its configuration: "recommended" (ANSIBLE_CONFIG = the repository's
ansible.cfg) or "defaults" (ANSIBLE_CONFIG = an empty file in the work directory: Ansible's own
defaults). Each configuration keeps its SSH masters in a control-path directory of its own."""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

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


def _env_sizes(name: str, default: str) -> List[int]:
    value = os.environ.get(name, default)
    try:
        sizes = sorted(set(int(s) for s in value.split(",") if s.strip()))
    except ValueError:
        sys.exit("bench: %s must be host counts separated by commas, got %r" % (name, value))
    if not sizes or sizes[0] < 1 or sizes[-1] > 99:
        sys.exit("bench: %s must hold host counts between 1 and 99, got %r" % (name, value))
    return sizes


INSTANCE = _env_int("KAFKASEC_BENCH_LAB_INSTANCE", 8)
SIZES = _env_sizes("KAFKASEC_BENCH_SIZES", "1,3,6,12")
RERUN_SIZES = _env_sizes("KAFKASEC_BENCH_RERUN_SIZES", "12")
# The large point of part 1 (sshd-only hosts are added for it after the curve); 0 leaves it out.
BIG_SIZE = _env_int("KAFKASEC_BENCH_BIG_SIZE", 48)
if BIG_SIZE and not max(SIZES) < BIG_SIZE <= 99:
    sys.exit("bench: KAFKASEC_BENCH_BIG_SIZE must be 0 or above the largest of KAFKASEC_BENCH_SIZES and at most 99")
CONFIG_NAMES = ("recommended", "defaults")
RERUN_CONFIGS = [c.strip() for c in os.environ.get("KAFKASEC_BENCH_RERUN_CONFIGS", "recommended,defaults").split(",") if c.strip()]
if "recommended" not in RERUN_CONFIGS or not set(RERUN_CONFIGS) <= set(CONFIG_NAMES):
    sys.exit("bench: KAFKASEC_BENCH_RERUN_CONFIGS must list recommended and may add defaults")
# Rounds per part: at least MIN_ROUNDS (the large point: 1), at most the part's maximum, and past the
# minimum only while another round fits in the part's time budget (seconds), so the bench stays near
# 25 minutes.
MIN_ROUNDS = _env_int("KAFKASEC_BENCH_MIN_ROUNDS", 2)
ROUNDS_ROLLOUT = _env_int("KAFKASEC_BENCH_ROUNDS_ROLLOUT", 3)
ROUNDS_BIG = _env_int("KAFKASEC_BENCH_ROUNDS_BIG", 2)
ROUNDS_RERUN = _env_int("KAFKASEC_BENCH_ROUNDS_RERUN", 3)
ROUNDS_PERF = _env_int("KAFKASEC_BENCH_ROUNDS_PERF", 4)
ROUNDS_RESTART = _env_int("KAFKASEC_BENCH_ROUNDS_RESTART", 3)
BUDGET_ROLLOUT = _env_int("KAFKASEC_BENCH_BUDGET_ROLLOUT", 420)
BUDGET_BIG = _env_int("KAFKASEC_BENCH_BUDGET_BIG", 150)
BUDGET_RERUN = _env_int("KAFKASEC_BENCH_BUDGET_RERUN", 150)
BUDGET_PERF = _env_int("KAFKASEC_BENCH_BUDGET_PERF", 120)
BUDGET_RESTART = _env_int("KAFKASEC_BENCH_BUDGET_RESTART", 150)
PERF_RECORDS = _env_int("KAFKASEC_BENCH_PERF_RECORDS", 50000)
PERF_RECORD_SIZE = _env_int("KAFKASEC_BENCH_PERF_RECORD_SIZE", 1024)
# Latency comes from a run held to a fixed rate well below what either listener sustains: an
# unthrottled producer's latencies are mostly the time records wait in its own full buffer.
LATENCY_RATE = _env_int("KAFKASEC_BENCH_LATENCY_RATE", 500)
LATENCY_RECORDS = _env_int("KAFKASEC_BENCH_LATENCY_RECORDS", 5000)
LATENCY_WARMUP = _env_int("KAFKASEC_BENCH_LATENCY_WARMUP", 1000)
# The projection: this many hosts from a control node with this many cores.
PROJECT_HOSTS = _env_int("KAFKASEC_BENCH_PROJECT_HOSTS", 1000)
PROJECT_CORES = _env_int("KAFKASEC_BENCH_PROJECT_CORES", 16)
# Development only: reuse a lab that is already there and keep it afterwards.
REUSE_LAB = os.environ.get("KAFKASEC_BENCH_REUSE_LAB") == "1"
KEEP_LAB = os.environ.get("KAFKASEC_BENCH_KEEP_LAB") == "1"
OUT_DIR = os.environ.get("KAFKASEC_BENCH_OUT", os.path.join(REPO, "docs"))
BIN = os.path.dirname(os.path.abspath(sys.executable))
LABCTL = os.path.join(REPO, "lab", "labctl")
CLK_TCK = os.sysconf("SC_CLK_TCK")
T0 = time.monotonic()
# Inherited settings that would change what the two configurations are: the bench drops them.
OVERRIDES = ("ANSIBLE_CONFIG", "ANSIBLE_FORKS", "ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING", "ANSIBLE_SSH_ARGS",
             "ANSIBLE_SSH_EXTRA_ARGS", "ANSIBLE_SSH_COMMON_ARGS", "ANSIBLE_SSH_CONTROL_PATH",
             "ANSIBLE_SSH_CONTROL_PATH_DIR", "ANSIBLE_STRATEGY", "ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_PLUGINS")
# name -> environment of an Ansible run in that configuration (filled by setup_configs).
CONFIGS: Dict[str, Dict[str, str]] = {}
# name -> forks, pipelining and ssh_args as ansible-config reports them (filled by environment()).
CONFIG_SETTINGS: Dict[str, Dict[str, Any]] = {}
# Task evaluations per Kafka host of the runs the report quotes (filled by the parts).
EVALUATIONS: Dict[str, Any] = {}
# Sentences for the report's notes (filled by the parts).
NOTES: List[str] = []

# A callback plugin the bench writes into its work directory and enables for every ansible-playbook
# run: one JSON line per task and host (seconds from the task's start on the host to its result, and
# the host it was delegated to), so the CA host's time and each host's own time can be told apart.
TASK_TIMER = '''\
# Written by bench/run.py into its work directory (not part of the collection): one JSON line per
# task and host, appended to the file KAFKASEC_BENCH_TIMER_OUT names.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kafkasec_bench_timer
type: aggregate
short_description: seconds per task and host, for bench/run.py
description: [One JSON line per task result, appended to the file KAFKASEC_BENCH_TIMER_OUT names.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kafkasec_bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start = {}
        self._path = os.environ.get("KAFKASEC_BENCH_TIMER_OUT")

    def v2_runner_on_start(self, host, task):
        self._start[(host.get_name(), task._uuid)] = time.monotonic()

    def _done(self, result, *args, **kwargs):
        host = result._host.get_name()
        start = self._start.pop((host, result._task._uuid), None)
        if start is None or not self._path:
            return
        delegated = result._result.get("_ansible_delegated_vars") or {}
        rec = {"host": host, "task": result._task.get_name(), "delegate": delegated.get("ansible_host"),
               "seconds": round(time.monotonic() - start, 4)}
        with open(self._path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\\n")

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_skipped = v2_runner_on_unreachable = _done
'''


class BenchError(Exception):
    pass


def rounds(budget: float, max_rounds: int, min_rounds: Optional[int] = None) -> Iterator[int]:
    """Round numbers for a part: see benchlib.another_round."""
    least = MIN_ROUNDS if min_rounds is None else min(min_rounds, MIN_ROUNDS)
    start = time.monotonic()
    times: List[float] = []
    done = 0
    while benchlib.another_round(done, least, max_rounds, times, budget - (time.monotonic() - start)):
        t = time.monotonic()
        yield done
        times.append(time.monotonic() - t)
        done += 1


def rotate(items: Sequence[Any], k: int) -> List[Any]:
    """The items starting at k (mod len): each round starts with another side."""
    k %= len(items)
    return list(items[k:]) + list(items[:k])


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


# -- CPU accounting ----------------------------------------------------------------------------------
def _proc_stat() -> str:
    with open("/proc/stat", encoding="ascii") as f:
        return f.read()


def proc_snapshot(control_dir: Optional[str]) -> Tuple[Dict[int, int], Dict[int, Tuple[int, int, int]]]:
    """One pass over /proc: the SSH masters of one configuration ({pid: utime + stime}) and every
    process as {pid: (ppid, own ticks, reaped children's ticks)}. ControlPersist masters detach from the
    ansible process that started them, so getrusage(RUSAGE_CHILDREN) never sees their CPU; their
    process title names their control socket, which is in the configuration's own directory."""
    masters: Dict[int, int] = {}
    procs: Dict[int, Tuple[int, int, int]] = {}
    needle = control_dir.encode() if control_dir else None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid, encoding="utf-8", errors="replace") as f:
                fields = benchlib.parse_pid_stat_fields(f.read())
            procs[int(pid)] = fields
            if needle:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmdline = f.read()
                if needle in cmdline and b"[mux]" in cmdline:
                    masters[int(pid)] = fields[1]
        except (OSError, ValueError):
            continue
    return masters, procs


def measured(cmd: Sequence[str], hosts: int, cfg: Optional[str] = None, timeout: int = 1200,
             env: Optional[Dict[str, str]] = None, check: bool = True,
             sshd_pids: Sequence[int] = ()) -> Tuple[float, str, Dict[str, float]]:
    """run() with the CPU it cost: (wall, output, benchlib.cpu_costs). The controller's CPU is the
    getrusage(RUSAGE_CHILDREN) delta around the command plus its configuration's SSH masters' delta;
    the machine's is the /proc/stat busy delta over the same window; the hosts' (with sshd_pids, the
    lab hosts' sshd listeners) the delta of their process trees."""
    control_dir = CONFIGS[cfg]["ANSIBLE_SSH_CONTROL_PATH_DIR"] if cfg else None
    full_env = dict(CONFIGS[cfg]) if cfg else {}
    full_env.update(env or {})
    m0, p0 = proc_snapshot(control_dir)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = _proc_stat()
    wall, out = run(cmd, timeout=timeout, env=full_env, check=check)
    s1 = _proc_stat()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m1, p1 = proc_snapshot(control_dir)
    controller = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) + benchlib.ticks_delta(m0, m1) / float(CLK_TCK)
    sshd = None
    if sshd_pids:
        sshd = max(0, benchlib.subtree_ticks(p1, sshd_pids) - benchlib.subtree_ticks(p0, sshd_pids)) / float(CLK_TCK)
    return wall, out, benchlib.cpu_costs(controller, benchlib.busy_seconds(s0, s1, CLK_TCK), hosts, sshd)


# -- the two Ansible configurations ------------------------------------------------------------------
def setup_configs(work: str, control_root: str) -> None:
    """CONFIGS, the task timer plugin, and the inherited settings that would blur the configurations
    dropped from the environment."""
    recommended = os.path.join(REPO, "ansible.cfg")
    if not os.path.isfile(recommended):
        raise BenchError("the repository has no ansible.cfg: the recommended configuration is missing")
    empty = os.path.join(work, "defaults.cfg")  # Ansible wants a .cfg name; the file stays empty
    with open(empty, "w", encoding="utf-8"):
        pass
    for name, path in (("recommended", recommended), ("defaults", empty)):
        control_dir = os.path.join(control_root, name[0])
        os.makedirs(control_dir, mode=0o700)
        CONFIGS[name] = {"ANSIBLE_CONFIG": path, "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir}
    dropped = [k for k in OVERRIDES if os.environ.pop(k, None) is not None]
    if dropped:
        NOTES.append("The bench ignored these inherited settings, which would have changed both configurations: %s."
                     % ", ".join(dropped))
    plugins = os.path.join(work, "callbacks")
    os.makedirs(plugins)
    with open(os.path.join(plugins, "kafkasec_bench_timer.py"), "w", encoding="utf-8") as f:
        f.write(TASK_TIMER)
    os.environ["ANSIBLE_CALLBACK_PLUGINS"] = plugins
    os.environ["ANSIBLE_CALLBACKS_ENABLED"] = "kafkasec_bench_timer"


def config_settings(cfg: str) -> Dict[str, Any]:
    """forks, pipelining and ssh_args as ansible-config reports them for a configuration."""
    dumps = []
    for extra in ([], ["-t", "connection"]):
        env = dict(os.environ)
        env.update(CONFIGS[cfg])
        p = subprocess.run([os.path.join(BIN, "ansible-config"), "dump", "--format", "json"] + extra,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, timeout=120, check=True)
        dumps.append(json.loads(p.stdout))
    return benchlib.config_summary(dumps[0], dumps[1])


def stop_masters() -> None:
    """End the SSH masters the bench's runs left behind (found by their control directories)."""
    for env in CONFIGS.values():
        for pid in proc_snapshot(env["ANSIBLE_SSH_CONTROL_PATH_DIR"])[0]:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


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
        self.timers = 0

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
        os.makedirs(self.snapshot)
        self.add_hosts(hosts)

    def brokers(self) -> int:
        """kafka-1..kafka-N in the lab: N."""
        return len([h for h in self.inventory.get("all", {}).get("hosts", {}) if h.startswith("kafka-")])

    def add_hosts(self, hosts: int, part: str = "") -> None:
        """Broker hosts up to kafka-<hosts> with sshd and no Kafka, then the inventory read again and
        the new hosts' pristine files copied."""
        self._load()
        have = self.brokers()
        for i in range(have + 1, hosts + 1):
            self.labctl("add-host", "kafka-%d" % i, "--no-start")
            if part and (i - have) % 6 == 0:
                say(part, "added kafka-%d" % i)
        self._load()
        # What a host looks like before any rollout: its etc/ (server.properties) and an empty pki/.
        for name, root in self.host_roots().items():
            if not os.path.exists(os.path.join(self.snapshot, name)):
                subprocess.run(["cp", "-a", os.path.join(root, "etc"), os.path.join(self.snapshot, name)], check=True)

    def _load(self) -> None:
        self.status = json.loads(self.labctl("status", "--json"))
        inv_path = self.labctl("inventory").strip().splitlines()[-1].strip()
        with open(inv_path, encoding="utf-8") as f:
            self.inventory = yaml.safe_load(f)

    def destroy(self) -> None:
        self.labctl("destroy", timeout=600)

    @property
    def domain(self) -> str:
        return self.status["domain"]

    def fqdn(self, name: str) -> str:
        return "%s.%s" % (name, self.domain)

    def host_vars(self, name: str) -> Dict[str, Any]:
        return self.inventory["all"]["hosts"][self.fqdn(name)]

    def sshd_pids(self) -> List[int]:
        """The lab hosts' sshd listeners (their process trees are the hosts' CPU)."""
        return [h["sshd"]["pid"] for h in self.status.get("hosts", []) if h.get("sshd", {}).get("pid")]

    def ca_names(self) -> List[str]:
        """How the CA host appears in task results: its inventory name and its address."""
        return [self.fqdn("ca"), str(self.host_vars("ca").get("ansible_host", self.fqdn("ca")))]

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

    def timer_path(self) -> str:
        self.timers += 1
        return os.path.join(self.work, "timer-%d.jsonl" % self.timers)

    def ssh_config(self) -> str:
        return os.path.join(self.inventory["all"]["vars"]["kafkasec_lab_home"], "controller", "ssh_config")


def hostnames(n: int) -> List[str]:
    return ["ca"] + ["kafka-%d" % i for i in range(1, n + 1)]


class PlaybookRun(NamedTuple):
    wall: float
    out: str
    recap: Dict[str, Dict[str, int]]
    cpu: Dict[str, float]
    timer: List[Dict[str, Any]]


def playbook(lab: Lab, inventory: str, name: str, *extra: str, cfg: str = "recommended", hosts: int = 1,
             timeout: int = 1200) -> PlaybookRun:
    """ansible-playbook in a configuration, measured (wall, CPU, the task timer's records); a failed or
    unreachable host raises BenchError with the output's tail."""
    timer = lab.timer_path()
    wall, out, cpu = measured([os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(REPO, "playbooks", name)]
                              + list(extra), hosts, cfg=cfg, timeout=timeout, env={"KAFKASEC_BENCH_TIMER_OUT": timer},
                              check=False, sshd_pids=lab.sshd_pids())
    recap = benchlib.parse_recap(out)
    problems = benchlib.recap_problems(recap)
    if problems:
        raise BenchError("%s (%s configuration): %s\n%s" % (name, cfg, "; ".join(problems), "\n".join(out.splitlines()[-40:])))
    records: List[Dict[str, Any]] = []
    if os.path.exists(timer):
        with open(timer, encoding="utf-8") as f:
            records = benchlib.parse_task_timer(f.read())
        os.unlink(timer)
    return PlaybookRun(wall, out, recap, cpu, records)


def adhoc(inventory: str, pattern: str, module: str, *args: str, cfg: str = "recommended", timeout: int = 900) -> str:
    """An ansible ad-hoc command in a configuration, not measured; its output."""
    return run([os.path.join(BIN, "ansible"), "-i", inventory, pattern, "-m", module] + list(args), timeout=timeout,
               env=CONFIGS[cfg])[1]


def ping(lab: Lab, inventory: str, cfg: str, hosts: int) -> Tuple[float, Dict[str, float]]:
    """`ansible all -m ping`, measured: (wall, CPU)."""
    wall, _, cpu = measured([os.path.join(BIN, "ansible"), "-i", inventory, "all", "-m", "ansible.builtin.ping"],
                            hosts, cfg=cfg, timeout=600, sshd_pids=lab.sshd_pids())
    return wall, cpu


def warm(inventory: str, cfg: str) -> None:
    """An untimed `ansible all -m ping`: the configuration's SSH masters are up before a timed run."""
    adhoc(inventory, "all", "ansible.builtin.ping", cfg=cfg, timeout=600)


def _cpu_detail(cpu: Dict[str, float]) -> str:
    hosts = ", hosts (sshd trees) %.1f s" % cpu["hosts_sshd"] if "hosts_sshd" in cpu else ""
    return "CPU controller %.1f s%s, machine %.1f s" % (cpu["controller"], hosts, cpu["machine"])


# -- part 1 ------------------------------------------------------------------------------------------
def part_rollout(lab: Lab) -> Dict[str, Any]:
    part = "1/4 rollout"
    roots = lab.host_roots()
    cmp_size = max(SIZES)
    big = BIG_SIZE if BIG_SIZE > cmp_size else 0
    keys = ("collection", "baseline", "ping", "defaults", "cpu", "cpu_defaults", "ca", "sign", "host_s")
    samples: Dict[int, Dict[str, List[Any]]] = dict((n, dict((k, []) for k in keys)) for n in SIZES + ([big] if big else []))
    evals: Dict[int, Dict[str, Any]] = {}

    def one_size(n: int, rnd: int, max_rounds: int, turn: int) -> None:
        inv = lab.write_inventory(n)
        s = samples[n]
        items = ["collection", "ping", "baseline"] + (["defaults"] if n == cmp_size else [])
        for what in rotate(items, rnd + turn):
            step = "round %d (max %d), %d hosts, %s" % (rnd + 1, max_rounds, n, {
                "collection": "site.yml (recommended)", "defaults": "site.yml (Ansible's defaults)",
                "ping": "ansible -m ping (recommended)", "baseline": "baseline"}[what])
            say(part, step)
            if what in ("collection", "defaults"):
                cfg = "recommended" if what == "collection" else "defaults"
                lab.reset(hostnames(n))
                lab.converged = 0
                warm(inv, cfg)
                r = playbook(lab, inv, "site.yml", "--skip-tags", "restart", cfg=cfg, hosts=n)
                lab.converged = n
                s[what].append(r.wall)
                s["cpu" if what == "collection" else "cpu_defaults"].append(r.cpu)
                detail = "%.1f s, %s" % (r.wall, _cpu_detail(r.cpu))
                if what == "collection":
                    evals[n] = benchlib.evaluations_summary(r.recap)
                    if r.timer:
                        tt = benchlib.task_times(r.timer, lab.ca_names())
                        s["ca"].append(tt["ca_seconds"])
                        s["sign"].append(tt["sign_seconds"])
                        s["host_s"].append(tt["host_seconds"])
                        detail += ", CA host %.1f s (signing %.1f s)" % (tt["ca_seconds"], tt["sign_seconds"])
                say(part, step, detail)
            elif what == "ping":
                warm(inv, "recommended")
                wall, _ = ping(lab, inv, "recommended", n)
                s["ping"].append(wall)
                say(part, step, "%.2f s" % wall)
            else:
                lab.reset(hostnames(n))
                lab.converged = 0
                specs = ["%s:%s:%s" % (lab.fqdn("kafka-%d" % i), os.path.join(roots["kafka-%d" % i], "pki"),
                                       os.path.join(roots["kafka-%d" % i], "etc", "server.properties"))
                         for i in range(1, n + 1)]
                wall, _, _ = measured([os.path.join(HERE, "baseline.sh"), lab.ssh_config(), lab.fqdn("ca"),
                                       os.path.join(roots["ca"], "pki", "ca")] + specs, n, sshd_pids=lab.sshd_pids())
                s["baseline"].append(wall)
                say(part, step, "%.1f s" % wall)

    for rnd in rounds(BUDGET_ROLLOUT, ROUNDS_ROLLOUT):
        for turn, n in enumerate(SIZES):
            one_size(n, rnd, ROUNDS_ROLLOUT, turn)
    sizes = list(SIZES)
    if big:
        try:
            say(part, "adding kafka-%d..kafka-%d (sshd only; not measured)" % (lab.brokers() + 1, big))
            lab.add_hosts(big, part)
            roots = lab.host_roots()
            for rnd in rounds(BUDGET_BIG, ROUNDS_BIG, min_rounds=1):
                one_size(big, rnd, ROUNDS_BIG, 0)
            sizes.append(big)
        except (BenchError, ValueError, subprocess.TimeoutExpired) as e:
            say("failed", "%d hosts: %s" % (big, e))
            NOTES.append("The %d-host point failed and is missing: %s" % (big, str(e).splitlines()[0]))

    rows = []
    for n in sizes:
        s = samples[n]
        row: Dict[str, Any] = {
            "hosts": n, "rounds": len(s["collection"]), "collection": benchlib.summarize(s["collection"]),
            "baseline": benchlib.summarize(s["baseline"]), "ratio": benchlib.ratio(s["collection"], s["baseline"]),
            "ping": benchlib.summarize(s["ping"]), "evaluations_per_host": evals[n]["mean"],
            "evaluations_max": evals[n]["max"], "evaluations_ca": evals[n]["ca"],
            "cpu": benchlib.summarize_runs(s["cpu"])}
        if s["ca"]:
            row["ca_seconds"] = benchlib.summarize(s["ca"])
            row["sign_seconds"] = benchlib.summarize(s["sign"])
            row["host_task_seconds"] = benchlib.summarize(s["host_s"])
        rows.append(row)
    EVALUATIONS["rollout_no_restart"] = evals[cmp_size]
    c = samples[cmp_size]
    configs = {"hosts": cmp_size, "baseline": benchlib.summarize(c["baseline"]), "rows": {}}
    for name, key, cpu_key in (("recommended", "collection", "cpu"), ("defaults", "defaults", "cpu_defaults")):
        configs["rows"][name] = dict(CONFIG_SETTINGS.get(name, {}), collection=benchlib.summarize(c[key]),
                                     ratio=benchlib.ratio(c[key], c["baseline"]), cpu=benchlib.summarize_runs(c[cpu_key]))
    result: Dict[str, Any] = {"rounds": len(samples[SIZES[0]]["collection"]), "sizes": rows, "configs": configs}
    if len(SIZES) > 1:
        first = min(SIZES)
        for key, last in (("growth", cmp_size), ("growth_big", big if big in sizes else 0)):
            if last:
                g_roll = benchlib.growth(rows, "collection", first, last)
                g_ping = benchlib.growth(rows, "ping", first, last)
                result[key] = {"from": first, "to": last, "rollout": g_roll, "ping": g_ping, "ratio": g_roll / g_ping}
    result["description"] = (
        "`ansible-playbook playbooks/site.yml --skip-tags restart` (validation, backup sets, CA, key + CSR, "
        "signing on the CA host, PKCS12 keystore and truststore, server.properties TLS block; SSH to every "
        "host) with the recommended configuration at every size, and with Ansible's defaults at %d hosts, "
        "against `bench/baseline.sh`, the seed procedure as a shell script: over SSH, one host after another, "
        "openssl for the CA, key, CSR, signing and the PKCS12 keystore, keytool for the truststore, the ssl.* "
        "keys appended to server.properties. `ansible all -m ping` over the same inventory with the "
        "recommended configuration is measured at every size too. Every Ansible run starts with its "
        "configuration's SSH masters warm (an untimed `ansible all -m ping` right before it); every rollout "
        "starts from the hosts' pristine files (no CA, no keys). The hosts are the CA host plus kafka-1..N; "
        "kafka-1..3 run Kafka (it does not read the files during the run), the others have sshd only%s. "
        "Task evaluations are ok + skipped + failed + unreachable from the play recap (Ansible's ok already "
        "counts the changed tasks); the baseline makes 3 SSH sessions and 6 tool runs per host."
        % (cmp_size, "; the %d-host point runs fewer rounds (its own budget)" % big if big else ""))
    return result


# -- part 2 ------------------------------------------------------------------------------------------
def part_rerun(lab: Lab) -> Dict[str, Any]:
    part = "2/4 rerun"
    biggest = max(RERUN_SIZES)
    if lab.converged != biggest:
        lab.reset()
        inv = lab.write_inventory(biggest)
        say(part, "first rollout on %d hosts (not measured)" % biggest)
        warm(inv, "recommended")
        playbook(lab, inv, "site.yml", "--skip-tags", "restart", hosts=biggest)
        lab.converged = biggest
    pairs = [(n, cfg) for n in RERUN_SIZES for cfg in (RERUN_CONFIGS if n == biggest else ["recommended"])]
    samples: Dict[Tuple[int, str], Dict[str, List[Any]]] = dict((p, {"rerun": [], "ping": [], "cpu": []}) for p in pairs)
    changed: Dict[Tuple[int, str], int] = dict((p, 0) for p in pairs)
    evals: Dict[Tuple[int, str], Dict[str, Any]] = {}
    for rnd in rounds(BUDGET_RERUN, ROUNDS_RERUN):
        for n in RERUN_SIZES:
            inv = lab.write_inventory(n)
            items = [(cfg, what) for (m, cfg) in pairs if m == n for what in ("rerun", "ping")]
            for cfg, what in rotate(items, rnd):
                step = "round %d (max %d), %d hosts, %s (%s)" % (rnd + 1, ROUNDS_RERUN, n,
                                                                 "site.yml" if what == "rerun" else "ansible -m ping", cfg)
                say(part, step)
                warm(inv, cfg)
                if what == "rerun":
                    r = playbook(lab, inv, "site.yml", "--skip-tags", "restart", cfg=cfg, hosts=n)
                    problems = benchlib.recap_problems(r.recap, want_changed_zero=True)
                    if problems:
                        raise BenchError("the rerun is not idempotent (%s configuration): %s" % (cfg, "; ".join(problems)))
                    changed[(n, cfg)] += benchlib.recap_totals(r.recap)["changed"]
                    evals[(n, cfg)] = benchlib.evaluations_summary(r.recap)
                    wall = r.wall
                    samples[(n, cfg)]["cpu"].append(r.cpu)
                    detail = "%.1f s, %s" % (wall, _cpu_detail(r.cpu))
                else:
                    wall, _ = ping(lab, inv, cfg, n)
                    detail = "%.2f s" % wall
                samples[(n, cfg)][what].append(wall)
                say(part, step, detail)
    rows = []
    for p in pairs:
        n, cfg = p
        s = samples[p]
        rows.append({"hosts": n, "config": cfg, "rerun": benchlib.summarize(s["rerun"]), "ping": benchlib.summarize(s["ping"]),
                     "ratio": benchlib.ratio(s["rerun"], s["ping"]), "changed_total": changed[p],
                     "evaluations_per_host": evals[p]["mean"], "evaluations_max": evals[p]["max"],
                     "evaluations_ca": evals[p]["ca"], "cpu": benchlib.summarize_runs(s["cpu"])})
    EVALUATIONS["rerun"] = evals[(biggest, "recommended")]
    return {"rounds": len(samples[pairs[0]]["rerun"]), "sizes": rows, "description": (
        "The same `site.yml --skip-tags restart` run again on converged hosts (CA host + kafka-1..N); every "
        "rerun is checked to report changed=0 on every host (the bench stops otherwise). The floor is a bare "
        "`ansible all -m ping` over the same inventory in the same configuration: the cost of reaching the "
        "hosts at all. Both start with the configuration's SSH masters warm (an untimed ping right before). "
        "The first rerun after the rollout is measured too: it still asks every host for its key/CSR step and "
        "leaves the request memo (roles/certificates/README.md) that spares later reruns that call, so it is "
        "the slowest sample of the first round.")}


# -- part 3 ------------------------------------------------------------------------------------------
def _client_properties(lab: Lab, path: str, cipher_suites: str = "") -> None:
    """Producer settings for the SSL listener: kafka-1's certificate (serverAuth + clientAuth, from
    the collection) as the client identity, the collection's protocol settings, host name checks on.
    `cipher_suites` narrows the client's offer (the broker's list has them all) for the cipher study."""
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
    if cipher_suites:
        props["ssl.cipher.suites"] = cipher_suites
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join("%s=%s\n" % kv for kv in props.items()))


def _perf(lab: Lab, port: int, config: Optional[str], records: int, rate: int = -1,
          warmup: int = 0) -> Tuple[Dict[str, float], str]:
    java = lab.inventory["all"]["vars"]["kafka_java"]
    libs = os.path.join(lab.inventory["all"]["vars"]["kafka_lib_dir"], "*")
    bootstrap = ",".join("%s:%d" % (lab.fqdn("kafka-%d" % i), port) for i in (1, 2, 3))
    cmd = [java, "-Xmx256m", "-cp", libs, "org.apache.kafka.tools.ProducerPerformance",
           "--topic", "bench-perf", "--num-records", str(records), "--record-size", str(PERF_RECORD_SIZE),
           "--throughput", str(rate), "--producer-props", "bootstrap.servers=" + bootstrap, "acks=all"]
    if config:
        cmd += ["--producer.config", config]
    if warmup:
        cmd += ["--warmup-records", str(warmup)]
    _, out = run(cmd, timeout=600)
    return benchlib.parse_producer_performance(out), out


def part_data_plane(lab: Lab) -> Dict[str, Any]:
    part = "3/4 data plane"
    lab.reset()
    lab.converged = 0
    inv = lab.write_inventory(3)
    say(part, "site.yml on 3 brokers with kafkasec_broker_keep_plaintext=true (restarts included, recommended)")
    # The PLAINTEXT producer is User:ANONYMOUS, which the default authorisation (no ACL, no access) refuses;
    # the bench lets a principal without ACLs through (the SSL producer is kafka-1, a super user either way),
    # so both listeners pass the same authorizer.
    r = playbook(lab, inv, "site.yml", "-e", "kafkasec_broker_keep_plaintext=true",
                 "-e", "kafkasec_allow_everyone_if_no_acl_found=true", hosts=3)
    wall = r.wall
    EVALUATIONS["full_site_yml"] = benchlib.evaluations_summary(r.recap)
    say(part, "site.yml done", "%.1f s, task evaluations per Kafka host: mean %.1f, max %d" % (
        wall, EVALUATIONS["full_site_yml"]["mean"], EVALUATIONS["full_site_yml"]["max"]))
    hv = lab.host_vars("kafka-1")
    probe_args = "host=%s port=9093 ca_path=%s client_cert_path=%s client_key_path=%s" % (
        lab.fqdn("kafka-1"), os.path.join(hv["kafkasec_pki_dir"], "ca-chain.crt"),
        os.path.join(hv["kafkasec_pki_dir"], lab.fqdn("kafka-1") + ".crt"),
        os.path.join(hv["kafkasec_pki_dir"], lab.fqdn("kafka-1") + ".key"))
    out = adhoc(inv, lab.fqdn("kafka-1"), "kafkasec.tls.tls_probe", "-a", probe_args, "-o")
    probe = json.loads(out.split("=>", 1)[1]) if "=>" in out else {}
    if not probe.get("protocol"):
        raise BenchError("tls_probe did not report a protocol:\n" + out[-2000:])
    negotiated = {"protocol": probe["protocol"], "cipher": probe.get("cipher"),
                  "how": "kafkasec.tls.tls_probe from kafka-1 with its own certificate"}
    work = tempfile.mkdtemp(prefix="client-", dir=lab.work)
    client = os.path.join(work, "ssl-client.properties")
    _client_properties(lab, client)
    # The cipher study: the same SSL listener with the client offering AES-128-GCM only (TLS 1.3).
    client_aes128 = os.path.join(work, "ssl-aes128-client.properties")
    _client_properties(lab, client_aes128, "TLS_AES_128_GCM_SHA256")
    say(part, "warm-up (creates the topic, not measured)")
    _perf(lab, 9092, None, 5000)
    _perf(lab, 9093, client, 5000)
    listeners = {"plaintext": (9092, None), "ssl": (9093, client), "ssl_aes128": (9093, client_aes128)}
    samples: Dict[str, List[Dict[str, float]]] = dict((k, []) for k in listeners)
    for rnd in rounds(BUDGET_PERF, ROUNDS_PERF):
        names = list(listeners)
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for what in order:
            say(part, "round %d (max %d), %s" % (rnd + 1, ROUNDS_PERF, what))
            port, config = listeners[what]
            flat_out, _ = _perf(lab, port, config, PERF_RECORDS)
            # The latency run's first records also pay for the connections (TLS handshakes with client
            # certificates) and a cold JIT; --warmup-records reports the steady state beside the whole run.
            held, _ = _perf(lab, port, config, LATENCY_RECORDS, LATENCY_RATE, warmup=LATENCY_WARMUP)
            res = {"records_per_sec": flat_out["records_per_sec"], "mb_per_sec": flat_out["mb_per_sec"],
                   "p99_ms": held["p99_ms"], "avg_ms": held["avg_ms"],
                   "steady_p99_ms": held.get("steady_p99_ms", held["p99_ms"]),
                   "steady_avg_ms": held.get("steady_avg_ms", held["avg_ms"]),
                   "latency_run_records_per_sec": held["records_per_sec"]}
            samples[what].append(res)
            say(part, "round %d (max %d), %s" % (rnd + 1, ROUNDS_PERF, what),
                "%.0f records/s, p99 %.0f ms" % (res["records_per_sec"], res["p99_ms"]))
    result: Dict[str, Any] = {"rounds": len(samples["ssl"]), "negotiated": negotiated, "site_yml_seconds": wall,
                              "site_yml_cpu": r.cpu}
    for what, runs in samples.items():
        result[what] = dict((k, benchlib.summarize([r[k] for r in runs]))
                            for k in ("records_per_sec", "mb_per_sec", "p99_ms", "avg_ms", "steady_p99_ms",
                                      "steady_avg_ms"))
    result["throughput_ratio"] = benchlib.ratio([r["records_per_sec"] for r in samples["ssl"]],
                                                [r["records_per_sec"] for r in samples["plaintext"]])
    result["p99_ratio"] = benchlib.ratio([r["p99_ms"] for r in samples["ssl"]], [r["p99_ms"] for r in samples["plaintext"]])
    result["steady_p99_ratio"] = benchlib.ratio([r["steady_p99_ms"] for r in samples["ssl"]],
                                                [r["steady_p99_ms"] for r in samples["plaintext"]])
    result["aes128_steady_p99_ratio"] = benchlib.ratio([r["steady_p99_ms"] for r in samples["ssl_aes128"]],
                                                       [r["steady_p99_ms"] for r in samples["plaintext"]])
    result["aes128_vs_default_throughput"] = benchlib.ratio([r["records_per_sec"] for r in samples["ssl_aes128"]],
                                                            [r["records_per_sec"] for r in samples["ssl"]])
    result["description"] = (
        "One 3-broker cluster after `site.yml -e kafkasec_broker_keep_plaintext=true -e "
        "kafkasec_allow_everyone_if_no_acl_found=true` (recommended configuration; the PLAINTEXT producer is "
        "User:ANONYMOUS, which the default authorisation refuses; the SSL producer is kafka-1, a super user; "
        "both pass the same authorizer; the collection's "
        "TLS settings: TLS 1.3/1.2, client certificates required, host name verification; PLAINTEXT kept "
        "open on 9092 beside SSL on 9093). Kafka's own `org.apache.kafka.tools.ProducerPerformance`: "
        "records of %d bytes, acks=all, topic with 3 partitions and replication factor 3, the SSL producer "
        "presenting kafka-1's certificate. Throughput (records/s, MB/s) from an unthrottled run of %d records; "
        "latency (p99, avg) from a second run of %d records held to %d records/s, well below what either "
        "listener sustains, so it measures the brokers and the wire rather than the time records wait in a "
        "saturated producer's own buffer. A small warm-up run per listener goes first. The latency run "
        "reports the whole run and its steady state (--warmup-records %d: the first records also pay for "
        "the connections - TLS handshakes with client certificates - and a cold JIT). ssl_aes128 is the "
        "same SSL listener with the client offering TLS_AES_128_GCM_SHA256 only (the default negotiates "
        "TLS_AES_256_GCM_SHA384)."
        % (PERF_RECORD_SIZE, PERF_RECORDS, LATENCY_RECORDS, LATENCY_RATE, LATENCY_WARMUP))
    return result


# -- part 4 ------------------------------------------------------------------------------------------
def settle(lab: Lab, inv: str) -> None:
    """Untimed, between measurements: wait until all 3 brokers are registered and every partition is
    fully in sync again, so no run pays for the catching-up the run before it left."""
    args = {"bootstrap_servers": ["%s:9092" % lab.fqdn("kafka-1")], "security_protocol": "PLAINTEXT",
            "wait_for": ["brokers", "full_isr", "under_replicated", "offline"], "expected_brokers": [1, 2, 3],
            "timeout": 300}
    adhoc(inv, lab.fqdn("kafka-1"), "kafkasec.tls.cluster_health", "-a", json.dumps(args), timeout=400)


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
                r = playbook(lab, inv, "rolling_restart.yml", "-e", "kafkasec_rolling_restart_force=true", hosts=3)
                wall, out = r.wall, r.out
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
                "The 3 combined nodes of part 3 (TLS on, PLAINTEXT kept), recommended configuration. `ansible-playbook "
                "playbooks/rolling_restart.yml -e kafkasec_rolling_restart_force=true`: one node at a time, "
                "the active controller last, each behind the role's gates (precheck that the cluster can lose "
                "the node, process, TLS handshake, registered, no under-replicated partition). Against it, "
                "each node's own restart: the lab's `kafka-ctl restart` (SIGTERM, controlled shutdown, start, "
                "wait for `Kafka Server started`) run on kafka-1, -2, -3 one after another, no gates.")}


def lab_kafka_version() -> str:
    """The Kafka release the bench's labs run: KAFKASEC_LAB_KAFKA_VERSION, else the one lab/pom.xml pins."""
    import xml.etree.ElementTree as ET  # pylint: disable=import-outside-toplevel
    if os.environ.get("KAFKASEC_LAB_KAFKA_VERSION"):
        return os.environ["KAFKASEC_LAB_KAFKA_VERSION"].strip()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    return ET.parse(os.path.join(REPO, "lab", "pom.xml")).getroot().find("m:properties/m:kafka.version", ns).text.strip()


def environment() -> Dict[str, Any]:
    _, ansible_version = run([os.path.join(BIN, "ansible"), "--version"])
    for name in CONFIGS:
        CONFIG_SETTINGS[name] = config_settings(name)
    rec = CONFIG_SETTINGS["recommended"]
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": "%d CPUs, %.0f GiB RAM, %s %s" % (os.cpu_count() or 0,
                                                        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30,
                                                        platform.system(), platform.release()),
            "ansible": ansible_version.splitlines()[0].strip(), "kafka_version": lab_kafka_version(),
            "configs": CONFIG_SETTINGS,
            "configs_note": (
                "Every timed Ansible run (rollout, rerun, ping) starts with its configuration's SSH masters warm: "
                "an untimed `ansible all -m ping` over the same inventory right before it. Each configuration keeps "
                "its SSH masters in a control-path directory of its own (ANSIBLE_SSH_CONTROL_PATH_DIR), so one never "
                "reuses the other's connections."),
            "forks_note": ("Ansible over SSH to loopback hosts, in two configurations: recommended (the repository's "
                           "ansible.cfg: %s forks, pipelining %s) everywhere, and Ansible's own defaults (%s forks, "
                           "pipelining %s) beside it in parts 1 and 2." % (
                               rec["forks"], benchlib.on_off(rec["pipelining"]),
                               CONFIG_SETTINGS["defaults"]["forks"],
                               benchlib.on_off(CONFIG_SETTINGS["defaults"]["pipelining"])))}


def add_projection(results: Dict[str, Any]) -> None:
    """results['projection'] from part 1's figures (again, when rendering a results file: the model
    may have changed since), for the recommended configuration's forks and for 10 forks per core."""
    if "rollout" not in results:
        return
    rec = results.get("environment", {}).get("configs", {}).get("recommended", {})
    forks = sorted(set([int(rec.get("forks") or 20), 10 * PROJECT_CORES]))
    projection = benchlib.build_projection(results["rollout"], forks, PROJECT_HOSTS, PROJECT_CORES)
    if projection:
        results["projection"] = projection


BUILTIN_PARTS = {"rollout": part_rollout, "rerun": part_rerun, "data_plane": part_data_plane,
                 "rolling_restart": part_rolling_restart}


def discover_extra_parts() -> Dict[str, Tuple[int, Any]]:
    """Parts beyond the four above, one file each: bench/part_<key>.py with ORDER (int, where it runs and
    renders among the extra parts) and run(lab, bench) -> dict, where bench is this module (Lab, playbook,
    say, run, rounds, benchlib ...). The dict holds the part's figures and what renders them without its code:
    headline {key: ratio}, headline_labels {key: text}, targets [{what, target, measured, met}] and
    markdown [lines]."""
    found: Dict[str, Tuple[int, Any]] = {}
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("part_") and name.endswith(".py"):
            key = name[len("part_"):-len(".py")]
            module = importlib.import_module("part_" + key)
            found[key] = (int(getattr(module, "ORDER", 100)), module.run)
    return found


EXTRA_PARTS = discover_extra_parts()


def selected_parts() -> List[Tuple[str, Any]]:
    """The parts to run, in order: every one, or those KAFKASEC_BENCH_PARTS names (comma-separated)."""
    every = list(BUILTIN_PARTS.items()) + [(k, f) for k, (_, f) in sorted(EXTRA_PARTS.items(), key=lambda kv: kv[1][0])]
    wanted = [p.strip() for p in os.environ.get("KAFKASEC_BENCH_PARTS", "").split(",") if p.strip()]
    if not wanted:
        return every
    unknown = sorted(set(wanted) - {k for k, _ in every})
    if unknown:
        sys.exit("bench: KAFKASEC_BENCH_PARTS names unknown parts %s; the parts are %s"
                 % (", ".join(unknown), ", ".join(k for k, _ in every)))
    return [(k, f) for k, f in every if k in wanted]


def carry_over(results: Dict[str, Any], ran: Sequence[str]) -> None:
    """When only some parts ran, the others keep their figures from the results file already in OUT_DIR,
    each marked with the date it was measured (the report lists them), so one part can be measured again
    without losing the rest."""
    path = os.path.join(OUT_DIR, "benchmarks.json")
    if set(ran) >= set(BUILTIN_PARTS) | set(EXTRA_PARTS) or not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        previous = json.load(f)
    when = previous.get("environment", {}).get("date", "?")
    carried = dict(previous.get("carried_over", {}))
    for key in BUILTIN_PARTS:
        if key not in ran and key in previous:
            results[key] = previous[key]
            carried[key] = carried.get(key, when)
    for key, value in previous.get("extra", {}).items():
        if key not in ran:
            results.setdefault("extra", {})[key] = value
            carried[key] = carried.get(key, when)
    if "evaluations" not in results and "evaluations" in previous:
        results["evaluations"] = previous["evaluations"]
    for key in ran:
        carried.pop(key, None)
    if carried:
        results["carried_over"] = carried


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
        results.pop("targets", None)
        add_projection(results)
        write_outputs(results)
        return 0
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the lab needs it): sudo make bench")
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(REPO, ".build", "collections")
    os.environ.setdefault("ANSIBLE_FORCE_COLOR", "0")
    os.environ["ANSIBLE_NOCOLOR"] = "1"
    os.makedirs(os.path.join(REPO, ".build"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(REPO, ".build"))
    os.chmod(work, 0o700)
    # Short, so the SSH control sockets' paths stay under the 108 bytes a Unix socket name may have.
    control_root = tempfile.mkdtemp(prefix="kb-cp-")
    lab = Lab(INSTANCE, work)

    def _stop(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    selected = selected_parts()
    results: Dict[str, Any] = {}
    errors: List[str] = []
    load_start = os.getloadavg()[0]
    try:
        setup_configs(work, control_root)
        first = max(SIZES + RERUN_SIZES + [3])
        say("setup", "lab instance %d: 3 running combined nodes + %d sshd-only hosts + the CA host%s"
            % (INSTANCE, first - 3, "; %d more for the %d-host point later" % (BIG_SIZE - first, BIG_SIZE)
               if BIG_SIZE > first else ""))
        lab.create(first)
        results["environment"] = environment()
        say("setup", "lab ready", "recommended: %s; defaults: %s" % (
            json.dumps(CONFIG_SETTINGS["recommended"]), json.dumps(CONFIG_SETTINGS["defaults"])))
        # A part that fails is reported and left out; the parts after it still run (part 4 needs
        # part 3's cluster, so it is skipped when part 3 failed; an extra part sets up what it needs).
        for key, func in selected:
            if key == "rolling_restart" and "data_plane" not in results:
                errors.append("rolling_restart: skipped, part 3 did not set the cluster up")
                continue
            try:
                if key in BUILTIN_PARTS:
                    results[key] = func(lab)
                else:
                    results.setdefault("extra", {})[key] = dict(func(lab, sys.modules[__name__]),
                                                                order=EXTRA_PARTS[key][0])
            except (BenchError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                say("failed", "%s: %s" % (key, e))
                errors.append("%s: %s" % (key, str(e).splitlines()[0] if str(e) else repr(e)))
    except BenchError as e:
        say("failed", str(e))
        return 1
    finally:
        stop_masters()
        if lab.owned and not KEEP_LAB:
            say("teardown", "destroying lab instance %d" % INSTANCE)
            try:
                lab.destroy()
            except Exception as e:  # pylint: disable=broad-except
                say("teardown", "destroy failed: %s" % e)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(control_root, ignore_errors=True)
    if EVALUATIONS:
        results["evaluations"] = dict(EVALUATIONS)
    carry_over(results, [key for key, _ in selected])
    add_projection(results)
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
        "CPU: the control node's figure is ansible's own processes and their SSH clients "
        "(getrusage(RUSAGE_CHILDREN)) plus the configuration's SSH masters (from /proc; a master that "
        "exits during a run loses its last ticks). The machine's figure is every CPU's busy time, so the "
        "hosts' share computed from it (machine - control node) also holds whatever else ran meanwhile: the "
        "idle brokers, other work on this shared machine; treat it as an estimate, an upper bound. The "
        "hosts' figure from their sshd process trees (every lab host has its own sshd; its sessions, "
        "shells and module runs are its descendants) is not blurred by other work, and is the one the "
        "projection and the per-host target use.",
        "The 1,000-host projection is a model fed with the figures above, not a measurement: its formula "
        "is stated with it.",
    ] + NOTES + ["This part failed and is missing: " + e for e in errors]
    write_outputs(results)
    for key, val in benchlib.headline(results).items():
        say("result", "%s: %.2fx" % (key, val))
    for t in benchlib.targets(results):
        say("target", "%s: %s (target %s) - %s" % (t["what"], t["measured"], t["target"], "met" if t["met"] else "NOT met"))
    if results.get("projection"):
        for sc in results["projection"]["scenarios"]:
            say("projection", "%d hosts, %d cores, %d forks: %.0f s (controller %.0f s, forks %.0f s, CA signing %.0f s; "
                "dominant: %s)" % (sc["hosts"], sc["cores"], sc["forks"], sc["projected_s"], sc["controller_bound_s"],
                                   sc["fork_bound_s"], sc["ca_sign_s"], sc["dominant"]))
    say("done", "wrote %s/benchmarks.md, .json, .png" % OUT_DIR)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
