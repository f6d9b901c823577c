# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kafkasec.tls.rolling_restart on the TLS lab, under continuous load (tests/loadgen.py).

- A forced roll restarts every node once, the active controller last, while a producer (acks=all,
  idempotent) and a consumer run: nothing lost, nothing duplicated, no failed send. The roll time is
  compared with the sum of the nodes' own restart times (printed; gates must not add idle waiting).
- playbooks/rollback.yml puts back the files site.yml changed (from the backup sets it keeps) and
  restarts the nodes behind the gates under load; pinned to that backup set, a rerun changes nothing.
  (A roll that stops at a broken node is the Molecule scenario failed_roll.)

These run after the other integration tests (conftest.py orders them last): they restart brokers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / 'playbooks' / 'site.yml'
ROLL = REPO / 'playbooks' / 'rolling_restart.yml'
ROLLBACK = REPO / 'playbooks' / 'rollback.yml'
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


def test_rollback_restores_the_previous_files_and_restarts_behind_the_gates(tls, tmp_path):
    site = tls
    props = {h['name']: Path(h['root']) / 'etc' / 'server.properties' for h in site.kafka_hosts()}
    before = {name: path.read_text() for name, path in props.items()}
    # A change that needs a restart: TLS 1.3 only. site.yml keeps a backup set before and after it.
    change = site.run('-e', '{"kafkasec_broker_ssl_enabled_protocols": ["TLSv1.3"]}', playbook=SITE)
    assert change.rc == 0, change.describe()
    assert all('ssl.enabled.protocols=TLSv1.3\n' in p.read_text() for p in props.values())
    pids_changed = site.processes()
    report = start_load(site, tmp_path, 'rollback')
    rollback = site.run(playbook=ROLLBACK)
    load = stop_load(site, report)
    assert rollback.rc == 0, rollback.describe()
    assert {name: path.read_text() for name, path in props.items()} == before
    after = site.processes()
    assert all(after[h][0] != pids_changed[h][0] for h in after), 'every node restarted with its old file'
    assert len(restart_times(rollback.output)) == len(props)
    stamp = re.search(r'restored \d+ file\(s\) from backup set (\S+)', rollback.output).group(1)
    # Pinned to that stamp, a rerun changes and restarts nothing.
    again = site.run('-e', 'kafkasec_rollback_stamp=' + stamp, playbook=ROLLBACK)
    assert again.rc == 0 and all(v.get('changed', 0) == 0 for v in again.recap.values()), again.describe()
    assert site.processes() == after
    assert load['lost'] == 0 and load['duplicates'] == 0 and load['failed'] == 0, load


def test_site_rerun_restarts_nothing(tls):
    site = tls
    before = site.processes()
    run = site.run(playbook=SITE)
    assert run.rc == 0, run.describe()
    assert all(v.get('changed', 0) == 0 for v in run.recap.values()), run.recap
    assert site.processes() == before
