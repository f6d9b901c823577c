# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/pki/expiry.py: certificates made here with cryptography (expired, inside the
window, fine, a CA near its end), written as PEM, PKCS12 and JKS stores, read back, judged; listeners
are real TLS servers on loopback probed through kafka.probe, one of them serving another certificate
than its keystore holds (renewed on disk, not loaded). Values are compared with openssl's reading."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.probe import ProbeRequest, probe
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import expiry, stores

from pki_helpers import cert_pem, key_pem, make_ca, make_leaf, new_key, now, run_one, write
from test_probe import TlsServer

DAY = datetime.timedelta(days=1)
PASSWORD = "expiry-store-pw"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    base = tmp_path_factory.mktemp("expiry")
    ca = make_ca("Expiry Test CA")
    near_ca = make_ca("Expiry Near CA", not_after=now() + 10 * DAY)
    out = dict(base=base, ca=ca, near_ca=near_ca, keys={}, certs={})
    for label, days in (("fine", 200), ("window", 12), ("expired", -3), ("renewed", 365)):
        key = new_key("ec256")
        start = now() - 400 * DAY if days < 0 else now() - DAY
        cert = make_leaf(ca, key, "kafka-node", ["localhost"], ["127.0.0.1"], not_before=start,
                         not_after=now() + days * DAY + datetime.timedelta(hours=1))
        out["keys"][label], out["certs"][label] = key, cert
        write(base / ("%s.crt" % label), cert_pem(cert, ca.cert), 0o644)
        write(base / ("%s.key" % label), key_pem(key))
    write(base / "ca.crt", ca.pem, 0o644)
    write(base / "near-ca.crt", near_ca.pem, 0o644)
    return out


def rows_of(spec, host="kafka-1"):
    return expiry.read_file_rows(spec, host)


def judged(rows, warn=30, ca_warn=None):
    return expiry.judge(rows, expiry.Thresholds(warn, warn if ca_warn is None else ca_warn))


# ------------------------------------------------------------------------ files, by kind and format

@pytest.mark.parametrize("label, warn, status, days", [
    ("fine", 30, "ok", 200),
    ("window", 30, "warn", 12),
    ("window", 10, "ok", 12),
    ("expired", 30, "expired", -3),
    ("expired", 0, "expired", -3),
])
def test_certificate_file_is_judged_against_the_threshold(pki, label, warn, status, days):
    rows = judged(rows_of(expiry.FileSpec(path=str(pki["base"] / ("%s.crt" % label)), what="certificate")), warn)
    assert len(rows) == 1  # the leaf of a leaf+chain file
    row = rows[0]
    assert (row["status"], row["days_left"], row["source"]) == (status, days, "file")
    cert = pki["certs"][label]
    assert row["serial"] == expiry.serial_hex(cert.serial_number)
    assert row["subject"] == "CN=kafka-node" and row["issuer"] == pki["ca"].cert.subject.rfc4514_string()
    assert row["sans"] == ["DNS:localhost", "IP:127.0.0.1"]
    assert row["not_after"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_serial_and_dates_match_openssl(pki):
    path = pki["base"] / "window.crt"
    row = rows_of(expiry.FileSpec(path=str(path)))[0]
    out = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-serial", "-enddate"], check=True,
                         capture_output=True, text=True).stdout
    assert "serial=%s" % row["serial"] in out
    end = datetime.datetime.strptime(out.split("notAfter=")[1].strip(), "%b %d %H:%M:%S %Y %Z")
    assert end.strftime("%Y-%m-%dT%H:%M:%SZ") == row["not_after"]


