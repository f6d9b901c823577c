# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/kafkasec.py, checked against the parsers that read its output:

* java.util.Properties (PropsDump.java) for the properties escapes;
* the JDK's JAAS file parser (ConfigFile through Configuration.getInstance) and
  Kafka's own sasl.jaas.config parser (org.apache.kafka.common.security.JaasConfig
  from kafka-clients) for JAAS quoting (JaasDump.java);
* openssl and cryptography for subjectAltName lists;
* ansible-playbook itself, to show the filters load under their FQCN.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess

from pathlib import Path

import pytest

from ansible.errors import AnsibleFilterError
from cryptography import x509

from ansible_collections.kafkasec.tls.plugins.filter import kafkasec as F
from ansible_runner import REPO_ROOT, run_module
from test_properties import AWKWARD_KEYS, AWKWARD_VALUES, java_load_text, run_java

KAFKA_CLIENTS_VERSION = "4.3.1"  # used only when no kafka-clients jar is around (lab/lib or ~/.m2)

PASSWORDS = [
    'p"w',
    "back\\slash",
    "\\",
    '"',
    '\\"',
    "semi;colon",
    "equals=sign",
    "with spaces  and\ttab",
    " leading and trailing ",
    "",
    "'single'",
    "/slash // not a comment /* nor this */",
    "{braces}",
    "caf\u00e9 \u20ac \u4e2d \U0001F600",
    "line\nbreak\rreturn",
    "ctl\x00\x01\x1f\x7f",
    "octal-looking \\101 \\0",
    "all: \"\\;= '/{}\u00e9",
    "12345",
    "true",
    "${not.expanded.by.kafka}",
]


@pytest.fixture(scope="module")
def kafka_clients_jar():
    """The real kafka-clients jar: the lab's, Maven's local repository's, or fetched with mvn."""
    patterns = [str(REPO_ROOT / "lab" / "lib" / "kafka-clients-*.jar"),
                os.path.expanduser("~/.m2/repository/org/apache/kafka/kafka-clients/*/kafka-clients-*.jar")]

    def find():
        for pattern in patterns:
            jars = sorted(j for j in glob.glob(pattern) if not j.endswith(("-sources.jar", "-javadoc.jar", "-test.jar")))
            if jars:
                return jars[-1]
        return None

    jar = find()
    if jar is None:
        subprocess.run(["mvn", "-q", "-B", "dependency:get", "-Dtransitive=false",
                        "-Dartifact=org.apache.kafka:kafka-clients:%s" % KAFKA_CLIENTS_VERSION],
                       check=True, timeout=900)
        jar = find()
    assert jar, "kafka-clients jar not found"
    return jar


def jdk_jaas_file(tmp_path: Path, sections: dict) -> dict:
    """Parse {app: entry_line} as a JAAS file with the JDK's ConfigFile; return {app: entries}."""
    path = tmp_path / "jaas.conf"
    path.write_text("".join("%s {\n  %s\n};\n\n" % (app, line) for app, line in sections.items()), encoding="utf-8")
    return json.loads(run_java("JaasDump", ["file", str(path)] + list(sections)))


def kafka_jaas_properties(tmp_path: Path, jar: str, values: dict) -> dict:
    """Write {key: jaas_line} as key=escaped in a properties file; parse each with Kafka's JaasConfig."""
    path = tmp_path / "client.properties"
    path.write_bytes("".join("%s=%s\n" % (F.java_properties_key_escape(k), F.java_properties_escape(v))
                             for k, v in values.items()).encode("latin-1"))
    return json.loads(run_java("JaasDump", ["kafka", str(path)], classpath=[jar]))


# ---------------------------------------------------------------------------
# java_properties_escape / java_properties_key_escape
# ---------------------------------------------------------------------------

def test_properties_filters_read_back_by_java(tmp_path):
    lines = ["%s=%s\n" % (F.java_properties_key_escape(k), F.java_properties_escape(v)) for k, v in AWKWARD_VALUES.items()]
    lines += ["%s=%s\n" % (F.java_properties_key_escape(k), F.java_properties_escape(v)) for k, v in AWKWARD_KEYS.items()]
    # the store-compatible form is read back the same way
    lines += ["store.%s=%s\n" % (F.java_properties_key_escape(k), F.java_properties_escape(v, store_compatible=True))
              for k, v in AWKWARD_VALUES.items()]
    expected = dict(AWKWARD_VALUES)
    expected.update(AWKWARD_KEYS)
    expected.update(("store." + k, v) for k, v in AWKWARD_VALUES.items())
    assert java_load_text(tmp_path, "".join(lines)) == expected


