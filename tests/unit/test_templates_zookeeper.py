# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ZooKeeper-mode templates, rendered by ansible-playbook: zoo.cfg's TLS/SASL block
(templates/zookeeper/zoo-tls.yml.j2), a ZooKeeper-mode broker's ZooKeeper client block
(roles/broker/templates/server-zookeeper.properties.j2, covered in test_templates_broker.py), the broker's JAAS Client file (read back by the JDK's
JAAS parser) and the environment file that names a JAAS file."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from template_render import render
from test_templates_jaas import DIGEST, FILE_PASSWORDS, entry, jdk_parse  # noqa: F401

STORE_PASSWORD = 'st"ore\\ pw;=x'


def zoo_vars(**overrides: Any) -> Dict[str, Any]:
    """The role's settings as roles/zookeeper/vars/main.yml computes them (the template only lists them)."""
    base = {
        "kafkasec_zookeeper_secure_client_port": 2182,
        "kafkasec_zookeeper__bind": "10.0.0.21",
        "kafkasec_zookeeper__plain_port": "2181",
        "kafkasec_zookeeper__keep_plaintext": False,
        "kafkasec_zookeeper__enforce_sasl": True,
        "kafkasec_zookeeper__keystore_path": "/etc/zk/pki/keystore.p12",
        "kafkasec_zookeeper__keystore_type": "pkcs12",
        "kafkasec_zookeeper__truststore_path": "/etc/zk/pki/truststore.p12",
        "kafkasec_zookeeper__truststore_type": "pkcs12",
        "kafkasec_keystore_password_resolved": STORE_PASSWORD,
        "kafkasec_truststore_password_resolved": "trust",
        "kafkasec_zookeeper_ssl_client_auth": "need",
        "kafkasec_zookeeper_ssl_protocol": "TLSv1.3",
        "kafkasec_zookeeper_ssl_enabled_protocols": ["TLSv1.3", "TLSv1.2"],
        "kafkasec_zookeeper_extra_properties": {},
    }
    base.update(overrides)
    return base


def test_zoo_cfg_end_state_secure_port_only_with_enforced_sasl():
    out = render({"zoo": ("zookeeper/zoo-tls.yml.j2", True)}, zoo_vars())["zoo"]
    assert out == {
        "secureClientPort": "2182",
        "secureClientPortAddress": "10.0.0.21",
        # An empty value removes the key: no plain port, no address for it.
        "clientPort": "",
        "clientPortAddress": "",
        "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
        "ssl.keyStore.location": "/etc/zk/pki/keystore.p12",
        "ssl.keyStore.password": STORE_PASSWORD,
        "ssl.keyStore.type": "PKCS12",
        "ssl.trustStore.location": "/etc/zk/pki/truststore.p12",
        "ssl.trustStore.password": "trust",
        "ssl.trustStore.type": "PKCS12",
        "ssl.clientAuth": "need",
        "ssl.protocol": "TLSv1.3",
        "ssl.enabledProtocols": "TLSv1.3,TLSv1.2",
        "authProvider.sasl": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
        "enforce.auth.enabled": "true",
        "enforce.auth.schemes": "sasl",
        "requireClientAuthScheme": "",
    }


def test_zoo_cfg_transition_keeps_the_plain_port_and_does_not_enforce():
    out = render({"zoo": ("zookeeper/zoo-tls.yml.j2", True)},
                 zoo_vars(kafkasec_zookeeper__keep_plaintext=True, kafkasec_zookeeper__enforce_sasl=False,
                          kafkasec_zookeeper_extra_properties={"sslQuorum": "false"}))["zoo"]
    assert (out["clientPort"], out["clientPortAddress"]) == ("2181", "10.0.0.21")
    assert (out["enforce.auth.enabled"], out["enforce.auth.schemes"]) == ("false", "")
    assert out["secureClientPort"] == "2182" and out["sslQuorum"] == "false"
    # A zoo.cfg without a plain port gets no clientPortAddress (ZooKeeper refuses one without the port).
    none = render({"zoo": ("zookeeper/zoo-tls.yml.j2", True)},
                  zoo_vars(kafkasec_zookeeper__keep_plaintext=True, kafkasec_zookeeper__plain_port=""))["zoo"]
    assert (none["clientPort"], none["clientPortAddress"]) == ("", "")


def test_broker_zookeeper_client_jaas_read_back_by_the_jdk(tmp_path):
    for password in FILE_PASSWORDS[:6]:
        out = render({"jaas": ("jaas/zookeeper-client.jaas.j2", False)}, {
            "kafkasec_jaas_zookeeper_client_username": "kafka",
            "kafkasec_jaas_zookeeper_client_password": password,
        })
        assert jdk_parse(tmp_path, out["jaas"], ["Client"]) == {
            "Client": [entry(DIGEST, {"username": "kafka", "password": password})]}


def test_jaas_environment_file():
    out = render({"env": ("zookeeper/jaas-jvmflags.env.j2", False)}, {
        "kafkasec_jaas_env_variable": "SERVER_JVMFLAGS", "kafkasec_jaas_env_path": "/etc/zookeeper/zk server.jaas"})
    lines = [line for line in out["env"].splitlines() if not line.startswith("#")]
    assert lines == ['SERVER_JVMFLAGS="-Djava.security.auth.login.config=/etc/zookeeper/zk server.jaas"']


@pytest.mark.parametrize("path", ['/etc/zk/a"b.jaas', "/etc/zk/$HOME.jaas", "/etc/zk/a\nb"])
def test_jaas_environment_file_refuses_unsafe_paths(path):
    out = render({"env": ("zookeeper/jaas-jvmflags.env.j2", False)}, {
        "kafkasec_jaas_env_variable": "KAFKA_OPTS", "kafkasec_jaas_env_path": path})
    assert out.get("failed") and "env_file_quote" in out["msg"], out
