# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab itself: real KRaft brokers on loopback hosts, reached over SSH by Ansible.

Run as root (the lab creates users, writes /etc/hosts, starts sshd):

    .venv/bin/python -m pytest tests/lab -m lab

The module creates a three-broker lab (or reuses the one that is there), checks it
from the outside, adds kafka-4 and destroys the lab at the end, unless
KAFKASEC_LAB_KEEP=1 or the lab was there before the tests started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LABCTL = REPO / 'lab' / 'labctl'
VENV_BIN = Path(sys.executable).parent
KAFKA_TIMEOUT = 60  # seconds for one produce/consume round trip

pytestmark = pytest.mark.lab


def labctl(*args, timeout=900, check=True):
    p = subprocess.run([sys.executable, str(LABCTL), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError('labctl %s failed (rc=%d):\n%s' % (' '.join(args), p.returncode, p.stdout))
    return p


def status():
    return json.loads(labctl('status', '--json', timeout=60).stdout)


def tool(name):
    path = VENV_BIN / name
    return str(path) if path.exists() else shutil.which(name)


@pytest.fixture(scope='module')
def lab():
    if os.geteuid() != 0:
        pytest.fail('the lab tests need root: they create users, edit /etc/hosts and start sshd')
    existed = labctl('status', '--json', timeout=60, check=False).returncode == 0
    t0 = time.monotonic()
    labctl('up') if existed else labctl('up', '--brokers', '3')
    print('lab up in %.1fs (%s)' % (time.monotonic() - t0, 'reused' if existed else 'created'))
    try:
        yield status()
    finally:
        if os.environ.get('KAFKASEC_LAB_KEEP') != '1' and not existed:
            labctl('destroy', timeout=300)


def kafka_hosts(st):
    return [h for h in st['hosts'] if 'kafka' in h]


def ssh_cmd(st, host, user=None):
    return ['ssh', '-i', st['ssh_key'], '-o', 'UserKnownHostsFile=' + st['known_hosts'],
            '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
            '-o', 'ConnectTimeout=10', '%s@%s' % (user or host['user'], host['name'])]


def ssh(st, host, command, user=None, timeout=60):
    return subprocess.run(ssh_cmd(st, host, user) + [command], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def roundtrip(bootstrap, topic, count=20):
    """Produce `count` messages through `bootstrap` and read them back; return what came back."""
    from confluent_kafka import Consumer, Producer

    marker = uuid.uuid4().hex
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all',
                         'message.timeout.ms': KAFKA_TIMEOUT * 1000})
    errors = []
    for i in range(count):
        producer.produce(topic, key=str(i), value='%s-%d' % (marker, i),
                         on_delivery=lambda err, _msg: err and errors.append(err))
    assert producer.flush(KAFKA_TIMEOUT) == 0, 'messages still in flight'
    assert not errors, errors
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'lab-test-' + marker,
                         'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
    got = set()
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + KAFKA_TIMEOUT
        while len(got) < count and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            value = msg.value().decode()
            if value.startswith(marker):
                got.add(value)
    finally:
        consumer.close()
    return got, {'%s-%d' % (marker, i) for i in range(count)}


def fqdn(st, name):
    """kafka-1 -> kafka-1.lab.test (kafka-1.lab9.test on KAFKASEC_LAB_INSTANCE=9)."""
    return '%s.%s' % (name, st['domain'])


def address(st, last):
    return '%s%d' % (st['network'], last)


def node_ids(st):
    return sorted(h['kafka']['node_id'] for h in kafka_hosts(st))


def test_three_brokers_registered(lab):
    brokers = lab['metadata']['brokers']
    assert node_ids(lab)[:3] == [1, 2, 3]  # a reused lab may have more
    assert [b['id'] for b in brokers] == node_ids(lab)
    assert [b['host'] for b in brokers] == [fqdn(lab, 'kafka-%d' % i) for i in node_ids(lab)]
    for h in kafka_hosts(lab):
        assert h['kafka']['pid'] and h['kafka']['ready'], h
        # the JVM stays inside the lab's memory budget (heap 384 MiB)
        assert h['kafka']['rss_kib'] < 700 * 1024, h


def test_every_broker_produce_consume(lab):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({'bootstrap.servers': lab['bootstrap_servers']})
    topic = 'lab-roundtrip-' + uuid.uuid4().hex[:8]
    futures = admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3)],
                                  operation_timeout=30, request_timeout=30)
    futures[topic].result(timeout=KAFKA_TIMEOUT)
    for h in kafka_hosts(lab):
        # only this broker as bootstrap: its PLAINTEXT listener answers under its name
        bootstrap = '%s:%d' % (h['name'], h['kafka']['plaintext_port'])
        md = AdminClient({'bootstrap.servers': bootstrap}).list_topics(timeout=30)
        assert sorted(md.brokers) == node_ids(lab)
        got, want = roundtrip(bootstrap, topic)
        assert got == want, 'round trip through %s lost messages' % bootstrap


def test_ssh_as_each_host_user(lab):
    for h in lab['hosts']:
        p = ssh(lab, h, 'id -un; hostname -I 2>/dev/null; echo "$HOME"')
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0] == h['user']
        assert lines[-1] == h['root']


def test_ssh_other_user_refused(lab):
    k1, k2 = kafka_hosts(lab)[:2]
    p = ssh(lab, k1, 'true', user=k2['user'])
    assert p.returncode == 255
    assert 'Permission denied' in p.stderr


