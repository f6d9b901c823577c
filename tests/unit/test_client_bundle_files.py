# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/client_bundle.py, table by table, checked against the readers of its output:

* Kafka's own sasl.jaas.config parser (JaasConfig from kafka-clients, through a real java.util.Properties
  load of the file: tests/unit/java/JaasDump.java) for the JAAS entry of a SASL client;
* kcat's -F reader (its rules, mirrored by parse_librdkafka_text) for librdkafka's file;
* ``openssl ciphers -stdname`` for the IANA -> OpenSSL cipher names;
* roles/broker/defaults/main.yml for the broker defaults the clients match.
"""

from __future__ import annotations

import ssl
import subprocess

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import merge_bytes
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import client_bundle as cb

from ansible_runner import REPO_ROOT
from test_filters import PASSWORDS, kafka_clients_jar, kafka_jaas_properties  # noqa: F401  (fixture)

HOST = "ops-host"


def _tls_inputs(**over):
    base = dict(host=HOST, name="orders-app", bootstrap_servers=["kafka-1:9093", "kafka-2:9093"],
                ca_path="/b/orders-app/ca.crt", cert_path="/b/orders-app/orders-app.crt",
                key_path="/b/orders-app/orders-app.key", keystore_path="/b/orders-app/keystore.p12",
                keystore_password="ks-pw", truststore_path="/b/orders-app/truststore.p12", truststore_password="ts-pw",
                enabled_protocols=["TLSv1.3", "TLSv1.2"], protocol="TLSv1.3", cipher_suites=[])
    base.update(over)
    return base


def _sasl_inputs(password='al"i\\ce; =pw', mechanism="SCRAM-SHA-512", **over):
    base = _tls_inputs(name="billing", bootstrap_servers=["kafka-1:9096"], ca_path="/b/billing/ca.crt",
                       truststore_path="/b/billing/truststore.p12",
                       sasl=dict(mechanism=mechanism, username="billing", password=password))
    base.update(over)
    return base


# ------------------------------------------------------------------------------------------- JAAS

def test_jaas_entry_read_back_by_kafka(tmp_path, kafka_clients_jar):  # noqa: F811
    """Every awkward password, in client.properties as the properties module writes it, parsed by Kafka."""
    values = {}
    for index, password in enumerate(p for p in PASSWORDS if p):
        for mechanism in ("SCRAM-SHA-512", "PLAIN"):
            values["k%d.%s" % (index, mechanism)] = cb.sasl_jaas_config(mechanism, "user-%d" % index, password)
    parsed = kafka_jaas_properties(tmp_path, kafka_clients_jar, values)
    for key, line in values.items():
        index = int(key.split(".")[0][1:])
        password = [p for p in PASSWORDS if p][index]
        entries = parsed[key]
        assert isinstance(entries, list) and len(entries) == 1, (key, line, entries)
        assert entries[0]["options"] == {"username": "user-%d" % index, "password": password}, (key, line)
        assert entries[0]["module"] == cb.LOGIN_MODULES[key.split(".", 1)[1]]
        assert entries[0]["flag"].lower().endswith("required")


@pytest.mark.parametrize("value,quoted", [
    ('p"w', '"p\\"w"'),
    ("back\\slash", '"back\\\\slash"'),
    ("a;b=c d", '"a;b=c d"'),
    ("line\nbreak\r\t", '"line\\nbreak\\r\\t"'),
    ("nul\x00\x7f", '"nul\\000\\177"'),
    ("caf\u00e9 \U0001F600", '"caf\u00e9 \U0001F600"'),
])
def test_jaas_quote_table(value, quoted):
    assert cb.jaas_quote(value) == quoted


def test_jaas_unknown_mechanism():
    with pytest.raises(cb.ClientBundleError, match="GSSAPI"):
        cb.sasl_jaas_config("GSSAPI", "u", "p")


# ------------------------------------------------------------------------------------- librdkafka

@pytest.mark.parametrize("value,problem", [
    ('al"i\\ce; =pw', None),            # quote, backslash, ;, = and a space: carried as they are
    ("caf\u00e9 \u20ac \U0001F600", None),  # non-ASCII: UTF-8 bytes, as librdkafka takes them
    ("a=b=c", None),                     # the key ends at the first =
    ("#not-a-comment", None),            # only a line that starts with # is a comment
    ("x\\y\\\\z", None),                 # other backslashes are literal
    ("line\nbreak", "line break"),
    ("cr\rx", "line break"),
    ("nul\x00", "NUL"),
    (" leading", "whitespace"),
    ("trailing ", "whitespace"),
    ("tab\t", "whitespace"),
    ("esc\\=aped", "\\= or \\:"),
    ("esc\\:aped", "\\= or \\:"),
    ("x" * 500, "bytes"),
])
def test_librdkafka_problems_table(value, problem):
    found = cb.librdkafka_problems("sasl.password", value)
    if problem is None:
        assert found == []
        text = cb.librdkafka_text("header", [("sasl.username", "u"), ("sasl.password", value)])
        assert cb.parse_librdkafka_text(text) == {"sasl.username": "u", "sasl.password": value}
    else:
        assert len(found) == 1 and problem in found[0], found


@pytest.mark.parametrize("text,parsed", [
    ("# c\n\n  a=1  \n", {"a": "1"}),
    ("a\\=b=c\\:d\n", {"a": "b=c:d"}),        # kcat strips \= and \: before it splits at the first =
    ("k=v\\\\=w\n", {"k": "v=w"}),           # and keeps stripping: no way to write \=
    ("k= v\n", {"k": " v"}),                 # the value's leading blank stays (only the line is trimmed)
])
def test_parse_librdkafka_text_mirrors_kcat(text, parsed):
    assert cb.parse_librdkafka_text(text) == parsed


def test_parse_librdkafka_text_refuses_what_kcat_refuses():
    with pytest.raises(cb.ClientBundleError, match="property=value"):
        cb.parse_librdkafka_text("=v\n")
    with pytest.raises(cb.ClientBundleError, match="longer"):
        cb.parse_librdkafka_text("k=" + "v" * 600 + "\n")


# ---------------------------------------------------------------------------------- cipher suites

def _openssl_stdnames():
    out = subprocess.run(["openssl", "ciphers", "-stdname", "ALL:@SECLEVEL=0"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    names = {}
    for line in out.splitlines():
        iana, _dash, rest = line.partition(" - ")
        if rest:
            names[iana.strip()] = rest.split()[0]
    return names


def test_iana_to_openssl_matches_openssl():
    names = _openssl_stdnames()
    for iana, openssl_name in cb.IANA_TO_OPENSSL.items():
        assert names.get(iana) == openssl_name, (iana, openssl_name, names.get(iana))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.set_ciphers(openssl_name + ":@SECLEVEL=0")   # OpenSSL takes the name as one suite
        assert openssl_name in [c["name"] for c in ctx.get_ciphers()]
    for suite in cb.TLS13_SUITES:
        assert suite not in cb.IANA_TO_OPENSSL


@pytest.mark.parametrize("suites,expected", [
    ([], ""),
    (["TLS_AES_256_GCM_SHA384"], ""),
    (cb.BROKER_TLS_DEFAULTS["cipher_suites"],
     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
     "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"),
])
def test_openssl_cipher_list(suites, expected):
    assert cb.openssl_cipher_list(suites) == expected


@pytest.mark.parametrize("suites,protocols,problem", [
    (cb.BROKER_TLS_DEFAULTS["cipher_suites"], ["TLSv1.3", "TLSv1.2"], None),
    ([], ["TLSv1.3", "TLSv1.2"], None),
    (["TLS_RSA_WITH_AES_128_GCM_SHA256"], ["TLSv1.2"], "are not forward-secret"),
    (["ECDHE-RSA-AES128-GCM-SHA256"], ["TLSv1.2"], "IANA names"),
    (["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], ["TLSv1.3", "TLSv1.2"], "TLS 1.3 suites"),
    (["TLS_AES_128_GCM_SHA256"], ["TLSv1.2"], "TLS 1.2 suites"),
    ("TLS_AES_128_GCM_SHA256", ["TLSv1.3"], "must be a list"),
])
def test_cipher_suite_problems(suites, protocols, problem):
    found = cb.cipher_suite_problems(suites, protocols, "kafkasec_x_ssl_cipher_suites")
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0] and "kafkasec_x_ssl_cipher_suites" in found[0], found


# ------------------------------------------------------------------------------------ the brokers

def test_broker_defaults_are_the_broker_roles():
    defaults = yaml.safe_load((REPO_ROOT / "roles" / "broker" / "defaults" / "main.yml").read_text())
    assert defaults["kafkasec_broker_ssl_enabled_protocols"] == cb.BROKER_TLS_DEFAULTS["enabled_protocols"]
    assert defaults["kafkasec_broker_ssl_protocol"] == cb.BROKER_TLS_DEFAULTS["protocol"]
    assert defaults["kafkasec_broker_ssl_cipher_suites"] == cb.BROKER_TLS_DEFAULTS["cipher_suites"]
    assert defaults["kafkasec_broker_sasl_enabled"] == cb.BROKER_TLS_DEFAULTS["sasl_enabled"]
    assert defaults["kafkasec_broker_sasl_port"] == cb.BROKER_TLS_DEFAULTS["sasl_port"]
    assert defaults["kafkasec_broker_sasl_mechanisms"] == cb.BROKER_TLS_DEFAULTS["sasl_mechanisms"]


UNSET = {"kafkasec_broker_ssl_enabled_protocols": None, "kafkasec_broker_ssl_protocol": None,
         "kafkasec_broker_ssl_cipher_suites": None, "kafkasec_broker_sasl_mechanisms": None}


@pytest.mark.parametrize("brokers,expected", [
    ([], dict(enabled_protocols=["TLSv1.3", "TLSv1.2"], protocol="TLSv1.3",
              cipher_suites=cb.BROKER_TLS_DEFAULTS["cipher_suites"], sasl_mechanisms=["SCRAM-SHA-512"])),
    ([dict(UNSET, name="k1")], dict(enabled_protocols=["TLSv1.3", "TLSv1.2"], protocol="TLSv1.3",
                                    cipher_suites=cb.BROKER_TLS_DEFAULTS["cipher_suites"],
                                    sasl_mechanisms=["SCRAM-SHA-512"])),
    ([dict(UNSET, name="k1", kafkasec_broker_ssl_enabled_protocols=["TLSv1.3"], kafkasec_broker_ssl_cipher_suites=[],
           kafkasec_broker_sasl_mechanisms=["PLAIN"]), dict(UNSET, name="k2")],
     dict(enabled_protocols=["TLSv1.3"], protocol="TLSv1.3", cipher_suites=[], sasl_mechanisms=["PLAIN"])),
])
def test_broker_tls(brokers, expected):
    assert cb.broker_tls(brokers) == expected


@pytest.mark.parametrize("brokers,expected", [
    ([{"name": "k1"}], []),
    ([{"name": "k1", "kafkasec_broker_sasl_enabled": True}], ["k1:9096"]),
    ([{"name": "k1", "kafkasec_broker_sasl_enabled": "yes", "kafkasec_broker_sasl_port": 9200,
       "kafkasec_broker_advertised_host": "kafka-1.example"}, {"name": "k2", "kafkasec_broker_sasl_enabled": False}],
     ["kafka-1.example:9200"]),
])
def test_sasl_bootstrap_servers(brokers, expected):
    assert cb.sasl_bootstrap_servers(brokers) == expected


# ------------------------------------------------------------------------------------------ files

def test_tls_bundle_without_suites_is_what_the_role_wrote_before():
    """Behaviour kept: no cipher suites -> client.properties and librdkafka.properties as the templates made them."""
    files = cb.bundle_files(_tls_inputs())
    assert files["problems"] == []
    java = {k: v for k, v in files["java"].items() if v != ""}
    assert java == {
        "bootstrap.servers": "kafka-1:9093,kafka-2:9093", "security.protocol": "SSL",
        "ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/b/orders-app/keystore.p12",
        "ssl.keystore.password": "ks-pw", "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": "/b/orders-app/truststore.p12", "ssl.truststore.password": "ts-pw",
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2", "ssl.protocol": "TLSv1.3",
        "ssl.endpoint.identification.algorithm": "https"}
    # The librdkafka file byte for byte as kafkasec.tls.properties created it from the old template.
    header = "TLS client orders-app (kafkasec.tls.client_bundle; managed by Ansible)"
    old, _ = merge_bytes(b"", {"bootstrap.servers": "kafka-1:9093,kafka-2:9093", "security.protocol": "ssl",
                               "ssl.ca.location": "/b/orders-app/ca.crt",
                               "ssl.certificate.location": "/b/orders-app/orders-app.crt",
                               "ssl.key.location": "/b/orders-app/orders-app.key",
                               "ssl.endpoint.identification.algorithm": "https"}, [], header=header)
    assert files["librdkafka"].encode() == old
    assert files["header"] == header


def test_tls_bundle_with_the_broker_suites():
    files = cb.bundle_files(_tls_inputs(cipher_suites=cb.BROKER_TLS_DEFAULTS["cipher_suites"]))
    assert files["java"]["ssl.cipher.suites"] == ",".join(cb.BROKER_TLS_DEFAULTS["cipher_suites"])
    rd = cb.parse_librdkafka_text(files["librdkafka"])
    assert rd["ssl.cipher.suites"] == cb.openssl_cipher_list(cb.BROKER_TLS_DEFAULTS["cipher_suites"])
    assert files["librdkafka"].endswith("ssl.cipher.suites=%s\n" % rd["ssl.cipher.suites"])   # appended last


@pytest.mark.parametrize("mechanism,module", [
    ("SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule"),
    ("SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule"),
    ("PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule"),
])
def test_sasl_bundle(mechanism, module):
    password = 'al"i\\ce; =pw'
    files = cb.bundle_files(_sasl_inputs(password=password, mechanism=mechanism))
    assert files["problems"] == []
    java = files["java"]
    assert java["security.protocol"] == "SASL_SSL" and java["sasl.mechanism"] == mechanism
    assert java["sasl.jaas.config"] == '%s required username="billing" password="al\\"i\\\\ce; =pw";' % module
    for key in ("ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password"):
        assert java[key] == ""   # removed: no client certificate
    assert java["bootstrap.servers"] == "kafka-1:9096"
    rd = cb.parse_librdkafka_text(files["librdkafka"])
    assert rd == {"bootstrap.servers": "kafka-1:9096", "security.protocol": "sasl_ssl", "sasl.mechanisms": mechanism,
                  "sasl.username": "billing", "sasl.password": password, "ssl.ca.location": "/b/billing/ca.crt",
                  "ssl.endpoint.identification.algorithm": "https"}
    assert files["librdkafka"].startswith("# SASL_SSL client billing ")


def test_sasl_bundle_with_a_certificate():
    files = cb.bundle_files(_sasl_inputs(certificate=True, cert_path="/b/billing/billing.crt",
                                         key_path="/b/billing/billing.key", keystore_path="/b/billing/keystore.p12"))
    assert files["java"]["ssl.keystore.location"] == "/b/billing/keystore.p12"
    rd = cb.parse_librdkafka_text(files["librdkafka"])
    assert rd["ssl.certificate.location"] == "/b/billing/billing.crt" and rd["security.protocol"] == "sasl_ssl"


@pytest.mark.parametrize("over,problem", [
    (dict(sasl=dict(mechanism="SCRAM-SHA-1", username="billing", password="x")), "unknown SASL mechanism"),
    (dict(sasl=dict(mechanism="SCRAM-SHA-512", username="billing", password="")), "non-empty"),
    (dict(sasl=dict(mechanism="SCRAM-SHA-512", username="billing", password="pw\nsecret")),
     "cannot carry the password: it holds a line break"),
    (dict(sasl=dict(mechanism="SCRAM-SHA-512", username="billing", password="pw\\=secret")), "\\= or \\:"),
    (dict(offered_mechanisms=["SCRAM-SHA-256"]), "does not offer SCRAM-SHA-512"),
    (dict(bootstrap_servers=[]), "no SASL_SSL listener"),
    (dict(cipher_suites=["TLS_RSA_WITH_AES_128_CBC_SHA"]), "kafkasec_client_bundle_ssl_cipher_suites"),
    (dict(refused_principals={"User:billing": "super user (kafkasec_super_users)"}), "may not take it"),
    (dict(sasl=dict(mechanism="PLAIN", username="billing", password="x"), plain_users={"carol": "x"}),
     "add billing to kafkasec_broker_sasl_plain_users"),
    (dict(sasl=dict(mechanism="PLAIN", username="billing", password="x"), plain_users={"billing": "y"}),
     "password differs"),
])
def test_sasl_problems_name_host_variable_client_never_the_password(over, problem):
    files = cb.bundle_files(_sasl_inputs(**over))
    assert files["java"] == {} and files["librdkafka"] == ""
    assert len(files["problems"]) == 1, files["problems"]
    message = files["problems"][0]
    assert problem in message, message
    assert "host %s" % HOST in message
    assert "kafkasec_client_bundle_clients (client billing" in message or "kafkasec_client_bundle_ssl_cipher_suites" in message
    for secret in ("pw\nsecret", "pw\\=secret", 'al"i\\ce'):
        assert secret not in message


COMMON = dict(host=HOST, bootstrap_servers=["kafka-1:9093"], sasl_bootstrap_servers=["kafka-1:9096"],
              enabled_protocols=["TLSv1.3", "TLSv1.2"], protocol="TLSv1.3",
              cipher_suites=cb.BROKER_TLS_DEFAULTS["cipher_suites"], offered_mechanisms=["SCRAM-SHA-512", "PLAIN"],
              plain_users={"carol": 'c"a'}, refused_principals={"User:kafka-1": "Kafka node kafka-1"})


@pytest.mark.parametrize("clients,problems", [
    ([{"name": "orders-app"}, {"name": "billing", "sasl_mechanism": "SCRAM-SHA-512"}], []),
    ([{"name": "carol", "sasl_mechanism": "PLAIN", "sasl_password": 'c"a'}], []),
    ([{"name": "b", "sasl_mechanism": "SCRAM-SHA-512", "sasl_password": "p", "certificate": True}], []),
    ([{"name": "b", "sasl_mechanism": "PLAIN"}], ["a PLAIN user needs its password"]),
    ([{"name": "b", "sasl_password": "p"}], ["need sasl_mechanism"]),
    ([{"name": "b", "sasl_mechanism": "SCRAM-SHA-256"}], ["does not offer SCRAM-SHA-256"]),
    ([{"name": "b", "sasl_mechanism": "SCRAM-SHA-512", "password": "p"}], ["unknown keys password"]),
    ([{"name": "b", "sasl_mechanism": "SCRAM-SHA-512", "certificate": "yes"}], ["certificate must be true or false"]),
    ([{"name": "b", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "kafka-1"}], ["Kafka node kafka-1"]),
    ([{"name": "b", "sasl_mechanism": "SCRAM-SHA-512", "sasl_password": " pw"}], ["starts or ends with whitespace"]),
])
def test_clients_problems(clients, problems):
    found = cb.clients_problems(clients, COMMON)
    assert len(found) == len(problems), found
    for message, expected in zip(found, problems):
        assert expected in message and "host %s" % HOST in message, message


def test_clients_problems_cipher_suites_once():
    found = cb.clients_problems([{"name": "a"}, {"name": "b", "sasl_mechanism": "SCRAM-SHA-512"}],
                                dict(COMMON, cipher_suites=["TLS_RSA_WITH_AES_128_CBC_SHA"]))
    assert len(found) == 1 and "kafkasec_client_bundle_ssl_cipher_suites" in found[0], found


# What one client entry gets (client_plan): the one place of the role's SASL/certificate rules.
@pytest.mark.parametrize("client, expected", [
    ({"name": "orders-app"},
     dict(sasl=False, mechanism="", scram=False, certificate=True, sasl_username="", generate_password=False)),
    ({"name": "orders-app", "certificate": False},
     dict(sasl=False, mechanism="", scram=False, certificate=False, sasl_username="", generate_password=False)),
    ({"name": "alice", "sasl_mechanism": "SCRAM-SHA-512"},
     dict(sasl=True, mechanism="SCRAM-SHA-512", scram=True, certificate=False, sasl_username="alice",
          generate_password=True)),
    ({"name": "bob", "sasl_mechanism": "SCRAM-SHA-256", "sasl_username": "bob-svc", "sasl_password": "x"},
     dict(sasl=True, mechanism="SCRAM-SHA-256", scram=True, certificate=False, sasl_username="bob-svc",
          generate_password=False)),
    ({"name": "carol", "sasl_mechanism": "PLAIN", "sasl_password": "p", "certificate": True},
     dict(sasl=True, mechanism="PLAIN", scram=False, certificate=True, sasl_username="carol", generate_password=False)),
    ({"name": "dave", "sasl_mechanism": "PLAIN"},
     dict(sasl=True, mechanism="PLAIN", scram=False, certificate=False, sasl_username="dave", generate_password=True)),
])
def test_client_plan_table(client, expected):
    assert cb.client_plan(client) == expected


def test_a_plain_user_without_its_password_is_refused_not_generated():
    problems = cb.clients_problems([{"name": "dave", "sasl_mechanism": "PLAIN"}], {"host": "h"})
    assert len(problems) == 1 and "dave" in problems[0] and "sasl_password" in problems[0] \
        and "a PLAIN user needs its password" in problems[0], problems


def test_broker_settings_reads_each_brokers_variables_none_where_unset():
    hostvars = {"k1": {"kafkasec_broker_ssl_protocol": "TLSv1.2", "kafkasec_broker_sasl_enabled": True,
                       "unrelated": 1},
                "k2": {}}
    got = cb.broker_settings(["k1", "k2"], hostvars)
    assert [b["name"] for b in got] == ["k1", "k2"]
    assert got[0]["kafkasec_broker_ssl_protocol"] == "TLSv1.2" and got[0]["kafkasec_broker_sasl_enabled"] is True
    assert "unrelated" not in got[0]
    assert set(got[1]) == {"name"} | set(cb.BROKER_VARIABLES) and all(got[1][v] is None for v in cb.BROKER_VARIABLES)
    assert cb.broker_tls(got)["protocol"] == "TLSv1.2"
    assert cb.broker_tls(got[1:]) == cb.broker_tls([])
