# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kafkasec.tls.rolling_restart on the TLS lab, under continuous load (tests/loadgen.py).

- A forced roll restarts every node once, the active controller last, while a producer (acks=all,
  idempotent) and a consumer run: nothing lost, nothing duplicated, no failed send. The roll time is
  compared with the sum of the nodes' own restart times (printed; gates must not add idle waiting).
- A broken keystore on the second node of the roll stops the roll there with a message naming the
  node and the gate; the first node was restarted, the third was not touched and keeps serving;
  after the fix a rerun restarts only the nodes still pending and finishes the roll.

These run after the other integration tests (conftest.py orders them last): they restart brokers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / 'playbooks' / 'site.yml'
ROLL = REPO / 'playbooks' / 'rolling_restart.yml'
LOADGEN = REPO / 'tests' / 'loadgen.py'
SSL_PORT = 9093


def loadgen(site, command: str, report: Path, *extra: str, timeout: int = 420) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LOADGEN), command, '--report', str(report), *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def start_load(site, work: Path, name: str) -> Path:
    report = work / ('%s.json' % name)
    bootstrap = ','.join('%s:%d' % (h['name'], SSL_PORT) for h in site.kafka_hosts())
    p = loadgen(site, 'start', report, '--bootstrap', bootstrap, '--topic', 'kafkasec-roll-' + uuid.uuid4().hex[:8],
                '--create-topic', '--partitions', '6', '--replication-factor', '3', '--min-insync-replicas', '2',
                '--rate', '200', '--max-seconds', '900', '--ca', str(site.ca_pem),
                '--cert', str(site.client_cert[0]), '--key', str(site.client_cert[1]))
    assert p.returncode == 0, p.stdout
    return report


def stop_load(site, report: Path) -> dict:
    p = loadgen(site, 'stop', report, '--timeout', '300')
    print(p.stdout)
    return json.loads(report.read_text())


def restart_times(output: str) -> dict:
    """host -> seconds from its stop command to its last gate, as the role reports them."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'"msg": "(\S+) \(node \d+\) restarted and passed [a-z, ]+ in ([0-9.]+) s\."', output)}


def roll_order(output: str) -> list:
    m = re.search(r'Restart order \(nodes without a pending restart are passed over\): ([^;]+);', output)
    assert m, output[-3000:]
    return m.group(1).split(' -> ')


def test_forced_roll_restarts_every_node_and_loses_nothing(tls, tmp_path):
    site = tls
    before = site.processes()
    report = start_load(site, tmp_path, 'forced')
    run = site.run('-e', 'kafkasec_rolling_restart_force=true', playbook=ROLL)
    load = stop_load(site, report)
    assert run.rc == 0, run.describe()
    after = site.processes()
    assert all(after[h][0] != before[h][0] for h in before), (before, after)
    order = roll_order(run.output)
    assert 'active controller: %s.' % order[-1] in run.output
    times = restart_times(run.output)
    assert sorted(times) == sorted(before)
    own = sum(times.values())
    print('forced roll: %.1f s for 3 nodes; sum of their own restarts %.1f s; ratio %.2f; load %s' % (
        run.seconds, own, run.seconds / own, {k: load[k] for k in (
            'sent', 'acked', 'consumed_unique', 'lost', 'duplicates', 'failed', 'longest_stall_s')}))
    assert load['ok'], load
    assert load['sent'] > 0 and load['lost'] == 0 and load['duplicates'] == 0 and load['failed'] == 0


def test_broken_keystore_stops_the_roll_at_that_node(tls, tmp_path):
    site = tls
    hosts = [h['name'] for h in site.kafka_hosts()]
    marker_reasons = {'reasons': ['test: pending restart'], 'controller_switch': False}

    def mark_all_pending():
        for name in hosts:
            props = Path(site.host(name)['root']) / 'etc' / 'server.properties'
            marker = props.with_name(props.name + '.kafkasec-restart-pending')
            marker.write_text(json.dumps(marker_reasons))
            shutil.chown(marker, site.host(name)['user'], site.host(name)['user'])

    # The order this roll will take (nothing is pending yet, so this run restarts nothing).
    idle = site.processes()
    probe = site.run(playbook=ROLL)
    assert probe.rc == 0 and site.processes() == idle, probe.describe()
    order = roll_order(probe.output)
    first, broken, third = order
    keystore = Path(site.host(broken)['root']) / 'pki' / 'keystore.p12'
    good = keystore.read_bytes()
    mark_all_pending()
    report = start_load(site, tmp_path, 'failed-roll')
    before = site.processes()
    try:
        keystore.write_bytes(b'not a PKCS#12 keystore\n')
        run = site.run(playbook=ROLL)
    finally:
        keystore.write_bytes(good)
    assert run.rc != 0, run.describe()
    assert re.search(r'%s: gate (process|tls) failed' % re.escape(broken), run.output), run.output[-4000:]
    after = site.processes()
    assert after[first][0] != before[first][0], 'the first node was restarted'
    assert after[third] == before[third], 'the third node was not touched'
    recap = run.recap
    assert third not in recap or recap[third].get('changed', 0) == 0, recap
    # The fix is in place (keystore restored): the rerun restarts the nodes still pending, not the first.
    rerun = site.run(playbook=ROLL)
    load = stop_load(site, report)
    assert rerun.rc == 0, rerun.describe()
    final = site.processes()
    assert final[first] == after[first]
    assert final[broken][0] != after[broken][0] and final[third][0] != after[third][0]
    assert load['lost'] == 0 and load['duplicates'] == 0 and load['failed'] == 0, load


def test_site_rerun_restarts_nothing(tls):
    site = tls
    before = site.processes()
    run = site.run(playbook=SITE)
    assert run.rc == 0, run.describe()
    assert all(v.get('changed', 0) == 0 for v in run.recap.values()), run.recap
    assert site.processes() == before
