# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Connect worker and the client bundle after converge and side_effect, checked from outside.

The worker (a real ConnectDistributed JVM started by connect-ctl with the role's KAFKA_OPTS) is in its group
over SSL with its certificate, a source connector's records come back over SSL, its REST API is
HTTPS only and wants a client certificate, the JVM-wide stores are set in the JVM with the passwords off the
process list; the client bundle works with curl, openssl s_client, a Java console client and confluent-kafka.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

import kafkalab


def test_worker_in_its_group_over_ssl_with_mtls(lab, worker, bundle):
    """The worker talks SSL to the brokers' TLS listeners only, and the brokers require a client certificate."""
    props = worker.properties
    assert props['security.protocol'] == 'SSL'
    assert props['bootstrap.servers'] == lab.bootstrap(), props['bootstrap.servers']
    for prefix in ('', 'producer.', 'consumer.', 'admin.'):
        assert props[prefix + 'security.protocol'] == 'SSL' and props[prefix + 'ssl.keystore.location'], prefix
    for broker in lab.brokers:
        assert lab.server_properties(broker)['ssl.client.auth'] == 'required', broker
    # The group coordinator has the worker in its Connect group (list_groups is the call that shows groups of
    # any protocol type; the warning that it is deprecated is confluent-kafka's).
    admin = AdminClient(bundle.rdkafka_conf())
    (group,) = admin.list_groups(props['group.id'], timeout=30)
    assert group.protocol_type == 'connect' and group.state == 'Stable', (group.protocol_type, group.state)
    assert len(group.members) == 1, [(m.client_id, m.client_host) for m in group.members]
    # The worker JVM's live TCP connections go to the brokers' TLS listeners, none to the PLAINTEXT port.
    ss = subprocess.run(['ss', '-Htnp', 'state', 'established'], capture_output=True, text=True, check=True).stdout
    peers = [line.split()[3] for line in ss.splitlines() if 'pid=%d,' % worker.pid() in line]
    ports = {int(peer.rsplit(':', 1)[1]) for peer in peers}
    assert lab.ssl_port(lab.brokers[0]) in ports and 9092 not in ports, ss


def test_rest_api_https_with_client_certificate_only(worker, bundle):
    root = bundle.curl(worker.rest_url + '/')
    assert root.returncode == 0 and json.loads(root.stdout)['version'], root.stdout + root.stderr
    no_cert = bundle.curl(worker.rest_url + '/', cert=False)
    assert no_cert.returncode != 0 and '"version"' not in no_cert.stdout, no_cert.stdout
    for url in ('http://%s:%d/' % (worker.host, worker.rest_port), 'http://%s:8083/' % worker.host):
        plain = subprocess.run(['curl', '-sS', '--max-time', '10', url], capture_output=True, text=True, check=False)
        assert plain.returncode != 0 and '"version"' not in plain.stdout, (url, plain.stdout)
    assert worker.properties['listeners'] == 'https://%s:%d' % (worker.host, worker.rest_port)


def test_source_connector_records_read_over_ssl(worker, bundle):
    """A source connector (the scenario's own, files/LinesSourceConnector.java, built in prepare against the lab's
    connect-api) writes a file's lines through the worker's TLS producer; confluent-kafka reads them over SSL."""
    marker = uuid.uuid4().hex[:12]
    source = worker.root / 'data' / ('input-%s.txt' % marker)
    lines = ['%s-%d' % (marker, i) for i in range(5)]
    source.write_text('\n'.join(lines) + '\n')
    subprocess.run(['chown', worker.user, str(source)], check=True)
    topic = 'molecule-connect-%s' % marker
    config = {'connector.class': 'io.kafkasec.molecule.LinesSourceConnector', 'tasks.max': '1',
              'file': str(source), 'topic': topic}
    made = bundle.curl(worker.rest_url + '/connectors', '-X', 'POST', '-H', 'Content-Type: application/json',
                       '-d', json.dumps({'name': 'file-' + marker, 'config': config}))
    assert made.returncode == 0 and json.loads(made.stdout).get('name') == 'file-' + marker, made.stdout + made.stderr
    assert kafkalab.consume(bundle.rdkafka_conf(), topic, len(lines)) == lines


def test_jvm_stores_in_the_jvm_passwords_off_the_process_list(worker):
    """KAFKA_OPTS (environment file) and the argument file reach the JVM; ps shows no password."""
    pid = worker.pid()
    pki = worker.root / 'pki'
    passwords = [(pki / name).read_text().strip() for name in ('keystore.password', 'truststore.password')]
    cmdline = Path('/proc/%d/cmdline' % pid).read_bytes().split(b'\0')
    assert ('@%s' % (worker.root / 'etc' / 'connect-jvm-ssl.args')).encode() in cmdline
    ps = subprocess.run(['ps', '-ww', '-eo', 'args'], capture_output=True, text=True, check=True).stdout
    assert 'ConnectDistributed' in ps and not any(p in ps for p in passwords)
    jcmd = subprocess.run(['runuser', '-u', worker.user, '--', 'jcmd', str(pid), 'VM.system_properties'],
                          capture_output=True, text=True, timeout=120, check=False)
    assert jcmd.returncode == 0, jcmd.stdout + jcmd.stderr
    seen = dict(line.split('=', 1) for line in jcmd.stdout.splitlines() if '=' in line)
    # jcmd escapes ':' and '=' in values the way .properties files do.
    unescape = kafkalab.parse_properties
    assert unescape('x=' + seen['javax.net.ssl.trustStore'])['x'] == str(pki / 'truststore.p12')
    assert unescape('x=' + seen['javax.net.ssl.keyStore'])['x'] == str(pki / 'keystore.p12')
    assert seen['javax.net.ssl.trustStoreType'] == 'PKCS12' and seen['javax.net.ssl.keyStoreType'] == 'PKCS12'
    assert [seen['javax.net.ssl.keyStorePassword'], seen['javax.net.ssl.trustStorePassword']] == passwords


def test_worker_files_private(worker):
    host = kafkalab.Lab().testinfra_host(worker.host)
    etc = worker.root / 'etc'
    for name, mode in (('connect-tls.env', 0o600), ('connect-jvm-ssl.args', 0o600), ('connect-distributed.properties', 0o640)):
        f = host.file(str(etc / name))
        assert (f.mode, f.user) == (mode, worker.user), '%s: %o %s' % (name, f.mode, f.user)
    assert not host.file(str(etc / 'connect-distributed.properties.kafkasec-restart-pending')).exists


def test_bundle_openssl_s_client(lab, worker, bundle):
    """openssl s_client with the PEM bundle: the broker's TLS listener and the worker's REST API."""
    broker = lab.brokers[0]
    for address, port, name in ((lab.address(broker), lab.ssl_port(broker), broker),
                                (worker.address, worker.rest_port, worker.host)):
        p = kafkalab.s_client(address, port, name, bundle.pki.ca_file, bundle.pki, '-tls1_2')
        assert p.returncode == 0 and 'Verify return code: 0 (ok)' in p.stdout, p.stdout + p.stderr
    assert (bundle.pki.key_file.stat().st_mode & 0o777) == 0o600


def test_bundle_java_console_producer_then_confluent_kafka(lab, bundle):
    """kafka-console-producer (Java) with client.properties, then confluent-kafka with librdkafka.properties."""
    topic = 'molecule-java-%s' % uuid.uuid4().hex[:12]
    marker = uuid.uuid4().hex
    conf = bundle.rdkafka_conf()
    proc = subprocess.run(['java', '-Xmx128m', '-XX:TieredStopAtLevel=1', '-cp', '%s/*' % lab.vars['kafka_lib_dir'],
                           'org.apache.kafka.tools.ConsoleProducer', '--bootstrap-server', conf['bootstrap.servers'],
                           '--topic', topic, '--command-config', str(bundle.directory / 'client.properties')],
                          input=marker + '\n', capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert kafkalab.consume(conf, topic, 1) == [marker]
