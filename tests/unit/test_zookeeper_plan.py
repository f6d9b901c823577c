# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ZooKeeper planner (plugins/module_utils/kafka/zookeeper_plan.py), table by table.

The golden table (tests/unit/golden/zookeeper/zookeeper_cases.json) was recorded from the Jinja the
planner replaced (roles/zookeeper/vars/main.yml, tasks/validate.yml and tasks/config.yml at 0e4c552)
by tests/unit/golden/zookeeper/make_zookeeper_golden.py: 41 cases of zoo.cfg x role variables x PKI
contract. The planner must make the same decisions for every one of them; every check of the old
validate.yml is a problem here that names its variable (and never prints a password).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import zookeeper_plan as zp

from ansible_runner import COLLECTIONS_PATH, REPO_ROOT, ensure_collection_link

GOLDEN = json.loads((REPO_ROOT / "tests" / "unit" / "golden" / "zookeeper" / "zookeeper_cases.json").read_text())
DEFAULTS = yaml.safe_load((REPO_ROOT / "roles" / "zookeeper" / "defaults" / "main.yml").read_text())
ROLE = REPO_ROOT / "roles" / "zookeeper"
HOST = "zk-1.lab.test"
PASSWORD = 'zk-"kafka"\\pw;a=b'


def role_vars(case):
    """The role's variables for a golden case: the defaults (those without Jinja), then the case's own."""
    values = {k: v for k, v in DEFAULTS.items() if not (isinstance(v, str) and "{{" in v)}
    values.update(case["vars"])
    return values


def settings_params(case, **overrides):
    """What roles/zookeeper/vars/main.yml hands the module as settings, for a golden case."""
    v = role_vars(case)
    params = dict(
        hostname=HOST, secure_client_port=v["kafkasec_zookeeper_secure_client_port"],
        listen_address=v.get("kafkasec_zookeeper_listen_address", ""),
        listen_address_set="kafkasec_zookeeper_listen_address" in v,
        keep_plaintext=v["kafkasec_zookeeper_keep_plaintext"], transition=v["kafkasec_zookeeper_transition"],
        ssl_client_auth=v["kafkasec_zookeeper_ssl_client_auth"],
        ssl_enabled_protocols=v["kafkasec_zookeeper_ssl_enabled_protocols"],
        ssl_protocol=v["kafkasec_zookeeper_ssl_protocol"], enforce_sasl=v["kafkasec_zookeeper_enforce_sasl"],
        extra_properties=v["kafkasec_zookeeper_extra_properties"], jaas_path="/etc/zookeeper/zookeeper-server.jaas")
    params.update(overrides)
    return params


def plan_for(case, path="/etc/zookeeper/zoo.cfg", **overrides):
    return zp.plan_zookeeper(load(case["current"]), zp.settings_from(settings_params(case, **overrides)), path=path)


def store_changes(case):
    return [name for name in ("keystore", "truststore") if case["pki"].get(name + "_changed")]


# ------------------------------------------------------------------------------- golden decisions

@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_plan_matches_the_jinja_it_replaced(name):
    case = GOLDEN[name]
    plan = plan_for(case)
    derived, old = case["derived"], case["settings"]
    assert plan.problems == []
    assert plan.bind_address == derived["bind"]
    assert plan.plain_port == derived["plain_port"]
    assert plan.keep_plaintext == derived["keep_plaintext"]
    assert plan.enforce_sasl == derived["enforce_sasl"]
    # The planned values of the keys the old vars/main.yml decided (the template only lays them out).
    planned = {
        "secureClientPort": plan.values["secure_client_port"],
        "secureClientPortAddress": plan.values["secure_client_port_address"],
        "clientPort": plan.values["client_port"],
        "clientPortAddress": plan.values["client_port_address"],
        "enforce.auth.enabled": plan.values["enforce_auth_enabled"],
        "enforce.auth.schemes": plan.values["enforce_auth_schemes"],
        "ssl.protocol": plan.values["ssl_protocol"],
        "ssl.enabledProtocols": ",".join(plan.values["ssl_enabled_protocols"]),
    }
    extra = role_vars(case)["kafkasec_zookeeper_extra_properties"]
    for key, value in planned.items():
        if key not in extra:   # an extra property overrides a managed key (the template lays it out last)
            assert value == old[key], key


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_restart_reasons_match_the_jinja_they_replaced(name):
    """For the same changed keys and stores, the same reasons (JAAS and environment file unchanged)."""
    case = GOLDEN[name]
    assert zp.restart_reasons(case["changed_keys"], store_changes(case), {}) == case["reasons"]


