# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Molecule checks know about the lab, and the tools they probe it with.

Everything here looks at the estate from outside: the lab's inventory (lab/run/inventory.yml),
the files under each host's root (read as root on the control node, as an auditor would),
openssl s_client and keytool, and confluent-kafka clients. Nothing is specific to one machine:
paths come from the inventory, which lab/labctl writes.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = Path(__file__).resolve().parents[3]
INVENTORY = Path(os.environ.get('KAFKASEC_LAB_INVENTORY', REPO / 'lab' / 'run' / 'inventory.yml'))
DEFAULT_SSL_PORT = 9093

_PEM_KEY = re.compile(rb'-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----', re.S)
_PEM_CERT = re.compile(rb'-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----', re.S)


def shared_conftest():
    """molecule/shared/tests/conftest.py as a module of its own name, so a scenario's conftest (also named
    conftest) can take its fixtures and pytest_configure from it."""
    import importlib.util  # pylint: disable=import-outside-toplevel
    spec = importlib.util.spec_from_file_location('kafkasec_shared_conftest', Path(__file__).with_name('conftest.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_properties(text: str) -> Dict[str, str]:
    """Java .properties as Kafka reads them: continuation lines joined, last key wins."""
    text = re.sub(r'(?<!\\)((?:\\\\)*)\\\r?\n[ \t\f]*', r'\1', text)
    props: Dict[str, str] = {}
    for line in text.splitlines():
        line = line.lstrip(' \t\f')
        if not line or line[0] in '#!':
            continue
        m = re.match(r'([^=:\s]+)[ \t\f]*[=:\s]?[ \t\f]*(.*)$', line)
        if m:
            props[m.group(1)] = m.group(2)
    return props


@dataclass
class Listener:
    name: str
    protocol: str
    host: str
    port: int


class Lab:
    """The lab's inventory: hosts, their variables and groups."""

    def __init__(self, path: Path = INVENTORY) -> None:
        if not path.is_file():
            raise FileNotFoundError(
                '%s does not exist: the lab is not up (molecule create, or lab/labctl up, writes it)' % path)
        data = yaml.safe_load(path.read_text())['all']
        self.path = path
        self.vars = data.get('vars') or {}
        self.hostvars = {name: dict(self.vars, **(hv or {})) for name, hv in (data.get('hosts') or {}).items()}
        self.groups = {g: sorted((c or {}).get('hosts') or {}) for g, c in (data.get('children') or {}).items()}

    def group(self, name: str) -> List[str]:
        return list(self.groups.get(name, []))

    @property
    def kafka_hosts(self) -> List[str]:
        return sorted(set(self.group('kafka_broker')) | set(self.group('kafka_controller')))

    @property
    def brokers(self) -> List[str]:
        return self.group('kafka_broker')

    @property
    def controllers(self) -> List[str]:
        return self.group('kafka_controller')

    @property
    def ca_host(self) -> str:
        (ca,) = self.group('kafka_ca')
        return ca

    def address(self, host: str) -> str:
        return self.hostvars[host]['ansible_host']

    def user(self, host: str) -> str:
        return self.hostvars[host]['ansible_user']

    def root(self, host: str) -> Path:
        return Path(self.hostvars[host]['kafkasec_lab_root'])

    def pki_dir(self, host: str) -> Path:
        return Path(self.hostvars[host]['kafka_pki_dir'])

    def server_properties(self, host: str) -> Dict[str, str]:
        return parse_properties(Path(self.hostvars[host]['kafka_server_properties']).read_text())

    def listeners(self, host: str) -> List[Listener]:
        """The advertised listeners of a Kafka host, with their security protocol."""
        props = self.server_properties(host)
        pmap = dict(item.strip().split(':', 1) for item in props.get('listener.security.protocol.map', '').split(',')
                    if ':' in item)
        out = []
        for item in props.get('advertised.listeners', '').split(','):
            m = re.match(r'\s*([A-Za-z0-9_]+)://\[?([^\]]*?)\]?:(\d+)\s*$', item)
            if m:
                out.append(Listener(m.group(1), pmap.get(m.group(1), m.group(1)), m.group(2), int(m.group(3))))
        return out

    def ssl_port(self, host: str) -> int:
        """The port of the host's client SSL listener (not the controller's)."""
        controller = self.server_properties(host).get('controller.listener.names', 'CONTROLLER').split(',')
        for lsn in self.listeners(host):
            if lsn.protocol == 'SSL' and lsn.name not in controller:
                return lsn.port
        return DEFAULT_SSL_PORT

    def node_id(self, host: str) -> int:
        return int(self.hostvars[host]['kafka_node_id'])

    def bootstrap(self, hosts: Optional[List[str]] = None) -> str:
        return ','.join('%s:%d' % (h, self.ssl_port(h)) for h in (hosts or self.brokers))

    def testinfra_host(self, host: str):
        """The host as testinfra sees it: over SSH as the host's own user, like Ansible."""
        import testinfra  # noqa: PLC0415 (only the checks that log in need it)
        return testinfra.get_host('ansible://%s' % host, ansible_inventory=str(self.path))


# --- PKI: the lab CA as found on the CA host, and certificates the checks issue themselves.

@dataclass
class CA:
    certificate_path: Path
    privatekey_path: Path
    certificate: x509.Certificate
    privatekey: object
    key_bytes: bytes

    @property
    def fingerprint_sha256(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex().upper()


def _files(root: Path, max_size: Optional[int] = None) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath, f)
            try:
                if p.is_symlink() or not p.is_file():
                    continue
                if max_size is not None and p.stat().st_size > max_size:
                    continue
            except OSError:
                continue
            yield p


def private_keys_in(data: bytes) -> List[object]:
    keys = []
    for pem in _PEM_KEY.findall(data):
        try:
            keys.append(serialization.load_pem_private_key(pem, password=None))
        except (ValueError, TypeError):
            continue  # encrypted or not a key we can read: compared by bytes elsewhere
    return keys


def same_key(a: object, b: object) -> bool:
    der = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return a.public_key().public_bytes(*der) == b.public_key().public_bytes(*der)


def find_ca(lab: Lab) -> CA:
    """The CA certificate (self-signed, CA:TRUE) and its key, searched for under the CA host's root."""
    certs: List[Tuple[Path, x509.Certificate]] = []
    keys: List[Tuple[Path, object, bytes]] = []
    for p in _files(lab.root(lab.ca_host), max_size=256 * 1024):
        data = p.read_bytes()
        for pem in _PEM_CERT.findall(data)[:1]:
            try:
                cert = x509.load_pem_x509_certificate(pem)
                bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            except (ValueError, x509.ExtensionNotFound):
                continue
            if bc.ca:
                certs.append((p, cert))
        for key in private_keys_in(data):
            keys.append((p, key, data))
    for cpath, cert in certs:
        for kpath, key, data in keys:
            if same_key(key, cert):
                return CA(cpath, kpath, cert, key, data)
    raise AssertionError('no CA certificate with its private key under %s (certificates: %s, keys: %s)' % (
        lab.root(lab.ca_host), [str(c[0]) for c in certs], [str(k[0]) for k in keys]))


@dataclass
class ClientPKI:
    """PEM files for a TLS client: the CA to trust, a certificate and its key."""
    ca_file: Path
    cert_file: Path
    key_file: Path
    subject: str


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
    return path


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue_client(directory: Path, ca_cert: x509.Certificate, ca_key, trust_pem: bytes, cn: str) -> ClientPKI:
    """A client certificate (EKU clientAuth, one day) signed by ca_key, written under directory."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    return ClientPKI(
        ca_file=_write(directory / 'ca.pem', trust_pem),
        cert_file=_write(directory / 'client.crt', cert.public_bytes(serialization.Encoding.PEM)),
        key_file=_write(directory / 'client.key', _pem_key(key), 0o600),
        subject=cn,
    )


def make_ca(subject: x509.Name) -> Tuple[x509.Certificate, object]:
    """A self-signed CA that is not the lab's (for the refusal checks)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


# --- Probes.

def s_client(address: str, port: int, servername: str, ca_file: Path, client: Optional[ClientPKI] = None,
             *extra: str) -> subprocess.CompletedProcess:
    """openssl s_client with chain and host name verification; stdin closed, so it ends after the handshake."""
    argv = ['openssl', 's_client', '-connect', '%s:%d' % (address, port), '-servername', servername,
            '-verify_hostname', servername, '-verify_return_error', '-CAfile', str(ca_file), '-showcerts']
    if client is not None:
        argv += ['-cert', str(client.cert_file), '-key', str(client.key_file)]
    argv += list(extra)
    return subprocess.run(argv, input='', capture_output=True, text=True, timeout=60, check=False)


def peer_chain(s_client_stdout: str) -> List[x509.Certificate]:
    return [x509.load_pem_x509_certificate(pem) for pem in _PEM_CERT.findall(s_client_stdout.encode())]


def port_open(address: str, port: int, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class KeytoolEntry:
    alias: str
    entry_type: str
    chain_length: int
    owners: List[str]
    sha256: List[str]


def keytool_list(path: str, store_type: str, password: str) -> List[KeytoolEntry]:
    """keytool -list -v, parsed into entries (the password travels in the environment)."""
    env = dict(os.environ, KAFKASEC_STOREPASS=password)
    p = subprocess.run(['keytool', '-list', '-v', '-keystore', path, '-storetype', store_type,
                        '-storepass:env', 'KAFKASEC_STOREPASS'],
                       capture_output=True, text=True, timeout=60, env=env, check=False)
    assert p.returncode == 0, 'keytool -list %s failed: %s%s' % (path, p.stdout, p.stderr)
    entries = []
    for block in re.split(r'^Alias name: ', p.stdout, flags=re.M)[1:]:
        alias = block.splitlines()[0].strip()
        etype = re.search(r'^Entry type: (\S+)', block, re.M)
        chain = re.search(r'^Certificate chain length: (\d+)', block, re.M)
        entries.append(KeytoolEntry(
            alias=alias,
            entry_type=etype.group(1) if etype else '',
            chain_length=int(chain.group(1)) if chain else 0,
            owners=re.findall(r'^Owner: (.*)$', block, re.M),
            sha256=[f.replace(':', '').upper() for f in re.findall(r'^\s*SHA256: ([0-9A-Fa-f:]+)', block, re.M)],
        ))
    return entries


def kafka_conf(lab: Lab, client: Optional[ClientPKI], ca_file: Path, bootstrap: Optional[str] = None,
               errors: Optional[list] = None) -> dict:
    """confluent-kafka settings for an SSL client (by host name: librdkafka checks DNS SANs)."""
    conf = {
        'bootstrap.servers': bootstrap or lab.bootstrap(),
        'security.protocol': 'SSL',
        'ssl.ca.location': str(ca_file),
        'ssl.endpoint.identification.algorithm': 'https',
        'client.id': 'molecule-%s' % uuid.uuid4().hex[:8],
        'socket.timeout.ms': 10000,
    }
    if client is not None:
        conf['ssl.certificate.location'] = str(client.cert_file)
        conf['ssl.key.location'] = str(client.key_file)
    if errors is not None:
        conf['error_cb'] = lambda err: errors.append(str(err))
        conf['logger'] = _ListLogger(errors)
    return conf


class _ListLogger(logging.Logger):
    """librdkafka's log lines into a list (the evidence of a refusal), not onto stderr."""

    def __init__(self, sink: list) -> None:
        super().__init__('kafkasec.molecule.rdkafka', logging.DEBUG)
        self.sink = sink

    def log(self, level, msg, *args, **kwargs):  # pylint: disable=arguments-differ
        self.sink.append(msg % args if args else str(msg))


def walk_files(root: Path, max_size: Optional[int] = None) -> Iterator[Path]:
    return _files(root, max_size)


# --- Client bundles (kafkasec.tls.client_bundle) and the Connect REST API.

@dataclass
class Bundle:
    """A client bundle directory: <name>.key, <name>.crt, ca.crt, client.properties, librdkafka.properties."""
    directory: Path
    name: str

    @property
    def pki(self) -> ClientPKI:
        return ClientPKI(ca_file=self.directory / 'ca.crt', cert_file=self.directory / ('%s.crt' % self.name),
                         key_file=self.directory / ('%s.key' % self.name), subject=self.name)

    def rdkafka_conf(self) -> Dict[str, str]:
        """librdkafka.properties as confluent-kafka settings (the file has no escapes: key=value lines)."""
        text = (self.directory / 'librdkafka.properties').read_text()
        return dict(line.split('=', 1) for line in text.splitlines() if line and not line.startswith('#'))

    def curl(self, url: str, *extra: str, cert: bool = True) -> subprocess.CompletedProcess:
        """curl --cacert ca.crt [--cert <name>.crt --key <name>.key] URL."""
        args = ['curl', '-sS', '--max-time', '20', '--cacert', str(self.pki.ca_file)]
        if cert:
            args += ['--cert', str(self.pki.cert_file), '--key', str(self.pki.key_file)]
        return subprocess.run(args + list(extra) + [url], capture_output=True, text=True, timeout=60, check=False)


def consume(conf: dict, topic: str, count: int, timeout: float = 90) -> List[str]:
    """Up to count values of topic from the beginning, read with confluent-kafka within timeout seconds."""
    from confluent_kafka import Consumer  # noqa: PLC0415 (not every check needs a client)

    consumer = Consumer(dict(conf, **{'group.id': 'kafkasec-%s' % uuid.uuid4().hex, 'auto.offset.reset': 'earliest',
                                      'enable.auto.commit': False}))
    got: List[str] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error():
                got.append(msg.value().decode())
    finally:
        consumer.close()
    return got
