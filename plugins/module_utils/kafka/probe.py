# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Outside-in TLS probes of one listener, with Python's ssl module.

Plain, typed Python with no Ansible imports, so it is unit-tested directly
against real TLS servers. A probe changes nothing on the server: it opens a few
TLS connections, sends at most one Kafka ApiVersions request on each, and reads
the answer.

Connections a probe makes (each bounded by `timeout`):

1. the verified connection: CERT_REQUIRED against `ca_path`, host name
   verification of `server_name`, the client certificate when one is given,
   then a small write and read. The write/read matters: in TLS 1.3 the server
   checks the client certificate after the client has finished the handshake,
   so a refused client only learns it from the alert on its first read.
2. when (1) fails: an unverified connection to read the certificate anyway (so
   the report shows what the server presents), and a chain-only verification
   without the host name check (so chain and host name are reported apart).
3. `expect_client_auth_required`: TLSv1.3 and TLSv1.2 connections without a
   client certificate, each of which must be refused, during the handshake
   (TLS 1.2) or on the first read after it (TLS 1.3).
4. `refused_protocols`: one handshake limited to each listed version, which must
   fail. The client side is opened up for these (`@SECLEVEL=0`, minimum version
   lowered) so that a refusal comes from the server, and before each attempt the
   probe checks in memory that the local OpenSSL can offer that version at all.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import struct
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.names import covering_san
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    PkiError,
    certificate_fingerprint,
    load_certificates,
    iso,
    names_of,
    utcnow,
)

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - pki.cryptography_problem() reports it
    pass

TLS_VERSIONS: Dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
PAYLOADS = ("kafka", "none")
# Client-auth refusal is checked in these versions, where the server accepts them.
CLIENT_AUTH_VERSIONS = ("TLSv1.3", "TLSv1.2")
# With payload none: after the handshake, how long to wait for an alert (or data) at most.
READ_WAIT = 3.0
# In TLS 1.3, how long to wait for a refusal alert before writing anything.
TLS13_ALERT_WAIT = 0.5
# OpenSSL reasons that say "this protocol version is not spoken here".
VERSION_REASONS = ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE",
                   "WRONG_VERSION_NUMBER", "VERSION_TOO_LOW", "VERSION_TOO_HIGH")
KAFKA_API_VERSIONS_KEY = 18
KAFKA_CORRELATION_ID = 0x6B736563  # "ksec"
KAFKA_CLIENT_ID = b"kafkasec-tls-probe"
KAFKA_ANSWERED = "Kafka answered ApiVersions"


class ProbeError(Exception):
    """Bad input (option, file); the message names it. Probe failures are results, not errors."""


# ------------------------------------------------------------------------ request

