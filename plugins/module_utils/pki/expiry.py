# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The expiry report: every certificate of the estate, from the files the collection writes and from
what each listener serves, with the days it has left.

Plain, typed Python with no Ansible imports (the module ``kafkasec.tls.cert_expiry`` is a thin shell
around it). A report is a list of rows, one per certificate seen in one place:

- ``source: file``: a certificate read from a file on a host - a PEM certificate (the leaf of a
  chain file, or every certificate of a CA file), the leaf of a keystore (PKCS12, PEM or JKS, opened
  with its password), or each trusted CA of a truststore;
- ``source: listener``: the certificate a TLS listener serves, read with a handshake from the
  control node (``kafka.probe``, unverified when the chain or the date does not verify, so an
  expired certificate is still reported).

``judge`` gives every row its status against the thresholds - ``expired``, ``warn`` (fewer days
left than the threshold; CA certificates have a threshold of their own), ``mismatch`` (a listener
that serves another certificate than the keystore it reads holds: a renewed file the JVM has not
loaded yet; a keystore that does not hold the host's certificate file), ``error`` (a file that
cannot be read, a listener that cannot be reached) - or ``ok``. Nothing here writes a file; the CA
key is never opened.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError, read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import (
    PkiError,
    certificate_fingerprint,
    cert_pem,
    iso,
    load_certificates,
    names_of,
    utcnow,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.stores import (
    STORE_TYPES,
    _load_pkcs12,
    jks_to_pkcs12,
)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - pki.cryptography_problem() reports it
    pass

# What a file holds, and so which of its certificates become rows.
FILE_KINDS = ("certificate", "keystore", "truststore", "ca")
STATUSES = ("error", "expired", "mismatch", "warn", "ok")  # worst first
ALERT_STATUSES = frozenset(STATUSES) - {"ok"}
PROBE_WORKERS = 8
TABLE_COLUMNS = (("host", "host"), ("source", "source"), ("what", "what"), ("where", "where"),
                 ("subject", "subject"), ("serial", "serial"), ("not after", "not_after"),
                 ("days", "days_left"), ("status", "status"))


class ExpiryError(ValueError):
    """Bad input (an option); the message names it. Unreadable files and listeners are rows, not errors."""


# ------------------------------------------------------------------------- rows

def serial_hex(serial: int) -> str:
    """A serial number as ``openssl x509 -serial`` prints it: upper-case hex, no separators."""
    text = "%X" % serial
    return text if len(text) % 2 == 0 else "0" + text


def is_ca_certificate(cert: "x509.Certificate") -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def days_left(not_after: datetime.datetime, now: datetime.datetime) -> int:
    """Whole days until not_after, rounded down (negative once it has passed), as kafka.probe counts."""
    return (not_after - now).days


def certificate_row(cert: "x509.Certificate", *, host: str, source: str, what: str, now: datetime.datetime,
                    path: Optional[str] = None, endpoint: Optional[str] = None) -> Dict[str, Any]:
    names = names_of(cert)
    return dict(
        host=host, source=source, what=what, path=path, endpoint=endpoint,
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
        serial=serial_hex(cert.serial_number), sans=["DNS:%s" % n for n in names.dns_names] + [
            "IP:%s" % a for a in names.ip_addresses],
        not_before=iso(cert.not_valid_before_utc), not_after=iso(cert.not_valid_after_utc),
        days_left=days_left(cert.not_valid_after_utc, now), fingerprint_sha256=certificate_fingerprint(cert),
        is_ca=is_ca_certificate(cert), status="ok", note="", detail="",
    )


def error_row(*, host: str, source: str, what: str, detail: str, path: Optional[str] = None,
              endpoint: Optional[str] = None) -> Dict[str, Any]:
    return dict(host=host, source=source, what=what, path=path, endpoint=endpoint, subject=None, issuer=None,
                serial=None, sans=[], not_before=None, not_after=None, days_left=None, fingerprint_sha256=None,
                is_ca=False, status="error", note=detail, detail=detail)


def unread_host_rows(hosts: Iterable[str]) -> List[Dict[str, Any]]:
    """An error row for each host whose files could not be read, so no host is a silent gap in the report."""
    return [error_row(host=str(host), source="file", what="files",
                      detail="the host could not be read (unreachable or its read failed)") for host in hosts]


# ------------------------------------------------------------------------ files

@dataclass(frozen=True)
class FileSpec:
    """One file to read on a host. `kind` says which certificates become rows: certificate (the first
    of a PEM file), keystore (its leaf), truststore (every trusted certificate), ca (every certificate
    of a PEM file: a CA and the issuers above it)."""

    path: str
    kind: str = "certificate"
    what: str = ""
    type: str = "pem"
    password: Optional[str] = None
    password_file: Optional[str] = None
    required: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any], option: str = "files") -> "FileSpec":
        spec = cls(path=str(params.get("path") or ""), kind=params.get("kind") or "certificate",
                   what=params.get("what") or "", type=params.get("type") or "pem",
                   password=params.get("password") or None, password_file=params.get("password_file") or None,
                   required=params.get("required", True) is not False)
        spec.validate(option)
        return spec

    def validate(self, option: str = "files") -> None:
        if not self.path:
            raise ExpiryError("%s: an entry has no path" % option)
        if self.kind not in FILE_KINDS:
            raise ExpiryError("%s: %s: kind %r is not one of %s" % (option, self.path, self.kind, ", ".join(FILE_KINDS)))
        if self.type not in STORE_TYPES:
            raise ExpiryError("%s: %s: type %r is not one of %s" % (option, self.path, self.type, ", ".join(STORE_TYPES)))
        if self.type != "pem" and self.kind not in ("keystore", "truststore"):
            raise ExpiryError("%s: %s: type %s is for kind keystore or truststore" % (option, self.path, self.type))

    @property
    def label(self) -> str:
        return self.what or self.kind