@pytest.mark.parametrize("changed, stores, pending, other, reasons", [
    ([], [], {}, [], []),
    (["clientPort"], [], {}, [], ["zoo.cfg: clientPort"]),
    (["clientPort", "enforce.auth.enabled"], ["keystore"], {}, [],
     ["zoo.cfg: clientPort,enforce.auth.enabled", "keystore"]),
    # a restart recorded by an earlier run stays, each reason once
    ([], ["truststore"], {"reasons": ["zoo.cfg: clientPort", "truststore"]}, [], ["zoo.cfg: clientPort", "truststore"]),
    ([], [], {"reasons": ["JAAS file"]}, [], ["JAAS file"]),
    (["ssl.clientAuth"], [], {}, ["JAAS file", "environment file"],
     ["zoo.cfg: ssl.clientAuth", "JAAS file", "environment file"]),
])
def test_restart_reasons(changed, stores, pending, other, reasons):
    assert zp.restart_reasons(changed, stores, pending, other) == reasons


# ----------------------------------------------------------------------------------- bad input

PLAIN = GOLDEN["plain__defaults"]
V = "kafkasec_zookeeper_"


@pytest.mark.parametrize("overrides, variable, words", [
    (dict(secure_client_port=0), V + "secure_client_port", "(0) must be a port number"),
    (dict(secure_client_port=70000), V + "secure_client_port", "(70000)"),
    (dict(secure_client_port="2x82"), V + "secure_client_port", "'2x82'"),
    (dict(secure_client_port=True), V + "secure_client_port", "(True)"),
    (dict(ssl_client_auth="required"), V + "ssl_client_auth", "'required') must be one of need, want, none"),
    (dict(ssl_client_auth=""), V + "ssl_client_auth", "('')"),
    (dict(ssl_enabled_protocols=["TLSv1.1", "TLSv1.2"], ssl_protocol="TLSv1.2"), V + "ssl_enabled_protocols",
     "'TLSv1.1'"),
    (dict(ssl_enabled_protocols=[]), V + "ssl_enabled_protocols", "nothing older"),
    (dict(ssl_enabled_protocols="TLSv1.3"), V + "ssl_enabled_protocols", "must be a list"),
    (dict(ssl_enabled_protocols=["TLSv1.3", "SSLv3"]), V + "ssl_enabled_protocols", "'SSLv3'"),
    (dict(ssl_enabled_protocols=["TLSv1.2"]), V + "ssl_protocol", "'TLSv1.3') must be one of"),
    (dict(ssl_protocol="TLSv1.1"), V + "ssl_protocol", "'TLSv1.1'"),
    (dict(extra_properties="sslQuorum=true"), V + "extra_properties", "not str"),
    (dict(extra_properties=["sslQuorum"]), V + "extra_properties", "not list"),
    (dict(jaas_path='/etc/zookeeper/a"b.jaas'), V + "jaas_path", "SERVER_JVMFLAGS"),
    (dict(jaas_path="/etc/zookeeper/$HOME.jaas"), V + "jaas_path", "'$'"),
    (dict(jaas_path="zookeeper-server.jaas"), V + "jaas_path", "absolute path"),
    # The plain port of the file (2181) cannot be the secure one; the message names the file.
    (dict(secure_client_port=2181), V + "secure_client_port", "is the plain clientPort of /etc/zookeeper/zoo.cfg"),
    (dict(secure_client_port="2181"), V + "secure_client_port", "choose another port"),
])
def test_bad_settings_name_the_variable_and_the_value(overrides, variable, words):
    problems = plan_for(PLAIN, **overrides).problems
    found = dict(problems)
    assert variable in found, problems
    assert words in found[variable]
    assert variable in found[variable]   # the message itself names the variable
    assert [v for v, _m in problems] == [variable], problems   # and nothing else is wrong


