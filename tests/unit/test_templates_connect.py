# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/connect/templates and templates/client, rendered by ansible-playbook as the roles render them.

The worker's block (roles/connect/templates/worker-tls.properties.j2) only lays out what the worker
planner and the store settings give it. Rendered for the golden cases recorded from the Jinja it replaced
(tests/unit/golden/connect/worker_golden.json) and merged as kafkasec.tls.connect_config merges it, it
must give every key and value the old YAML block gave, and the worker's file must come out byte for
byte as the old role wrote it (first run and second run); the JVM files too. The module itself runs
through ansible-playbook for check mode, diff, masking, the pending-restart record and the file mode.
The client templates are merged by kafkasec.tls.properties and read back by java.util.Properties.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess

from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import block_to_changes
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import merge_bytes, to_java_string
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.store_settings import store_settings

from ansible_runner import REPO_ROOT, run_module
from template_render import render
from test_connect_plan import BROKER_DATA, GOLDEN, plan_for, role_vars
from test_properties import java_load_text

ROLE_TEMPLATES = REPO_ROOT / "roles" / "connect" / "templates"
HEADER = "TLS (kafkasec.tls.connect; keys below are managed by Ansible)"
RENDERED = sorted(name for name, case in GOLDEN.items() if case["render"])


def template_vars(name: str) -> Dict[str, Any]:
    """What the role's templates see for a golden case: the role variables, the plan, the stores."""
    case = GOLDEN[name]
    v = role_vars(case)
    return {
        "kafkasec_connect__plan": plan_for(case).values,
        "kafkasec_connect__stores": store_settings(v["kafkasec_pki"]),
        "kafkasec_connect_jvm_args_file": "@TMP@/%s/connect-jvm-ssl.args" % name,
        # The golden files were recorded before Connect carried the brokers' suites: none set, no key written.
        "kafkasec_connect_ssl_cipher_suites": v.get("kafkasec_connect_ssl_cipher_suites", []),
        **{key: v[key] for key in ("kafkasec_connect_ssl_enabled_protocols", "kafkasec_connect_ssl_protocol",
                                   "kafkasec_connect_rest_advertised_host", "kafkasec_connect_rest_port",
                                   "kafkasec_connect_rest_client_auth", "kafkasec_connect_extra_properties",
                                   "kafkasec_connect_kafka_opts_extra", "kafkasec_connect_jvm_stores")},
    }


@pytest.fixture(scope="module")
def rendered() -> Dict[str, Dict[str, str]]:
    """Every golden case's templates in one ansible-playbook run (lookup template with template_vars)."""
    names = {"worker": "worker-tls.properties.j2", "env": "kafka-opts.env.j2", "args": "jvm-ssl.args.j2"}
    parts = []
    for name in RENDERED:
        jvm = template_vars(name)["kafkasec_connect_jvm_stores"]
        for kind, template in names.items():
            if kind == "worker" or jvm:
                parts.append("%s: lookup('ansible.builtin.template', %s, template_vars=golden[%s])" % (
                    json.dumps("%s/%s" % (name, kind)), json.dumps(str(ROLE_TEMPLATES / template)), json.dumps(name)))
    result = run_module("ansible.builtin.debug", {"msg": "{{ {%s} }}" % ", ".join(parts)}, templated=True,
                        play_vars={"golden": {name: template_vars(name) for name in RENDERED}})
    assert not result.get("failed"), result.get("msg")
    out: Dict[str, Dict[str, str]] = {}
    for key, text in result["msg"].items():
        name, kind = key.split("/")
        out.setdefault(name, {})[kind] = text
    return out


@pytest.mark.parametrize("name", RENDERED)
def test_worker_block_and_file_are_what_the_old_role_wrote(rendered, name):
    case = GOLDEN[name]
    first, second = case["runs"]["first"], case["runs"]["second"]
    set_values, remove = block_to_changes(rendered[name]["worker"])
    pairs = first["settings"]
    # As a mapping: a suite given through kafkasec_connect_extra_properties (case extra-properties) now has its
    # key's first place in the block, where the role writes the suites; file_after below pins the layout.
    assert set_values == {k: to_java_string(v) for k, v in pairs if v != ""}
    # No cipher suites set (the golden cases predate them): their five keys are removals, which leave the file as
    # the old role wrote it (file_after below).
    suites = [p + "ssl.cipher.suites" for p in ("", "producer.", "consumer.", "admin.", "listeners.https.")
              if p + "ssl.cipher.suites" not in set_values]
    assert sorted(remove) == sorted([k for k, v in pairs if v == ""] + suites)
    # What kafkasec.tls.connect_config's merge does with it (merge_file -> merge_bytes), twice.
    after, merged = merge_bytes(case["file_before"].encode("latin-1"), set_values, remove, header=HEADER)
    if "ssl.cipher.suites" in case["vars"].get("kafkasec_connect_extra_properties", {}):
        # The block now writes ssl.cipher.suites itself, so a suite given as an extra property sits there instead of
        # among the extras: the same keys and values, one line moved (a one-time change on upgrade).
        def lines(text):
            return sorted(line for line in text.splitlines() if line and not line.startswith("#"))
        assert lines(after.decode("latin-1")) == lines(first["file_after"])
        return
    assert after.decode("latin-1") == first["file_after"]
    assert (merged.changed_keys, merged.added, merged.updated, merged.removed) == tuple(
        first["merge"][key] for key in ("changed_keys", "added_keys", "updated_keys", "removed_keys"))
    again, merged = merge_bytes(after, set_values, remove, header=HEADER)
    assert again.decode("latin-1") == second["file_after"] == first["file_after"]
    assert not merged.changed and second["merge"]["changed"] is False


