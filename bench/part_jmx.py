# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench part `jmx`: what secure JMX (kafkasec.tls.jmx, playbooks/jmx.yml) costs.

(a) getAttribute latency through the JMX guard vs the JDK's own password and access files: kafka-1 and kafka-3 run
    the guard (the role's default), kafka-2 the JDK's access file alone (kafkasec_jmx_guard_enabled: false, the
    viewer `readonly`); all Kafka brokers of the same lab, same JVM, same TLS connector and registry, same password
    login. One small Java client (below, compiled in the bench's work directory) opens one connection to each and
    reads kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec Count N times per batch, batches rotating
    between the three (each round starts with the next one), timed in the client's JVM (no JVM start-up in the
    figures). Two guard brokers: kafka-1 / kafka-3 (same configuration) is the spread between brokers that the
    guard / JDK ratio has to be read against.
(b) producer throughput with JMX secured vs JMX off on the same broker: Kafka's ProducerPerformance against a
    one-partition topic kafka-1 alone holds (acks=1, its SSL listener), kafka-1 started with the role's JMX
    environment file (guard, TLS, passwords) and without it (the lab's kafka-ctl then starts it with no remote JMX),
    in the order on, off, off, on (one restart per switch).

run(lab, bench) is called by bench/run.py (bench/README.md, "Parts of their own").
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from typing import Any, Dict, List

ORDER = 10
METRIC = "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec"
TOPIC = "bench-jmx"
CALLS = int(os.environ.get("KAFKASEC_BENCH_JMX_CALLS", "2000"))          # getAttribute calls per batch
ROUNDS = int(os.environ.get("KAFKASEC_BENCH_JMX_ROUNDS", "8"))           # batches per side
WARMUP = int(os.environ.get("KAFKASEC_BENCH_JMX_WARMUP", "2000"))        # untimed calls per side first
PERF_RECORDS = int(os.environ.get("KAFKASEC_BENCH_JMX_PERF_RECORDS", "30000"))
PERF_RECORD_SIZE = 1024
TARGET_LATENCY_RATIO = 1.2

CLIENT_SOURCE = r'''
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.rmi.ssl.SslRMIClientSocketFactory;

// JmxLatency <credentials> <object> <attribute> <warm-up> <calls> <rounds> <name=url>...: one connection per URL,
// then per round one batch of <calls> getAttribute calls per URL (each round starting with the next URL); one line
// per batch: "batch <name> <round> <median ns> <mean ns> <p99 ns>".
public class JmxLatency {
    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(a[0])) { p.load(in); }
        Map<String, Object> env = new HashMap<>();
        env.put(JMXConnector.CREDENTIALS, new String[] {p.getProperty("username"), p.getProperty("password")});
        env.put("com.sun.jndi.rmi.factory.socket", new SslRMIClientSocketFactory());
        ObjectName object = new ObjectName(a[1]);
        String attribute = a[2];
        int warmup = Integer.parseInt(a[3]), calls = Integer.parseInt(a[4]), rounds = Integer.parseInt(a[5]);
        int n = a.length - 6;
        String[] names = new String[n];
        MBeanServerConnection[] conns = new MBeanServerConnection[n];
        for (int i = 0; i < n; i++) {
            String[] kv = a[6 + i].split("=", 2);
            names[i] = kv[0];
            conns[i] = JMXConnectorFactory.connect(new JMXServiceURL(kv[1]), env).getMBeanServerConnection();
        }
        for (int w = 0; w < warmup; w++) for (int i = 0; i < n; i++) conns[i].getAttribute(object, attribute);
        long[] t = new long[calls];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < n; k++) {
                int i = (r + k) % n;
                for (int c = 0; c < calls; c++) {
                    long t0 = System.nanoTime();
                    conns[i].getAttribute(object, attribute);
                    t[c] = System.nanoTime() - t0;
                }
                long sum = 0;
                for (long x : t) sum += x;
                long[] s = t.clone();
                Arrays.sort(s);
                System.out.println("batch " + names[i] + " " + r + " " + s[calls / 2] + " " + (sum / calls) + " "
                                   + s[Math.min(calls - 1, (int) Math.ceil(calls * 0.99) - 1)]);
                System.out.flush();
            }
        }
        System.exit(0);
    }
}
'''


def _write(path: str, text: str, mode: int = 0o600) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def _kafka_ctl(bench, lab, name: str, *args: str) -> float:
    hv = lab.host_vars(name)
    wall, _ = bench.run(["runuser", "-u", hv["ansible_user"], "--", hv["kafka_ctl"]] + list(args), timeout=400)
    return wall


def _node_id(lab, name: str) -> str:
    with open(lab.host_vars(name)["kafka_server_properties"], encoding="utf-8") as f:
        for line in f:
            if line.startswith("node.id="):
                return line.split("=", 1)[1].strip()
    raise ValueError("no node.id in %s's server.properties" % name)


def _java(lab) -> str:
    return lab.inventory["all"]["vars"]["kafka_java"]


def _libs(lab) -> str:
    return os.path.join(lab.inventory["all"]["vars"]["kafka_lib_dir"], "*")


def _perf(bench, lab, client: str) -> Dict[str, float]:
    cmd = [_java(lab), "-Xmx256m", "-cp", _libs(lab), "org.apache.kafka.tools.ProducerPerformance",
           "--topic", TOPIC, "--num-records", str(PERF_RECORDS), "--record-size", str(PERF_RECORD_SIZE),
           "--throughput", "-1", "--producer-props", "bootstrap.servers=%s:9093" % lab.fqdn("kafka-1"), "acks=1",
           "--producer.config", client]
    _, out = bench.run(cmd, timeout=600)
    return bench.benchlib.parse_producer_performance(out)


def _latency(bench, lab, work: str, bundle: str) -> Dict[str, Any]:
    src = _write(os.path.join(work, "JmxLatency.java"), CLIENT_SOURCE, 0o644)
    classes = os.path.join(work, "jmx-latency-classes")
    javac = os.path.join(os.path.dirname(os.path.realpath(_java(lab))), "javac")
    bench.run([javac, "-nowarn", "-d", classes, src], timeout=300)
    urls = dict((side, "service:jmx:rmi:///jndi/rmi://%s:9999/jmxrmi" % lab.fqdn(host))
                for side, host in (("guard", "kafka-1"), ("jdk", "kafka-2"), ("guard3", "kafka-3")))
    cmd = [_java(lab), "-Xmx64m", "@" + os.path.join(bundle, "jmx-client.args"), "-cp", classes, "JmxLatency",
           os.path.join(bundle, "monitor.properties"), METRIC, "Count", str(WARMUP), str(CALLS), str(ROUNDS)]
    cmd += ["%s=%s" % kv for kv in urls.items()]
    wall, out = bench.run(cmd, timeout=900)
    batches: Dict[str, List[Dict[str, float]]] = {"guard": [], "jdk": [], "guard3": []}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == "batch":
            batches[f[1]].append({"median_us": int(f[3]) / 1000.0, "mean_us": int(f[4]) / 1000.0,
                                  "p99_us": int(f[5]) / 1000.0})
    if any(len(v) != ROUNDS for v in batches.values()):
        raise ValueError("JmxLatency printed %s batches, expected %d per side:\n%s"
                         % (dict((k, len(v)) for k, v in batches.items()), ROUNDS, out[-2000:]))
    summary = dict((side, dict((k, bench.benchlib.summarize([b[k] for b in runs])) for k in runs[0]))
                   for side, runs in batches.items())
    both = batches["guard"] + batches["guard3"]
    ratio = bench.benchlib.ratio
    return {"batches": batches, "summary": summary, "client_seconds": round(wall, 1),
            "ratio": ratio([b["median_us"] for b in both], [b["median_us"] for b in batches["jdk"]]),
            "mean_ratio": ratio([b["mean_us"] for b in both], [b["mean_us"] for b in batches["jdk"]]),
            "ratio_kafka1": ratio([b["median_us"] for b in batches["guard"]], [b["median_us"] for b in batches["jdk"]]),
            "ratio_kafka3": ratio([b["median_us"] for b in batches["guard3"]], [b["median_us"] for b in batches["jdk"]]),
            "guard_spread": ratio([b["median_us"] for b in batches["guard"]], [b["median_us"] for b in batches["guard3"]]),
            "urls": urls}


def _switch_jmx(bench, lab, on: bool) -> float:
    """kafka-1 restarted with (on) or without (off) the role's JMX environment file; the bench's settle after it."""
    env = lab.host_vars("kafka-1")["kafkasec_jmx_env_file"]
    aside = env + ".bench-off"
    if on:
        os.rename(aside, env)
    else:
        os.rename(env, aside)
    wall = _kafka_ctl(bench, lab, "kafka-1", "restart")
    bench.settle(lab, lab.write_inventory(3))
    return wall


def _jmx_listening(lab) -> bool:
    import socket  # pylint: disable=import-outside-toplevel
    try:
        with socket.create_connection((lab.fqdn("kafka-1"), 9999), timeout=3):
            return True
    except OSError:
        return False


def run(lab, bench) -> Dict[str, Any]:  # pylint: disable=too-many-locals
    part = "jmx"
    inv = lab.write_inventory(3)
    lab.converged = 0  # the hosts' etc/ changes below: a later rollout part resets first
    bench.say(part, "site.yml on 3 brokers with kafkasec_broker_keep_plaintext=true (a no-op after part 3)")
    site = bench.playbook(lab, inv, "site.yml", "-e", "kafkasec_broker_keep_plaintext=true",
                          "-e", "kafkasec_allow_everyone_if_no_acl_found=true", hosts=3)
    work = os.path.join(lab.work, "jmx")
    os.makedirs(work, mode=0o700, exist_ok=True)
    bundle = os.path.join(work, "bundle")
    # kafka-2 without the guard: the JDK's password and access files decide alone (the viewer readonly).
    extra_inv = _write(os.path.join(work, "jmx-inventory.yml"), json.dumps(
        {"all": {"hosts": {lab.fqdn("kafka-2"): {"kafkasec_jmx_guard_enabled": False}}}}))
    bench.say(part, "jmx.yml on 3 brokers (kafka-2 without the guard; the nodes restart through the roll)")
    jmx = bench.playbook(lab, inv, "jmx.yml", "-i", extra_inv, "-e",
                         json.dumps({"kafkasec_jmx_bundle_dir": bundle}), hosts=3)
    bench.say(part, "jmx.yml done", "%.1f s" % jmx.wall)
    with open(os.path.join(lab.host_vars("kafka-2")["kafkasec_lab_root"], "etc", "jmx", "jmxremote.access"),
              encoding="utf-8") as f:
        if "monitor readonly" not in f.read():
            raise ValueError("kafka-2's access file does not say `monitor readonly` (guard off)")
    bench.settle(lab, inv)

    bench.say(part, "(a) getAttribute latency, guard (kafka-1, kafka-3) vs JDK access file (kafka-2), %d rounds x %d calls"
              % (ROUNDS, CALLS))
    lat = _latency(bench, lab, work, bundle)
    bench.say(part, "(a) done", "median per call: guard %.0f / %.0f us, JDK %.0f us, ratio %.2fx (kafka-1/kafka-3 %.2fx)" % (
        lat["summary"]["guard"]["median_us"]["median"], lat["summary"]["guard3"]["median_us"]["median"],
        lat["summary"]["jdk"]["median_us"]["median"], lat["ratio"], lat["guard_spread"]))

    # (b) one-partition topic on kafka-1 alone, the SSL producer with kafka-1's certificate (a super user).
    client = os.path.join(work, "ssl-client.properties")
    bench._client_properties(lab, client)  # pylint: disable=protected-access
    bench.run([_java(lab), "-Xmx128m", "-cp", _libs(lab), "org.apache.kafka.tools.TopicCommand", "--bootstrap-server",
               "%s:9093" % lab.fqdn("kafka-1"), "--command-config", client, "--create", "--if-not-exists",
               "--topic", TOPIC, "--replica-assignment", _node_id(lab, "kafka-1")], timeout=300)
    bench.say(part, "(b) warm-up run (not measured)")
    _perf(bench, lab, client)
    samples: Dict[str, List[Dict[str, float]]] = {"jmx_secured": [], "jmx_off": []}
    restarts: List[float] = []
    state = True
    for what in ("jmx_secured", "jmx_off", "jmx_off", "jmx_secured"):
        want = what == "jmx_secured"
        if want != state:
            bench.say(part, "(b) kafka-1 restarted with JMX %s" % ("secured" if want else "off"))
            restarts.append(_switch_jmx(bench, lab, want))
            state = want
        if _jmx_listening(lab) != want:
            raise ValueError("kafka-1's JMX port 9999 is %s while it should be %s"
                             % ("open" if not want else "closed", "open" if want else "closed"))
        res = _perf(bench, lab, client)
        samples[what].append(res)
        bench.say(part, "(b) %s" % what, "%.0f records/s, p99 %.0f ms" % (res["records_per_sec"], res["p99_ms"]))
    thr = dict((k, bench.benchlib.summarize([r["records_per_sec"] for r in v])) for k, v in samples.items())
    mbs = dict((k, bench.benchlib.summarize([r["mb_per_sec"] for r in v])) for k, v in samples.items())
    thr_ratio = bench.benchlib.ratio([r["records_per_sec"] for r in samples["jmx_secured"]],
                                     [r["records_per_sec"] for r in samples["jmx_off"]])
    fmt = bench.benchlib.fmt_stat
    g, j, g3 = lat["summary"]["guard"], lat["summary"]["jdk"], lat["summary"]["guard3"]
    met = lat["ratio"] <= TARGET_LATENCY_RATIO
    markdown = [
        "## Secure JMX (`playbooks/jmx.yml`)", "",
        "Three combined KRaft nodes after `site.yml` (TLS) and `playbooks/jmx.yml` (TLS on the JMX connector and the "
        "RMI registry, password login, one generated `monitor` user with the viewer role). kafka-1 and kafka-3 run "
        "the JMX guard, the role's default; kafka-2 runs without it (`kafkasec_jmx_guard_enabled: false`): the JDK's "
        "own password and access files decide alone, `monitor readonly`. Same Kafka release, same JVM, same "
        "connector settings on both.", "",
        "### getAttribute latency: guard / JDK access file", "",
        "One Java client JVM (`JmxLatency`, in `bench/part_jmx.py`), one connection to each broker, %d untimed calls "
        "to each first; then %d rounds, each one batch of %d `getAttribute(%s, Count)` calls per broker, the batches "
        "rotating (each round starts with the next broker), every call timed with `System.nanoTime()` in the "
        "client: no JVM start-up in the figures. Per batch: the median, mean and p99 of its calls; the table gives "
        "the median (min-max) of those over the rounds. The two guard brokers differ only in which node they are: "
        "their ratio is the spread between brokers that the guard / JDK ratio is to be read against."
        % (WARMUP, ROUNDS, CALLS, METRIC), "",
    ]
    markdown += bench.benchlib._table(  # pylint: disable=protected-access
        ["broker", "authorisation", "median per call (us)", "mean per call (us)", "p99 per call (us)"],
        [["kafka-1", "JMX guard (Karaf's rules) + access file readwrite", fmt(g["median_us"]), fmt(g["mean_us"]),
          fmt(g["p99_us"])],
         ["kafka-3", "JMX guard (Karaf's rules) + access file readwrite", fmt(g3["median_us"]), fmt(g3["mean_us"]),
          fmt(g3["p99_us"])],
         ["kafka-2", "JDK access file (readonly)", fmt(j["median_us"]), fmt(j["mean_us"]), fmt(j["p99_us"])]])
    markdown += ["", "guard / JDK: **%.2fx** (the median of both guard brokers' batch medians over kafka-2's; "
                 "means %.2fx; kafka-1 alone %.2fx, kafka-3 alone %.2fx), target <= %.1fx: %s. Between the two guard "
                 "brokers: kafka-1 / kafka-3 %.2fx." % (
                     lat["ratio"], lat["mean_ratio"], lat["ratio_kafka1"], lat["ratio_kafka3"], TARGET_LATENCY_RATIO,
                     "met" if met else "NOT met", lat["guard_spread"]), "",
        "### Producer throughput: JMX secured / JMX off, same broker", "",
        "Kafka's `org.apache.kafka.tools.ProducerPerformance`, %d records of %d bytes, unthrottled, acks=1, to a "
        "one-partition topic that kafka-1 alone holds, over its SSL listener (client certificate). kafka-1 started "
        "with the role's JMX environment file (guard, TLS, passwords: remote JMX on 9999) and without it (no remote "
        "JMX; the lab's `kafka-ctl restart`), in the order secured, off, off, secured after one untimed warm-up run; "
        "no JMX client polls during the runs." % (PERF_RECORDS, PERF_RECORD_SIZE), "",
    ]
    markdown += bench.benchlib._table(  # pylint: disable=protected-access
        ["kafka-1", "records/s", "MB/s"],
        [[k.replace("_", " "), fmt(thr[k], 0), fmt(mbs[k], 2)] for k in ("jmx_secured", "jmx_off")])
    markdown += ["", "secured / off: **%.2fx** (ratio of the medians)." % thr_ratio]
    headline = {"jmx_guard_vs_jdk_getattribute": lat["ratio"], "jmx_secured_vs_off_throughput": thr_ratio}
    return {
        "title": "Secure JMX",
        "latency": lat,
        "throughput": {"samples": samples, "records_per_sec": thr, "mb_per_sec": mbs, "ratio": thr_ratio,
                       "restart_seconds": restarts},
        "site_yml_seconds": round(site.wall, 1),
        "jmx_yml_seconds": round(jmx.wall, 1),
        "headline": headline,
        "headline_labels": {
            "jmx_guard_vs_jdk_getattribute": "JMX getAttribute latency, guard / JDK access file (median per call)",
            "jmx_secured_vs_off_throughput": "producer throughput on one broker, JMX secured / JMX off"},
        "targets": [{"what": "JMX getAttribute latency through the guard / the JDK's own access file",
                     "target": "<= %.1fx" % TARGET_LATENCY_RATIO, "measured": "%.2fx" % lat["ratio"], "met": met}],
        "markdown": markdown,
        "load_average": round(os.getloadavg()[0], 1),
        "median_of_medians_us": dict((k, statistics.median(b["median_us"] for b in v)) for k, v in lat["batches"].items()),
        "java": subprocess.run([_java(lab), "-version"], capture_output=True, text=True, check=False).stderr.splitlines()[0],
    }
