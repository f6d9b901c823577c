# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the module-level PKI tests (test_pki_modules.py, test_pki_bad_input.py).

* ``run_playbook``: run several tasks of this collection in ONE generated playbook with
  ``ansible-playbook -i localhost, -c local`` (each start costs a second or two), and get
  every task result back as a dict, by task name. A small stdout callback plugin of our own
  prints each result as one JSON line. ``run_one`` runs a single module, through
  ``ansible_runner.run_module`` (the team's runner) when it is there.
* Material made independently of the collection, with ``cryptography``: keys, CAs
  (root, intermediate, expired), leaf certificates, CSRs, and a CSR whose signature was
  made by another key than the one it carries.
* Readers that do not share code with the collection: ``openssl`` and the JDK's ``keytool``.
* ``snapshot``/``snapshot_diff``: sha256, mtime_ns and mode of every file under a directory.

Every path is computed at run time from this file's location or given by the tests
(pytest's ``tmp_path``); nothing here is specific to one machine.
"""

from __future__ import annotations

import atexit
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
COLLECTIONS_PATH = REPO_ROOT / ".build" / "collections"
COLLECTION = "kafkasec.tls"

UTC = datetime.timezone.utc

# --------------------------------------------------------------------------- running Ansible

_MARK = "PKI-HELPERS-RESULT "

_CALLBACK_SOURCE = '''
from __future__ import annotations

import json

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

DOCUMENTATION = """
name: pki_helpers_json
type: stdout
short_description: one JSON line per task result, with the task name (kafkasec.tls tests)
description: [Prints every task result as one JSON line after a marker.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "pki_helpers_json"

    def _emit(self, result, status):
        data = strip_internal_keys(module_response_deepcopy(result._result))
        line = {"task": result._task.get_name(), "status": status, "result": data}
        self._display.display(%r + json.dumps(line, cls=AnsibleJSONEncoder, sort_keys=True))

    def v2_runner_on_ok(self, result):
        self._emit(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._emit(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._emit(result, "skipped")
''' % _MARK


class PlaybookError(RuntimeError):
    """ansible-playbook did not produce the expected task results."""


def venv_python() -> str:
    """The venv's Python (it has cryptography), the interpreter of the managed "host"."""
    candidate = VENV_BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def ansible_playbook() -> str:
    for candidate in (VENV_BIN / "ansible-playbook", Path(sys.executable).parent / "ansible-playbook"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("ansible-playbook")
    if not found:
        raise PlaybookError("ansible-playbook is neither in the venv nor on PATH")
    return found


def ensure_collection_link() -> Path:
    """What `make link` does: .build/collections/ansible_collections/kafkasec/tls -> the repository."""
    link = COLLECTIONS_PATH / "ansible_collections" / "kafkasec" / "tls"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return COLLECTIONS_PATH


_WORKDIR: Optional[Path] = None


def _workdir() -> Path:
    """Per-process directory with the callback plugin, an empty ansible.cfg and the playbooks."""
    global _WORKDIR  # pylint: disable=global-statement
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="kafkasec-pki-tests-"))
        atexit.register(shutil.rmtree, str(_WORKDIR), True)
        (_WORKDIR / "callback_plugins").mkdir()
        (_WORKDIR / "callback_plugins" / "pki_helpers_json.py").write_text(_CALLBACK_SOURCE)
        (_WORKDIR / "ansible.cfg").write_text("[defaults]\n")
    return _WORKDIR


@dataclass
class PlaybookRun:
    """One ansible-playbook run: its command, exit code, output and the task results by task name."""

    command: List[str]
    rc: int
    stdout: str
    stderr: str
    results: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    statuses: Dict[str, str] = field(default_factory=dict)

    def __getitem__(self, task_name: str) -> Dict[str, Any]:
        if task_name not in self.results:
            raise KeyError("no result for task %r; got %s\n%s" % (task_name, sorted(self.results), self.describe()))
        return self.results[task_name]

    def changed(self) -> Dict[str, bool]:
        return {name: bool(result.get("changed")) for name, result in self.results.items()}

    def failed(self) -> Dict[str, str]:
        return {name: str(result.get("msg")) for name, result in self.results.items() if result.get("failed")}

    def describe(self) -> str:
        return "rc=%s\nstdout (tail):\n%s\nstderr (tail):\n%s" % (self.rc, self.stdout[-6000:], self.stderr[-3000:])


def task(name: str, module: str, args: Mapping[str, Any], **keywords: Any) -> Dict[str, Any]:
    """A playbook task; `module` without a dot is taken from this collection. Registers itself as `name`."""
    fqcn = module if "." in module else "%s.%s" % (COLLECTION, module)
    entry: Dict[str, Any] = {"name": name, fqcn: dict(args), "register": name}
    entry.update(keywords)
    return entry


def run_playbook(tasks: Sequence[Mapping[str, Any]], *, check: bool = False, diff: bool = False,
                 verbosity: int = 0, json_results: bool = True, prefix: Sequence[str] = (),
                 env: Optional[Mapping[str, str]] = None, expect_all: bool = True,
                 timeout: float = 600) -> PlaybookRun:
    """Run `tasks` (see `task`) against localhost in one play; strings are templated by Ansible.

    json_results=False keeps Ansible's default stdout callback (what an operator sees).
    prefix is put in front of the command (e.g. setpriv to drop capabilities).
    With expect_all, a missing task result (the play stopped) raises PlaybookError.
    """
    workdir = _workdir()
    ensure_collection_link()
    play = [{"name": "kafkasec.tls module tests", "hosts": "localhost", "gather_facts": False,
             "tasks": [dict(t) for t in tasks]}]
    fd, playbook = tempfile.mkstemp(prefix="play-", suffix=".yml", dir=str(workdir))
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(play, handle, sort_keys=False, allow_unicode=False)
    command = list(prefix) + [ansible_playbook(), "-i", "localhost,", "-c", "local",
                              "-e", "ansible_python_interpreter=%s" % venv_python(), playbook]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    })
    if json_results:
        run_env.update({
            "ANSIBLE_CALLBACK_PLUGINS": str(workdir / "callback_plugins"),
            "ANSIBLE_STDOUT_CALLBACK": "pki_helpers_json",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        })
    else:
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    run_env.update(env or {})
    try:
        proc = subprocess.run(command, cwd=str(workdir), env=run_env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    finally:
        os.unlink(playbook)
    run = PlaybookRun(command, proc.returncode, proc.stdout, proc.stderr)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            entry = json.loads(line[len(_MARK):])
            result = entry["result"]
            if entry["status"] == "failed":
                result["failed"] = True
            run.results[entry["task"]] = result
            run.statuses[entry["task"]] = entry["status"]
    if json_results and expect_all:
        missing = [t["name"] for t in tasks if t["name"] not in run.results]
        if missing:
            raise PlaybookError("no result for task(s) %s\n%s" % (missing, run.describe()))
    return run


def run_one(module: str, args: Mapping[str, Any], check: bool = False, diff: bool = False) -> Dict[str, Any]:
    """One module call; through the team's tests/unit/ansible_runner.py when present (arguments verbatim)."""
    fqcn = module if "." in module else "%s.%s" % (COLLECTION, module)
    try:
        from ansible_runner import run_module  # pylint: disable=import-outside-toplevel
    except ImportError:
        run_module = None
    if run_module is not None:
        return run_module(fqcn, dict(args), check=check, diff=diff)
    # Fallback: our own runner; mark strings !unsafe-free by refusing template markers.
    for value in _strings(args):
        if "{{" in value or "{%" in value:
            raise ValueError("run_one fallback would template %r" % value)
    return run_playbook([task("only", fqcn, args, ignore_errors=True)], check=check, diff=diff)["only"]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


# ------------------------------------------------------------------------- file snapshots

Snapshot = Dict[str, Tuple[Any, ...]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under root (relative path): files by sha256, mtime_ns and mode; dirs and links too."""
    snap: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                snap[rel] = ("link", os.readlink(str(path)))
            elif stat.S_ISDIR(st.st_mode):
                snap[rel] = ("dir", st.st_mtime_ns, stat.S_IMODE(st.st_mode))
            else:
                try:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                except PermissionError:
                    digest = "unreadable"
                snap[rel] = ("file", digest, st.st_mtime_ns, stat.S_IMODE(st.st_mode), st.st_size)
    return snap


def snapshot_diff(before: Snapshot, after: Snapshot) -> List[str]:
    """Entries added, removed or changed between two snapshots."""
    out = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            out.append("added %s" % key)
        elif key not in after:
            out.append("removed %s" % key)
        elif before[key] != after[key]:
            out.append("changed %s: %s -> %s" % (key, before[key], after[key]))
    return out


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------- independent material

def new_key(kind: str = "ec256") -> Any:
    """ec256, ec384, rsa2048, rsa3072 or ed25519."""
    if kind == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def key_pem(key: Any, passphrase: Optional[str] = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def cert_pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


def csr_pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def write(path: Path, data: Any, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("ascii") if isinstance(data, str) else data)
    path.chmod(mode)
    return path


def dn(cn: str, **attrs: str) -> x509.Name:
    oids = {"O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "C": NameOID.COUNTRY_NAME}
    items = [x509.NameAttribute(oids[k], v) for k, v in attrs.items()]
    return x509.Name(items + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _hash(key: Any) -> Optional[hashes.HashAlgorithm]:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


@dataclass
class Issuer:
    """A CA made here: its key and certificate."""

    key: Any
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return cert_pem(self.cert)

    def save(self, directory: Path, stem: str = "ca") -> Tuple[Path, Path]:
        """Write <stem>.key (0600) and <stem>.crt; return (key path, cert path)."""
        return (write(directory / ("%s.key" % stem), key_pem(self.key)),
                write(directory / ("%s.crt" % stem), self.pem, 0o644))


def make_ca(cn: str, key: Any = None, issuer: Optional[Issuer] = None, *, path_length: Optional[int] = 0,
            not_before: Optional[datetime.datetime] = None, not_after: Optional[datetime.datetime] = None) -> Issuer:
    """A CA certificate (root when issuer is None) with the usual CA extensions."""
    key = key or new_key("ec256")
    start = not_before or now() - datetime.timedelta(days=1)
    end = not_after or now() + datetime.timedelta(days=3650)
    signer_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else dn(cn, O="kafkasec tests")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(dn(cn, O="kafkasec tests")).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(aki, critical=False)
            .sign(signer_key, _hash(signer_key)))
    return Issuer(key, cert)


def make_leaf(issuer: Issuer, key: Any, cn: str, dns: Sequence[str] = (), ips: Sequence[str] = (), *,
              not_before: Optional[datetime.datetime] = None,
              not_after: Optional[datetime.datetime] = None) -> x509.Certificate:
    """An end-entity certificate like the collection issues (serverAuth + clientAuth)."""
    start = not_before or now() - datetime.timedelta(hours=1)
    end = not_after or now() + datetime.timedelta(days=365)
    builder = (x509.CertificateBuilder()
               .subject_name(dn(cn)).issuer_name(issuer.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                     ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer.key, _hash(issuer.key))


def make_csr(key: Any, cn: str, dns: Sequence[str] = (), ips: Sequence[str] = ()) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(dn(cn))
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, _hash(key))


# --- DER by hand, for a CSR whose signature was made by another key

def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def der_children(der: bytes) -> List[bytes]:
    """The TLVs (whole, tag and length included) inside the outermost constructed DER element."""
    def read_len(data: bytes, pos: int) -> Tuple[int, int]:
        first = data[pos]
        if first < 0x80:
            return first, pos + 1
        count = first & 0x7F
        return int.from_bytes(data[pos + 1:pos + 1 + count], "big"), pos + 1 + count

    length, pos = read_len(der, 1)
    end = pos + length
    children = []
    while pos < end:
        start = pos
        item_len, content_start = read_len(der, pos + 1)
        pos = content_start + item_len
        children.append(der[start:pos])
    return children


def csr_signed_by_other_key(csr_key: Any, signing_key: Any, cn: str, dns: Sequence[str] = ()) -> str:
    """A CertificationRequest carrying csr_key's public key whose signature was made with signing_key.

    The certificationRequestInfo (tbs) of a valid CSR is kept byte for byte, as is its
    signatureAlgorithm; only the signature BIT STRING is replaced by signing_key's signature
    of those tbs bytes. Both keys must be of the same kind (same algorithm identifier).
    """
    genuine = make_csr(csr_key, cn, dns)
    tbs, algorithm, _signature = der_children(genuine.public_bytes(serialization.Encoding.DER))
    assert tbs == genuine.tbs_certrequest_bytes
    forged_signature = signing_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = _der_tlv(0x30, tbs + algorithm + _der_tlv(0x03, b"\x00" + forged_signature))
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n" % "\n".join(lines)


# ---------------------------------------------------------------------- independent readers

def tool(*command: str, env: Optional[Mapping[str, str]] = None, data: Optional[bytes] = None,
         check: bool = True) -> subprocess.CompletedProcess:
    """Run openssl/keytool; output as text (stdout and stderr separate); LC_ALL=C."""
    run_env = dict(os.environ, LC_ALL="C")
    run_env.update(env or {})
    proc = subprocess.run(list(command), env=run_env, input=data, capture_output=True, timeout=120, check=False)
    proc.stdout = proc.stdout.decode("utf-8", "replace")  # type: ignore[assignment]
    proc.stderr = proc.stderr.decode("utf-8", "replace")  # type: ignore[assignment]
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (rc=%d):\n%s\n%s" % (" ".join(command), proc.returncode,
                                                              proc.stdout, proc.stderr))
    return proc


def openssl_text(path: Path) -> str:
    """`openssl x509 -text -noout` of the first certificate in path."""
    return tool("openssl", "x509", "-in", str(path), "-text", "-noout").stdout


# A short-lived JVM needs no optimising JIT nor a parallel GC: halves keytool's CPU time.
KEYTOOL_JVM = ("-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC")


def keytool_list(path: Path, store_type: str, password: str, check: bool = True) -> subprocess.CompletedProcess:
    """`keytool -list -v`; the password goes through the environment, not the command line."""
    return tool("keytool", *KEYTOOL_JVM, "-list", "-v", "-keystore", str(path), "-storetype", store_type,
                "-storepass:env", "PKI_TEST_STOREPASS", env={"PKI_TEST_STOREPASS": password}, check=check)


def keytool_entries(listing: str) -> List[Dict[str, str]]:
    """Alias, entry type and chain length of every entry of a `keytool -list -v` listing."""
    entries = []
    for block in re.split(r"^Alias name: ", listing, flags=re.MULTILINE)[1:]:
        alias = block.splitlines()[0].strip()
        kind = re.search(r"^Entry type: (\S+)", block, re.MULTILINE)
        chain = re.search(r"^Certificate chain length: (\d+)", block, re.MULTILINE)
        entries.append({"alias": alias, "type": kind.group(1) if kind else "",
                        "chain_length": chain.group(1) if chain else ""})
    return entries


def pem_blocks(text: str, label: str = "CERTIFICATE") -> List[str]:
    return re.findall(r"-----BEGIN %s-----.*?-----END %s-----\n?" % (label, label), text, re.DOTALL)


def san_values(openssl_x509_text: str) -> List[str]:
    """The entries of the Subject Alternative Name extension as openssl prints them."""
    match = re.search(r"X509v3 Subject Alternative Name:.*?\n\s*(.+)\n", openssl_x509_text)
    assert match, "no SAN extension in:\n" + openssl_x509_text
    return [v.strip() for v in match.group(1).split(",")]


def extension_value(openssl_x509_text: str, name: str) -> str:
    """The first line of an X509v3 extension's value, e.g. extension_value(text, 'Key Usage')."""
    match = re.search(r"X509v3 %s:( critical)?\s*\n\s*(.+)\n" % re.escape(name), openssl_x509_text)
    assert match, "no %s extension in:\n%s" % (name, openssl_x509_text)
    return match.group(2).strip()


def is_critical(openssl_x509_text: str, name: str) -> bool:
    return bool(re.search(r"X509v3 %s: critical" % re.escape(name), openssl_x509_text))
