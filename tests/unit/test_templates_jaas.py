# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""templates/jaas and roles/broker/templates/server-sasl.properties.j2, rendered by ansible-playbook and read
back by the parsers that read them in production: the JDK's JAAS file parser (KafkaServer,
KafkaClient, ZooKeeper's Server and Client sections) and Kafka's own sasl.jaas.config parser
(JaasDump.java). Passwords carry ", \\, ;, =, spaces, quotes and non-ASCII characters."""

from __future__ import annotations

import json

from pathlib import Path
from typing import Dict, List

import pytest

from ansible_collections.kafkasec.tls.plugins.filter import kafkasec as F
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load
from ansible_runner import REPO_ROOT
from template_render import render
from test_filters import PASSWORDS, kafka_clients_jar, run_java  # noqa: F401  pylint: disable=unused-import

PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
DIGEST = "org.apache.zookeeper.server.auth.DigestLoginModule"
# Every test password a JAAS *file* can hold: '${' is expanded by the JDK (refused, tested below),
# and an empty password is no password (refused by the templates' filters).
FILE_PASSWORDS = [p for p in PASSWORDS if "${" not in p and p]
BROKER_PASSWORD = 'broker "pw" \\ ; = \u00e9'
USERS = {"user%02d" % index: password for index, password in enumerate(FILE_PASSWORDS)}


def jdk_parse(tmp_path: Path, text: str, sections: List[str]) -> Dict:
    path = tmp_path / ("%s.jaas" % "-".join(sections))
    path.write_text(text, encoding="utf-8")
    return json.loads(run_java("JaasDump", ["file", str(path)] + sections))


def entry(module: str, options: Dict[str, str]) -> Dict:
    return {"module": module, "flag": "required", "options": options}


def test_jaas_files_read_back_by_the_jdk(tmp_path):
    out = render({
        "server": ("jaas/kafka-server.jaas.j2", False),
        "client": ("jaas/kafka-client.jaas.j2", False),
        "zookeeper": ("jaas/zookeeper-server.jaas.j2", False),
    }, {
        "kafkasec_jaas_sasl_mechanisms": ["SCRAM-SHA-512", "PLAIN"],
        "kafkasec_jaas_broker_username": "broker",
        "kafkasec_jaas_broker_password": BROKER_PASSWORD,
        "kafkasec_jaas_plain_users": USERS,
        "kafkasec_jaas_zookeeper_client_username": "kafka",
        "kafkasec_jaas_zookeeper_client_password": FILE_PASSWORDS[0],
        "kafkasec_jaas_client_username": "tool",
        "kafkasec_jaas_client_password": FILE_PASSWORDS[-1],
        "kafkasec_jaas_zookeeper_users": USERS,
    })
    broker_login = {"username": "broker", "password": BROKER_PASSWORD}
    user_options = {"user_" + name: password for name, password in USERS.items()}
    assert jdk_parse(tmp_path, out["server"], ["KafkaServer", "Client"]) == {
        "KafkaServer": [entry(SCRAM, broker_login), entry(PLAIN, dict(broker_login, **user_options))],
        "Client": [entry(DIGEST, {"username": "kafka", "password": FILE_PASSWORDS[0]})],
    }
    assert jdk_parse(tmp_path, out["client"], ["KafkaClient"]) == {
        "KafkaClient": [entry(SCRAM, {"username": "tool", "password": FILE_PASSWORDS[-1]})]}
    assert jdk_parse(tmp_path, out["zookeeper"], ["Server"]) == {"Server": [entry(DIGEST, user_options)]}


def test_jaas_defaults_scram_sha_512_and_no_zookeeper_client(tmp_path):
    out = render({"server": ("jaas/kafka-server.jaas.j2", False), "client": ("jaas/kafka-client.jaas.j2", False)}, {
        "kafkasec_jaas_broker_username": "broker", "kafkasec_jaas_broker_password": "x;y",
        "kafkasec_jaas_client_username": "tool", "kafkasec_jaas_client_password": "z=w",
    })
    assert out["server"] == 'KafkaServer {\n  %s required username="broker" password="x;y";\n};\n' % SCRAM
    assert jdk_parse(tmp_path, out["client"], ["KafkaClient"])["KafkaClient"] == [
        entry(SCRAM, {"username": "tool", "password": "z=w"})]


