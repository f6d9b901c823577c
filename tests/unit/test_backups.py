# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/common/backups.py and the backup module: sets taken only on change, bounded,
restored atomically with owner and mode, idempotent both ways."""

from __future__ import annotations

import datetime
import json
import os
import re
import stat

import pytest
import yaml

from ansible_runner import run_module

from ansible_collections.kafkasec.tls.plugins.filter import kafkasec as filters
from ansible_collections.kafkasec.tls.plugins.filter.kafkasec import FilterModule
from ansible_collections.kafkasec.tls.plugins.module_utils.common.backups import (
    BackupError, backup_call_needed, before_set_option, closing_set_option, list_sets, newest_set_matches, restore,
    run_stamps, snapshot)

UTC = datetime.timezone.utc
RUN_STAMP_CASES = [
    # (case, the run's start, before, after)
    ("UTC time", datetime.datetime(2026, 12, 7, 10, 30, 0, 123456, tzinfo=UTC),
     "20261207T103000.123456Z", "20261207T103000.123457Z"),
    ("the last microsecond of a year carries into the next", datetime.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
     "20261231T235959.999999Z", "20270101T000000.000000Z"),
    ("another zone is written in UTC", datetime.datetime(2026, 12, 7, 11, 30, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
     "20261207T103000.000000Z", "20261207T103000.000001Z"),
    ("a naive time is UTC", datetime.datetime(2026, 12, 7, 10, 30, 0, 5), "20261207T103000.000005Z",
     "20261207T103000.000006Z"),
]

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


@pytest.mark.parametrize("case,now,before,after", RUN_STAMP_CASES, ids=[c[0] for c in RUN_STAMP_CASES])
def test_run_stamps_name_the_closing_set_after_the_first(case, now, before, after, node):
    stamps = FilterModule().filters()["backup_run_stamps"](now)
    assert stamps == {"before": before, "after": after}, case
    # The backup module takes both, in that order, on one node: the closing set is the newest.
    _, files, backup_dir = node
    snapshot(paths(files), backup_dir, keep=5, stamp=stamps["before"])
    files['props'].write_text('listeners=SSL://:9093\n')
    snapshot(paths(files), backup_dir, keep=5, stamp=stamps["after"])
    assert list_sets(backup_dir) == [before, after], case


def test_run_stamps_refuse_what_is_not_a_time():
    with pytest.raises(BackupError, match="expected the run's start time"):
        run_stamps("2026-12-07")


@pytest.fixture
def node(tmp_path):
    files = {'props': tmp_path / 'server.properties', 'ks': tmp_path / 'keystore.p12'}
    files['props'].write_text('listeners=PLAINTEXT://:9092\n')
    files['props'].chmod(0o640)
    files['ks'].write_bytes(b'\x30\x82store-1')
    files['ks'].chmod(0o600)
    return tmp_path, files, str(tmp_path / 'backups')


def paths(files):
    return [str(p) for p in files.values()]


def test_a_set_is_taken_only_when_the_files_changed(node):
    _, files, backup_dir = node
    first = snapshot(paths(files), backup_dir, keep=5)
    assert first.changed and len(first.files) == 2
    again = snapshot(paths(files), backup_dir, keep=5)
    assert not again.changed and again.stamp == first.stamp
    files['props'].write_text('listeners=SSL://:9093\n')
    second = snapshot(paths(files), backup_dir, keep=5)
    assert second.changed and list_sets(backup_dir) == [first.stamp, second.stamp]
    copy_dir = os.path.join(backup_dir, second.stamp)
    assert stat.S_IMODE(os.stat(backup_dir).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(os.path.join(copy_dir, n)).st_mode) == 0o600
               for n in os.listdir(copy_dir) if n != 'manifest.json')


def test_sets_beyond_keep_are_removed_oldest_first(node):
    _, files, backup_dir = node
    stamps = []
    for i in range(4):
        files['ks'].write_bytes(b'store-%d' % i)
        stamps.append(snapshot(paths(files), backup_dir, keep=2).stamp)
    assert list_sets(backup_dir) == stamps[-2:]


def test_restore_puts_back_the_state_before_the_last_change_and_is_idempotent(node):
    _, files, backup_dir = node
    before = snapshot(paths(files), backup_dir, keep=5)
    files['props'].write_text('listeners=SSL://:9093\n')
    files['props'].chmod(0o600)
    files['ks'].write_bytes(b'store-2')
    after = snapshot(paths(files), backup_dir, keep=5)
    # After a completed run the newest set is the current state: restore takes the one before.
    out = restore(backup_dir)
    assert out.changed and out.stamp == before.stamp and sorted(out.files) == sorted(paths(files))
    assert files['props'].read_text() == 'listeners=PLAINTEXT://:9092\n'
    assert stat.S_IMODE(files['props'].stat().st_mode) == 0o640
    assert files['ks'].read_bytes() == b'\x30\x82store-1'
    # Now the files equal the older set; the newest differing one is the post-change set: a second
    # restore without a stamp would go forward again, so operators pin the stamp to stay put.
    pinned = restore(backup_dir, stamp=before.stamp)
    assert not pinned.changed
    assert restore(backup_dir, stamp=after.stamp, check_mode=True).changed
    assert files['props'].read_text() == 'listeners=PLAINTEXT://:9092\n'


def test_restore_after_a_half_done_run_goes_back_to_the_last_good_state(node):
    _, files, backup_dir = node
    good = snapshot(paths(files), backup_dir, keep=5)
    files['props'].write_text('broken=1\n')  # the run died after this write, before its closing set
    out = restore(backup_dir)
    assert out.stamp == good.stamp and out.files == [str(files['props'])]


def test_bad_input_is_named(node, tmp_path):
    _, files, backup_dir = node
    with pytest.raises(BackupError, match='nothing to restore'):
        restore(backup_dir)
    with pytest.raises(BackupError, match='keep must be at least 1'):
        snapshot(paths(files), backup_dir, keep=0)
    stamp = snapshot(paths(files), backup_dir, keep=5).stamp
    with pytest.raises(BackupError, match='no backup set 20000101T000000Z'):
        restore(backup_dir, stamp='20000101T000000Z')
    (tmp_path / 'backups' / stamp / 'manifest.json').write_text('{')
    with pytest.raises(BackupError, match='damaged'):
        restore(backup_dir, stamp=stamp)


def test_module_check_mode_writes_nothing_and_second_run_changes_nothing(node):
    _, files, backup_dir = node
    args = {'paths': paths(files), 'backup_dir': backup_dir, 'keep': 3}
    checked = run_module('kafkasec.tls.backup', args, check=True)
    assert checked['changed'] and not os.path.exists(backup_dir)
    first = run_module('kafkasec.tls.backup', args)
    assert first['changed'] and first['sets'] == [first['stamp']]
    assert not run_module('kafkasec.tls.backup', args)['changed']
    files['ks'].write_bytes(b'new')
    run_module('kafkasec.tls.backup', args)
    restored = run_module('kafkasec.tls.backup', {'backup_dir': backup_dir, 'state': 'restored'})
    assert restored['changed'] and restored['stamp'] == first['stamp'] and restored['files'] == [str(files['ks'])]
    manifest = json.loads((node[0] / 'backups' / first['stamp'] / 'manifest.json').read_text())
    assert sorted(manifest['files']) == sorted(paths(files))


def test_a_named_set_missing_on_a_node_can_leave_it_alone(node):
    _, files, backup_dir = node
    snapshot(paths(files), backup_dir, keep=5, stamp='20261123T120000.000001Z')
    out = restore(backup_dir, stamp='20261123T130000Z', missing_ok=True)
    assert not out.changed and 'left as it is' in out.message
    with pytest.raises(BackupError, match='after the newest set'):
        files['ks'].write_bytes(b'changed')
        snapshot(paths(files), backup_dir, keep=5, stamp='20261123T110000Z')


def test_the_planning_question_agrees_with_what_a_snapshot_would_do(tmp_path) -> None:
    files = [tmp_path / 'server.properties', tmp_path / 'keystore.p12']
    for f in files:
        f.write_text(f.name)
    paths, backups = [str(f) for f in files], str(tmp_path / 'backups')
    assert newest_set_matches(paths, backups) is None and not os.path.exists(backups)  # no set: one is needed
    first = snapshot(paths, backups, 3)
    assert newest_set_matches(paths, backups) == first.stamp and not snapshot(paths, backups, 3).changed
    files[1].write_text('renewed')
    assert newest_set_matches(paths, backups) is None and snapshot(paths, backups, 3).changed
    os.chmod(files[0], 0o600)  # the mode counts too
    assert newest_set_matches(paths, backups) is None


CHANGED, UNCHANGED, SKIPPED = {'changed': True}, {'changed': False}, {'skipped': True, 'changed': False}


@pytest.mark.parametrize('plan, results, closing, expected', [
    # before the run: the plan call's answer decides, unless a writing call already ran
    (None, [None, None, None], False, True),                      # no plan answer: call
    ({'needed': True}, [None, None, None], False, True),          # files differ from the newest set
    ({'needed': False, 'newest': 's1'}, [None, None, None], False, False),  # the newest set holds them
    ({'needed': False, 'newest': 's1'}, [UNCHANGED, None, None], False, True),  # a writing call ran: stale
    ({'needed': False, 'newest': 's1'}, [SKIPPED, None, None], False, True),    # registered, even skipped
    ({}, [None], False, True),                                    # an answer without 'needed': call
    # the closing set: only where a call of this run changed a file
    ({'needed': True}, [UNCHANGED, UNCHANGED, UNCHANGED], True, False),
    (None, [None, None, None], True, False),
    ({'needed': False}, [UNCHANGED, CHANGED, None], True, True),
    ({'needed': False}, [SKIPPED, None, CHANGED], True, True),
    # the merge kept the closing set in its own call: no backup call, whatever changed
    ({'needed': True}, [CHANGED, UNCHANGED, dict(CHANGED, closing_backup={'taken': True})], True, False),
    ({'needed': True}, [CHANGED, None, dict(UNCHANGED, closing_backup={'taken': False, 'stamp': None})], True, False),
])
def test_backup_call_needed(plan, results, closing, expected):
    assert backup_call_needed(plan, results, closing) is expected


# -- the backup plays' hosts (filter backup_hosts): the same rule, on what each host registered --------------

NEEDED, HELD = {'backup': {'needed': True}}, {'backup': {'needed': False, 'newest': 's1'}}


@pytest.mark.parametrize('hostvars, closing, expected', [
    # before the run: a converged node (the newest set holds its files, nothing written yet) is left out
    ({'k1': {'kafkasec_broker__node': HELD}, 'k2': {'kafkasec_broker__node': NEEDED}}, False, ['k2']),
    # no plan answer (a host outside --limit, or a plan that did not run): kept, the task decides
    ({'k1': {}, 'k2': {'kafkasec_broker__node': HELD}}, False, ['k1']),
    # a writing call already ran in this run: the plan's answer may be stale
    ({'k1': {'kafkasec_broker__node': HELD, 'kafkasec_pki': UNCHANGED}, 'k2': {'kafkasec_broker__node': HELD}},
     False, ['k1']),
    # the closing set: only where a call of this run changed a file, whichever call it was
    ({'k1': {'kafkasec_broker__node': HELD, 'kafkasec_certificates__request': UNCHANGED, 'kafkasec_pki': UNCHANGED,
             'kafkasec_broker__config': CHANGED},
      'k2': {'kafkasec_broker__node': NEEDED, 'kafkasec_pki': UNCHANGED, 'kafkasec_broker__config': UNCHANGED},
      'k3': {'kafkasec_certificates__request': CHANGED}}, True, ['k1', 'k3']),
    # every node converged: an empty play
    ({'k1': {'kafkasec_broker__node': HELD}, 'k2': {'kafkasec_broker__node': HELD}}, False, []),
])
def test_backup_hosts(hostvars, closing, expected):
    hosts = sorted(hostvars)
    assert FilterModule().filters()['backup_hosts'](hosts, hostvars, closing=closing) == expected


def test_backup_hosts_keeps_the_order_and_tolerates_unknown_hosts():
    hostvars = {'b': {'kafkasec_broker__node': NEEDED}, 'a': {'kafkasec_broker__node': NEEDED}}
    assert FilterModule().filters()['backup_hosts'](['b', 'zz', 'a'], hostvars) == ['b', 'zz', 'a']


def test_backup_hosts_reads_what_the_backup_task_reads():
    # The filter and the role variable that guards the backup task read the same registered results.
    with open(os.path.join(REPO, 'roles', 'broker', 'vars', 'main.yml')) as handle:
        expression = yaml.safe_load(handle)['kafkasec_broker__backup_call_needed']
    read = re.findall(r'(kafkasec_\w+)(?:\.\w+)? \| default\(none\)', expression)
    assert read == [filters.BACKUP_PLAN_VARIABLE] + list(filters.BACKUP_RESULT_VARIABLES), read


# -- the sets kept inside the writing calls (site.yml): the request call's set before the run, the merge's closing set

SET = {'paths': ['/etc/kafka/server.properties', '/pki/keystore.p12'], 'backup_dir': '/etc/kafka/.kafkasec-backups',
       'keep': 5}


@pytest.mark.parametrize('case, plan_backup, stamp, expected', [
    ("files differ from the newest set: the request call keeps the set", dict(SET, needed=True, newest=None), 'S1',
     dict(SET, stamp='S1')),
    ("the newest set holds the files: none", dict(SET, needed=False, newest='S0'), 'S1', {}),
    ("an answer without 'needed' counts as needed", dict(SET), 'S1', dict(SET, stamp='S1')),
    ("no plan answer (a host outside the run): none", None, 'S1', {}),
    ("backups off (keep 0)", dict(SET, needed=True, keep=0), 'S1', {}),
    ("no stamp named", dict(SET, needed=True), '', {}),
    ("a plan of an older release without the set's options: none", {'needed': True, 'newest': None}, 'S1', {}),
])
def test_before_set_option(case, plan_backup, stamp, expected):
    assert before_set_option(plan_backup, stamp) == expected, case


@pytest.mark.parametrize('case, plan_backup, earlier, expected', [
    ("the PKI calls changed the files", dict(SET, needed=False), [CHANGED, UNCHANGED],
     dict(SET, stamp='S2', after_changes=True)),
    ("nothing changed before the merge: the merge's own change decides", dict(SET, needed=True), [UNCHANGED, None],
     dict(SET, stamp='S2', after_changes=False)),
    ("skipped PKI calls (--tags config)", dict(SET, needed=False), [SKIPPED, SKIPPED],
     dict(SET, stamp='S2', after_changes=False)),
    ("backups off", dict(SET, keep=0), [CHANGED], {}),
    ("no plan answer", None, [CHANGED], {}),
])
def test_closing_set_option(case, plan_backup, earlier, expected):
    assert closing_set_option(plan_backup, 'S2', earlier) == expected, case


def test_the_option_filters_read_the_plan_result():
    node = {'backup': dict(SET, needed=True, newest=None), 'plan': {}}
    options = FilterModule().filters()
    assert options['backup_before_option'](node, 'S1') == dict(SET, stamp='S1')
    assert options['backup_closing_option'](node, 'S2', [None, CHANGED]) == dict(SET, stamp='S2', after_changes=True)
    assert options['backup_before_option'](None, 'S1') == {} and options['backup_closing_option']('x', 'S2') == {}
