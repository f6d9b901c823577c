# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/probe.py against real TLS servers on 127.0.0.1.

Two independent server implementations:
- Python's ssl module, in a thread (TlsServer below), answering Kafka
  ApiVersions requests with a minimal response so the probe's Kafka payload is
  exercised end to end;
- `openssl s_server`, a separate process.

Every certificate comes from the collection's own module_utils/pki/core.py.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import subprocess
import threading
import time
import warnings

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import probe as probe_module
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import core as pki
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.probe import (
    ProbeError,
    ProbeRequest,
    can_offer,
    kafka_api_versions_request,
    name_matches,
    probe,
    served_certificate,
)

EC = pki.KeySpec("ec", ec_curve="P-256")


# --------------------------------------------------------------------- certificates

class Pki:
    """A CA, a server certificate for localhost, a client certificate, and a stranger CA's ones."""

    def __init__(self, base):
        self.base = base
        self.ca = self._ca("Probe Test CA")
        self.other_ca = self._ca("Some Other CA")
        write(base / "ca.pem", pki.cert_pem(self.ca.certificate))
        self.server = self.issue("server", self.ca, ["localhost"], ["127.0.0.1"])
        self.client = self.issue("client", self.ca, ["probe-client"], [], eku=("clientAuth",))
        self.stranger_server = self.issue("stranger-server", self.other_ca, ["localhost"], ["127.0.0.1"])
        self.stranger_client = self.issue("stranger-client", self.other_ca, ["probe-client"], [], eku=("clientAuth",))
        self.wrong_name = self.issue("wrong-name", self.ca, ["kafka-9.example.test"], [])
        self.expiring = self.issue("expiring", self.ca, ["localhost"], [], days=5)

    @property
    def ca_path(self):
        return str(self.base / "ca.pem")

    @staticmethod
    def _ca(cn):
        key = pki.generate_private_key(EC)
        return pki.CertificateAuthority(pki.create_ca_certificate(key, pki.build_name({"CN": cn}), 365, 0), key)

    def issue(self, label, ca, dns, ips, eku=("serverAuth", "clientAuth"), days=20):
        key = pki.generate_private_key(EC)
        csr = pki.build_csr(key, pki.build_name({"CN": (dns or ips)[0]}), dns, ips)
        policy = pki.SignPolicy(validity_days=days, renewal_days=1, extended_key_usage=eku)
        cert, _warnings = pki.issue_certificate(csr, ca, policy)
        cert_path, key_path = self.base / ("%s.crt" % label), self.base / ("%s.key" % label)
        write(cert_path, pki.certs_pem([cert, ca.certificate]))  # leaf + chain, as a keystore holds it
        write(key_path, pki.serialize_private_key(key).decode())
        os.chmod(key_path, 0o600)
        return dict(cert=str(cert_path), key=str(key_path), leaf=cert)


def write(path, text):
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("probe-pki"))


# --------------------------------------------------------------------- Python server

class TlsServer:
    """A TLS server in a thread: handshake, then answer one Kafka ApiVersions frame (or echo)."""

    def __init__(self, cert, key, client_ca=None, versions=("TLSv1.2", "TLSv1.3"), legacy=False, echo=False):
        self.echo = echo
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if legacy:
                self.ctx.set_ciphers("ALL:@SECLEVEL=0")
            self.ctx.minimum_version = getattr(ssl.TLSVersion, versions[0].replace("v1.", "v1_"))
            self.ctx.maximum_version = getattr(ssl.TLSVersion, versions[-1].replace("v1.", "v1_"))
        self.ctx.load_cert_chain(cert, key)
        if client_ca:
            self.ctx.load_verify_locations(cafile=client_ca)
            self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.handshakes = []  # (version, client certificate subject or None)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        conn.settimeout(5)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                peer = tls.getpeercert()
                self.handshakes.append((tls.version(), peer.get("subject") if peer else None))
                data = tls.recv(4096)
                if len(data) >= 12 and not self.echo:
                    correlation = struct.unpack(">i", data[8:12])[0]
                    tls.sendall(struct.pack(">iih", 6, correlation, 0))  # ApiVersions v0: no error, no APIs
                elif data:
                    tls.sendall(data)
        except (ssl.SSLError, OSError):
            pass

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.listener.close()


