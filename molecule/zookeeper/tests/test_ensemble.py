# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ZooKeeper ensemble (three servers, `labctl up --mode zookeeper --zookeepers 3`) after converge.

- Quorum traffic is TLS: every server's leader-election port (and the leader's quorum port, the only
  one listening) completes a TLS handshake that verifies with the lab CA and names that server, refuses a
  handshake without a client certificate, and answers a plaintext peer's first bytes by closing.
- Every server serves again (srvr over the secure client port: one leader, the others follow).
- The rolls went leader last: read from the servers' own logs (each JVM start logs "Reading configuration
  from", a new leader "LEADING - LEADER ELECTION TOOK"). A leader change ends a roll; by then every
  other server must have restarted in that roll.
"""

from __future__ import annotations

import re
import socket
import ssl
from pathlib import Path

import pytest

import kafkalab

ZK_GROUP = 'zookeeper'
STAMP = re.compile(r'^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] ')


@pytest.fixture(scope='module')
def servers(lab):
    hosts = lab.group(ZK_GROUP)
    assert len(hosts) == 3, hosts
    return hosts


def zoo_cfg(lab, host):
    return kafkalab.parse_properties(Path(lab.hostvars[host]['kafkasec_zookeeper_config_path']).read_text())


def quorum_ports(cfg, host):
    """(quorum port, election port) of this host's server.N line."""
    for key, value in cfg.items():
        if key.startswith('server.') and value.split(':')[0] == host:
            _, quorum, election = value.split(';')[0].split(':')[:3]
            return int(quorum), int(election.split('|')[0])
    raise AssertionError('no server line for %s' % host)


def context(client, with_certificate=True):
    ctx = ssl.create_default_context(cafile=str(client.ca_file))
    if with_certificate:
        ctx.load_cert_chain(str(client.cert_file), str(client.key_file))
    return ctx


def srvr_mode(lab, host, client):
    cfg = zoo_cfg(lab, host)
    with socket.create_connection((lab.address(host), int(cfg['secureClientPort'])), timeout=10) as raw:
        with context(client).wrap_socket(raw, server_hostname=host) as sock:
            sock.sendall(b'srvr')
            data = b''
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    found = re.search(r'^Mode: (\w+)$', data.decode(), re.M)
    return found.group(1) if found else ''


def test_zoo_cfg_has_a_tls_only_quorum(lab, servers):
    for host in servers:
        cfg = zoo_cfg(lab, host)
        assert cfg.get('sslQuorum') == 'true' and cfg.get('portUnification') == 'false', (host, cfg)
        assert cfg['ssl.quorum.keyStore.location'] == cfg['ssl.keyStore.location']
        assert cfg['ssl.quorum.trustStore.location'] == cfg['ssl.trustStore.location']
        assert cfg['ssl.quorum.enabledProtocols'] == 'TLSv1.3,TLSv1.2'


def test_one_leader_the_others_follow(lab, servers, client):
    modes = sorted(srvr_mode(lab, host, client) for host in servers)
    assert modes == ['follower', 'follower', 'leader'], modes


def test_quorum_ports_speak_tls_verified_by_the_lab_ca(lab, servers, client):
    checked = 0
    for host in servers:
        quorum, election = quorum_ports(zoo_cfg(lab, host), host)
        for port in (election, quorum):
            if port == quorum and not kafkalab.port_open(lab.address(host), port):
                continue   # only the leader listens on the quorum port
            ok = kafkalab.s_client(lab.address(host), port, host, client.ca_file, client, '-tls1_2')
            assert 'Verify return code: 0 (ok)' in ok.stdout, (host, port, ok.stdout[-2000:] + ok.stderr[-2000:])
            assert kafkalab.peer_chain(ok.stdout)[0].subject.rfc4514_string() == 'CN=%s' % host
            refused = kafkalab.s_client(lab.address(host), port, host, client.ca_file, None, '-tls1_2')
            assert refused.returncode != 0, '%s:%d: a peer without a certificate completed the handshake' % (host, port)
            checked += 1
    assert checked == 4, checked   # three election ports and the leader's quorum port


def test_a_plaintext_peer_is_refused(lab, servers):
    """A plaintext peer's first bytes - the election protocol's version (-65536, 8 bytes) - are no TLS
    record: the TLS-only port closes at once. A plaintext port would read them and wait for the server id
    that follows (the recv below would time out)."""
    for host in servers:
        _, election = quorum_ports(zoo_cfg(lab, host), host)
        with socket.create_connection((lab.address(host), election), timeout=10) as sock:
            sock.sendall((-65536).to_bytes(8, 'big', signed=True))
            sock.settimeout(4)
            try:
                answer = sock.recv(4096)
            except ConnectionResetError:
                answer = b''
            except socket.timeout:
                pytest.fail('%s:%d read a plaintext peer\'s header and waited for more' % (host, election))
            assert answer == b'' or answer[:1] == b'\x15', (host, answer[:40])   # closed, or a TLS alert


def events(lab, servers):
    out = []
    for host in servers:
        log = Path(lab.hostvars[host]['zookeeper_log_dir'], 'zookeeper.log').read_text(errors='replace')
        for line in log.splitlines():
            stamp = STAMP.match(line)
            if not stamp:
                continue
            if 'Reading configuration from:' in line:
                out.append((stamp.group(1), host, 'start'))
            elif 'LEADING - LEADER ELECTION TOOK' in line:
                out.append((stamp.group(1), host, 'leading'))
    return sorted(out)


def test_every_roll_restarted_the_leader_last(lab, servers):
    started, leader, rolled, ignore_start = set(), None, set(), None
    rolls = []
    for stamp, host, kind in events(lab, servers):
        if kind == 'start':
            if host not in started:        # the lab's own first start
                started.add(host)
            elif host == ignore_start:     # the old leader coming back after the roll's election
                ignore_start = None
            else:
                rolled.add(host)
            continue
        if leader is not None and host != leader:
            # The leader stopped: the roll ends. Every other server must have restarted in it already.
            others = set(servers) - {leader}
            assert rolled >= others, ('%s: the leader %s restarted before %s in its roll' % (
                stamp, leader, ', '.join(sorted(others - rolled))))
            rolls.append((stamp, leader))
            rolled, ignore_start = set(), leader
        leader = host
    # zookeeper.yml's three quorum rolls and jmx.yml's restarts, each ending with its leader.
    assert len(rolls) >= 4, rolls