@pytest.mark.parametrize("store_type", ["pkcs12", "pem", "jks"])
def test_keystore_leaf_and_truststore_entries_in_every_format(pki, tmp_path, store_type):
    password = None if store_type == "pem" else PASSWORD
    chain = [pki["certs"]["window"], pki["ca"].cert]
    keystore = tmp_path / ("keystore.%s" % store_type)
    keystore.write_bytes(stores.build_keystore(store_type, pki["keys"]["window"], chain, "kafka", password, str(keystore)))
    truststore = tmp_path / ("truststore.%s" % store_type)
    named = stores.truststore_aliases([pki["ca"].cert, pki["near_ca"].cert], "kafkasec-ca")
    truststore.write_bytes(stores.build_truststore(store_type, named, password, str(truststore)))
    password_file = tmp_path / "store.password"
    password_file.write_text((password or "") + "\n")
    ks = rows_of(expiry.FileSpec(path=str(keystore), kind="keystore", type=store_type,
                                 password_file=str(password_file) if password else None))
    assert [r["serial"] for r in ks] == [expiry.serial_hex(pki["certs"]["window"].serial_number)]
    ca_pems = {}
    ts = expiry.read_file_rows(expiry.FileSpec(path=str(truststore), kind="truststore", type=store_type,
                                               password=password), "kafka-1", ca_pems=ca_pems)
    assert sorted(r["subject"] for r in ts) == ["CN=Expiry Near CA,O=kafkasec tests", "CN=Expiry Test CA,O=kafkasec tests"]
    assert all(r["is_ca"] for r in ts) and len(ca_pems) == 2
    # CA certificates have their own threshold: the near CA (10 days) warns at 30 for CAs, not at 5.
    statuses = {r["subject"]: r["status"] for r in judged(ts, warn=5, ca_warn=30)}
    assert statuses == {"CN=Expiry Near CA,O=kafkasec tests": "warn", "CN=Expiry Test CA,O=kafkasec tests": "ok"}
    assert {r["status"] for r in judged(ts, warn=30, ca_warn=5)} == {"ok"}


@pytest.mark.parametrize("spec_kwargs, expected", [
    (dict(path="missing.crt"), "file is missing"),
    (dict(path="garbage.crt"), "holds no PEM certificate"),
    (dict(path="store.p12", kind="keystore", type="pkcs12", password="wrong-password"), "password does not open it"),
    (dict(path="store.p12", kind="keystore", type="pkcs12"), "no password and no password_file"),
    (dict(path="store.p12", kind="keystore", type="pkcs12", password_file="none.password"), "is missing or empty"),
])
def test_unreadable_files_are_error_rows_naming_the_file(pki, tmp_path, spec_kwargs, expected):
    (tmp_path / "garbage.crt").write_text("not a certificate\n")
    (tmp_path / "store.p12").write_bytes(stores.build_keystore(
        "pkcs12", pki["keys"]["fine"], [pki["certs"]["fine"]], "kafka", PASSWORD, "store.p12"))
    kwargs = dict(spec_kwargs)
    kwargs["path"] = str(tmp_path / kwargs["path"])
    if "password_file" in kwargs:
        kwargs["password_file"] = str(tmp_path / kwargs["password_file"])
    rows = judged(rows_of(expiry.FileSpec(**kwargs)))
    assert [r["status"] for r in rows] == ["error"]
    assert expected in rows[0]["detail"] and (kwargs["path"] in rows[0]["detail"] or rows[0]["path"] == kwargs["path"])


def test_optional_missing_file_gives_no_row(tmp_path):
    assert rows_of(expiry.FileSpec(path=str(tmp_path / "ca-chain.crt"), kind="ca", required=False)) == []


@pytest.mark.parametrize("params, message", [
    (dict(path="x", kind="key"), "kind 'key' is not one of"),
    (dict(path="x", type="p12"), "type 'p12' is not one of"),
    (dict(path="x", kind="certificate", type="pkcs12"), "type pkcs12 is for kind keystore or truststore"),
    (dict(path=""), "an entry has no path"),
])
def test_bad_file_options_are_refused(params, message):
    with pytest.raises(expiry.ExpiryError, match=message):
        expiry.FileSpec.from_params(params)


