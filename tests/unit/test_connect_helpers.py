# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils sasl.py, endpoints.py and jvm_args.py, and the filters on top of them.

Java argument files are checked against the real java launcher: the options a JVM started
with ``@file`` sees are compared with what was written, and /proc/<pid>/cmdline (what ps
shows) is checked to hold the file's name and not its secrets.
"""

from __future__ import annotations

import json
import subprocess

from pathlib import Path
from typing import Dict, List

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kafkasec.tls.plugins.filter import kafkasec as F
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import endpoints as E
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import jvm_args as J
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import sasl as S


# Printable ASCII the argument file must carry verbatim, with the characters that matter to its
# tokenizer (quotes, backslash, #, @, white space) and to other parsers (; = $ { }).
ARG_VALUES = [
    'p"w', "back\\slash", "\\", '"', "'", "'\"'", "semi;colon=eq", "# not a comment", "@not-a-file",
    "with spaces  and\ttab", " leading and trailing ", "", "$HOME ${x} `id`", "line\nbreak\rreturn\fform",
    "\\n literal backslash-n", "a\\\"b",
]


# ---------------------------------------------------------------------------
# sasl
# ---------------------------------------------------------------------------

def test_login_modules():
    assert S.login_module("SCRAM-SHA-512") == "org.apache.kafka.common.security.scram.ScramLoginModule"
    assert S.login_module("SCRAM-SHA-256") == "org.apache.kafka.common.security.scram.ScramLoginModule"
    assert S.login_module("PLAIN") == "org.apache.kafka.common.security.plain.PlainLoginModule"


@pytest.mark.parametrize("mechanism, hint", [
    ("SCRAM-SHA-1", "use one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
    ("scram-sha-512", "case-sensitive: SCRAM-SHA-512"),
    ("GSSAPI", "settings this collection does not manage"),
    ("", "unknown SASL mechanism ''"),
    (None, "must be a string"),
])
def test_unknown_mechanism_names_the_variable(mechanism, hint):
    with pytest.raises(S.SaslError) as info:
        S.login_module(mechanism, "kafkasec_jaas_sasl_mechanisms")
    assert str(info.value).startswith("kafkasec_jaas_sasl_mechanisms: ")
    assert hint in str(info.value)
    with pytest.raises(AnsibleFilterError, match="^my_var: "):
        F.sasl_login_module(mechanism, "my_var")
    with pytest.raises(AnsibleFilterError, match="^my_var: "):
        F.jaas_sasl(mechanism, "u", "p", variable="my_var")


def test_sasl_options():
    assert S.sasl_options("SCRAM-SHA-512", "admin", 'p"w') == {"username": "admin", "password": 'p"w'}
    assert S.sasl_options("PLAIN", "admin", "a", {"alice": "b", "bob": 12}) == {
        "username": "admin", "password": "a", "user_alice": "b", "user_bob": "12"}
    with pytest.raises(S.SaslError, match="^plain_users: SCRAM-SHA-512 credentials live in the cluster"):
        S.sasl_options("SCRAM-SHA-512", "admin", "a", {"alice": "b"}, "mechs", "plain_users")
    with pytest.raises(S.SaslError, match="needs a password"):
        S.sasl_options("PLAIN", "admin", "")
    with pytest.raises(S.SaslError, match="needs a username"):
        S.sasl_options("PLAIN", None, "x")


def test_user_options():
    assert S.user_options({"kafka": "x;y", "super": 'q"'}) == {"user_kafka": "x;y", "user_super": 'q"'}
    assert F.jaas_users(None) == {}
    for bad, message in [({"": "x"}, "non-empty"), ({"a": ""}, "no password"), ({"a": None}, "no password"),
                         (["a"], "mapping"), ({"a": ["x"]}, "must be a string")]:
        with pytest.raises(AnsibleFilterError, match="^zk_users: .*" + message):
            F.jaas_users(bad, "zk_users")


def test_jaas_sasl_filter_quotes():
    line = F.jaas_sasl("PLAIN", "admin", 'a"b\\c', {"alice": "x;y=z"}, jaas_file=True)
    assert line == ('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" '
                    'password="a\\"b\\\\c" user_alice="x;y=z";')
    with pytest.raises(AnsibleFilterError, match=r"\$\{"):
        F.jaas_sasl("SCRAM-SHA-512", "admin", "a${x}", jaas_file=True)


# ---------------------------------------------------------------------------
# endpoints
# ---------------------------------------------------------------------------

def test_parse_bootstrap_servers():
    assert E.parse_bootstrap_servers("a:9093, b.example.com:19093,") == [E.Endpoint("a", 9093), E.Endpoint("b.example.com", 19093)]
    assert E.parse_bootstrap_servers(["SSL://a:1", "[::1]:9093,c:2"]) == [
        E.Endpoint("a", 1), E.Endpoint("::1", 9093), E.Endpoint("c", 2)]
    assert str(E.Endpoint("::1", 9093)) == "[::1]:9093"
    for bad, message in [("a", "not host:port"), ("a:b", "no valid port"), ("a:0", "no valid port"),
                         (":9093", "no host"), ("::1:9093", "not host:port"), ("", "no bootstrap server"),
                         ([1], "host:port strings"), ({"a": 1}, "comma-separated")]:
        with pytest.raises(E.EndpointError, match="^servers: .*" + message):
            E.parse_bootstrap_servers(bad, "servers")


def _brokers() -> Dict[str, Dict]:
    return {
        "kafka-1.lab.test": {},
        "kafka-2.lab.test": {"kafkasec_broker_keep_plaintext": True, "kafkasec_broker_ssl_port": "19093",
                             "kafkasec_broker_advertised_host": "broker-2.example.com",
                             "kafkasec_cert_ip_addresses": ["10.0.0.2"]},
    }


def test_inventory_bootstrap_servers():
    hostvars = _brokers()
    assert F.inventory_bootstrap_servers(list(hostvars), hostvars) == ["kafka-1.lab.test:9093", "broker-2.example.com:19093"]
    assert F.inventory_bootstrap_servers([], hostvars) == []


def test_bootstrap_tls_problems():
    hostvars = _brokers()
    hosts = list(hostvars)

    def problems(servers):
        return F.bootstrap_tls_problems(servers, hosts, hostvars, "kafkasec_connect_bootstrap_servers")

    assert problems("kafka-1.lab.test:9093,broker-2.example.com:19093,10.0.0.2:19093,elsewhere:9092") == []
    found = problems(["KAFKA-1.lab.test.:9092", "kafka-1.lab.test:9094", "10.0.0.2:9092", "kafka-2.lab.test:9093"])
    assert len(found) == 4
    assert all(p.startswith("kafkasec_connect_bootstrap_servers: ") for p in found)
    assert found[0] == ("kafkasec_connect_bootstrap_servers: KAFKA-1.lab.test.:9092 is broker kafka-1.lab.test's PLAINTEXT "
                        "port (kafkasec_broker_plaintext_port), which the broker role closes; its TLS listener is port 9093 "
                        "(kafkasec_broker_ssl_port)")
    assert "kafka-1.lab.test:9094 is broker kafka-1.lab.test's controller listener" in found[1]
    assert "10.0.0.2:9092 is broker kafka-2.lab.test's PLAINTEXT listener (kafkasec_broker_plaintext_port);" in found[2]
    assert ("kafka-2.lab.test:9093 is broker kafka-2.lab.test's port other than its TLS listener; "
            "its TLS listener is port 19093") in found[3]
    with pytest.raises(AnsibleFilterError, match="^kafkasec_connect_bootstrap_servers: 'x' is not host:port"):
        problems("x")


def test_bootstrap_tls_problems_protocol_prefix():
    """A PLAINTEXT:// (or SASL_PLAINTEXT://) entry is refused whatever its host; SSL:// and SASL_SSL:// pass."""
    hostvars = _brokers()
    hosts = list(hostvars)
    assert F.bootstrap_tls_problems("SSL://kafka-1.lab.test:9093, sasl_ssl://elsewhere:9096", hosts, hostvars) == []
    found = F.bootstrap_tls_problems(["PLAINTEXT://kafka-1.lab.test:9093", "sasl_plaintext://elsewhere:9095"],
                                     hosts, hostvars, "kafkasec_connect_bootstrap_servers")
    assert found == [
        "kafkasec_connect_bootstrap_servers: PLAINTEXT://kafka-1.lab.test:9093 names security protocol PLAINTEXT, "
        "which is not TLS; give the TLS listener as host:port (or SSL://host:port)",
        "kafkasec_connect_bootstrap_servers: SASL_PLAINTEXT://elsewhere:9095 names security protocol SASL_PLAINTEXT, "
        "which is not TLS; give the TLS listener as host:port (or SSL://host:port)"]
    # The prefix does not change what the entry is: the same endpoint as without it.
    assert E.parse_bootstrap_servers("PLAINTEXT://a:1") == [E.Endpoint("a", 1)]
    assert E.parse_bootstrap_servers("PLAINTEXT://a:1")[0].protocol == "PLAINTEXT"


