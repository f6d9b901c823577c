# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway estate of local "hosts" for running the collection's playbooks for real.

Every host is `ansible_connection: local` with its own root directory under a pytest tmp dir
(`hosts/<name>/...`), so each host's files can be told apart and compared across runs:
one CA host (`kafka_ca`) and any number of Kafka hosts (`kafka_broker`, `kafka_controller`).
All paths are computed at run time; nothing here is specific to one machine.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / '.venv' / 'bin'
ANSIBLE_PLAYBOOK = VENV_BIN / 'ansible-playbook'
COLLECTIONS = REPO / '.build' / 'collections'
PKI_PLAYBOOK = REPO / 'playbooks' / 'pki.yml'

CA_HOST = 'ca.lab.test'

_RECAP = re.compile(
    r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
    r'\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)',
    re.MULTILINE)


def ensure_collection_link() -> None:
    """What `make link` does: make kafkasec.tls resolvable from .build/collections."""
    link = COLLECTIONS / 'ansible_collections' / 'kafkasec' / 'tls'
    if link.exists():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(REPO, target_is_directory=True)


def python_interpreter() -> str:
    """The venv's Python (it has cryptography) for the managed "hosts"."""
    venv_python = VENV_BIN / 'python'
    return str(venv_python) if venv_python.exists() else sys.executable


@dataclass
class RunResult:
    """One ansible-playbook run: exit code, combined output and the parsed PLAY RECAP."""

    args: List[str]
    rc: int
    output: str
    recap: Dict[str, Dict[str, int]]

    def changed(self, host: str) -> int:
        return self.recap[host]['changed']

    def describe(self) -> str:
        return 'ansible-playbook %s -> rc=%d\n%s' % (' '.join(self.args), self.rc, self.output[-12000:])


def parse_recap(output: str) -> Dict[str, Dict[str, int]]:
    recap_start = output.rfind('PLAY RECAP')
    if recap_start < 0:
        return {}
    return {m.group('host'): {k: int(v) for k, v in m.groupdict().items() if k != 'host'}
            for m in _RECAP.finditer(output[recap_start:])}


@dataclass
class LabHost:
    name: str
    root: Path
    vars: Dict[str, Any] = field(default_factory=dict)

    @property
    def pki_dir(self) -> Path:
        return Path(self.vars['kafkasec_pki_dir'])

    def file(self, name: str) -> Path:
        return self.pki_dir / name