SASL_BLOCK = str(REPO_ROOT / "roles" / "broker" / "templates" / "server-sasl.properties.j2")


def test_inline_listener_jaas_config_read_by_kafka(tmp_path, kafka_clients_jar):  # noqa: F811
    """The broker role's SASL_SSL block, laid out as server.properties lines and read back by Kafka's own
    JAAS parser: inter-broker traffic stays on SSL, so the listener's entries carry no login of the
    broker's; SCRAM is the bare login module, PLAIN only its users (passwords with ", \\, ;, =, ${)."""
    users = dict(USERS, carol="${kafka does not expand} " + BROKER_PASSWORD)
    text = render({"props": (SASL_BLOCK, False)}, {
        "kafkasec_broker_sasl_listener_name": "SASL_SSL",
        "kafkasec_broker_sasl_mechanisms": ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"],
        "kafkasec_broker_sasl_plain_users": users,
    })["props"]
    out = load(text)
    assert out["sasl.enabled.mechanisms"] == "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN"
    assert out["listener.name.sasl_ssl.sasl.enabled.mechanisms"] == "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN"
    assert out["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"] == SCRAM + " required;"
    path = tmp_path / "server.properties"
    # JaasDump reads every key of the file as a JAAS entry: keep the block's JAAS lines only.
    path.write_bytes("".join(line + "\n" for line in text.splitlines() if ".sasl.jaas.config=" in line).encode("latin-1"))
    assert json.loads(run_java("JaasDump", ["kafka", str(path)], classpath=[kafka_clients_jar])) == {
        "listener.name.sasl_ssl.plain.sasl.jaas.config": [
            entry(PLAIN, {"user_" + name: password for name, password in users.items()})],
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": [entry(SCRAM, {})],
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": [entry(SCRAM, {})],
    }


@pytest.mark.parametrize("template, variable, mechanism", [
    ("jaas/kafka-server.jaas.j2", "kafkasec_jaas_sasl_mechanisms", ["SCRAM-SHA-1"]),
    (SASL_BLOCK, "kafkasec_broker_sasl_mechanisms", ["PLAIN", "scram-sha-512"]),
    ("jaas/kafka-client.jaas.j2", "kafkasec_jaas_client_mechanism", "GSSAPI"),
])
def test_unknown_mechanism_is_an_error_naming_the_variable(template, variable, mechanism):
    out = render({"t": (template, template.endswith(".yml.j2"))}, {
        variable: mechanism, "kafkasec_jaas_sasl_listener_name": "SASL_SSL",
        "kafkasec_broker_sasl_listener_name": "SASL_SSL", "kafkasec_broker_sasl_plain_users": {"a": "b"},
        "kafkasec_jaas_broker_username": "b", "kafkasec_jaas_broker_password": "p",
        "kafkasec_jaas_client_username": "c", "kafkasec_jaas_client_password": "p",
    })
    assert out["failed"], out
    assert "%s: unknown SASL mechanism" % variable in out["msg"], out["msg"]


def test_jaas_file_refuses_what_the_jdk_would_expand_or_lose():
    out = render({"t": ("jaas/kafka-server.jaas.j2", False)}, {
        "kafkasec_jaas_broker_username": "b", "kafkasec_jaas_broker_password": "a${user.home}b"})
    assert out["failed"] and "'${'" in out["msg"]
    out = render({"t": ("jaas/zookeeper-server.jaas.j2", False)}, {"kafkasec_jaas_zookeeper_users": {"kafka": ""}})
    assert out["failed"] and "kafkasec_jaas_zookeeper_users: user 'kafka' has no password" in out["msg"]
    out = render({"t": ("jaas/kafka-server.jaas.j2", False)}, {"kafkasec_jaas_broker_username": "b"})
    assert out["failed"] and "kafkasec_jaas_broker_password" in out["msg"]   # no default password
