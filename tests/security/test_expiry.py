# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: playbooks/expiry.yml reports every certificate of the estate, from the files and from the
listeners, and exits non-zero when one is expired, inside its window, or served out of step with its file.

1. The converged TLS lab: every file (the CA on the CA host; each node's certificate, keystore and
   truststore) and every listener (SSL, controller) is in the JSON with the values openssl reads
   from the same files and from the live listeners; exit 0 at a low threshold; a rerun changes nothing.
2. An expired host certificate and a CA inside its renewal window: test-only material beside the
   lab's (a copy of the CA certificate re-issued with 10 days left, on the CA host; an expired
   certificate for the node's name, as a file and as a PKCS12 keystore on the node, served by
   openssl s_server on the node's address). An inventory layer points the report at them; the lab's
   own files, stores and JVM are not touched. Exit non-zero, the failure names both.
3. A renewed keystore the JVM has not loaded: a keystore holding a newer certificate for the node (a
   test copy) is named as the node's keystore; the running Kafka listeners still serve the old one,
   and the report says mismatch for both listeners, with the two serials. Exit non-zero.
"""

from __future__ import annotations

import datetime
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import REPO, SSL_PORT  # pylint: disable=wrong-import-order

pytestmark = pytest.mark.lab

EXPIRY = REPO / 'playbooks' / 'expiry.yml'
CONTROLLER_PORT = 9094
DAY = datetime.timedelta(days=1)
TEST_DIR = 'expiry-test'
STORE_PASSWORD = 'expiry-test-pw'


def openssl_serial(pem: bytes) -> str:
    out = subprocess.run(['openssl', 'x509', '-noout', '-serial'], input=pem, capture_output=True, check=True).stdout
    return out.decode().strip().split('=', 1)[1]


def served_pem(h: dict, port: int, ca_pem: Path) -> bytes:
    """The certificate a listener serves, as openssl s_client shows it (no client certificate: TLS 1.3)."""
    p = subprocess.run(['openssl', 's_client', '-connect', '%s:%d' % (h['address'], port), '-servername', h['name'],
                        '-CAfile', str(ca_pem)], input=b'', capture_output=True, timeout=30)
    text = p.stdout.decode(errors='replace')
    start, end = text.find('-----BEGIN CERTIFICATE-----'), text.find('-----END CERTIFICATE-----')
    assert start >= 0, text + p.stderr.decode(errors='replace')
    return text[start:end + len('-----END CERTIFICATE-----')].encode() + b'\n'


def run_report(site, workdir: Path, name: str, *extra: str, inventories: tuple = ()):
    report = workdir / ('%s.json' % name)
    run = site.run('-e', 'kafkasec_expiry_json=%s' % report, *extra, inventories=inventories, playbook=EXPIRY)
    rows = json.loads(report.read_text()) if report.exists() else None
    return run, rows


def lab_ca(site):
    return (x509.load_pem_x509_certificate(site.ca_file('ca.crt').read_bytes()),
            serialization.load_pem_private_key(site.ca_file('ca.key').read_bytes(), password=None))


def host_certificate(site, name: str, key, not_before, not_after):
    ca_cert, ca_key = lab_ca(site)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kafka-node')]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))


def scratch_dir(h: dict) -> Path:
    path = Path(h['root']) / TEST_DIR
    path.mkdir(mode=0o700, exist_ok=True)
    shutil.chown(path, h['user'], h['user'])
    return path


def put(path: Path, data: bytes, h: dict, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    shutil.chown(path, h['user'], h['user'])
    return path


def keystore_files(directory: Path, h: dict, key, cert, ca_cert):
    """<dir>/host.crt, keystore.p12 and its password file, as the certificates role lays them out."""
    put(directory / 'host.crt', cert.public_bytes(serialization.Encoding.PEM), h, 0o644)
    put(directory / 'keystore.p12', pkcs12.serialize_key_and_certificates(
        b'kafka', key, cert, [ca_cert], serialization.BestAvailableEncryption(STORE_PASSWORD.encode())), h)
    put(directory / 'keystore.password', (STORE_PASSWORD + '\n').encode(), h)
    put(directory / 'host.key', key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()), h)


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def test_report_lists_every_file_and_listener_and_exits_0(rollout, tls, tmp_path):
    site = rollout
    run, rows = run_report(site, tmp_path, 'converged', '-e', 'kafkasec_expiry_warn_days=1')
    assert run.rc == 0, run.describe()
    assert rows, run.describe()
    assert {r['status'] for r in rows} == {'ok'}, json.dumps(rows, indent=1)
    for row in rows:
        for field in ('host', 'source', 'subject', 'issuer', 'serial', 'not_after', 'days_left', 'sans', 'status'):
            assert field in row, row
        datetime.datetime.strptime(row['not_after'], '%Y-%m-%dT%H:%M:%SZ')
    ca = site.ca_host()
    ca_pem = site.ca_file('ca.crt').read_bytes()
    ca_rows = [r for r in rows if r['host'] == ca['name'] and r['source'] == 'file' and r['what'] == 'ca']
    assert [r['serial'] for r in ca_rows] == [openssl_serial(ca_pem)]
    for h in site.kafka_hosts():
        pki = Path(h['root']) / 'pki'
        mine = {(r['source'], r['what']): r for r in rows if r['host'] == h['name']}
        assert set(mine) == {('file', 'certificate'), ('file', 'keystore'), ('file', 'truststore'),
                             ('listener', 'SSL listener'), ('listener', 'controller listener')}, sorted(mine)
        cert_serial = openssl_serial((pki / ('%s.crt' % h['name'])).read_bytes())
        assert mine[('file', 'certificate')]['serial'] == cert_serial
        assert mine[('file', 'keystore')]['serial'] == cert_serial
        assert mine[('file', 'truststore')]['serial'] == openssl_serial(ca_pem)
        for what, port in (('SSL listener', SSL_PORT), ('controller listener', CONTROLLER_PORT)):
            row = mine[('listener', what)]
            assert row['endpoint'] == '%s:%d' % (h['name'], port)
            assert row['serial'] == openssl_serial(served_pem(h, port, site.ca_pem)) == cert_serial
            assert row['sans'] == ['DNS:%s' % h['name']] and row['verified'] is True
    assert 'certificates (%d ok)' % len(rows) in run.output
    again, _rows = run_report(site, tmp_path, 'converged', '-e', 'kafkasec_expiry_warn_days=1')
    assert again.rc == 0 and all(v['changed'] == 0 for v in again.recap.values()), again.describe()


def test_expired_host_certificate_and_ca_in_its_window_fail_the_report(rollout, tls, tmp_path):
    site = rollout
    h = site.kafka_hosts()[0]
    ca = site.ca_host()
    ca_cert, ca_key = lab_ca(site)
    now = datetime.datetime.now(datetime.timezone.utc)
    # The CA re-issued with the same key and subject, 10 days left: a CA inside a 30-day renewal window.
    near_ca = (x509.CertificateBuilder().subject_name(ca_cert.subject).issuer_name(ca_cert.subject)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - 300 * DAY).not_valid_after(now + 10 * DAY + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    expired = host_certificate(site, h['name'], key, now - 400 * DAY, now - 2 * DAY)
    node_dir, ca_dir = scratch_dir(h), scratch_dir(ca)
    server = None
    try:
        near_ca_path = put(ca_dir / 'ca.crt', near_ca.public_bytes(serialization.Encoding.PEM), ca, 0o644)
        keystore_files(node_dir, h, key, expired, ca_cert)
        port = free_port(h['address'])
        server = subprocess.Popen(['openssl', 's_server', '-quiet', '-accept', '%s:%d' % (h['address'], port),
                                   '-cert', str(node_dir / 'host.crt'), '-key', str(node_dir / 'host.key')],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        layer = tmp_path / 'expired.yml'
        layer.write_text(json.dumps({'all': {'hosts': {
            ca['name']: {'kafkasec_ca_certificate_path': str(near_ca_path)},
            h['name']: {
                'kafkasec_expiry_extra_files': [
                    {'what': 'old host certificate', 'path': str(node_dir / 'host.crt')},
                    {'what': 'old keystore', 'kind': 'keystore', 'type': 'pkcs12', 'path': str(node_dir / 'keystore.p12'),
                     'password_file': str(node_dir / 'keystore.password')}],
                'kafkasec_expiry_extra_endpoints': [
                    {'what': 'old listener', 'port': port, 'server_name': h['name'], 'connect': h['address'],
                     'payload': 'none', 'keystore_path': str(node_dir / 'keystore.p12')}]}}}}))
        run, rows = run_report(site, tmp_path, 'expired', '-e', 'kafkasec_expiry_warn_days=1',
                               '-e', 'kafkasec_expiry_ca_warn_days=30', inventories=(layer,))
        assert run.rc != 0, run.describe()
        by_what = {(r['host'], r['what']): r for r in rows}
        expired_serial = openssl_serial(expired.public_bytes(serialization.Encoding.PEM))
        for what in ('old host certificate', 'old keystore', 'old listener'):
            row = by_what[(h['name'], what)]
            assert (row['status'], row['serial']) == ('expired', expired_serial), row
            assert row['days_left'] < 0
        ca_row = by_what[(ca['name'], 'ca')]
        assert (ca_row['status'], ca_row['days_left']) == ('warn', 10), ca_row
        assert ca_row['serial'] == openssl_serial(near_ca_path.read_bytes())
        # The lab's own certificates are still fine, and the failure names what needs attention.
        assert by_what[(h['name'], 'SSL listener')]['status'] == 'ok'
        failed = [line for line in run.output.splitlines() if line.startswith(('fatal:', 'failed:'))]
        assert any('EXPIRED %s old listener' % h['name'] in line and 'WARN %s ca' % ca['name'] in line
                   for line in failed), run.describe()
        assert 'EXPIRED %s old host certificate' % h['name'] in run.output  # the table's alert lines
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(node_dir, ignore_errors=True)
        shutil.rmtree(ca_dir, ignore_errors=True)


def test_renewed_keystore_not_loaded_by_the_jvm_is_a_mismatch(rollout, tls, tmp_path):
    site = rollout
    h = site.kafka_hosts()[0]
    ca_cert, _ca_key = lab_ca(site)
    pki = Path(h['root']) / 'pki'
    key = serialization.load_pem_private_key((pki / ('%s.key' % h['name'])).read_bytes(), password=None)
    now = datetime.datetime.now(datetime.timezone.utc)
    renewed = host_certificate(site, h['name'], key, now - datetime.timedelta(minutes=5), now + 365 * DAY)
    node_dir = scratch_dir(h)
    try:
        keystore_files(node_dir, h, key, renewed, ca_cert)
        layer = tmp_path / 'renewed.yml'
        layer.write_text(json.dumps({'all': {'hosts': {h['name']: {
            'kafkasec_cert_certificate_path': str(node_dir / 'host.crt'),
            'kafkasec_keystore_path': str(node_dir / 'keystore.p12'),
            'kafkasec_keystore_password_file': str(node_dir / 'keystore.password')}}}}))
        run, rows = run_report(site, tmp_path, 'renewed', '-e', 'kafkasec_expiry_warn_days=1', inventories=(layer,))
        assert run.rc != 0, run.describe()
        served = openssl_serial((pki / ('%s.crt' % h['name'])).read_bytes())
        new = openssl_serial(renewed.public_bytes(serialization.Encoding.PEM))
        mine = {r['what']: r for r in rows if r['host'] == h['name']}
        assert mine['keystore']['serial'] == mine['certificate']['serial'] == new
        assert mine['keystore']['status'] == mine['certificate']['status'] == 'ok'
        for what in ('SSL listener', 'controller listener'):
            row = mine[what]
            assert (row['status'], row['serial']) == ('mismatch', served), row
            assert 'serves serial %s but %s holds serial %s' % (served, node_dir / 'keystore.p12', new) in row['detail']
        assert 'MISMATCH %s SSL listener' % h['name'] in run.output
    finally:
        shutil.rmtree(node_dir, ignore_errors=True)


def test_the_report_reads_the_pki_contract_and_writes_nothing(rollout, tls, tmp_path):
    """expiry.yml reads each host's PKI contract through the certificates role's facts.yml, in check mode: a store
    password file the inventory names but the host lacks (facts.yml would generate it) is not written, nothing on
    the hosts changes, and the store it guards is an error row at the path the contract gives."""
    site = rollout
    h = site.kafka_hosts()[0]
    node_dir = scratch_dir(h)
    absent = node_dir / 'truststore.password'
    try:
        digest = site.digest()
        layer = tmp_path / 'absent-password.yml'
        layer.write_text(json.dumps({'all': {'hosts': {h['name']: {'kafkasec_truststore_password_file': str(absent)}}}}))
        run, rows = run_report(site, tmp_path, 'absent-password', '-e', 'kafkasec_expiry_warn_days=1',
                               inventories=(layer,))
        assert run.rc != 0, run.describe()
        assert not absent.exists(), 'expiry.yml wrote %s' % absent
        assert site.digest() == digest
        mine = {r['what']: r for r in rows if r['host'] == h['name']}
        truststore = Path(h['root']) / 'pki' / 'truststore.p12'
        assert (mine['truststore']['status'], mine['truststore']['path']) == ('error', str(truststore)), mine['truststore']
        assert mine['keystore']['status'] == mine['certificate']['status'] == 'ok'
    finally:
        shutil.rmtree(node_dir, ignore_errors=True)