@pytest.mark.parametrize("name", [n for n in RENDERED if GOLDEN[n]["runs"]["first"]["env"]])
def test_jvm_files_are_what_the_old_role_wrote(rendered, name):
    first = GOLDEN[name]["runs"]["first"]
    assert rendered[name]["env"] == first["env"]
    assert rendered[name]["args"] == first["args"]


def test_jvm_files_only_where_the_old_role_wrote_them(rendered):
    assert sorted(n for n in RENDERED if "env" in rendered[n]) == sorted(
        n for n in RENDERED if GOLDEN[n]["runs"]["first"]["env"])


def test_worker_file_read_by_java(rendered, tmp_path):
    case = GOLDEN["extra-properties"]
    set_values, remove = block_to_changes(rendered["extra-properties"]["worker"])
    after, _ = merge_bytes(case["file_before"].encode("latin-1"), set_values, remove, header=HEADER)
    seen = java_load_text(tmp_path, after.decode("latin-1"))
    assert seen["listeners.https.ssl.client.auth"] == "none"          # extra properties win
    assert seen["key with=odd:chars"] == "v#1" and seen["config.providers"] == "file,env"
    assert seen["producer.enable.idempotence"] == "true" and "group.id" not in seen
    assert seen["ssl.keystore.password"] == case["vars"]["kafkasec_pki"]["keystore_password"]
    assert "ssl.key.password" not in seen and "producer.ssl.key.password" not in seen


# ----------------------------------------------------------------------- the module, through Ansible

def module_args(name: str, path: Path, content: str, **extra: Any) -> Dict[str, Any]:
    case = GOLDEN[name]
    v = role_vars(case)
    settings = dict(hostname=case["hostname"], bootstrap_servers=v["kafkasec_connect_bootstrap_servers"],
                    rest_listen_host=v["kafkasec_connect_rest_listen_host"],
                    rest_advertised_host=v["kafkasec_connect_rest_advertised_host"],
                    rest_port=v["kafkasec_connect_rest_port"], env_file="/etc/kafka/connect-tls.env",
                    jvm_args_file="/etc/kafka/connect-jvm-ssl.args", dns_names=[case["hostname"]],
                    keystore_type=v["kafkasec_pki"]["keystore_type"],
                    truststore_type=v["kafkasec_pki"]["truststore_type"])
    return dict(path=str(path), settings=settings, brokers=BROKER_DATA, content=content, **extra)