def test_a_file_without_a_plain_port_takes_any_secure_port():
    assert plan_for(GOLDEN["no-plain__defaults"], secure_client_port=2181).problems == []


@pytest.mark.parametrize("users, words", [
    (None, "is not set"),
    ({}, "(it is empty)"),
    ("kafka:" + PASSWORD, "(it is a str)"),
    ([PASSWORD], "(it is a list)"),
    ({"kafka": ""}, "user 'kafka' has no password"),
    ({"kafka": None}, "user 'kafka' has no password"),
    ({"kafka": PASSWORD, "auditor": ""}, "user 'auditor' has no password"),
    ({"": PASSWORD}, "a user name must be a non-empty string"),
    ({"kafka": ["a", PASSWORD]}, "must be a string"),
    ({"kafka": "pw${user.home}" + PASSWORD}, "the password of 'kafka' contains '${'"),
])
def test_sasl_users_name_the_variable_never_a_password(users, words):
    problems = zp.sasl_user_problems(users)
    assert [v for v, _m in problems] == [V + "sasl_users"]
    message = zp.problems_message(HOST, problems)
    assert words in message
    assert message.startswith(HOST + ": kafkasec_zookeeper_sasl_users")
    assert PASSWORD not in message and "pw$" not in message
    assert "Ansible Vault" in message or "choose another password" in message


@pytest.mark.parametrize("users", [{"kafka": PASSWORD}, {"kafka": PASSWORD, "auditor": 12345}])
def test_good_sasl_users(users):
    assert zp.sasl_user_problems(users) == []


@pytest.mark.parametrize("command", ["", "   ", None, 5, ["systemctl", "restart"]])
def test_service_commands_must_be_commands(command):
    commands = {V + "restart_command": "systemctl restart zookeeper", V + "status_command": command}
    problems = zp.command_problems(commands)
    assert [v for v, _m in problems] == [V + "status_command"]
    assert "must be the command" in problems[0][1] and repr(command) in problems[0][1]


def test_plan_step_problems_together():
    plan = plan_for(PLAIN, ssl_client_auth="maybe")
    problems = zp.plan_problems(plan, sasl_users={}, check_sasl_users=True,
                                commands={V + "restart_command": ""})
    assert [v for v, _m in problems] == [V + "ssl_client_auth", V + "sasl_users", V + "restart_command"]
    # The apply step does not get the accounts: they are not checked there.
    assert zp.plan_problems(plan_for(PLAIN)) == []


def test_the_failure_message_names_host_variable_and_value_once():
    message = zp.problems_message(HOST, plan_for(PLAIN, secure_client_port=2181).problems)
    assert message.startswith(HOST + ": kafkasec_zookeeper_secure_client_port (2181) is the plain clientPort")
    assert message.count("kafkasec_zookeeper_secure_client_port") == 1


def test_a_good_converged_server_has_no_problem_and_changes_nothing():
    case = GOLDEN["after-end-state__defaults"]
    plan = plan_for(case)
    assert plan.problems == [] and case["changed_keys"] == []
    current = load(case["current"])
    assert current["secureClientPortAddress"] == plan.values["secure_client_port_address"]
    assert "clientPort" not in current and plan.values["client_port"] == ""


# -------------------------------------------------------------------------------------- settings

