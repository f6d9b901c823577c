# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real JVMs for the JMX guard's tests: the guard built by `make jmx-guard`, a tiny server JVM
(java/jmx-guard's test sources) with remote JMX and password authentication on 127.0.60.1, and a real JMX client
JVM that answers one command per line (TestClient's protocol)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import guard

REPO = Path(__file__).resolve().parents[2]
GUARD_JAR = REPO / "roles" / "jmx" / "files" / guard.JAR_NAME
TEST_CLASSES = REPO / ".build" / "jmx-guard" / "test-classes"
HOST = "127.0.60.1"
JDKS = {
    "17": "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
    "25": "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java",
}


def build() -> None:
    """The guard's jar as `make deps` builds it, and the test classes next to it."""
    subprocess.run(["make", "-s", "jmx-guard"], cwd=REPO, check=True)
    if not (TEST_CLASSES / "io" / "kafkasec" / "jmxguard" / "testapp" / "TestServer.class").exists():
        subprocess.run(["mvn", "-B", "-q", "-f", "java/jmx-guard/pom.xml", "test-compile"], cwd=REPO, check=True)


def java(jdk: str) -> str:
    path = JDKS[jdk]
    if not os.access(path, os.X_OK):
        raise AssertionError("JDK %s is needed at %s (make deps installs JDK 17; the machine's Temurin 25 is "
                             "expected there)" % (jdk, path))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def write_rules(directory: Path, spec) -> None:
    """The rules as the jmx role writes them: render_rules, each file replaced atomically, stale ones removed."""
    directory.mkdir(parents=True, exist_ok=True)
    files = guard.render_rules(spec)
    for name, text in files.items():
        tmp = directory / (".tmp-" + name)
        tmp.write_text(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, directory / name)
    for name in guard.stale_files(os.listdir(directory), files):
        os.unlink(directory / name)


class _Lines:
    """A process's stdout lines, read by a thread (select on a buffered text pipe would miss buffered lines)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.queue: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def next(self, timeout: float) -> str:
        try:
            line = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no answer from the JVM within %.0f s" % timeout)
        if line is None:
            raise AssertionError("the JVM ended (exit %s)" % self.proc.wait())
        return line


class Server:
    """The tiny JVM: remote JMX with password authentication, an access file, and (guarded) the guard."""

    def __init__(self, jdk: str, workdir: Path, users: Dict[str, str], access: Dict[str, str],
                 rules: Optional[dict], args: Sequence[str] = ()):
        self.jdk = jdk
        self.port = free_port()
        self.url = "service:jmx:rmi:///jndi/rmi://%s:%d/jmxrmi" % (HOST, self.port)
        self.rules_dir = workdir / "rules"
        workdir.mkdir(parents=True, exist_ok=True)
        password = workdir / "jmxremote.password"
        password.write_text("".join("%s %s\n" % u for u in users.items()))
        os.chmod(password, 0o600)
        access_file = workdir / "jmxremote.access"
        access_file.write_text("".join("%s %s\n" % a for a in access.items()))
        os.chmod(access_file, 0o600)
        options: List[str] = []
        if rules is not None:
            write_rules(self.rules_dir, rules)
            options = guard.jvm_options(str(GUARD_JAR), str(self.rules_dir), poll_ms=200)
        cmd = [java(jdk), "-Xmx64m", "-XX:+UseSerialGC", "-Xshare:auto"] + options + [
            "-Dcom.sun.management.jmxremote.port=%d" % self.port,
            "-Dcom.sun.management.jmxremote.rmi.port=%d" % self.port,
            "-Dcom.sun.management.jmxremote.host=%s" % HOST,
            "-Djava.rmi.server.hostname=%s" % HOST,
            "-Dcom.sun.management.jmxremote.authenticate=true",
            "-Dcom.sun.management.jmxremote.ssl=false",
            "-Dcom.sun.management.jmxremote.password.file=%s" % password,
            "-Dcom.sun.management.jmxremote.access.file=%s" % access_file,
            "-cp", str(TEST_CLASSES), "io.kafkasec.jmxguard.testapp.TestServer"] + list(args)
        self.log = open(workdir / "server.err", "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines: Dict[str, str] = {}
        out = _Lines(self.proc)
        try:
            while True:
                line = out.next(120)
                if line == "READY":
                    break
                key, _, value = line.partition(" ")
                self.lines[key] = value
        except BaseException:
            self.stop()
            raise
        self.pid = int(self.lines["PID"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Client:
    """A real JMX client JVM logged in as one user; ask() sends one command and returns (status, text)."""

    def __init__(self, server: Server, user: str, password: str):
        cmd = [java(server.jdk), "-Xmx48m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-cp", str(TEST_CLASSES), "io.kafkasec.jmxguard.testapp.TestClient", server.url, user, password]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.out = _Lines(self.proc)
        try:
            first = self.out.next(60)
        except BaseException:
            self.close()
            raise
        if first != "CONNECTED":
            self.close()
            raise AssertionError("client did not connect: %s" % first)

    def ask(self, *fields: str, timeout: float = 120) -> tuple:
        self.proc.stdin.write("\t".join(fields) + "\n")
        self.proc.stdin.flush()
        status, _, text = self.out.next(timeout).partition(" ")
        return status, text

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def connect_error(server: Server, user: str, password: str) -> str:
    """The error a login gets (the client exits at once), or '' when it connects."""
    cmd = [java(server.jdk), "-Xmx48m", "-XX:TieredStopAtLevel=1", "-cp", str(TEST_CLASSES),
           "io.kafkasec.jmxguard.testapp.TestClient", server.url, user, password]
    r = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=60)
    return "" if r.stdout.startswith("CONNECTED") else (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[0]
