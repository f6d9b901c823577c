# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kafkasec.tls.properties run by ansible-playbook, the way operators run it.

What the module writes is read back by Java (Properties.load, as Kafka does).
"""

from __future__ import annotations

import json
import os
import stat

from pathlib import Path

import pytest

from ansible_runner import run_module
from test_properties import java_load_text

MODULE = "kafkasec.tls.properties"

SERVER_PROPERTIES = (
    "# Licensed to the Apache Software Foundation (ASF) under one or more\n"
    "# contributor license agreements.\n"
    "\n"
    "############################# Server Basics #############################\n"
    "process.roles=broker,controller\n"
    "node.id=1\n"
    "controller.quorum.bootstrap.servers=kafka-1.lab.test:9094\n"
    "\n"
    "# The address the socket server listens on.\n"
    "listeners=PLAINTEXT://kafka-1.lab.test:9092,CONTROLLER://kafka-1.lab.test:9094\n"
    "ssl.keystore.password=old-Secret-1\n"
    "log.dirs=/var/lib/kafka/data \\\n"
    "    ,/var/lib/kafka/data2\n"
    "! a bang comment\n"
    "num.network.threads = 3\n"
)

NEW_PASSWORD = 'n3w"Pa\\ss;w=rd \u00e9'
JAAS = ('org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" '
        'password="J@as-Secret-9";')
TOKEN = "T0ken-Value-42"

WANTED = {
    "listeners": "SSL://kafka-1.lab.test:9093,CONTROLLER://kafka-1.lab.test:9094",
    "ssl.keystore.location": "/etc/kafka/pki/kafka-1.p12",
    "ssl.keystore.type": "PKCS12",
    "ssl.keystore.password": NEW_PASSWORD,
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": JAAS,
    "my.api.token": TOKEN,
    "ssl.client.auth": "required",
    "allow.everyone.if.no.acl.found": False,
    "ssl.enabled.protocols": ["TLSv1.3", "TLSv1.2"],
    "num.network.threads": 3,
}
SECRETS = ["old-Secret-1", NEW_PASSWORD, "J@as-Secret-9", TOKEN]


def _args(path, **extra):
    args = {"path": str(path), "set": dict(WANTED), "remove": ["process.roles"],
            "secret_keys": ["my.api.token"], "header": "Managed by kafkasec.tls"}
    args.update(extra)
    return args


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "server.properties"
    path.write_text(SERVER_PROPERTIES, encoding="latin-1")
    os.chmod(path, 0o640)
    return path


def _snapshot(path: Path):
    st = os.stat(path)
    return path.read_bytes(), st.st_mtime_ns, st.st_ino, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def _assert_no_secret(result):
    dumped = json.dumps(result, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in dumped, secret
    assert "J@as" not in dumped


def test_merge_then_idempotent(server, tmp_path):
    if os.geteuid() == 0:
        os.chown(server, 65534, 65534)
    before = _snapshot(server)

    result = run_module(MODULE, _args(server), diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert result["added_keys"] == ["ssl.keystore.location", "ssl.keystore.type",
                                    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", "my.api.token",
                                    "ssl.client.auth", "allow.everyone.if.no.acl.found", "ssl.enabled.protocols"]
    assert result["updated_keys"] == ["listeners", "ssl.keystore.password"]
    assert result["removed_keys"] == ["process.roles"]
    assert result["changed_keys"] == result["added_keys"] + result["updated_keys"] + result["removed_keys"]
    _assert_no_secret(result)

    # Java (as Kafka) reads exactly the intended configuration
    expected = {
        "node.id": "1",
        "controller.quorum.bootstrap.servers": "kafka-1.lab.test:9094",
        "log.dirs": "/var/lib/kafka/data ,/var/lib/kafka/data2",
        "ssl.keystore.password": NEW_PASSWORD,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": JAAS,
        "allow.everyone.if.no.acl.found": "false",
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "num.network.threads": "3",
    }
    for key, value in WANTED.items():
        expected.setdefault(key, value)
    assert java_load_text(tmp_path, server.read_bytes().decode("latin-1")) == expected

    # comments, blank lines, unrelated keys and their order are untouched
    text = server.read_text(encoding="latin-1")
    assert text.startswith(SERVER_PROPERTIES.split("process.roles")[0] + "node.id=1\n")
    for line in ("# The address the socket server listens on.\n", "log.dirs=/var/lib/kafka/data \\\n",
                 "    ,/var/lib/kafka/data2\n", "! a bang comment\n", "num.network.threads = 3\n"):
        assert line in text
    assert "\n# Managed by kafkasec.tls\nssl.keystore.location=" in text

    # mode and owner of the existing file are kept
    after = _snapshot(server)
    assert after[3:] == before[3:]

    # the second run changes nothing and does not touch the file
    again = run_module(MODULE, _args(server), diff=True)
    assert again["changed"] is False and again["changed_keys"] == [] and "diff" not in again, again
    assert _snapshot(server) == after
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".server")) == []


def test_check_mode_changes_nothing_and_diff_masks_secrets(server):
    before = _snapshot(server)
    result = run_module(MODULE, _args(server), check=True, diff=True)
    assert result["changed"] is True and "ssl.keystore.password" in result["updated_keys"]
    assert _snapshot(server) == before
    _assert_no_secret(result)
    diff = result["diff"]
    assert "ssl.keystore.password=********\n" in diff["before"]
    assert "ssl.keystore.password=********\n" in diff["after"]
    assert "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=********\n" in diff["after"]
    assert "my.api.token=********\n" in diff["after"]
    assert "listeners=SSL://kafka-1.lab.test:9093,CONTROLLER://kafka-1.lab.test:9094\n" in diff["after"]
    assert "process.roles" in diff["before"] and "process.roles" not in diff["after"]
    # invocation is censored too
    assert result["invocation"]["module_args"]["set"]["ssl.keystore.password"] != NEW_PASSWORD


def test_missing_file_is_a_clear_error(tmp_path):
    path = tmp_path / "nope" / "server.properties"
    result = run_module(MODULE, {"path": str(path), "set": {"a": "1"}})
    assert result["failed"] is True
    assert "does not exist" in result["msg"] and "create=true" in result["msg"] and str(path) in result["msg"]
    assert not path.exists()


def test_create(tmp_path):
    path = tmp_path / "client.properties"
    check = run_module(MODULE, {"path": str(path), "create": True, "set": {"security.protocol": "SSL"}}, check=True)
    assert check["changed"] is True and not path.exists()

    result = run_module(MODULE, {"path": str(path), "create": True, "set": {"security.protocol": "SSL"}})
    assert result["changed"] is True and result["added_keys"] == ["security.protocol"]
    assert path.read_text() == "security.protocol=SSL\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    other = tmp_path / "other.properties"
    result = run_module(MODULE, {"path": str(other), "create": True, "mode": "0640", "set": {}})
    assert result["changed"] is True and other.read_bytes() == b""
    assert stat.S_IMODE(os.stat(other).st_mode) == 0o640
    assert run_module(MODULE, {"path": str(other), "create": True, "mode": "0640", "set": {}})["changed"] is False


def test_attributes_only_change(server):
    result = run_module(MODULE, {"path": str(server), "set": {"node.id": 1}, "mode": "0600"}, diff=True)
    assert result["changed"] is True and result["changed_keys"] == []
    assert stat.S_IMODE(os.stat(server).st_mode) == 0o600
    assert server.read_text(encoding="latin-1") == SERVER_PROPERTIES
    assert run_module(MODULE, {"path": str(server), "set": {"node.id": 1}, "mode": "0600"})["changed"] is False


def test_backup(server, tmp_path):
    result = run_module(MODULE, {"path": str(server), "set": {"node.id": 2}, "backup": True})
    assert result["changed"] is True
    backup = Path(result["backup_file"])
    assert backup.parent == tmp_path and backup.read_text(encoding="latin-1") == SERVER_PROPERTIES
    assert "node.id=2\n" in server.read_text(encoding="latin-1")


def test_symlink_target_is_replaced(server, tmp_path):
    link = tmp_path / "link.properties"
    link.symlink_to(server)
    result = run_module(MODULE, {"path": str(link), "set": {"node.id": 7}})
    assert result["changed"] is True and result["path"] == str(server.resolve())
    assert link.is_symlink() and "node.id=7\n" in server.read_text(encoding="latin-1")


def test_bad_input_fails_cleanly(server):
    before = _snapshot(server)
    result = run_module(MODULE, {"path": str(server), "set": {"a": "1"}, "remove": ["a"]})
    assert result["failed"] is True and "both set and removed" in result["msg"]
    result = run_module(MODULE, {"path": str(server), "set": {"a": None}})
    assert result["failed"] is True and "set.a" in result["msg"] and "remove" in result["msg"]
    result = run_module(MODULE, {"path": str(server.parent)})
    assert result["failed"] is True and "directory" in result["msg"]
    assert _snapshot(server) == before


def test_malformed_file_is_refused(tmp_path):
    path = tmp_path / "bad.properties"
    path.write_bytes(b"a=\\u12\n")
    result = run_module(MODULE, {"path": str(path), "set": {"b": "1"}})
    assert result["failed"] is True and "Malformed" in result["msg"]
    assert path.read_bytes() == b"a=\\u12\n"
