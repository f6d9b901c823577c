# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real JMX client for the lab tests (Molecule jmx, connect and zookeeper, tests/security):
roles/jmx/files/JmxCheck.java compiled once, run against one JMX service URL with the CA's PEM (no truststore,
no password on a command line: the credentials come from a bundle's <user>.properties file; a client
certificate, when the JVM needs one, from a PKCS12 file and its password file)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
JMX_CHECK = REPO / 'roles' / 'jmx' / 'files' / 'JmxCheck.java'
GUARD_REFUSAL = 'kafkasec JMX guard'
DCMD = 'com.sun.management:type=DiagnosticCommand'


class JmxClient:
    def __init__(self, workdir: Path, ca: Path, host: str, port: int = 9999) -> None:
        self.classes = workdir / 'jmxcheck-classes'
        if not (self.classes / 'JmxCheck.class').exists():
            subprocess.run(['javac', '-nowarn', '-d', str(self.classes), str(JMX_CHECK)], check=True,
                           capture_output=True, timeout=300)
        self.ca, self.host, self.port = ca, host, port
        self.url = 'service:jmx:rmi:///jndi/rmi://%s:%d/jmxrmi' % (host, port)

    def run(self, *args: str, credentials: Optional[Path] = None, user: Optional[str] = None,
            stdin: str = '', timeout: float = 120,
            keystore: Optional[Tuple[Path, Path]] = None) -> subprocess.CompletedProcess:
        """JmxCheck with `args`; keystore: (PKCS12 file, password file) of a client certificate."""
        cmd = ['java', '-Xmx64m', '-XX:TieredStopAtLevel=1', '-cp', str(self.classes), 'JmxCheck', '--ca',
               str(self.ca), '--url', self.url]
        if credentials is not None:
            cmd += ['--credentials', str(credentials)]
        if user is not None:
            cmd += ['--user', user]
        if keystore is not None:
            cmd += ['--keystore', str(keystore[0]), '--keystore-password-file', str(keystore[1])]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, input=stdin)

    def session(self, credentials: Path, *calls: Tuple[str, ...]) -> List[Tuple[str, str]]:
        """One login, one JMX call per tuple (get, invoke, can, names); (status, text) each: OK, DENIED or ERROR."""
        p = self.run('session', credentials=credentials, stdin=''.join('\t'.join(c) + '\n' for c in calls))
        answers = [tuple((line.split(' ', 1) + [''])[:2]) for line in p.stdout.splitlines()]
        assert p.returncode == 0 and len(answers) == len(calls), p.stdout + p.stderr
        return answers

    def refused(self, check: str, *args: str, **kw) -> str:
        """Run a check that holds when the JVM refuses (anonymous, wrong-password, no-tls, plain-registry)."""
        p = self.run(check, *args, **kw)
        assert p.returncode == 0 and 'refused' in p.stdout and 'ACCEPTED' not in p.stdout, \
            '%s: %s' % (check, p.stdout + p.stderr)
        return p.stdout