def expected_fingerprint_from_file(path: Optional[str]) -> Optional[str]:
    """SHA-256 fingerprint of the first certificate in a PEM file (the leaf of a chain), or None without a path."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ProbeError("expected_certificate_path %s cannot be read: %s" % (path, exc.strerror or exc)) from None
    return certificate_fingerprint(load_certificates(data, "expected_certificate_path %s" % path)[0])


@dataclass(frozen=True)
class ProbeRequest:
    host: str
    port: int
    ca_path: str
    server_name: Optional[str] = None
    client_cert_path: Optional[str] = None
    client_key_path: Optional[str] = None
    client_key_passphrase: Optional[str] = None
    timeout: float = 10.0
    payload: str = "kafka"
    expect_client_auth_required: bool = False
    refused_protocols: Tuple[str, ...] = ()
    min_days_left: Optional[int] = None
    expected_fingerprint_sha256: Optional[str] = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ProbeRequest":
        return cls(
            host=params["host"],
            port=int(params["port"]),
            ca_path=params["ca_path"],
            server_name=params.get("server_name") or None,
            client_cert_path=params.get("client_cert_path") or None,
            client_key_path=params.get("client_key_path") or None,
            client_key_passphrase=params.get("client_key_passphrase") or None,
            timeout=float(params.get("timeout") or 10.0),
            payload=params.get("payload") or "kafka",
            expect_client_auth_required=bool(params.get("expect_client_auth_required")),
            refused_protocols=tuple(params.get("refused_protocols") or ()),
            min_days_left=params.get("min_days_left"),
            expected_fingerprint_sha256=(params.get("expected_fingerprint_sha256")
                                         or expected_fingerprint_from_file(params.get("expected_certificate_path"))),
        )

    @property
    def name(self) -> str:
        """What the certificate must be valid for: server_name, else host."""
        return self.server_name or self.host

    @property
    def where(self) -> str:
        address = "[%s]" % self.host if ":" in self.host else self.host
        where = "%s:%d" % (address, self.port)
        if self.server_name and self.server_name != self.host:
            where += " (server name %s)" % self.server_name
        return where

    def validate(self) -> None:
        if not self.host:
            raise ProbeError("host is empty")
        if not 0 < self.port < 65536:
            raise ProbeError("port %d is not a TCP port (1-65535)" % self.port)
        if self.timeout <= 0:
            raise ProbeError("timeout must be positive, got %s" % self.timeout)
        if self.payload not in PAYLOADS:
            raise ProbeError("payload must be one of %s, got %r" % (", ".join(PAYLOADS), self.payload))
        unknown = [v for v in self.refused_protocols if v not in TLS_VERSIONS]
        if unknown:
            raise ProbeError("refused_protocols: unknown version(s) %s: use %s" % (
                ", ".join(unknown), ", ".join(TLS_VERSIONS)))
        if bool(self.client_cert_path) != bool(self.client_key_path):
            raise ProbeError("client_cert_path and client_key_path go together: give both or neither")
        if self.min_days_left is not None and self.min_days_left < 0:
            raise ProbeError("min_days_left must not be negative, got %d" % self.min_days_left)


# ------------------------------------------------------------------------ contexts

def _context(request: ProbeRequest, verify: bool, check_hostname: bool, client_cert: bool,
             version: Optional[str] = None, legacy: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        try:
            ctx.load_verify_locations(cafile=request.ca_path)
        except FileNotFoundError:
            raise ProbeError("ca_path %s does not exist" % request.ca_path) from None
        except (ssl.SSLError, OSError) as exc:
            raise ProbeError("ca_path %s holds no usable PEM CA certificate (%s)" % (request.ca_path, exc)) from None
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client_cert and request.client_cert_path:
        try:
            ctx.load_cert_chain(request.client_cert_path, request.client_key_path,
                                password=request.client_key_passphrase or None)
        except FileNotFoundError as exc:
            raise ProbeError("client certificate or key %s does not exist" % (exc.filename or request.client_cert_path)) from None
        except (ssl.SSLError, OSError) as exc:
            raise ProbeError("client_cert_path %s / client_key_path %s cannot be loaded (%s): a wrong key, "
                             "passphrase or file" % (request.client_cert_path, request.client_key_path, exc)) from None
    with warnings.catch_warnings():
        # TLSv1 and TLSv1.1 are deprecated names in Python 3.10+; probing for them is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        if legacy:
            # Open the client up so that a refusal of an old version is the server's, not ours.
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        if version is not None:
            ctx.minimum_version = TLS_VERSIONS[version]
            ctx.maximum_version = TLS_VERSIONS[version]
    return ctx


def can_offer(version: str) -> Optional[str]:
    """None when the local OpenSSL sends a ClientHello limited to `version`, else why not.

    Done in memory (no network): a failure here is ours, not the server's.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = TLS_VERSIONS[version]
            ctx.maximum_version = TLS_VERSIONS[version]
    except (ssl.SSLError, ValueError) as exc:
        return str(exc)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_side=False)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        return None if outgoing.pending > 0 else "no ClientHello was written"
    except ssl.SSLError as exc:
        return _reason(exc)
    return "the handshake completed without a server"  # pragma: no cover - cannot happen


# ------------------------------------------------------------------------ sessions

@dataclass
class Session:
    """What one connection attempt saw."""

    connected: bool = False
    handshake: bool = False
    error: str = ""
    # connect | verify | version | alert | reset | closed | timeout | answered | silent
    outcome: str = ""
    verify_code: Optional[int] = None
    protocol: Optional[str] = None
    cipher: Optional[str] = None
    peer_der: Optional[bytes] = None
    chain_der: Optional[List[bytes]] = None

    @property
    def refused(self) -> bool:
        """The server turned the client away (during the handshake, or on the first read after it)."""
        return self.connected and self.outcome in ("verify", "version", "alert", "reset", "closed")

    @property
    def accepted(self) -> bool:
        return self.handshake and self.outcome in ("answered", "silent")


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    return str(exc) or type(exc).__name__


def _is_version_error(exc: BaseException) -> bool:
    return any(r in _reason(exc).upper() for r in VERSION_REASONS)


