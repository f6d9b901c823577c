# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PKI roles (ca, certificates, truststore) through playbooks/pki.yml, for real.

One lab per module: a CA host and three Kafka hosts, all local, each with its own directory.
The tests run in file order on the same lab: converge twice, read the files back with
openssl/keytool, check mode, bad inputs, then a fourth host; the output of every run is kept
and searched for secrets at the end.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pki_helpers import cert_pem, key_pem, make_ca, new_key  # noqa: E402  pylint: disable=wrong-import-position
from roles_lab import CA_HOST, REPO, Lab, LabHost, snapshot_diff, tool  # noqa: E402  pylint: disable=wrong-import-position

BROKERS = ['kafka-1.lab.test', 'kafka-2.lab.test', 'kafka-3.lab.test']
NEW_HOST = 'kafka-4.lab.test'
BAD_HOST = 'kafka-9.lab.test'
# Secrets given through the inventory (as Vault would): they must never show up in any output.
CA_PASSPHRASE = 'lab-CA-passphrase-7f3e9a'
TRUSTSTORE_PASSWORD = 'lab-truststore-Secret-3c1d'
INVENTORY_SECRETS = [CA_PASSPHRASE, TRUSTSTORE_PASSWORD]


@pytest.fixture(scope='module')
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """The lab converged by two runs; both results are kept on the lab."""
    lab = Lab(tmp_path_factory.mktemp('pki-lab'))
    lab.ca.vars['kafkasec_ca_privatekey_passphrase'] = CA_PASSPHRASE
    lab.add_broker(1, controller=True)  # KRaft combined mode: in kafka_broker and kafka_controller
    lab.add_broker(2)
    lab.add_broker(3, kafkasec_truststore_password=TRUSTSTORE_PASSWORD)
    lab.first = lab.run()
    lab.after_first = lab.snapshot()
    lab.second = lab.run()
    lab.after_second = lab.snapshot()
    return lab


def ca_dir(lab: Lab) -> Path:
    return Path(lab.ca.vars['kafkasec_ca_dir'])


def broker(lab: Lab, name: str) -> LabHost:
    return lab.brokers[name]


def store_password(host: LabHost, kind: str) -> str:
    """The password of a host's keystore/truststore: from the inventory, else the generated file."""
    if 'kafkasec_%s_password' % kind in host.vars:
        return host.vars['kafkasec_%s_password' % kind]
    return host.file('%s.password' % kind).read_text().strip()


def keytool_list(path: Path, password: str) -> str:
    # The password reaches keytool through its environment, not its command line.
    env = dict(os.environ, KAFKASEC_TEST_STOREPASS=password)
    proc = tool('keytool', '-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC',  # a quicker JVM start
                '-list', '-v', '-storetype', 'PKCS12', '-keystore', str(path),
                '-storepass:env', 'KAFKASEC_TEST_STOREPASS', env=env)
    assert proc.returncode == 0, proc.stdout
    return proc.stdout


def public_key_der(private_key) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_blocks(data: bytes, label: bytes) -> List[bytes]:
    """PEM blocks whose label ends with `label` (b'PRIVATE KEY' finds RSA/EC/PKCS#8 keys)."""
    pattern = b'-----BEGIN ([A-Z ]*)' + label + b'-----.+?-----END \\1' + label + b'-----'
    return [m.group(0) for m in re.finditer(pattern, data, re.S)]


# --- converge ------------------------------------------------------------------------------------

def test_first_run_converges(lab: Lab) -> None:
    run = lab.first
    assert run.rc == 0, run.describe()
    assert set(run.recap) == {CA_HOST, *BROKERS}, run.describe()
    for host in [CA_HOST, *BROKERS]:
        assert run.recap[host]['failed'] == 0 and run.recap[host]['unreachable'] == 0, run.describe()
        assert run.changed(host) > 0, run.describe()