def test_client_bundles_are_found_by_name(pki, tmp_path):
    for name, label in (("orders-app", "fine"), ("billing", "expired")):
        (tmp_path / name).mkdir()
        (tmp_path / name / ("%s.crt" % name)).write_text(cert_pem(pki["certs"][label]))
        (tmp_path / name / "ca.crt").write_text(pki["ca"].pem)
    (tmp_path / "stray").mkdir()
    specs = expiry.bundle_specs(str(tmp_path))
    assert [s.what for s in specs] == ["client bundle billing", "client bundle orders-app"]
    rows = judged([r for s in specs for r in rows_of(s, "localhost")])
    assert {r["what"]: r["status"] for r in rows} == {"client bundle billing": "expired", "client bundle orders-app": "ok"}
    assert expiry.bundle_specs(str(tmp_path / "nowhere")) == []


def test_keystore_that_does_not_hold_the_certificate_file_is_a_mismatch(pki, tmp_path):
    keystore = tmp_path / "keystore.p12"
    keystore.write_bytes(stores.build_keystore("pkcs12", pki["keys"]["fine"], [pki["certs"]["fine"]], "kafka",
                                               PASSWORD, str(keystore)))
    rows = rows_of(expiry.FileSpec(path=str(pki["base"] / "renewed.crt"), what="certificate"))
    rows += rows_of(expiry.FileSpec(path=str(keystore), kind="keystore", type="pkcs12", password=PASSWORD))
    status = {r["kind"]: r["status"] for r in judged(rows)}
    assert status == {"certificate": "ok", "keystore": "mismatch"}


# ------------------------------------------------------------------------ listeners

@pytest.fixture
def servers(pki):
    started = []

    def start(label):
        # test_probe's server, requiring a client certificate from the CA (as the Kafka listeners do)
        server = TlsServer(str(pki["base"] / ("%s.crt" % label)), str(pki["base"] / ("%s.key" % label)),
                           client_ca=str(pki["base"] / "ca.crt"), echo=True)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def real_probe(params):
    return probe(ProbeRequest.from_params(params)).as_dict()


def keystore_rows(pki, tmp_path, label, host):
    keystore = tmp_path / ("%s-keystore.p12" % host)
    keystore.write_bytes(stores.build_keystore("pkcs12", pki["keys"][label], [pki["certs"][label], pki["ca"].cert],
                                               "kafka", PASSWORD, str(keystore)))
    return str(keystore), rows_of(expiry.FileSpec(path=str(keystore), kind="keystore", type="pkcs12",
                                                   password=PASSWORD), host)


@pytest.mark.parametrize("served, on_disk, status, detail", [
    ("fine", "fine", "ok", ""),                       # what the JVM serves is its keystore
    ("window", "window", "warn", "12 days left, fewer than 30"),
    ("expired", "expired", "expired", "expired on"),  # read unverified: it does not verify any more
    ("expired", "renewed", "expired", "the file was renewed and the JVM has not loaded it"),
    ("fine", "renewed", "mismatch", "serves serial"),
])
def test_listener_is_compared_with_the_keystore_it_reads(pki, tmp_path, servers, served, on_disk, status, detail):
    server = servers(served)
    keystore, rows = keystore_rows(pki, tmp_path, on_disk, "kafka-1")
    endpoints = [expiry.EndpointSpec(host="kafka-1", port=server.port, what="SSL listener", server_name="localhost",
                                     connect="127.0.0.1", payload="none", keystore_path=keystore)]
    # No client certificate: the server's certificate is read in TLS 1.3 before the server refuses us.
    rows += expiry.probe_rows(endpoints, [pki["ca"].pem], real_probe, timeout=5)
    listener = next(r for r in judged(rows) if r["source"] == "listener")
    assert listener["status"] == status, listener
    assert detail in listener["detail"]
    assert listener["serial"] == expiry.serial_hex(pki["certs"][served].serial_number)
    assert listener["endpoint"] == "localhost:%d" % server.port and listener["sans"] == ["DNS:localhost", "IP:127.0.0.1"]
    assert listener["verified"] is (served != "expired")
    if served == "expired":  # the chain check names the CA certificates, not the probe's temporary file
        assert "does not verify against the CA certificates" in listener["detail"], listener["detail"]