class Lab:
    """The estate: hosts, the inventory written from them, runs and file snapshots."""

    def __init__(self, root: Path) -> None:
        ensure_collection_link()
        self.root = root
        self.hosts_root = root / 'hosts'
        self.hosts_root.mkdir(parents=True, exist_ok=True)
        self.runs: List[RunResult] = []
        # An empty config of our own: no ansible.cfg of the working tree or the user applies.
        self.config = root / 'ansible.cfg'
        self.config.write_text('[defaults]\n')
        ca_root = self.hosts_root / CA_HOST
        ca_root.mkdir()
        self.ca = LabHost(CA_HOST, ca_root, {'kafkasec_ca_dir': str(ca_root / 'ca'),
                                             'kafkasec_ca_subject': {'CN': 'kafkasec lab CA', 'O': 'kafkasec'}})
        self.brokers: Dict[str, LabHost] = {}
        self.controllers: List[str] = []

    # --- hosts and inventory -------------------------------------------------------------------

    def add_broker(self, index: int, controller: bool = False, **overrides: Any) -> LabHost:
        """kafka-<index>.lab.test with its own root; pki dir <root>/etc/kafka/pki (parent created)."""
        name = 'kafka-%d.lab.test' % index
        root = self.hosts_root / name
        (root / 'etc' / 'kafka').mkdir(parents=True, exist_ok=True)
        host_vars: Dict[str, Any] = {
            'kafkasec_pki_dir': str(root / 'etc' / 'kafka' / 'pki'),
            'kafkasec_cert_extra_dns_names': ['kafka-%d.external.lab.test' % index],
            'kafkasec_cert_ip_addresses': ['127.0.1.%d' % index],
        }
        host_vars.update(overrides)
        host = LabHost(name, root, host_vars)
        self.brokers[name] = host
        if controller:
            self.controllers.append(name)
        return host

    def inventory(self, without_groups: Iterable[str] = (),
                  extra_brokers: Optional[Dict[str, Dict[str, Any]]] = None) -> Dict[str, Any]:
        brokers = {name: copy.deepcopy(host.vars) for name, host in self.brokers.items()}
        brokers.update(copy.deepcopy(extra_brokers or {}))
        groups: Dict[str, Any] = {
            'kafka_ca': {'hosts': {CA_HOST: copy.deepcopy(self.ca.vars)}},
            'kafka_broker': {'hosts': brokers},
            # KRaft combined mode: a host may be in both groups; the play must run it once.
            'kafka_controller': {'hosts': {name: {} for name in self.controllers}},
        }
        for group in without_groups:
            del groups[group]
        return {'all': {
            'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': python_interpreter()},
            'children': groups,
        }}

    def write_inventory(self, inventory: Optional[Dict[str, Any]] = None, name: str = 'inventory.yml') -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump(inventory if inventory is not None else self.inventory(), sort_keys=False))
        return path

    # --- running ------------------------------------------------------------------------------

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update({
            'ANSIBLE_CONFIG': str(self.config),
            'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS),
            'ANSIBLE_LOCAL_TEMP': str(self.root / '.ansible' / 'local'),
            'ANSIBLE_REMOTE_TEMP': str(self.root / '.ansible' / 'remote'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_HOST_KEY_CHECKING': '0',
            'ANSIBLE_FORKS': '10',
            'ANSIBLE_PIPELINING': '1',
        })
        return env

    def run(self, *args: str, inventory: Optional[Path] = None, playbook: Path = PKI_PLAYBOOK,
            timeout: int = 300) -> RunResult:
        """ansible-playbook -v on the lab inventory; output and recap are kept for later checks."""
        inventory = inventory or self.write_inventory()
        argv = [str(ANSIBLE_PLAYBOOK), '-i', str(inventory), str(playbook), '-v', *args]
        proc = subprocess.run(argv, cwd=self.root, env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
        result = RunResult(argv[1:], proc.returncode, proc.stdout, parse_recap(proc.stdout))
        self.runs.append(result)
        return result

    # --- reading the hosts back -------------------------------------------------------------------

    def snapshot(self) -> Dict[str, Tuple[Any, ...]]:
        """Every file and directory under the hosts: content hash, mtime, mode (dirs: mtime, mode)."""
        snap: Dict[str, Tuple[Any, ...]] = {}
        for dirpath, dirnames, filenames in os.walk(self.hosts_root):
            for name in dirnames + filenames:
                path = Path(dirpath) / name
                st = path.lstat()
                if stat.S_ISDIR(st.st_mode):
                    snap[str(path)] = ('dir', st.st_mtime_ns, stat.S_IMODE(st.st_mode))
                else:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    snap[str(path)] = ('file', digest, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
        return snap

    def password_files(self) -> List[Path]:
        return sorted(self.hosts_root.rglob('*.password'))


def snapshot_diff(before: Dict[str, Tuple[Any, ...]], after: Dict[str, Tuple[Any, ...]],
                  under: Optional[Path] = None) -> List[str]:
    """Paths added, removed or changed between two snapshots (optionally only below `under`)."""
    keys = set(before) | set(after)
    if under is not None:
        keys = {k for k in keys if Path(k) == under or under in Path(k).parents}
    return sorted(k for k in keys if before.get(k) != after.get(k))


def tool(*argv: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Run openssl/keytool and return the completed process (stdout and stderr together, as text)."""
    return subprocess.run(list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=60, check=False)