def test_second_run_changes_nothing(lab: Lab) -> None:
    run = lab.second
    assert run.rc == 0, run.describe()
    assert {host: counts['changed'] for host, counts in run.recap.items()} == \
        {host: 0 for host in [CA_HOST, *BROKERS]}, run.describe()
    # Not a byte, mode or mtime moved (PKCS12 stores are not rewritten when their content is right). The one
    # addition is each node's request memo (bookkeeping, plugins/module_utils/pki/request_memo.py), kept after the
    # first request call that changed nothing so that a later run's validation call can spare the host that call.
    # (The PKI directory's mtime moves with it.)
    memos = sorted(path for name in BROKERS
                   for path in (str(broker(lab, name).pki_dir), str(broker(lab, name).pki_dir / '.kafkasec-request.memo')))
    assert snapshot_diff(lab.after_first, lab.after_second) == memos


def test_host_files_and_modes(lab: Lab) -> None:
    assert sorted(p.name for p in ca_dir(lab).iterdir()) == ['ca.crt', 'ca.key']
    assert stat.S_IMODE(ca_dir(lab).stat().st_mode) == 0o700
    assert stat.S_IMODE((ca_dir(lab) / 'ca.key').stat().st_mode) == 0o600
    for name in BROKERS:
        host = broker(lab, name)
        # Each PKCS12 store has its seal beside it (pki/store_files.py), owner-only like the store, and the node
        # its request memo (pki/request_memo.py), which holds the store passwords like the password files.
        expected = {'%s.key' % name: 0o600, '%s.crt' % name: 0o644, 'ca-chain.crt': 0o644,
                    'keystore.p12': 0o600, 'truststore.p12': 0o600, 'keystore.password': 0o600,
                    '.keystore.p12.seal': 0o600, '.truststore.p12.seal': 0o600, '.kafkasec-request.memo': 0o600}
        if 'kafkasec_truststore_password' not in host.vars:
            expected['truststore.password'] = 0o600
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in host.pki_dir.iterdir()}
        assert modes == expected, name
        assert stat.S_IMODE(host.pki_dir.stat().st_mode) == 0o750
        for password_file in host.pki_dir.glob('*.password'):  # generated: long and random
            assert len(password_file.read_text().strip()) >= 16, password_file


def test_ca_key_stays_on_the_ca_host(lab: Lab) -> None:
    ca_key_pem = (ca_dir(lab) / 'ca.key').read_bytes()
    assert b'ENCRYPTED' in ca_key_pem  # the passphrase from the inventory was applied
    ca_key = serialization.load_pem_private_key(ca_key_pem, CA_PASSPHRASE.encode())
    ca_public = public_key_der(ca_key)
    ca_key_body = b''.join(ca_key_pem.splitlines()[1:-1])
    host_publics = set()
    for name in BROKERS:
        host = broker(lab, name)
        for path in host.root.rglob('*'):
            if not path.is_file():
                continue
            data = path.read_bytes()
            assert ca_key_body not in b''.join(data.splitlines()), path
            for block in pem_blocks(data, b'PRIVATE KEY'):
                assert public_key_der(serialization.load_pem_private_key(block, None)) != ca_public, path
        key, _cert, _chain = pkcs12.load_key_and_certificates(
            host.file('keystore.p12').read_bytes(), store_password(host, 'keystore').encode())
        assert public_key_der(key) != ca_public
        host_key = serialization.load_pem_private_key(host.file('%s.key' % name).read_bytes(), None)
        assert public_key_der(key) == public_key_der(host_key)
        host_publics.add(public_key_der(host_key))
    assert len(host_publics) == len(BROKERS)  # one key per host


@pytest.mark.parametrize('name', BROKERS)
def test_keystore_and_truststore(lab: Lab, name: str) -> None:
    host = broker(lab, name)
    listing = keytool_list(host.file('keystore.p12'), store_password(host, 'keystore'))
    assert 'Your keystore contains 1 entry' in listing, listing
    assert 'Entry type: PrivateKeyEntry' in listing, listing
    assert 'Certificate chain length: 2' in listing, listing
    listing = keytool_list(host.file('truststore.p12'), store_password(host, 'truststore'))
    assert 'Your keystore contains 1 entry' in listing, listing
    assert 'Entry type: trustedCertEntry' in listing, listing
    assert 'CN=kafkasec lab CA' in listing, listing


