# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: malformed input gives a clear error (naming the host, the variable and what is wrong)
and leaves every file unchanged.

Each case is one ansible-playbook run of site.yml on the converged lab with one bad input (extra vars,
or an inventory without the CA group); the digest of every host's etc/ and pki/ is compared before
and after, and Kafka must still be the same process.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from labkit import make_ca  # pylint: disable=wrong-import-order

pytestmark = pytest.mark.lab

JAAS_PLAYBOOK = Path(__file__).resolve().parent / 'playbooks' / 'jaas.yml'
TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384']


def pem(obj) -> str:
    from cryptography.hazmat.primitives import serialization
    if hasattr(obj, 'public_bytes'):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def ca_import_files(site):
    """A CA certificate and the key of another CA, on the CA host (outside its etc/ and pki/)."""
    ca = site.ca_host()
    d = Path(ca['root']) / 'import-test'
    d.mkdir(exist_ok=True)
    cert, _key = make_ca('kafkasec-import-test')
    _other_cert, other_key = make_ca('kafkasec-import-other')
    (d / 'ca.crt').write_text(pem(cert))
    (d / 'ca.key').write_text(pem(other_key))
    (d / 'ca.key').chmod(0o600)
    for f in (d, d / 'ca.crt', d / 'ca.key'):
        shutil.chown(f, ca['user'], ca['user'])
    return d / 'ca.crt', d / 'ca.key'


def truncated_certificate() -> str:
    text = pem(make_ca('kafkasec-truncated')[0])
    lines = text.splitlines()
    return '\n'.join(lines[:len(lines) // 2]) + '\n'


# id -> (extra vars (a dict, or a callable site -> dict), what the message must say besides the host)
CASES = {
    'bad-dns-san': ({'kafkasec_cert_extra_dns_names': ['bad_name!.lab.test']},
                    ['kafkasec_cert_dns_names', 'invalid DNS name', 'bad_name!.lab.test']),
    'bad-ip-san': ({'kafkasec_cert_ip_addresses': ['300.1.2.3']},
                   ['kafkasec_cert_ip_addresses', 'invalid IP address', '300.1.2.3']),
    'negative-validity': ({'kafkasec_cert_validity_days': -5},
                          ['kafkasec_cert_validity_days (-5)', 'must be positive']),
    'unknown-key-type': ({'kafkasec_cert_key_type': 'dsa'},
                         ['kafkasec_cert_key_type', 'dsa']),
    'mismatched-ca-key-and-certificate': (
        lambda site: dict(zip(('kafkasec_ca_import_certificate_path', 'kafkasec_ca_import_privatekey_path'),
                              map(str, ca_import_files(site)))),
        ['kafkasec_ca_import', 'does not match']),
    'truncated-pem': (lambda site: {'kafkasec_truststore_extra_certificates': [truncated_certificate()]},
                      ['kafkasec_truststore_extra_certificates', 'truncated']),
    'wrong-store-password': ({'kafkasec_keystore_password': 'not-the-keystore-password'},
                             ['keystore', 'password']),
    'short-store-password': ({'kafkasec_keystore_password': 'abc'},
                             ['kafkasec_keystore_password', 'at least 6 characters']),
    'unknown-store-type': ({'kafkasec_keystore_type': 'bks'},
                           ['kafkasec_keystore_type', 'bks']),
    'old-tls-protocol': ({'kafkasec_broker_ssl_enabled_protocols': ['TLSv1.2', 'TLSv1.1']},
                         ['kafkasec_broker_ssl_enabled_protocols', 'TLSv1.1']),
    'cipher-without-forward-secrecy': (
        {'kafkasec_broker_ssl_cipher_suites': TLS13 + ['TLS_RSA_WITH_AES_128_GCM_SHA256']},
        ['kafkasec_broker_ssl_cipher_suites', 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'forward-secret']),
    'missing-ca-group': ('no-ca-group', ['inventory group kafka_ca must exist']),
}


def inventory_without_ca_group(site, tmp_path: Path) -> Path:
    inv = yaml.safe_load(Path(site.status['inventory']).read_text())
    inv['all']['children'].pop('kafka_ca')
    path = tmp_path / 'inventory-no-ca-group.yml'
    path.write_text(yaml.safe_dump(inv))
    return path


def check_refused(site, run, before, procs, host: str, expected):
    assert run.rc != 0, run.describe()
    failures = [line for line in run.output.splitlines() if line.startswith(('fatal:', 'failed:'))]
    assert failures, run.describe()
    message = '\n'.join(failures)
    assert host in message, 'the error does not name the host %s:\n%s' % (host, message)
    for text in expected:
        assert text in message, 'the error does not say %r:\n%s' % (text, message)
    assert site.digest() == before, 'a bad input changed files'
    assert site.processes() == procs, 'a bad input restarted Kafka'


@pytest.mark.parametrize('case', list(CASES))
def test_bad_input_is_refused_before_any_change(rollout, tmp_path, case):
    site = rollout
    extra, expected = CASES[case]
    host = site.kafka_hosts()[0]['name']
    before = site.digest()
    procs = site.processes()
    if extra == 'no-ca-group':
        run = _run_with_inventory(site, inventory_without_ca_group(site, tmp_path))
    else:
        values = extra(site) if callable(extra) else extra
        if 'kafkasec_ca_import_certificate_path' in values:
            host = site.ca_host()['name']
        run = site.run('-e', json.dumps(values))
    check_refused(site, run, before, procs, host, expected)


def _run_with_inventory(site, inventory: Path):
    saved = site.status['inventory']
    site.status['inventory'] = str(inventory)
    try:
        return site.run()
    finally:
        site.status['inventory'] = saved


def test_jaas_password_quoting(rollout):
    """A JAAS password with quotes is written escaped (it is valid input); one with '${', which the JDK's
    JAAS file parser expands and no quoting protects, is refused before the file is written."""
    site = rollout
    h = site.kafka_hosts()[0]
    jaas = Path(h['root']) / 'etc' / 'kafka-client.jaas'
    before = site.digest()
    procs = site.processes()
    run = site.run('-e', json.dumps({'kafkasec_test_jaas_password': 'pa"ss${user.home}'}), playbook=JAAS_PLAYBOOK)
    check_refused(site, run, before, procs, h['name'], ["'${'", 'JAAS'])
    assert not jaas.exists()
    try:
        run = site.run('-e', json.dumps({'kafkasec_test_jaas_password': 'pa"ss\\w;rd'}), playbook=JAAS_PLAYBOOK)
        assert run.rc == 0, run.describe()
        text = jaas.read_text()
        assert re.search(r'password="pa\\"ss\\\\w;rd";', text), text
        assert oct(jaas.stat().st_mode & 0o777) == '0o600'
    finally:
        jaas.unlink(missing_ok=True)