def kafka_api_versions_request() -> bytes:
    """A Kafka ApiVersions v0 request frame: every broker answers it, before any authentication."""
    body = struct.pack(">hhih", KAFKA_API_VERSIONS_KEY, 0, KAFKA_CORRELATION_ID, len(KAFKA_CLIENT_ID)) + KAFKA_CLIENT_ID
    return struct.pack(">i", len(body)) + body


def _unverified_chain(tls: ssl.SSLSocket) -> Optional[List[bytes]]:
    """DER certificates the server sent (leaf first): public API on 3.13+, the C object's before."""
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
    if getter is None:
        return None
    try:
        chain = getter() or []
    except (ssl.SSLError, ValueError, AttributeError):
        return None
    # 3.13+ gives DER bytes; 3.10-3.12 give _ssl.Certificate objects whose default export is PEM.
    return [c if isinstance(c, bytes) else ssl.PEM_cert_to_DER_cert(c.public_bytes()) for c in chain]


def _read_after_handshake(tls: ssl.SSLSocket, session: Session, payload: str, wait: float, eager: bool = False) -> None:
    """Write the payload (if any) and read once; record what the server did.

    `eager` (Kafka payload only): write at once, without first waiting for a TLS 1.3 refusal alert.
    An accepted client gets Kafka's answer without the wait; a refused one sees a reset or an alert
    that may have lost its reason, and the caller asks again the careful way (probe's main session).
    """
    try:
        if tls.version() == "TLSv1.3" and not (eager and payload == "kafka"):
            # The server checks a TLS 1.3 client's certificate after the client's Finished and answers a
            # refusal with an alert. Wait for it before writing: a write that crosses it makes the server's
            # kernel reset the connection, and the alert (with its reason) can be lost.
            tls.settimeout(min(wait, TLS13_ALERT_WAIT))
            try:
                data = tls.recv(4096)
            except socket.timeout:
                data = None
            if data is not None:
                _record_answer(session, payload, data, before_write=True)
                return
        tls.settimeout(wait)
        if payload == "kafka":
            tls.sendall(kafka_api_versions_request())
        data = tls.recv(4096)
    except socket.timeout:
        session.outcome = "silent"
        session.error = "no answer within %gs; the connection stayed open" % wait
        return
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
        session.outcome = "closed"
        session.error = "the server closed the connection after the handshake"
        return
    except ssl.SSLError as exc:
        session.outcome = "alert"
        session.error = _reason(exc)
        return
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
        session.outcome = "reset"
        session.error = "connection reset after the handshake (%s)" % (exc.strerror or type(exc).__name__)
        return
    except OSError as exc:
        session.outcome = "reset"
        session.error = "connection failed after the handshake (%s)" % (exc.strerror or exc)
        return
    _record_answer(session, payload, data, before_write=False)


def _record_answer(session: Session, payload: str, data: bytes, before_write: bool) -> None:
    if not data:
        session.outcome = "closed"
        session.error = "the server closed the connection after the handshake"
    elif before_write:
        session.outcome = "answered"
        session.error = "the server sent %d bytes before any request" % len(data)
    elif payload == "kafka":
        session.outcome = "answered"
        if len(data) >= 8 and struct.unpack(">i", data[4:8])[0] == KAFKA_CORRELATION_ID:
            session.error = KAFKA_ANSWERED
        else:
            session.error = "answered with %d bytes, not a Kafka ApiVersions response" % len(data)
    else:
        session.outcome = "answered"
        session.error = "answered with %d bytes" % len(data)