@pytest.fixture
def server_factory():
    servers = []

    def start(**kwargs):
        server = TlsServer(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def request(server, certs, **kwargs):
    params = dict(host="127.0.0.1", port=server.port, server_name="localhost", ca_path=certs.ca_path, timeout=5)
    params.update(kwargs)
    return ProbeRequest(**params)


def eventually(condition, seconds=3.0):
    """The server thread records a handshake a moment after the client has seen it complete."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def checks(result):
    return {c.check: c for c in result.checks}


# --------------------------------------------------------------------- handshake

def test_handshake_ok_reports_the_certificate(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"])
    result = probe(request(server, certs, min_days_left=10, refused_protocols=("TLSv1", "TLSv1.1"),
                           expected_fingerprint_sha256=pki.certificate_fingerprint(certs.server["leaf"]).lower()))
    out = result.as_dict()
    assert out["ok"], out["summary"]
    assert out["protocol"] == "TLSv1.3" and out["cipher"].startswith("TLS_")
    assert out["subject"] == "CN=localhost"
    assert out["issuer"] == "CN=Probe Test CA"
    assert out["dns_names"] == ["localhost"] and out["ip_addresses"] == ["127.0.0.1"]
    assert out["fingerprint_sha256"] == pki.certificate_fingerprint(certs.server["leaf"])
    assert out["chain_length"] == 2
    assert out["chain_subjects"] == ["CN=localhost", "CN=Probe Test CA"]
    assert 18 <= out["days_left"] <= 20
    assert out["refused_protocols"] == {"TLSv1": True, "TLSv1.1": True}
    assert [c["check"] for c in out["checks"]] == [
        "handshake", "certificate_chain", "hostname", "expiry", "fingerprint", "refuses_TLSv1", "refuses_TLSv1.1"]
    assert "Kafka answered ApiVersions" in checks(result)["handshake"].detail
    assert out["failed_checks"] == []


def test_ip_address_as_server_name_is_checked_against_ip_sans(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"])
    result = probe(request(server, certs, server_name=None))
    assert result.ok, result.message
    assert checks(result)["hostname"].detail == "127.0.0.1 is covered by IP:127.0.0.1"


def test_wrong_hostname_is_detected_and_the_certificate_still_reported(certs, server_factory):
    server = server_factory(cert=certs.wrong_name["cert"], key=certs.wrong_name["key"])
    result = probe(request(server, certs))
    out = result.as_dict()
    assert not out["ok"]
    by_name = checks(result)
    assert not by_name["handshake"].ok and "Hostname mismatch" in by_name["handshake"].detail
    assert not by_name["hostname"].ok
    assert by_name["hostname"].detail == "localhost is not among the certificate's SANs (DNS: kafka-9.example.test; IP: -)"
    assert by_name["certificate_chain"].ok  # the chain is fine, only the name is wrong
    assert out["subject"] == "CN=kafka-9.example.test"
    assert set(out["failed_checks"]) == {"handshake", "hostname"}
    assert "127.0.0.1:%d (server name localhost): failed checks handshake" % server.port in out["summary"]


def test_certificate_from_another_ca_fails_the_chain(certs, server_factory):
    server = server_factory(cert=certs.stranger_server["cert"], key=certs.stranger_server["key"])
    result = probe(request(server, certs))
    by_name = checks(result)
    assert not by_name["certificate_chain"].ok
    # The server sends its own CA along, which our CA file does not hold.
    assert "self-signed certificate in certificate chain" in by_name["certificate_chain"].detail
    assert by_name["hostname"].ok
    assert result.as_dict()["issuer"] == "CN=Some Other CA"


def test_expiring_certificate_is_flagged(certs, server_factory):
    server = server_factory(cert=certs.expiring["cert"], key=certs.expiring["key"])
    result = probe(request(server, certs, min_days_left=30))
    by_name = checks(result)
    assert by_name["handshake"].ok
    assert not by_name["expiry"].ok and "at least 30 wanted" in by_name["expiry"].detail
    assert result.as_dict()["failed_checks"] == ["expiry"]
    assert probe(request(server, certs, min_days_left=3)).ok


def test_listener_that_is_not_kafka_fails_the_kafka_exchange(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], echo=True)
    handshake = checks(probe(request(server, certs)))["handshake"]
    assert not handshake.ok
    assert "not a Kafka ApiVersions response (not a Kafka listener? use payload none)" in handshake.detail
    assert probe(request(server, certs, payload="none", timeout=1)).ok  # nothing sent: TLS alone is checked


def test_fingerprint_mismatch_is_flagged(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"])
    result = probe(request(server, certs, expected_fingerprint_sha256="00" * 32))
    assert result.as_dict()["failed_checks"] == ["fingerprint"]


def test_expected_certificate_file_is_compared_with_the_served_one(certs, server_factory, tmp_path):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"])
    params = dict(host="127.0.0.1", port=server.port, ca_path=certs.ca_path, server_name="localhost", timeout=5)
    served = ProbeRequest.from_params(dict(params, expected_certificate_path=str(certs.server["cert"])))
    assert probe(served).ok
    other = ProbeRequest.from_params(dict(params, expected_certificate_path=certs.ca_path))
    assert probe(other).as_dict()["failed_checks"] == ["fingerprint"]
    with pytest.raises(ProbeError, match="expected_certificate_path .*missing.pem"):
        ProbeRequest.from_params(dict(params, expected_certificate_path=str(tmp_path / "missing.pem")))


# --------------------------------------------------------------------- client auth

@pytest.mark.parametrize("versions, refused_when", [
    (("TLSv1.2", "TLSv1.2"), "in the handshake"),
    (("TLSv1.3", "TLSv1.3"), "on the first read after the handshake"),
])
def test_client_auth_required_is_detected_in_tls12_and_tls13(certs, server_factory, versions, refused_when):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], client_ca=certs.ca_path, versions=versions)
    result = probe(request(server, certs, client_cert_path=certs.client["cert"], client_key_path=certs.client["key"],
                           expect_client_auth_required=True))
    out = result.as_dict()
    assert out["ok"], out["summary"]
    assert out["protocol"] == versions[0]
    assert out["client_auth_required"] is True
    detail = checks(result)["client_auth_required"].detail
    assert "%s refused %s" % (versions[0], refused_when) in detail
    other = "TLSv1.2" if versions[0] == "TLSv1.3" else "TLSv1.3"
    assert "not tested: %s (not offered by the server)" % other in detail
    # The server saw our certificate on the verified connection, and no anonymous client got through.
    assert eventually(lambda: ((("commonName", "probe-client"),),) in [s for _v, s in server.handshakes])


def test_server_that_does_not_require_client_auth_is_flagged(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"])
    result = probe(request(server, certs, expect_client_auth_required=True))
    out = result.as_dict()
    assert out["failed_checks"] == ["client_auth_required"]
    assert out["client_auth_required"] is False
    detail = checks(result)["client_auth_required"].detail
    assert "TLSv1.3 accepted a client without certificate" in detail
    assert "TLSv1.2 accepted a client without certificate" in detail


def test_client_certificate_from_another_ca_is_refused_after_a_tls13_handshake(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], client_ca=certs.ca_path,
                            versions=("TLSv1.3", "TLSv1.3"))
    result = probe(request(server, certs, client_cert_path=certs.stranger_client["cert"],
                           client_key_path=certs.stranger_client["key"]))
    handshake = checks(result)["handshake"]
    assert not handshake.ok
    assert handshake.detail.startswith("TLSv1.3 ") and "ALERT" in handshake.detail.upper()


def test_an_accepted_tls13_client_does_not_wait_for_a_refusal_alert(certs, server_factory, monkeypatch):
    # The careful exchange waits up to TLS13_ALERT_WAIT for a refusal before it writes; a Kafka probe
    # that is answered at once does not. With a 3 s wait, the probe's main session must stay far below it.
    monkeypatch.setattr(probe_module, "TLS13_ALERT_WAIT", 3.0)
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], client_ca=certs.ca_path,
                            versions=("TLSv1.3", "TLSv1.3"))
    started = time.monotonic()
    result = probe(request(server, certs, client_cert_path=certs.client["cert"], client_key_path=certs.client["key"]))
    elapsed = time.monotonic() - started
    assert result.ok, result.message()
    assert "Kafka answered ApiVersions" in checks(result)["handshake"].detail
    assert elapsed < 2.0, elapsed


def test_a_refused_tls13_client_is_asked_again_to_name_the_reason(certs, server_factory, monkeypatch):
    asked = []
    real = probe_module.open_session

    def counting(request, ctx, payload=None, eager=False):
        asked.append(eager)
        return real(request, ctx, payload, eager)

    monkeypatch.setattr(probe_module, "open_session", counting)
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], client_ca=certs.ca_path,
                            versions=("TLSv1.3", "TLSv1.3"))
    result = probe(request(server, certs, client_cert_path=certs.stranger_client["cert"],
                           client_key_path=certs.stranger_client["key"]))
    assert asked[:2] == [True, False], asked
    assert "ALERT" in checks(result)["handshake"].detail.upper()


def test_missing_client_certificate_is_hinted(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], client_ca=certs.ca_path)
    result = probe(request(server, certs))
    assert "give client_cert_path" in checks(result)["handshake"].detail


# --------------------------------------------------------------------- old protocols

def test_server_that_allows_tls11_is_flagged(certs, server_factory):
    assert can_offer("TLSv1.1") is None  # the client side can speak it: a refusal would be the server's
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"], versions=("TLSv1.1", "TLSv1.3"),
                            legacy=True)
    result = probe(request(server, certs, refused_protocols=("TLSv1", "TLSv1.1")))
    out = result.as_dict()
    assert out["failed_checks"] == ["refuses_TLSv1.1"]
    assert out["refused_protocols"] == {"TLSv1": True, "TLSv1.1": False}
    assert "the server accepted TLSv1.1" in checks(result)["refuses_TLSv1.1"].detail
    assert "refused" in checks(result)["refuses_TLSv1"].detail
    assert eventually(lambda: ("TLSv1.1", None) in server.handshakes)


# --------------------------------------------------------------------- openssl s_server

class SServer:
    """`openssl s_server` on a free port of 127.0.0.1, until close()."""

    def __init__(self, *args):
        probe_socket = socket.create_server(("127.0.0.1", 0))
        self.port = probe_socket.getsockname()[1]
        probe_socket.close()
        self.proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:%d" % self.port, "-naccept", "20", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError("openssl s_server exited: %s" % self.proc.stdout.read())
                time.sleep(0.05)
        raise AssertionError("openssl s_server did not listen on port %d" % self.port)

    def close(self):
        self.proc.kill()
        self.proc.wait(5)


@pytest.fixture
def s_server():
    started = []

    def start(*args):
        server = SServer(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize("version_flag, version", [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")])
def test_openssl_s_server_requiring_client_certificates(certs, s_server, version_flag, version):
    server = s_server("-cert", certs.server["cert"], "-key", certs.server["key"], "-CAfile", certs.ca_path,
                      "-Verify", "2", version_flag, "-quiet")
    result = probe(request(server, certs, payload="none", timeout=1.5, client_cert_path=certs.client["cert"],
                           client_key_path=certs.client["key"], expect_client_auth_required=True,
                           refused_protocols=("TLSv1", "TLSv1.1")))
    out = result.as_dict()
    assert out["ok"], out["summary"]
    assert out["protocol"] == version
    assert out["client_auth_required"] is True
    assert out["refused_protocols"] == {"TLSv1": True, "TLSv1.1": True}
    assert out["subject"] == "CN=localhost"


def test_openssl_s_server_with_tls1_and_a_stranger_certificate(certs, s_server):
    server = s_server("-cert", certs.stranger_server["cert"], "-key", certs.stranger_server["key"],
                      "-cipher", "ALL:@SECLEVEL=0", "-quiet")
    result = probe(request(server, certs, payload="none", timeout=1.5, refused_protocols=("TLSv1", "TLSv1.1")))
    out = result.as_dict()
    assert set(out["failed_checks"]) == {"handshake", "certificate_chain", "refuses_TLSv1", "refuses_TLSv1.1"}
    assert out["issuer"] == "CN=Some Other CA"
    assert out["refused_protocols"] == {"TLSv1": False, "TLSv1.1": False}


# --------------------------------------------------------------------- no server, bad input

def test_closed_port_is_a_failed_connect_check(certs):
    unused = socket.create_server(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    unused.close()
    result = probe(ProbeRequest(host="127.0.0.1", port=port, ca_path=certs.ca_path, timeout=2,
                                expect_client_auth_required=True))
    assert [c.check for c in result.checks] == ["connect"]
    assert "TCP connect failed" in result.message


def test_several_ports_in_one_call_pass_only_together(certs, server_factory):
    """A node's TLS listeners in one call (the roll's tls gate): a closed one fails the whole and is named."""
    served = [server_factory(cert=certs.server["cert"], key=certs.server["key"]) for _ in range(2)]
    unused = socket.create_server(("127.0.0.1", 0))
    closed = unused.getsockname()[1]
    unused.close()
    both = probe_module.probe_ports(request(served[0], certs), [served[0].port, served[1].port])
    assert both["ok"] and [entry["port"] for entry in both["ports"]] == [served[0].port, served[1].port]
    assert all(entry["ok"] for entry in both["ports"]) and both["failed_checks"] == [], both["summary"]
    one_down = probe_module.probe_ports(request(served[0], certs), [served[0].port, closed])
    assert not one_down["ok"] and one_down["port"] == closed and one_down["failed_checks"] == ["connect"]
    assert "127.0.0.1:%d " % closed in one_down["summary"] and "failed check connect" in one_down["summary"]
    assert "127.0.0.1:%d " % served[0].port not in one_down["summary"]
    with pytest.raises(probe_module.ProbeError):
        probe_module.probe_ports(request(served[0], certs), [])


def test_non_tls_listener_is_reported(certs):
    plain = socket.create_server(("127.0.0.1", 0))
    port = plain.getsockname()[1]

    def answer():
        for _attempt in range(2):  # the verified handshake, then the attempt to read the certificate anyway
            conn, _addr = plain.accept()
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        result = probe(ProbeRequest(host="127.0.0.1", port=port, ca_path=certs.ca_path, timeout=2,
                                    expect_client_auth_required=True, refused_protocols=("TLSv1",)))
    finally:
        thread.join(3)
        plain.close()
    handshake = checks(result)["handshake"]
    assert not handshake.ok and "WRONG_VERSION_NUMBER" in handshake.detail.upper()
    # A listener that speaks no TLS "refuses" everything; those checks would prove nothing.
    assert [c.check for c in result.checks] == ["handshake", "certificate"]
    assert "not run, as no TLS handshake completed: client_auth_required, refuses_TLSv1" in handshake.detail
    assert result.as_dict()["client_auth_required"] is None


@pytest.mark.parametrize("kwargs, message", [
    (dict(port=0), "not a TCP port"),
    (dict(refused_protocols=("SSLv3",)), "unknown version"),
    (dict(client_cert_path="/nonexistent.crt"), "go together"),
    (dict(payload="http"), "payload must be"),
    (dict(ca_path="/nonexistent/ca.pem"), "does not exist"),
])
def test_bad_input_raises_naming_the_option(certs, kwargs, message):
    params = dict(host="127.0.0.1", port=1, ca_path=certs.ca_path)
    params.update(kwargs)
    with pytest.raises(ProbeError, match=message):
        probe(ProbeRequest(**params))


def test_name_matching_follows_rfc6125():
    assert name_matches("kafka-1.lab.test", ["*.lab.test"], []) == "DNS:*.lab.test"
    assert name_matches("a.b.lab.test", ["*.lab.test"], []) is None
    assert name_matches("KAFKA-1.lab.test.", ["kafka-1.lab.test"], []) == "DNS:kafka-1.lab.test"
    assert name_matches("::1", [], ["0:0::1"]) == "IP:0:0::1"
    assert name_matches("127.0.0.1", ["127.0.0.1"], []) is None  # an IP needs an IP SAN


def test_kafka_request_frame():
    frame = kafka_api_versions_request()
    assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
    assert struct.unpack(">hh", frame[4:8]) == (18, 0)


def test_probe_module_utils_stays_free_of_ansible():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "kafka", "probe.py"), encoding="utf-8") as src:
        source = src.read()
    assert "from ansible." not in source and "import ansible" not in source


def test_served_certificate_is_the_leaf_the_server_presents(certs, server_factory):
    server = server_factory(cert=certs.server["cert"], key=certs.server["key"])
    assert served_certificate("127.0.0.1", server.port, timeout=5) == pki.load_certificate_der(str(certs.server["cert"]))
    unused = socket.create_server(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    unused.close()
    assert served_certificate("127.0.0.1", port, timeout=2) is None
