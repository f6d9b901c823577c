# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ZooKeeper-mode templates, rendered by ansible-playbook, and kafkasec.tls.zookeeper_config.

- zoo.cfg's TLS/SASL block (roles/zookeeper/templates/zoo-tls.properties.j2), laid out from the plan
  and the PKI contract as roles/zookeeper/vars/main.yml wires them: for every golden case
  (tests/unit/golden/zookeeper/zookeeper_cases.json, recorded from the Jinja it replaced) the block,
  read back as Java reads a .properties file, holds the keys and values the old role wrote, and the
  block merged into the case's zoo.cfg gives the old file byte for byte, with the same changed keys.
- the module itself (real ansible-playbook runs): the merge, the restart record, check mode, diff
  and results without a secret, the plan step's failure message.
- a ZooKeeper-mode broker's JAAS Client file (read back by the JDK's JAAS parser) and the
  environment file that names a JAAS file (the broker's ZooKeeper block is in test_templates_broker.py).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

from typing import Any, Dict, Mapping

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import block_to_changes
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load, merge_bytes
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import zookeeper_plan as zp

from ansible_runner import (COLLECTIONS_PATH, REPO_ROOT, _Dumper, _MARK, _ansible_playbook, _mark_unsafe, _workdir,
                            ensure_collection_link, note_deprecations, run_module)
from template_render import render
from test_templates_jaas import DIGEST, FILE_PASSWORDS, entry, jdk_parse  # noqa: F401
from test_zookeeper_plan import DEFAULTS, GOLDEN, HOST, PASSWORD, plan_for, settings_params

ROLE = REPO_ROOT / "roles" / "zookeeper"
TEMPLATE = ROLE / "templates" / "zoo-tls.properties.j2"
HEADER = "TLS and SASL (kafkasec.tls.zookeeper; keys below are managed by Ansible)"
SECRETS = ('st"ore\\ pw;=x #1', "quorum pw")   # the golden store password, an extra property's password


def render_cases(cases: Mapping[str, Dict[str, Any]]) -> Dict[str, str]:
    """Render the zoo.cfg block for many cases in ONE ansible-playbook run (one inventory host per case).

    The role's defaults are the inventory's ``all`` variables, each case's variables its host's (every
    string !unsafe), the role's vars/main.yml the play's vars_files: the template sees the plan and the
    stores exactly as the role's kafkasec_zookeeper__plan and kafkasec_zookeeper__stores give them.
    """
    ensure_collection_link()
    workdir = _workdir()
    hosts = {name: dict(_mark_unsafe(host_vars), ansible_connection="local", ansible_python_interpreter=sys.executable)
             for name, host_vars in cases.items()}
    inventory = workdir / "zookeeper-cases.yml"
    inventory.write_text(yaml.dump({"all": {"vars": DEFAULTS, "hosts": hosts}}, Dumper=_Dumper, sort_keys=True))
    play = workdir / "zookeeper-render.yml"
    play.write_text(yaml.safe_dump([{
        "hosts": "all", "gather_facts": False, "vars": {"role_path": str(ROLE)},
        "vars_files": [str(ROLE / "vars" / "main.yml")],
        "tasks": [{"ansible.builtin.debug": {"msg": {
            "case": "{{ inventory_hostname }}",
            "text": "{{ lookup('kafkasec.tls.layout', %s) }}" % json.dumps(str(TEMPLATE)),
            # The role's lookup gives what the builtin one gives (it only skips the copy of the variables).
            "builtin": "{{ lookup('ansible.builtin.template', %s) }}" % json.dumps(str(TEMPLATE))}}}],
    }], sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
               ANSIBLE_CALLBACK_PLUGINS=str(workdir / "callback_plugins"), ANSIBLE_STDOUT_CALLBACK="kafkasec_test_result",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_FORKS="4")
    proc = subprocess.run([_ansible_playbook(), "-i", str(inventory), str(play)], cwd=str(workdir), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    note_deprecations(proc)
    results = [json.loads(line[len(_MARK):]) for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    out = {r["msg"]["case"]: r["msg"]["text"] for r in results if isinstance(r.get("msg"), dict)}
    assert all(r["msg"]["builtin"] == r["msg"]["text"] for r in results if isinstance(r.get("msg"), dict)), results
    assert proc.returncode == 0 and set(out) == set(cases), (proc.stdout[-4000:], proc.stderr[-4000:])
    return out


def case_host_vars(case) -> Dict[str, Any]:
    """A golden case's inputs as the role has them when it renders the block."""
    plan = plan_for(case)
    assert plan.problems == []
    host = dict(case["vars"], kafkasec_pki=case["pki"], kafkasec_zookeeper__planned={"plan": {"values": plan.values}})
    return host


@functools.lru_cache(maxsize=1)
def golden_blocks() -> Dict[str, str]:
    return render_cases({name: case_host_vars(case) for name, case in GOLDEN.items()})


# ----------------------------------------------------------------------- the block, case by case

@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_rendered_block_gives_what_the_jinja_it_replaced_gave(name):
    assert load(golden_blocks()[name]) == GOLDEN[name]["settings"]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_block_merged_into_zoo_cfg_gives_the_old_file(name):
    """The merge the module does (block -> set/remove -> properties.merge): the old file, byte for byte."""
    case = GOLDEN[name]
    set_values, remove = block_to_changes(golden_blocks()[name])
    after, merged = merge_bytes(case["current"].encode("latin-1"), set_values, remove, header=HEADER)
    assert after.decode("latin-1") == case["merged"]
    assert merged.changed_keys == case["changed_keys"]


def test_the_block_only_lays_out():
    """No decision in the template: loops and escaping filters only, no YAML parsed back."""
    text = TEMPLATE.read_text()
    statements = [line.strip() for line in text.splitlines() if line.strip().startswith("{%")]
    assert statements == ["{% for prefix in kafkasec_zookeeper__plan.quorum_store_prefixes %}", "{% endfor %}",
                          "{% for key, value in kafkasec_zookeeper__plan.quorum_values.items() %}", "{% endfor %}",
                          "{% for key, value in kafkasec_zookeeper_extra_properties.items() %}", "{% endfor %}"]
    assert " if " not in text and "from_yaml" not in text and "default(" not in text


# ----------------------------------------------------------------------------------- the module

def module_args(case, path, step="apply", **extra):
    args = dict(path=str(path), step=step, settings=settings_params(case), mode="0640")
    if step == "apply":
        args.update(content=golden_blocks()[case_name(case)], header=HEADER,
                    keystore_changed=bool(case["pki"].get("keystore_changed")),
                    truststore_changed=bool(case["pki"].get("truststore_changed")))
    args.update(extra)
    return args


def case_name(case):
    return next(name for name, other in GOLDEN.items() if other is case)


def zoo_cfg(tmp_path, text, mode=0o640):
    path = tmp_path / "zoo.cfg"
    path.write_text(text, encoding="latin-1")
    path.chmod(mode)
    return path


def assert_no_secret(result):
    dumped = json.dumps(result)
    for secret in SECRETS + (PASSWORD,):
        assert secret not in dumped and json.dumps(secret)[1:-1] not in dumped, secret


@pytest.mark.parametrize("name", ["plain__defaults", "plain__transition", "after-transition__stores_changed",
                                  "plain__extra"])
def test_apply_writes_the_old_zoo_cfg_and_records_the_restart(tmp_path, name):
    case = GOLDEN[name]
    path = zoo_cfg(tmp_path, case["current"])
    result = run_module("kafkasec.tls.zookeeper_config", module_args(case, path), diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert path.read_text(encoding="latin-1") == case["merged"]
    assert result["changed_keys"] == case["changed_keys"]
    assert result["restart"]["reasons"] == case["reasons"]
    assert json.loads((tmp_path / "zoo.cfg.kafkasec-restart-pending").read_text()) == {
        "reasons": case["reasons"], "controller_switch": False}
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert result["plan"]["values"] == plan_for(case).values
    # Results, invocation and diff: key names and masked values only.
    assert_no_secret(result)
    assert "ssl.keyStore.password=********" in result["diff"]["after"]


def test_apply_on_a_converged_file_changes_nothing(tmp_path):
    case = GOLDEN["after-end-state__defaults"]
    path = zoo_cfg(tmp_path, case["current"])
    result = run_module("kafkasec.tls.zookeeper_config", module_args(case, path))
    assert (result["changed"], result["changed_keys"], result["restart"]["reasons"]) == (False, [], [])
    assert not (tmp_path / "zoo.cfg.kafkasec-restart-pending").exists()
    assert path.read_text(encoding="latin-1") == case["current"]


def test_a_mode_change_alone_is_no_restart_reason(tmp_path):
    """The old role recorded 'zoo.cfg: ' (no key) when only the file's mode changed and restarted for it."""
    case = GOLDEN["after-end-state__defaults"]
    path = zoo_cfg(tmp_path, case["current"], mode=0o644)
    result = run_module("kafkasec.tls.zookeeper_config", module_args(case, path))
    assert result["changed"] is True and result["restart"]["reasons"] == []
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert not (tmp_path / "zoo.cfg.kafkasec-restart-pending").exists()


def test_check_mode_changes_nothing_and_shows_a_masked_diff(tmp_path):
    case = GOLDEN["plain__keystore_changed"]
    path = zoo_cfg(tmp_path, case["current"])
    result = run_module("kafkasec.tls.zookeeper_config", module_args(case, path), check=True, diff=True)
    assert result["changed"] is True and result["restart"]["reasons"] == case["reasons"]
    assert path.read_text(encoding="latin-1") == case["current"]
    assert not (tmp_path / "zoo.cfg.kafkasec-restart-pending").exists()
    assert "ssl.trustStore.password=********" in result["diff"]["after"]
    assert_no_secret(result)


def test_a_pending_restart_stays_until_it_has_happened(tmp_path):
    case = GOLDEN["after-end-state__keystore_changed"]
    path = zoo_cfg(tmp_path, case["current"])
    (tmp_path / "zoo.cfg.kafkasec-restart-pending").write_text(json.dumps({"reasons": ["JAAS file"]}))
    result = run_module("kafkasec.tls.zookeeper_config", module_args(case, path))
    assert result["restart"]["reasons"] == ["JAAS file", "keystore"]
    assert json.loads((tmp_path / "zoo.cfg.kafkasec-restart-pending").read_text())["reasons"] == ["JAAS file", "keystore"]


def test_plan_step_returns_the_plan_and_changes_nothing(tmp_path):
    case = GOLDEN["plain__transition"]
    path = zoo_cfg(tmp_path, case["current"])
    result = run_module("kafkasec.tls.zookeeper_config", module_args(
        case, path, step="plan", sasl_users={"kafka": PASSWORD},
        commands={"kafkasec_zookeeper_restart_command": "systemctl restart zookeeper"}))
    assert not result.get("failed") and result["changed"] is False, result
    assert result["plan"]["values"] == plan_for(case).values
    assert (result["plan"]["keep_plaintext"], result["plan"]["enforce_sasl"]) == (True, False)
    assert path.read_text(encoding="latin-1") == case["current"]
    assert_no_secret(result)


def test_plan_step_fails_naming_host_and_variables_never_a_password(tmp_path):
    case = GOLDEN["plain__defaults"]
    path = zoo_cfg(tmp_path, case["current"])
    args = module_args(case, path, step="plan", sasl_users={"kafka": PASSWORD, "auditor": ""},
                       commands={"kafkasec_zookeeper_status_command": " "})
    args["settings"].update(secure_client_port=2181, ssl_protocol="TLSv1.1")
    result = run_module("kafkasec.tls.zookeeper_config", args)
    assert result.get("failed"), result
    msg = result["msg"]
    assert msg.startswith(HOST + ": kafkasec_zookeeper_ssl_protocol ('TLSv1.1')")
    for variable in ("kafkasec_zookeeper_secure_client_port (2181) is the plain clientPort of %s" % path,
                     "kafkasec_zookeeper_sasl_users: user 'auditor' has no password",
                     "kafkasec_zookeeper_status_command must be the command"):
        assert variable in msg
    assert [p["variable"] for p in result["problems"]] == [
        "kafkasec_zookeeper_ssl_protocol", "kafkasec_zookeeper_secure_client_port", "kafkasec_zookeeper_sasl_users",
        "kafkasec_zookeeper_status_command"]
    assert_no_secret(result)


def test_an_unreadable_zoo_cfg_names_the_variable(tmp_path):
    case = GOLDEN["plain__defaults"]
    result = run_module("kafkasec.tls.zookeeper_config", module_args(
        case, tmp_path / "missing.cfg", step="plan", sasl_users={"kafka": PASSWORD}))
    assert result.get("failed")
    assert result["msg"].startswith(HOST + ": kafkasec_zookeeper_config_path is %s" % (tmp_path / "missing.cfg"))
    assert "cannot be read on the host" in result["msg"]


# ------------------------------------------------------------------- JAAS and environment files

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
    # The plan step refuses the same JAAS paths before anything changes.
    problems = zp.settings_problems(zp.settings_from(dict(hostname=HOST, jaas_path=path)))
    assert [v for v, _m in problems] == ["kafkasec_zookeeper_jaas_path"]
