# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the guard costs: getAttribute latency over the remote connector through the guard against the JDK's own
access file alone, same JDK (17), same run, same client code; 10,000 timed calls per round after a warm-up, three
rounds per JVM taken in turns. Each JVM's figure is its best round (the machine is shared: a slow round is other
load, not the guard), the mean of the rounds is kept too. The figures go to .build/jmx-guard-overhead.json and the
test's output; the goal is a median within 1.2x."""

from __future__ import annotations

import json
import statistics

import jvmkit

ATTRIBUTE = ("kafkasec.test:type=Demo", "Count")
CALLS = 10000
ROUNDS = 3
USERS = {"viewer": "viewer-pw-1"}
RULES = {"users": {"viewer": {"groups": ["monitoring"]}}, "groups": {"monitoring": ["viewer"]},
         "rules": [{"mbean": "kafka.server:type=BrokerTopicMetrics", "operations": {"get*": ["viewer"]}}]}


def test_get_attribute_latency_guard_vs_access_file(tmp_path):
    jdk_only = jvmkit.Server("17", tmp_path / "access-file", USERS, {"viewer": "readonly"}, None)
    guarded = jvmkit.Server("17", tmp_path / "guard", USERS, {"viewer": "readwrite"}, RULES)
    results = {"jdk_access_file": [], "guard": []}
    clients = {}
    try:
        clients = {"jdk_access_file": jvmkit.Client(jdk_only, "viewer", USERS["viewer"]),
                   "guard": jvmkit.Client(guarded, "viewer", USERS["viewer"])}
        assert jdk_only.lines["SERVER"] != "io.kafkasec.jmxguard.GuardedMBeanServer"
        assert guarded.lines["SERVER"] == "io.kafkasec.jmxguard.GuardedMBeanServer"
        # the guard is really deciding: the viewer is refused what the access file alone would not check
        assert clients["guard"].ask("invoke", "java.lang:type=Memory", "gc", "")[0] == "DENIED"
        for _ in range(ROUNDS):
            for name, client in clients.items():
                status, text = client.ask("bench", ATTRIBUTE[0], ATTRIBUTE[1], str(CALLS))
                assert status == "OK", text
                median, p99 = (float(x) for x in text.split())
                results[name].append({"median_us": median, "p99_us": p99})
    finally:
        for c in clients.values():
            c.close()
        jdk_only.stop()
        guarded.stop()
    summary = {name: {"median_us": min(r["median_us"] for r in rounds),
                      "p99_us": min(r["p99_us"] for r in rounds),
                      "mean_median_us": statistics.mean(r["median_us"] for r in rounds),
                      "mean_p99_us": statistics.mean(r["p99_us"] for r in rounds), "rounds": rounds}
               for name, rounds in results.items()}
    summary["median_ratio"] = summary["guard"]["median_us"] / summary["jdk_access_file"]["median_us"]
    summary["p99_ratio"] = summary["guard"]["p99_us"] / summary["jdk_access_file"]["p99_us"]
    summary["calls_per_round"] = CALLS
    out = jvmkit.REPO / ".build" / "jmx-guard-overhead.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print("\ngetAttribute over JMX/RMI, JDK 17, %d calls x %d rounds (best round): access file median %.1f us p99 %.1f us; "
          "guard median %.1f us p99 %.1f us; ratio median %.2f p99 %.2f"
          % (CALLS, ROUNDS, summary["jdk_access_file"]["median_us"], summary["jdk_access_file"]["p99_us"],
             summary["guard"]["median_us"], summary["guard"]["p99_us"], summary["median_ratio"], summary["p99_ratio"]))
    assert summary["median_ratio"] <= 1.2, summary