def test_module_apply_check_mode_diff_masked_then_for_real_with_the_pending_record(rendered, tmp_path):
    name = "pkcs12-changed-stores"
    case = GOLDEN[name]
    secrets = [case["vars"]["kafkasec_pki"]["keystore_password"], case["vars"]["kafkasec_pki"]["truststore_password"]]
    path = tmp_path / "connect-distributed.properties"
    path.write_bytes(case["file_before"].encode("latin-1"))
    os.chmod(path, 0o644)
    args = module_args(name, path, rendered[name]["worker"], step="apply", header=HEADER, keystore_changed=True,
                       truststore_changed=True, args_file_changed=True, env_file_changed=True,
                       record_pending=True, mode="0640")
    checked = run_module("kafkasec.tls.connect_config", args, check=True, diff=True)
    assert checked["changed"] and not checked.get("failed"), checked
    assert path.read_bytes() == case["file_before"].encode("latin-1")
    assert not Path(pending_record.marker_path(str(path))).exists()
    assert "ssl.keystore.password=********" in checked["diff"][0]["after"]
    for secret in secrets:
        assert secret not in json.dumps(checked)
    first = run_module("kafkasec.tls.connect_config", args)
    assert first["changed"] and not first.get("failed"), first
    assert path.read_bytes().decode("latin-1") == case["runs"]["first"]["file_after"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert first["restart"] == {"reasons": case["runs"]["first"]["restart_reasons"], "needed": True, "recorded": True}
    assert first["changed_keys"] == case["runs"]["first"]["merge"]["changed_keys"]
    marker = Path(pending_record.marker_path(str(path)))
    assert pending_record.read(str(marker))["reasons"] == case["runs"]["first"]["restart_reasons"]
    assert stat.S_IMODE(marker.stat().st_mode) == 0o640
    for secret in secrets:
        assert secret not in json.dumps(first)
    # A second run changes nothing; the record stays until the role's restart clears it.
    again = run_module("kafkasec.tls.connect_config", dict(args, keystore_changed=False, truststore_changed=False,
                                                            args_file_changed=False, env_file_changed=False))
    assert again["changed"] is False, again
    assert again["restart"]["reasons"] == case["runs"]["first"]["restart_reasons"]


def test_module_plan_returns_the_plan_and_fails_naming_host_and_variable(tmp_path):
    name = "pkcs12"
    path = tmp_path / "connect-distributed.properties"
    path.write_text(GOLDEN[name]["file_before"])
    ok = run_module("kafkasec.tls.connect_config", module_args(name, path, ""))
    assert not ok.get("failed") and ok["changed"] is False, ok
    assert ok["plan"]["bootstrap_servers"] == GOLDEN[name]["derived"]["bootstrap_servers"]
    assert ok["plan"]["rest_url"] == GOLDEN[name]["derived"]["rest_url"] and ok["pending"] == {}
    args = module_args(name, tmp_path / "missing.properties", "")
    args["settings"].update(bootstrap_servers="kafka-1.lab.test:9092,elsewhere:9092", rest_client_auth="want")
    bad = run_module("kafkasec.tls.connect_config", args)
    assert bad["failed"], bad
    assert bad["msg"].startswith("pkcs12.connect.test: kafkasec_connect_bootstrap_servers: kafka-1.lab.test:9092 is "
                                 "broker kafka-1.lab.test's PLAINTEXT port"), bad["msg"]
    assert "kafkasec_connect_rest_client_auth (want) must be one of" in bad["msg"]
    assert "kafkasec_connect_properties_path is %s" % (tmp_path / "missing.properties") in bad["msg"]
    assert [p["variable"] for p in bad["problems"]] == ["kafkasec_connect_bootstrap_servers",
                                                        "kafkasec_connect_rest_client_auth",
                                                        "kafkasec_connect_properties_path"]
    # Only the wrong endpoints are named (the invocation, which Ansible shows at -vvv only, has them all).
    assert "elsewhere" not in json.dumps({k: v for k, v in bad.items() if k != "invocation"}) and bad["plan"] == {}


def test_kafka_opts_env_and_argfile_templates(tmp_path, jvm_ssl_dump):
    """KAFKA_OPTS as a shell reads the env file, plus the argument file it names: the JVM sees every
    javax.net.ssl property, the passwords only through the file."""
    argfile = tmp_path / "connect-jvm-ssl.args"
    stores = store_settings(dict(keystore_type="pkcs12", keystore_path="/etc/kafka/pki/keystore.p12",
                                 keystore_password="key=;'pw' @x", truststore_type="jks",
                                 truststore_path="/etc/kafka/pki/truststore.jks",
                                 truststore_password='trust "me" \\ #1'))
    out = render({"env": (str(ROLE_TEMPLATES / "kafka-opts.env.j2"), False),
                  "args": (str(ROLE_TEMPLATES / "jvm-ssl.args.j2"), False)},
                 {"kafkasec_connect__stores": stores, "kafkasec_connect_jvm_args_file": str(argfile),
                  "kafkasec_connect_kafka_opts_extra": ["-Xmx1g"]})
    opts = ["-Djavax.net.ssl.trustStore=/etc/kafka/pki/truststore.jks", "-Djavax.net.ssl.trustStoreType=JKS",
            "-Djavax.net.ssl.keyStore=/etc/kafka/pki/keystore.p12", "-Djavax.net.ssl.keyStoreType=PKCS12",
            "@%s" % argfile, "-Xmx1g"]
    secrets = {"javax.net.ssl.trustStorePassword": stores["truststore_password"],
               "javax.net.ssl.keyStorePassword": stores["keystore_password"]}
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
    proc = subprocess.run(["java", "-cp", jvm_ssl_dump, *kafka_opts[:-1], "JvmSslDump", *secrets,
                           "javax.net.ssl.trustStore", "javax.net.ssl.keyStoreType"],
                          capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(proc.stdout)["properties"] == dict(secrets, **{
        "javax.net.ssl.trustStore": "/etc/kafka/pki/truststore.jks", "javax.net.ssl.keyStoreType": "PKCS12"})


def test_kafka_opts_templates_refuse_what_they_cannot_write():
    stores = store_settings(dict(keystore_path="/k.p12", keystore_password="caf\u00e9", truststore_path="/t.p12",
                                 truststore_password="t"))
    bad_env = render({"env": (str(ROLE_TEMPLATES / "kafka-opts.env.j2"), False)},
                     {"kafkasec_connect__stores": stores, "kafkasec_connect_jvm_args_file": "/a",
                      "kafkasec_connect_kafka_opts_extra": ["-Dx=$HOME/a b"]})
    assert bad_env["failed"] and "KAFKA_OPTS holds '$'" in bad_env["msg"]
    bad_args = render({"args": (str(ROLE_TEMPLATES / "jvm-ssl.args.j2"), False)}, {"kafkasec_connect__stores": stores})
    assert bad_args["failed"] and "-Djavax.net.ssl.keyStorePassword contains" in bad_args["msg"]
