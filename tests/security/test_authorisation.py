# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise (README, "Authorisation"): the authorizer is on every listener, the controller listener included, and
denies what no ACL grants; the nodes are super users.

Kafka's own Admin client (tests/security/java/ClusterOpsCheck.java) asks for cluster-level operations through
the SSL listener (bootstrap.servers) and through the controller listener (bootstrap.controllers, KIP-919):
a client certificate of the lab CA with no ACL at all is refused each of them with an authorisation error; the
node's own certificate (User:kafka-node, a super user) is answered on both, which shows the refusals are the
authorizer's and not a broken connection.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labkit import SSL_PORT, make_client_cert  # pylint: disable=wrong-import-order

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
JAVA = Path(__file__).resolve().parent / 'java' / 'ClusterOpsCheck.java'
CONTROLLER_PORT = 9094
CLUSTER_OPS = ('describe_quorum', 'alter_broker_config', 'create_acl')


@pytest.fixture(scope='module')
def cluster_ops(tls, tmp_path_factory):
    """Run ClusterOpsCheck: (kind, host, port, PEM certificate, PEM key, ops) -> {op: (answer, detail)}."""
    work = tmp_path_factory.mktemp('cluster-ops')
    run = subprocess.run([sys.executable, str(REPO / 'lab' / 'labctl'), 'fetch'], capture_output=True, text=True,
                         timeout=1800, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lib = Path(run.stdout.strip().splitlines()[-1])
    lib = lib if lib.is_absolute() else REPO / lib
    classes = work / 'classes'
    subprocess.run(['javac', '-nowarn', '-cp', str(lib / '*'), '-d', str(classes), str(JAVA)], check=True,
                   capture_output=True, timeout=300)

    def ask(kind: str, host: dict, port: int, cert: Path, key: Path, ops=CLUSTER_OPS) -> dict:
        keystore = work / ('%s.pem' % cert.stem)
        keystore.write_text(key.read_text() + cert.read_text())
        keystore.chmod(0o600)
        config = work / ('%s.properties' % cert.stem)
        config.write_text('security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=%s\n'
                          'ssl.keystore.type=PEM\nssl.keystore.location=%s\n' % (tls.ca_pem, keystore))
        out = subprocess.run(['java', '-Xmx128m', '-cp', '%s:%s' % (classes, lib / '*'), 'ClusterOpsCheck', kind,
                              '%s:%d' % (host['name'], port), str(config), *ops],
                             capture_output=True, text=True, timeout=300, check=False)
        assert out.returncode == 0, out.stderr[-2000:]
        answers = dict((line.split('\t', 1)[0], tuple(line.split('\t')[1:])) for line in out.stdout.splitlines())
        assert set(answers) == set(ops), out.stdout + out.stderr[-2000:]
        return answers
    return ask


def listeners(site):
    return [(kind, h, port) for h in site.kafka_hosts()
            for kind, port in (('server', SSL_PORT), ('controller', CONTROLLER_PORT))]


def test_a_certificate_without_acls_is_refused_cluster_operations_on_every_listener(tls, cluster_ops, tmp_path):
    cert, key = make_client_cert(tls, tmp_path, name='no-acl', common_name='kafkasec-test-no-acl')
    seen = 0
    for kind, host, port in listeners(tls):
        answers = cluster_ops(kind, host, port, cert, key)
        for op, answer in answers.items():
            assert answer[0] == 'refused', '%s:%d (%s) %s as User:kafkasec-test-no-acl: %s' % (
                host['name'], port, kind, op, answer)
            assert answer[1] == 'ClusterAuthorizationException', answer
            seen += 1
    assert seen == len(CLUSTER_OPS) * 2 * len(tls.kafka_hosts())


def test_the_nodes_own_certificate_is_a_super_user_on_every_listener(tls, cluster_ops):
    for kind, host, port in listeners(tls):
        pki = Path(host['root']) / 'pki'
        answers = cluster_ops(kind, host, port, pki / ('%s.crt' % host['name']), pki / ('%s.key' % host['name']),
                              ops=('describe_quorum',))
        assert answers == {'describe_quorum': ('allowed',)}, '%s:%d (%s) as the node: %s' % (
            host['name'], port, kind, answers)