def test_an_unset_listen_address_is_not_every_interface():
    current = load(PLAIN["current"])
    unset = zp.plan_zookeeper(current, zp.settings_from(dict(hostname=HOST, listen_address="", listen_address_set=False)))
    every = zp.plan_zookeeper(current, zp.settings_from(dict(hostname=HOST, listen_address="", listen_address_set=True)))
    assert unset.bind_address == "10.0.0.21"
    assert every.bind_address == ""


@pytest.mark.parametrize("flags, keep, enforce", [
    (dict(), False, True),
    (dict(transition=True), True, False),
    (dict(transition="true", enforce_sasl="yes"), True, False),
    (dict(keep_plaintext="True", enforce_sasl="False"), True, False),
    (dict(keep_plaintext=False, enforce_sasl="false", transition="no"), False, False),
])
def test_transition_keeps_the_plain_port_and_does_not_enforce(flags, keep, enforce):
    plan = zp.plan_zookeeper(load(PLAIN["current"]), zp.settings_from(dict(hostname=HOST, **flags)))
    assert (plan.keep_plaintext, plan.enforce_sasl) == (keep, enforce)
    assert plan.values["client_port"] == ("2181" if keep else "")
    assert plan.values["enforce_auth_schemes"] == ("sasl" if enforce else "")


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown keys ssl_prot"):
        zp.settings_from(dict(hostname="h", ssl_prot="TLSv1.3"))


# ------------------------------------------------- the role's settings, as Ansible templates them

SETTINGS_CASES = ["plain__defaults", "plain__transition", "plain__listen_every", "plain-noaddr__listen_any_keep",
                  "plain__extra", "plain__tls12", "plain__port", "plain__keep_plaintext_no_enforce"]


def test_the_role_hands_the_planner_what_the_golden_cases_assume(tmp_path):
    """roles/zookeeper/vars/main.yml's kafkasec_zookeeper__settings, templated by ansible-playbook with the
    role's defaults and each case's variables, plans what the golden cases were planned with (an unset
    kafkasec_zookeeper_listen_address stays unset, booleans and ports survive templating)."""
    ensure_collection_link()
    plays = []
    inventory = {"all": {"hosts": {}}}
    for index, name in enumerate(SETTINGS_CASES):
        case_vars = tmp_path / ("case%d.json" % index)
        case_vars.write_text(json.dumps(GOLDEN[name]["vars"]))
        host = "case%d" % index
        inventory["all"]["hosts"][host] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        plays.append({
            "hosts": host, "gather_facts": False,
            "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
            "tasks": [
                {"ansible.builtin.include_vars": {"file": str(case_vars)}},
                {"ansible.builtin.copy": {
                    "content": "{{ {'settings': kafkasec_zookeeper__settings, 'commands': kafkasec_zookeeper__commands}"
                               " | to_json }}",
                    "dest": str(tmp_path / ("out%d.json" % index))}},
            ]})
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.json").write_text(json.dumps(plays))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH))
    run = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"),
                          str(tmp_path / "play.json")], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for index, name in enumerate(SETTINGS_CASES):
        case = GOLDEN[name]
        out = json.loads((tmp_path / ("out%d.json" % index)).read_text())
        templated = dict(out["settings"], hostname=HOST)
        # The default JAAS path follows kafkasec_zookeeper_config_path (defaults/main.yml).
        assert templated.pop("jaas_path") == "/etc/zookeeper/zookeeper-server.jaas"
        expected = settings_params(case)
        expected.pop("jaas_path")
        current = load(case["current"])
        assert (zp.plan_zookeeper(current, zp.settings_from(templated)).as_dict()
                == zp.plan_zookeeper(current, zp.settings_from(expected)).as_dict()), name
        assert out["commands"] == {V + "restart_command": "systemctl restart zookeeper",
                                   V + "status_command": "systemctl is-active --quiet zookeeper"}