@pytest.mark.parametrize('name', BROKERS)
def test_certificate_chain_names_and_usages(lab: Lab, name: str) -> None:
    host = broker(lab, name)
    ca_crt, host_crt = ca_dir(lab) / 'ca.crt', host.file('%s.crt' % name)
    for purpose in ('sslserver', 'sslclient'):
        proc = tool('openssl', 'verify', '-purpose', purpose, '-CAfile', str(ca_crt), str(host_crt))
        assert proc.returncode == 0 and ': OK' in proc.stdout, proc.stdout
    assert host.file('ca-chain.crt').read_bytes().strip() == ca_crt.read_bytes().strip()
    assert len(pem_blocks(host_crt.read_bytes(), b'CERTIFICATE')) == 2  # leaf + CA
    text = tool('openssl', 'x509', '-noout', '-text', '-in', str(host_crt)).stdout
    index = name.split('.')[0].split('-')[1]
    san_line = text.split('X509v3 Subject Alternative Name:', 1)[1].strip().splitlines()[0]
    assert set(san_line.split(', ')) == {'DNS:%s' % name, 'DNS:kafka-%s.external.lab.test' % index,
                                         'IP Address:127.0.1.%s' % index}, text
    assert 'TLS Web Server Authentication' in text and 'TLS Web Client Authentication' in text, text
    # Kafka nodes share one CN, so one principal is every node's super user (kafkasec_cert_node_common_name).
    assert re.search(r'Subject: CN\s?=\s?kafka-node$', text, re.M), text


# --- check mode, bad inputs ---------------------------------------------------------------------

def test_check_mode_on_converged_hosts_changes_no_file(lab: Lab) -> None:
    before = lab.snapshot()
    run = lab.run('--check', '--diff')
    assert run.rc == 0, run.describe()
    assert all(counts['changed'] == 0 for counts in run.recap.values()), run.describe()
    assert snapshot_diff(before, lab.snapshot()) == []


def _bad_host_vars(lab: Lab, **overrides) -> Dict[str, Dict]:
    root = lab.hosts_root / BAD_HOST
    (root / 'etc' / 'kafka').mkdir(parents=True, exist_ok=True)
    host_vars = {'kafkasec_pki_dir': str(root / 'etc' / 'kafka' / 'pki'),
                 'kafkasec_cert_ip_addresses': ['127.0.1.9']}
    host_vars.update(overrides)
    return {BAD_HOST: host_vars}


BAD_INPUTS = {
    # case: (how the inventory is broken, host named in the message, variable named in the message)
    'no kafka_ca group': ('no_ca', 'kafka-1.lab.test', 'kafka_ca'),
    'IP among DNS names of a converged host': ('ip_in_dns', 'kafka-2.lab.test', 'kafkasec_cert_dns_names'),
    'invalid IP address': ('bad_ip', BAD_HOST, 'kafkasec_cert_ip_addresses'),
    'pki dir without parent': ('no_parent', BAD_HOST, 'kafkasec_pki_dir'),
    # Found by tests/security: these two named only the module's options (or nothing of the role's).
    'truncated extra CA certificate': ('truncated_extra', 'kafka-1.lab.test', 'kafkasec_truststore_extra_certificates'),
    'CA import whose key is not the certificate\'s': ('ca_mismatch', CA_HOST, 'kafkasec_ca_import_privatekey_path'),
    # Checked by the CA call itself (pki/ca.py request_problems), no longer by assert tasks.
    'CA lifetime of zero days': ('ca_validity', CA_HOST, 'kafkasec_ca_validity_days'),
}


