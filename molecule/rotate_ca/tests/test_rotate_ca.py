# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify step of Molecule renew (test_renew_under_load) and of Molecule rotate_ca (both, in order): host
certificate renewal, then playbooks/rotate_ca.yml on a real lab (rekey: a new CA key), phase by phase, with real
TLS clients and a producer and consumer running throughout:

- renewal: every host certificate renewed with its key (site.yml -e kafkasec_cert_force_renew=true) under its own
  load: both nodes keep their JVM (live reload; the combined node's controller listener too) and serve the new
  certificates, a rerun changes nothing, the expiry report shows every host certificate's not-after moved (files
  and listeners) and the CA's kept;
- rotation: the expiry report (playbooks/expiry.yml's JSON) before and after: every not-after of a host
  certificate, keystore, truststore, listener and the CA has moved;
- three loads (tests/loadgen.py over TLS, acks=all, idempotent): one through the renewal; one with a certificate
  of the old CA, trusting the old CA, through phase 1; one with a certificate of the new CA, trusting both, through
  phases 2 and 3 (a client certificate of the old CA is refused after phase 3, so one client cannot run through
  all three); each 0 failed sends, 0 lost, 0 duplicated;
- phase 3 and phase 2 before their time are refused and change no file on any host;
- each phase, run again, changes nothing (changed=0 on every host), and so does site.yml afterwards;
- a client with a certificate of the old CA works until phase 3 and is refused after it; a client that
  trusts old and new (its certificate re-issued by the new CA in phase 2, as an operator re-issues client
  bundles) works throughout; a client that trusts only the old CA can no longer verify the brokers once
  they serve the new CA's certificates (phase 2) - which is why clients take the new CA in phase 1;
- the broker-only node reloads live in phase 3 (same JVM); the CA files move as docs/lifecycle.md says.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from labkit import REPO, SSL_PORT, grant_test_client_acls, make_client_cert, s_client, tree_digest

ROTATE = REPO / 'playbooks' / 'rotate_ca.yml'
CLIENT_BUNDLE = ROTATE.parent / 'client_bundle.yml'
EXPIRY = ROTATE.parent / 'expiry.yml'
LOADGEN = REPO / 'tests' / 'loadgen.py'
CONTROLLER_PORT = 9094
LAST: list = []  # what the last client saw (its stderr), for the assertion messages


def fingerprint(cert) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(':').upper()


def load(path: Path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def works(site, host, ca_file: Path, cert) -> bool:
    """A real client: TLS handshake verifying the broker's chain (ca_file) and name, its own certificate
    presented with its own issuer (cert[2]; as a keystore holds it: the old and the new CA have the same
    name, and openssl would otherwise pick the issuer from ca_file by name), then a Kafka ApiVersions
    request answered."""
    site.ca_pem = ca_file
    rc, data, err = s_client(site, host, '-chainCAfile', str(cert[2]), cert=cert[:2], timeout=15)
    LAST.clear()
    LAST.append('%s %s rc=%s %d bytes: %s' % (host['name'], ca_file.name, rc, len(data), err[-600:]))
    return len(data) > 8


def served(host, port: int) -> x509.Certificate:
    p = subprocess.run(['openssl', 's_client', '-connect', '%s:%d' % (host['address'], port), '-servername',
                        host['name']], input=b'', stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    block = re.search(rb'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', p.stdout, re.S)
    assert block, 'no certificate served on %s:%d' % (host['name'], port)
    return x509.load_pem_x509_certificate(block.group(0))


def truststore_fingerprints(host) -> set:
    root = Path(host['root']) / 'pki'
    password = (root / 'truststore.password').read_text().strip()
    out = subprocess.run(['openssl', 'pkcs12', '-in', str(root / 'truststore.p12'), '-nokeys', '-passin',
                          'pass:' + password], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout
    certs = x509.load_pem_x509_certificates(out)
    return {fingerprint(c) for c in certs}


def all_changed(run) -> int:
    return sum(r['changed'] for r in run.recap.values())


def rotate(site, phase: int, *extra: str):
    return site.run('-e', 'kafkasec_ca_rotation_phase=%d' % phase, *extra, playbook=ROTATE)


def expiry_report(site, tmp_path, name: str) -> dict:
    """playbooks/expiry.yml's JSON rows, keyed by (host, source, what, path or endpoint)."""
    out = tmp_path / ('%s.json' % name)
    run = site.run('-e', 'kafkasec_expiry_json=%s' % out, '-e', 'kafkasec_expiry_fail=false', '-e',
                   'kafkasec_expiry_warn_days=1', playbook=EXPIRY)
    assert run.rc == 0, run.describe()
    rows = json.loads(out.read_text())
    return {(r['host'], r['source'], r['what'], r.get('path') or r.get('endpoint') or ''): r for r in rows}


def start_load(name: str, tmp_path: Path, kafka: dict, ca: Path, cert: tuple) -> Path:
    report = tmp_path / ('%s.json' % name)
    subprocess.run([sys.executable, str(LOADGEN), 'start', '--report', str(report), '--topic', 'kafkasec-' + name,
                    '--create-topic', '--replication-factor', '2', '--min-insync-replicas', '1', '--rate', '200',
                    '--max-seconds', '1500', '--bootstrap', ','.join('%s:%d' % (h['name'], SSL_PORT)
                                                                    for h in kafka.values()),
                    '--ca', str(ca), '--cert', str(cert[0]), '--key', str(cert[1])], check=True, timeout=120)
    return report


def stop_load(report: Path) -> dict:
    p = subprocess.run([sys.executable, str(LOADGEN), 'stop', '--report', str(report), '--timeout', '300'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
    print('load %s: %s' % (report.stem, p.stdout.strip()))
    data = json.loads(report.read_text())
    assert data['ok'] and data['sent'] > 0, data
    assert (data['failed'], data['lost'], data['duplicates']) == (0, 0, 0), data
    return data


def test_renew_under_load(site, tmp_path):
    """Molecule renew's verify step, and the first part of rotate_ca's: every host certificate renewed with its
    key under load; both nodes reload live and keep their JVM."""
    kafka = {h['name'].split('.')[0]: h for h in site.kafka_hosts()}
    ca_pem = tmp_path / 'ca.pem'
    ca_pem.write_bytes(site.ca_file('ca.crt').read_bytes())
    client = make_client_cert(site, tmp_path, name='renew-client') + (ca_pem,)
    grant_test_client_acls(site, tmp_path)  # the tests' client (the loads' principal) on the kafkasec-* topics
    report_before = expiry_report(site, tmp_path, 'expiry-before-renewal')
    load_renew = start_load('renew', tmp_path, kafka, ca_pem, client)
    pids = site.processes()
    served_before = {n: {p: served(h, p).serial_number for p in (SSL_PORT, CONTROLLER_PORT) if n == 'kafka-1' or p == SSL_PORT}
                     for n, h in kafka.items()}
    run = site.run('-e', 'kafkasec_cert_force_renew=true')
    assert run.rc == 0, run.describe()
    print('renewal: %.1fs' % run.seconds)
    assert site.processes() == pids, 'a node restarted for a same-key renewal'
    assert 'reloaded live on listener(s) SSL, CONTROLLER' in run.output, run.describe()
    for name, host in kafka.items():
        leaf_file = load(Path(host['root']) / 'pki' / ('%s.crt' % host['name']))
        for port, serial in served_before[name].items():
            assert served(host, port).serial_number == leaf_file.serial_number != serial, (name, port)
    rerun = site.run()
    assert rerun.rc == 0 and all_changed(rerun) == 0, rerun.describe()
    assert works(site, kafka['kafka-2'], ca_pem, client), LAST
    stop_load(load_renew)
    # The expiry report: every host certificate's not-after moved, in the files and on the listeners; the CA's did not.
    report_after = expiry_report(site, tmp_path, 'expiry-after-renewal')
    nodes = {h['name'] for h in kafka.values()}
    leaves = [key for key in report_before if key[0] in nodes and (key[1] == 'listener' or key[2] in ('certificate', 'keystore'))]
    assert len(leaves) >= 3 * len(nodes), leaves  # certificate and keystore files, and at least one listener each
    unmoved = [key for key in leaves if report_after[key]['not_after'] == report_before[key]['not_after']]
    assert not unmoved, unmoved
    cas = [key for key in report_before if key[2] == 'ca']
    assert cas and all(report_after[key]['not_after'] == report_before[key]['not_after'] for key in cas), cas


def test_rotate_ca_rekey_under_load(site, tmp_path):
    kafka = {h['name'].split('.')[0]: h for h in site.kafka_hosts()}
    combined, broker_only = kafka['kafka-1'], kafka['kafka-2']
    ca_dir = site.ca_file('')
    old_ca = load(site.ca_file('ca.crt'))
    old_fp = fingerprint(old_ca)
    old_pem = tmp_path / 'old-ca.pem'
    old_pem.write_bytes(site.ca_file('ca.crt').read_bytes())
    old_client = make_client_cert(site, tmp_path, name='old-client') + (old_pem,)  # issued by the old CA
    grant_test_client_acls(site, tmp_path)
    assert works(site, combined, old_pem, old_client)
    report_before = expiry_report(site, tmp_path, 'expiry-before')
    load_old = start_load('rotate-ca-old', tmp_path, kafka, old_pem, old_client)

    # Out of order: phase 3 and phase 2 with no rotation begun - refused, nothing changed anywhere.
    before, pids = tree_digest(site.refresh(), parts=('etc', 'pki')), site.processes()
    for phase, words in ((3, 'no CA rotation is in progress'), (2, 'no CA rotation is in progress')):
        run = rotate(site, phase)
        assert run.rc != 0 and 'CA rotation phase %d refused, nothing changed' % phase in run.output, run.describe()
        assert words in run.output
    assert tree_digest(site.refresh(), parts=('etc', 'pki')) == before
    assert site.processes() == pids

    # Phase 1: the next CA on the CA host, every truststore trusts both.
    run = rotate(site, 1, '-e', 'kafkasec_ca_rotation_mode=rekey')
    assert run.rc == 0, run.describe()
    state = json.loads((ca_dir / 'rotation.json').read_text())
    assert (state['phase'], state['complete'], state['mode'], state['old_fingerprint']) == (1, True, 'rekey', old_fp)
    new_fp = state['new_fingerprint']
    new_ca = load(ca_dir / 'next' / 'ca.crt')
    assert fingerprint(new_ca) == new_fp != old_fp
    assert stat.S_IMODE((ca_dir / 'next' / 'ca.key').stat().st_mode) == 0o600
    for host in kafka.values():
        assert truststore_fingerprints(host) == {old_fp, new_fp}, host['name']
        assert not list(Path(host['root']).rglob('ca.key')), 'a CA key on %s' % host['name']
    both_pem = tmp_path / 'both.pem'
    both_pem.write_bytes(old_pem.read_bytes() + (ca_dir / 'next' / 'ca.crt').read_bytes())
    assert works(site, combined, old_pem, old_client) and works(site, broker_only, old_pem, old_client)
    assert works(site, broker_only, both_pem, old_client)
    print('phase 1: %.1fs' % run.seconds)
    rerun = rotate(site, 1)
    assert rerun.rc == 0 and all_changed(rerun) == 0, rerun.describe()
    stop_load(load_old)
    # The second load: a certificate of the new CA (the brokers trust it from phase 1 on), trusting both.
    next_key = serialization.load_pem_private_key((ca_dir / 'next' / 'ca.key').read_bytes(), password=None)
    load_client = make_client_cert(site, tmp_path, name='load-client', ca=(new_ca, next_key))
    load_new = start_load('rotate-ca-new', tmp_path, kafka, both_pem, load_client)
    # A client bundle made or refreshed during the rotation trusts both CAs too (ca.crt and truststore.p12).
    bundles = tmp_path / 'bundles'
    run = site.run('-e', '{"kafkasec_client_bundle_dir": "%s", "kafkasec_client_bundle_clients": [{"name": "app"}]}'
                   % bundles, playbook=CLIENT_BUNDLE)
    assert run.rc == 0, run.describe()
    bundle_cas = {fingerprint(c) for c in x509.load_pem_x509_certificates((bundles / 'app' / 'ca.crt').read_bytes())}
    assert bundle_cas == {old_fp, new_fp}, bundle_cas
    p12 = subprocess.run(['openssl', 'pkcs12', '-in', str(bundles / 'app' / 'truststore.p12'), '-nokeys', '-passin',
                          'file:%s' % (bundles / 'app' / 'truststore.password')], capture_output=True, check=True)
    assert {fingerprint(c) for c in x509.load_pem_x509_certificates(p12.stdout)} == {old_fp, new_fp}

    # Phase 3 before phase 2: refused, nothing changed.
    before, pids = tree_digest(site.refresh(), parts=('etc', 'pki')), site.processes()
    ca_before = sorted(p.name for p in ca_dir.rglob('*'))
    run = rotate(site, 3)
    assert run.rc != 0 and 'phase 2 has not run' in run.output and new_fp in run.output, run.describe()
    assert tree_digest(site.refresh(), parts=('etc', 'pki')) == before and site.processes() == pids
    assert sorted(p.name for p in ca_dir.rglob('*')) == ca_before

    # Phase 2: the new CA signs, every host re-signed (same host key), the old CA kept aside.
    host_keys = {n: (Path(h['root']) / 'pki' / ('%s.key' % h['name'])).read_bytes() for n, h in kafka.items()}
    run = rotate(site, 2)
    assert run.rc == 0, run.describe()
    print('phase 2: %.1fs' % run.seconds)
    assert fingerprint(load(site.ca_file('ca.crt'))) == new_fp
    assert fingerprint(load(ca_dir / 'previous' / 'ca.crt')) == old_fp and (ca_dir / 'previous' / 'ca.key').exists()
    assert not (ca_dir / 'next').exists() or not list((ca_dir / 'next').iterdir())
    for name, host in kafka.items():
        assert (Path(host['root']) / 'pki' / ('%s.key' % host['name'])).read_bytes() == host_keys[name]
        assert truststore_fingerprints(host) == {old_fp, new_fp}
        for port in (SSL_PORT,) + ((CONTROLLER_PORT,) if host is combined else ()):
            leaf = served(host, port)
            leaf.verify_directly_issued_by(new_ca)
    new_pem = tmp_path / 'new-ca.pem'
    new_pem.write_bytes(site.ca_file('ca.crt').read_bytes())
    # A client still on the old CA's certificate is accepted (the brokers trust both) when it trusts both;
    # one that trusts only the old CA cannot verify the new certificates (rekey).
    assert works(site, combined, both_pem, old_client) and works(site, broker_only, both_pem, old_client)
    assert not works(site, broker_only, old_pem, old_client)
    new_key = serialization.load_pem_private_key(site.ca_file('ca.key').read_bytes(), password=None)
    new_client = make_client_cert(site, tmp_path, name='new-client', ca=(new_ca, new_key)) + (new_pem,)
    assert works(site, combined, both_pem, new_client) and works(site, broker_only, new_pem, new_client)
    rerun = rotate(site, 2)
    assert rerun.rc == 0 and all_changed(rerun) == 0, rerun.describe()

    # Phase 3: every listener serves the new CA's certificates (checked by the playbook), the old CA leaves
    # the truststores, the broker-only node reloads live, the old CA is archived on the CA host.
    pids = site.processes()
    run = rotate(site, 3)
    assert run.rc == 0, run.describe()
    print('phase 3: %.1fs' % run.seconds)
    after = site.processes()
    assert after == pids, 'a node restarted in phase 3 (broker-only and combined nodes reload live)'
    for host in kafka.values():
        assert truststore_fingerprints(host) == {new_fp}, host['name']
    archive = ca_dir / 'archive' / old_fp.replace(':', '').lower()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o700
    assert stat.S_IMODE((archive / 'ca.key').stat().st_mode) == 0o600
    assert fingerprint(load(archive / 'ca.crt')) == old_fp and not (ca_dir / 'previous' / 'ca.crt').exists()
    state = json.loads((ca_dir / 'rotation.json').read_text())
    assert (state['phase'], state['complete']) == (3, True)
    assert not works(site, combined, both_pem, old_client) and not works(site, broker_only, both_pem, old_client)
    assert works(site, combined, both_pem, new_client), LAST
    assert works(site, broker_only, both_pem, new_client), LAST
    assert works(site, combined, new_pem, new_client), LAST
    rerun = rotate(site, 3)
    assert rerun.rc == 0 and all_changed(rerun) == 0, rerun.describe()
    again = site.run()
    assert again.rc == 0 and all_changed(again) == 0, again.describe()
    # A phase of the finished rotation other than a new phase 1 is refused.
    run = rotate(site, 2)
    assert run.rc != 0 and 'refused, nothing changed' in run.output
    stop_load(load_new)

    # The expiry report: every not-after it showed before has moved (the new CA's certificates).
    report_after = expiry_report(site, tmp_path, 'expiry-after')
    unmoved = [key for key, row in report_before.items()
               if key in report_after and report_after[key]['not_after'] == row['not_after']]
    missing = [key for key in report_before if key not in report_after]
    assert not unmoved and not missing, (unmoved, missing)