def test_listener_that_cannot_be_reached_is_an_error_row(pki):
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    rows = expiry.probe_rows([expiry.EndpointSpec(host="kafka-2", port=port, what="controller listener",
                                                  connect="127.0.0.1")], [pki["ca"].pem], real_probe, timeout=2)
    row = judged(rows)[0]
    assert (row["status"], row["host"], row["endpoint"]) == ("error", "kafka-2", "kafka-2:%d" % port)
    assert "TCP connect failed" in row["detail"]


def test_without_a_ca_certificate_the_listener_is_still_read(pki, servers):
    server = servers("window")
    rows = judged(expiry.probe_rows([expiry.EndpointSpec(host="kafka-1", port=server.port, what="SSL listener",
                                                         server_name="localhost", connect="127.0.0.1", payload="none")],
                                    [], real_probe, timeout=5))
    assert (rows[0]["status"], rows[0]["days_left"], rows[0]["verified"]) == ("warn", 12, None)
    assert rows[0]["detail"].startswith("chain not checked: no CA certificate was read")


# ------------------------------------------------------------------------ judging, table

def test_judging_again_gives_the_same_rows(pki):
    rows = rows_of(expiry.FileSpec(path=str(pki["base"] / "window.crt"), what="certificate"))
    once = judged(rows)
    assert judged(once) == once  # the control node judges rows the hosts judged already


def test_table_and_summary_name_every_row_and_the_alerts(pki):
    rows = []
    for label in ("fine", "window", "expired"):
        rows += rows_of(expiry.FileSpec(path=str(pki["base"] / ("%s.crt" % label)), what="certificate"),
                        "kafka-%s" % label)
    rows = judged(rows)
    lines = expiry.table(rows)
    assert lines[0].split() == ["host", "source", "what", "where", "subject", "serial", "not", "after", "days", "status"]
    assert len(lines) == 1 + 3 + 2  # header, rows, one line per alert
    assert any(line.startswith("EXPIRED kafka-expired certificate") for line in lines)
    assert [r["host"] for r in expiry.alerts(rows)] == ["kafka-expired", "kafka-window"]
    text = expiry.summary(rows, expiry.Thresholds(30, 30))
    assert text.startswith("3 certificates (1 expired, 1 warn, 1 ok)") and "soonest: kafka-expired" in text
    json.dumps(rows)  # the JSON report


@pytest.mark.parametrize("warn, ca_warn", [(-1, 0), (0, -5)])
def test_negative_thresholds_are_refused(warn, ca_warn):
    with pytest.raises(expiry.ExpiryError, match="must not be negative"):
        expiry.judge([], expiry.Thresholds(warn, ca_warn))


# ------------------------------------------------------------------------ the module

def test_module_reads_files_in_check_mode_and_hides_the_store_password(pki, tmp_path):
    keystore, _rows = keystore_rows(pki, tmp_path, "window", "kafka-1")
    before = sorted(os.listdir(tmp_path))
    result = run_one("kafkasec.tls.cert_expiry", dict(
        host="kafka-1", warn_days=30,
        files=[dict(path=str(pki["base"] / "window.crt")),
               dict(path=keystore, kind="keystore", type="pkcs12", password=PASSWORD),
               dict(path=str(pki["base"] / "ca.crt"), kind="ca", what="ca")]), check=True)
    assert result.get("changed") is False and not result.get("failed"), result
    assert [(r["what"], r["status"]) for r in result["rows"]] == [("ca", "ok"), ("certificate", "warn"), ("keystore", "warn")]
    assert len(result["ca_pems"]) == 1 and result["summary"].startswith("3 certificates")
    assert PASSWORD not in json.dumps(result.get("invocation", {}))
    assert sorted(os.listdir(tmp_path)) == before


def test_a_host_that_could_not_be_read_is_an_error_row_and_an_alert():
    rows = expiry.judge(expiry.unread_host_rows(['kafka-3', 'zk-1']), expiry.Thresholds(30, 30))
    assert [(r['host'], r['source'], r['status']) for r in rows] == [('kafka-3', 'file', 'error'),
                                                                      ('zk-1', 'file', 'error')]
    assert all('could not be read' in r['detail'] for r in rows)
    assert len(expiry.alerts(rows)) == 2
    assert expiry.unread_host_rows([]) == []