def _truncated_pem() -> str:
    lines = cert_pem(make_ca('kafkasec-unit-other-ca').cert).splitlines()
    return '\n'.join(lines[:len(lines) // 2]) + '\n'


@pytest.mark.parametrize('case', list(BAD_INPUTS))
def test_bad_input_fails_before_changing_anything(lab: Lab, case: str) -> None:
    how, host, variable = BAD_INPUTS[case]
    if how == 'no_ca':
        inventory = lab.inventory(without_groups=['kafka_ca'])
    elif how == 'ip_in_dns':
        inventory = lab.inventory()
        inventory['all']['children']['kafka_broker']['hosts'][host]['kafkasec_cert_dns_names'] = \
            [host, '10.20.30.40']
    elif how == 'bad_ip':
        inventory = lab.inventory(extra_brokers=_bad_host_vars(lab, kafkasec_cert_ip_addresses=['127.0.1.300']))
    elif how == 'truncated_extra':
        inventory = lab.inventory()
        inventory['all']['children']['kafka_broker']['hosts'][host]['kafkasec_truststore_extra_certificates'] = \
            [_truncated_pem()]
    elif how == 'ca_mismatch':
        # A certificate and the key of another CA, outside the CA directory.
        other = lab.root / 'import-mismatch'
        other.mkdir(exist_ok=True)
        (other / 'ca.crt').write_text(cert_pem(make_ca('kafkasec-unit-import').cert))
        (other / 'ca.key').write_bytes(key_pem(new_key()))
        inventory = lab.inventory()
        inventory['all']['children']['kafka_ca']['hosts'][host].update({
            'kafkasec_ca_import_certificate_path': str(other / 'ca.crt'),
            'kafkasec_ca_import_privatekey_path': str(other / 'ca.key')})
    elif how == 'ca_validity':
        inventory = lab.inventory()
        inventory['all']['children']['kafka_ca']['hosts'][host]['kafkasec_ca_validity_days'] = 0
    else:
        missing = lab.hosts_root / BAD_HOST / 'not-installed' / 'kafka' / 'pki'
        inventory = lab.inventory(extra_brokers=_bad_host_vars(lab, kafkasec_pki_dir=str(missing)))
    before = lab.snapshot()
    run = lab.run(inventory=lab.write_inventory(inventory, 'inventory-bad.yml'))
    assert run.rc != 0, run.describe()
    messages = re.findall(r'"msg": "((?:[^"\\]|\\.)*)"', run.output)
    assert any(m.startswith('%s: ' % host) and variable in m for m in messages), run.describe()
    assert snapshot_diff(before, lab.snapshot()) == [], run.describe()
    assert not (lab.hosts_root / BAD_HOST / 'etc' / 'kafka' / 'pki').exists()


# --- growing the estate -------------------------------------------------------------------------

def test_new_host_changes_only_that_host(lab: Lab) -> None:
    new = lab.add_broker(4)
    before = lab.snapshot()
    # A dry run of just the new host first, as an operator would (the CA host stays in the limit):
    # it reports the new host's changes and writes nothing.
    dry = lab.run('--check', '--limit', 'kafka_ca:%s' % NEW_HOST)
    assert dry.rc == 0, dry.describe()
    assert set(dry.recap) == {CA_HOST, NEW_HOST}, dry.describe()
    assert dry.changed(NEW_HOST) > 0 and dry.changed(CA_HOST) == 0, dry.describe()
    assert snapshot_diff(before, lab.snapshot()) == []
    run = lab.run()
    assert run.rc == 0, run.describe()
    assert run.changed(NEW_HOST) > 0, run.describe()
    assert {h: c['changed'] for h, c in run.recap.items() if h != NEW_HOST} == \
        {h: 0 for h in [CA_HOST, *BROKERS]}, run.describe()
    changed_paths = snapshot_diff(before, lab.snapshot())
    assert changed_paths and all(Path(p) == new.root or new.root in Path(p).parents for p in changed_paths), \
        changed_paths
    proc = tool('openssl', 'verify', '-CAfile', str(ca_dir(lab) / 'ca.crt'), str(new.file('%s.crt' % NEW_HOST)))
    assert proc.returncode == 0, proc.stdout


# --- file ownership, PEM stores (own small lab) ------------------------------------------------------

def test_service_user_owns_files_and_pem_stores(tmp_path: Path) -> None:
    """Kafka's service user owns the host files; PEM stores have no password and the usual modes."""
    service_user = 'daemon' if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    service_group = grp.getgrgid(pwd.getpwnam(service_user).pw_gid).gr_name
    lab = Lab(tmp_path)
    owned = lab.add_broker(1, kafkasec_service_user=service_user, kafkasec_service_group=service_group)
    pem = lab.add_broker(2, kafkasec_keystore_type='pem', kafkasec_truststore_type='pem')
    for run in (lab.run(), lab.run()):
        assert run.rc == 0, run.describe()
    assert all(counts['changed'] == 0 for counts in run.recap.values()), run.describe()
    uid, gid = pwd.getpwnam(service_user).pw_uid, grp.getgrnam(service_group).gr_gid
    for path in [owned.pki_dir, *owned.pki_dir.iterdir()]:
        assert (path.stat().st_uid, path.stat().st_gid) == (uid, gid), path
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in pem.pki_dir.iterdir()}
    assert modes == {'kafka-2.lab.test.key': 0o600, 'kafka-2.lab.test.crt': 0o644, 'ca-chain.crt': 0o644,
                     'keystore.pem': 0o600, 'truststore.pem': 0o644, '.kafkasec-request.memo': 0o600}


# --- secrets in output, example inventory ---------------------------------------------------------

def test_no_secret_in_any_output(lab: Lab) -> None:
    secrets = [p.read_text().strip() for p in lab.password_files()] + INVENTORY_SECRETS
    assert len(lab.password_files()) >= 2 * len(BROKERS)
    assert lab.runs and all('-v' in run.args for run in lab.runs)
    for run in lab.runs:
        for secret in secrets:
            assert secret and secret not in run.output, 'a store password or passphrase leaked in %s' % run.args


def test_example_inventory_and_tags(lab: Lab) -> None:
    """The example inventory parses and the playbook exposes the seed playbooks' steps as tags."""
    example = REPO / 'playbooks' / 'inventory.example.yml'
    run = lab.run('--list-tags', '--list-hosts', inventory=example)
    assert run.rc == 0, run.describe()
    tags = {tag.strip() for found in re.findall(r'TASK TAGS: \[([^\]]*)\]', run.output)
            for tag in found.split(',')}
    assert {'ca', 'certificates', 'csr', 'sign', 'keystore', 'truststore'} <= tags, run.output
    assert re.search(r'hosts \(1\):\s+\S+', run.output), run.output  # exactly one CA host


# --- the truststore role on its own (a host without a certificate of its own) -----------------------

TRUSTSTORE_ONLY_PLAYBOOK = '''
- hosts: kafka_ca
  gather_facts: false
  roles: [kafkasec.tls.ca]
- hosts: kafka_broker
  gather_facts: false
  roles: [kafkasec.tls.truststore]
'''


def test_truststore_role_alone_converges_and_refuses_bad_input(tmp_path: Path) -> None:
    lab = Lab(tmp_path / 'truststore-only')
    client = lab.add_broker(7)
    playbook = lab.root / 'truststore.yml'
    playbook.write_text(TRUSTSTORE_ONLY_PLAYBOOK)
    first = lab.run(playbook=playbook)
    assert first.rc == 0 and first.changed(client.name) > 0, first.describe()
    files = sorted(p.name for p in client.pki_dir.iterdir())
    assert files == ['.truststore.p12.seal', 'truststore.p12', 'truststore.password'], files  # no key, no keystore
    listing = keytool_list(client.file('truststore.p12'), store_password(client, 'truststore'))
    assert listing.count('trustedCertEntry') == 1 and 'kafkasec lab CA' in listing, listing
    second = lab.run(playbook=playbook)
    assert second.rc == 0 and second.changed(client.name) == 0, second.describe()
    # Bad input fails before anything changes, naming host and variable.
    before = lab.snapshot()
    inventory = lab.inventory()
    inventory['all']['children']['kafka_broker']['hosts'][client.name]['kafkasec_truststore_extra_certificates'] = \
        ['/etc/ssl/certs/ca.pem']
    bad = lab.run(playbook=playbook, inventory=lab.write_inventory(inventory, 'bad.yml'))
    assert bad.rc != 0 and bad.recap[client.name]['failed'] == 1, bad.describe()
    assert '%s: kafkasec_truststore_extra_certificates item 0 is not a PEM certificate' % client.name in bad.output
    assert lab.snapshot() == before
