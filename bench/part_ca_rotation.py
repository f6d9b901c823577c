# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench part `ca_rotation`: what a full CA rotation costs a serving cluster, next to a forced rolling restart
measured in the same run on the same 3 combined nodes.

The cluster: the bench lab's kafka-1..3 with TLS on, PLAINTEXT kept and the authorizer off (`site.yml -e
kafkasec_broker_keep_plaintext=true -e kafkasec_authorizer_enabled=false`; the loads' PLAINTEXT principal has no
ACLs).
Each side runs under its own load (tests/loadgen.py: an idempotent producer, acks=all, 200 messages/s, and a
consumer, on a new RF 3 topic with min.insync.replicas 2, over PLAINTEXT so that the client itself is not part of
the rotation): the longest time without a delivery acknowledgement is the stall the operation caused, and the
report says whether anything was lost, duplicated or failed.

1. forced rolling restart: `playbooks/rolling_restart.yml -e kafkasec_rolling_restart_force=true`;
2. CA rotation, rekey (a new CA key, the harder case): `playbooks/rotate_ca.yml` phases 1, 2 and 3 one after
   another, with the broker role's settings of the cluster (PLAINTEXT kept).

One round of each (a rotation changes the CA for good; a second would rotate again from the new CA).
run(lab, bench) is called by bench/run.py (bench/README.md, "Parts of their own").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List

ORDER = 20
RATE = 200
LOADGEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "loadgen.py")


def _start_load(lab, bench, name: str) -> str:
    report = os.path.join(lab.work, "load-%s.json" % name)
    bootstrap = ",".join("%s:9092" % lab.fqdn("kafka-%d" % i) for i in (1, 2, 3))
    bench.run([sys.executable, LOADGEN, "start", "--bootstrap", bootstrap, "--topic", "bench-%s" % name,
               "--create-topic", "--report", report, "--rate", str(RATE), "--max-seconds", "1500"], timeout=300)
    time.sleep(5)  # a few seconds of steady load before the operation starts
    return report


def _stop_load(bench, report: str) -> Dict[str, Any]:
    subprocess.run([sys.executable, LOADGEN, "stop", "--report", report, "--timeout", "300"],
                   capture_output=True, text=True, timeout=400, check=False)
    with open(report, encoding="utf-8") as f:
        got = json.load(f)
    keep = ("ok", "sent", "acked", "failed", "lost", "duplicates", "longest_stall_s")
    # An unclean load keeps what tells why: where the duplicates sit and when they were sent, the stalls and
    # the client's own error lines.
    if not got.get("ok"):
        keep += ("duplicate_details", "lost_seqs", "failed_errors", "stalls_over_1s", "client_errors")
    return dict((k, got.get(k)) for k in keep)


def run(lab, bench) -> Dict[str, Any]:
    part = "ca_rotation"
    inv = lab.write_inventory(3)
    # PLAINTEXT kept for the loads, whose principal (User:ANONYMOUS) has no ACLs: the authorizer stays off here.
    keep = ("-e", "kafkasec_broker_keep_plaintext=true", "-e", "kafkasec_authorizer_enabled=false")
    bench.say(part, "site.yml on 3 brokers with PLAINTEXT kept and the authorizer off (converges, or changes nothing)")
    bench.playbook(lab, inv, "site.yml", *keep, hosts=3)
    bench.settle(lab, inv)

    bench.say(part, "forced rolling restart under load")
    report = _start_load(lab, bench, "roll")
    roll = bench.playbook(lab, inv, "rolling_restart.yml", *keep, "-e", "kafkasec_rolling_restart_force=true", hosts=3)
    roll_load = _stop_load(bench, report)
    bench.say(part, "forced rolling restart", "%.1f s, longest stall %.1f s, %s" % (
        roll.wall, roll_load["longest_stall_s"] or 0, "nothing lost" if roll_load["ok"] else "LOAD NOT OK"))
    bench.settle(lab, inv)

    bench.say(part, "CA rotation (rekey), phases 1-3 under load")
    report = _start_load(lab, bench, "rotation")
    phases: List[float] = []
    for phase in (1, 2, 3):
        r = bench.playbook(lab, inv, "rotate_ca.yml", *keep, "-e", "kafkasec_ca_rotation_phase=%d" % phase,
                           "-e", "kafkasec_ca_rotation_mode=rekey", hosts=3)
        phases.append(r.wall)
        bench.say(part, "phase %d" % phase, "%.1f s" % r.wall)
    rotation_load = _stop_load(bench, report)
    total = sum(phases)
    # A load that lost, duplicated or failed a message is a result of the part, reported in its table and
    # its own line, not a reason to drop the figures.
    ratio = total / roll.wall
    stall_ratio = (rotation_load["longest_stall_s"] or 0) / max(roll_load["longest_stall_s"] or 0, 0.001)
    rows = [["forced rolling restart (`rolling_restart.yml`, 3 nodes)", "%.1f" % roll.wall, "-",
             "%.1f" % roll_load["longest_stall_s"], "%d / %d / %d / %d" % (
                 roll_load["sent"], roll_load["failed"], roll_load["lost"], roll_load["duplicates"])],
            ["CA rotation, rekey (`rotate_ca.yml` phases 1, 2, 3)", "%.1f" % total,
             " / ".join("%.1f" % p for p in phases), "%.1f" % rotation_load["longest_stall_s"],
             "%d / %d / %d / %d" % (rotation_load["sent"], rotation_load["failed"], rotation_load["lost"],
                                    rotation_load["duplicates"])]]
    markdown = ["## 6. CA rotation next to a forced rolling restart", "", __doc__.split("\n\n", 1)[0].replace("\n", " "),
                "", "One round each, the roll first, on the same 3 combined nodes, each under its own load "
                "(tests/loadgen.py, 200 messages/s, acks=all, RF 3, min.insync.replicas 2, over PLAINTEXT).", ""]
    markdown += bench.benchlib._table(  # pylint: disable=protected-access
        ["operation", "wall s", "per phase s", "longest producer stall s", "sent / failed / lost / duplicated"], rows)
    markdown += ["", "CA rotation / forced rolling restart: wall %.2fx, longest stall %.2fx." % (ratio, stall_ratio)]
    for what, load in (("forced rolling restart", roll_load), ("CA rotation", rotation_load)):
        if not load["ok"]:
            markdown.append("**The load of the %s was not clean**: %d failed, %d lost, %d duplicated of %d sent."
                            % (what, load["failed"], load["lost"], load["duplicates"], load["sent"]))
            for dup in load.get("duplicate_details") or []:
                markdown.append("- message %d: sent at %.1f s, acked at %s s, in the log at (partition, offset) %s"
                                % (dup["seq"], dup["sent_at_s"], dup["acked_at_s"],
                                   ", ".join("(%d, %d)" % tuple(p) for p in dup["positions"])))
    return {
        "roll_s": roll.wall, "rotation_s": total, "phases_s": phases, "roll_load": roll_load,
        "rotation_load": rotation_load, "ratio": ratio, "stall_ratio": stall_ratio,
        "headline": {"ca_rotation_vs_forced_roll": ratio, "ca_rotation_stall_vs_forced_roll_stall": stall_ratio},
        "headline_labels": {
            "ca_rotation_vs_forced_roll": "full CA rotation (3 phases, rekey) / forced rolling restart of 3 nodes, wall",
            "ca_rotation_stall_vs_forced_roll_stall": "longest producer stall, CA rotation / forced rolling restart"},
        "targets": [],
        "markdown": markdown,
    }