def _store_password(spec: FileSpec) -> str:
    if spec.password:
        return spec.password
    if not spec.password_file:
        raise PkiError("%s store %s: no password and no password_file" % (spec.type, spec.path))
    data = read_optional(spec.password_file, "password_file")
    if data is None or not data.decode("utf-8", "replace").strip():
        raise PkiError("%s store %s: password_file %s is missing or empty" % (spec.type, spec.path, spec.password_file))
    return data.decode("utf-8").strip()


def certificates_of(spec: FileSpec, data: bytes) -> List["x509.Certificate"]:
    """The certificates of `data` that become rows, as `spec.kind` says."""
    source = "%s %s" % (spec.kind, spec.path)
    if spec.type == "pem":
        certs = load_certificates(data, source)
        return certs if spec.kind in ("ca", "truststore") else certs[:1]
    password = _store_password(spec)
    if spec.type == "jks":
        data = jks_to_pkcs12(data, password, source)
    parsed = _load_pkcs12(data, password, source)
    if spec.kind == "keystore":
        if parsed.cert is None:
            raise PkiError("%s holds no key entry with a certificate" % source)
        return [parsed.cert.certificate]
    return [c.certificate for c in parsed.additional_certs] + ([parsed.cert.certificate] if parsed.cert else [])


def read_file_rows(spec: FileSpec, host: str, now: Optional[datetime.datetime] = None,
                   ca_pems: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """The rows of one file; a missing optional file gives none, an unreadable one an error row.
    CA certificates seen are added to `ca_pems` (fingerprint -> PEM, public), for the listener probes."""
    now = now or utcnow()
    try:
        data = read_optional(spec.path, "path")
        if data is None:
            if not spec.required:
                return []
            return [dict(error_row(host=host, source="file", what=spec.label, path=spec.path,
                                   detail="file is missing"), kind=spec.kind)]
        certs = certificates_of(spec, data)
    except (PkiError, FileError, OSError) as exc:
        return [dict(error_row(host=host, source="file", what=spec.label, path=spec.path, detail=str(exc)),
                     kind=spec.kind)]
    rows = []
    for cert in certs:
        rows.append(dict(certificate_row(cert, host=host, source="file", what=spec.label, path=spec.path, now=now),
                         kind=spec.kind))
        if ca_pems is not None and is_ca_certificate(cert):
            ca_pems[certificate_fingerprint(cert)] = cert_pem(cert)
    return rows


def bundle_specs(directory: str) -> List[FileSpec]:
    """The client bundles below `directory` as the client_bundle role writes them: <dir>/<name>/<name>.crt."""
    specs = []
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise FileError("bundle_dirs: %s cannot be listed: %s" % (directory, exc.strerror or exc)) from None
    for name in names:
        path = os.path.join(directory, name, "%s.crt" % name)
        if os.path.isfile(path):
            specs.append(FileSpec(path=path, kind="certificate", what="client bundle %s" % name))
    return specs


# -------------------------------------------------------------------- listeners

@dataclass(frozen=True)
class EndpointSpec:
    """One TLS listener to read from here: `connect` (address or name) and `port`, the name it must be
    valid for, the host whose it is, and the keystore it serves (a file row of that host) to compare."""

    host: str
    port: int
    what: str
    connect: str = ""
    server_name: str = ""
    payload: str = "kafka"
    keystore_path: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any], option: str = "endpoints") -> "EndpointSpec":
        try:
            port = int(params.get("port") or 0)
        except (TypeError, ValueError):
            raise ExpiryError("%s: port %r is not a number" % (option, params.get("port"))) from None
        spec = cls(host=str(params.get("host") or ""), port=port, what=params.get("what") or "listener",
                   connect=params.get("connect") or "", server_name=params.get("server_name") or "",
                   payload=params.get("payload") or "kafka", keystore_path=params.get("keystore_path") or "")
        if not spec.host or not 0 < spec.port < 65536:
            raise ExpiryError("%s: each entry needs host and a TCP port, got %r" % (option, dict(params)))
        return spec

    @property
    def name(self) -> str:
        return self.server_name or self.host

    @property
    def endpoint(self) -> str:
        return "%s:%d" % (self.name, self.port)


