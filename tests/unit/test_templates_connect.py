# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""templates/connect and templates/client, rendered by ansible-playbook, merged into files by the
kafkasec.tls.properties module as the roles do, and read back by java.util.Properties (PropsDump)."""

from __future__ import annotations

import json
import shlex
import subprocess

from pathlib import Path
from typing import Any, Dict

from ansible_runner import run_module
from template_render import render
from test_properties import java_load_text

PREFIXES = ["", "producer.", "consumer.", "admin."]
# Store passwords a vault may hold; they must reach the files exactly.
KEYSTORE_PASSWORD = 'ks p"w\\;=#!:{{ not.jinja }}'
TRUSTSTORE_PASSWORD = "ts=pw;\\\\ caf\u00e9"


def worker_vars(**overrides: Any) -> Dict[str, Any]:
    values = {
        "kafkasec_connect__bootstrap_servers": ["kafka-1.lab.test:9093", "kafka-2.lab.test:9093"],
        "kafkasec_connect__keystore_type": "pkcs12",
        "kafkasec_connect__keystore_path": "/etc/kafka/pki/keystore.p12",
        "kafkasec_connect__keystore_password": KEYSTORE_PASSWORD,
        "kafkasec_connect__key_password": "",
        "kafkasec_connect__truststore_type": "pkcs12",
        "kafkasec_connect__truststore_path": "/etc/kafka/pki/truststore.p12",
        "kafkasec_connect__truststore_password": TRUSTSTORE_PASSWORD,
        "kafkasec_connect_ssl_enabled_protocols": ["TLSv1.3", "TLSv1.2"],
        "kafkasec_connect_ssl_protocol": "TLSv1.3",
        "kafkasec_connect__rest_listener": "https://connect-1.lab.test:8443",
        "kafkasec_connect_rest_advertised_host": "connect-1.lab.test",
        "kafkasec_connect_rest_port": 8443,
        "kafkasec_connect_rest_client_auth": "required",
        "kafkasec_connect_extra_properties": {},
    }
    values.update(overrides)
    return values


def expected_block(keystore_type="PKCS12", keystore_password=KEYSTORE_PASSWORD, key_password="",
                   truststore_type="PKCS12", truststore_password=TRUSTSTORE_PASSWORD) -> Dict[str, str]:
    return {
        "ssl.keystore.type": keystore_type,
        "ssl.keystore.location": "/etc/kafka/pki/keystore.p12",
        "ssl.keystore.password": keystore_password,
        "ssl.key.password": key_password,
        "ssl.truststore.type": truststore_type,
        "ssl.truststore.location": "/etc/kafka/pki/truststore.p12",
        "ssl.truststore.password": truststore_password,
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "ssl.protocol": "TLSv1.3",
    }


def expected_worker(**block: str) -> Dict[str, Any]:
    ssl = expected_block(**block)
    expected: Dict[str, Any] = {"bootstrap.servers": "kafka-1.lab.test:9093,kafka-2.lab.test:9093"}
    for prefix in PREFIXES:
        expected[prefix + "security.protocol"] = "SSL"
        expected.update((prefix + key, value) for key, value in ssl.items())
        expected[prefix + "ssl.endpoint.identification.algorithm"] = "https"
    expected.update({
        "listeners": "https://connect-1.lab.test:8443",
        "rest.advertised.listener": "https",
        "rest.advertised.host.name": "connect-1.lab.test",
        "rest.advertised.port": 8443,
        "listeners.https.ssl.client.auth": "required",
    })
    expected.update(("listeners.https." + key, value) for key, value in ssl.items())
    return expected


def merge_like_the_role(path: Path, settings: Dict[str, Any]) -> Dict[str, Any]:
    """kafkasec.tls.properties with set = non-empty values, remove = empty ones (roles/*/tasks)."""
    return run_module("kafkasec.tls.properties", {
        "path": str(path), "create": True, "mode": "0600",
        "set": {k: v for k, v in settings.items() if v != ""},
        "remove": [k for k, v in settings.items() if v == ""],
    })


def test_worker_template_pkcs12_merged_and_read_by_java(tmp_path):
    rendered = render({"worker": ("connect/worker-ssl.yml.j2", True)}, worker_vars())["worker"]
    assert rendered == expected_worker()
    path = tmp_path / "connect-distributed.properties"
    path.write_text("# a worker\nbootstrap.servers=kafka-1.lab.test:9092\ngroup.id=connect-cluster\n"
                    "producer.ssl.key.password=stale\n", encoding="latin-1")
    result = merge_like_the_role(path, rendered)
    assert result["changed"] and not result.get("failed"), result
    assert "producer.ssl.key.password" in result["removed_keys"]
    seen = java_load_text(tmp_path, path.read_text(encoding="latin-1"))
    wanted = {k: str(v) for k, v in rendered.items() if v != ""}
    wanted["group.id"] = "connect-cluster"
    assert seen == wanted
    assert KEYSTORE_PASSWORD not in json.dumps(result) and TRUSTSTORE_PASSWORD not in json.dumps(result)
    # The merge is idempotent: the same settings change nothing.
    assert merge_like_the_role(path, rendered)["changed"] is False


def test_worker_template_jks_pem_client_auth_and_extra_properties():
    out = render({
        "jks": ("connect/worker-ssl.yml.j2", True),
    }, worker_vars(kafkasec_connect__keystore_type="jks", kafkasec_connect__key_password=KEYSTORE_PASSWORD,
                   kafkasec_connect__truststore_type="jks", kafkasec_connect_rest_client_auth="requested",
                   kafkasec_connect_extra_properties={"ssl.cipher.suites": "TLS_AES_256_GCM_SHA384",
                                                      "listeners.https.ssl.client.auth": "none"}))
    expected = expected_worker(keystore_type="JKS", key_password=KEYSTORE_PASSWORD, truststore_type="JKS")
    expected["ssl.cipher.suites"] = "TLS_AES_256_GCM_SHA384"
    expected["listeners.https.ssl.client.auth"] = "none"   # extra properties win
    assert out["jks"] == expected
    pem = render({"pem": ("connect/worker-ssl.yml.j2", True)},
                 worker_vars(kafkasec_connect__keystore_type="pem", kafkasec_connect__keystore_password="",
                             kafkasec_connect__truststore_type="pem", kafkasec_connect__truststore_password=""))["pem"]
    assert pem == expected_worker(keystore_type="PEM", keystore_password="", truststore_type="PEM", truststore_password="")


def client_vars(**overrides: Any) -> Dict[str, Any]:
    values = {
        "kafkasec_client_bundle__bootstrap_servers": ["kafka-1.lab.test:9093"],
        "kafkasec_client_bundle__keystore_path": "/b/alice/keystore.p12",
        "kafkasec_client_bundle__keystore_password": KEYSTORE_PASSWORD,
        "kafkasec_client_bundle__truststore_path": "/b/alice/truststore.p12",
        "kafkasec_client_bundle__truststore_password": TRUSTSTORE_PASSWORD,
        "kafkasec_client_bundle_ssl_enabled_protocols": ["TLSv1.3", "TLSv1.2"],
        "kafkasec_client_bundle_ssl_protocol": "TLSv1.3",
        "kafkasec_client_bundle__ca_path": "/b/alice/ca.crt",
        "kafkasec_client_bundle__cert_path": "/b/alice/alice.crt",
        "kafkasec_client_bundle__key_path": "/b/alice/alice.key",
    }
    values.update(overrides)
    return values


def test_client_templates(tmp_path):
    templates = {"java": ("client/client-ssl.yml.j2", True), "rdkafka": ("client/librdkafka.yml.j2", True)}
    out = render(templates, client_vars())
    assert out["java"] == {
        "bootstrap.servers": "kafka-1.lab.test:9093",
        "security.protocol": "SSL",
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": "/b/alice/keystore.p12",
        "ssl.keystore.password": KEYSTORE_PASSWORD,
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": "/b/alice/truststore.p12",
        "ssl.truststore.password": TRUSTSTORE_PASSWORD,
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "ssl.protocol": "TLSv1.3",
        "ssl.endpoint.identification.algorithm": "https",
    }
    assert out["rdkafka"] == {
        "bootstrap.servers": "kafka-1.lab.test:9093",
        "security.protocol": "ssl",
        "ssl.ca.location": "/b/alice/ca.crt",
        "ssl.certificate.location": "/b/alice/alice.crt",
        "ssl.key.location": "/b/alice/alice.key",
        "ssl.endpoint.identification.algorithm": "https",
    }
    path = tmp_path / "client.properties"
    assert merge_like_the_role(path, out["java"])["changed"]
    assert java_load_text(tmp_path, path.read_text(encoding="latin-1")) == out["java"]
    # No bootstrap servers known: the key is empty, which the role turns into a removal.
    empty = render(templates, client_vars(kafkasec_client_bundle__bootstrap_servers=[]))
    assert empty["java"]["bootstrap.servers"] == "" and empty["rdkafka"]["bootstrap.servers"] == ""


def test_kafka_opts_env_and_argfile_templates(tmp_path, jvm_ssl_dump):
    """KAFKA_OPTS as a shell reads the env file, plus the argument file it names: the JVM sees every
    javax.net.ssl property, the passwords only through the file."""
    argfile = tmp_path / "connect-jvm-ssl.args"
    secrets = {"javax.net.ssl.trustStorePassword": 'trust "me" \\ #1', "javax.net.ssl.keyStorePassword": "key=;'pw' @x"}
    opts = ["-Djavax.net.ssl.trustStore=/etc/kafka/pki/truststore.p12", "-Djavax.net.ssl.trustStoreType=PKCS12",
            "-Djavax.net.ssl.keyStore=/etc/kafka/pki/keystore.p12", "-Djavax.net.ssl.keyStoreType=PKCS12",
            "@%s" % argfile]
    out = render({"env": ("connect/kafka-opts.env.j2", False), "args": ("connect/jvm-ssl.args.j2", False)},
                 {"kafkasec_connect__kafka_opts": opts, "kafkasec_connect__jvm_secret_properties": secrets})
    env_lines = [line for line in out["env"].splitlines() if line and not line.startswith("#")]
    assert env_lines == ['KAFKA_OPTS="%s"' % " ".join(opts)]
    for secret in secrets.values():
        assert secret not in out["env"]
    argfile.write_text(out["args"], encoding="ascii")
    # What `set -a; . env-file` gives a shell, and kafka-run-class.sh's unquoted $KAFKA_OPTS split.
    shell = subprocess.run(["sh", "-c", 'set -a; . "$1"; printf %s "$KAFKA_OPTS"', "sh", "/dev/stdin"],
                           input=out["env"], capture_output=True, text=True, check=True).stdout
    kafka_opts = shlex.split(shell)
    assert kafka_opts == opts
    proc = subprocess.run(["java", "-cp", jvm_ssl_dump, *kafka_opts, "JvmSslDump", *secrets,
                           "javax.net.ssl.trustStore", "javax.net.ssl.keyStoreType"],
                          capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(proc.stdout)["properties"] == dict(secrets, **{
        "javax.net.ssl.trustStore": "/etc/kafka/pki/truststore.p12", "javax.net.ssl.keyStoreType": "PKCS12"})


def test_kafka_opts_templates_refuse_what_they_cannot_write():
    bad_env = render({"env": ("connect/kafka-opts.env.j2", False)},
                     {"kafkasec_connect__kafka_opts": ["-Dx=$HOME/a b"]})
    assert bad_env["failed"] and "KAFKA_OPTS holds '$'" in bad_env["msg"]
    bad_args = render({"args": ("connect/jvm-ssl.args.j2", False)},
                      {"kafkasec_connect__jvm_secret_properties": {"javax.net.ssl.keyStorePassword": "caf\u00e9"}})
    assert bad_args["failed"] and "-Djavax.net.ssl.keyStorePassword contains" in bad_args["msg"]