def test_hosts_cannot_read_each_other(lab):
    k1, k2 = kafka_hosts(lab)[:2]
    ca = [h for h in lab['hosts'] if h['role'] == 'ca'][0]
    own = ssh(lab, k1, 'cat %s/etc/server.properties' % k1['root'])
    assert own.returncode == 0 and 'node.id=1' in own.stdout
    for other in (k2, ca):
        for cmd in ('ls %s' % other['root'], 'cat %s/etc/server.properties' % other['root']):
            p = ssh(lab, k1, cmd)
            assert p.returncode != 0, cmd
            assert 'Permission denied' in p.stderr
    assert oct(os.stat(k1['root']).st_mode & 0o777) == '0o700'


def test_kafka_ctl_over_ssh(lab):
    h = kafka_hosts(lab)[1]
    p = ssh(lab, h, 'kafka-ctl status')
    assert p.returncode == 0 and 'ready' in p.stdout, p.stdout + p.stderr
    old_pid = h['kafka']['pid']
    p = ssh(lab, h, 'KAFKA_CTL_TIMEOUT=120 kafka-ctl restart', timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'ready' in p.stdout
    labctl('wait', '--timeout', '120', timeout=180)
    new = [x for x in status()['hosts'] if x['name'] == h['name']][0]
    assert new['kafka']['pid'] != old_pid and new['kafka']['ready']


def test_ansible_ping(lab):
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='True')
    p = subprocess.run([tool('ansible'), '-i', lab['inventory'], 'all', '-m', 'ping', '-o'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stdout
    for h in lab['hosts']:
        assert '%s | SUCCESS' % h['name'] in p.stdout
    # the managed hosts' interpreter has a cryptography new enough for the modules
    p = subprocess.run([tool('ansible'), '-i', lab['inventory'], 'all', '-m', 'command', '-o', '-a',
                        "{{ ansible_python_interpreter }} -c 'import cryptography; print(cryptography.__version__)'"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stdout
    versions = [int(line.rsplit('(stdout)', 1)[1].strip().split('.')[0])
                for line in p.stdout.splitlines() if '(stdout)' in line]
    assert len(versions) == len(lab['hosts']) and min(versions) >= 45, p.stdout
    # A lab created now shares the machine's venv (outside its root, so destroy keeps it for the next lab).
    with open(lab['inventory'], encoding='utf-8') as f:
        interpreter = yaml.safe_load(f)['all']['vars']['ansible_python_interpreter']
    state = json.loads((Path(lab['root']) / 'lab.json').read_text())
    if 'venv' in state:
        assert interpreter == state['venv'] + '/bin/python', (interpreter, state['venv'])
        assert not interpreter.startswith(lab['root'].rstrip('/') + '/'), interpreter


def test_inventory_layout(lab):
    inv = yaml.safe_load(Path(lab['inventory']).read_text())
    groups = inv['all']['children']
    assert list(groups['kafka_ca']['hosts']) == [fqdn(lab, 'ca')]
    assert list(groups['kafka_controller']['hosts']) == [fqdn(lab, 'kafka-%d' % i) for i in (1, 2, 3)]
    assert list(groups['kafka_broker']['hosts']) == [fqdn(lab, 'kafka-%d' % i) for i in node_ids(lab)]
    hv = inv['all']['hosts'][fqdn(lab, 'kafka-1')]
    assert hv['ansible_host'] == address(lab, 1) and hv['ansible_user'] == lab['user_prefix'] + 'kafka-1'
    assert hv['kafkasec_lab_root'] == lab['hosts'][0]['root']
    assert Path(hv['kafka_ctl']).name == 'kafka-ctl'
    assert 'UserKnownHostsFile=' in inv['all']['vars']['ansible_ssh_common_args']


def test_create_is_idempotent(lab):
    props = Path(lab['hosts'][0]['root']) / 'etc' / 'server.properties'
    before = props.stat().st_mtime_ns
    labctl('create', timeout=300)
    st = status()
    assert st['cluster_id'] == lab['cluster_id']
    assert props.stat().st_mtime_ns == before


def test_add_host_joins_as_broker(lab):
    from confluent_kafka.admin import AdminClient

    t0 = time.monotonic()
    labctl('add-host', 'kafka-4', timeout=600)
    print('add-host kafka-4 in %.1fs' % (time.monotonic() - t0))
    st = status()
    k4_name = fqdn(st, 'kafka-4')
    k4 = [h for h in st['hosts'] if h['name'] == k4_name][0]
    assert k4['address'] == address(st, 4) and k4['role'] == 'broker' and k4['kafka']['ready']
    md = AdminClient({'bootstrap.servers': st['bootstrap_servers']}).list_topics(timeout=30)
    assert sorted(md.brokers) == [1, 2, 3, 4]
    assert md.brokers[4].host == k4_name
    assert ssh(st, k4, 'id -un').stdout.strip() == st['user_prefix'] + 'kafka-4'
    inv = yaml.safe_load(Path(st['inventory']).read_text())
    assert k4_name in inv['all']['children']['kafka_broker']['hosts']
    assert k4_name not in inv['all']['children']['kafka_controller']['hosts']
    # a round trip through the new broker alone
    got, want = roundtrip(k4_name + ':9092', 'lab-kafka4-' + uuid.uuid4().hex[:8])
    assert got == want