def listener_row(spec: EndpointSpec, probed: Mapping[str, Any]) -> Dict[str, Any]:
    """The row of one probed listener (``kafka.probe``'s result as a dict): its certificate, or an
    error row saying why there is none."""
    checks = probed.get("checks") or []
    if not probed.get("fingerprint_sha256"):
        failed = "; ".join("%s: %s" % (c["check"], c["detail"]) for c in checks if not c["ok"]) or "no certificate"
        row = error_row(host=spec.host, source="listener", what=spec.what, endpoint=spec.endpoint,
                        detail="no certificate read: %s" % failed)
    else:
        problems = ["%s: %s" % (c["check"], c["detail"]) for c in checks
                    if not c["ok"] and c["check"] in ("certificate_chain", "hostname")]
        row = dict(
            host=spec.host, source="listener", what=spec.what, path=None, endpoint=spec.endpoint,
            subject=probed["subject"], issuer=probed["issuer"], serial=serial_hex(int(probed["serial"])),
            sans=["DNS:%s" % n for n in probed.get("dns_names") or []] + [
                "IP:%s" % a for a in probed.get("ip_addresses") or []],
            not_before=probed["not_before"], not_after=probed["not_after"], days_left=probed["days_left"],
            fingerprint_sha256=probed["fingerprint_sha256"], is_ca=False, status="ok",
            verified=not problems, note="; ".join(problems), detail="; ".join(problems))
    row["kind"] = "listener"
    row["keystore_path"] = spec.keystore_path or None
    return row


def probe_rows(specs: Sequence[EndpointSpec], ca_pems: Sequence[str],
               probe_one: Callable[[Dict[str, Any]], Mapping[str, Any]], client_cert_path: Optional[str] = None,
               client_key_path: Optional[str] = None, timeout: float = 10.0) -> List[Dict[str, Any]]:
    """Probe every listener (a few at once) with `probe_one(tls_probe parameters) -> result dict`
    (``kafka.probe``); the CA certificates go to a temporary file for the chain check, removed afterwards."""
    if not specs:
        return []
    checked = bool(ca_pems)
    if not checked:
        # No CA certificate was read (the CA's row says why): the certificates are still read - a
        # handshake that does not verify is repeated without verification - but no chain is judged.
        ca_pems = [cert_pem(_placeholder_ca())]
    fd, ca_path = tempfile.mkstemp(prefix="kafkasec-expiry-", suffix=".pem")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write("".join(p.strip() + "\n" for p in ca_pems))

        def one(spec: EndpointSpec) -> Dict[str, Any]:
            row = listener_row(spec, probe_one(dict(
                host=spec.connect or spec.name, port=spec.port, server_name=spec.name, ca_path=ca_path,
                client_cert_path=client_cert_path, client_key_path=client_key_path, timeout=timeout,
                payload=spec.payload)))
            # The temporary file's name means nothing to a reader and would change the report on every run.
            for key in ("note", "detail"):
                row[key] = row[key].replace(ca_path, "the CA certificates")
            if not checked and row["status"] != "error":
                row["verified"] = None
                row["note"] = row["detail"] = "chain not checked: no CA certificate was read"
            return row

        with ThreadPoolExecutor(max_workers=min(PROBE_WORKERS, len(specs))) as pool:
            return list(pool.map(one, specs))
    finally:
        os.unlink(ca_path)