def test_properties_filter_types_and_errors():
    assert F.java_properties_escape(True) == "true"
    assert F.java_properties_escape(9093) == "9093"
    assert F.java_properties_escape(["TLSv1.3", "TLSv1.2"]) == "TLSv1.3,TLSv1.2"
    assert F.java_properties_escape("a:b", store_compatible=True) == "a\\:b"
    with pytest.raises(AnsibleFilterError):
        F.java_properties_escape(None)
    with pytest.raises(AnsibleFilterError):
        F.java_properties_escape({"a": 1})


# ---------------------------------------------------------------------------
# jaas_quote / jaas_config against the real parsers
# ---------------------------------------------------------------------------

def _expected(module, flag, options):
    return [{"module": module, "flag": flag, "options": {k: F._text(v, "test") for k, v in options.items()}}]


def test_jaas_quote_examples():
    assert F.jaas_quote('p"w\\d;x=1') == '"p\\"w\\\\d;x=1"'
    assert F.jaas_quote("a\nb") == '"a\\nb"'
    assert F.jaas_quote("\x01") == '"\\001"'
    assert F.jaas_quote(True) == '"true"'
    assert F.jaas_quote("") == '""'


def test_jaas_passwords_round_trip_through_jdk_jaas_file(tmp_path):
    module = "org.apache.zookeeper.server.auth.DigestLoginModule"
    sections = {}
    expected = {}
    for index, password in enumerate(PASSWORDS):
        if "${" in password:
            continue  # the JDK expands these, see test_jdk_jaas_file_expands_system_properties
        options = {"username": "kafka", "password": password, "user_kafka": password}
        sections["App%d" % index] = F.jaas_config(module, "required", options, jaas_file=True)
        expected["App%d" % index] = _expected(module, "required", options)
    assert jdk_jaas_file(tmp_path, sections) == expected


def test_jaas_passwords_round_trip_through_kafka_sasl_jaas_config(tmp_path, kafka_clients_jar):
    module = "org.apache.kafka.common.security.scram.ScramLoginModule"
    values = {}
    expected = {}
    for index, password in enumerate(PASSWORDS):
        options = {"username": "admin", "password": password}
        key = "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config.%02d" % index
        values[key] = F.jaas_config(module, "required", options)
        expected[key] = _expected(module, "required", options)
    assert kafka_jaas_properties(tmp_path, kafka_clients_jar, values) == expected


def test_jaas_option_names_and_flags(tmp_path, kafka_clients_jar):
    module = "org.example.LoginModule"
    options = {
        "plain_name": "1",
        "dotted.name-with-dash": "2",
        "$dollar": "3",
        "9starts.with.digit": "4",
        "-dash.first": "5",
        "has space": "6",
        "has=equals": "7",
        "quote\"d": "8",
        "ünicode": "9",
        "tokenauth": True,
    }
    lines = {"App%s" % flag: F.jaas_config(module, flag.upper() if flag == "optional" else flag, options)
             for flag in F.JAAS_FLAGS}
    expected = {"App%s" % flag: _expected(module, flag, options) for flag in F.JAAS_FLAGS}
    assert jdk_jaas_file(tmp_path, lines) == expected
    assert kafka_jaas_properties(tmp_path, kafka_clients_jar, lines) == expected
    assert F.jaas_config(module) == "org.example.LoginModule required;"
    assert F.jaas_config(module, "sufficient", {"a": "b"}) == 'org.example.LoginModule sufficient a="b";'
    assert '"9starts.with.digit"="4"' in lines["Apprequired"]


def test_jdk_jaas_file_expands_system_properties(tmp_path):
    """Why jaas_file=true refuses '${': the JDK substitutes system properties after unquoting."""
    line = 'org.example.LoginModule required password="a${java.home}b" literal="c${{x}}d" open="e${f";'
    parsed = jdk_jaas_file(tmp_path, {"App": line})["App"][0]["options"]
    assert parsed["password"] != "a${java.home}b" and parsed["password"].startswith("a/")
    assert parsed["literal"] == "c${{x}}d"
    assert parsed["open"] == "e${f"
    with pytest.raises(AnsibleFilterError, match=r"\$\{"):
        F.jaas_quote("a${java.home}b", jaas_file=True)
    with pytest.raises(AnsibleFilterError):
        F.jaas_config("org.example.LoginModule", "required", {"password": "${x}"}, jaas_file=True)
    # Kafka's sasl.jaas.config parser does not expand (tested in the round trip above)
    assert F.jaas_quote("${x}") == '"${x}"'


def test_jaas_config_errors():
    with pytest.raises(AnsibleFilterError, match="flag"):
        F.jaas_config("org.example.M", "mandatory", {})
    with pytest.raises(AnsibleFilterError, match="class name"):
        F.jaas_config("not a class", "required", {})
    with pytest.raises(AnsibleFilterError, match="no value"):
        F.jaas_config("org.example.M", "required", {"password": None})
    with pytest.raises(AnsibleFilterError, match="mapping"):
        F.jaas_config("org.example.M", "required", ["password"])
    with pytest.raises(AnsibleFilterError, match="empty"):
        F.jaas_config("org.example.M", "required", {"": "x"})


