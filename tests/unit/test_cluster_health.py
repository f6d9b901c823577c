# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/cluster.py: the gates and the bounded polling, without a cluster
(a fake clock and scripted snapshots). The real cluster is tests/integration/test_rolling_restart.py."""

from __future__ import annotations

from typing import List

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import (
    ClusterRequest, ClusterSnapshot, HealthError, PartitionState, connection_after_tls_check, evaluate, wait)


def part(topic, p, leader, replicas, isr, min_isr=2):
    return PartitionState(topic, p, leader, tuple(replicas), tuple(isr), min_isr)


def healthy() -> ClusterSnapshot:
    return ClusterSnapshot(brokers={1: 'k1:9093', 2: 'k2:9093', 3: 'k3:9093'}, controller_id=2, cluster_id='c',
                           partitions=[part('t', 0, 1, [1, 2, 3], [1, 2, 3]), part('t', 1, 2, [2, 3, 1], [2, 3, 1])])


def broker2_down() -> ClusterSnapshot:
    return ClusterSnapshot(brokers={1: 'k1:9093', 3: 'k3:9093'}, controller_id=1,
                           partitions=[part('t', 0, 1, [1, 2, 3], [1, 3]), part('t', 1, 3, [2, 3, 1], [3, 1]),
                                       part('single', 0, -1, [2], [2], 1)])


def broker2_back_lagging() -> ClusterSnapshot:
    s = healthy()
    s.partitions = [part('t', 0, 1, [1, 2, 3], [1, 3]), part('t', 1, 3, [2, 3, 1], [3, 1])]
    return s


def by_name(results):
    return {r.name: r for r in results}


def test_healthy_cluster_passes_every_gate():
    results = evaluate(healthy(), ['brokers', 'controller', 'under_replicated', 'full_isr', 'min_isr', 'offline'], [1, 2, 3])
    assert all(r.ok for r in results), results


def test_down_broker_fails_the_gates_that_name_it():
    s = broker2_down()
    assert [p.name for p in s.under_replicated] == ['t-0', 't-1']
    assert [p.name for p in s.offline] == ['single-0']
    r = by_name(evaluate(s, ['brokers', 'under_replicated', 'full_isr', 'min_isr', 'offline'], [2]))
    assert not r['brokers'].ok and '[2] not registered' in r['brokers'].detail
    assert not r['under_replicated'].ok and '2 under-replicated' in r['under_replicated'].detail
    assert not r['full_isr'].ok and 't-0' in r['full_isr'].detail
    assert r['min_isr'].ok  # two of three in sync, min.insync.replicas=2
    assert not r['offline'].ok and 'single-0' in r['offline'].detail


def test_full_isr_only_looks_at_the_expected_brokers():
    s = broker2_back_lagging()
    assert not by_name(evaluate(s, ['full_isr'], [2]))['full_isr'].ok
    # Broker 1 is in every ISR of its partitions.
    assert by_name(evaluate(s, ['full_isr'], [1]))['full_isr'].ok
    # Without expected brokers: every ISR must equal its replicas.
    assert not by_name(evaluate(s, ['full_isr']))['full_isr'].ok


def test_min_isr_counts_partitions_below_the_topic_setting():
    s = ClusterSnapshot(brokers={1: 'a', 2: 'b', 3: 'c'}, partitions=[
        part('t', 0, 1, [1, 2, 3], [1], 2), part('t', 1, 1, [1, 2, 3], [1, 2], 2),
        part('rf1', 0, 1, [1], [1], 2)])  # RF 1 under a min.insync.replicas of 2: capped at the RF
    assert [p.name for p in s.below_min_isr] == ['t-0']


def test_unknown_gate_and_missing_brokers_are_refused():
    with pytest.raises(HealthError, match='unknown gate'):
        wait(healthy, ['nope'])
    with pytest.raises(HealthError, match='needs the expected broker ids'):
        wait(healthy, ['brokers'])


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: List[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(*snapshots, cost=0.5, clock=None):
    seq = list(snapshots)

    def fetch():
        clock.now += cost
        item = seq.pop(0) if len(seq) > 1 else seq[0]
        if isinstance(item, Exception):
            raise item
        return item() if callable(item) else item
    return fetch


def test_wait_returns_as_soon_as_the_gates_hold():
    clock = FakeClock()
    fetch = scripted(broker2_down, HealthError('broker 2 refused'), broker2_back_lagging, healthy, clock=clock)
    outcome = wait(fetch, ['brokers', 'full_isr', 'under_replicated'], [2], timeout=60, interval=2,
                   clock=clock, sleep=clock.sleep)
    assert outcome.ok and outcome.polls == 4
    assert clock.sleeps == [2, 2, 2]  # no sleep after the last poll
    assert outcome.result['under_replicated_count'] == 0
    assert outcome.result['broker_ids'] == [1, 2, 3]


def test_wait_is_bounded_and_names_the_failed_gate():
    clock = FakeClock()
    fetch = scripted(broker2_back_lagging, clock=clock)
    with pytest.raises(HealthError) as info:
        wait(fetch, ['brokers', 'full_isr', 'under_replicated'], [2], timeout=10, interval=3,
             clock=clock, sleep=clock.sleep)
    err = info.value
    assert err.failed_gates == ['full_isr', 'under_replicated']
    assert 'gates full_isr, under_replicated did not hold within 10 s' in str(err)
    assert 't-0' in str(err)
    assert clock.now <= 10 + 0.5  # one poll may end just after the deadline, no sleep past it
    assert err.outcome.result['under_replicated'] == ['t-0', 't-1']
    assert err.outcome.result['gates']['brokers']['ok'] is True


def test_unreadable_cluster_keeps_the_error():
    clock = FakeClock()
    fetch = scripted(HealthError('cannot read the cluster metadata: SSL handshake failed'), clock=clock)
    with pytest.raises(HealthError) as info:
        wait(fetch, ['brokers'], [1], timeout=3, interval=1, clock=clock, sleep=clock.sleep)
    assert info.value.failed_gates == ['brokers']
    assert 'SSL handshake failed' in str(info.value)
    # Without gates: one look, the error at once.
    with pytest.raises(HealthError, match='SSL handshake failed'):
        wait(scripted(HealthError('SSL handshake failed'), clock=clock), [], clock=clock, sleep=clock.sleep)


def test_request_validation(tmp_path):
    f = tmp_path / 'x.pem'
    f.write_text('x')
    good = dict(ca_path=str(f), cert_path=str(f), key_path=str(f))
    ClusterRequest(('kafka-1.example.com:9093',), **good).validate()
    with pytest.raises(HealthError, match='IP address'):
        ClusterRequest(('10.0.0.1:9093',), **good).validate()
    with pytest.raises(HealthError, match='not host:port'):
        ClusterRequest(('kafka-1',), **good).validate()
    with pytest.raises(HealthError, match='key_path'):
        ClusterRequest(('k:1',), ca_path=str(f), cert_path=str(f), key_path=str(tmp_path / 'none')).validate()


def test_batch_safe_refuses_a_batch_that_takes_a_partition_below_min_isr():
    s = ClusterSnapshot(brokers={1: 'a', 2: 'b', 3: 'c'}, partitions=[
        part('t', 0, 1, [1, 2, 3], [1, 2, 3], 2), part('t', 1, 2, [2, 3, 1], [2, 3], 2)])
    # One broker at a time keeps two of three in sync everywhere; broker 1 alone is safe even for t-1.
    assert by_name(evaluate(s, ['batch_safe'], restarting_brokers=[1]))['batch_safe'].ok
    # Brokers 1 and 2 together leave t-0 with {3} and t-1 with {3}: below 2.
    r = by_name(evaluate(s, ['batch_safe'], restarting_brokers=[1, 2]))['batch_safe']
    assert not r.ok and 't-0, t-1' in r.detail and '[1, 2]' in r.detail
    # With t-1 already lagging, broker 3 alone is unsafe for it.
    r = by_name(evaluate(s, ['batch_safe'], restarting_brokers=[3]))['batch_safe']
    assert not r.ok and 't-1' in r.detail and 't-0' not in r.detail
    with pytest.raises(HealthError, match='batch_safe gate needs'):
        wait(lambda: s, ['batch_safe'])


def test_plaintext_request_needs_no_certificate_files():
    ClusterRequest(('kafka-1.example.com:9092',), None, None, None, security_protocol='PLAINTEXT').validate()
    with pytest.raises(HealthError, match='ca_path is required'):
        ClusterRequest(('kafka-1.example.com:9093',), None, None, None).validate()
    with pytest.raises(HealthError, match='SSL or PLAINTEXT'):
        ClusterRequest(('kafka-1.example.com:9093',), None, None, None, security_protocol='SASL_SSL').validate()


def test_batch_safe_does_not_wait_for_partitions_no_order_can_protect():
    # RF 1 (and RF 2 under min.insync.replicas 2) cannot stay writable through a restart of a replica;
    # waiting for them would hold the roll forever. They are named, not waited for.
    s = ClusterSnapshot(brokers={1: 'a', 2: 'b', 3: 'c'}, partitions=[
        part('t', 0, 1, [1, 2, 3], [1, 2, 3], 2), part('rf1', 0, 2, [2], [2], 2), part('rf2', 0, 2, [2, 3], [2, 3], 2)])
    r = by_name(evaluate(s, ['batch_safe'], restarting_brokers=[2]))['batch_safe']
    assert r.ok and 'rf1-0, rf2-0' in r.detail and 'not writable while it restarts' in r.detail
    assert not by_name(evaluate(s, ['batch_safe'], restarting_brokers=[1, 2]))['batch_safe'].ok


TLS = dict(bootstrap_servers=['k1:9093'], security_protocol='SSL', ca_path='/ca', cert_path='/c', key_path='/k')
AS_GIVEN = dict(TLS)
THROUGH_PLAINTEXT = dict(bootstrap_servers=['k1:9092'], security_protocol='PLAINTEXT', ca_path=None, cert_path=None,
                         key_path=None)


@pytest.mark.parametrize('case, params, answers, probed, expected', [
    ('no check asked', TLS, False, False, AS_GIVEN),
    ('TLS answers', dict(TLS, tls_check_first=True, plaintext_bootstrap_servers=['k1:9092']), True, True, AS_GIVEN),
    ('TLS not up yet: PLAINTEXT', dict(TLS, tls_check_first=True, plaintext_bootstrap_servers=['k1:9092']), False, True,
     THROUGH_PLAINTEXT),
    ('TLS not up, no PLAINTEXT: nothing to read', dict(TLS, tls_check_first=True), False, True, None),
    ('PLAINTEXT asked: no TLS check', dict(THROUGH_PLAINTEXT, tls_check_first=True), False, False, THROUGH_PLAINTEXT),
])
def test_the_precheck_reads_through_tls_only_when_it_answers(case, params, answers, probed, expected) -> None:
    asked: List[tuple] = []

    def tls_answers(host, port):
        asked.append((host, port))
        return answers
    chosen = connection_after_tls_check(params, tls_answers)
    assert chosen == (dict(expected, bootstrap_servers=list(expected['bootstrap_servers'])) if expected else None), case
    assert asked == ([('k1', 9093)] if probed else []), case