def _placeholder_ca() -> "x509.Certificate":
    """A throw-away self-signed certificate for the probe's CA file when no CA was read; its key is dropped."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kafkasec expiry placeholder")])
    moment = utcnow()
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(moment)
            .not_valid_after(moment + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))


# ---------------------------------------------------------------------- judging

@dataclass(frozen=True)
class Thresholds:
    warn_days: int
    ca_warn_days: int

    def validate(self) -> None:
        for name, value in (("warn_days", self.warn_days), ("ca_warn_days", self.ca_warn_days)):
            if value < 0:
                raise ExpiryError("%s must not be negative, got %d" % (name, value))


def _worse(status: str, other: str) -> str:
    return status if STATUSES.index(status) <= STATUSES.index(other) else other


def _add(row: Dict[str, Any], status: str, detail: str) -> None:
    row["status"] = _worse(row["status"], status)
    row["detail"] = "; ".join(d for d in (row.get("detail"), detail) if d)


def judge(rows: Iterable[Mapping[str, Any]], thresholds: Thresholds) -> List[Dict[str, Any]]:
    """Every row with its status and detail, sorted by host, source, what, where."""
    thresholds.validate()
    judged = [dict(row) for row in rows]
    keystores: Dict[Tuple[str, str], Dict[str, Any]] = {}
    certificates: Dict[str, Dict[str, Any]] = {}
    for row in judged:
        row["detail"] = row.get("note") or ""  # what was seen when it was read; judging adds the rest
        if row["source"] == "file" and row.get("fingerprint_sha256"):
            if row.get("kind") == "keystore":
                keystores[(row["host"], row["path"])] = row
            elif row.get("kind") == "certificate" and row.get("what") == "certificate":
                certificates[row["host"]] = row
    for row in judged:
        if row["status"] == "error" or row.get("days_left") is None:
            row["status"] = "error"
            continue
        row["status"] = "ok"
        limit = thresholds.ca_warn_days if row.get("is_ca") else thresholds.warn_days
        if row["days_left"] < 0:
            _add(row, "expired", "expired on %s" % row["not_after"])
        elif row["days_left"] < limit:
            _add(row, "warn", "%d days left, fewer than %d%s" % (
                row["days_left"], limit, " (CA threshold)" if row.get("is_ca") else ""))
        if row["source"] == "listener" and row.get("keystore_path"):
            held = keystores.get((row["host"], row["keystore_path"]))
            if held is not None and held["fingerprint_sha256"] != row["fingerprint_sha256"]:
                _add(row, "mismatch", "serves serial %s but %s holds serial %s (not after %s): the file was "
                     "renewed and the JVM has not loaded it - reload the listener or restart" % (
                         row["serial"], row["keystore_path"], held["serial"], held["not_after"]))
        if row["source"] == "file" and row.get("kind") == "keystore" and row.get("what") == "keystore":
            cert = certificates.get(row["host"])
            if cert is not None and cert["fingerprint_sha256"] != row["fingerprint_sha256"]:
                _add(row, "mismatch", "holds serial %s but %s is serial %s" % (row["serial"], cert["path"], cert["serial"]))
    judged.sort(key=lambda r: (r["host"], r["source"], r["what"], r.get("path") or r.get("endpoint") or "",
                               r.get("serial") or ""))
    return judged


def alerts(rows: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    return [row for row in rows if row["status"] in ALERT_STATUSES]


def table(rows: Sequence[Mapping[str, Any]]) -> List[str]:
    """A fixed-width table, one line per row, then one line per row that is not ok saying why."""
    def cell(row: Mapping[str, Any], key: str) -> str:
        if key == "where":
            return str(row.get("path") or row.get("endpoint") or "-")
        if key == "not_after":
            return (row.get("not_after") or "-")[:10]
        value = row.get(key)
        if key == "status" and value != "ok":
            return str(value).upper()
        return "-" if value is None or value == "" else str(value)

    lines = [[title for title, _key in TABLE_COLUMNS]] + [[cell(r, key) for _t, key in TABLE_COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(TABLE_COLUMNS))]
    out = ["  ".join(text.ljust(widths[i]) for i, text in enumerate(line)).rstrip() for line in lines]
    out += ["%s %s %s %s: %s" % (r["status"].upper(), r["host"], r["what"], r.get("path") or r.get("endpoint"),
                                 r.get("detail") or "") for r in rows if r["status"] != "ok"]
    return out


def summary(rows: Sequence[Mapping[str, Any]], thresholds: Thresholds) -> str:
    counts: Dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    soonest = min((r for r in rows if r.get("days_left") is not None), key=lambda r: r["days_left"], default=None)
    text = "%d certificate%s (%s); thresholds %d days, %d for CAs" % (
        len(rows), "" if len(rows) == 1 else "s",
        ", ".join("%d %s" % (counts[s], s) for s in STATUSES if s in counts) or "none",
        thresholds.warn_days, thresholds.ca_warn_days)
    if soonest is not None:
        text += "; soonest: %s %s %s in %d days" % (soonest["host"], soonest["what"],
                                                    soonest.get("path") or soonest.get("endpoint"), soonest["days_left"])
    return text