# ---------------------------------------------------------------------------
# san_list
# ---------------------------------------------------------------------------

def test_san_list_types_entries():
    assert F.san_list(["kafka-1.lab.test", "127.0.1.1", "localhost", "::1"]) == \
        "DNS:kafka-1.lab.test,IP:127.0.1.1,DNS:localhost,IP:::1"
    assert F.san_list(["2001:DB8:0:0::1", "[fe80::1]", "IP:10.0.0.1", "dns:Kafka.Example.COM", "*.lab.test"]) == \
        "IP:2001:db8::1,IP:fe80::1,IP:10.0.0.1,DNS:Kafka.Example.COM,DNS:*.lab.test"
    assert F.san_list("a.test, 10.1.2.3 ,a.test") == "DNS:a.test,IP:10.1.2.3"
    assert F.san_list(["A.test", "a.test.", "a.test", "10.0.0.1", "IP:10.0.0.1"], as_list=True) == \
        ["DNS:A.test", "IP:10.0.0.1"]
    assert F.san_list([]) == ""


@pytest.mark.parametrize("bad", ["kafka-1:9093", "https://x", "two words", "", "IP:kafka", "a..b", "-x.test", "10.0.0.0/8"])
def test_san_list_rejects(bad):
    with pytest.raises(AnsibleFilterError):
        F.san_list([bad])


def test_san_list_is_accepted_by_openssl(tmp_path):
    names = ["kafka-1.lab.test", "kafka-1", "127.0.1.1", "::1", "*.brokers.lab.test", "2001:db8::5"]
    san = F.san_list(names)
    cert = tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(cert), "-subj", "/CN=kafka-1.lab.test",
                    "-days", "1", "-addext", "subjectAltName=" + san],
                   check=True, capture_output=True, timeout=120)
    ext = x509.load_pem_x509_certificate(cert.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert ext.get_values_for_type(x509.DNSName) == ["kafka-1.lab.test", "kafka-1", "*.brokers.lab.test"]
    assert [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)] == ["127.0.1.1", "::1", "2001:db8::5"]


# ---------------------------------------------------------------------------
# Through Ansible itself
# ---------------------------------------------------------------------------

def test_filters_load_in_ansible_by_fqcn():
    result = run_module("ansible.builtin.debug", {"msg": [
        "{{ 'p\"w' | kafkasec.tls.jaas_quote }}",
        "{{ 'org.example.M' | kafkasec.tls.jaas_config('required', {'password': 'x;y'}) }}",
        "{{ ' a=b' | kafkasec.tls.java_properties_escape }}",
        "{{ 'a b' | kafkasec.tls.java_properties_key_escape }}",
        "{{ ['h.test', '10.0.0.1'] | kafkasec.tls.san_list }}",
    ]}, templated=True)
    assert not result.get("failed"), result
    assert result["msg"] == ['"p\\"w"', 'org.example.M required password="x;y";', "\\ a=b", "a\\ b",
                             "DNS:h.test,IP:10.0.0.1"]


# --------------------------------------------------------------------------- host_fields

HOSTVARS = {'zk-1': {'kafkasec_zookeeper_advertised_host': 'zk-1.example', 'kafkasec_zookeeper_secure_client_port': 2182},
            'zk-2': {'other': 1},
            'zk-3': {'kafkasec_zookeeper_advertised_host': None}}


@pytest.mark.parametrize('hosts, fields, rename, expected', [
    ([], {'x': 1}, None, []),
    (['zk-1', 'zk-2'], {'kafkasec_zookeeper_advertised_host': '', 'kafkasec_zookeeper_secure_client_port': ''},
     {'kafkasec_zookeeper_advertised_host': 'advertised', 'kafkasec_zookeeper_secure_client_port': 'port'},
     [{'name': 'zk-1', 'advertised': 'zk-1.example', 'port': 2182}, {'name': 'zk-2', 'advertised': '', 'port': ''}]),
    (['zk-3'], {'kafkasec_zookeeper_advertised_host': 'default'}, None,   # set to null: null, as | default() did
     [{'name': 'zk-3', 'kafkasec_zookeeper_advertised_host': None}]),
    (['zk-2'], {'list_field': []}, None, [{'name': 'zk-2', 'list_field': []}]),
])
def test_host_fields(hosts, fields, rename, expected):
    assert F.host_fields(hosts, HOSTVARS, fields, rename) == expected


def test_host_fields_wants_a_mapping():
    with pytest.raises(AnsibleFilterError):
        F.host_fields(['zk-1'], HOSTVARS, ['kafkasec_zookeeper_advertised_host'])