def open_session(request: ProbeRequest, ctx: ssl.SSLContext, payload: Optional[str] = None,
                 eager: bool = False) -> Session:
    """One connection: TCP connect, handshake, then (payload not None) one write/read (`eager`: see
    _read_after_handshake)."""
    session = Session()
    try:
        raw = socket.create_connection((request.host, request.port), timeout=request.timeout)
    except socket.timeout:
        session.outcome, session.error = "connect", "TCP connect timed out after %gs" % request.timeout
        return session
    except OSError as exc:
        session.outcome, session.error = "connect", "TCP connect failed: %s" % (exc.strerror or exc)
        return session
    session.connected = True
    try:
        # The name is the SNI (not sent for an IP address) and, when checked, what the certificate must cover.
        tls = ctx.wrap_socket(raw, server_hostname=request.name, do_handshake_on_connect=False)
    except (ssl.SSLError, ValueError) as exc:
        raw.close()
        raise ProbeError("cannot set up TLS for %s: %s" % (request.where, exc)) from None
    try:
        try:
            tls.do_handshake()
        except ssl.SSLCertVerificationError as exc:
            session.outcome, session.verify_code = "verify", exc.verify_code
            session.error = "certificate verification failed: %s" % (exc.verify_message or _reason(exc))
            return session
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            session.outcome, session.error = "closed", "the server closed the connection during the handshake"
            return session
        except ssl.SSLError as exc:
            session.outcome = "version" if _is_version_error(exc) else "alert"
            session.error = "handshake failed: %s" % _reason(exc)
            return session
        except socket.timeout:
            session.outcome, session.error = "timeout", "handshake timed out after %gs" % request.timeout
            return session
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            session.outcome, session.error = "reset", "the server reset the connection during the handshake"
            return session
        except OSError as exc:
            session.outcome, session.error = "reset", "handshake failed: %s" % (exc.strerror or exc)
            return session
        session.handshake = True
        session.protocol = tls.version()
        cipher = tls.cipher()
        session.cipher = cipher[0] if cipher else None
        session.peer_der = tls.getpeercert(binary_form=True)
        session.chain_der = _unverified_chain(tls)
        if payload is not None:
            # A Kafka listener answers ApiVersions, so waiting long costs only on a broken one;
            # with nothing sent, silence is the normal outcome, so that wait is short.
            _read_after_handshake(tls, session, payload, request.timeout if payload == "kafka" else min(request.timeout, READ_WAIT),
                                  eager)
        else:
            session.outcome = "silent"
    finally:
        try:
            tls.close()
        except OSError:  # pragma: no cover - closing a broken socket
            pass
    return session


# ------------------------------------------------------------------------ names

def name_matches(name: str, dns_names: Sequence[str], ip_addresses: Sequence[str]) -> Optional[str]:
    """The SAN that covers `name` (RFC 6125: SANs only, one left-most wildcard label), or None."""
    return covering_san(name, dns_names, ip_addresses)


def normalise_fingerprint(value: str) -> str:
    hexdigits = "".join(c for c in value if c not in ": ").upper()
    return ":".join(hexdigits[i:i + 2] for i in range(0, len(hexdigits), 2))


# ------------------------------------------------------------------------ result

@dataclass
class Check:
    check: str
    ok: bool
    detail: str

    def as_dict(self) -> Dict[str, Any]:
        return dict(check=self.check, ok=self.ok, detail=self.detail)