# ---------------------------------------------------------------------------
# jvm_args: java @argfile and environment files
# ---------------------------------------------------------------------------

def jvm_dump(classes: str, options: List[str], names: List[str]) -> Dict:
    proc = subprocess.run(["java", "-cp", classes, *options, "JvmSslDump", *names],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_argfile_values_round_trip_through_the_java_launcher(tmp_path, jvm_ssl_dump):
    argfile = tmp_path / "jvm.args"
    lines = ["# a comment line"]
    expected = {}
    for index, value in enumerate(ARG_VALUES):
        lines.append(J.argfile_quote("-Dkafkasec.test.%d=%s" % (index, value)))
        expected["kafkasec.test.%d" % index] = value
    argfile.write_text("\n".join(lines) + "\n", encoding="ascii")
    seen = jvm_dump(jvm_ssl_dump, ["@%s" % argfile], list(expected))
    assert seen["properties"] == expected


def test_argfile_refuses_what_it_cannot_carry():
    assert F.java_argfile_quote('a"b') == '"a\\"b"'
    for bad in ["caf\u00e9", "\x00", "\x7f", "\u20ac"]:
        with pytest.raises(AnsibleFilterError, match="java_argfile_quote: -Dx contains"):
            F.java_argfile_quote(bad, "-Dx")


def test_argfile_keeps_secrets_off_the_process_list(tmp_path, jvm_ssl_dump):
    secret = 'S3cret-"argfile"-\\-value'
    argfile = tmp_path / "jvm.args"
    argfile.write_text(J.argfile_quote("-Dkafkasec.secret=" + secret) + "\n", encoding="ascii")
    go = tmp_path / "go"
    proc = subprocess.Popen(["java", "-cp", jvm_ssl_dump, "-Dkafkasec.visible=1", "@%s" % argfile,
                             "JvmSslDump", "--wait", str(go), "kafkasec.secret", "kafkasec.visible"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        cmdline = Path("/proc/%d/cmdline" % proc.pid).read_bytes().split(b"\0")
        ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(proc.pid)], capture_output=True, text=True).stdout
    finally:
        go.touch()
        out, _err = proc.communicate(timeout=120)
    assert ("@%s" % argfile).encode() in cmdline and b"-Dkafkasec.visible=1" in cmdline
    assert secret.encode() not in b" ".join(cmdline) and b"S3cret" not in b" ".join(cmdline)
    assert "@%s" % argfile in ps and "S3cret" not in ps
    assert json.loads(out)["properties"] == {"kafkasec.secret": secret, "kafkasec.visible": "1"}


def test_env_quote():
    assert J.env_quote("-Da=/x/y.p12 @/etc/kafka/a.args") == '"-Da=/x/y.p12 @/etc/kafka/a.args"'
    assert F.env_file_quote("") == '""'
    for bad in ['a"b', "a$b", "a`b", "a\\b", "a%b", "a\nb", "caf\u00e9", "a'b"]:
        with pytest.raises(AnsibleFilterError, match="env_file_quote: KAFKA_OPTS holds"):
            F.env_file_quote(bad, "KAFKA_OPTS")
