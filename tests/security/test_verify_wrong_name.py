# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: a broker whose certificate does not match its advertised name is caught by verify.yml.

By hand, outside the collection: a certificate for the node's own key, signed by the lab CA, whose
only SAN is another name, in a keystore of its own that server.properties gives the SSL listener
(listener.name.ssl.ssl.keystore.location; the controller listener keeps the good one, so the node
still joins its quorum). Kafka restarts with it; verify.yml must fail and name the host. Then
everything is put back and verify.yml passes again.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import REPO  # pylint: disable=wrong-import-order

pytestmark = pytest.mark.lab

VERIFY = REPO / 'playbooks' / 'verify.yml'


def wrong_name_keystore(site, h: dict, path: Path) -> None:
    pki = Path(h['root']) / 'pki'
    key = serialization.load_pem_private_key((pki / ('%s.key' % h['name'])).read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(site.ca_file('ca.crt').read_bytes())
    ca_key = serialization.load_pem_private_key(site.ca_file('ca.key').read_bytes(), password=None)
    wrong = 'not-%s' % h['name']
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, wrong)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(wrong)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    password = (pki / 'keystore.password').read_text().strip().encode()
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b'kafka', key, cert, [ca_cert], serialization.BestAvailableEncryption(password)))
    path.chmod(0o600)
    shutil.chown(path, h['user'], h['user'])


def restart(h: dict) -> None:
    p = subprocess.run(['runuser', '-u', h['user'], '--', str(Path(h['root']) / 'bin' / 'kafka-ctl'), 'restart'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
    assert p.returncode == 0, 'kafka-ctl restart on %s: %s' % (h['name'], p.stdout)


def test_verify_names_a_broker_whose_certificate_does_not_match(rollout):
    site = rollout
    h = site.kafka_hosts()[0]
    props = Path(h['root']) / 'etc' / 'server.properties'
    original = props.read_bytes()
    wrong_store = Path(h['root']) / 'pki' / 'keystore-wrong-name.p12'
    wrong_name_keystore(site, h, wrong_store)
    try:
        props.write_bytes(original + b'\nlistener.name.ssl.ssl.keystore.location=%s\n' % str(wrong_store).encode())
        restart(h)
        run = site.run('-e', 'kafkasec_verify_roundtrip=false', playbook=VERIFY)
        assert run.rc != 0, run.describe()
        failed = [line for line in run.output.splitlines() if line.startswith(('fatal:', 'failed:'))]
        assert any(h['name'] in line for line in failed), run.describe()
        # The report says what is wrong: the host name is not in the certificate.
        assert any("%s is not among the certificate's SANs (DNS: not-%s" % (h['name'], h['name']) in line
                   for line in failed), run.describe()
    finally:
        props.write_bytes(original)
        wrong_store.unlink(missing_ok=True)
        restart(h)
    run = site.run('-e', 'kafkasec_verify_roundtrip=false', playbook=VERIFY)
    assert run.rc == 0, run.describe()