@dataclass
class ProbeResult:
    request: ProbeRequest
    checks: List[Check] = field(default_factory=list)
    facts: Dict[str, Any] = field(default_factory=dict)

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(check, ok, detail))

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> List[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def message(self) -> str:
        if self.ok:
            return "%s: all %d checks passed" % (self.request.where, len(self.checks))
        return "%s: failed check%s %s" % (
            self.request.where, "" if len(self.failed) == 1 else "s",
            "; ".join("%s (%s)" % (c.check, c.detail) for c in self.failed))

    def as_dict(self) -> Dict[str, Any]:
        result: Dict[str, Any] = dict(
            ok=self.ok,
            host=self.request.host,
            port=self.request.port,
            server_name=self.request.name,
            protocol=None, cipher=None, subject=None, issuer=None, dns_names=[], ip_addresses=[],
            not_before=None, not_after=None, days_left=None, fingerprint_sha256=None, serial=None,
            chain_length=None, chain_subjects=[], client_auth_required=None, refused_protocols={},
        )
        result.update(self.facts)
        result["checks"] = [c.as_dict() for c in self.checks]
        result["failed_checks"] = [c.check for c in self.failed]
        result["summary"] = self.message
        return result


def certificate_facts(peer_der: bytes, chain_der: Optional[List[bytes]],
                      now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """Subject, SANs, issuer, validity, fingerprint and chain of the certificate the server sent."""
    now = now or utcnow()
    try:
        cert = x509.load_der_x509_certificate(peer_der)
    except ValueError as exc:
        raise PkiError("the server's certificate cannot be parsed: %s" % exc) from None
    names = names_of(cert)
    not_after = cert.not_valid_after_utc
    subjects: List[str] = []
    for der in chain_der or []:
        try:
            subjects.append(x509.load_der_x509_certificate(der).subject.rfc4514_string())
        except ValueError:
            subjects.append("(unparsable certificate)")
    return dict(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        dns_names=list(names.dns_names),
        ip_addresses=list(names.ip_addresses),
        not_before=iso(cert.not_valid_before_utc),
        not_after=iso(not_after),
        days_left=(not_after - now).days,
        fingerprint_sha256=certificate_fingerprint(cert),
        serial=cert.serial_number,
        chain_length=len(chain_der) if chain_der is not None else None,
        chain_subjects=subjects,
    )


def served_certificate(host: str, port: int, timeout: float = 10.0, client_cert_path: Optional[str] = None,
                       client_key_path: Optional[str] = None) -> Optional[bytes]:
    """The DER certificate the TLS server at host:port presents, unverified (the caller compares it with
    what it expects); None when no handshake completes."""
    request = ProbeRequest(host=host, port=port, ca_path="", client_cert_path=client_cert_path,
                           client_key_path=client_key_path, timeout=timeout)
    session = open_session(request, _context(request, verify=False, check_hostname=False, client_cert=True))
    return session.peer_der if session.handshake else None


# ------------------------------------------------------------------------ probe

def probe(request: ProbeRequest, now: Optional[datetime.datetime] = None) -> ProbeResult:
    """Run every requested check against the listener; failures are in the result, not raised."""
    request.validate()
    result = ProbeResult(request)
    main_ctx = _context(request, verify=True, check_hostname=True, client_cert=True)
    # A health gate probes a listener that accepts it: ask Kafka at once, which saves a TLS 1.3
    # handshake the alert wait (TLS13_ALERT_WAIT) of each probe. Any other outcome is asked again
    # the careful way, so a refusal is reported with the server's own reason.
    main = open_session(request, main_ctx, payload=request.payload, eager=True)
    if main.handshake and request.payload == "kafka" and main.error != KAFKA_ANSWERED:
        main = open_session(request, main_ctx, payload=request.payload)
    if not main.connected:
        result.add("connect", False, main.error)
        return result

    facts_session = main if main.handshake else None
    chain_ok: Optional[bool] = True if main.handshake else None
    chain_detail = "verifies against %s" % request.ca_path
    if not main.handshake:
        # Show what the server presents even though it does not verify, and tell chain from name.
        facts_session = open_session(request, _context(request, verify=False, check_hostname=False, client_cert=True))
        if not facts_session.handshake:
            facts_session = None
        if main.outcome == "verify":
            chain_only = open_session(request, _context(request, verify=True, check_hostname=False, client_cert=True))
            chain_ok = chain_only.outcome != "verify"
            if not chain_ok:
                chain_detail = "does not verify against %s: %s" % (request.ca_path, chain_only.error)

    handshake_detail = main.error
    if main.handshake:
        handshake_detail = "%s %s; %s" % (main.protocol, main.cipher, main.error)
    main_ok = main.accepted
    if main.accepted and request.payload == "kafka" and main.error != KAFKA_ANSWERED:
        main_ok = False
        handshake_detail += " (not a Kafka listener? use payload none)"
    if main.handshake and not main.accepted and not request.client_cert_path:
        handshake_detail += " (the server may require a client certificate: give client_cert_path)"
    result.add("handshake", main_ok, handshake_detail)

    if facts_session is not None and facts_session.peer_der:
        facts = certificate_facts(facts_session.peer_der, facts_session.chain_der, now)
        facts["protocol"], facts["cipher"] = facts_session.protocol, facts_session.cipher
        result.facts.update(facts)
        if chain_ok is not None:
            result.add("certificate_chain", chain_ok, chain_detail)
        matched = name_matches(request.name, facts["dns_names"], facts["ip_addresses"])
        if matched:
            result.add("hostname", True, "%s is covered by %s" % (request.name, matched))
        else:
            result.add("hostname", False, "%s is not among the certificate's SANs (DNS: %s; IP: %s)" % (
                request.name, ", ".join(facts["dns_names"]) or "-", ", ".join(facts["ip_addresses"]) or "-"))
        days_left = facts["days_left"]
        if request.min_days_left is not None:
            result.add("expiry", days_left >= request.min_days_left, "%d days left (not after %s), at least %d wanted" % (
                days_left, facts["not_after"], request.min_days_left))
        else:
            result.add("expiry", days_left >= 0, "%d days left (not after %s)" % (days_left, facts["not_after"]))
        if request.expected_fingerprint_sha256:
            wanted = normalise_fingerprint(request.expected_fingerprint_sha256)
            result.add("fingerprint", wanted == facts["fingerprint_sha256"], "served %s, expected %s" % (
                facts["fingerprint_sha256"], wanted))
    else:
        result.add("certificate", False, "the server's certificate could not be read: %s" % main.error)

    # A listener that completes no TLS handshake at all (plaintext, not TLS, closes at once) would
    # "refuse" every client and every version: those checks would prove nothing, so they are not run.
    tls_spoken = main.handshake or facts_session is not None or main.outcome in ("alert", "verify")
    if not tls_spoken:
        skipped = (["client_auth_required"] if request.expect_client_auth_required else []) + [
            "refuses_%s" % v for v in request.refused_protocols]
        if skipped:
            result.checks[0].detail += "; not run, as no TLS handshake completed: %s" % ", ".join(skipped)
        return result
    if request.expect_client_auth_required:
        _check_client_auth(request, result, main)
    for version in request.refused_protocols:
        _check_refused(request, result, version)
    return result


def probe_ports(request: ProbeRequest, ports: Sequence[int], now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """``request``'s checks on each of ``ports`` of its host (a node's TLS listeners, one call for a
    health gate): ``ok`` when every port passed, ``ports`` each port's result, ``summary`` the ports
    that failed (else every port's), ``failed_checks`` their checks; the other fields are the first
    failing port's, else the first port's."""
    if not ports:
        raise ProbeError("ports is empty")
    results = [probe(replace(request, port=int(port)), now) for port in ports]
    failing = [result for result in results if not result.ok]
    combined = (failing or results)[0].as_dict()
    combined.update(ok=not failing, ports=[result.as_dict() for result in results],
                    summary="; ".join(result.message for result in (failing or results)),
                    failed_checks=list(dict.fromkeys(c.check for result in failing for c in result.failed)))
    return combined


def _check_client_auth(request: ProbeRequest, result: ProbeResult, main: Session) -> None:
    """Without a client certificate, every version the server speaks must turn the client away."""
    tested: List[str] = []
    accepted: List[str] = []
    skipped: List[str] = []
    for version in CLIENT_AUTH_VERSIONS:
        problem = can_offer(version)
        if problem:
            skipped.append("%s (local OpenSSL cannot offer it: %s)" % (version, problem))
            continue
        ctx = _context(request, verify=False, check_hostname=False, client_cert=False, version=version)
        session = open_session(request, ctx, payload=request.payload)
        if not session.connected:
            skipped.append("%s (%s)" % (version, session.error))
        elif session.outcome == "version" and not session.handshake:
            skipped.append("%s (not offered by the server)" % version)
        elif session.refused:
            when = "on the first read after the handshake" if session.handshake else "in the handshake"
            tested.append("%s refused %s: %s" % (version, when, session.error))
        else:
            accepted.append("%s accepted a client without certificate: %s" % (version, session.error or session.outcome))
    ok = bool(tested) and not accepted
    result.facts["client_auth_required"] = ok if (tested or accepted) else None
    detail = "; ".join(accepted + tested + ["not tested: %s" % s for s in skipped])
    if not tested and not accepted:
        detail = "could not be tested: %s" % detail
    result.add("client_auth_required", ok, detail)


def _check_refused(request: ProbeRequest, result: ProbeResult, version: str) -> None:
    """A handshake limited to `version` must fail, and the failure must be the server's."""
    refused_map = result.facts.setdefault("refused_protocols", {})
    problem = can_offer(version)
    if problem:
        refused_map[version] = None
        result.add("refuses_%s" % version, False, "could not be tested: the local OpenSSL cannot offer %s (%s)" % (
            version, problem))
        return
    # The client certificate goes along, so a server that would accept the version is not
    # mistaken for one that refuses it because the certificate was missing.
    ctx = _context(request, verify=False, check_hostname=False, client_cert=True, version=version, legacy=True)
    session = open_session(request, ctx)
    if not session.connected:
        refused_map[version] = None
        result.add("refuses_%s" % version, False, "could not be tested: %s" % session.error)
    elif session.handshake:
        refused_map[version] = False
        result.add("refuses_%s" % version, False, "the server accepted %s (cipher %s)" % (session.protocol, session.cipher))
    else:
        refused_map[version] = True
        result.add("refuses_%s" % version, True, "refused: %s" % session.error)
